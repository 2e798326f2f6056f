#include "fuzz_support.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <mvsp/core/log.hpp>
#include <vector>

namespace mvsp::fuzz {
namespace fs = std::filesystem;
namespace {

// The last log lines, shown when an invariant breaks.
std::array<std::string, 8> g_log_lines;
std::size_t g_log_next = 0;

void keep_line(std::string_view line) {
  g_log_lines[g_log_next++ % g_log_lines.size()] = std::string(line);
}

std::vector<fs::path>& temp_dirs() {
  static std::vector<fs::path> dirs;
  return dirs;
}

void remove_temp_dirs() {
  std::error_code ec;
  for (const auto& d : temp_dirs()) fs::remove_all(d, ec);
}

}  // namespace

fs::path source_dir() {
  return MVSP_FUZZ_DIR;
}

fs::path temp_dir(std::string_view name) {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(remove_temp_dirs); });
  auto pattern =
      (fs::temp_directory_path() / ("mvsp-fuzz-" + std::string(name) + ".XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    std::abort();
  }
  temp_dirs().emplace_back(pattern);
  return pattern;
}

void quiet_logs() {
  core::log::configure(core::log::Level::warn, core::log::Format::text);
  core::log::set_sink(keep_line);
}

void check(bool ok, std::string_view invariant, std::string_view detail) {
  if (ok) return;
  std::fprintf(stderr, "\n==mvsp-fuzz== invariant broken: %.*s\n",
               static_cast<int>(invariant.size()), invariant.data());
  if (!detail.empty()) {
    std::fprintf(stderr, "==mvsp-fuzz== detail: %.*s\n", static_cast<int>(detail.size()),
                 detail.data());
  }
  for (std::size_t i = 0; i < g_log_lines.size(); ++i) {
    const auto& line = g_log_lines[(g_log_next + i) % g_log_lines.size()];
    if (!line.empty()) std::fprintf(stderr, "==mvsp-fuzz== log: %s\n", line.c_str());
  }
  std::abort();
}

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "…";
  return out;
}

std::pair<std::string_view, std::string_view> split_first_line(std::string_view input) {
  auto nl = input.find('\n');
  if (nl == std::string_view::npos) return {{}, input};
  return {input.substr(0, nl), input.substr(nl + 1)};
}

}  // namespace mvsp::fuzz
