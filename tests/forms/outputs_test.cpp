// The XML and JSON of filled forms against the schemas generated from the same form
// version: every demo form, filled by its own pages, validates with xmllint and with a
// JSON Schema validator; what breaks a schema is refused by it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/outputs.hpp>
#include <mvsp/web/templates.hpp>

#include "support.hpp"

namespace mvsp::forms {
namespace {

core::TimePoint today() {
  return core::from_millis(1'796'295'600'000);  // 3 December 2026
}

// A valid entry for a question, as a citizen would type it.
std::string sample(const Question& q, std::string_view part) {
  if (part == "plz") return "19055";
  if (part == "iban") return "DE89 3704 0044 0532 0130 00";
  if (!part.empty()) return "Beispiel";
  // the demo forms' questions with a pattern that must be answered
  static const std::map<std::string, std::string, std::less<>> patterned = {
      {"kennzeichen", "HRO-AB 123"}, {"flurstueck", "123/4"}};
  if (auto it = patterned.find(q.id); it != patterned.end()) return it->second;
  switch (q.type) {
    case QuestionType::integer:
      return q.min.empty() ? "2" : q.min;
    case QuestionType::decimal:
      return q.min.empty() ? "1,5" : q.min;
    case QuestionType::money:
      return "12,50";
    case QuestionType::date:
      if (q.max.starts_with("today-")) return "01.01.1970";
      // bounds around today ("today", "today-1y" to "today+6m"): today() itself
      return q.min.starts_with("today") ? "03.12.2026" : "01.06.2024";
    case QuestionType::email:
      return "erika@example.org";
    case QuestionType::phone:
      return "0385 588-0";
    case QuestionType::choice:
    case QuestionType::multiple_choice:
      return q.options.front().value;
    case QuestionType::yes_no:
    case QuestionType::declaration:
      return "ja";
    default:
      return q.pattern.empty() ? "Beispiel mit Umlauten: Grüße aus Güstrow" : "";
  }
}

void post(const Question& q, const std::string& base, Posted& out) {
  if (q.type == QuestionType::info || q.type == QuestionType::computed ||
      q.type == QuestionType::file)
    return;
  if (q.type == QuestionType::group) {
    int n = std::max(q.min_count, std::min(2, q.max_count));
    out.emplace_back(q.id, std::to_string(n));
    for (int i = 0; i < n; ++i) {
      for (const auto& m : q.questions) post(m, base + "[" + std::to_string(i) + "]." + m.id, out);
    }
    return;
  }
  static const std::map<QuestionType, std::vector<std::string>> parts = {
      {QuestionType::name, {"vorname", "nachname"}},
      {QuestionType::address, {"strasse", "hausnummer", "plz", "ort"}},
      {QuestionType::iban, {"iban", "kontoinhaber"}}};
  auto it = parts.find(q.type);
  if (it == parts.end()) {
    auto value = sample(q, {});
    // a text sample as long as the question allows (its umlauts stay whole)
    if (q.max_length && q.type == QuestionType::text &&
        static_cast<std::int64_t>(value.size()) > *q.max_length)
      value = "Beispiel";
    out.emplace_back(base, value);
    return;
  }
  for (const auto& p : it->second) out.emplace_back(base + "." + p, sample(q, p));
}

// Fills a form page by page through Filling, as the browser would.
Answers fill(const Filling& f, const Form& form) {
  Answers a;
  for (int guard = 0; guard < 100; ++guard) {
    auto page_id = f.next_page(a);
    if (page_id.empty()) return a;
    const auto* page = form.page(page_id);
    if (page->exit) {
      ADD_FAILURE() << form.key << ": the samples end on exit page " << page_id;
      return a;
    }
    Posted posted;
    for (const auto& q : page->questions) post(q, q.id, posted);
    auto o = f.submit(page_id, a, posted);
    if (o.error) {
      ADD_FAILURE() << form.key << "/" << page_id << ": " << o.error->fields.front().field << " "
                    << o.error->fields.front().message;
      return a;
    }
    a = o.answers;
  }
  ADD_FAILURE() << form.key << ": no end";
  return a;
}

int run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

class Outputs : public ::testing::Test {
 protected:
  void SetUp() override { texts_.add(embedded_resources()); }
  std::filesystem::path write(const std::string& name, const std::string& content) {
    auto p = dir_.path() / name;
    std::ofstream(p) << content;
    return p;
  }
  web::Catalog texts_;
  test::TempDir dir_;
};

TEST_F(Outputs, EveryDemoFormsXmlAndJsonValidateAgainstTheirGeneratedSchemas) {
  ASSERT_EQ(run("command -v xmllint"), 0) << "xmllint (libxml2-utils) is missing";
  ASSERT_EQ(run("python3 -c 'import jsonschema'"), 0) << "python3-jsonschema is missing";
  for (auto json : demo_forms()) {
    auto form = parse_form(json);
    ASSERT_TRUE(form);
    Filling f(*form, texts_, {.now = today()});
    auto answers = f.applicable(fill(f, *form));
    ASSERT_FALSE(answers.empty());
    Submission s{"MV-35CA3-4HFYVHOK", today()};
    auto xml = write(form->key + ".xml", to_xml(*form, 3, answers, s));
    auto xsd = write(form->key + ".xsd", xml_schema(*form, 3));
    EXPECT_EQ(run(fmt::format("xmllint --noout --schema {} {}", xsd.string(), xml.string())), 0)
        << form->key << "\n"
        << to_xml(*form, 3, answers, s) << "\n"
        << xml_schema(*form, 3);
    auto data = write(form->key + ".json", to_json(*form, 3, answers, s));
    auto schema = write(form->key + ".schema.json", json_schema(*form, 3));
    EXPECT_EQ(run(fmt::format("python3 -m jsonschema -i {} {}", data.string(), schema.string())), 0)
        << form->key << "\n"
        << to_json(*form, 3, answers, s) << "\n"
        << json_schema(*form, 3);
  }
}

TEST_F(Outputs, TheHundesteuerXmlSaysWhatWasAnsweredInGermanElements) {
  Form form;
  for (auto json : demo_forms()) {
    auto f = parse_form(json);
    if (f && f->key == "hundesteuer-anmelden") form = *f;
  }
  Filling f(form, texts_, {.now = today()});
  auto answers = f.applicable(fill(f, form));
  auto xml = to_xml(form, 1, answers, {"MV-1", std::nullopt});
  EXPECT_NE(
      xml.find(
          R"(<HundesteuerAnmeldung xmlns="urn:mvsp:form:hundesteuer-anmelden" formularVersion="1" referenz="MV-1">)"),
      std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<Vorname>Beispiel</Vorname>"), std::string::npos);
  EXPECT_NE(xml.find("<Postleitzahl>19055</Postleitzahl>"), std::string::npos);
  EXPECT_NE(xml.find("<Rasse>Beispiel mit Umlauten: Grüße aus Güstrow</Rasse>"), std::string::npos);
  EXPECT_NE(xml.find("<Gefaehrlich>true</Gefaehrlich>"), std::string::npos);
  EXPECT_NE(xml.find("<Summe>1200</Summe>"), std::string::npos);
  EXPECT_LT(xml.find("<ImGemeindegebiet>"), xml.find("<Name>"))
      << "the answers in the form's order";
  auto json = to_json(form, 1, answers);
  EXPECT_NE(json.find(R"("gefaehrlich": true)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("plz": "19055")"), std::string::npos);
}

TEST_F(Outputs, TheSchemasRefuseWhatTheFormDoesNotAllow) {
  Form form;
  for (auto json : demo_forms()) {
    auto f = parse_form(json);
    if (f && f->key == "hundesteuer-anmelden") form = *f;
  }
  auto xsd = write("h.xsd", xml_schema(form, 1));
  auto schema = write("h.schema.json", json_schema(form, 1));
  Filling f(form, texts_, {.now = today()});
  auto answers = f.applicable(fill(f, form));
  struct Case {
    const char* what;
    std::function<void(Answers&)> change;
  };
  const Case cases[] = {
      {"no dog",
       [](Answers& a) {
         for (auto it = a.begin(); it != a.end();)
           it = it->first.starts_with("hunde") ? a.erase(it) : std::next(it);
       }},
      {"a sex that is not an option", [](Answers& a) { a["hunde[0].geschlecht"] = "x"; }},
      {"no declaration", [](Answers& a) { a.erase("richtig"); }},
      {"a name too long", [](Answers& a) { a["hunde[0].rufname"] = std::string(61, 'a'); }},
  };
  for (const auto& c : cases) {
    auto broken = answers;
    c.change(broken);
    auto xml = write("broken.xml", to_xml(form, 1, broken));
    EXPECT_NE(run(fmt::format("xmllint --noout --schema {} {}", xsd.string(), xml.string())), 0)
        << c.what;
    auto data = write("broken.json", to_json(form, 1, broken));
    EXPECT_NE(run(fmt::format("python3 -m jsonschema -i {} {}", data.string(), schema.string())), 0)
        << c.what;
  }
}

// The demo forms after the real procedures: fees computed from the answers, exit pages
// where the procedure has no way on, and a rule across two answers.
TEST_F(Outputs, TheDemoFormsComputeFeesEndOnTheirExitPagesAndCheckTheirRules) {
  std::map<std::string, Form, std::less<>> forms;
  for (auto json : demo_forms()) {
    auto f = parse_form(json);
    ASSERT_TRUE(f);
    forms[f->key] = *f;
  }
  for (auto key : {"bewohnerparkausweis-beantragen", "kampfmittel-auskunft",
                   "kita-platz-beantragen", "gewerbe-anmelden"})
    ASSERT_TRUE(forms.contains(key)) << key;

  const auto& park = forms.at("bewohnerparkausweis-beantragen");
  Filling p(park, texts_, {.now = today()});
  auto a = fill(p, park);
  EXPECT_EQ(p.applicable(a)["gebuehr"], "30");
  a["gueltigkeit"] = "2";
  EXPECT_EQ(p.applicable(a)["gebuehr"], "60");
  a["hauptwohnsitz"] = "nein";
  EXPECT_EQ(p.route(a).back()->id, "kein_hauptwohnsitz");

  const auto& kampfmittel = forms.at("kampfmittel-auskunft");
  Filling k(kampfmittel, texts_, {.now = today()});
  EXPECT_EQ(k.applicable(fill(k, kampfmittel))["anzahl_flurstuecke"], "2");

  const auto& kita = forms.at("kita-platz-beantragen");
  Filling c(kita, texts_, {.now = today()});
  auto child = fill(c, kita);
  child["kind_geburtsdatum"] = "2014-06-01";  // 12: the Hort until the end of class 6
  EXPECT_NE(c.route(child).back()->id, "zu_alt");
  child["kind_geburtsdatum"] = "2013-06-01";  // 13
  EXPECT_EQ(c.route(child).back()->id, "zu_alt");

  // an e. K. is in section A of the commercial register, not in B
  const auto& gewerbe = forms.at("gewerbe-anmelden");
  Filling g(gewerbe, texts_, {.now = today()});
  Posted posted = {{"rechtsform", "ek"},
                   {"registerart", "hrb"},
                   {"registernummer", "12345"},
                   {"registergericht", "Amtsgericht Rostock"}};
  auto refused = g.submit("rechtsform", {}, posted);
  ASSERT_TRUE(refused.error);
  EXPECT_EQ(refused.error->fields.front().field, "registerart");
  posted[1].second = "hra";
  auto accepted = g.submit("rechtsform", {}, posted);
  EXPECT_FALSE(accepted.error);
  EXPECT_EQ(accepted.next, "betriebsinhaber");
}

// The format's JSON Schema in docs/ describes what the store accepts: every demo form, as
// the store writes it, validates against it; a form with an unknown question type does not.
TEST_F(Outputs, TheFormatsJsonSchemaInDocsDescribesTheDemoForms) {
  auto schema = test::source_dir() + "/docs/forms/mvsp-form-1.schema.json";
  ASSERT_TRUE(std::filesystem::exists(schema));
  int n = 0;
  for (const auto& json : demo_forms()) {
    auto form = parse_form(json);
    ASSERT_TRUE(form);
    auto file = write(fmt::format("form-{}.json", n++), forms::to_json(*form));
    EXPECT_EQ(run(fmt::format("python3 -m jsonschema -i {} {}", file.string(), schema)), 0)
        << form->key;
  }
  auto bad = write("bad.json",
                   R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P",
    "questions":[{"id":"x","type":"colour"}]}]})");
  EXPECT_NE(run(fmt::format("python3 -m jsonschema -i {} {}", bad.string(), schema)), 0);
}

TEST_F(Outputs, TwoQuestionsWithOneXmlNameAreRefusedWhenTheFormIsSaved) {
  auto form = parse_form(R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[
    {"id":"p","title":"P","questions":[{"id":"a","type":"text","label":"A","xmlName":"Name"}]},
    {"id":"q","title":"Q","questions":[{"id":"b","type":"text","label":"B","xmlName":"Name"}]}]})");
  ASSERT_FALSE(form);
  EXPECT_EQ(form.error().fields.front().field, "pages[1].questions[0].xmlName");
}

TEST_F(Outputs, TextThatLooksLikeMarkupIsEscaped) {
  auto form = parse_form(R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[
    {"id":"p","title":"P","questions":[{"id":"a","type":"text","label":"A"}]}]})");
  ASSERT_TRUE(form);
  auto xml = to_xml(*form, 1, {{"a", "</A><B>x</B> & \"y\""}}, {"<ref>", std::nullopt});
  EXPECT_NE(xml.find("<A>&lt;/A&gt;&lt;B&gt;x&lt;/B&gt; &amp; &quot;y&quot;</A>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find(R"(referenz="&lt;ref&gt;")"), std::string::npos);
}

}  // namespace
}  // namespace mvsp::forms
