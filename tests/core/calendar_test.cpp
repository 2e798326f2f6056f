#include <fmt/format.h>
#include <gtest/gtest.h>

#include <mvsp/core/calendar.hpp>
#include <mvsp/core/clock.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace mvsp::core {
namespace {

using std::chrono::days;

Day d(std::string_view iso) {
  auto day = parse_day(iso);
  if (!day) throw std::invalid_argument(std::string(iso));
  return *day;
}

// An authority that closes on 24 and 31 December 2024 and on the Friday after Christi
// Himmelfahrt 2025.
BusinessCalendar authority() {
  return BusinessCalendar({{d("2024-12-24"), "Heiligabend"},
                           {d("2025-05-30"), "Brückentag"},
                           {d("2024-12-31"), "Silvester"}});
}

TEST(Calendar, EasterByTheComputus) {
  // Known dates, among them the years where the tables' exceptions apply (1954, 1981,
  // 2049, 2076) and the earliest (22 March) and latest (25 April) possible Easter.
  const std::pair<int, const char*> rows[] = {
      {2024, "2024-03-31"}, {2025, "2025-04-20"}, {2026, "2026-04-05"}, {2027, "2027-03-28"},
      {2038, "2038-04-25"}, {2285, "2285-03-22"}, {1818, "1818-03-22"}, {1954, "1954-04-18"},
      {1981, "1981-04-19"}, {2049, "2049-04-18"}, {2076, "2076-04-19"}, {1583, "1583-04-10"},
      {2000, "2000-04-23"}, {2100, "2100-03-28"}, {4099, "4099-04-19"},
  };
  for (const auto& [year, expected] : rows) {
    EXPECT_EQ(format_day(easter_sunday(year)), expected) << year;
  }
  // Every Easter of the Gregorian calendar is a Sunday from 22 March to 25 April.
  for (int year = 1583; year <= 4099; ++year) {
    Day easter = easter_sunday(year);
    EXPECT_EQ(std::chrono::weekday(easter), std::chrono::Sunday) << year;
    EXPECT_GE(easter, d(fmt::format("{}-03-22", year))) << year;
    EXPECT_LE(easter, d(fmt::format("{}-04-25", year))) << year;
  }
}

TEST(Calendar, EveryHolidayOf2024To2026) {
  struct Row {
    const char* day;
    std::string_view name;
  };
  const std::vector<Row> rows = {
      {"2024-01-01", "Neujahr"},
      {"2024-03-08", "Internationaler Frauentag"},
      {"2024-03-29", "Karfreitag"},
      {"2024-04-01", "Ostermontag"},
      {"2024-05-01", "Tag der Arbeit"},
      {"2024-05-09", "Christi Himmelfahrt"},
      {"2024-05-20", "Pfingstmontag"},
      {"2024-10-03", "Tag der Deutschen Einheit"},
      {"2024-10-31", "Reformationstag"},
      {"2024-12-25", "1. Weihnachtstag"},
      {"2024-12-26", "2. Weihnachtstag"},
      {"2025-01-01", "Neujahr"},
      {"2025-03-08", "Internationaler Frauentag"},
      {"2025-04-18", "Karfreitag"},
      {"2025-04-21", "Ostermontag"},
      {"2025-05-01", "Tag der Arbeit"},
      {"2025-05-29", "Christi Himmelfahrt"},
      {"2025-06-09", "Pfingstmontag"},
      {"2025-10-03", "Tag der Deutschen Einheit"},
      {"2025-10-31", "Reformationstag"},
      {"2025-12-25", "1. Weihnachtstag"},
      {"2025-12-26", "2. Weihnachtstag"},
      {"2026-01-01", "Neujahr"},
      {"2026-03-08", "Internationaler Frauentag"},
      {"2026-04-03", "Karfreitag"},
      {"2026-04-06", "Ostermontag"},
      {"2026-05-01", "Tag der Arbeit"},
      {"2026-05-14", "Christi Himmelfahrt"},
      {"2026-05-25", "Pfingstmontag"},
      {"2026-10-03", "Tag der Deutschen Einheit"},
      {"2026-10-31", "Reformationstag"},
      {"2026-12-25", "1. Weihnachtstag"},
      {"2026-12-26", "2. Weihnachtstag"},
  };
  std::vector<Holiday> expected;
  for (const auto& row : rows) expected.push_back({d(row.day), row.name});
  std::vector<Holiday> listed;
  for (int year : {2024, 2025, 2026}) {
    auto h = holidays_mv(year);
    listed.insert(listed.end(), h.begin(), h.end());
  }
  EXPECT_EQ(listed, expected);

  // Day by day, exactly these days are holidays, and none of them is a business day.
  std::set<Day> holiday_days;
  for (const auto& h : expected) holiday_days.insert(h.day);
  BusinessCalendar calendar;
  for (Day day = d("2024-01-01"); day <= d("2026-12-31"); day += days(1)) {
    auto name = holiday_mv(day);
    EXPECT_EQ(name.has_value(), holiday_days.contains(day)) << format_day(day);
    if (name) {
      EXPECT_FALSE(calendar.is_business_day(day)) << format_day(day);
    }
  }
}

TEST(Calendar, HolidaysThatChangedOverTheYears) {
  // The Frauentag counts from 2023 on.
  EXPECT_FALSE(holiday_mv(d("2022-03-08")));
  EXPECT_TRUE(BusinessCalendar().is_business_day(d("2022-03-08")));
  EXPECT_EQ(holiday_mv(d("2023-03-08")), "Internationaler Frauentag");
  EXPECT_FALSE(BusinessCalendar().is_business_day(d("2023-03-08")));
  EXPECT_EQ(holidays_mv(2022).size(), 10u);
  EXPECT_EQ(holidays_mv(2023).size(), 11u);
  // Reformationstag: in Mecklenburg-Vorpommern since 1990, so also in 2017 (when it was a
  // holiday everywhere) and in every year after.
  EXPECT_FALSE(holiday_mv(d("1989-10-31")));
  EXPECT_EQ(holiday_mv(d("1990-10-31")), "Reformationstag");
  EXPECT_EQ(holiday_mv(d("2017-10-31")), "Reformationstag");
  EXPECT_EQ(holiday_mv(d("2018-10-31")), "Reformationstag");
  // In 2008 Christi Himmelfahrt fell on 1 May: both are listed, on the same day.
  auto y2008 = holidays_mv(2008);
  ASSERT_EQ(y2008.size(), 10u);
  EXPECT_EQ(y2008[3], (Holiday{d("2008-05-01"), "Tag der Arbeit"}));
  EXPECT_EQ(y2008[4], (Holiday{d("2008-05-01"), "Christi Himmelfahrt"}));
  EXPECT_FALSE(holiday_mv(d("2008-05-02")));
}

TEST(Calendar, WhyClosedNamesTheReasonForClerks) {
  auto calendar = authority();
  const std::pair<const char*, std::optional<std::string>> rows[] = {
      {"2025-04-18", "Karfreitag"},
      {"2024-12-24", "Heiligabend"},
      {"2025-05-30", "Brückentag"},
      {"2025-03-15", "Samstag"},
      {"2025-03-16", "Sonntag"},
      // A holiday on a Saturday is named as the holiday.
      {"2025-03-08", "Internationaler Frauentag"},
      {"2025-03-17", std::nullopt},
      {"2025-12-24", std::nullopt},  // closed in 2024 only
  };
  for (const auto& [day, expected] : rows) {
    EXPECT_EQ(calendar.why_closed(d(day)), expected) << day;
    EXPECT_EQ(calendar.is_business_day(d(day)), !expected) << day;
  }
  EXPECT_TRUE(BusinessCalendar().is_business_day(d("2024-12-24")));
}

TEST(Calendar, ClosingDaysAreSortedAndTheFirstLabelOfADayCounts) {
  BusinessCalendar calendar({{d("2025-12-31"), "Silvester"},
                             {d("2025-12-24"), "Heiligabend"},
                             {d("2025-12-31"), "Jahresabschluss"}});
  ASSERT_EQ(calendar.closing_days().size(), 2u);
  EXPECT_EQ(calendar.closing_days()[0].day, d("2025-12-24"));
  EXPECT_EQ(calendar.why_closed(d("2025-12-31")), "Silvester");
}

struct DeadlineRow {
  const char* name;
  const char* event;
  Duration duration;
  const char* end;
  bool authority = false;  // with the authority's closing days
};

// Names the row in gtest's messages instead of dumping its bytes.
void PrintTo(const DeadlineRow& row, std::ostream* out) {
  *out << row.name;
}

class DeadlineEnd : public testing::TestWithParam<DeadlineRow> {};

TEST_P(DeadlineEnd, FollowsTheBgbRules) {
  const auto& row = GetParam();
  auto calendar = row.authority ? authority() : BusinessCalendar();
  EXPECT_EQ(format_day(deadline_end(calendar, d(row.event), row.duration)), row.end);
}

constexpr Duration n_days(int n) {
  return {n, Duration::days};
}
constexpr Duration n_business_days(int n) {
  return {n, Duration::business_days};
}
constexpr Duration n_weeks(int n) {
  return {n, Duration::weeks};
}
constexpr Duration n_months(int n) {
  return {n, Duration::months};
}

INSTANTIATE_TEST_SUITE_P(
    Calendar, DeadlineEnd,
    testing::Values(
        // Days count from the day after the event.
        DeadlineRow{"DaysOnAWeekday", "2025-03-03", n_days(14), "2025-03-17"},
        DeadlineRow{"OneDay", "2025-03-12", n_days(1), "2025-03-13"},
        DeadlineRow{"DaysEndingOnSunday", "2025-03-06", n_days(10), "2025-03-17"},
        // A week deadline ends on the event's weekday.
        DeadlineRow{"OneWeek", "2025-03-07", n_weeks(1), "2025-03-14"},
        DeadlineRow{"WeeksEndingOnSaturday", "2025-03-08", n_weeks(2), "2025-03-24"},
        // Karfreitag, Saturday, Easter Sunday and Ostermontag: Tuesday.
        DeadlineRow{"OnKarfreitag", "2025-04-04", n_weeks(2), "2025-04-22"},
        DeadlineRow{"DaysOnKarfreitag", "2025-04-04", n_days(14), "2025-04-22"},
        // Closing days move the end like holidays.
        DeadlineRow{"OnBridgeDay", "2025-05-23", n_weeks(1), "2025-06-02", true},
        DeadlineRow{"BridgeDayOnlyForTheAuthority", "2025-05-23", n_weeks(1), "2025-05-30"},
        DeadlineRow{"OnHimmelfahrtThenBridgeDay", "2025-05-15", n_weeks(2), "2025-06-02", true},
        DeadlineRow{"OnHeiligabend", "2024-12-10", n_weeks(2), "2024-12-27", true},
        DeadlineRow{"Frauentag2023", "2023-03-01", n_weeks(1), "2023-03-09"},
        DeadlineRow{"NoFrauentag2022", "2022-03-01", n_weeks(1), "2022-03-08"},
        DeadlineRow{"OnReformationstag", "2024-10-17", n_weeks(2), "2024-11-01"},
        // Months: the same day number, or the month's last day.
        DeadlineRow{"MonthFrom31Jan", "2025-01-31", n_months(1), "2025-02-28"},
        DeadlineRow{"MonthFrom31JanLeapYear", "2024-01-31", n_months(1), "2024-02-29"},
        DeadlineRow{"MonthFrom31Mar", "2025-03-31", n_months(1), "2025-04-30"},
        DeadlineRow{"MonthEndOnSunday", "2025-10-31", n_months(1), "2025-12-01"},
        DeadlineRow{"YearFromLeapDay", "2024-02-29", n_months(12), "2025-02-28"},
        DeadlineRow{"ThreeMonthsFromReceipt", "2025-01-15", n_months(3), "2025-04-15"},
        DeadlineRow{"ThreeMonthsToKarfreitag", "2025-01-18", n_months(3), "2025-04-22"},
        DeadlineRow{"ThreeMonthsOverNewYear", "2024-11-30", n_months(3), "2025-02-28"},
        // Business days skip weekends, holidays and closing days.
        DeadlineRow{"BusinessDaysOverEaster", "2025-04-14", n_business_days(10), "2025-04-30"},
        DeadlineRow{"BusinessDaysOverChristmas", "2024-12-20", n_business_days(5), "2025-01-03",
                    true},
        DeadlineRow{"BusinessDaysOverChristmasNoClosing", "2024-12-20", n_business_days(5),
                    "2024-12-31"},
        DeadlineRow{"BusinessDayFromSaturday", "2025-03-15", n_business_days(1), "2025-03-17"}),
    [](const testing::TestParamInfo<DeadlineRow>& info) { return std::string(info.param.name); });

TEST(Calendar, BusinessDaysBetweenMatchesBusinessDayDeadlines) {
  auto calendar = authority();
  EXPECT_EQ(business_days_between(calendar, d("2025-03-10"), d("2025-03-14")), 4);
  EXPECT_EQ(business_days_between(calendar, d("2025-03-14"), d("2025-03-10")), -4);
  EXPECT_EQ(business_days_between(calendar, d("2025-03-10"), d("2025-03-10")), 0);
  // 23, 27 and 30 December, 2 and 3 January; 24 and 31 December are closing days.
  EXPECT_EQ(business_days_between(calendar, d("2024-12-20"), d("2025-01-03")), 5);
  EXPECT_EQ(business_days_between(BusinessCalendar(), d("2024-12-20"), d("2025-01-03")), 7);
  for (int n = 1; n <= 30; ++n) {
    Day end = deadline_end(calendar, d("2024-12-13"), n_business_days(n));
    EXPECT_EQ(business_days_between(calendar, d("2024-12-13"), end), n) << n;
  }
}

TEST(Calendar, WarnsWhenTheEndIsNearOrPassed) {
  auto calendar = authority();
  struct Row {
    const char* today;
    const char* end;
    int within;
    bool expected;
  };
  const Row rows[] = {
      {"2025-03-10", "2025-03-14", 3, false},  // Monday to Friday: four business days
      {"2025-03-10", "2025-03-14", 4, true},  {"2025-03-14", "2025-03-14", 0, true},  // ends today
      {"2025-03-17", "2025-03-14", 0, true},                                          // passed
      {"2025-03-17", "2025-03-14", -3, true},  // passed, whatever the window
      {"2025-04-17", "2025-04-22", 0, false},  // Thursday to Tuesday after Easter: one
      {"2025-04-17", "2025-04-22", 1, true},  {"2024-12-20", "2025-01-03", 4, false},
      {"2024-12-20", "2025-01-03", 5, true},  {"2025-01-01", "2035-01-01", 5, false},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(warn(calendar, d(row.today), d(row.end), row.within), row.expected)
        << row.today << " " << row.end << " " << row.within;
  }
}

TEST(Calendar, SuspensionsAndExtensionsMoveTheEnd) {
  auto calendar = authority();
  struct Row {
    const char* name;
    DeadlineState state;
    const char* today;
    const char* end;
  };
  const Row rows[] = {
      {"unchanged", {d("2025-03-17"), {}, {}}, "2025-03-20", "2025-03-17"},
      {"ten days suspended",
       {d("2025-03-17"), {{d("2025-03-03"), d("2025-03-13")}}, {}},
       "2025-03-20",
       "2025-03-27"},
      // 3 to 15 March: twelve days, counted once; the 29th is a Saturday.
      {"overlapping suspensions",
       {d("2025-03-17"),
        {{d("2025-03-03"), d("2025-03-13")}, {d("2025-03-10"), d("2025-03-15")}},
        {}},
       "2025-03-20",
       "2025-03-31"},
      {"open suspension counts up to today",
       {d("2025-03-17"), {{d("2025-03-10"), std::nullopt}}, {}},
       "2025-03-14",
       "2025-03-21"},
      {"open suspension from today",
       {d("2025-03-17"), {{d("2025-03-14"), std::nullopt}}, {}},
       "2025-03-14",
       "2025-03-17"},
      {"suspension ending before it starts counts nothing",
       {d("2025-03-17"), {{d("2025-03-13"), d("2025-03-03")}}, {}},
       "2025-03-20",
       "2025-03-17"},
      {"extension onto Karfreitag",
       {d("2025-03-18"), {}, {n_months(1)}},
       "2025-03-20",
       "2025-04-22"},
      // Each extension runs from the end the one before gave: 28 February, then 28 March.
      {"two extensions",
       {d("2025-01-31"), {}, {n_months(1), n_months(1)}},
       "2025-02-01",
       "2025-03-28"},
      // 31 January + 10 days = 10 February; + 3 months = 10 May, a Saturday.
      {"suspension then extension",
       {d("2025-01-31"), {{d("2025-02-03"), d("2025-02-13")}}, {n_months(3)}},
       "2025-03-01",
       "2025-05-12"},
      // 20 December + 2 business days: 23 and 27 December (24th closed, 25/26 holidays).
      {"business day extension",
       {d("2024-12-20"), {}, {n_business_days(2)}},
       "2024-12-20",
       "2024-12-27"},
      // A suspension that moves the end onto 31 December, a closing day.
      {"suspension onto a closing day",
       {d("2024-12-20"), {{d("2024-12-02"), d("2024-12-13")}}, {}},
       "2024-12-20",
       "2025-01-02"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(format_day(current_end(calendar, row.state, d(row.today))), row.end) << row.name;
  }
}

TEST(Calendar, DurationsReadAndWriteTheirTextForm) {
  const std::pair<const char*, Duration> good[] = {
      {"3M", n_months(3)}, {"14D", n_days(14)}, {"10BD", n_business_days(10)},
      {"2W", n_weeks(2)},  {"1D", n_days(1)},   {"3650M", n_months(3650)},
  };
  for (const auto& [text, duration] : good) {
    auto parsed = parse_duration(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(*parsed, duration) << text;
    EXPECT_EQ(format_duration(duration), text);
  }
  // The message names the rule that was broken.
  const std::pair<const char*, const char*> bad[] = {
      {"", "D, BD, W or M"},    {"3", "D, BD, W or M"},    {"M", "from 1 to 3650"},
      {"BD", "from 1 to 3650"}, {"0D", "from 1 to 3650"},  {"03M", "leading zeros"},
      {"3651D", "3650"},        {"99999D", "3650"},        {"99999999999999999999D", "3650"},
      {"3m", "D, BD, W or M"},  {"3bd", "D, BD, W or M"},  {"3 M", "D, BD, W or M"},
      {" 3M", "D, BD, W or M"}, {"3M ", "D, BD, W or M"},  {"-3M", "D, BD, W or M"},
      {"+3M", "D, BD, W or M"}, {"3MM", "D, BD, W or M"},  {"3Y", "D, BD, W or M"},
      {"D3", "D, BD, W or M"},  {"3.5M", "D, BD, W or M"}, {"3B", "D, BD, W or M"},
      {"3DB", "D, BD, W or M"},
  };
  for (const auto& [text, rule] : bad) {
    auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::invalid_input) << text;
    ASSERT_EQ(parsed.error().fields.size(), 1u) << text;
    EXPECT_EQ(parsed.error().fields[0].field, "duration") << text;
    EXPECT_NE(parsed.error().fields[0].message.find(rule), std::string::npos)
        << text << ": " << parsed.error().fields[0].message;
  }
}

TEST(Calendar, DurationsInGermanWithSingularForms) {
  const std::pair<Duration, const char*> rows[] = {
      {n_days(1), "1 Tag"},
      {n_days(14), "14 Tage"},
      {n_business_days(1), "1 Arbeitstag"},
      {n_business_days(10), "10 Arbeitstage"},
      {n_weeks(1), "1 Woche"},
      {n_weeks(2), "2 Wochen"},
      {n_months(1), "1 Monat"},
      {n_months(3), "3 Monate"},
  };
  for (const auto& [duration, text] : rows) {
    EXPECT_EQ(format_duration_de(duration), text) << format_duration(duration);
  }
}

}  // namespace
}  // namespace mvsp::core
