#pragma once
// The business calendar of an authority in Mecklenburg-Vorpommern, and deadlines (Fristen)
// computed on it as § 31 VwVfG M-V with §§ 187-193 BGB prescribes. Pure functions of civil
// days; nothing here reads the clock (the caller passes `today`).

#include <chrono>
#include <mvsp/core/error.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::core {

// A civil day, as core::parse_day and core::format_day read and write it.
using Day = std::chrono::sys_days;

// One public holiday: its day and its German name.
struct Holiday {
  Day day;
  std::string_view name;  // static text, e.g. "Karfreitag"
  friend bool operator==(const Holiday&, const Holiday&) = default;
};

// Easter Sunday of `year` by the Gregorian computus (years from 1583 on).
Day easter_sunday(int year);

// The public holidays that apply in Mecklenburg-Vorpommern in `year`, sorted by day (two can
// share a day: Christi Himmelfahrt fell on 1 May in 2008). Tag der Deutschen Einheit and
// Reformationstag count from 1990, Internationaler Frauentag from 2023. Buß- und Bettag, a
// holiday until 1994, is not modelled: deadlines of that age do not reach this platform.
std::vector<Holiday> holidays_mv(int year);

// The German name of the holiday on `day`, if it is one in Mecklenburg-Vorpommern.
std::optional<std::string_view> holiday_mv(Day day);

// A day on which one authority is closed although it is no public holiday (24 and 31 December,
// a bridge day), with the label shown to clerks.
struct ClosingDay {
  Day day;
  std::string label;
};

// The days on which an authority works: Monday to Friday, except public holidays in
// Mecklenburg-Vorpommern and the authority's own closing days. A value; cheap to query.
class BusinessCalendar {
 public:
  // The public holidays only.
  BusinessCalendar() = default;
  // The public holidays and these closing days; of two entries for one day the first counts.
  explicit BusinessCalendar(std::vector<ClosingDay> closing_days);

  bool is_business_day(Day day) const;
  // Why `day` is no business day, for clerks: the holiday's name, the closing day's label, or
  // "Samstag" / "Sonntag", in that order; nothing on a business day.
  std::optional<std::string> why_closed(Day day) const;
  // `day` itself if it is a business day, otherwise the next one (§ 193 BGB).
  Day next_business_day(Day day) const;

  // Sorted by day, one entry per day.
  const std::vector<ClosingDay>& closing_days() const { return closing_; }

 private:
  std::vector<ClosingDay> closing_;  // sorted by day, one entry per day
};

// The length of a deadline. Its text form is the amount and a unit letter: "14D" (days),
// "10BD" (business days), "2W" (weeks), "3M" (months).
struct Duration {
  static constexpr int kMaxAmount = 3650;

  int amount = 0;
  enum Unit { days, business_days, weeks, months } unit = days;

  friend bool operator==(const Duration&, const Duration&) = default;
};

// Reads the text form strictly: an amount 1..3650 without sign, spaces or leading zeros, then
// exactly "D", "BD", "W" or "M" in capitals. Anything else is invalid_input on "duration".
Result<Duration> parse_duration(std::string_view text);
// The text form, e.g. "3M".
std::string format_duration(Duration duration);
// For people: "1 Tag", "14 Tage", "10 Arbeitstage", "1 Woche", "3 Monate".
std::string format_duration_de(Duration duration);

// The last day of a deadline of `duration` that an event on `event_day` (e.g. the receipt of
// an application) sets running (§ 187 (1), § 188 BGB). Days and weeks count from the day after
// the event; a week or month deadline ends on the day named like the event day (a Tuesday, the
// 31st), or on the last day of the month where that day does not exist (31 Jan + 1M is the end
// of February). An end on a weekend, public holiday or closing day moves to the next business
// day (§ 193 BGB). Business days count only business days after the event day.
Day deadline_end(const BusinessCalendar& calendar, Day event_day, Duration duration);

// A period in which a deadline does not run: [from, to), still open while `to` is empty.
struct Suspension {
  Day from;
  std::optional<Day> to;
};

// What a case knows about one deadline: the end deadline_end gave, and what happened since.
struct DeadlineState {
  Day original_end;
  std::vector<Suspension> suspensions;
  std::vector<Duration> extensions;  // each granted once, in the order granted
};

// The end of the deadline as of `today`. Rule: every calendar day inside a suspension moves
// the original end one day later (a day covered by two suspensions counts once; an open
// suspension counts the days from its start up to, not including, `today`). Each extension
// then runs as a new deadline from that end, as deadline_end counts it, and the result moves
// to the next business day.
Day current_end(const BusinessCalendar& calendar, const DeadlineState& state, Day today);

// The number of business days after `from` up to and including `to`; negative (the same count
// the other way) when `to` lies before `from`. deadline_end(c, e, {n, business_days}) is the
// day d with business_days_between(c, e, d) == n.
int business_days_between(const BusinessCalendar& calendar, Day from, Day to);

// Whether a clerk should be warned on `today` about a deadline ending on `end`: it has passed,
// or at most `warn_business_days` business days lie between today and the end.
bool warn(const BusinessCalendar& calendar, Day today, Day end, int warn_business_days);

}  // namespace mvsp::core
