#pragma once
// Time as a side effect: injected everywhere so that tests control it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mvsp::core {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in UTC.
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

// Milliseconds since the Unix epoch, the form times take in the database.
inline std::int64_t to_millis(TimePoint t) {
  return t.time_since_epoch().count();
}
inline TimePoint from_millis(std::int64_t ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}

// RFC 3339 in UTC with milliseconds, e.g. "2026-11-24T06:13:24.123Z".
std::string format_utc(TimePoint t);
// The same to the second, e.g. "2026-11-24T06:13:24Z" (SAML, xs:dateTime).
std::string format_utc_seconds(TimePoint t);

// Local time in Germany (Europe/Berlin) as people read it: "24.11.2026, 07:13".
// Summer time follows the EU rule (last Sunday of March to last Sunday of October,
// switching at 01:00 UTC); libstdc++ 12 has no time-zone database.
std::string format_berlin(TimePoint t);
// The calendar day in Germany at `t`.
std::chrono::sys_days berlin_day(TimePoint t);
// A day as ISO 8601 ("2026-11-24") and back; nothing for anything else.
std::string format_day(std::chrono::sys_days day);
std::optional<std::chrono::sys_days> parse_day(std::string_view text);
// An ISO day as people in Germany read it: "2026-11-24" -> "24.11.2026"; anything else as
// it is.
std::string format_day_de(std::string_view iso);

}  // namespace mvsp::core
