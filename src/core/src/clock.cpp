#include <fmt/chrono.h>
#include <fmt/format.h>

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

std::string format_berlin(TimePoint t) {
  using namespace std::chrono;
  auto secs = time_point_cast<seconds>(t);
  auto year = year_month_day(floor<days>(secs)).year();
  bool summer = secs >= last_sunday_1am(year, March) && secs < last_sunday_1am(year, October);
  auto local = secs + hours(summer ? 2 : 1);
  return fmt::format("{:%d.%m.%Y, %H:%M}", local);
}

}  // namespace mvsp::core
