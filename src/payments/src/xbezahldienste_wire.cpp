#include "xbezahldienste_wire.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <mvsp/core/crypto.hpp>

namespace mvsp::payments::xbez {

bool is_protocol_id(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string format_amount(std::int64_t cents) {
  return fmt::format("{}.{:02}", cents / 100, cents % 100);
}

std::optional<std::int64_t> amount_cents(double value) {
  if (!std::isfinite(value) || value < 0 || value > 1e12) return std::nullopt;
  double scaled = value * 100.0;
  auto cents = std::llround(scaled);
  // 30.1 is 3009.9999… after scaling: a binary fraction, not a third decimal.
  if (std::fabs(scaled - static_cast<double>(cents)) > 1e-6) return std::nullopt;
  return cents;
}

std::pair<char32_t, std::size_t> code_point_at(std::string_view s, std::size_t pos) {
  constexpr char32_t kBroken = 0xFFFFFFFF;
  auto b = static_cast<unsigned char>(s[pos]);
  if (b < 0x80) return {b, 1};
  std::size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
  if (len == 0 || b > 0xF4 || pos + len > s.size()) return {kBroken, 1};
  char32_t cp = b & (0x3F >> (len - 1));
  for (std::size_t i = 1; i < len; ++i) {
    auto c = static_cast<unsigned char>(s[pos + i]);
    if ((c & 0xC0) != 0x80) return {kBroken, 1};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {cp, len};
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t pos = 0; pos < s.size(); ++n) pos += code_point_at(s, pos).second;
  return n;
}

namespace {

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  auto part = s.substr(pos, len);
  for (char c : part) {
    if (c < '0' || c > '9') return false;
  }
  std::from_chars(part.data(), part.data() + part.size(), out);
  return true;
}

}  // namespace

std::optional<core::TimePoint> parse_timestamp(std::string_view text) {
  // yyyy-mm-ddThh:mm:ss
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 19 || !read_int(text, 0, 4, year) || text[4] != '-' ||
      !read_int(text, 5, 2, month) || text[7] != '-' || !read_int(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !read_int(text, 11, 2, hour) ||
      text[13] != ':' || !read_int(text, 14, 2, minute) || text[16] != ':' ||
      !read_int(text, 17, 2, second)) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 3; ++d) millis *= 10;
  }
  std::chrono::minutes offset{0};
  if (pos < text.size()) {
    char z = text[pos];
    if (z == 'Z' || z == 'z') {
      ++pos;
    } else if (z == '+' || z == '-') {
      int oh = 0, om = 0;
      if (!read_int(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
          !read_int(text, pos + 4, 2, om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset = std::chrono::minutes((oh * 60 + om) * (z == '-' ? -1 : 1));
      pos += 6;
    }
  }
  if (pos != text.size()) return std::nullopt;
  auto t = std::chrono::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second) + std::chrono::milliseconds(millis) - offset;
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

std::string notification_signature(std::string_view secret, std::string_view timestamp,
                                   std::string_view body) {
  std::string signed_text;
  signed_text.reserve(timestamp.size() + 1 + body.size());
  signed_text.append(timestamp).append(".").append(body);
  return "v1=" + core::crypto::to_hex(core::crypto::hmac_sha256(secret, signed_text));
}

}  // namespace mvsp::payments::xbez
