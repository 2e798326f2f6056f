#include <gtest/gtest.h>

#include <mvsp/core/clock.hpp>
#include <mvsp/core/text.hpp>

namespace mvsp::core {
namespace {

TEST(Text, FoldsCaseIncludingGermanCapitals) {
  EXPECT_EQ(fold_case("Ückeritz"), "ückeritz");
  EXPECT_EQ(fold_case("ÄRGER ÖL"), "ärger öl");
  EXPECT_EQ(fold_case("Straße"), "straße");
  EXPECT_EQ(fold_case("Bad Doberan-Süd"), "bad doberan-süd");
  EXPECT_EQ(fold_case(""), "");
}

}  // namespace
}  // namespace mvsp::core

namespace mvsp::core {
namespace {

TEST(Text, OneLineHasNoLineBreakOrControlCharacter) {
  EXPECT_TRUE(is_single_line(""));
  EXPECT_TRUE(is_single_line("Hundesteuer\t2027 – Bescheid für Jürgen"));
  EXPECT_FALSE(is_single_line("a\r\nBcc: b"));
  EXPECT_FALSE(is_single_line("a\nb"));
  EXPECT_FALSE(is_single_line("a\rb"));
  EXPECT_FALSE(is_single_line(std::string("a\0b", 3)));
  EXPECT_FALSE(is_single_line("a\x1b[31m"));
  EXPECT_FALSE(is_single_line("a\x7f"));
}

TEST(Text, FillsPlaceholdersInOnePass) {
  const std::pair<const char*, const char*> cases[] = {
      {"Hallo {name}, hier: {link}", "Hallo Anna, hier: https://x/l"},
      {"{link}{link}", "https://x/lhttps://x/l"},
      {"{unbekannt} bleibt", "{unbekannt} bleibt"},
      {"{\"json\": {\"a\": 1}}", "{\"json\": {\"a\": 1}}"},
      {"offen { und {name", "offen { und {name"},
      {"", ""},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(fill_placeholders(text, {{"name", "Anna"}, {"link", "https://x/l"}}), expected)
        << text;
  }
  // A value that looks like a placeholder stays as it is (a name a person typed).
  EXPECT_EQ(fill_placeholders("{organisation}: {link}",
                              {{"organisation", "Laden {link}"}, {"link", "https://x"}}),
            "Laden {link}: https://x");
}

}  // namespace
}  // namespace mvsp::core

namespace mvsp::core {
namespace {

TEST(Utf8, WellFormedTextIsToldFromBrokenBytesWhichAreReplaced) {
  struct Case {
    std::string text;
    bool valid;
    std::string repaired;
  };
  const Case cases[] = {
      {"Grüße aus Güstrow 😀", true, "Grüße aus Güstrow 😀"},
      {"a\xff"
       "b",
       false,
       "a\xEF\xBF\xBD"
       "b"},
      {"\xC3", false, "\xEF\xBF\xBD"},                                  // cut off
      {"\xC0\xAF", false, "\xEF\xBF\xBD\xEF\xBF\xBD"},                  // overlong '/'
      {"\xED\xA0\x80", false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // a surrogate
      {"\xF4\x90\x80\x80", false,
       "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // > U+10FFFF
      {"", true, ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(valid_utf8(c.text), c.valid) << c.text;
    EXPECT_EQ(repair_utf8(c.text), c.repaired) << c.text;
    EXPECT_TRUE(valid_utf8(repair_utf8(c.text)));
  }
}

}  // namespace
}  // namespace mvsp::core

namespace mvsp::core {
namespace {

TEST(Text, TruncateUtf8CutsAtAWholeCharacter) {
  EXPECT_EQ(truncate_utf8("Hündin", 100), "Hündin");
  EXPECT_EQ(truncate_utf8("Hündin", 2), "H");   // "ü" does not fit whole
  EXPECT_EQ(truncate_utf8("Hündin", 3), "Hü");  // it does, exactly
  EXPECT_EQ(truncate_utf8("Hündin", 0), "");
}

TEST(Text, GermanDays) {
  EXPECT_EQ(format_day_de("2026-12-17"), "17.12.2026");
  EXPECT_EQ(format_day_de(""), "");
  EXPECT_EQ(format_day_de("morgen"), "morgen");
}

}  // namespace
}  // namespace mvsp::core
