#pragma once
// ZIP archives in memory (private): the xdomea container and the clerk's download of all
// documents of a Vorgang.
#include <mvsp/core/clock.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::cases {

struct ZipEntry {
  std::string name;          // UTF-8, "/" separates folders
  std::string_view content;  // must live until zip_of returns
};

// The archive of `entries` in their order, each with the time `at` and mode 0644, so that
// the same entries and time give the same bytes. Throws core::Failure when libzip cannot
// (out of memory).
std::string zip_of(const std::vector<ZipEntry>& entries, core::TimePoint at);

}  // namespace mvsp::cases
