#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <mvsp/core/clock.hpp>

namespace mvsp::core {

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string format_utc(TimePoint t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto ms = (t - secs).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", secs, ms);
}

namespace {

// 01:00 UTC on the last Sunday of `month` in `year`.
std::chrono::sys_seconds last_sunday_1am(std::chrono::year year, std::chrono::month month) {
  using namespace std::chrono;
  sys_days month_end{year / month / last};
  auto back = (weekday(month_end) - Sunday).count();
  return month_end - days(back) + hours(1);
}

}  // namespace

namespace {
std::chrono::sys_seconds berlin_local(TimePoint t) {
  using namespace std::chrono;
  auto secs = time_point_cast<seconds>(t);
  auto year = year_month_day(floor<days>(secs)).year();
  bool summer = secs >= last_sunday_1am(year, March) && secs < last_sunday_1am(year, October);
  return secs + hours(summer ? 2 : 1);
}
}  // namespace

std::string format_berlin(TimePoint t) {
  return fmt::format("{:%d.%m.%Y, %H:%M}", berlin_local(t));
}

std::chrono::sys_days berlin_day(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(berlin_local(t));
}

std::string format_day(std::chrono::sys_days day) {
  return fmt::format("{:%Y-%m-%d}", day);
}

std::optional<std::chrono::sys_days> parse_day(std::string_view text) {
  unsigned y = 0, m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 ||
      std::sscanf(std::string(text).c_str(), "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(y)), std::chrono::month(m),
                                  std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

}  // namespace mvsp::core
