#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <mvsp/core/clock.hpp>

namespace mvsp::core {

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

namespace {

// Calendar fields by <chrono> arithmetic. fmt's "{:%Y…}" goes through nanoseconds and
// overflows after the year 2262, and dates come from outside (a SAML instant, a notice's
// day).
struct Fields {
  int year;
  unsigned month;
  unsigned day;
  std::int64_t hour;
  std::int64_t minute;
  std::int64_t second;
};

Fields fields_of(std::chrono::sys_seconds t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{t - day};
  return {static_cast<int>(ymd.year()),
          static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()),
          hms.hours().count(),
          hms.minutes().count(),
          hms.seconds().count()};
}

// ISO 8601: at least four digits, a minus before years before year 0.
std::string year_text(int year) {
  return year < 0 ? fmt::format("-{:04}", -year) : fmt::format("{:04}", year);
}

}  // namespace

std::string format_utc(TimePoint t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto f = fields_of(secs);
  return fmt::format("{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year_text(f.year), f.month, f.day,
                     f.hour, f.minute, f.second, (t - secs).count());
}

std::string format_utc_seconds(TimePoint t) {
  auto f = fields_of(std::chrono::floor<std::chrono::seconds>(t));
  return fmt::format("{}-{:02}-{:02}T{:02}:{:02}:{:02}Z", year_text(f.year), f.month, f.day, f.hour,
                     f.minute, f.second);
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
  auto secs = floor<seconds>(t);
  auto year = year_month_day(floor<days>(secs)).year();
  bool summer = secs >= last_sunday_1am(year, March) && secs < last_sunday_1am(year, October);
  return secs + hours(summer ? 2 : 1);
}
}  // namespace

std::string format_berlin(TimePoint t) {
  auto f = fields_of(berlin_local(t));
  return fmt::format("{:02}.{:02}.{}, {:02}:{:02}", f.day, f.month, year_text(f.year), f.hour,
                     f.minute);
}

std::chrono::sys_days berlin_day(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(berlin_local(t));
}

std::string format_day(std::chrono::sys_days day) {
  auto f = fields_of(day);
  return fmt::format("{}-{:02}-{:02}", year_text(f.year), f.month, f.day);
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

std::string format_day_de(std::string_view iso) {
  if (iso.size() != 10) return std::string(iso);
  return fmt::format("{}.{}.{}", iso.substr(8, 2), iso.substr(5, 2), iso.substr(0, 4));
}

}  // namespace mvsp::core
