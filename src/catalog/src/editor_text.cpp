#include <fmt/format.h>

#include <charconv>
#include <mvsp/catalog/editor_text.hpp>
#include <mvsp/core/text.hpp>

namespace mvsp::catalog::editor_text {
namespace {

using core::trim;

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Plain decimal digits only (no sign, no spaces), at most `max_digits`.
std::optional<std::int64_t> whole(std::string_view s, std::size_t max_digits) {
  if (!all_digits(s) || s.size() > max_digits) return std::nullopt;
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

constexpr std::int64_t kMegabyte = 1024 * 1024;
constexpr std::int64_t kMaxFeeEuros = 1'000'000;

}  // namespace

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = trim(text.substr(0, nl));
    if (!line.empty()) out.emplace_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  for (;;) {
    auto at = text.find(sep);
    out.emplace_back(trim(text.substr(0, at)));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

std::optional<std::int64_t> parse_fee(std::string_view text) {
  text = trim(text);
  if (text.empty()) return 0;
  auto mark = text.find_first_of(",.");
  auto euros = whole(text.substr(0, mark), 7);
  if (!euros || *euros > kMaxFeeEuros) return std::nullopt;
  std::int64_t cents = 0;
  if (mark != std::string_view::npos) {
    auto decimals = text.substr(mark + 1);
    if (decimals.size() > 2 || !all_digits(decimals)) return std::nullopt;
    cents = *whole(decimals, 2) * (decimals.size() == 1 ? 10 : 1);
  }
  auto total = *euros * 100 + cents;
  if (total > kMaxFeeEuros * 100) return std::nullopt;
  return total;
}

std::string format_fee(std::int64_t cents) {
  return fmt::format("{},{:02}", cents / 100, cents % 100);
}

std::optional<int> parse_days(std::string_view text) {
  auto days = whole(trim(text), 5);
  if (!days) return std::nullopt;
  return static_cast<int>(*days);
}

std::optional<std::vector<DocumentRule>> parse_documents(std::string_view text) {
  std::vector<DocumentRule> out;
  for (const auto& line : lines_of(text)) {
    auto parts = split(line, ';');
    if ((parts.size() != 4 && parts.size() != 5) || parts[0].empty()) return std::nullopt;
    if (parts.size() == 5 && parts[4] != "mehrere" && !parts[4].empty()) return std::nullopt;
    auto mb = whole(parts[2], 3);
    if (!mb || *mb < 1 || *mb > 100) return std::nullopt;
    if (parts[3] != "Pflicht" && parts[3] != "optional") return std::nullopt;
    auto types = split(parts[1], ',');
    for (const auto& t : types) {
      if (t.empty()) return std::nullopt;
    }
    out.push_back({parts[0], std::move(types), *mb * kMegabyte, parts[3] == "Pflicht",
                   parts.size() == 5 && parts[4] == "mehrere"});
  }
  return out;
}

std::string format_documents(const std::vector<DocumentRule>& documents) {
  std::string out;
  for (const auto& d : documents) {
    std::string types;
    for (const auto& t : d.types) types += (types.empty() ? "" : ", ") + t;
    // Whole MB, rounded up, so that a limit set through the API in bytes reads back.
    out += fmt::format("{}{}; {}; {}; {}{}", out.empty() ? "" : "\n", d.name, types,
                       (d.max_bytes + kMegabyte - 1) / kMegabyte,
                       d.required ? "Pflicht" : "optional", d.multiple ? "; mehrere" : "");
  }
  return out;
}

}  // namespace mvsp::catalog::editor_text
