// The journey's pages over HTTP on both databases: a guest starts for a place, opens the
// mailed link, fills the form page by page, uploads (an EICAR file is refused with a
// message, a PDF is kept), pays by invoice on the payment step, checks and submits (twice),
// and reads the confirmation and the PDF; nobody else reaches the Vorhaben; a signed-in
// person sees theirs in "Meine Anträge"; the reminder links need their token.
#include <gtest/gtest.h>

#include <mvsp/applications/applications.hpp>
#include <mvsp/cases/cases.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <regex>

#include "fixture.hpp"

namespace mvsp::applications {
namespace {

using fixture::ApplicationsTest;
using fixture::eicar;
using fixture::kPdf;

std::string enc(const std::string& s) {
  return web::url_encode(s);
}

class ApplicationPages : public ApplicationsTest {
 protected:
  // Posts a form with the CSRF token of the page at `page`.
  test::HttpResponse post(test::HttpClient& c, const std::string& page, const std::string& action,
                          std::vector<std::pair<std::string, std::string>> fields) {
    auto shown = c.get(page);
    for (auto& [k, v] : fields) v = enc(v);
    fields.emplace_back("csrf_token", test::HttpClient::csrf_token_in(shown.body));
    return c.post_form(action, fields);
  }

  test::HttpResponse upload(test::HttpClient& c, const std::string& base, const std::string& name,
                            const std::string& content) {
    auto shown = c.get(base + "/unterlagen");
    auto body = web::build_multipart(
        {{.name = "csrf_token",
          .filename = {},
          .content_type = {},
          .body = test::HttpClient::csrf_token_in(shown.body)},
         {.name = "unterlage", .filename = {}, .content_type = {}, .body = "0"},
         {.name = "datei", .filename = name, .content_type = "application/pdf", .body = content}});
    return c.request("POST", base + "/unterlagen", body.body,
                     {{"Content-Type", body.content_type}});
  }

  // The link of the last guest mail queued.
  std::string mailed_link() {
    std::string link;
    std::regex re(R"(/antrag/gast\?token=[A-Za-z0-9_-]+)");
    for (const auto& r :
         app_->database().query("SELECT payload FROM jobs WHERE kind = 'core.mail'")) {
      std::smatch m;
      if (std::regex_search(r.text(0), m, re)) link = m.str();
    }
    return link;
  }
};

TEST_P(ApplicationPages, AGuestAppliesFromThePlaceToTheConfirmation) {
  auto c = client();
  auto chooser = c.get("/antrag/test-hunde-online");
  ASSERT_EQ(chooser.status, 200);
  EXPECT_NE(chooser.body.find("name=\"ort\""), std::string::npos);
  auto matches = c.get("/antrag/test-hunde-online?ort=Schwer");
  EXPECT_NE(matches.body.find("?ort=13004000"), std::string::npos);
  auto nowhere = c.get("/antrag/test-hunde-online?ort=Atlantis");
  EXPECT_EQ(nowhere.status, 422);
  EXPECT_EQ(c.get("/antrag/gibt-es-nicht?ort=13004000").status, 404);
  auto start = c.get("/antrag/test-hunde-online?ort=13004000");
  ASSERT_EQ(start.status, 200);
  EXPECT_NE(start.body.find("Bürgeramt"), std::string::npos);
  EXPECT_NE(start.body.find("5,00 €"), std::string::npos);
  EXPECT_NE(start.body.find("/antrag/test-hunde-online/gast?ort=13004000"), std::string::npos);

  const std::string guest_page = "/antrag/test-hunde-online/gast?ort=13004000";
  auto bad = post(c, guest_page, "/antrag/test-hunde-online/gast",
                  {{"email", "keine Adresse"}, {"ort", "13004000"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("href=\"#feld-email\""), std::string::npos);
  auto sent = post(c, guest_page, "/antrag/test-hunde-online/gast",
                   {{"email", "gast@example.org"}, {"ort", "13004000"}});
  ASSERT_EQ(sent.status, 200);
  EXPECT_NE(sent.body.find("gast@example.org"), std::string::npos);
  EXPECT_EQ(sent.body.find("/antrag/gast?"), std::string::npos);  // the link is in the mail only

  auto link = mailed_link();
  ASSERT_FALSE(link.empty());
  EXPECT_EQ(c.get("/antrag/gast?token=falsch").status, 404);
  EXPECT_EQ(c.get("/antrag/gast").status, 404);
  auto opened = c.get(link);
  ASSERT_EQ(opened.status, 303);
  auto base = opened.header("location");
  ASSERT_TRUE(base.starts_with("/antrag/vorhaben/"));
  auto tasks = c.get(base);
  ASSERT_EQ(tasks.status, 200);
  EXPECT_NE(tasks.body.find("Noch nicht möglich"), std::string::npos);

  // nobody else: a stranger is sent to the login, and learns nothing
  auto stranger = client();
  EXPECT_EQ(stranger.get(base).status, 303);
  EXPECT_EQ(stranger.get(base + "/unterlagen").status, 303);

  // the form, page by page; the answers are kept at every page
  EXPECT_EQ(post(c, base + "/formular/halter", base + "/formular/halter",
                 {{"name.vorname", "Erika"}, {"name.nachname", "Mustermann"}})
                .status,
            303);
  auto dogs = post(c, base + "/formular/hunde", base + "/formular/hunde",
                   {{"hunde", "2"}, {"hunde[0].rufname", "Bello"}, {"hunde[1].rufname", "Zora"}});
  ASSERT_EQ(dogs.status, 303);
  EXPECT_EQ(dogs.header("location"), base);

  // an infected file is refused with a message, a PDF is kept
  auto infected = upload(c, base, "virus.pdf", kPdf + eicar());
  EXPECT_EQ(infected.status, 422);
  EXPECT_NE(infected.body.find("Schadsoftware"), std::string::npos);
  auto ok = upload(c, base, "nachweis.pdf", kPdf);
  EXPECT_EQ(ok.status, 303);
  auto documents = c.get(base + "/unterlagen");
  EXPECT_NE(documents.body.find("nachweis.pdf"), std::string::npos);
  EXPECT_EQ(documents.body.find("virus.pdf"), std::string::npos);

  // the fee: 2 dogs at 5 euros, by invoice on the payment step
  tasks = c.get(base);
  EXPECT_NE(tasks.body.find("10,00 €"), std::string::npos);
  auto pay = post(c, base, base + "/bezahlen", {});
  ASSERT_EQ(pay.status, 303);
  auto payment = pay.header("location");
  ASSERT_TRUE(payment.starts_with("/zahlung/"));
  auto order_id = payment.substr(9, payment.find('?') - 9);
  ASSERT_EQ(c.get(payment).status, 303);  // the link's token grants this browser the order
  auto order_page = c.get("/zahlung/" + order_id);
  ASSERT_EQ(order_page.status, 200);
  EXPECT_NE(order_page.body.find("10,00 €"), std::string::npos);
  auto invoiced = post(c, "/zahlung/" + order_id, "/zahlung/" + order_id, {{"method", "rechnung"}});
  EXPECT_EQ(invoiced.status, 303);
  tasks = c.get(base);
  EXPECT_NE(tasks.body.find("Rechnung erstellt"), std::string::npos);
  // answers are frozen now
  EXPECT_EQ(c.get(base + "/formular/halter").status, 303);

  // check and submit: without the declaration the page names it
  auto check = c.get(base + "/pruefen");
  ASSERT_EQ(check.status, 200);
  EXPECT_NE(check.body.find("Bello"), std::string::npos);
  EXPECT_NE(check.body.find("nachweis.pdf"), std::string::npos);
  auto missing = post(c, base + "/pruefen", base + "/absenden", {});
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(missing.body.find("href=\"#erklaerung\""), std::string::npos);
  auto token = test::HttpClient::csrf_token_in(c.get(base + "/pruefen").body);
  auto submitted = c.post_form(base + "/absenden", {{"erklaerung", "ja"}, {"csrf_token", token}});
  ASSERT_EQ(submitted.status, 303);
  EXPECT_EQ(submitted.header("location"), base + "/bestaetigung");
  // a second click answers with the same submission
  auto again = c.post_form(base + "/absenden", {{"erklaerung", "ja"}, {"csrf_token", token}});
  EXPECT_EQ(again.status, 303);
  EXPECT_EQ(again.header("location"), base + "/bestaetigung");
  auto confirmation = c.get(base + "/bestaetigung");
  ASSERT_EQ(confirmation.status, 200);
  EXPECT_NE(confirmation.body.find("MV-"), std::string::npos);
  auto pdf = c.get(base + "/antrag.pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_TRUE(pdf.body.starts_with("%PDF"));
  EXPECT_NE(pdf.header("content-disposition").find("attachment"), std::string::npos);
  EXPECT_EQ(stranger.get(base + "/antrag.pdf").status, 303);

  // the authority confirms receipt: only then "bei der Behörde eingegangen"
  EXPECT_EQ(confirmation.body.find("Bei der Behörde eingegangen"), std::string::npos);
  app_->job_runner().run_due();
  confirmation = c.get(base + "/bestaetigung");
  EXPECT_NE(confirmation.body.find("Bei der Behörde eingegangen"), std::string::npos);
  auto id = base.substr(base.rfind('/') + 1);
  EXPECT_TRUE(app_->get<cases::Cases>().by_application(id));
  auto mine = c.get("/meine-antraege");
  ASSERT_EQ(mine.status, 200);
  EXPECT_NE(mine.body.find("Hunde anmelden (Test)"), std::string::npos);
}

TEST_P(ApplicationPages, ASignedInPersonStartsAndOthersSeeNothing) {
  auto c = client();
  auto login = c.get("/anmelden");
  ASSERT_EQ(c.post_form("/anmelden", {{"email", enc("erika@example.org")},
                                      {"password", enc("ein langes Passwort 2026")},
                                      {"csrf_token", test::HttpClient::csrf_token_in(login.body)}})
                .status,
            303);
  auto started = post(c, "/antrag/test-hunde-online?ort=13004000",
                      "/antrag/test-hunde-online/starten", {{"ort", "13004000"}});
  ASSERT_EQ(started.status, 303);
  auto base = started.header("location");
  ASSERT_TRUE(base.starts_with("/antrag/vorhaben/"));
  EXPECT_EQ(c.get(base).status, 200);
  auto mine = c.get("/meine-antraege");
  EXPECT_NE(mine.body.find(base), std::string::npos);
  EXPECT_NE(mine.body.find("Entwurf"), std::string::npos);
  // another person: 404 on every page of it
  auto other = client();
  auto other_login = other.get("/anmelden");
  ASSERT_EQ(other
                .post_form("/anmelden",
                           {{"email", enc("max@example.org")},
                            {"password", enc("ein langes Passwort 2026")},
                            {"csrf_token", test::HttpClient::csrf_token_in(other_login.body)}})
                .status,
            303);
  for (auto path : {"", "/unterlagen", "/pruefen", "/formular/halter", "/bestaetigung",
                    "/antrag.pdf", "/verwerfen"}) {
    EXPECT_EQ(other.get(base + path).status, 404) << path;
  }
  auto token = test::HttpClient::csrf_token_in(other.get("/meine-antraege").body);
  EXPECT_EQ(other.post_form(base + "/verwerfen", {{"csrf_token", token}}).status, 404);
  EXPECT_EQ(other.post_form(base + "/bezahlen", {{"csrf_token", token}}).status, 404);
  EXPECT_EQ(other.get("/meine-antraege").body.find(base), std::string::npos);
  // without the CSRF token nothing changes
  EXPECT_EQ(c.post_form(base + "/verwerfen", {}).status, 403);
  EXPECT_EQ(c.get(base).status, 200);
  // the reminder's links need the token
  EXPECT_EQ(client().get(base + "/keine-erinnerungen?token=falsch").status, 404);
  EXPECT_EQ(client().get(base + "/verwerfen?token=falsch").status, 404);
  auto id = base.substr(base.rfind('/') + 1);
  auto link_token = apps().reminder_token(id);
  auto anonymous = client();
  auto stop = anonymous.get(base + "/keine-erinnerungen?token=" + link_token);
  ASSERT_EQ(stop.status, 200);
  ASSERT_EQ(anonymous
                .post_form(base + "/keine-erinnerungen",
                           {{"token", link_token},
                            {"csrf_token", test::HttpClient::csrf_token_in(stop.body)}})
                .status,
            303);
  EXPECT_TRUE(apps().get(id)->reminders_off);
  // discarding: the draft is gone
  ASSERT_EQ(post(c, base + "/verwerfen", base + "/verwerfen", {}).status, 303);
  EXPECT_EQ(c.get(base).status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApplicationPages, ::testing::ValuesIn(test::backends()));

// With clamd stopped, the upload page says to try later, and nothing is kept.
class ApplicationPagesScannerDown : public ApplicationPages {
 protected:
  void SetUp() override {
    scanner_down_ = true;
    ApplicationPages::SetUp();
  }
};

TEST_P(ApplicationPagesScannerDown, UploadsAreRefused) {
  auto s = apps().start({.online_service_id = "test-hunde-online",
                         .place = fixture::kSchwerin,
                         .owner = {"guest", ""},
                         .account_id = {},
                         .guest_email = "gast@example.org",
                         .remote_address = "127.0.0.1",
                         .locale = "de"});
  ASSERT_TRUE(s);
  auto c = client();
  ASSERT_EQ(c.get("/antrag/gast?token=" + s->guest_token).status, 303);
  auto base = "/antrag/vorhaben/" + s->application.id;
  auto refused = upload(c, base, "nachweis.pdf", kPdf);
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("später erneut"), std::string::npos);
  EXPECT_EQ(apps().get(s->application.id)->documents.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApplicationPagesScannerDown,
                         ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::applications
