#pragma once
// The plain-text forms in which editors write an online service's settings on the
// editorial pages, read and written back. Each reader refuses what it cannot read exactly
// (std::nullopt); the catalog's use cases then check the ranges (docs/api/openapi.yaml).

#include <cstdint>
#include <mvsp/catalog/catalog.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::catalog::editor_text {

// The non-empty lines, trimmed ("\r\n" as well as "\n").
std::vector<std::string> lines_of(std::string_view text);
// The parts between `sep`, trimmed (empty parts kept).
std::vector<std::string> split(std::string_view text, char sep);

// A fee in euros: "26", "26,5", "26,50" or "26.50" (at most two decimals, at most
// 1,000,000 euros) → cents. Empty is no fee.
std::optional<std::int64_t> parse_fee(std::string_view text);
// 2650 → "26,50".
std::string format_fee(std::int64_t cents);

// Whole days, 1 to 5 digits.
std::optional<int> parse_days(std::string_view text);

// One document per line: "Lageplan; application/pdf, image/png; 10; optional" (name;
// media types; at most so many MB, 1 to 100; "Pflicht" or "optional"), and "; mehrere"
// after it where several files may answer it.
std::optional<std::vector<DocumentRule>> parse_documents(std::string_view text);
std::string format_documents(const std::vector<DocumentRule>& documents);

}  // namespace mvsp::catalog::editor_text
