#pragma once
// What the fuzz targets share: invariant checks that stop the run with the input, quiet
// logs, temporary directories.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace mvsp::fuzz {

// The folder fuzz/ in the source tree (keys, corpora).
std::filesystem::path source_dir();

// A fresh directory under the system's temporary directory, removed when the process ends.
std::filesystem::path temp_dir(std::string_view name);

// Log lines go to a small buffer instead of stderr; check() prints the last ones.
void quiet_logs();

// Stops the run (abort, so libFuzzer saves the input) when an invariant does not hold.
void check(bool ok, std::string_view invariant, std::string_view detail = {});

// The input as text (fuzzers hand over bytes).
inline std::string_view text(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// `s` with control and non-ASCII bytes as \xNN, shortened to `max` bytes, for messages.
std::string printable(std::string_view s, std::size_t max = 200);

// The part of `input` before the first '\n' (or nothing when there is none) and the rest.
std::pair<std::string_view, std::string_view> split_first_line(std::string_view input);

}  // namespace mvsp::fuzz
