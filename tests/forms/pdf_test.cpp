// The PDF of a filled form, read back with poppler and qpdf as an auditor would: tagged,
// a structure tree of headings and the answers in order, the language, the title shown,
// the PDF/UA identification, fonts embedded, every answer (umlauts too) in the text.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/pdf.hpp>
#include <mvsp/web/templates.hpp>
#include <regex>

#include "support.hpp"

namespace mvsp::forms {
namespace {

using test::output_of;

class Pdf : public ::testing::Test {
 protected:
  void SetUp() override {
    texts_.add(embedded_resources());
    for (auto json : demo_forms()) {
      auto f = parse_form(json);
      if (f && f->key == "hundesteuer-anmelden") form_ = *f;
    }
    ASSERT_FALSE(form_.key.empty());
  }
  std::string write(const std::string& pdf) {
    auto path = (dir_.path() / "form.pdf").string();
    std::ofstream(path, std::ios::binary) << pdf;
    return path;
  }
  Answers filled() const {
    return {{"_done", "wohnort\nhalter\nhunde\nermaessigung\nzahlung\nerklaerung"},
            {"im_gemeindegebiet", "ja"},
            {"name.vorname", "Jürgen"},
            {"name.nachname", "Müller-Lüdenscheidt"},
            {"geburtsdatum", "1961-04-12"},
            {"anschrift.strasse", "Schloßstraße"},
            {"anschrift.hausnummer", "7"},
            {"anschrift.plz", "19053"},
            {"anschrift.ort", "Schwerin"},
            {"email", "juergen@example.org"},
            {"hunde", "2"},
            {"hunde[0].rufname", "Bello"},
            {"hunde[0].rasse", "Dackel"},
            {"hunde[0].geschlecht", "m"},
            {"hunde[0].wurfdatum", "2020-05-01"},
            {"hunde[0].haltung_seit", "2026-09-01"},
            {"hunde[0].gefaehrlich", "nein"},
            {"hunde[1].rufname", "Zora"},
            {"hunde[1].rasse", "Schäferhund"},
            {"hunde[1].geschlecht", "w"},
            {"hunde[1].wurfdatum", "2019-02-10"},
            {"hunde[1].haltung_seit", "2026-11-15"},
            {"hunde[1].gefaehrlich", "ja"},
            {"hunde[1].erlaubnis_datum", "2026-11-20"},
            {"ermaessigung_beantragt", "nein"},
            {"lastschrift", "nein"},
            {"richtig", "ja"}};
  }
  web::Catalog texts_;
  Form form_;
  test::TempDir dir_;
};

TEST_F(Pdf, AFilledFormIsATaggedAccessiblePdfWithEveryAnswer) {
  Filling f(form_, texts_, {.now = core::from_millis(1'796'295'600'000)});
  auto answers = filled();
  ASSERT_TRUE(f.finish(answers));
  auto path = write(render_pdf(pdf_document(form_, 1, f, answers, "MV-35CA3-4HFYVHOK",
                                            core::from_millis(1'796'295'600'000))));
  auto info = output_of("pdfinfo " + path);
  EXPECT_NE(info.find("Tagged:          yes"), std::string::npos) << info;
  EXPECT_NE(info.find("Title:           Hund zur Hundesteuer anmelden"), std::string::npos);
  EXPECT_NE(info.find("Metadata Stream: yes"), std::string::npos);

  auto check = output_of("qpdf --check " + path);
  EXPECT_NE(check.find("No syntax or stream encoding errors found"), std::string::npos) << check;
  auto trailer = output_of("qpdf --show-object=trailer " + path);
  std::smatch root;
  ASSERT_TRUE(std::regex_search(trailer, root, std::regex(R"(/Root (\d+) 0 R)"))) << trailer;
  auto catalog = output_of("qpdf --show-object=" + root[1].str() + " " + path);
  EXPECT_NE(catalog.find("/Lang (de-DE)"), std::string::npos) << catalog;
  EXPECT_NE(catalog.find("/DisplayDocTitle true"), std::string::npos);
  EXPECT_NE(catalog.find("/Marked true"), std::string::npos);
  EXPECT_NE(catalog.find("/Outlines"), std::string::npos) << "bookmarks";
  auto meta = output_of("pdfinfo -meta " + path);
  EXPECT_NE(meta.find("<pdfuaid:part>1</pdfuaid:part>"), std::string::npos);

  auto fonts = output_of("pdffonts " + path);
  EXPECT_EQ(fonts.find(" no "), std::string::npos) << "every font embedded:\n" << fonts;

  // the structure: the title, then per page of the form a heading and a table of answers
  auto structure = output_of("pdfinfo -struct-text " + path);
  auto h1 = structure.find("H1");
  auto first_h2 = structure.find("H2");
  EXPECT_LT(h1, first_h2);
  EXPECT_NE(structure.find("\"Angaben zu Ihren Hunden\""), std::string::npos)
      << structure.substr(0, 2000);
  auto bello = structure.find("\"Bello\"");
  auto zora = structure.find("\"Zora\"");
  EXPECT_LT(bello, zora) << "the answers in order";
  EXPECT_NE(structure.find("TH"), std::string::npos);
  EXPECT_NE(structure.find("TD"), std::string::npos);

  auto text = output_of("pdftotext " + path + " -");
  for (const char* expected :
       {"Müller-Lüdenscheidt", "Schloßstraße 7", "19053 Schwerin", "Schäferhund", "20.11.2026",
        "MV-35CA3-4HFYVHOK", "Eingereicht am 03.12.2026, 12:00 Uhr", "720"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
}

TEST_F(Pdf, WithoutAnswersItIsTheEmptyFormToFillByHand) {
  Filling f(form_, texts_, {.now = core::from_millis(1'796'295'600'000)});
  auto path = write(render_pdf(pdf_document(form_, 1, f, {})));
  auto text = output_of("pdftotext " + path + " -");
  EXPECT_NE(text.find("Bankverbindung für die Lastschrift"), std::string::npos)
      << "every page, also conditional ones";
  EXPECT_NE(text.find("Name des Hundes (Hund)"), std::string::npos);
  EXPECT_EQ(text.find("Nicht angegeben"), std::string::npos);
  EXPECT_NE(output_of("pdfinfo " + path).find("Tagged:          yes"), std::string::npos);
  // the boxes to write in are artifacts, out of the structure
  auto qdf = output_of("qpdf --qdf --object-streams=disable " + path + " -");
  EXPECT_NE(qdf.find("/Artifact << /Type /Layout >> BDC"), std::string::npos);
  auto structure = output_of("pdfinfo -struct-text " + path);
  EXPECT_EQ(structure.find("NonStruct"), std::string::npos);
  EXPECT_NE(structure.find("TD"), std::string::npos) << "the empty answer cells stay";
  EXPECT_NE(output_of("qpdf --check " + path).find("No syntax or stream encoding errors found"),
            std::string::npos);
}

TEST_F(Pdf, AFigureIsTaggedWithItsTextAlternativeAfterTheSections) {
  PdfDocument d;
  d.title = "Abbildung";
  d.facts = {"Eine Tatsache"};
  d.sections = {{"p", "Abschnitt", {{"a", "Feld", "Wert", "p", "", false}}}};
  // a checkerboard of 21 modules, the size of the smallest QR code
  PdfFigure figure;
  figure.modules.assign(21, std::vector<bool>(21));
  for (std::size_t r = 0; r < 21; ++r) {
    for (std::size_t c = 0; c < 21; ++c) figure.modules[r][c] = (r + c) % 2 == 0;
  }
  figure.alt = "Schachbrett für Prüfzwecke";
  figure.caption = "Bildunterschrift";
  d.figure = figure;
  auto path = write(render_pdf(d));

  EXPECT_NE(output_of("pdfinfo " + path).find("Tagged:          yes"), std::string::npos);
  auto check = output_of("qpdf --check " + path);
  EXPECT_NE(check.find("No syntax or stream encoding errors found"), std::string::npos) << check;
  // the Figure element after the sections' table, the caption after it
  auto structure = output_of("pdfinfo -struct-text " + path);
  auto table = structure.find("Table");
  auto element = structure.find("Figure");
  auto caption = structure.find("\"Bildunterschrift\"");
  ASSERT_NE(element, std::string::npos) << structure;
  EXPECT_LT(table, element) << structure;
  EXPECT_LT(element, caption) << structure;
  // its /Alt, as a text string qpdf decodes
  auto json = output_of("qpdf --json=2 --json-key=qpdf " + path);
  std::smatch alt;
  ASSERT_TRUE(std::regex_search(
      json, alt, std::regex(R"re("/Alt": "u:([^"]*)",\s*"/K"[^}]*"/S": "/Figure")re")))
      << json;
  EXPECT_EQ(alt[1].str(), "Schachbrett für Prüfzwecke");
}

TEST_F(Pdf, AFigureMustBeSquareAndHaveATextAlternative) {
  PdfDocument d;
  d.title = "Abbildung";
  d.figure = PdfFigure{{{true, false}, {false}}, "Alt", ""};
  EXPECT_THROW(render_pdf(d), core::Failure);
  d.figure = PdfFigure{{{true, false}, {false, true}}, "", ""};
  EXPECT_THROW(render_pdf(d), core::Failure);
  d.figure = PdfFigure{{{true, false}, {false, true}}, "Alt", ""};
  EXPECT_NO_THROW(render_pdf(d));
}

}  // namespace
}  // namespace mvsp::forms
