// The editorial pages over HTTP with the demo catalog, on both databases: a district
// editor changes its own local texts and nothing of another district; notices of new
// versions appear for adopting authorities.
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/finder/finder.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/web/http.hpp>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::catalog {
namespace {

constexpr const char* kPassword = "ein langes Passwort 2026";
const Editor kState{.actor = "test", .state_wide = true, .tenant_ids = {}};

std::string enc(const std::string& s) {
  return web::url_encode(s);
}

class EditorPages : public test::ServerTest {
 protected:
  void add_routes(app::App& app) override {
    app.load_demo_data();
    auto& identity = app.get<mvsp::identity::Identity>();
    for (auto [authority, email] : {std::pair{"lk-nwm", "redaktion@nordwestmecklenburg.example"},
                                    std::pair{"lk-lup", "redaktion@kreis-lup.example"}}) {
      auto tenant = identity.staff.create_tenant(authority, "test");
      ASSERT_TRUE(tenant);
      auto a = *app.get<catalog::Catalog>().authority(authority);
      a.tenant_id = tenant->id;
      ASSERT_TRUE(app.get<catalog::Catalog>().put_authority(kState, a));
      ASSERT_TRUE(identity.accounts.create_account({.email = email,
                                                    .password = kPassword,
                                                    .given_name = "Red",
                                                    .family_name = "Aktion",
                                                    .verified = true,
                                                    .role = "editor",
                                                    .tenant_id = tenant->id},
                                                   "test"));
    }
  }

  test::HttpClient signed_in(const std::string& email, const std::string& password = kPassword) {
    auto c = client();
    auto page = c.get("/anmelden");
    auto res =
        c.post_form("/anmelden", {{"email", enc(email)},
                                  {"password", enc(password)},
                                  {"csrf_token", test::HttpClient::csrf_token_in(page.body)}});
    EXPECT_EQ(res.status, 303) << email;
    return c;
  }
};

TEST_P(EditorPages, ADistrictEditorChangesOwnLocalTextsButNotAnotherDistricts) {
  auto c = signed_in("redaktion@nordwestmecklenburg.example");
  auto overview = c.get("/redaktion");
  ASSERT_EQ(overview.status, 200);
  EXPECT_NE(overview.body.find("Landkreis Nordwestmecklenburg, Kreisverwaltung"),
            std::string::npos);
  EXPECT_EQ(overview.body.find("Landkreis Ludwigslust-Parchim, Kreisverwaltung"),
            std::string::npos);

  auto form = c.get("/redaktion/leistungen/99048001000000/lk-nwm");
  ASSERT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("Elternbeitragsfrei"), std::string::npos) << "shows the state text";
  auto token = test::HttpClient::csrf_token_in(form.body);
  auto saved =
      c.post_form("/redaktion/leistungen/99048001000000/lk-nwm",
                  {{"fees", enc("Im Landkreis Nordwestmecklenburg: Verpflegung 3,50 Euro am Tag.")},
                   {"csrf_token", token}});
  EXPECT_EQ(saved.status, 303);
  // Grevesmühlen belongs to Nordwestmecklenburg: the service page shows the local text.
  auto page = client().get("/leistungen/99048001000000?ort=13074026");
  EXPECT_NE(page.body.find("Verpflegung 3,50 Euro am Tag"), std::string::npos);
  auto elsewhere = client().get("/leistungen/99048001000000?ort=13076108");
  EXPECT_EQ(elsewhere.body.find("Verpflegung 3,50 Euro am Tag"), std::string::npos);

  // Another district's texts: neither the form nor a forged post.
  EXPECT_EQ(c.get("/redaktion/leistungen/99048001000000/lk-lup").status, 403);
  auto forged = c.post_form("/redaktion/leistungen/99048001000000/lk-lup",
                            {{"fees", enc("Fremder Text")}, {"csrf_token", token}});
  EXPECT_EQ(forged.status, 403);
  auto lup = client().get("/leistungen/99048001000000?ort=13076108");
  EXPECT_EQ(lup.body.find("Fremder Text"), std::string::npos);
  EXPECT_EQ(c.post_form("/redaktion/leistungen/99048001000000/lk-nwm", {{"fees", "x"}}).status, 403)
      << "no CSRF token";
}

TEST_P(EditorPages, OnlyEditorsReachTheEditorialPages) {
  EXPECT_EQ(client().get("/redaktion").status, 303) << "anonymous: to the login";
  auto citizen = signed_in("erika.mustermann@example.org", "Demo-Passwort-2026");
  EXPECT_EQ(citizen.get("/redaktion").status, 403);
  EXPECT_EQ(citizen.get("/redaktion/online-dienste").status, 403);
  auto admin = signed_in("verwaltung@example.org", "Demo-Passwort-2026");
  EXPECT_EQ(admin.get("/redaktion").status, 403) << "authority_admin is not editor";
  auto op = signed_in("betrieb@example.org", "Demo-Passwort-2026");
  EXPECT_EQ(op.get("/redaktion").status, 200) << "operators edit the state's catalog";
}

TEST_P(EditorPages, AdoptingAuthoritiesSeeANoticeOfANewVersion) {
  auto changed = *app_->get<catalog::Catalog>().online_service("kita-antrag");
  changed.config.confirmation_text = "Neu: Ihr Antrag ist eingegangen.";
  auto v2 = app_->get<catalog::Catalog>().put_online_service(kState, changed);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->version, 2);
  auto c = signed_in("redaktion@nordwestmecklenburg.example");
  auto overview = c.get("/redaktion");
  EXPECT_NE(overview.body.find("Kita-Platz online beantragen"), std::string::npos);
  EXPECT_NE(overview.body.find("Version 2"), std::string::npos);
  auto list = c.get("/redaktion/online-dienste");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("Produktion"), std::string::npos);
}

TEST_P(EditorPages, AnEditorKeepsTheOwnEntryCurrentAndOnlyStateEditorsChangeServices) {
  auto c = signed_in("redaktion@nordwestmecklenburg.example");
  auto form = c.get("/redaktion/behoerden/lk-nwm");
  ASSERT_EQ(form.status, 200);
  auto token = test::HttpClient::csrf_token_in(form.body);
  auto fields = [&](const std::string& postcode) {
    return std::vector<std::pair<std::string, std::string>>{
        {"name", enc("Landkreis Nordwestmecklenburg, Kreisverwaltung")},
        {"street", enc("Rostocker Straße 76")},
        {"postcode", postcode},
        {"city", "Wismar"},
        {"phone", enc("03841 3040-9999")},
        {"csrf_token", token}};
  };
  auto bad = c.post_form("/redaktion/behoerden/lk-nwm", fields("2397"));
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("Eine Postleitzahl hat fünf Ziffern."), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("href=\"#feld-postcode\""), std::string::npos)
      << "summary links the field";
  EXPECT_EQ(app_->get<catalog::Catalog>().authority("lk-nwm")->phone, "03841 3040-0")
      << "nothing written";
  // Without a name and with a wrong address, each field is named, and the page keeps the
  // office's stored name as its title (it once had none).
  auto nameless = fields("23970");
  nameless[0].second = "";
  nameless.emplace_back("email", "kein-at");
  auto unnamed = c.post_form("/redaktion/behoerden/lk-nwm", nameless);
  EXPECT_EQ(unnamed.status, 422);
  EXPECT_NE(unnamed.body.find("href=\"#feld-name\""), std::string::npos);
  EXPECT_NE(unnamed.body.find("href=\"#feld-email\""), std::string::npos);
  EXPECT_NE(unnamed.body.find("<title>Landkreis Nordwestmecklenburg"), std::string::npos)
      << unnamed.body.substr(0, 400);
  EXPECT_EQ(c.post_form("/redaktion/behoerden/lk-nwm", fields("23970")).status, 303);
  EXPECT_EQ(app_->get<catalog::Catalog>().authority("lk-nwm")->phone, "03841 3040-9999");
  EXPECT_EQ(c.get("/redaktion/behoerden/lk-lup").status, 403);
  EXPECT_EQ(c.post_form("/redaktion/behoerden/lk-lup", fields("19370")).status, 403);
  EXPECT_EQ(c.get("/redaktion/leistungen/99108008000000").status, 403)
      << "services are the state's";

  auto op = signed_in("betrieb@example.org", "Demo-Passwort-2026");
  auto service = op.get("/redaktion/leistungen/99017001000000");
  ASSERT_EQ(service.status, 200);
  auto saved = op.post_form("/redaktion/leistungen/99017001000000",
                            {{"name", enc("Fundsache melden oder abholen")},
                             {"synonyms", enc("Fundbüro\nVerloren\nGefunden\nSchlüssel verloren")},
                             {"description", enc("Im Fundbüro geben Sie Fundsachen ab.")},
                             {"csrf_token", test::HttpClient::csrf_token_in(service.body)}});
  EXPECT_EQ(saved.status, 303);
  app_->get<finder::Finder>().refresh();
  auto found = client().get("/api/v1/search?q=Schl%C3%BCssel%20verloren");
  EXPECT_NE(found.body.find("99017001000000"), std::string::npos) << found.body;
  auto empty =
      op.post_form("/redaktion/leistungen/99017001000000",
                   {{"name", ""}, {"csrf_token", test::HttpClient::csrf_token_in(service.body)}});
  EXPECT_EQ(empty.status, 422);
  EXPECT_NE(empty.body.find("Geben Sie eine Bezeichnung ein"), std::string::npos);
}

TEST_P(EditorPages, OnlineServicesAreConfiguredInAFormAndNewVersionsCounted) {
  auto c = signed_in("redaktion@nordwestmecklenburg.example");
  auto form = c.get("/redaktion/online-dienste/neu");
  ASSERT_EQ(form.status, 200);
  EXPECT_EQ(form.body.find("Land (Einer-für-Alle-Dienst)"), std::string::npos)
      << "a district editor cannot make state services";
  auto token = test::HttpClient::csrf_token_in(form.body);
  auto post = [&](const std::string& path, const std::string& fee, const std::string& docs,
                  const std::string& leika) {
    return c.post_form(path, {{"name", enc("Sondernutzung online beantragen (NWM)")},
                              {"leikaKey", leika},
                              {"owner", "lk-nwm"},
                              {"steps", enc("Ort\nZeitraum\nAbsenden")},
                              {"documents", enc(docs)},
                              {"fee", enc(fee)},
                              {"retentionDays", "365"},
                              {"minLevel", "low"},
                              {"languages", "de"},
                              {"csrf_token", token}});
  };
  auto bad = post("/redaktion/online-dienste/neu", "zwanzig", "Lageplan; application/pdf", "123");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("Geben Sie die Gebühr in Euro ein"), std::string::npos);
  EXPECT_NE(bad.body.find("Jede Zeile braucht"), std::string::npos);
  auto unknown = post("/redaktion/online-dienste/neu", "20,00",
                      "Lageplan; application/pdf; 10; Pflicht", "99999999999999");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_NE(unknown.body.find("LeiKa-Schlüssel einer Leistung im Katalog"), std::string::npos)
      << unknown.body;
  auto created = post("/redaktion/online-dienste/neu", "20,00",
                      "Lageplan; application/pdf, image/png; 10; Pflicht", "99134002000000");
  ASSERT_EQ(created.status, 303) << created.body;
  auto path = created.header("location");
  auto id = path.substr(path.rfind('/') + 1);
  auto os = app_->get<catalog::Catalog>().online_service(id);
  ASSERT_TRUE(os);
  EXPECT_EQ(os->owner, "lk-nwm");
  EXPECT_EQ(os->config.fee_cents, 2000);
  ASSERT_EQ(os->config.documents.size(), 1u);
  EXPECT_EQ(os->config.documents[0].types.size(), 2u);
  EXPECT_EQ(os->config.documents[0].max_bytes, 10 * 1024 * 1024);
  // To test, to production, then a change is version 2.
  for (const char* state : {"test", "production"}) {
    EXPECT_EQ(c.post_form("/redaktion/online-dienste/" + id + "/status",
                          {{"state", state}, {"csrf_token", token}})
                  .status,
              303);
  }
  EXPECT_EQ(post(path, "25,00", "Lageplan; application/pdf; 10; Pflicht", "99134002000000").status,
            303);
  EXPECT_EQ(app_->get<catalog::Catalog>().online_service(id)->version, 2);
  EXPECT_EQ(app_->get<catalog::Catalog>().online_service(id)->config.fee_cents, 2500);
  // Another district's editor can neither open nor change it.
  auto lup = signed_in("redaktion@kreis-lup.example");
  EXPECT_EQ(lup.get(path).status, 403);
  EXPECT_EQ(c.get("/redaktion/online-dienste/efa-gewerbe").status, 403) << "the state's service";
}

TEST_P(EditorPages, StateEditorsCreateServicesWithTopicsAndResponsibilities) {
  auto op = signed_in("betrieb@example.org", "Demo-Passwort-2026");
  auto form = op.get("/redaktion/leistungen/neu");
  ASSERT_EQ(form.status, 200);
  auto token = test::HttpClient::csrf_token_in(form.body);
  auto create = [&](const std::string& key) {
    return op.request("POST", "/redaktion/leistungen/neu",
                      "leikaKey=" + key + "&name=" + enc("Drohnenflug anzeigen") +
                          "&level=state&topics=verkehr&topics=ordnung&lifeSituations=veranstaltung"
                          "&description=" +
                          enc("Flüge über Menschenansammlungen zeigen Sie an.") +
                          "&csrf_token=" + token,
                      {{"Content-Type", "application/x-www-form-urlencoded"}});
  };
  EXPECT_EQ(create("99108008000000").status, 422) << "the key is taken";
  EXPECT_EQ(create("12").status, 422);
  ASSERT_EQ(create("99999000000003").status, 303);
  auto s = app_->get<catalog::Catalog>().service("99999000000003");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->level, "state");
  EXPECT_EQ(s->topics, (std::vector<std::string>{"verkehr", "ordnung"}));
  EXPECT_EQ(s->life_situations, (std::vector<std::string>{"veranstaltung"}));
  // A responsibility for the whole state, then the route answers everywhere.
  auto page = op.get("/redaktion/leistungen/99999000000003");
  EXPECT_NE(page.body.find("Zuständigkeiten"), std::string::npos);
  auto bad = op.post_form("/redaktion/leistungen/99999000000003/zustaendigkeit",
                          {{"region", "99"}, {"authority", "lagus"}, {"csrf_token", token}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("Geben Sie ein Gebiet in Mecklenburg-Vorpommern an"), std::string::npos);
  EXPECT_EQ(op.post_form("/redaktion/leistungen/99999000000003/zustaendigkeit",
                         {{"region", "13"}, {"authority", "lpbk-mbd"}, {"csrf_token", token}})
                .status,
            303);
  auto route = client().get("/api/v1/routes?leikaKey=99999000000003&ags=13075039");
  EXPECT_NE(route.body.find("Munitionsbergungsdienst"), std::string::npos) << route.body;
  // A district editor may do neither.
  auto district = signed_in("redaktion@nordwestmecklenburg.example");
  EXPECT_EQ(district.get("/redaktion/leistungen/neu").status, 403);
  auto own_token = test::HttpClient::csrf_token_in(district.get("/redaktion").body);
  EXPECT_EQ(
      district
          .post_form("/redaktion/leistungen/99999000000003/zustaendigkeit",
                     {{"region", "13074"}, {"authority", "lk-nwm"}, {"csrf_token", own_token}})
          .status,
      403);
  EXPECT_EQ(app_->get<catalog::Catalog>().responsibilities("99999000000003").size(), 1u);
  EXPECT_EQ(district.get("/redaktion/behoerden/neu").status, 403);

  // A new office, with a taken identifier first.
  auto office = [&](const std::string& id) {
    return op.post_form("/redaktion/behoerden/neu", {{"id", id},
                                                     {"region", "13074087"},
                                                     {"name", enc("Hansestadt Wismar, Standesamt")},
                                                     {"postcode", "23966"},
                                                     {"csrf_token", token}});
  };
  auto taken = office("hwi-steuern");
  EXPECT_EQ(taken.status, 422);
  EXPECT_NE(taken.body.find("ist noch frei"), std::string::npos);
  EXPECT_EQ(office("hwi-standesamt").status, 303);
  EXPECT_EQ(app_->get<catalog::Catalog>().authority("hwi-standesamt")->name,
            "Hansestadt Wismar, Standesamt");
}

INSTANTIATE_TEST_SUITE_P(Databases, EditorPages, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::catalog
