// The preview over HTTP with the demo forms, on both databases: a citizen walks through
// the Hundesteuer form (an exit page, errors that name the field, two dogs, check answers
// with change links, the outputs); drafts only for their editors.
#include <gtest/gtest.h>

#include <mvsp/forms/forms.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/web/http.hpp>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::forms {
namespace {

constexpr const char* kBase = "/formulare/hundesteuer-anmelden/vorschau";

std::string enc(const std::string& s) {
  return web::url_encode(s);
}

class PreviewPages : public test::ServerTest {
 protected:
  void add_routes(app::App& app) override { app.load_demo_data(); }

  // Posts a page's fields with the page's CSRF token.
  test::HttpResponse post(test::HttpClient& c, const std::string& page,
                          std::vector<std::pair<std::string, std::string>> fields) {
    auto shown = c.get(std::string(kBase) + "/seiten/" + page);
    for (auto& [k, v] : fields) v = enc(v);
    fields.emplace_back("csrf_token", test::HttpClient::csrf_token_in(shown.body));
    return c.post_form(std::string(kBase) + "/seiten/" + page, fields);
  }
};

TEST_P(PreviewPages, ACitizenFillsTheHundesteuerFormForTwoDogs) {
  auto c = client();
  auto start = c.get(kBase);
  ASSERT_EQ(start.status, 200);
  EXPECT_NE(start.body.find("Hund zur Hundesteuer anmelden"), std::string::npos);
  EXPECT_NE(start.body.find(std::string(kBase) + "/seiten/wohnort"), std::string::npos);

  // No: the way ends on the exit page, which says why
  auto no = post(c, "wohnort", {{"im_gemeindegebiet", "nein"}});
  ASSERT_EQ(no.status, 303);
  EXPECT_EQ(no.header("location"), std::string(kBase) + "/seiten/nicht_zustaendig");
  auto exit = c.get(no.header("location"));
  EXPECT_NE(exit.body.find("erhebt die Gemeinde, in der Sie mit dem Hund wohnen"),
            std::string::npos);
  EXPECT_EQ(exit.body.find("<form method=\"post\" action=\"/formulare"), std::string::npos);
  // the check page is not reachable from an exit
  EXPECT_EQ(c.get(std::string(kBase) + "/pruefen").header("location"),
            std::string(kBase) + "/seiten/nicht_zustaendig");

  ASSERT_EQ(post(c, "wohnort", {{"im_gemeindegebiet", "ja"}}).header("location"),
            std::string(kBase) + "/seiten/halter");
  // errors: 422, the title says so, the summary links to each field, what was typed stays
  auto bad = post(c, "halter", {{"name.vorname", "Erika"}, {"anschrift.plz", "1905"}});
  ASSERT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("<title>Fehler: Angaben zur Hundehalterin"), std::string::npos)
      << bad.body.substr(0, 400);
  EXPECT_NE(
      bad.body.find(
          R"(<a class="kern-link" href="#f-name-nachname">Bitte füllen Sie „Ihr Name: Familienname“ aus.</a>)"),
      std::string::npos);
  EXPECT_NE(bad.body.find(R"(href="#f-anschrift-plz")"), std::string::npos);
  EXPECT_NE(bad.body.find(R"(value="1905")"), std::string::npos);
  EXPECT_NE(bad.body.find(R"(value="Erika")"), std::string::npos);

  ASSERT_EQ(post(c, "halter",
                 {{"name.vorname", "Erika"},
                  {"name.nachname", "Mustermann"},
                  {"geburtsdatum", "27.03.1985"},
                  {"anschrift.strasse", "Am Markt"},
                  {"anschrift.hausnummer", "1"},
                  {"anschrift.plz", "19055"},
                  {"anschrift.ort", "Schwerin"},
                  {"email", "erika@example.org"}})
                .status,
            303);
  // "add another" without JavaScript: the page comes back with a second dog
  auto added = post(
      c, "hunde", {{"hunde", "1"}, {"hunde[0].rufname", "Bello"}, {"aktion", "hinzufuegen:hunde"}});
  ASSERT_EQ(added.status, 200);
  EXPECT_NE(added.body.find("Hund 2"), std::string::npos);
  EXPECT_NE(added.body.find(R"(value="Bello")"), std::string::npos);
  ASSERT_EQ(post(c, "hunde",
                 {{"hunde", "2"},
                  {"hunde[0].rufname", "Bello"},
                  {"hunde[0].rasse", "Labrador"},
                  {"hunde[0].geschlecht", "m"},
                  {"hunde[0].wurfdatum", "01.05.2020"},
                  {"hunde[0].haltung_seit", "01.09.2026"},
                  {"hunde[0].gefaehrlich", "nein"},
                  {"hunde[1].rufname", "Zora"},
                  {"hunde[1].rasse", "Schäferhund"},
                  {"hunde[1].geschlecht", "w"},
                  {"hunde[1].wurfdatum", "10.02.2019"},
                  {"hunde[1].haltung_seit", "15.11.2026"},
                  {"hunde[1].gefaehrlich", "ja"},
                  {"hunde[1].erlaubnis_datum", "20.11.2026"}})
                .header("location"),
            std::string(kBase) + "/seiten/ermaessigung");
  ASSERT_EQ(post(c, "ermaessigung", {{"ermaessigung_beantragt", "nein"}}).header("location"),
            std::string(kBase) + "/seiten/zahlung");
  ASSERT_EQ(post(c, "zahlung", {{"lastschrift", "nein"}}).header("location"),
            std::string(kBase) + "/seiten/erklaerung");
  ASSERT_EQ(post(c, "erklaerung", {{"richtig", "ja"}}).header("location"),
            std::string(kBase) + "/pruefen");

  auto check = c.get(std::string(kBase) + "/pruefen");
  ASSERT_EQ(check.status, 200);
  EXPECT_NE(check.body.find("Zora"), std::string::npos);
  EXPECT_NE(check.body.find("20.11.2026"), std::string::npos);
  EXPECT_NE(check.body.find(std::string(kBase) + "/seiten/hunde#f-hunde-1-rufname"),
            std::string::npos);
  EXPECT_NE(check.body.find("720"), std::string::npos) << "the computed tax";
  EXPECT_EQ(check.body.find("#f-summe"), std::string::npos)
      << "a computed value has no change link";
  EXPECT_EQ(check.body.find("Bankverbindung"), std::string::npos) << "a page that does not apply";

  auto done = c.post_form(std::string(kBase) + "/pruefen",
                          {{"csrf_token", test::HttpClient::csrf_token_in(check.body)}});
  ASSERT_EQ(done.status, 303);
  auto xml = c.get(std::string(kBase) + "/antworten.xml");
  ASSERT_EQ(xml.status, 200);
  EXPECT_NE(xml.body.find("<Rufname>Zora</Rufname>"), std::string::npos);
  EXPECT_EQ(xml.header("content-type"), "application/xml; charset=utf-8");
  auto pdf = c.get(std::string(kBase) + "/antworten.pdf");
  EXPECT_EQ(pdf.header("content-type"), "application/pdf");
  EXPECT_TRUE(pdf.body.starts_with("%PDF-"));
  auto json = c.get(std::string(kBase) + "/antworten.json");
  EXPECT_NE(json.body.find(R"("rasse": "Schäferhund")"), std::string::npos);

  // another visitor has none of these answers
  EXPECT_EQ(client().get(std::string(kBase) + "/antworten.xml").status, 303);
  // starting again forgets the answers and that the form was finished
  auto finished = c.get(std::string(kBase) + "/fertig");
  ASSERT_EQ(finished.status, 200);
  EXPECT_EQ(c.post_form(std::string(kBase) + "/neu",
                        {{"csrf_token", test::HttpClient::csrf_token_in(finished.body)}})
                .status,
            303);
  EXPECT_EQ(c.get(std::string(kBase) + "/fertig").status, 303);
}

TEST_P(PreviewPages, PagesOffTheWayAndUnknownFormsAreNotShown) {
  auto c = client();
  auto skipped = c.get(std::string(kBase) + "/seiten/erklaerung");
  EXPECT_EQ(skipped.status, 303);
  EXPECT_EQ(skipped.header("location"), std::string(kBase) + "/seiten/wohnort");
  EXPECT_EQ(c.get("/formulare/gibt-es-nicht/vorschau").status, 404);
  EXPECT_EQ(c.get(std::string(kBase) + "/seiten/gibt_es_nicht").status, 303);
  // a post without the page's CSRF token changes nothing
  c.get(kBase);
  auto forged =
      c.post_form(std::string(kBase) + "/seiten/wohnort", {{"im_gemeindegebiet", "nein"}});
  EXPECT_EQ(forged.status, 403);
}

// Unknown fields once went into the session: five posts of 5,000 fields made it 25 MB, read
// on every request. Only the page's own fields are kept now.
TEST_P(PreviewPages, FieldsNoQuestionHasDoNotGrowTheSession) {
  auto c = client();
  std::vector<std::pair<std::string, std::string>> fields = {{"im_gemeindegebiet", "ja"}};
  for (int i = 0; i < 2000; ++i)
    fields.emplace_back("junk" + std::to_string(i), std::string(500, 'x'));
  EXPECT_EQ(post(c, "wohnort", fields).status, 303);
  auto biggest = db().query_one("SELECT MAX(LENGTH(data)) FROM sessions");
  ASSERT_TRUE(biggest);
  EXPECT_LT(biggest->integer(0), 2000);
}

TEST_P(PreviewPages, ADraftIsPreviewedOnlyByItsEditors) {
  auto anonymous = client().get("/redaktion/formulare/hundesteuer-anmelden/vorschau");
  EXPECT_EQ(anonymous.status, 303);
  EXPECT_NE(anonymous.header("location").find("/anmelden"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, PreviewPages, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::forms
