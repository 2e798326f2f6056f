#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <mvsp/core/calendar.hpp>
#include <utility>

namespace mvsp::core {

namespace {

using std::chrono::days;

struct FixedHoliday {
  unsigned month;
  unsigned day;
  int first_year;  // the first year the holiday counts in Mecklenburg-Vorpommern
  std::string_view name;
};

// By date of the year. The state of Mecklenburg-Vorpommern and the Tag der Deutschen Einheit
// begin in 1990; the Frauentag was added by the state's holiday law in 2023.
constexpr FixedHoliday kFixedHolidays[] = {
    {1, 1, INT_MIN, "Neujahr"},
    {3, 8, 2023, "Internationaler Frauentag"},
    {5, 1, INT_MIN, "Tag der Arbeit"},
    {10, 3, 1990, "Tag der Deutschen Einheit"},
    {10, 31, 1990, "Reformationstag"},
    {12, 25, INT_MIN, "1. Weihnachtstag"},
    {12, 26, INT_MIN, "2. Weihnachtstag"},
};

struct MovableHoliday {
  int days_after_easter;
  std::string_view name;
};

constexpr MovableHoliday kMovableHolidays[] = {
    {-2, "Karfreitag"},
    {1, "Ostermontag"},
    {39, "Christi Himmelfahrt"},
    {50, "Pfingstmontag"},
};

// Holidays of one day at a time, keeping the last year's Easter: a loop over consecutive days
// computes it once a year and allocates nothing.
class HolidayLookup {
 public:
  std::optional<std::string_view> name(Day day) {
    std::chrono::year_month_day ymd{day};
    int year = static_cast<int>(ymd.year());
    auto month = static_cast<unsigned>(ymd.month());
    auto dom = static_cast<unsigned>(ymd.day());
    for (const auto& h : kFixedHolidays) {
      if (h.month == month && h.day == dom && year >= h.first_year) return h.name;
    }
    if (year != year_) {
      year_ = year;
      easter_ = easter_sunday(year);
    }
    auto offset = (day - easter_).count();
    for (const auto& h : kMovableHolidays) {
      if (h.days_after_easter == offset) return h.name;
    }
    return std::nullopt;
  }

 private:
  int year_ = INT_MIN;
  Day easter_{};
};

bool is_weekend(Day day) {
  std::chrono::weekday wd{day};
  return wd == std::chrono::Saturday || wd == std::chrono::Sunday;
}

const ClosingDay* closing_on(const BusinessCalendar& calendar, Day day) {
  const auto& closing = calendar.closing_days();
  auto it = std::lower_bound(closing.begin(), closing.end(), day,
                             [](const ClosingDay& c, Day d) { return c.day < d; });
  return it != closing.end() && it->day == day ? &*it : nullptr;
}

bool open_on(const BusinessCalendar& calendar, Day day, HolidayLookup& holidays) {
  return !is_weekend(day) && closing_on(calendar, day) == nullptr && !holidays.name(day);
}

Day next_open(const BusinessCalendar& calendar, Day day, HolidayLookup& holidays) {
  while (!open_on(calendar, day, holidays)) day += days(1);
  return day;
}

// The end of a deadline before § 193 BGB moves it off a closed day.
Day unmoved_end(const BusinessCalendar& calendar, Day event_day, Duration duration,
                HolidayLookup& holidays) {
  switch (duration.unit) {
    case Duration::days:
      return event_day + days(duration.amount);
    case Duration::weeks:
      return event_day + days(7 * duration.amount);
    case Duration::months: {
      std::chrono::year_month_day event{event_day};
      auto month = event.year() / event.month() + std::chrono::months(duration.amount);
      // § 188 (3) BGB: without the event's day in the end month, its last day.
      auto last = (month / std::chrono::last).day();
      return Day(month / std::min(event.day(), last));
    }
    case Duration::business_days: {
      Day day = event_day;
      for (int left = duration.amount; left > 0;) {
        day += days(1);
        if (open_on(calendar, day, holidays)) --left;
      }
      return day;
    }
  }
  throw Failure("unknown duration unit");
}

int count_open_after(const BusinessCalendar& calendar, Day from, Day to) {
  HolidayLookup holidays;
  int n = 0;
  for (Day day = from + days(1); day <= to; day += days(1)) {
    if (open_on(calendar, day, holidays)) ++n;
  }
  return n;
}

Error bad_duration(std::string message) {
  return Error::invalid("duration", std::move(message));
}

}  // namespace

Day easter_sunday(int year) {
  // Gauss's rule in Lichtenberg's form: the first Sunday after the first full moon of spring
  // (the church's tabulated moon, not the astronomical one), as a day of March.
  int century = year / 100;
  int moon_shift = 15 + (3 * century + 3) / 4 - (8 * century + 13) / 25;
  int sun_shift = 2 - (3 * century + 3) / 4;
  int lunar_cycle = year % 19;
  int moon_age = (19 * lunar_cycle + moon_shift) % 30;
  // The tables' two exceptions: a full moon that would fall on 19 April, or on 18 April in
  // the later part of the lunar cycle, comes one day earlier.
  int correction = (moon_age + lunar_cycle / 11) / 29;
  int full_moon = 21 + moon_age - correction;
  int first_sunday = 7 - (year + year / 4 + sun_shift) % 7;
  int to_sunday = 7 - (full_moon - first_sunday) % 7;
  auto march_first = std::chrono::year(year) / std::chrono::March / 1;
  return Day(march_first) + days(full_moon + to_sunday - 1);
}

std::vector<Holiday> holidays_mv(int year) {
  std::vector<Holiday> out;
  auto y = std::chrono::year(year);
  for (const auto& h : kFixedHolidays) {
    if (year >= h.first_year) {
      out.push_back({Day(y / std::chrono::month(h.month) / std::chrono::day(h.day)), h.name});
    }
  }
  Day easter = easter_sunday(year);
  for (const auto& h : kMovableHolidays) {
    out.push_back({easter + days(h.days_after_easter), h.name});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Holiday& a, const Holiday& b) { return a.day < b.day; });
  return out;
}

std::optional<std::string_view> holiday_mv(Day day) {
  return HolidayLookup().name(day);
}

BusinessCalendar::BusinessCalendar(std::vector<ClosingDay> closing_days)
    : closing_(std::move(closing_days)) {
  std::stable_sort(closing_.begin(), closing_.end(),
                   [](const ClosingDay& a, const ClosingDay& b) { return a.day < b.day; });
  auto dup = std::unique(closing_.begin(), closing_.end(),
                         [](const ClosingDay& a, const ClosingDay& b) { return a.day == b.day; });
  closing_.erase(dup, closing_.end());
}

bool BusinessCalendar::is_business_day(Day day) const {
  HolidayLookup holidays;
  return open_on(*this, day, holidays);
}

std::optional<std::string> BusinessCalendar::why_closed(Day day) const {
  if (auto name = holiday_mv(day)) return std::string(*name);
  if (const auto* closing = closing_on(*this, day)) return closing->label;
  std::chrono::weekday wd{day};
  if (wd == std::chrono::Saturday) return "Samstag";
  if (wd == std::chrono::Sunday) return "Sonntag";
  return std::nullopt;
}

Day BusinessCalendar::next_business_day(Day day) const {
  HolidayLookup holidays;
  return next_open(*this, day, holidays);
}

Result<Duration> parse_duration(std::string_view text) {
  auto digits = std::min(text.find_first_not_of("0123456789"), text.size());
  auto unit_text = text.substr(digits);
  Duration out;
  if (unit_text == "D") {
    out.unit = Duration::days;
  } else if (unit_text == "BD") {
    out.unit = Duration::business_days;
  } else if (unit_text == "W") {
    out.unit = Duration::weeks;
  } else if (unit_text == "M") {
    out.unit = Duration::months;
  } else {
    return fail(bad_duration("must be a number followed by D, BD, W or M, such as 14D or 3M"));
  }
  if (digits == 0 || text.front() == '0') {
    return fail(bad_duration("must start with a number from 1 to 3650 without leading zeros"));
  }
  // More than five digits cannot be in range; checking first keeps from_chars from overflow.
  if (digits > 5 ||
      std::from_chars(text.data(), text.data() + digits, out.amount).ec != std::errc{} ||
      out.amount > Duration::kMaxAmount) {
    return fail(bad_duration("must not be longer than 3650 units"));
  }
  return out;
}

std::string format_duration(Duration duration) {
  std::string_view unit = "D";
  switch (duration.unit) {
    case Duration::days:
      break;
    case Duration::business_days:
      unit = "BD";
      break;
    case Duration::weeks:
      unit = "W";
      break;
    case Duration::months:
      unit = "M";
      break;
  }
  return fmt::format("{}{}", duration.amount, unit);
}

std::string format_duration_de(Duration duration) {
  bool one = duration.amount == 1;
  std::string_view unit = one ? "Tag" : "Tage";
  switch (duration.unit) {
    case Duration::days:
      break;
    case Duration::business_days:
      unit = one ? "Arbeitstag" : "Arbeitstage";
      break;
    case Duration::weeks:
      unit = one ? "Woche" : "Wochen";
      break;
    case Duration::months:
      unit = one ? "Monat" : "Monate";
      break;
  }
  return fmt::format("{} {}", duration.amount, unit);
}

Day deadline_end(const BusinessCalendar& calendar, Day event_day, Duration duration) {
  HolidayLookup holidays;
  return next_open(calendar, unmoved_end(calendar, event_day, duration, holidays), holidays);
}

Day current_end(const BusinessCalendar& calendar, const DeadlineState& state, Day today) {
  std::vector<std::pair<Day, Day>> spans;
  spans.reserve(state.suspensions.size());
  for (const auto& s : state.suspensions) {
    Day to = s.to.value_or(today);
    if (s.from < to) spans.emplace_back(s.from, to);
  }
  std::sort(spans.begin(), spans.end());
  // The days of the union of the spans, so that overlapping requests do not count twice.
  days suspended{0};
  Day covered_to = Day::min();
  for (const auto& [from, to] : spans) {
    Day start = std::max(from, covered_to);
    if (to > start) {
      suspended += to - start;
      covered_to = to;
    }
  }
  HolidayLookup holidays;
  Day end = state.original_end + suspended;
  for (const auto& extension : state.extensions) {
    end = unmoved_end(calendar, end, extension, holidays);
  }
  return next_open(calendar, end, holidays);
}

int business_days_between(const BusinessCalendar& calendar, Day from, Day to) {
  return to >= from ? count_open_after(calendar, from, to) : -count_open_after(calendar, to, from);
}

bool warn(const BusinessCalendar& calendar, Day today, Day end, int warn_business_days) {
  if (end <= today) return true;
  // Counts no further than the warning window: a deadline years ahead costs a few steps.
  HolidayLookup holidays;
  int ahead = 0;
  for (Day day = today + days(1); day <= end; day += days(1)) {
    if (open_on(calendar, day, holidays) && ++ahead > warn_business_days) return false;
  }
  return true;
}

}  // namespace mvsp::core
