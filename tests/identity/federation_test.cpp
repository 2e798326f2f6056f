// Logging in through upstream providers, over HTTP on both databases: the BundID-style
// SAML adapter against the eID simulator, and the OpenID adapter against a second mvsp.
#include <Poco/Base64Decoder.h>
#include <Poco/Net/ServerSocket.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <mvsp/core/clock.hpp>
#include <mvsp/identity/eid_simulator.hpp>
#include <mvsp/identity/federation.hpp>
#include <mvsp/identity/oidc.hpp>
#include <regex>
#include <sstream>

#include "eid_pages.hpp"
#include "secrets.hpp"

namespace mvsp::identity {
namespace {

std::string base64_decode(const std::string& s) {
  std::istringstream in(s);
  Poco::Base64Decoder dec(in);
  return std::string(std::istreambuf_iterator<char>(dec), {});
}

std::string path_of(const std::string& location) {
  auto scheme = location.find("://");
  if (scheme == std::string::npos) return location;
  return location.substr(location.find('/', scheme + 3));
}

class SamlLogin : public EidPages {
 protected:
  // Our clock stands still unless a test moves it (the simulator keeps the real time).
  const web::Ports& ports() override { return ports_; }
  test::ManualClock clock_{core::TimePoint(
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()))};
  web::Ports ports_{
      .clock = clock_, .ids = app::system_ports().ids, .http = app::system_ports().http};

  // The link form, sent with the account's password (and more fields where asked).
  test::HttpResponse confirm_link(test::HttpClient& c,
                                  std::vector<std::pair<std::string, std::string>> fields = {}) {
    fields.emplace_back("password", enc(kPassword));
    return submit(c, "/anmelden/extern/verbinden", fields);
  }

  // Sets up a second factor for Anna's account; returns its raw secret for codes.
  std::string second_factor_for_anna() {
    auto account = app_->get<identity::Identity>().accounts.find(
        database_->db()
            .query_one("SELECT id FROM accounts WHERE email = 'anna@example.org'")
            ->text(0));
    EXPECT_TRUE(account);
    if (!account) return {};
    auto enrollment = app_->get<identity::Identity>().second_factor.begin_totp(*account);
    auto raw = *secrets::base32_decode(enrollment.secret);
    EXPECT_TRUE(app_->get<identity::Identity>().second_factor.enable_totp(
        {.account_id = account->id,
         .password = kPassword,
         .secret = enrollment.secret,
         .code = secrets::totp_code(raw, core::to_millis(clock_.now()) / 30'000)}));
    return raw;
  }

  std::int64_t links() {
    return database_->db().query_one("SELECT COUNT(*) FROM identity_links")->integer(0);
  }

  // Out to the simulator and back: the SAMLResponse the browser would post to /saml/acs.
  std::string through_simulator(test::HttpClient& c, const std::string& start,
                                const std::string& person, const std::string& method,
                                const std::string& action = "login") {
    auto page = c.get(start);
    EXPECT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.header("content-security-policy").find(simulator().base_url()),
              std::string::npos);
    EXPECT_NE(page.header("set-cookie").find("mvsp_upstream="), std::string::npos);
    auto form_start = page.body.find("action=\"" + simulator().sso_url() + "\"");
    EXPECT_NE(form_start, std::string::npos) << page.body;
    if (form_start == std::string::npos) return {};
    auto form = page.body.substr(form_start, page.body.find("</form>", form_start) - form_start);
    EXPECT_EQ(form.find("csrf_token"), std::string::npos) << "our token stays with us";
    test::HttpClient idp(simulator().port());
    auto sso = idp.post_form("/saml/sso", {{"SAMLRequest", enc(field(page.body, "SAMLRequest"))},
                                           {"RelayState", enc(field(page.body, "RelayState"))}});
    EXPECT_EQ(sso.status, 200) << sso.body;
    EXPECT_NE(sso.body.find("SIMULATOR"), std::string::npos);
    auto done = idp.post_form("/saml/login", {{"request_id", enc(field(sso.body, "request_id"))},
                                              {"acs", enc(field(sso.body, "acs"))},
                                              {"audience", enc(field(sso.body, "audience"))},
                                              {"relay", enc(field(sso.body, "relay"))},
                                              {"person", person},
                                              {"method", method},
                                              {"action", action}});
    EXPECT_EQ(done.status, 200) << done.body;
    return field(done.body, "SAMLResponse");
  }

  // Posts the response to the ACS as the browser does (no CSRF token, no session needed)
  // and follows to the completion page.
  test::HttpResponse back(test::HttpClient& c, const std::string& saml_response) {
    auto acs = c.post_form("/saml/acs", {{"SAMLResponse", enc(saml_response)}});
    EXPECT_EQ(acs.status, 303) << acs.body;
    return c.get(acs.header("location"));
  }
};

TEST_P(SamlLogin, NewPersonGetsAnAccountFromTheEidAndLogsInAgainWithIt) {
  auto c = client();
  auto login_page = c.get("/anmelden");
  EXPECT_NE(login_page.body.find("Mit BundID anmelden"), std::string::npos);
  auto answer = through_simulator(c, "/anmelden/extern/bundid?next=/konto", "erika", "eID");
  auto xml = base64_decode(answer);
  EXPECT_NE(xml.find("EncryptedAssertion"), std::string::npos) << "encrypted for our key";
  EXPECT_EQ(xml.find("Mustermann"), std::string::npos);
  auto finished = back(c, answer);
  EXPECT_EQ(finished.status, 303);
  EXPECT_EQ(finished.header("location"), "/anmelden/extern/neu");
  auto form = c.get("/anmelden/extern/neu");
  EXPECT_NE(form.body.find("Erika Mustermann"), std::string::npos);
  EXPECT_NE(form.body.find("value=\"erika.mustermann@example.org\""), std::string::npos);
  auto created = submit(c, "/anmelden/extern/neu", {{"email", enc("erika.m@example.org")}});
  // The same answer whether or not the address has an account already (so not signed in
  // yet): the person confirms the address and comes back through the eID.
  EXPECT_EQ(created.status, 200);
  EXPECT_NE(created.body.find("Bitte bestätigen Sie Ihre E-Mail-Adresse"), std::string::npos);
  EXPECT_EQ(c.get("/konto").status, 303);
  // The profile came from the eID; the address chosen gets a confirmation mail.
  auto mails = sink_.wait_for(1);
  EXPECT_EQ(mails.back().to, "erika.m@example.org");
  // The mail names who identified themselves, so that nobody confirms a stranger's account.
  EXPECT_NE(mails.back().body.find("Erika Mustermann"), std::string::npos) << mails.back().body;
  EXPECT_NE(mails.back().body.find("nur, wenn Sie das selbst waren"), std::string::npos);
  std::smatch link;
  ASSERT_TRUE(
      std::regex_search(mails.back().body, link,
                        std::regex(R"(https?://[^/]+(/konto/bestaetigen\?token=[A-Za-z0-9_-]+))")));
  EXPECT_EQ(c.get(link[1]).status, 200);
  auto signed_in =
      back(c, through_simulator(c, "/anmelden/extern/bundid?next=/konto", "erika", "eID"));
  EXPECT_EQ(signed_in.header("location"), "/konto");
  auto account = c.get("/konto");
  EXPECT_NE(account.body.find("hoch"), std::string::npos) << "signed in at level high";
  auto profile = c.get("/konto/profil");
  for (const char* v : {"Schloßstraße 1", "19053", "1964-08-12", "Gabler", "Frau"}) {
    EXPECT_NE(profile.body.find(v), std::string::npos) << v;
  }
  auto security = c.get("/konto/sicherheit");
  EXPECT_NE(security.body.find("verknüpft seit"), std::string::npos);

  // Later, in another browser: the same person is recognised and signed in directly.
  auto other = client();
  auto again =
      back(other, through_simulator(other, "/anmelden/extern/bundid?next=/konto", "erika", "eID"));
  EXPECT_EQ(again.status, 303);
  EXPECT_EQ(again.header("location"), "/konto");
  EXPECT_NE(other.get("/konto").body.find("Erika"), std::string::npos);
  auto data = other.get("/konto/daten");
  EXPECT_TRUE(std::regex_search(data.body, std::regex(R"("provider"\s*:\s*"bundid")")))
      << data.body;
  EXPECT_EQ(data.body.find("bpk"), std::string::npos);

  // The account has no known password: the fresh eID login confirms the deletion.
  auto page = other.get("/konto/loeschen");
  EXPECT_NE(page.body.find("Stattdessen mit BundID bestätigen"), std::string::npos);
  auto deleted = submit(other, "/konto/loeschen", {{"password", ""}});
  EXPECT_EQ(deleted.status, 200);
  EXPECT_NE(deleted.body.find("Ihr Konto ist gelöscht"), std::string::npos);
  // The link went with the account: the same eID now finds no account.
  auto third = client();
  auto fresh = back(third, through_simulator(third, "/anmelden/extern/bundid", "erika", "eID"));
  EXPECT_EQ(fresh.header("location"), "/anmelden/extern/neu");
}

TEST_P(SamlLogin, AnswersAreSingleUseAndBoundToTheBrowserThatAsked) {
  auto c = client();
  auto response = through_simulator(c, "/anmelden/extern/bundid", "max", "eID");
  // Someone else's browser (no cookie) cannot finish it.
  auto stranger = client();
  auto acs = stranger.post_form("/saml/acs", {{"SAMLResponse", enc(response)}});
  ASSERT_EQ(acs.status, 303);
  auto refused = stranger.get(acs.header("location"));
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("nicht mehr gültig"), std::string::npos);
  // The answer was taken once; posting it again fits no login in progress.
  EXPECT_EQ(c.post_form("/saml/acs", {{"SAMLResponse", enc(response)}}).status, 400);
  // Garbage is refused without a server error.
  EXPECT_EQ(c.post_form("/saml/acs", {{"SAMLResponse", "bm90IHhtbA%3D%3D"}}).status, 400);
  EXPECT_EQ(c.post_form("/saml/acs", {}).status, 400);
}

TEST_P(SamlLogin, CancelAndTooLowALevelAreToldApart) {
  auto c = client();
  auto cancelled = back(c, through_simulator(c, "/anmelden/extern/bundid", "max", "eID", "cancel"));
  EXPECT_EQ(cancelled.status, 200);
  EXPECT_NE(cancelled.body.find("abgebrochen"), std::string::npos);
  // Asking for high makes the provider offer eID-grade methods only …
  auto high = c.get("/anmelden/extern/bundid?level=high");
  test::HttpClient idp(simulator().port());
  auto sso = idp.post_form("/saml/sso", {{"SAMLRequest", enc(field(high.body, "SAMLRequest"))}});
  EXPECT_NE(sso.body.find("STORK-QAA-Level-4"), std::string::npos);
  EXPECT_EQ(sso.body.find("Benutzername"), std::string::npos);
  // … and should an answer with a lower level come back anyway, we check it ourselves.
  auto done = idp.post_form("/saml/login", {{"request_id", enc(field(sso.body, "request_id"))},
                                            {"acs", enc(field(sso.body, "acs"))},
                                            {"audience", enc(field(sso.body, "audience"))},
                                            {"person", "max"},
                                            {"method", "Benutzername"},
                                            {"action", "login"}});
  auto refused = back(c, field(done.body, "SAMLResponse"));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("Vertrauensniveau reicht nicht aus"), std::string::npos);
  EXPECT_EQ(c.get("/konto").status, 303) << "not signed in";
}

TEST_P(SamlLogin, ASignedInCitizenLinksTheEidAndStepsUpToHigh) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto security = c.get("/konto/sicherheit");
  EXPECT_NE(security.body.find("Jetzt verknüpfen"), std::string::npos);
  // Without an eID login, deleting the account needs the password.
  EXPECT_EQ(submit(c, "/konto/loeschen", {{"password", ""}}).status, 422);
  auto finished = back(
      c, through_simulator(c, "/anmelden/extern/bundid?next=/konto/sicherheit", "anna", "eID"));
  EXPECT_EQ(finished.status, 303);
  // A new link is a form of its own that names the account and the identity and asks for
  // the password (a stolen session alone adds no way in); showing it links nothing, nor
  // does a post without the form's token or with a wrong password.
  EXPECT_EQ(finished.header("location"), "/anmelden/extern/verbinden");
  auto offer = c.get("/anmelden/extern/verbinden");
  ASSERT_EQ(offer.status, 200);
  EXPECT_NE(offer.body.find("Sie sind als anna@example.org angemeldet"), std::string::npos)
      << offer.body;
  EXPECT_NE(offer.body.find("als Anna Schmidt ausgewiesen"), std::string::npos);
  EXPECT_NE(offer.body.find(R"(name="password")"), std::string::npos);
  EXPECT_EQ(offer.body.find(R"(name="code")"), std::string::npos) << "no second factor set up";
  EXPECT_EQ(c.post_form("/anmelden/extern/verbinden", {{"password", enc(kPassword)}}).status, 403);
  auto wrong = submit(c, "/anmelden/extern/verbinden", {{"password", "falsch"}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("E-Mail-Adresse oder Passwort"), std::string::npos) << wrong.body;
  EXPECT_EQ(links(), 0);
  auto linked = confirm_link(c);
  EXPECT_EQ(linked.header("location"), "/konto/sicherheit");
  EXPECT_NE(linked.header("set-cookie").find("mvsp_link=; Path=/anmelden/extern; Max-Age=0"),
            std::string::npos);
  auto mails = sink_.wait_for(++mails_expected_);
  EXPECT_EQ(mails.back().subject, "Anmeldedienst mit Ihrem Konto verknüpft");
  auto after = c.get("/konto/sicherheit");
  EXPECT_NE(after.body.find("Ihr Konto ist jetzt mit BundID verknüpft"), std::string::npos);
  EXPECT_NE(c.get("/konto").body.find("hoch"), std::string::npos);
  EXPECT_EQ(submit(c, "/konto/loeschen", {{"password", ""}}).status, 422)
      << "an identity linked just now does not stand in for the password";
  // The same eID cannot be linked to a second account.
  auto second = registered("bert@example.org");
  ASSERT_EQ(login(second, "bert@example.org", kPassword).status, 303);
  auto clash = back(second, through_simulator(second, "/anmelden/extern/bundid", "anna", "eID"));
  EXPECT_EQ(clash.status, 409);
  // Unlinking is a form with CSRF; afterwards the page offers the link again.
  auto unlinked = submit(c, "/konto/verknuepfungen/bundid/loesen", {}, "/konto/sicherheit");
  EXPECT_EQ(unlinked.status, 303);
  EXPECT_NE(c.get("/konto/sicherheit").body.find("Jetzt verknüpfen"), std::string::npos);
  EXPECT_EQ(c.post_form("/konto/verknuepfungen/bundid/loesen", {}).status, 403) << "no token";
}

// The second review: from a stolen session, linking the thief's own eID gave a lasting way
// in and then deleted the account without password or second factor.
TEST_P(SamlLogin, AStolenSessionNeitherLinksAnotherIdentityNorDeletesWithIt) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto finished =
      back(c, through_simulator(c, "/anmelden/extern/bundid?next=/konto/loeschen", "max", "eID"));
  EXPECT_EQ(finished.header("location"), "/anmelden/extern/verbinden");
  for (const char* guess : {"", "Passwort", "anna@example.org"}) {
    EXPECT_EQ(submit(c, "/anmelden/extern/verbinden", {{"password", enc(guess)}}).status, 422);
  }
  EXPECT_EQ(links(), 0) << "no link without the password";
  EXPECT_EQ(submit(c, "/konto/loeschen", {{"password", ""}}).status, 422);
  EXPECT_EQ(c.get("/konto").status, 200) << "the account is still there";
  // The thief's eID signs nobody in.
  auto elsewhere = client();
  auto theirs =
      back(elsewhere, through_simulator(elsewhere, "/anmelden/extern/bundid", "max", "eID"));
  EXPECT_EQ(theirs.header("location"), "/anmelden/extern/neu");
}

// The re-review: the link the thief started in a stolen session was confirmed by the
// victim's own next login (in the victim's browser); and a pending identity of one person
// reached the next person's login in a shared browser.
TEST_P(SamlLogin, AStartedLinkIsConfirmedOnlyInTheBrowserThatStartedIt) {
  auto victim = registered();
  ASSERT_EQ(login(victim, "anna@example.org", kPassword).status, 303);
  auto thief = client();
  thief.cookies() = victim.cookies();  // the stolen session
  auto finished = back(thief, through_simulator(thief, "/anmelden/extern/bundid", "max", "eID"));
  EXPECT_EQ(finished.header("location"), "/anmelden/extern/verbinden");
  // The victim's own browser has no link cookie: it is offered nothing.
  victim.cookies().erase("mvsp_link");
  EXPECT_EQ(victim.get("/anmelden/extern/verbinden").header("location"), "/konto");
  EXPECT_EQ(links(), 0);

  // Someone else signs in where a link waits: nothing of it reaches their login.
  auto shared = registered("bert@example.org");
  ASSERT_EQ(login(shared, "anna@example.org", kPassword).status, 303);
  back(shared, through_simulator(shared, "/anmelden/extern/bundid", "erika", "eID"));
  ASSERT_EQ(submit(shared, "/anmelden",
                   {{"email", enc("bert@example.org")}, {"password", enc(kPassword)}}, "/anmelden")
                .status,
            303);
  EXPECT_EQ(shared.get("/anmelden/extern/neu").header("location"), "/anmelden")
      << "Bert sees nothing of the identity Anna brought back";
  EXPECT_EQ(shared.get("/anmelden/extern/verbinden").header("location"), "/konto");
  EXPECT_EQ(links(), 0);
}

// The fourth review: an identity left waiting in a shared browser was carried into the next
// person's password login there, and its owner came back to link it to that account.
TEST_P(SamlLogin, AnIdentityLeftWaitingInASharedBrowserReachesNobodysAccount) {
  registered();
  auto kiosk = client();
  ASSERT_EQ(back(kiosk, through_simulator(kiosk, "/anmelden/extern/bundid", "max", "eID"))
                .header("location"),
            "/anmelden/extern/neu");
  // Anna signs in at the kiosk as usual; her login ends what waited there.
  ASSERT_EQ(login(kiosk, "anna@example.org", kPassword).status, 303);
  EXPECT_EQ(kiosk.get("/anmelden/extern/verbinden").header("location"), "/konto");
  EXPECT_EQ(
      submit(kiosk, "/anmelden/extern/verbinden", {{"password", "x"}}, "/konto").header("location"),
      "/konto");
  EXPECT_EQ(links(), 0);
  // Nor can a waiting identity be linked to an account without that account's password.
  auto other = client();
  back(other, through_simulator(other, "/anmelden/extern/bundid", "max", "eID"));
  auto guessed = submit(other, "/anmelden/extern/verbinden",
                        {{"email", enc("anna@example.org")}, {"password", "geraten"}});
  EXPECT_EQ(guessed.status, 422);
  EXPECT_EQ(links(), 0);
}

// The fourth review: the new-account page takes any address, and its account could be
// signed in before the address was confirmed; a later password reset by the address's
// owner kept the stranger's eID linked.
TEST_P(SamlLogin, AnAccountWithAnUnconfirmedAddressIsNotSignedInThroughTheEid) {
  auto attacker = client();
  back(attacker, through_simulator(attacker, "/anmelden/extern/bundid", "max", "eID"));
  ASSERT_EQ(submit(attacker, "/anmelden/extern/neu", {{"email", enc("opfer@example.org")}}).status,
            200);
  ASSERT_EQ(links(), 1);
  auto again = back(attacker, through_simulator(attacker, "/anmelden/extern/bundid", "max", "eID"));
  EXPECT_EQ(again.status, 403);
  EXPECT_NE(again.body.find("Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse"), std::string::npos);
  EXPECT_EQ(attacker.get("/konto").status, 303) << "not signed in";
  // The owner of the address resets the password: the link made without them goes.
  ++mails_expected_;  // the confirmation mail to the address
  auto owner = client();
  ASSERT_LT(submit(owner, "/passwort-vergessen", {{"email", enc("opfer@example.org")}}).status,
            400);
  auto mails = sink_.wait_for(++mails_expected_);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(mails.back().body, m,
                                std::regex(R"((/passwort-neu\?token=[A-Za-z0-9_-]+))")))
      << mails.back().body;
  auto form = owner.get(m[1]);
  ASSERT_EQ(form.status, 200) << form.body;
  auto reset = submit(owner, "/passwort-neu",
                      {{"token", enc(field(form.body, "token"))},
                       {"password", enc("ein neues sicheres Passwort")},
                       {"password_repeat", enc("ein neues sicheres Passwort")}},
                      m[1]);
  EXPECT_LT(reset.status, 400) << reset.body;
  EXPECT_EQ(links(), 0);
  auto later = client();
  EXPECT_EQ(back(later, through_simulator(later, "/anmelden/extern/bundid", "max", "eID"))
                .header("location"),
            "/anmelden/extern/neu");
}

// The fifth review: the link form took the password of a registration whose address was
// never confirmed (anyone can register any address), so a stranger's eID waited in the
// account for its owner to confirm it.
TEST_P(SamlLogin, NoIdentityIsLinkedToAnAccountWhoseAddressIsUnconfirmed) {
  ASSERT_TRUE(app_->get<identity::Identity>().accounts.create_account(
      {.email = "opfer@example.org", .password = kPassword, .given_name = "O", .family_name = "P"},
      "test"));
  auto attacker = client();
  back(attacker, through_simulator(attacker, "/anmelden/extern/bundid", "max", "eID"));
  auto refused = confirm_link(attacker, {{"email", enc("opfer@example.org")}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse"),
            std::string::npos);
  EXPECT_EQ(links(), 0);
}

// The third review: a waiting link lasted as long as the session, and an identity from an
// anonymous upstream login was linked by a plain GET after whoever signed in next.
TEST_P(SamlLogin, AWaitingLinkEndsAfterFifteenMinutes) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  back(c, through_simulator(c, "/anmelden/extern/bundid", "anna", "eID"));
  ASSERT_EQ(c.get("/anmelden/extern/verbinden").status, 200);
  clock_.advance(std::chrono::minutes(16));
  auto late = c.get("/anmelden/extern/verbinden");
  EXPECT_EQ(late.status, 303);
  EXPECT_EQ(late.header("location"), "/konto");
  EXPECT_EQ(submit(c, "/anmelden/extern/verbinden", {{"password", enc(kPassword)}}, "/konto")
                .header("location"),
            "/konto");
  EXPECT_EQ(links(), 0);
}

TEST_P(SamlLogin, AnAnonymousIdentityWaitsFifteenMinutes) {
  registered();
  auto anonymous = client();
  auto back_again =
      back(anonymous, through_simulator(anonymous, "/anmelden/extern/bundid", "anna", "eID"));
  ASSERT_EQ(back_again.header("location"), "/anmelden/extern/neu");
  clock_.advance(std::chrono::minutes(16));
  EXPECT_EQ(anonymous.get("/anmelden/extern/neu").header("location"), "/anmelden");
  EXPECT_EQ(anonymous.get("/anmelden/extern/verbinden").header("location"), "/anmelden");
  EXPECT_EQ(links(), 0);
}

TEST_P(SamlLogin, AnIdentityFromAnAnonymousLoginIsLinkedOnlyOnTheConfirmationForm) {
  registered();
  auto c = client();
  auto finished =
      back(c, through_simulator(c, "/anmelden/extern/bundid?next=/konto/profil", "anna", "eID"));
  ASSERT_EQ(finished.header("location"), "/anmelden/extern/neu");
  EXPECT_NE(finished.header("set-cookie").find("mvsp_link="), std::string::npos);
  auto offer = c.get("/anmelden/extern/neu");
  EXPECT_NE(offer.body.find("mit BundID verknüpfen"), std::string::npos);
  EXPECT_NE(offer.body.find(R"(href="/anmelden/extern/verbinden")"), std::string::npos);
  auto page = c.get("/anmelden/extern/verbinden");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("als Anna Schmidt ausgewiesen"), std::string::npos);
  EXPECT_NE(page.body.find(R"(name="email")"), std::string::npos);
  EXPECT_EQ(links(), 0) << "showing the form links nothing";
  auto wrong = confirm_link(c, {{"email", enc("niemand@example.org")}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find(R"(value="niemand@example.org")"), std::string::npos)
      << "the address typed stays";
  auto linked = confirm_link(c, {{"email", enc("anna@example.org")}});
  EXPECT_EQ(linked.header("location"), "/konto/profil");
  EXPECT_EQ(links(), 1);
  EXPECT_EQ(c.get("/konto").status, 200) << "signed in";
  EXPECT_EQ(sink_.wait_for(++mails_expected_).back().subject,
            "Anmeldedienst mit Ihrem Konto verknüpft");
  EXPECT_EQ(submit(c, "/anmelden/extern/verbinden", {}, "/konto").header("location"), "/konto")
      << "once";
}

// An account with a second factor links only with its code as well.
TEST_P(SamlLogin, LinkingToAnAccountWithASecondFactorAsksForTheCode) {
  registered();
  auto raw = second_factor_for_anna();
  ASSERT_FALSE(raw.empty());
  auto code_at = [&](int step) {
    return secrets::totp_code(raw, core::to_millis(clock_.now()) / 30'000 + step);
  };
  auto c = client();
  back(c, through_simulator(c, "/anmelden/extern/bundid", "anna", "Benutzername"));
  auto no_code = confirm_link(c, {{"email", enc("anna@example.org")}});
  EXPECT_EQ(no_code.status, 422);
  EXPECT_EQ(links(), 0);
  clock_.advance(std::chrono::seconds(30));
  auto linked = confirm_link(c, {{"email", enc("anna@example.org")}, {"code", code_at(0)}});
  EXPECT_EQ(linked.status, 303) << linked.body;
  EXPECT_EQ(links(), 1);
}

// A login that still waits for its second factor ends when the browser comes back from an
// anonymous upstream login; nothing of an earlier waiting identity stays either.
TEST_P(SamlLogin, AnAnonymousUpstreamLoginEndsAHalfFinishedLogin) {
  auto c = registered();
  ASSERT_FALSE(second_factor_for_anna().empty());
  ASSERT_EQ(login(c, "anna@example.org", kPassword)
                .header("location")
                .rfind("/anmelden/zweiter-faktor", 0),
            0u);
  ASSERT_EQ(c.get("/anmelden/zweiter-faktor").status, 200);
  auto finished = back(c, through_simulator(c, "/anmelden/extern/bundid", "max", "eID"));
  ASSERT_EQ(finished.header("location"), "/anmelden/extern/neu");
  EXPECT_EQ(c.get("/anmelden/zweiter-faktor").header("location"), "/anmelden");
}

// An account with a second factor signed in through a linked upstream at a lower level
// than `substantial` gives its code, as its password login would.
TEST_P(SamlLogin, AWeakUpstreamLoginToAnAccountWithASecondFactorAsksForTheCode) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto finished = back(c, through_simulator(c, "/anmelden/extern/bundid", "anna", "eID"));
  ASSERT_EQ(finished.status, 303);
  ASSERT_EQ(confirm_link(c).status, 303);
  ASSERT_EQ(links(), 1);
  ASSERT_FALSE(second_factor_for_anna().empty());
  auto other = client();
  auto weak = back(other, through_simulator(other, "/anmelden/extern/bundid?next=/konto", "anna",
                                            "Benutzername"));
  EXPECT_EQ(weak.header("location").rfind("/anmelden/zweiter-faktor", 0), 0u)
      << weak.header("location");
  EXPECT_EQ(other.get("/konto").status, 303) << "not signed in before the code";
  auto strong = client();
  auto eid =
      back(strong, through_simulator(strong, "/anmelden/extern/bundid?next=/konto", "anna", "eID"));
  EXPECT_EQ(eid.header("location"), "/konto") << "the eID itself is a strong factor";
}

TEST_P(SamlLogin, MetadataAndUnknownProviders) {
  auto c = client();
  auto md = c.get("/saml/metadata");
  EXPECT_EQ(md.status, 200);
  EXPECT_NE(md.body.find("AuthnRequestsSigned=\"true\""), std::string::npos);
  EXPECT_NE(md.body.find("/saml/acs"), std::string::npos);
  EXPECT_EQ(c.get("/anmelden/extern/nirgendwo").status, 404);
  EXPECT_EQ(c.get("/anmelden/extern/neu").status, 303) << "nothing pending: back to login";
}

INSTANTIATE_TEST_SUITE_P(Databases, SamlLogin, ::testing::ValuesIn(test::backends()));

// Another OpenID provider upstream: a second mvsp, which is a real, independent provider
// with its own database, keys and accounts.
class OidcLogin : public AccountPages {
 protected:
  void configure(app::Settings& s) override {
    AccountPages::configure(s);
    upstream_dir_ = std::make_unique<test::TempDir>();
    app::Settings up;
    int up_port = free_port();
    up.listen = fmt::format("127.0.0.1:{}", up_port);
    up.public_url = fmt::format("http://127.0.0.1:{}", up_port);
    up.database = "sqlite:" + (upstream_dir_->path() / "up.db").string();
    up.data_dir = upstream_dir_->path();
    up.job_workers = 1;
    up.http.threads = 8;
    up.smtp_port = sink_.port();
    upstream_ = std::make_unique<app::App>(up);
    upstream_->start();
    auto created =
        upstream_->get<identity::Identity>().accounts.create_account({.email = "lena@land.example",
                                                                      .password = kPassword,
                                                                      .given_name = "Lena",
                                                                      .family_name = "Lange",
                                                                      .verified = true},
                                                                     "test");
    EXPECT_TRUE(created);
    int port = free_port();
    s.listen = fmt::format("127.0.0.1:{}", port);
    s.public_url = fmt::format("http://127.0.0.1:{}", port);
    auto client = upstream_->get<identity::Provider>().create_client(
        {.name = "Serviceportal MV",
         .redirect_uris = {s.public_url + "/anmelden/extern/land/rueckkehr"},
         .scopes = {"openid", "profile", "email", "address"}},
        "test");
    EXPECT_TRUE(client);
    s.config_text += fmt::format(
        "[identity.upstream.land]\nprotocol = \"oidc\"\nlabel = \"Nutzerkonto Land\"\n"
        "issuer = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n",
        up.public_url, client->client.client_id, client->client_secret);
  }
  void TearDown() override {
    AccountPages::TearDown();
    if (upstream_) upstream_->stop();
  }

  // Out to the upstream, log in there with the password, and back: the callback's answer.
  test::HttpResponse through_upstream(test::HttpClient& rp, const std::string& start) {
    auto out = rp.get(start);
    EXPECT_EQ(out.status, 303) << out.body;
    test::HttpClient up(upstream_->port());
    auto to_login = up.get(path_of(out.header("location")));
    EXPECT_EQ(to_login.status, 303);
    auto page = up.get(to_login.header("location"));
    auto next = field(page.body, "next");
    auto logged_in = up.post_form("/anmelden", {{"email", enc("lena@land.example")},
                                                {"password", enc(kPassword)},
                                                {"next", enc(next)},
                                                {"csrf_token", token(page.body)}});
    EXPECT_EQ(logged_in.status, 200) << "the continue page back into the OpenID flow";
    auto authorized = up.get(next);
    EXPECT_EQ(authorized.status, 303);
    auto callback = authorized.header("location");
    EXPECT_NE(callback.find("/anmelden/extern/land/rueckkehr?"), std::string::npos) << callback;
    return rp.get(path_of(callback));
  }

  std::unique_ptr<test::TempDir> upstream_dir_;
  std::unique_ptr<app::App> upstream_;
};

TEST_P(OidcLogin, APersonFromAnotherProviderGetsAnAccountWithTheMappedLevel) {
  auto c = client();
  EXPECT_NE(c.get("/anmelden").body.find("Mit Nutzerkonto Land anmelden"), std::string::npos);
  auto back = through_upstream(c, "/anmelden/extern/land?next=/konto");
  EXPECT_EQ(back.status, 303) << back.body;
  EXPECT_EQ(back.header("location"), "/anmelden/extern/neu");
  auto form = c.get("/anmelden/extern/neu");
  EXPECT_NE(form.body.find("Lena Lange"), std::string::npos) << "claims from userinfo";
  EXPECT_NE(form.body.find("value=\"lena@land.example\""), std::string::npos);
  auto created = submit(c, "/anmelden/extern/neu", {{"email", enc("lena@land.example")}});
  EXPECT_EQ(created.status, 200);
  EXPECT_EQ(c.get("/konto").status, 303) << "signed in when she comes back";
  EXPECT_EQ(through_upstream(c, "/anmelden/extern/land?next=/konto").status, 403)
      << "not before the address is confirmed";
  std::smatch link;
  auto mail = sink_.wait_for(++mails_expected_).back().body;
  ASSERT_TRUE(std::regex_search(
      mail, link, std::regex(R"(https?://[^/]+(/konto/bestaetigen\?token=[A-Za-z0-9_-]+))")));
  EXPECT_EQ(c.get(link[1]).status, 200);
  EXPECT_EQ(through_upstream(c, "/anmelden/extern/land?next=/konto").header("location"), "/konto");
  // The upstream's acr (eIDAS low for a verified password login) maps to our "low".
  auto account = c.get("/konto");
  EXPECT_NE(account.body.find("Lena"), std::string::npos);
  EXPECT_NE(account.body.find("niedrig"), std::string::npos);

  // Next time the same person is recognised by the provider's subject.
  auto other = client();
  auto again = through_upstream(other, "/anmelden/extern/land?next=/konto");
  EXPECT_EQ(again.header("location"), "/konto");
}

TEST_P(OidcLogin, ForgedOrRefusedAnswersSignNobodyIn) {
  auto c = client();
  auto out = c.get("/anmelden/extern/land");
  ASSERT_EQ(out.status, 303);
  std::smatch m;
  auto location = out.header("location");
  ASSERT_TRUE(std::regex_search(location, m, std::regex("state=([^&]+)")));
  auto state = m[1].str();
  // A made-up code for the right state: the token endpoint refuses it.
  auto forged = c.get("/anmelden/extern/land/rueckkehr?code=made-up&state=" + state);
  EXPECT_EQ(forged.status, 403);
  EXPECT_NE(forged.body.find("fehlgeschlagen"), std::string::npos);
  // An unknown state fits no login.
  EXPECT_EQ(c.get("/anmelden/extern/land/rueckkehr?code=x&state=unknown").status, 400);
  // The person said no at the provider.
  auto again = c.get("/anmelden/extern/land");
  ASSERT_TRUE(
      std::regex_search(location = again.header("location"), m, std::regex("state=([^&]+)")));
  auto denied = c.get("/anmelden/extern/land/rueckkehr?error=access_denied&state=" + m[1].str());
  EXPECT_EQ(denied.status, 200);
  EXPECT_NE(denied.body.find("abgebrochen"), std::string::npos);
  EXPECT_EQ(c.get("/konto").status, 303);
}

INSTANTIATE_TEST_SUITE_P(Databases, OidcLogin, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::identity
