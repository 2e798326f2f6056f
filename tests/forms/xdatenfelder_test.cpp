// Importing FIM XDatenfelder files as forms: every valid reference file becomes a form that
// passes the check and renders, with the counts it should have; every invalid one is
// refused naming the line and the reason; a DOCTYPE reads no file; what the form model
// cannot express is reported, never dropped.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <fstream>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/xdatenfelder.hpp>
#include <mvsp/web/templates.hpp>

#include "support.hpp"

namespace mvsp::forms {
namespace {

constexpr const char* kReference = "interop/xdatenfelder";

std::string reference_dir() {
  return test::reference_dir() + "/" + kReference;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string reference(const std::string& name) {
  return file_text(reference_dir() + "/" + name);
}

std::optional<std::string> no_code_lists(std::string_view) {
  return std::nullopt;
}

// 3 December 2026, noon in Germany.
core::TimePoint today() {
  return core::from_millis(1'796'295'600'000);
}

// "line N" of the first line of `text` that contains `needle`.
std::string line_with(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return fmt::format("line {}", 1 + std::count(text.begin(), text.begin() + at, '\n'));
}

std::string problems(const core::Error& e) {
  std::string out = e.message;
  for (const auto& f : e.fields) out += "\n  " + f.field + ": " + f.message;
  return out;
}

// ---- XDatenfelder 3.0.0 built in the test, one element per line ----

std::string field3(const std::string& id, const std::string& name, const std::string& feldart,
                   const std::string& datentyp, const std::string& count = "1:1",
                   const std::string& extra = "") {
  return fmt::format(R"(<xdf:struktur>
<xdf:anzahl>{}</xdf:anzahl>
<xdf:enthaelt>
<xdf:datenfeld>
<xdf:identifikation><xdf:id>{}</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
<xdf:name>{}</xdf:name>
<xdf:freigabestatus><code>6</code></xdf:freigabestatus>
<xdf:bezeichnungEingabe>{}</xdf:bezeichnungEingabe>
<xdf:feldart><code>{}</code></xdf:feldart>
<xdf:datentyp><code>{}</code></xdf:datentyp>
{}
</xdf:datenfeld>
</xdf:enthaelt>
</xdf:struktur>
)",
                     count, id, name, name, feldart, datentyp, extra);
}

std::string group3(const std::string& id, const std::string& name, const std::string& count,
                   const std::string& inside, const std::string& hint = "") {
  return fmt::format(R"(<xdf:struktur>
<xdf:anzahl>{}</xdf:anzahl>
<xdf:enthaelt>
<xdf:datenfeldgruppe>
<xdf:identifikation><xdf:id>{}</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
<xdf:name>{}</xdf:name>
<xdf:freigabestatus><code>6</code></xdf:freigabestatus>
<xdf:bezeichnungEingabe>{}</xdf:bezeichnungEingabe>
<xdf:hilfetextEingabe>{}</xdf:hilfetextEingabe>
{}</xdf:datenfeldgruppe>
</xdf:enthaelt>
</xdf:struktur>
)",
                     count, id, name, name, hint, inside);
}

std::string message3(const std::string& inside, const std::string& name = "Hundehaltung") {
  return fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.datenfeldgruppe.0103 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">
<xdf:header><xdf:nachrichtID>1</xdf:nachrichtID></xdf:header>
<xdf:datenfeldgruppe>
<xdf:identifikation><xdf:id>G100</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
<xdf:name>{}</xdf:name>
<xdf:freigabestatus><code>6</code></xdf:freigabestatus>
<xdf:bezeichnungEingabe>{}</xdf:bezeichnungEingabe>
{}</xdf:datenfeldgruppe>
</xdf:xdatenfelder.datenfeldgruppe.0103>
)",
                     name, name, inside);
}

// ---- XDatenfelder 2.0 with a code list reference ----

std::string select2(const std::string& praezisierung = "") {
  return fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_2">
<xdf:stammdatenschema>
<xdf:identifikation><xdf:id>S1</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
<xdf:name>Kfz-Zulassung</xdf:name>
<xdf:status><code>aktiv</code></xdf:status>
<xdf:struktur>
<xdf:anzahl>1:1</xdf:anzahl>
<xdf:enthaelt>
<xdf:datenfeld>
<xdf:identifikation><xdf:id>F1</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
<xdf:name>Fahrzeugart</xdf:name>
<xdf:bezeichnungEingabe>Art des Fahrzeugs</xdf:bezeichnungEingabe>
<xdf:status><code>aktiv</code></xdf:status>
<xdf:feldart><code>select</code></xdf:feldart>
<xdf:datentyp><code>text</code></xdf:datentyp>
<xdf:praezisierung>{}</xdf:praezisierung>
<xdf:codelisteReferenz>
<xdf:identifikation><xdf:id>C1</xdf:id></xdf:identifikation>
<xdf:genericodeIdentification>
<xdf:canonicalIdentification>urn:de:test:fahrzeugart</xdf:canonicalIdentification>
<xdf:version>1</xdf:version>
<xdf:canonicalVersionUri>urn:de:test:fahrzeugart_1</xdf:canonicalVersionUri>
</xdf:genericodeIdentification>
</xdf:codelisteReferenz>
</xdf:datenfeld>
</xdf:enthaelt>
</xdf:struktur>
</xdf:stammdatenschema>
</xdf:xdatenfelder.stammdatenschema.0102>
)",
                     praezisierung);
}

constexpr const char* kGenericode = R"(<?xml version="1.0" encoding="UTF-8"?>
<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/">
  <Identification>
    <ShortName>Fahrzeugart</ShortName>
    <CanonicalUri>urn:de:test:fahrzeugart</CanonicalUri>
    <CanonicalVersionUri>urn:de:test:fahrzeugart_1</CanonicalVersionUri>
  </Identification>
  <ColumnSet>
    <Column Id="Schluessel" Use="required"><ShortName>Schlüssel</ShortName></Column>
    <Column Id="Beschreibung" Use="required"><ShortName>Beschreibung</ShortName></Column>
    <Key Id="SchluesselKey"><ShortName>Key</ShortName><ColumnRef Ref="Schluessel"/></Key>
  </ColumnSet>
  <SimpleCodeList>
    <Row><Value ColumnRef="Schluessel"><SimpleValue>pkw</SimpleValue></Value>
         <Value ColumnRef="Beschreibung"><SimpleValue>Personenkraftwagen</SimpleValue></Value></Row>
    <Row><Value><SimpleValue>krad</SimpleValue></Value><Value><SimpleValue>Kraftrad</SimpleValue></Value></Row>
    <Row><Value ColumnRef="Schluessel"><SimpleValue>pkw</SimpleValue></Value>
         <Value ColumnRef="Beschreibung"><SimpleValue>doppelt</SimpleValue></Value></Row>
  </SimpleCodeList>
</gc:CodeList>
)";

bool reported(const ImportReport& r, const std::string& what, const std::string& reason) {
  return std::any_of(r.unmapped.begin(), r.unmapped.end(), [&](const ImportReport::Unmapped& u) {
    return u.what.find(what) != std::string::npos && u.reason.find(reason) != std::string::npos;
  });
}

std::string unmapped(const ImportReport& r) {
  std::string out;
  for (const auto& u : r.unmapped) out += "\n  " + u.what + ": " + u.reason;
  return out;
}

class Xdatenfelder : public ::testing::Test {
 protected:
  void SetUp() override {
    texts_.add(embedded_resources());
    templates_.add("forms", embedded_resources());
  }
  Imported imported(const std::string& xml, const CodeListSource& code_lists = no_code_lists) {
    auto i = import_xdatenfelder(xml, code_lists);
    EXPECT_TRUE(i) << (i ? "" : problems(i.error()));
    return i ? *i : Imported{};
  }
  // A page as the citizen sees it, through the page template.
  std::string html(const Form& form, const std::string& page) {
    Filling f(form, texts_, {.now = today()});
    auto view = f.page_view(page, {}, nullptr, nullptr);
    return templates_.render("forms/page", view, {}, &texts_, "de");
  }
  web::Catalog texts_;
  web::Templates templates_;
};

TEST_F(Xdatenfelder, EveryValidReferenceFileBecomesAFormThatIsCheckedAndRenders) {
  if (!test::reference_available(kReference)) GTEST_SKIP() << "no XDatenfelder files";
  struct Case {
    const char* file;
    const char* key;
    int pages, groups, fields, rules, code_lists, unmapped;
    QuestionType first;
    const char* label;  // the first question's
  };
  const Case cases[] = {
      {"v2/data-field-rule.xml", "t1234-test", 1, 0, 1, 1, 0, 1, QuestionType::text, "Hinweis"},
      {"v2/data-group-rule.xml", "t1234-test", 1, 1, 0, 1, 0, 3, QuestionType::info, ""},
      {"v2/label.xml", "t1234-test", 1, 0, 1, 0, 0, 0, QuestionType::info, "Hinweis"},
      {"v2/minimal.xml", "t1234-test", 1, 0, 0, 0, 0, 1, QuestionType::info, ""},
      {"v2/rule.xml", "t1234-test", 1, 0, 0, 1, 0, 2, QuestionType::info, ""},
      {"v2/select.xml", "t1234-test", 1, 0, 1, 0, 0, 1, QuestionType::text, "Hinweis"},
      {"v2/simple.xml", "t1234-test", 1, 1, 1, 1, 0, 1, QuestionType::text, "Familienname"},
      {"v3/input.xml", "g60000000088-anschrift-inland", 1, 0, 1, 0, 0, 5, QuestionType::text,
       "Straße"},
      {"v3/simple.xml", "g60000000088-anschrift-inland", 1, 1, 1, 1, 0, 2, QuestionType::text,
       "Straße"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto i = imported(reference(c.file));
    const auto& r = i.report;
    EXPECT_EQ(r.form, c.key);
    EXPECT_EQ(i.form.key, c.key);
    EXPECT_EQ(r.pages, c.pages);
    EXPECT_EQ(r.groups, c.groups);
    EXPECT_EQ(r.fields, c.fields);
    EXPECT_EQ(r.rules, c.rules);
    EXPECT_EQ(r.code_lists, c.code_lists);
    EXPECT_EQ(static_cast<int>(r.unmapped.size()), c.unmapped) << unmapped(r);
    ASSERT_EQ(static_cast<int>(i.form.pages.size()), c.pages);
    ASSERT_FALSE(i.form.pages.front().questions.empty());
    const auto& q = i.form.pages.front().questions.front();
    EXPECT_EQ(q.type, c.first);
    EXPECT_EQ(q.label, c.label);
    EXPECT_TRUE(check_form(i.form));
    auto again = parse_form(to_json(i.form));
    ASSERT_TRUE(again) << problems(again.error());
    EXPECT_EQ(to_json(*again), to_json(i.form));
    auto page = html(i.form, i.form.pages.front().id);
    EXPECT_NE(page.find(i.form.pages.front().title), std::string::npos);
    EXPECT_NE(page.find(q.type == QuestionType::info ? q.text : q.label), std::string::npos)
        << page;
  }
}

TEST_F(Xdatenfelder, TheReferenceFilesCarryTheirLabelsLimitsHelpAndRules) {
  if (!test::reference_available(kReference)) GTEST_SKIP() << "no XDatenfelder files";
  auto v2 = imported(reference("v2/simple.xml")).form;
  EXPECT_EQ(v2.title, "Test");
  EXPECT_EQ(v2.pages[0].title, "Natürliche Person");
  const auto& name = v2.pages[0].questions[0];
  EXPECT_EQ(name.id, "familienname");
  EXPECT_EQ(name.xml_name, "F60000227");
  EXPECT_EQ(name.hint, "Hilfe Eingabe");
  EXPECT_TRUE(name.required);
  EXPECT_EQ(name.min_length, 1);
  EXPECT_EQ(name.max_length, 120);

  auto v3 = imported(reference("v3/simple.xml"));
  EXPECT_EQ(v3.form.title, "Anschrift in Deutschland");
  EXPECT_EQ(v3.form.outputs.xml_root, "G60000000088");
  const auto& page = v3.form.pages[0];
  EXPECT_EQ(page.title, "Straßenanschrift");
  EXPECT_EQ(page.hint.rfind("Geben Sie die Anschrift mit Straße", 0), 0u);
  const auto& street = page.questions[0];
  EXPECT_EQ(street.id, "strasse");
  EXPECT_EQ(street.hint, "Geben Sie an, wie die Straße heißt.");
  EXPECT_EQ(street.max_length, 55);
  EXPECT_FALSE(street.required) << "its group is 0:1";
  EXPECT_TRUE(reported(v3.report, "Datenfeldgruppe G60000000086", "darf fehlen (0:1)"));
  // The rule is attached twice and reported once, with where it applies and what it says.
  EXPECT_TRUE(reported(v3.report, "Regel R60000000019 (Anschrift Inland Straßenanschrift",
                       "Regeln aus FIM werden nicht automatisch übernommen: bitte im Editor als "
                       "Bedingung oder Prüfregel nachbilden."));
  EXPECT_TRUE(reported(v3.report, "an G60000000088, F60000000243: Es muss entweder", ""));

  auto label = imported(reference("v2/label.xml")).form.pages[0].questions[0];
  EXPECT_EQ(label.text, "Hinweis Inhalt");
}

TEST_F(Xdatenfelder, InvalidReferenceFilesAreRefusedNamingTheLineAndWhy) {
  if (!test::reference_available(kReference)) GTEST_SKIP() << "no XDatenfelder files";
  struct Case {
    const char* file;
    const char* line;
    const char* says;
  };
  const Case cases[] = {
      {"v2/duplicate-required-value.xml", "line 13",
       "Das Element „name“ darf in „stammdatenschema“ nur einmal vorkommen."},
      {"v3/duplicate-id-node.xml", "line 11", "Die ID „G123“ kommt zweimal vor."},
      {"v3/invalid-freigabestatus.xml", "line 18",
       "Der Freigabestatus „10“ ist nicht gültig: erlaubt sind die Codes 1 bis 8."},
      {"v3/missing-id-node.xml", "line 9", "Die ID (identifikation/id) fehlt."},
      {"v3/unknown-namespace.xml", "line 2",
       "Unbekannter Namensraum „urn:xoev-de:fim:standard:xdatenfelder_unknown“"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto i = import_xdatenfelder(reference(c.file), no_code_lists);
    ASSERT_FALSE(i);
    EXPECT_EQ(i.error().code, core::ErrorCode::invalid_input);
    EXPECT_EQ(i.error().message, "Die XDatenfelder-Datei ist nicht gültig.");
    ASSERT_EQ(i.error().fields.size(), 1u) << problems(i.error());
    EXPECT_EQ(i.error().fields[0].field, c.line);
    EXPECT_NE(i.error().fields[0].message.find(c.says), std::string::npos) << problems(i.error());
  }
}

TEST_F(Xdatenfelder, BrokenFilesAreRefusedNamingTheLineAndWhy) {
  auto fine = message3(field3("F1", "Rufname", "input", "text"));
  ASSERT_TRUE(import_xdatenfelder(fine, no_code_lists));
  auto replace = [&](const std::string& from, const std::string& to) {
    auto s = fine;
    auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  auto foreign_root = fine;
  for (auto at = foreign_root.find("xdatenfelder.datenfeldgruppe.0103"); at != std::string::npos;
       at = foreign_root.find("xdatenfelder.datenfeldgruppe.0103"))
    foreign_root.replace(at, 33, "fim.antrag");
  struct Case {
    std::string xml;
    std::string at;  // text on the line named
    std::string says;
  };
  const Case cases[] = {
      {replace("</xdf:name>", "</xdf:nam>"), "</xdf:nam>", "kein wohlgeformtes XML"},
      {replace("<xdf:anzahl>1:1", "<xdf:anzahl>1-2"), "1-2",
       "Die Anzahl „1-2“ ist nicht lesbar: erwartet wird „Mindestzahl:Höchstzahl“"},
      {replace("<xdf:anzahl>1:1", "<xdf:anzahl>2:1"), "2:1", "Die Anzahl „2:1“ ist nicht lesbar"},
      {replace("<xdf:anzahl>1:1</xdf:anzahl>", ""), "<xdf:struktur>", "Die Anzahl (anzahl) fehlt."},
      {replace("<xdf:feldart><code>input</code></xdf:feldart>", ""), "<xdf:datenfeld>",
       "Das Datenfeld „F1“ hat keine Feldart."},
      {replace("<code>6</code></xdf:freigabestatus>\n<xdf:bezeichnungEingabe>Rufname",
               "<code>fertig</code></xdf:freigabestatus>\n<xdf:bezeichnungEingabe>Rufname"),
       "fertig", "Der Freigabestatus „fertig“ ist nicht gültig"},
      {replace("<xdf:datentyp>", "<xdf:datentyp><code>text</code></xdf:datentyp><xdf:datentyp>"),
       "<xdf:datentyp>", "Das Element „datentyp“ darf in „datenfeld“ nur einmal vorkommen."},
      {replace("urn:xoev-de:fim:standard:xdatenfelder_3.0.0", "urn:example:anderes"),
       "<xdf:xdatenfelder.", "Unbekannter Namensraum „urn:example:anderes“"},
      {foreign_root, "<xdf:fim.antrag", "Unbekanntes Wurzelelement „fim.antrag“"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.says);
    auto i = import_xdatenfelder(c.xml, no_code_lists);
    ASSERT_FALSE(i);
    EXPECT_EQ(i.error().message, "Die XDatenfelder-Datei ist nicht gültig.");
    ASSERT_FALSE(i.error().fields.empty());
    EXPECT_EQ(i.error().fields[0].field, line_with(c.xml, c.at)) << problems(i.error());
    EXPECT_NE(i.error().fields[0].message.find(c.says), std::string::npos) << problems(i.error());
  }
  // One id for two different elements; the same element twice is how FIM reuses it.
  auto two =
      message3(field3("F1", "Rufname", "input", "text") + field3("F1", "Rasse", "input", "text"));
  auto i = import_xdatenfelder(two, no_code_lists);
  ASSERT_FALSE(i);
  auto second = two.rfind("<xdf:datenfeld>");
  EXPECT_EQ(i.error().fields[0].field,
            fmt::format("line {}", 1 + std::count(two.begin(), two.begin() + second, '\n')));
  EXPECT_NE(i.error().fields[0].message.find("Die ID „F1“ kommt zweimal vor, mit verschiedenem "
                                             "Inhalt (zuerst in Zeile"),
            std::string::npos);
  EXPECT_TRUE(import_xdatenfelder(
      message3(field3("F1", "Rufname", "input", "text") + field3("F1", "Rufname", "input", "text")),
      no_code_lists));
}

// The inotify watch sees every open of the file: the import opens none.
TEST_F(Xdatenfelder, ADoctypeWithExternalEntitiesIsRefusedAndReadsNoFile) {
  if (!test::reference_available(kReference)) GTEST_SKIP() << "no XDatenfelder files";
  test::TempDir dir;
  auto secret = (dir.path() / "geheim.txt").string();
  std::ofstream(secret) << "GEHEIM-4711";
  int watch = inotify_init1(IN_NONBLOCK);
  ASSERT_GE(watch, 0);
  ASSERT_GE(inotify_add_watch(watch, secret.c_str(), IN_OPEN | IN_ACCESS), 0);
  auto valid = reference("v3/simple.xml");
  auto body = valid.substr(valid.find("<xdf:xdatenfelder"));
  const std::string attacks[] = {
      // an external entity used in a text
      fmt::format("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file://{}\">]>\n{}",
                  secret, body.replace(body.find("Anschrift Inland<"), 16, "&xxe;")),
      // an external DTD
      fmt::format("<?xml version=\"1.0\"?>\n<!DOCTYPE x SYSTEM \"file://{}\">\n{}", secret,
                  valid.substr(valid.find("<xdf:xdatenfelder"))),
      // a parameter entity that would pull the file in
      fmt::format(
          "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY % p SYSTEM \"file://{}\"> %p;]>\n{}",
          secret, valid.substr(valid.find("<xdf:xdatenfelder"))),
  };
  for (const auto& xml : attacks) {
    auto i = import_xdatenfelder(xml, no_code_lists);
    ASSERT_FALSE(i);
    auto said = problems(i.error());
    EXPECT_EQ(said.find("GEHEIM"), std::string::npos);
    ASSERT_FALSE(i.error().fields.empty());
    EXPECT_EQ(i.error().fields[0].field, "line 2") << said;
    EXPECT_NE(said.find("DOCTYPE"), std::string::npos) << said;
  }
  char events[4096];
  EXPECT_LT(::read(watch, events, sizeof events), 1) << "the import opened the file";
  // The watch works: reading the file ourselves is seen.
  EXPECT_EQ(file_text(secret), "GEHEIM-4711");
  EXPECT_GT(::read(watch, events, sizeof events), 0);
  close(watch);
}

TEST_F(Xdatenfelder, ASelectWhoseCodeListIsMissingBecomesTextAndIsReported) {
  std::vector<std::string> asked;
  auto i = imported(select2(), [&](std::string_view urn) -> std::optional<std::string> {
    asked.emplace_back(urn);
    return std::nullopt;
  });
  EXPECT_EQ(asked,
            (std::vector<std::string>{"urn:de:test:fahrzeugart_1", "urn:de:test:fahrzeugart"}));
  const auto& q = i.form.pages[0].questions[0];
  EXPECT_EQ(q.type, QuestionType::text);
  EXPECT_EQ(q.label, "Art des Fahrzeugs");
  EXPECT_EQ(i.report.code_lists, 0);
  EXPECT_TRUE(reported(i.report, "Datenfeld F1 (Art des Fahrzeugs)",
                       "Die Codeliste „urn:de:test:fahrzeugart_1“ wurde nicht gefunden: das "
                       "Auswahlfeld wurde als Textfeld übernommen."))
      << unmapped(i.report);
  EXPECT_NE(html(i.form, i.form.pages[0].id).find("Art des Fahrzeugs"), std::string::npos);
}

TEST_F(Xdatenfelder, ASelectGetsItsOptionsFromTheGenericodeCodeList) {
  auto i = imported(select2(), [](std::string_view urn) -> std::optional<std::string> {
    if (urn == "urn:de:test:fahrzeugart_1") return kGenericode;
    return std::nullopt;
  });
  const auto& q = i.form.pages[0].questions[0];
  ASSERT_EQ(q.type, QuestionType::choice);
  ASSERT_EQ(q.options.size(), 2u);
  EXPECT_EQ(q.options[0].value, "pkw");
  EXPECT_EQ(q.options[0].label, "Personenkraftwagen");
  EXPECT_EQ(q.options[1].value, "krad");
  EXPECT_EQ(q.options[1].label, "Kraftrad");
  EXPECT_EQ(q.code_list, "urn:de:test:fahrzeugart_1");
  EXPECT_EQ(i.report.code_lists, 1);
  EXPECT_TRUE(reported(i.report, "Datenfeld F1", "0 Zeilen ohne Code und 1 mit einem Code"));
  EXPECT_NE(html(i.form, i.form.pages[0].id).find("Personenkraftwagen"), std::string::npos);

  auto broken = imported(select2(),
                         [](std::string_view) -> std::optional<std::string> { return "<liste/>"; });
  EXPECT_EQ(broken.form.pages[0].questions[0].type, QuestionType::text);
  EXPECT_TRUE(reported(broken.report, "Datenfeld F1", "ist nicht lesbar (keine Genericode"));
}

TEST_F(Xdatenfelder, CodeListsBesideTheFileAreFoundByNameOrTheirUrn) {
  test::TempDir dir;
  std::ofstream(dir.path() / "fahrzeugarten.xml") << kGenericode;
  std::ofstream(dir.path() / "antrag.xml") << select2();
  std::ofstream(dir.path() / "urn:de:test:farbe.xml") << "<farbe/>";
  auto lists = code_lists_in(dir.path());
  EXPECT_EQ(lists("urn:de:test:fahrzeugart_1"), kGenericode);
  EXPECT_EQ(lists("urn:de:test:fahrzeugart"), kGenericode);
  EXPECT_EQ(lists("urn:de:test:farbe"), "<farbe/>");
  EXPECT_EQ(lists("urn:de:test:unbekannt"), std::nullopt);
  EXPECT_EQ(lists("../geheim"), std::nullopt);
  auto i = imported(select2(), lists);
  EXPECT_EQ(i.form.pages[0].questions[0].type, QuestionType::choice);
}

TEST_F(Xdatenfelder, EachFieldTypeMapsToAQuestionTypeOrIsReported) {
  struct Case {
    const char* feldart;
    const char* datentyp;
    const char* extra;
    std::optional<QuestionType> type;  // nullopt: not imported, reported
    const char* reason;                // in the report ("" for none)
  };
  const Case cases[] = {
      {"input", "text", "", QuestionType::text, ""},
      {"input", "text", R"(<xdf:praezisierung maxLength="500"/>)", QuestionType::long_text, ""},
      {"input", "text_latin", "", QuestionType::text, "DIN SPEC 91379"},
      {"input", "date", "", QuestionType::date, ""},
      {"input", "time", "", QuestionType::text, ""},
      {"input", "datetime", "", QuestionType::text, "Datum und Uhrzeit"},
      {"input", "bool", "", QuestionType::yes_no, ""},
      {"input", "num", "", QuestionType::decimal, ""},
      {"input", "num_int", "", QuestionType::integer, ""},
      {"input", "num_currency", "", QuestionType::money, ""},
      {"input", "file", "", QuestionType::file, ""},
      {"input", "obj", "", std::nullopt, "Der Datentyp obj"},
      {"input", "farbe", "", std::nullopt, "Der Datentyp „farbe“ ist unbekannt"},
      {"label", "text", "<xdf:inhalt>Bitte lesen.</xdf:inhalt>", QuestionType::info, ""},
      {"hidden", "text", "", std::nullopt, "Verborgene Felder (Feldart hidden)"},
      {"locked", "text", "", std::nullopt, "Gesperrte Felder (Feldart locked)"},
      {"slider", "num", "", std::nullopt, "Die Feldart „slider“ ist unbekannt"},
      {"select", "text",
       "<xdf:werte><xdf:wert><xdf:code>m</xdf:code><xdf:name>männlich</xdf:name></xdf:wert>"
       "<xdf:wert><xdf:code>w</xdf:code><xdf:name>weiblich</xdf:name></xdf:wert></xdf:werte>",
       QuestionType::choice, ""},
      {"select", "text", "", QuestionType::text, "weder eine Werteliste noch eine Codeliste"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(fmt::format("{} {}", c.feldart, c.datentyp));
    auto xml = message3(field3("F1", "Angabe", "input", "text") +
                        field3("F2", "Zu prüfen", c.feldart, c.datentyp, "1:1", c.extra));
    auto i = imported(xml);
    const auto& qs = i.form.pages.at(0).questions;
    EXPECT_EQ(i.report.fields, 2);
    if (c.type) {
      ASSERT_EQ(qs.size(), 2u);
      EXPECT_EQ(qs[1].type, *c.type);
      EXPECT_EQ(qs[1].id, "zu_pruefen");
      if (*c.type != QuestionType::info) {
        EXPECT_EQ(qs[1].xml_name, "F2");
      }
      EXPECT_NE(html(i.form, i.form.pages[0].id).find("Zu prüfen"), std::string::npos);
    } else {
      EXPECT_EQ(qs.size(), 1u);
    }
    if (*c.reason) {
      EXPECT_TRUE(reported(i.report, "Datenfeld F2 (Zu prüfen)", c.reason)) << unmapped(i.report);
    } else {
      EXPECT_TRUE(i.report.unmapped.empty()) << unmapped(i.report);
    }
  }
}

TEST_F(Xdatenfelder, PraezisierungBecomesLimitsWhereTheTypeHasThem) {
  struct Case {
    const char* datentyp;
    const char* praezisierung;
    std::function<void(const Question&)> expect;
    const char* reason;
  };
  const Case cases[] = {
      {"text", R"(minLength="2" maxLength="60" pattern="[0-9]{5}")",
       [](const Question& q) {
         EXPECT_EQ(q.min_length, 2);
         EXPECT_EQ(q.max_length, 60);
         EXPECT_EQ(q.pattern, "[0-9]{5}");
       },
       ""},
      {"num", R"(minValue="0,5" maxValue="99.5")",
       [](const Question& q) {
         EXPECT_EQ(q.min, "0.5");
         EXPECT_EQ(q.max, "99.5");
       },
       ""},
      {"num_int", R"(minValue="1" maxValue="viele")",
       [](const Question& q) {
         EXPECT_EQ(q.min, "1");
         EXPECT_EQ(q.max, "");
       },
       "maxValue „viele“ wird nicht übernommen: keine Zahl"},
      {"date", R"(minValue="01.01.1900" maxValue="2030-12-31")",
       [](const Question& q) {
         EXPECT_EQ(q.min, "1900-01-01");
         EXPECT_EQ(q.max, "2030-12-31");
       },
       ""},
      {"date", R"(maxLength="10")", [](const Question& q) { EXPECT_FALSE(q.max_length); },
       "Längen gelten im Formular nur für Text"},
      {"text", R"(minValue="1")", [](const Question& q) { EXPECT_EQ(q.min, ""); },
       "Grenzen gelten im Formular nur für Zahlen"},
      {"text", R"(pattern="\p{L}+")", [](const Question& q) { EXPECT_EQ(q.pattern, ""); },
       "gibt es nur in XML-Schema-Mustern"},
      {"text", R"(pattern="[a-")", [](const Question& q) { EXPECT_EQ(q.pattern, ""); },
       "kein gültiges Muster"},
      {"text", R"(minLength="9" maxLength="3")",
       [](const Question& q) {
         EXPECT_FALSE(q.min_length);
         EXPECT_EQ(q.max_length, 3);
       },
       "sie ist größer als maxLength"},
      {"text", R"(maxSize="5")", [](const Question&) {},
       "Die Präzisierung „maxSize“ ist unbekannt und wird nicht übernommen."},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.praezisierung);
    auto xml = message3(field3("F1", "Angabe", "input", c.datentyp, "1:1",
                               fmt::format("<xdf:praezisierung {}/>", c.praezisierung)));
    auto i = imported(xml);
    ASSERT_EQ(i.form.pages.at(0).questions.size(), 1u);
    c.expect(i.form.pages[0].questions[0]);
    if (*c.reason) {
      EXPECT_TRUE(reported(i.report, "Datenfeld F1", c.reason)) << unmapped(i.report);
    } else {
      EXPECT_TRUE(i.report.unmapped.empty()) << unmapped(i.report);
    }
  }
  // XDatenfelder 2 writes the same as JSON in the element.
  auto v2 = imported(select2(R"({"minLength":"1","maxLength":"300"})"));
  EXPECT_EQ(v2.form.pages[0].questions[0].type, QuestionType::long_text);
  EXPECT_EQ(v2.form.pages[0].questions[0].max_length, 300);
  auto unreadable = imported(select2("max 300"));
  EXPECT_TRUE(reported(unreadable.report, "Datenfeld F1", "kein lesbares JSON-Objekt"));
}

// Top-level groups are pages; a nested group that occurs once is flattened under a heading,
// one that repeats becomes a group with "add another", and what cannot nest is flattened
// into it and reported.
TEST_F(Xdatenfelder, GroupsBecomePagesHeadingsAndRepeatableGroups) {
  auto kind = group3("G5", "Kind", "0:*",
                     field3("F5", "Vorname", "input", "text") +
                         group3("G6", "Schule", "1:1", field3("F6", "Schulname", "input", "text")));
  auto halter = group3("G2", "Halterin oder Halter", "1:1",
                       field3("F2", "Familienname", "input", "text") +
                           group3("G3", "Anschrift", "1:1",
                                  field3("F3", "Straße", "input", "text") +
                                      field3("F4", "Telefon", "input", "text", "0:3"),
                                  "Wo der Hund lebt.") +
                           kind + field3("F2", "Familienname", "input", "text", "0:1"),
                       "Angaben zur Person");
  auto xml = message3(field3("F1", "Rufname des Hundes", "input", "text") + halter +
                      field3("F7", "Bemerkung", "input", "text", "0:1"));
  auto i = imported(xml);
  const auto& f = i.form;
  EXPECT_EQ(i.report.pages, 3);
  EXPECT_EQ(i.report.groups, 4);
  EXPECT_EQ(i.report.fields, 8);
  ASSERT_EQ(f.pages.size(), 3u);
  // A field outside any group gets a page of its own, named after the form; a later run
  // another one.
  EXPECT_EQ(f.pages[0].title, "Hundehaltung");
  EXPECT_EQ(f.pages[0].questions[0].id, "rufname_des_hundes");
  EXPECT_EQ(f.pages[2].title, "Weitere Angaben");
  EXPECT_FALSE(f.pages[2].questions[0].required);

  const auto& page = f.pages[1];
  EXPECT_EQ(page.title, "Halterin oder Halter");
  EXPECT_EQ(page.hint, "Angaben zur Person");
  std::vector<std::string> ids;
  for (const auto& q : page.questions) ids.push_back(q.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"familienname", "anschrift", "strasse", "telefon",
                                           "kind", "familienname_2"}));
  const auto& heading = page.questions[1];
  EXPECT_EQ(heading.type, QuestionType::info);
  EXPECT_EQ(heading.label, "Anschrift");
  EXPECT_EQ(heading.text, "Wo der Hund lebt.");
  // A field that may occur up to three times is a group of one question.
  const auto& phone = page.questions[3];
  EXPECT_EQ(phone.type, QuestionType::group);
  EXPECT_EQ(phone.min_count, 0);
  EXPECT_EQ(phone.max_count, 3);
  EXPECT_EQ(phone.item_label, "Telefon");
  EXPECT_EQ(phone.xml_name, "F4");
  ASSERT_EQ(phone.questions.size(), 1u);
  EXPECT_TRUE(phone.questions[0].required);
  // "*" is the form's maximum, and said so; the group inside it is flattened, and said so.
  const auto& child = page.questions[4];
  EXPECT_EQ(child.type, QuestionType::group);
  EXPECT_EQ(child.min_count, 0);
  EXPECT_EQ(child.max_count, 100);
  EXPECT_EQ(child.item_label, "Kind");
  EXPECT_EQ(child.xml_name, "G5");
  std::vector<std::string> members;
  for (const auto& m : child.questions) members.push_back(m.id);
  EXPECT_EQ(members, (std::vector<std::string>{"vorname", "schule", "schulname"}));
  EXPECT_TRUE(reported(i.report, "Datenfeldgruppe G5 (Kind)",
                       "darf beliebig oft vorkommen (0:*); das Formular erlaubt höchstens 100"));
  EXPECT_TRUE(reported(i.report, "Datenfeldgruppe G6 (Schule)",
                       "steht in der wiederholbaren Gruppe „Kind“; Gruppen lassen sich nicht "
                       "schachteln"));
  // The same FIM field twice: its own id, and an element name with its group in front.
  EXPECT_EQ(page.questions[0].xml_name, "F2");
  EXPECT_EQ(page.questions[5].xml_name, "G2_F2");
  EXPECT_FALSE(page.questions[5].required);
  EXPECT_EQ(i.report.unmapped.size(), 2u) << unmapped(i.report);

  for (const auto& p : f.pages) {
    auto h = html(f, p.id);
    EXPECT_NE(h.find(p.title), std::string::npos) << p.id;
  }
  auto h = html(f, page.id);
  EXPECT_NE(h.find("Wo der Hund lebt."), std::string::npos);
  // no child is needed (0:*): the page starts with none and offers to add one
  EXPECT_EQ(h.find("Schulname"), std::string::npos);
  EXPECT_NE(h.find("Kind hinzufügen"), std::string::npos);
}

TEST_F(Xdatenfelder, IdsAndKeysAreAsciiWithUmlautsSpeltOut) {
  auto xml = message3(field3("F1", "Größe (in m²) – Überblick", "input", "num") +
                          field3("F2", "123 Öffnungszeiten", "input", "text") +
                          field3("F3", "Größe (in m²) – Überblick", "input", "text"),
                      "Anzeige für Straßenfeste");
  auto i = imported(xml);
  EXPECT_EQ(i.form.key, "g100-anzeige-fuer-strassenfeste");
  EXPECT_EQ(i.form.pages[0].id, "anzeige_fuer_strassenfeste");
  const auto& qs = i.form.pages[0].questions;
  EXPECT_EQ(qs[0].id, "groesse_in_m_ueberblick");
  EXPECT_EQ(qs[1].id, "f_123_oeffnungszeiten");
  EXPECT_EQ(qs[2].id, "groesse_in_m_ueberblick_2");
}

TEST_F(Xdatenfelder, TheReportIsJsonForTheEditor) {
  ImportReport r{.form = "a", .pages = 1, .groups = 2, .fields = 3, .rules = 4, .code_lists = 5};
  r.unmapped.push_back({"Regel R1 (Alter)", "Grund „x“"});
  auto json = report_json(r);
  std::string compact;
  std::copy_if(json.begin(), json.end(), std::back_inserter(compact),
               [](char c) { return c != ' ' && c != '\n'; });
  EXPECT_EQ(compact, R"j({"form":"a","pages":1,"groups":2,"fields":3,"rules":4,"codeLists":5,)j"
                     R"j("unmapped":[{"what":"RegelR1(Alter)","reason":"Grund„x“"}]})j");
}

// The demo's "Allgemeine Anfrage" comes from an XDatenfelder file through the import:
// three groups become three pages, the value lists choices, the yes/no field a question.
TEST_F(Xdatenfelder, TheDemoFormFromAnXDatenfelderFileIsComplete) {
  std::optional<Form> demo;
  for (const auto& json : demo_forms()) {
    auto form = parse_form(json);
    ASSERT_TRUE(form);
    if (form->key == "g90000000-allgemeine-anfrage") demo = *form;
  }
  ASSERT_TRUE(demo);
  ASSERT_EQ(demo->pages.size(), 3u);
  EXPECT_EQ(demo->pages[0].title, "Ihr Anliegen");
  EXPECT_EQ(demo->pages[0].questions[0].type, QuestionType::choice);
  EXPECT_EQ(demo->pages[0].questions[0].options.size(), 4u);
  EXPECT_EQ(demo->pages[0].questions[2].type, QuestionType::long_text);
  EXPECT_FALSE(demo->pages[1].questions[3].required);
  EXPECT_EQ(demo->pages[2].questions[1].type, QuestionType::yes_no);
}

}  // namespace
}  // namespace mvsp::forms
