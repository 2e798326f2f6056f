// The editor's plain-text forms of an online service's settings, table by table.
#include <gtest/gtest.h>

#include <mvsp/catalog/editor_text.hpp>

namespace mvsp::catalog::editor_text {
namespace {

TEST(EditorText, Fees) {
  const std::pair<const char*, std::optional<std::int64_t>> cases[] = {
      {"", 0},
      {"  ", 0},
      {"26", 2600},
      {"26,5", 2650},
      {"26,50", 2650},
      {"26.05", 2605},
      {" 0,99 ", 99},
      {"1000000", 100'000'000},
      {"1000000,00", 100'000'000},
      {"1000000,01", std::nullopt},  // above the catalog's bound
      {"10000000", std::nullopt},
      {"26,505", std::nullopt},  // a third decimal is not a cent
      {"-1", std::nullopt},
      {"+1", std::nullopt},
      {"1e3", std::nullopt},
      {"0x10", std::nullopt},
      {"nan", std::nullopt},
      {"inf", std::nullopt},
      {"1 000", std::nullopt},
      {"1.000,00", std::nullopt},
      {",50", std::nullopt},
      {"5,", std::nullopt},
      {"26 €", std::nullopt},
      {"99999999999999999999", std::nullopt},
  };
  for (const auto& [text, cents] : cases) EXPECT_EQ(parse_fee(text), cents) << '"' << text << '"';
  EXPECT_EQ(format_fee(2650), "26,50");
  EXPECT_EQ(format_fee(5), "0,05");
  EXPECT_EQ(parse_fee(format_fee(123456)), 123456) << "what is shown reads back";
}

TEST(EditorText, Days) {
  EXPECT_EQ(parse_days("365"), 365);
  EXPECT_EQ(parse_days(" 30 "), 30);
  EXPECT_EQ(parse_days("99999"), 99999) << "the catalog checks the range";
  for (const char* bad : {"", "-1", "1.5", "123456", "30 Tage", "0x1f"}) {
    EXPECT_FALSE(parse_days(bad)) << bad;
  }
}

TEST(EditorText, Documents) {
  auto docs = parse_documents(
      "Lageplan; application/pdf, image/png; 10; Pflicht\r\n\n  "
      "Vollmacht;application/pdf;1;optional ");
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].name, "Lageplan");
  EXPECT_EQ((*docs)[0].types, (std::vector<std::string>{"application/pdf", "image/png"}));
  EXPECT_EQ((*docs)[0].max_bytes, 10 * 1024 * 1024);
  EXPECT_TRUE((*docs)[0].required);
  EXPECT_FALSE((*docs)[1].required);
  EXPECT_EQ(format_documents(*docs),
            "Lageplan; application/pdf, image/png; 10; Pflicht\n"
            "Vollmacht; application/pdf; 1; optional");
  EXPECT_EQ(parse_documents(format_documents(*docs))->size(), 2u) << "what is shown reads back";
  EXPECT_TRUE(parse_documents("")->empty());
  // "mehrere": several files may answer the document
  auto several = parse_documents("Nachweise; application/pdf; 5; optional; mehrere");
  ASSERT_TRUE(several);
  EXPECT_TRUE((*several)[0].multiple);
  EXPECT_FALSE((*docs)[0].multiple);
  EXPECT_EQ(format_documents(*several), "Nachweise; application/pdf; 5; optional; mehrere");
  for (const char* bad :
       {"Lageplan; application/pdf; 10",            // a part missing
        "; application/pdf; 10; Pflicht",           // no name
        "Lageplan; ; 10; Pflicht",                  // no media type
        "Lageplan; application/pdf,; 10; Pflicht",  // an empty media type
        "Lageplan; application/pdf; 0; Pflicht", "Lageplan; application/pdf; 101; Pflicht",
        "Lageplan; application/pdf; 10abc; Pflicht", "Lageplan; application/pdf; -5; Pflicht",
        "Lageplan; application/pdf; 99999999999; Pflicht", "Lageplan; application/pdf; 10; ja",
        "Lageplan; application/pdf; 10; Pflicht; mehr"}) {
    EXPECT_FALSE(parse_documents(bad)) << bad;
  }
  // A limit set in bytes through the API shows as whole MB, rounded up.
  EXPECT_EQ(format_documents({{"Foto", {"image/jpeg"}, 500 * 1024, true}}),
            "Foto; image/jpeg; 1; Pflicht");
}

TEST(EditorText, LinesAndParts) {
  EXPECT_EQ(lines_of(" a \r\n\r\n b\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(lines_of("\n \n").empty());
  EXPECT_EQ(split("de, en,,fr", ','), (std::vector<std::string>{"de", "en", "", "fr"}));
}

}  // namespace
}  // namespace mvsp::catalog::editor_text
