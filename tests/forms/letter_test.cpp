// The letter (a decision notice) read back with poppler and qpdf as an auditor would: the
// text in reading order, umlauts and ß, pages that flow with their numbers as artifacts,
// the structure tree, the language and title; and the plain text a clerk writes read into
// blocks, odd input included.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <mvsp/core/error.hpp>
#include <mvsp/forms/letter.hpp>
#include <regex>

#include "support.hpp"

namespace mvsp::forms {
namespace {

using test::output_of;

// The positions of `needles` in `haystack`, each searched after the one before; npos from
// the first that is not found in that order.
std::vector<std::size_t> positions_in_order(const std::string& haystack,
                                            const std::vector<std::string>& needles) {
  std::vector<std::size_t> out;
  std::size_t from = 0;
  for (const auto& n : needles) {
    auto at = from == std::string::npos ? std::string::npos : haystack.find(n, from);
    out.push_back(at);
    from = at == std::string::npos ? at : at + n.size();
  }
  return out;
}

// The first needle of `needles` not found after the one before it, or "" when they all are.
std::string out_of_order(const std::string& haystack, const std::vector<std::string>& needles) {
  auto at = positions_in_order(haystack, needles);
  for (std::size_t i = 0; i < needles.size(); ++i) {
    if (at[i] == std::string::npos) return needles[i];
  }
  return "";
}

// The text in the order it is drawn, lines and pages joined with a space (a sentence may
// wrap, a paragraph go on over the page) and without the page numbers (drawn at a page's
// end, read by no one in the middle of a sentence: they are artifacts).
std::string drawn_text(const std::string& path) {
  auto text = output_of("pdftotext -raw " + path + " -");
  text = std::regex_replace(text, std::regex(R"(Seite \d+ von \d+)"), "");
  text = std::regex_replace(text, std::regex("[\n\f]+"), " ");
  return text;
}

int count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

constexpr const char* kBody =
    "Sehr geehrter Herr Müller-Lüdenscheidt,\n"
    "\n"
    "Ihr Hund „Bello“ ist ab dem 1. Januar 2027 zur Hundesteuer angemeldet.\n"
    "\n"
    "## Festsetzung\n"
    "| Hundesteuer 2027 | 120,00 € |\n"
    "| Gebühr für die Steuermarke | 5,00 € |\n"
    "\n"
    "## Rechtsbehelfsbelehrung\n"
    "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Widerspruch erhoben "
    "werden. Der Widerspruch ist bei der Landeshauptstadt Schwerin einzulegen.\n"
    "\n"
    "Mit freundlichen Grüßen\n"
    "Im Auftrag\n"
    "Grete Weiß\n";

PdfLetter notice() {
  PdfLetter l;
  l.title = "Bescheid über die Anmeldung eines Hundes";
  l.sender = {"Landeshauptstadt Schwerin", "Fachdienst Steuern", "Am Packhof 2–6",
              "19053 Schwerin"};
  l.recipient = {"Herrn", "Jürgen Müller-Lüdenscheidt", "Schloßstraße 7", "19055 Schwerin"};
  l.references = {{"Aktenzeichen", "HSt-2026-0815"},
                  {"Ihr Antrag vom", "3. Dezember 2026"},
                  {"Datum", "10. Dezember 2026"}};
  l.body = letter_blocks(kBody);
  l.footer = {
      "Dieses Schreiben wurde elektronisch erstellt und mit dem Siegel der Behörde versehen."};
  return l;
}

class Letter : public ::testing::Test {
 protected:
  std::string write(const std::string& pdf) {
    auto path = (dir_.path() / "letter.pdf").string();
    std::ofstream(path, std::ios::binary) << pdf;
    return path;
  }
  test::TempDir dir_;
};

TEST_F(Letter, ADecisionNoticeReadsInOrderAndIsATaggedAccessiblePdf) {
  auto path = write(render_letter(notice()));

  auto info = output_of("pdfinfo " + path);
  EXPECT_NE(info.find("Tagged:          yes"), std::string::npos) << info;
  EXPECT_NE(info.find("Title:           Bescheid über die Anmeldung eines Hundes"),
            std::string::npos)
      << info;
  EXPECT_NE(info.find("Pages:           1\n"), std::string::npos) << info;
  EXPECT_NE(info.find("Page size:       595.28 x 841.89 pts (A4)"), std::string::npos) << info;
  auto check = output_of("qpdf --check " + path);
  EXPECT_NE(check.find("No syntax or stream encoding errors found"), std::string::npos) << check;
  auto trailer = output_of("qpdf --show-object=trailer " + path);
  std::smatch root;
  ASSERT_TRUE(std::regex_search(trailer, root, std::regex(R"(/Root (\d+) 0 R)"))) << trailer;
  auto catalog = output_of("qpdf --show-object=" + root[1].str() + " " + path);
  EXPECT_NE(catalog.find("/Lang (de-DE)"), std::string::npos) << catalog;
  EXPECT_NE(catalog.find("/DisplayDocTitle true"), std::string::npos) << catalog;
  EXPECT_NE(catalog.find("/Marked true"), std::string::npos) << catalog;
  auto meta = output_of("pdfinfo -meta " + path);
  EXPECT_NE(meta.find("<pdfuaid:part>1</pdfuaid:part>"), std::string::npos) << meta;
  EXPECT_NE(meta.find("Bescheid über die Anmeldung eines Hundes</rdf:li>"), std::string::npos);
  auto fonts = output_of("pdffonts " + path);
  EXPECT_EQ(fonts.find(" no "), std::string::npos) << "every font embedded:\n" << fonts;

  // the text as it is drawn, and as the structure tree reads it
  std::vector<std::string> reading_order = {
      "Landeshauptstadt Schwerin",
      "Fachdienst Steuern",
      "Jürgen Müller-Lüdenscheidt",
      "Schloßstraße 7",
      "Aktenzeichen",
      "HSt-2026-0815",
      "Ihr Antrag vom",
      "3. Dezember 2026",
      "Bescheid über die Anmeldung eines Hundes",
      "Sehr geehrter Herr Müller-Lüdenscheidt,",
      "Ihr Hund „Bello“ ist ab dem 1. Januar 2027",
      "Festsetzung",
      "Hundesteuer 2027",
      "120,00 €",
      "Gebühr für die Steuermarke",
      "5,00 €",
      "Rechtsbehelfsbelehrung",
      "Mit freundlichen Grüßen",
      "Grete Weiß",
      "Dieses Schreiben wurde elektronisch erstellt",
  };
  auto text = drawn_text(path);
  EXPECT_EQ(out_of_order(text, reading_order), "") << text;
  auto structure = output_of("pdfinfo -struct-text " + path);
  EXPECT_EQ(out_of_order(structure, reading_order), "") << structure;

  // the elements, in the order of the letter
  EXPECT_EQ(out_of_order(structure, {"Document",
                                     "P",
                                     "\"Landeshauptstadt Schwerin",
                                     "P",
                                     "\"Herrn",
                                     "Table",
                                     "TR",
                                     "TH",
                                     "\"Aktenzeichen\"",
                                     "TD",
                                     "\"HSt-2026-0815\"",
                                     "H1",
                                     "\"Bescheid",
                                     "P",
                                     "\"Sehr",
                                     "H2",
                                     "\"Festsetzung\"",
                                     "Table",
                                     "TR",
                                     "TH",
                                     "\"Hundesteuer 2027\"",
                                     "TD",
                                     "\"120,00 €\"",
                                     "H2",
                                     "\"Rechtsbehelfsbelehrung\"",
                                     "P",
                                     "\"Dieses Schreiben"}),
            "")
      << structure;
  // the return line in the window repeats the letterhead's name and address: drawn, but
  // an artifact
  EXPECT_NE(text.find("Landeshauptstadt Schwerin · Am Packhof 2–6 · 19053 Schwerin"),
            std::string::npos)
      << text;
  EXPECT_EQ(structure.find("·"), std::string::npos) << structure;
  EXPECT_EQ(structure.find("Private"), std::string::npos) << structure;
  EXPECT_EQ(structure.find("NonStruct"), std::string::npos) << structure;
  // one page: no page number
  EXPECT_EQ(text.find("Seite 1"), std::string::npos) << text;
}

TEST_F(Letter, ALongLetterFlowsOverPagesWithTheirNumbersAsArtifacts) {
  auto letter = notice();
  letter.body.clear();
  for (int i = 1; i <= 200; ++i) {
    if (i % 50 == 1) letter.body.push_back({PdfBlock::heading, fmt::format("Teil {}", i / 50 + 1)});
    letter.body.push_back(
        {PdfBlock::paragraph,
         fmt::format("Absatz {}: Die Prüfung der Unterlagen ergab, dass die Größe des Grundstücks "
                     "und die Maße der Hütte den Anforderungen der Satzung genügen.",
                     i)});
  }
  auto path = write(render_letter(letter));

  auto info = output_of("pdfinfo " + path);
  std::smatch pages_match;
  ASSERT_TRUE(std::regex_search(info, pages_match, std::regex(R"(Pages:\s+(\d+))"))) << info;
  int pages = std::stoi(pages_match[1].str());
  EXPECT_GE(pages, 5) << "200 paragraphs of two lines and more";
  auto check = output_of("qpdf --check " + path);
  EXPECT_NE(check.find("No syntax or stream encoding errors found"), std::string::npos) << check;

  // every page says which of how many it is
  for (int page = 1; page <= pages; ++page) {
    auto text = output_of(fmt::format("pdftotext -f {0} -l {0} {1} -", page, path));
    EXPECT_NE(text.find(fmt::format("Seite {} von {}", page, pages)), std::string::npos)
        << "page " << page << ":\n"
        << text;
  }
  // all paragraphs, in order, the footer after the last
  std::vector<std::string> order;
  for (int i = 1; i <= 200; ++i) order.push_back(fmt::format("Absatz {}:", i));
  order.emplace_back("Dieses Schreiben wurde elektronisch erstellt");
  auto text = drawn_text(path);
  EXPECT_EQ(out_of_order(text, order), "") << text;
  EXPECT_NE(text.find("Größe des Grundstücks"), std::string::npos);
  auto last = output_of(fmt::format("pdftotext -f {0} -l {0} {1} -", pages, path));
  EXPECT_NE(last.find("Dieses Schreiben wurde elektronisch erstellt"), std::string::npos) << last;

  // the page numbers are artifacts: drawn as pagination, absent from the structure
  auto structure = output_of("pdfinfo -struct-text " + path);
  EXPECT_EQ(out_of_order(structure, order), "") << structure.substr(0, 3000);
  EXPECT_EQ(structure.find("Seite"), std::string::npos);
  EXPECT_EQ(count(structure, "\n  H2"), 4) << structure.substr(0, 3000);
  auto qdf = output_of("qpdf --qdf --object-streams=disable " + path + " -");
  EXPECT_EQ(count(qdf, "/Artifact << /Type /Pagination >> BDC"), pages);
  EXPECT_EQ(count(qdf, "/Private"), 0) << "no mark of cairo's tag left";
}

TEST_F(Letter, AParagraphTooLongForThePageIsBrokenBetweenLinesAndStaysOneParagraph) {
  auto letter = notice();
  std::string sentences;
  for (int i = 1; i <= 120; ++i) sentences += fmt::format("Satz {} des langen Absatzes. ", i);
  letter.body = {{PdfBlock::paragraph, "Vorweg."}, {PdfBlock::paragraph, sentences}};
  auto path = write(render_letter(letter));

  auto info = output_of("pdfinfo " + path);
  EXPECT_NE(info.find("Pages:           2\n"), std::string::npos) << info;
  std::vector<std::string> order;
  for (int i = 1; i <= 120; ++i) order.push_back(fmt::format("Satz {} ", i));
  EXPECT_EQ(out_of_order(drawn_text(path), order), "");
  // one P of two Spans, a page each (poppler shows an element's text only up to the end of
  // its first line: cairo marks the space where a line wraps as nested marked content)
  auto structure = output_of("pdfinfo -struct-text " + path);
  EXPECT_EQ(out_of_order(structure, {"\"Vorweg.\"", "P", "Span", "\"Satz 1 ", "Span", "P",
                                     "\"Dieses Schreiben"}),
            "")
      << structure;
  EXPECT_EQ(count(structure, "Span"), 2) << structure;
  auto second = output_of(fmt::format("pdftotext -f 2 -l 2 {} -", path));
  EXPECT_NE(second.find("Satz 120 des langen Absatzes."), std::string::npos) << second;
  EXPECT_EQ(second.find("Vorweg."), std::string::npos) << second;
}

TEST_F(Letter, OnlyATitleIsNeeded) {
  PdfLetter letter;
  letter.title = "Mitteilung";
  letter.language = "en-GB";
  auto path = write(render_letter(letter));
  EXPECT_NE(output_of("pdfinfo " + path).find("Tagged:          yes"), std::string::npos);
  EXPECT_NE(output_of("qpdf --check " + path).find("No syntax or stream encoding errors found"),
            std::string::npos);
  auto trailer = output_of("qpdf --show-object=trailer " + path);
  std::smatch root;
  ASSERT_TRUE(std::regex_search(trailer, root, std::regex(R"(/Root (\d+) 0 R)"))) << trailer;
  EXPECT_NE(output_of("qpdf --show-object=" + root[1].str() + " " + path).find("/Lang (en-GB)"),
            std::string::npos);
  EXPECT_NE(output_of("pdfinfo -struct-text " + path).find("\"Mitteilung\""), std::string::npos);

  letter.title.clear();
  EXPECT_THROW(render_letter(letter), core::Failure);
}

// letter_blocks: the plain text of a clerk or a template as blocks.

using Rows = std::vector<std::pair<std::string, std::string>>;

PdfBlock heading(std::string text) {
  return {PdfBlock::heading, std::move(text), {}};
}
PdfBlock paragraph(std::string text) {
  return {PdfBlock::paragraph, std::move(text), {}};
}
PdfBlock table(Rows rows) {
  return {PdfBlock::table, {}, std::move(rows)};
}

std::string describe(const std::vector<PdfBlock>& blocks) {
  std::string out;
  for (const auto& b : blocks) {
    switch (b.kind) {
      case PdfBlock::heading:
        out += "H[" + b.text + "]";
        break;
      case PdfBlock::paragraph:
        out += "P[" + b.text + "]";
        break;
      case PdfBlock::table:
        out += "T[";
        for (const auto& [l, v] : b.rows) out += l + "=" + v + ";";
        out += "]";
        break;
    }
  }
  return out;
}

struct BlocksCase {
  const char* name;
  std::string text;
  std::vector<PdfBlock> expected;
};

class LetterBlocks : public ::testing::TestWithParam<BlocksCase> {};

TEST_P(LetterBlocks, ReadsTheText) {
  EXPECT_EQ(describe(letter_blocks(GetParam().text)), describe(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LetterBlocks,
    ::testing::Values(
        BlocksCase{"empty", "", {}}, BlocksCase{"only_blank_lines", " \n\t\n\r\n", {}},
        BlocksCase{"paragraphs",
                   "Erster Absatz,\nzweite Zeile.\n\nZweiter Absatz.",
                   {paragraph("Erster Absatz,\nzweite Zeile."), paragraph("Zweiter Absatz.")}},
        BlocksCase{"several_blank_lines", "\n\nA\n\n\n\nB\n\n", {paragraph("A"), paragraph("B")}},
        BlocksCase{"heading",
                   "## Begründung\nDer Antrag ist vollständig.",
                   {heading("Begründung"), paragraph("Der Antrag ist vollständig.")}},
        BlocksCase{"heading_ends_a_paragraph",
                   "Text\n## Zwischentitel\nMehr",
                   {paragraph("Text"), heading("Zwischentitel"), paragraph("Mehr")}},
        BlocksCase{"not_a_heading",
                   "##Kein Titel\n# Auch nicht\n###  Nein",
                   {paragraph("##Kein Titel\n# Auch nicht\n###  Nein")}},
        BlocksCase{"table",
                   "| Hundesteuer 2027 | 120,00 € |\n| Steuermarke | 5,00 € |",
                   {table({{"Hundesteuer 2027", "120,00 €"}, {"Steuermarke", "5,00 €"}})}},
        BlocksCase{"table_between_text_without_blank_lines",
                   "Festgesetzt wird:\n| Steuer | 120,00 € |\nZahlbar bis 15. Februar.",
                   {paragraph("Festgesetzt wird:"), table({{"Steuer", "120,00 €"}}),
                    paragraph("Zahlbar bis 15. Februar.")}},
        BlocksCase{
            "two_tables", "| a | 1 |\n\n| b | 2 |", {table({{"a", "1"}}), table({{"b", "2"}})}},
        BlocksCase{"empty_cell", "|  | 5,00 € |", {table({{"", "5,00 €"}})}},
        BlocksCase{"crlf",
                   "## Titel\r\nZeile eins\r\nZeile zwei\r\n\r\n| a | b |\r\n",
                   {heading("Titel"), paragraph("Zeile eins\nZeile zwei"), table({{"a", "b"}})}},
        BlocksCase{"cr_only", "A\rB\r\rC", {paragraph("A\nB"), paragraph("C")}},
        BlocksCase{"spaces_at_the_ends",
                   "  ## Titel  \t\n  Text   \n   \n\t| a |  b  |  ",
                   {heading("Titel"), paragraph("Text"), table({{"a", "b"}})}},
        BlocksCase{"byte_order_mark", "\xEF\xBB\xBF## Titel", {heading("Titel")}},
        BlocksCase{"lone_bar", "|", {paragraph("|")}},
        BlocksCase{"bars_that_are_no_row",
                   "||\n| a |\n| a | b | c |\n|a|b",
                   {paragraph("||\n| a |\n| a | b | c |\n|a|b")}},
        BlocksCase{"umlauts_survive",
                   "Grüße aus Güstrow, Maß für Maß.",
                   {paragraph("Grüße aus Güstrow, Maß für Maß.")}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mvsp::forms
