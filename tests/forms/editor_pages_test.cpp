// The form editor over HTTP, on both databases: a district's editor builds a form without
// code (pages, questions, a condition picked from lists, a route), publishes it and the
// preview shows it; mistakes are named; the state's forms are not theirs to change.
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/web/http.hpp>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::forms {
namespace {

constexpr const char* kPassword = "ein langes Passwort 2026";
const catalog::Editor kState{.actor = "test", .state_wide = true, .tenant_ids = {}};

std::string enc(const std::string& s) {
  return web::url_encode(s);
}

class FormEditor : public test::ServerTest {
 protected:
  void add_routes(app::App& app) override {
    app.load_demo_data();
    auto& identity = app.get<mvsp::identity::Identity>();
    auto tenant = identity.staff.create_tenant("lk-nwm", "test");
    ASSERT_TRUE(tenant);
    auto a = *app.get<catalog::Catalog>().authority("lk-nwm");
    a.tenant_id = tenant->id;
    ASSERT_TRUE(app.get<catalog::Catalog>().put_authority(kState, a));
    ASSERT_TRUE(identity.accounts.create_account({.email = "redaktion@nordwestmecklenburg.example",
                                                  .password = kPassword,
                                                  .given_name = "Red",
                                                  .family_name = "Aktion",
                                                  .verified = true,
                                                  .role = "editor",
                                                  .tenant_id = tenant->id},
                                                 "test"));
  }

  test::HttpClient signed_in() {
    auto c = client();
    auto page = c.get("/anmelden");
    auto res =
        c.post_form("/anmelden", {{"email", enc("redaktion@nordwestmecklenburg.example")},
                                  {"password", enc(kPassword)},
                                  {"csrf_token", test::HttpClient::csrf_token_in(page.body)}});
    EXPECT_EQ(res.status, 303);
    return c;
  }

  // Posts `fields` to `path` with the CSRF token of the page at `from`.
  static test::HttpResponse post(test::HttpClient& c, const std::string& from,
                                 const std::string& path,
                                 std::vector<std::pair<std::string, std::string>> fields) {
    auto page = c.get(from);
    for (auto& [k, v] : fields) v = enc(v);
    fields.emplace_back("csrf_token", test::HttpClient::csrf_token_in(page.body));
    return c.post_form(path, fields);
  }
};

TEST_P(FormEditor, AnEditorBuildsAFormWithoutCodePublishesItAndThePreviewShowsIt) {
  auto c = signed_in();
  const std::string list = "/redaktion/formulare";
  const std::string base = "/redaktion/formulare/parkausweis-nwm";
  auto created = post(c, list, list,
                      {{"title", "Bewohnerparkausweis beantragen"},
                       {"key", "parkausweis-nwm"},
                       {"owner", "lk-nwm"}});
  ASSERT_EQ(created.status, 303);
  EXPECT_EQ(created.header("location"), base);
  ASSERT_EQ(c.get(base).status, 200);

  const std::string page1 = base + "/seiten/seite_1";
  ASSERT_EQ(post(c, page1, page1,
                 {{"aktion", "frage_neu"},
                  {"question_id", "zweitwagen"},
                  {"question_label", "Haben Sie schon einen Parkausweis für ein anderes Fahrzeug?"},
                  {"type", "yes_no"}})
                .status,
            303);
  ASSERT_EQ(post(c, base, base,
                 {{"aktion", "seite_neu"}, {"page_id", "fahrzeug"}, {"page_title", "Ihr Fahrzeug"}})
                .status,
            303);
  ASSERT_EQ(post(c, base, base,
                 {{"aktion", "seite_neu"},
                  {"page_id", "nicht_moeglich"},
                  {"page_title", "Nur ein Ausweis"}})
                .status,
            303);
  const std::string page2 = base + "/seiten/fahrzeug";
  ASSERT_EQ(post(c, page2, page2,
                 {{"aktion", "frage_neu"},
                  {"question_id", "kennzeichen"},
                  {"question_label", "Amtliches Kennzeichen"},
                  {"type", "text"}})
                .status,
            303);
  // the question's own rules
  const std::string q = page2 + "/fragen/kennzeichen";
  auto saved = post(c, q, q,
                    {{"label", "Amtliches Kennzeichen"},
                     {"hint", "Zum Beispiel NWM-AB 123"},
                     {"required", "1"},
                     {"max_length", "12"},
                     {"pattern", "[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} [0-9]{1,4}"},
                     {"pattern_message", "Bitte das Kennzeichen wie NWM-AB 123 angeben."},
                     {"xml_name", ""},
                     {"bedingung_frage", ""}});
  ASSERT_EQ(saved.status, 303);
  // a condition whose value does not fit the question is named, and nothing is saved
  const std::string page3 = base + "/seiten/nicht_moeglich";
  auto bad = post(c, page3, page3,
                  {{"page_title", "Nur ein Ausweis"},
                   {"exit", "1"},
                   {"text", "Je Haushalt gibt es einen Bewohnerparkausweis."},
                   {"bedingung_frage", "zweitwagen"},
                   {"bedingung_op", "="},
                   {"bedingung_wert", "vielleicht"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("Dieser Wert passt nicht zur gewählten Frage."), std::string::npos);
  // the exit page, and the route to it from the first page, picked from lists
  ASSERT_EQ(post(c, page3, page3,
                 {{"page_title", "Nur ein Ausweis"},
                  {"exit", "1"},
                  {"text", "Je Haushalt gibt es einen Bewohnerparkausweis."},
                  {"bedingung_frage", ""}})
                .status,
            303);
  ASSERT_EQ(post(c, page1, page1,
                 {{"aktion", "route_neu"},
                  {"weiter_frage", "zweitwagen"},
                  {"weiter_op", "="},
                  {"weiter_wert", "ja"},
                  {"target", "nicht_moeglich"}})
                .status,
            303);
  auto overview_pages = c.get(base);
  EXPECT_EQ(overview_pages.body.find(R"(name="aktion" value="")"), std::string::npos)
      << "no button without an action";
  EXPECT_NE(overview_pages.body.find("Fragen: 1"), std::string::npos);
  auto page1_shown = c.get(page1);
  EXPECT_NE(page1_shown.body.find("zweitwagen = true"), std::string::npos);

  // publish; the preview is the citizen's view of version 1
  auto overview = c.get(base);
  EXPECT_NE(overview.body.find("Noch keine Version veröffentlicht."), std::string::npos);
  ASSERT_EQ(post(c, base, base + "/veroeffentlichen", {}).status, 303);
  auto& store = app_->get<Forms>();
  auto v1 = store.published("parkausweis-nwm");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->owner, "lk-nwm");
  // an online service of the district asks this form: version 1 exists, version 9 does not
  auto& catalog = app_->get<catalog::Catalog>();
  const catalog::Editor district{.actor = v1->changed_by,
                                 .state_wide = false,
                                 .tenant_ids = {catalog.authority("lk-nwm")->tenant_id}};
  catalog::OnlineService parking{.id = {},
                                 .leika_key = "99068001000000",
                                 .name = "Bewohnerparken NWM",
                                 .owner = "lk-nwm",
                                 .state = {},
                                 .version = 1,
                                 .config = {},
                                 .adopted_by = {}};
  parking.config.form = "parkausweis-nwm";
  parking.config.form_version = 9;
  auto missing = catalog.put_online_service(district, parking);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().fields.front().field, "onlineService.config.formVersion");
  parking.config.form_version = 1;
  auto asks = catalog.put_online_service(district, parking);
  ASSERT_TRUE(asks) << asks.error().message;
  EXPECT_EQ(catalog.online_service(asks->id)->config.form, "parkausweis-nwm");

  auto citizen = client();
  const std::string preview = "/formulare/parkausweis-nwm/vorschau";
  auto first = citizen.get(preview + "/seiten/seite_1");
  ASSERT_EQ(first.status, 200);
  auto no = citizen.post_form(
      preview + "/seiten/seite_1",
      {{"zweitwagen", "ja"}, {"csrf_token", test::HttpClient::csrf_token_in(first.body)}});
  EXPECT_EQ(no.header("location"), preview + "/seiten/nicht_moeglich");
  auto wrong = citizen.get(preview + "/seiten/seite_1");
  citizen.post_form(
      preview + "/seiten/seite_1",
      {{"zweitwagen", "nein"}, {"csrf_token", test::HttpClient::csrf_token_in(wrong.body)}});
  auto car = citizen.get(preview + "/seiten/fahrzeug");
  auto refused = citizen.post_form(
      preview + "/seiten/fahrzeug",
      {{"kennzeichen", enc("HWI 12")}, {"csrf_token", test::HttpClient::csrf_token_in(car.body)}});
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("Bitte das Kennzeichen wie NWM-AB 123 angeben."), std::string::npos);

  // the next change is a draft of version 2, with what changed
  ASSERT_EQ(post(c, q, q,
                 {{"label", "Kennzeichen des Fahrzeugs"},
                  {"required", "1"},
                  {"max_length", "12"},
                  {"pattern", "[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} [0-9]{1,4}"},
                  {"bedingung_frage", ""}})
                .status,
            303);
  auto draft = c.get(base);
  EXPECT_NE(draft.body.find("Entwurf der Version 2"), std::string::npos);
  EXPECT_NE(
      draft.body.find("Frage „Kennzeichen des Fahrzeugs“ auf Seite „Ihr Fahrzeug“ geändert: Frage"),
      std::string::npos);
  auto exported = c.get(base + "/export.json?version=1");
  ASSERT_EQ(exported.status, 200);
  EXPECT_NE(exported.body.find("\"Amtliches Kennzeichen\""), std::string::npos);
  EXPECT_EQ(c.get(base + "/versionen").status, 200);
}

TEST_P(FormEditor, TheStatesFormsAndOtherPeoplesAreNotADistrictEditorsToChange) {
  auto c = signed_in();
  EXPECT_EQ(c.get("/redaktion/formulare/hundesteuer-anmelden").status, 403);
  EXPECT_EQ(c.get("/redaktion/formulare/hundesteuer-anmelden/vorschau").status, 403);
  auto list = c.get("/redaktion/formulare");
  EXPECT_EQ(list.body.find("Hund zur Hundesteuer anmelden"), std::string::npos);
  auto publish = post(c, "/redaktion/formulare",
                      "/redaktion/formulare/hundesteuer-anmelden/veroeffentlichen", {});
  EXPECT_EQ(publish.status, 403);
  auto as_state = post(c, "/redaktion/formulare", "/redaktion/formulare",
                       {{"title", "Landesformular"}, {"key", "land-x"}, {"owner", ""}});
  EXPECT_EQ(as_state.status, 403);
  EXPECT_EQ(client().get("/redaktion/formulare").status, 303) << "anonymous: to the login";
}

// A citizen once learned from 403 and 404 which drafts exist; now both are 403.
TEST_P(FormEditor, ADraftsPreviewTellsNoOneButEditorsWhetherItExists) {
  auto c = client();
  auto page = c.get("/anmelden");
  ASSERT_EQ(c.post_form("/anmelden", {{"email", enc("erika.mustermann@example.org")},
                                      {"password", enc("Demo-Passwort-2026")},
                                      {"csrf_token", test::HttpClient::csrf_token_in(page.body)}})
                .status,
            303);
  EXPECT_EQ(c.get("/redaktion/formulare/hundesteuer-anmelden/vorschau").status, 403);
  EXPECT_EQ(c.get("/redaktion/formulare/gibt-es-nicht/vorschau").status, 403);
}

TEST_P(FormEditor, AnImportThatIsNoFormIsRefusedNamingWhy) {
  auto c = signed_in();
  auto bad = post(
      c, "/redaktion/formulare", "/redaktion/formulare",
      {{"json", R"({"format":"mvsp-form/1","key":"x","title":"X","pages":[{"id":"p","title":"P",
                     "questions":[{"id":"a","type":"text","label":"A","showIf":"b = 1"}]}]})"},
       {"owner", "lk-nwm"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find(
                "pages[0].questions[0].showIf: Ausdruck ungültig: Zeichen 1: unbekannte Frage „b“"),
            std::string::npos);
  auto key = post(c, "/redaktion/formulare", "/redaktion/formulare",
                  {{"title", "Mit Leerzeichen"}, {"key", "mit leerzeichen"}, {"owner", "lk-nwm"}});
  EXPECT_EQ(key.status, 422);
  EXPECT_NE(key.body.find("Kleinbuchstaben, Ziffern und Bindestriche"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, FormEditor, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::forms
