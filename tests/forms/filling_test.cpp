// Form definitions and filling them, on the demo form "Hund zur Hundesteuer anmelden":
// what a definition must get right, routes and exit pages, reading and checking each
// question type, groups with "add another", conditions, rules, prefill, summary, finish.
#include <gtest/gtest.h>

#include <mvsp/forms/component.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/web/resources.hpp>
#include <mvsp/web/templates.hpp>

#include "support.hpp"

namespace mvsp::forms {
namespace {

Form hundesteuer() {
  for (auto json : demo_forms()) {
    auto form = parse_form(json);
    EXPECT_TRUE(form) << (form ? ""
                               : form.error().fields.front().field + ": " +
                                     form.error().fields.front().message);
    if (form && form->key == "hundesteuer-anmelden") return *form;
  }
  ADD_FAILURE() << "no demo form hundesteuer-anmelden";
  return {};
}

// 3 December 2026, noon in Germany.
core::TimePoint today() {
  return core::from_millis(1'796'295'600'000);
}

class Filling_ : public ::testing::Test {
 protected:
  void SetUp() override {
    texts_.add(embedded_resources());
    form_ = hundesteuer();
  }
  Filling filling(FillContext c = {}) {
    c.now = today();
    return Filling(form_, texts_, std::move(c));
  }
  static std::string error_on(const PageOutcome& o, const std::string& field) {
    if (!o.error) return "(no error)";
    for (const auto& f : o.error->fields) {
      if (f.field == field) return f.message;
    }
    return "(no error on " + field + ")";
  }
  Answers through(const Filling& f, Answers a, const std::string& page, const Posted& posted) {
    auto o = f.submit(page, a, posted);
    EXPECT_FALSE(o.error) << page << ": "
                          << (o.error ? o.error->fields.front().field + " " +
                                            o.error->fields.front().message
                                      : "");
    return o.answers;
  }
  Posted halter() {
    return {{"name.vorname", "Erika"},     {"name.nachname", "Mustermann"},
            {"geburtsdatum", "27.3.1985"}, {"anschrift.strasse", "Am Markt"},
            {"anschrift.hausnummer", "1"}, {"anschrift.plz", "19055"},
            {"anschrift.ort", "Schwerin"}, {"telefon", ""},
            {"email", "erika@example.org"}};
  }
  Posted two_dogs(const char* second_dangerous) {
    return {{"hunde", "2"},
            {"hunde[0].rufname", "Bello"},
            {"hunde[0].rasse", "Labrador"},
            {"hunde[0].geschlecht", "m"},
            {"hunde[0].wurfdatum", "01.05.2020"},
            {"hunde[0].haltung_seit", "1.9.2026"},
            {"hunde[0].gefaehrlich", "nein"},
            {"hunde[1].rufname", "Zora"},
            {"hunde[1].rasse", "Mischling (Schäferhund)"},
            {"hunde[1].geschlecht", "w"},
            {"hunde[1].wurfdatum", "2019-02-10"},
            {"hunde[1].haltung_seit", "15.11.2026"},
            {"hunde[1].gefaehrlich", second_dangerous},
            {"hunde[1].erlaubnis_datum", "20.11.2026"}};
  }

  web::Catalog texts_;
  Form form_;
};

TEST_F(Filling_, TheDemoFormsAreValidAndSurviveTheirOwnJson) {
  auto forms = demo_forms();
  ASSERT_FALSE(forms.empty());
  for (auto json : forms) {
    auto form = parse_form(json);
    ASSERT_TRUE(form);
    auto again = parse_form(to_json(*form));
    ASSERT_TRUE(again);
    EXPECT_EQ(to_json(*again), to_json(*form));
  }
}

TEST_F(Filling_, DefinitionsWithMistakesAreRefusedNamingEachPlace) {
  struct Case {
    const char* json;
    const char* field;
    const char* says;
  };
  const Case cases[] = {
      {R"({"format":"mvsp-form/2","key":"a","title":"A","pages":[]})", "format", "mvsp-form/1"},
      {R"({"format":"mvsp-form/1","key":"A B","title":"A","pages":[{"id":"p","title":"P"}]})",
       "key", "Kennung"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[]})", "pages",
       "mindestens eine Seite"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"x","type":"colour","label":"X"}]}]})",
       "pages[0].questions[0].type", "unbekannter Fragetyp"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"x","type":"text","label":"X"},{"id":"x","type":"text","label":"Y"}]}]})",
       "pages[0].questions[1].id", "kommt zweimal vor"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"x","type":"text","label":"X","showIf":"y = 1"}]}]})",
       "pages[0].questions[0].showIf", "unbekannte Frage „y“"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"x","type":"choice","label":"X"}]}]})",
       "pages[0].questions[0].options", "mindestens eine Auswahl"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"x","type":"text","label":"X","pattern":"(["}]}]})",
       "pages[0].questions[0].pattern", "regulärer Ausdruck"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","routes":[{"when":"true","goTo":"p"}]}]})",
       "pages[0].routes[0].goTo", "späteren Seite"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"g","type":"group","label":"G","itemLabel":"G","maxCount":3,"questions":[{"id":"h","type":"group","label":"H","itemLabel":"H","questions":[{"id":"z","type":"text","label":"Z"}]}]}]}]})",
       "pages[0].questions[0].questions[0].type", "nicht schachteln"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"d","type":"date","label":"D","max":"yesterday"}]}]})",
       "pages[0].questions[0].max", "keine gültige Grenze"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"n","type":"text","label":"N","prefill":"account.password"}]}]})",
       "pages[0].questions[0].prefill", "unbekannte Vorbelegung"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"n","type":"text","label":"N","xmlName":"1x"}]}]})",
       "pages[0].questions[0].xmlName", "XML-Elementname"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"n","type":"text","label":"N","autocomplete":"\" onfocus=x"}]}]})",
       "pages[0].questions[0].autocomplete", "kein Autocomplete-Wert"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"n","type":"text","label":"N"}]}],"rules":[{"check":"n","message":"M","field":"n"}]})",
       "rules[0].check", "Wahrheitswert"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","exit":true}]})",
       "pages[0].text", "warum"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[{"id":"p","title":"P","questions":[{"id":"c","type":"computed","label":"C"}]}]})",
       "pages[0].questions[0].value", "fehlt"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A\u0001B","pages":[{"id":"p","title":"P"}]})",
       "title", "Zeichen, die nicht erlaubt sind"},
      {R"({"format":"mvsp-form/1","key":"a","title":"A","language":"de<x","pages":[{"id":"p","title":"P"}]})",
       "language", "kein Sprachkürzel"},
      {R"(["not", "an", "object"])", "", "kein JSON-Objekt"},
      {R"({"format":"mvsp-form/1",)", "", "kein gültiges JSON"},
  };
  for (const auto& c : cases) {
    auto form = parse_form(c.json);
    ASSERT_FALSE(form) << c.json;
    std::string all;
    bool found = false;
    for (const auto& f : form.error().fields) {
      all += f.field + ": " + f.message + "; ";
      if (f.field == c.field && f.message.find(c.says) != std::string::npos) found = true;
    }
    if (form.error().fields.empty()) {
      all = form.error().message;
      found = std::string(c.field).empty() && all.find(c.says) != std::string::npos;
    }
    EXPECT_TRUE(found) << c.json << "\n  wanted " << c.field << ": " << c.says << "\n  got " << all;
  }
}

TEST_F(Filling_, NoOnTheFirstPageEndsOnTheExitPage) {
  auto f = filling();
  EXPECT_EQ(f.next_page({}), "wohnort");
  auto o = f.submit("wohnort", {}, {{"im_gemeindegebiet", "nein"}});
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.next, "nicht_zustaendig");
  EXPECT_TRUE(o.exit);
  auto route = f.route(o.answers);
  ASSERT_EQ(route.size(), 2u);
  EXPECT_TRUE(route.back()->exit);
  auto finished = f.finish(o.answers);
  ASSERT_FALSE(finished);
  EXPECT_NE(finished.error().fields.front().message.find("nicht online"), std::string::npos);

  auto yes = f.submit("wohnort", o.answers, {{"im_gemeindegebiet", "ja"}});
  EXPECT_EQ(yes.next, "halter");
  EXPECT_FALSE(yes.exit);
}

TEST_F(Filling_, EachBadAnswerGetsItsOwnMessageNamingTheField) {
  auto f = filling();
  auto o = f.submit("halter", {},
                    {{"name.vorname", "Erika"},
                     {"name.nachname", ""},
                     {"geburtsdatum", "31.02.1985"},
                     {"anschrift.strasse", "Am Markt"},
                     {"anschrift.plz", "1905"},
                     {"anschrift.ort", "Schwerin"},
                     {"email", "erika at example.org"}});
  ASSERT_TRUE(o.error);
  EXPECT_EQ(error_on(o, "name.nachname"), "Bitte füllen Sie „Ihr Name: Familienname“ aus.");
  EXPECT_EQ(error_on(o, "geburtsdatum"),
            "Geben Sie bei „Geburtsdatum“ ein Datum ein, zum Beispiel 31.01.1990.");
  EXPECT_EQ(error_on(o, "anschrift.plz"), "„Ihre Anschrift: Postleitzahl“ hat fünf Ziffern.");
  EXPECT_NE(error_on(o, "email").find("E-Mail-Adresse"), std::string::npos);
  EXPECT_EQ(error_on(o, "anschrift.hausnummer"), "(no error on anschrift.hausnummer)");
  // nothing of the page is kept; what was typed is shown again
  EXPECT_TRUE(o.answers.empty());
  EXPECT_EQ(o.entered.at("anschrift.plz"), "1905");

  auto young = f.submit("halter", {},
                        {{"name.vorname", "Kim"},
                         {"name.nachname", "Kurz"},
                         {"geburtsdatum", "04.12.2010"},
                         {"anschrift.strasse", "A"},
                         {"anschrift.plz", "19055"},
                         {"anschrift.ort", "Schwerin"},
                         {"telefon", "0385 1234"}});
  EXPECT_EQ(error_on(young, "geburtsdatum"),
            "„Geburtsdatum“ darf nicht nach dem 03.12.2010 liegen.");
}

TEST_F(Filling_, ARuleAcrossFieldsHasItsOwnMessage) {
  auto f = filling();
  auto posted = halter();
  for (auto& [k, v] : posted) {
    if (k == "email") v.clear();
  }
  auto o = f.submit("halter", {}, posted);
  EXPECT_NE(error_on(o, "telefon").find("Telefonnummer oder eine E-Mail-Adresse"),
            std::string::npos);
}

TEST_F(Filling_, AcceptedAnswersAreStoredInTheirCanonicalForm) {
  auto f = filling();
  auto a = through(f, {}, "halter", halter());
  EXPECT_EQ(a.at("geburtsdatum"), "1985-03-27");
  EXPECT_EQ(a.at("name.nachname"), "Mustermann");
  EXPECT_FALSE(a.contains("telefon"));
  EXPECT_EQ(a.at("_done"), "halter");
}

TEST_F(Filling_, TwoDogsAndAConditionThatAsksForThePermit) {
  auto f = filling();
  Answers a;
  a = through(f, a, "wohnort", {{"im_gemeindegebiet", "ja"}});
  a = through(f, a, "halter", halter());
  // the permit date is asked only of the dangerous dog
  auto posted = two_dogs("nein");
  a = through(f, a, "hunde", posted);
  EXPECT_EQ(a.at("hunde"), "2");
  EXPECT_FALSE(a.contains("hunde[1].erlaubnis_datum"));
  EXPECT_EQ(a.at("hunde[0].haltung_seit"), "2026-09-01");

  posted = two_dogs("ja");
  for (auto& [k, v] : posted) {
    if (k == "hunde[1].erlaubnis_datum") v.clear();
  }
  auto missing = f.submit("hunde", a, posted);
  EXPECT_EQ(
      error_on(missing, "hunde[1].erlaubnis_datum"),
      "Bitte füllen Sie „Datum der Erlaubnis zum Halten eines gefährlichen Hundes (Hund 2)“ aus.");
  a = through(f, a, "hunde", two_dogs("ja"));
  EXPECT_EQ(a.at("hunde[1].erlaubnis_datum"), "2026-11-20");

  a = through(f, a, "ermaessigung", {{"ermaessigung_beantragt", "nein"}});
  EXPECT_EQ(f.next_page(a), "zahlung");  // the page of reasons does not apply
  a = through(f, a, "zahlung", {{"lastschrift", "ja"}});
  EXPECT_EQ(f.next_page(a), "bankverbindung");
  auto bad_iban = f.submit("bankverbindung", a,
                           {{"konto.iban", "DE89 3704 0044 0532 0130 01"},
                            {"konto.kontoinhaber", "Erika Mustermann"},
                            {"mandat", "ja"}});
  EXPECT_EQ(error_on(bad_iban, "konto.iban"),
            "„Ihr Konto: IBAN“ ist keine gültige IBAN. Bitte prüfen Sie sie.");
  a = through(f, a, "bankverbindung",
              {{"konto.iban", "de89 3704 0044 0532 0130 00"},
               {"konto.kontoinhaber", "Erika Mustermann"},
               {"mandat", "ja"}});
  EXPECT_EQ(a.at("konto.iban"), "DE89370400440532013000");
  auto unconfirmed = f.submit("erklaerung", a, {});
  EXPECT_EQ(error_on(unconfirmed, "richtig"), "Bitte bestätigen Sie „Erklärung“.");
  a = through(f, a, "erklaerung", {{"richtig", "ja"}});
  EXPECT_EQ(f.next_page(a), "");
  EXPECT_TRUE(f.finish(a));

  auto applicable = f.applicable(a);
  EXPECT_EQ(applicable.at("summe"), "720");
  EXPECT_EQ(applicable.at("hunde[1].steuer"), "600");
  EXPECT_FALSE(applicable.contains("_done"));

  auto sections = f.summary(a);
  std::vector<std::string> rows;
  for (const auto& s : sections) {
    for (const auto& r : s.rows) rows.push_back(r.label + " = " + r.value);
  }
  auto has = [&](const std::string& row) {
    return std::find(rows.begin(), rows.end(), row) != rows.end();
  };
  EXPECT_TRUE(
      has("Datum der Erlaubnis zum Halten eines gefährlichen Hundes (Hund 2) = 20.11.2026"));
  EXPECT_FALSE(
      has("Datum der Erlaubnis zum Halten eines gefährlichen Hundes (Hund 1) = Nicht angegeben"));
  EXPECT_TRUE(has("Geschlecht (Hund 2) = Hündin"));
  EXPECT_TRUE(has("Ihr Konto = DE89 3704 0044 0532 0130 00\nErika Mustermann"));
  EXPECT_TRUE(has("Hundesteuer im Jahr (voraussichtlich, in Euro) = 720"));
  EXPECT_TRUE(has("Ihre Anschrift = Am Markt 1\n19055 Schwerin"));

  // changing a page's answer so that a later page no longer applies drops it from the way
  a = through(f, a, "zahlung", {{"lastschrift", "nein"}});
  EXPECT_TRUE(f.finish(a));
  EXPECT_FALSE(f.applicable(a).contains("konto.iban"));
}

TEST_F(Filling_, AddAnotherAndRemoveKeepWhatWasTypedAndRenumber) {
  auto f = filling();
  auto posted = two_dogs("nein");
  posted.emplace_back("aktion", "hinzufuegen:hunde");
  auto added = f.submit("hunde", {}, posted);
  EXPECT_TRUE(added.stay);
  EXPECT_FALSE(added.error);
  EXPECT_EQ(added.entered.at("hunde"), "3");
  EXPECT_EQ(added.entered.at("hunde[1].rufname"), "Zora");

  posted = two_dogs("nein");
  posted.emplace_back("aktion", "entfernen:hunde:0");
  auto removed = f.submit("hunde", {}, posted);
  EXPECT_EQ(removed.entered.at("hunde"), "1");
  EXPECT_EQ(removed.entered.at("hunde[0].rufname"), "Zora");
  EXPECT_FALSE(removed.entered.contains("hunde[1].rufname"));

  // the last item stays (minCount 1), and more than maxCount are never made
  Posted one = {{"hunde", "1"}, {"hunde[0].rufname", "Bello"}, {"aktion", "entfernen:hunde:0"}};
  EXPECT_EQ(f.submit("hunde", {}, one).entered.at("hunde"), "1");
  Posted many = {{"hunde", "10"}, {"aktion", "hinzufuegen:hunde"}};
  EXPECT_EQ(f.submit("hunde", {}, many).entered.at("hunde"), "10");
  Posted forged = {{"hunde", "5000"}};
  auto o = f.submit("hunde", {}, forged);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.entered.at("hunde"), "10");
}

TEST_F(Filling_, ThePageViewHasProgressErrorsAndTheFieldsOwnMessages) {
  auto f = filling();
  auto o = f.submit("halter", {}, {{"name.vorname", "Erika"}});
  auto view = f.page_view("halter", {}, &o.entered, &*o.error);
  web::Templates templates;
  templates.add("web", web::embedded_resources());
  templates.add("forms", embedded_resources());
  std::string html = templates.render("forms/page", view, {}, &texts_, "de");
  EXPECT_NE(html.find("Schritt 2 von"), std::string::npos);
  EXPECT_NE(html.find(R"(href="#f-name-nachname")"), std::string::npos);
  EXPECT_NE(html.find(R"(id="f-name-nachname")"), std::string::npos);
  EXPECT_NE(html.find("aria-invalid=\"true\""), std::string::npos);
  EXPECT_NE(html.find(R"(autocomplete="given-name")"), std::string::npos);
  EXPECT_NE(html.find(R"(value="Erika")"), std::string::npos);
}

// Mustache looks a key a field lacks up in the page around it: the page's hint stood under
// every question without one, and one part's error under every part of an address.
TEST_F(Filling_, AFieldShowsOnlyItsOwnHintAndAPartOnlyItsOwnError) {
  auto f = filling();
  web::Templates templates;
  templates.add("web", web::embedded_resources());
  templates.add("forms", embedded_resources());
  auto render = [&](const web::View& v) {
    return templates.render("forms/page", v, {}, &texts_, "de");
  };
  auto count = [](const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  };
  auto dogs = render(f.page_view("hunde", {}, nullptr, nullptr));
  EXPECT_EQ(count(dogs, "Geben Sie jeden Hund an, den Sie halten."), 1u);
  auto o = f.submit("halter", {},
                    {{"name.vorname", "Erika"},
                     {"name.nachname", "M"},
                     {"geburtsdatum", "01.01.1980"},
                     {"anschrift.strasse", "Am Markt"},
                     {"anschrift.plz", "1905"},
                     {"anschrift.ort", "Schwerin"},
                     {"email", "e@example.org"}});
  ASSERT_TRUE(o.error);
  auto holder = render(f.page_view("halter", {}, &o.entered, &*o.error));
  EXPECT_EQ(count(holder, "hat fünf Ziffern"), 2u) << "in the summary and at the postcode";
  EXPECT_EQ(count(holder, "aria-invalid=\"true\""), 1u);
  EXPECT_EQ(holder.find("f-anschrift-error"), std::string::npos)
      << "no reference to an element that is not there";
}

TEST_F(Filling_, PrefillFillsEmptyAnswersAndLockedOnesCannotBeChanged) {
  FillContext c;
  c.prefill = {{"account.given_name", "Erika"},
               {"account.family_name", "Mustermann"},
               {"account.birth_date", "1964-08-12"},
               {"account.email", "erika@example.org"}};
  c.locked = {"account.name", "account.birth_date"};
  auto f = filling(c);
  auto a = f.prefilled({{"email", "andere@example.org"}});
  EXPECT_EQ(a.at("name.vorname"), "Erika");
  EXPECT_EQ(a.at("geburtsdatum"), "1964-08-12");
  EXPECT_EQ(a.at("email"), "andere@example.org");  // the citizen's own answer stays

  auto posted = halter();
  for (auto& [k, v] : posted) {
    if (k == "name.nachname") v = "Gabler";
    if (k == "geburtsdatum") v = "01.01.1990";
  }
  auto accepted = through(f, a, "halter", posted);
  EXPECT_EQ(accepted.at("name.nachname"), "Mustermann");
  EXPECT_EQ(accepted.at("geburtsdatum"), "1964-08-12");
}

TEST_F(Filling_, AnswersTravelAsJsonAndForeignJsonIsRefused) {
  Answers a = {{"a", "1"}, {"b[0].c", "Grüße\n\"zitiert\""}};
  EXPECT_EQ(answers_from_json(answers_to_json(a)), a);
  EXPECT_FALSE(answers_from_json("[1,2]"));
  EXPECT_FALSE(answers_from_json(R"({"a": 1})"));
  EXPECT_FALSE(answers_from_json("{"));
}

}  // namespace
}  // namespace mvsp::forms
