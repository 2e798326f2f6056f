// The account pages over HTTP, on both databases, with the mails that actually arrive.
#include <Poco/Base64Decoder.h>
#include <Poco/Crypto/ECKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <gtest/gtest.h>

#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/web/http.hpp>
#include <regex>
#include <set>
#include <thread>

#include "account_pages.hpp"
#include "app.hpp"
#include "secrets.hpp"
#include "support.hpp"

namespace mvsp::identity {
namespace {

TEST_P(AccountPages, AccountPagesNeedALogin) {
  for (const char* path : {"/konto", "/konto/profil", "/konto/zwei-faktor"}) {
    auto res = client().get(path);
    EXPECT_EQ(res.status, 303) << path;
    EXPECT_EQ(res.header("location").rfind("/anmelden?next=", 0), 0u) << path;
  }
  EXPECT_EQ(client().get("/konto/zwei-faktor/qr.svg").status, 404);
}

TEST_P(AccountPages, RegisterConfirmLoginSeeTheProfileLogOut) {
  auto c = registered();
  auto before = c.cookies()["mvsp_session"];
  auto res = login(c, "anna@example.org", kPassword);
  EXPECT_EQ(res.status, 303);
  EXPECT_EQ(res.header("location"), "/konto");
  EXPECT_NE(c.cookies()["mvsp_session"], before) << "the session id changes at login";
  EXPECT_FALSE(c.cookies()["mvsp_device"].empty());
  auto account = c.get("/konto");
  EXPECT_EQ(account.status, 200);
  EXPECT_NE(account.body.find("Anna"), std::string::npos);
  EXPECT_NE(account.body.find("<strong>niedrig</strong>"), std::string::npos);

  auto logout = submit(c, "/abmelden", {}, "/konto");
  EXPECT_EQ(logout.status, 200);
  EXPECT_NE(logout.body.find("Sie sind abgemeldet"), std::string::npos);
  EXPECT_EQ(c.get("/konto").status, 303);
}

TEST_P(AccountPages, FormErrorsAreShownAtTheFieldsAndInASummary) {
  auto c = client();
  auto res = submit(c, "/konto/registrieren",
                    {{"given_name", "Anna"},
                     {"email", "anna"},
                     {"password", "kurz"},
                     {"password_repeat", "kurz"}});
  EXPECT_EQ(res.status, 422);
  EXPECT_NE(res.body.find(R"(href="#feld-email")"), std::string::npos);
  EXPECT_NE(res.body.find(R"(href="#feld-family_name")"), std::string::npos);
  EXPECT_NE(res.body.find(R"(id="feld-email" name="email" type="email" value="anna")"),
            std::string::npos);
  EXPECT_NE(res.body.find(R"(aria-invalid="true")"), std::string::npos);
  EXPECT_EQ(res.body.find("value=\"kurz\""), std::string::npos) << "passwords are not echoed";
  EXPECT_EQ(database_->db().query_one("SELECT COUNT(*) FROM accounts")->integer(0), 0);
}

TEST_P(AccountPages, WrongPasswordsGetOneMessageAndUnknownAddressesTheSame) {
  registered();
  auto c = client();
  auto wrong = login(c, "anna@example.org", "falsches Passwort");
  auto unknown = login(c, "niemand@example.org", "falsches Passwort");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_NE(wrong.body.find("E-Mail-Adresse oder Passwort ist nicht richtig."), std::string::npos);
  EXPECT_NE(unknown.body.find("E-Mail-Adresse oder Passwort ist nicht richtig."),
            std::string::npos);
}

TEST_P(AccountPages, AThousandWrongPasswordsFromManyAddressesNeitherGetInNorLockTheOwnerOut) {
  auto owner = registered();
  ASSERT_EQ(login(owner, "anna@example.org", kPassword).status, 303);
  submit(owner, "/abmelden", {}, "/konto");

  auto attacker = client();
  int let_in = 0, held = 0;
  for (int i = 0; i < 1000; ++i) {
    auto from = "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".7";
    auto res = login(attacker, "anna@example.org", "Versuch " + std::to_string(i), from);
    if (res.status == 303) ++let_in;
    if (res.status == 429) ++held;
  }
  EXPECT_EQ(let_in, 0);
  EXPECT_GT(held, 950) << "most guesses are refused before the password is even checked";

  auto res = login(owner, "anna@example.org", kPassword, "192.0.2.44");
  EXPECT_EQ(res.status, 303) << "the owner's browser is known and gets in";
  EXPECT_EQ(owner.get("/konto").status, 200);
}

TEST_P(AccountPages, SecondFactorSetUpAndStepUpToSubstantial) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto setup = c.get("/konto/zwei-faktor");
  EXPECT_EQ(setup.status, 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(setup.body, m, std::regex(R"(id="totp-secret">([A-Z2-7 ]+)<)")));
  auto secret = *secrets::base32_decode(std::string(m[1]));
  auto qr = c.get("/konto/zwei-faktor/qr.svg");
  EXPECT_EQ(qr.header("content-type"), "image/svg+xml");
  EXPECT_EQ(qr.body.rfind("<svg", 0), 0u);

  auto step = core::to_millis(core::SystemClock().now()) / 30'000;
  auto wrong = submit(c, "/konto/zwei-faktor", {{"password", enc(kPassword)}, {"code", "123456"}});
  EXPECT_EQ(wrong.status, 422);
  auto ok = submit(c, "/konto/zwei-faktor",
                   {{"password", enc(kPassword)}, {"code", secrets::totp_code(secret, step)}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("Ihre Wiederherstellungscodes"), std::string::npos);
  EXPECT_NE(ok.body.find("Der zweite Faktor ist eingerichtet."), std::string::npos);
  EXPECT_NE(c.get("/konto").body.find("Die Anmeldung mit zweitem Faktor"), std::string::npos);

  submit(c, "/abmelden", {}, "/konto");
  auto first = login(c, "anna@example.org", kPassword);
  EXPECT_EQ(first.status, 303);
  EXPECT_EQ(first.header("location").rfind("/anmelden/zweiter-faktor", 0), 0u);
  EXPECT_EQ(c.get("/konto").status, 303) << "not signed in before the second factor";
  auto second = submit(c, "/anmelden/zweiter-faktor",
                       {{"code", secrets::totp_code(secret, step + 1)}, {"next", "%2Fkonto"}});
  EXPECT_EQ(second.status, 303);
  EXPECT_EQ(second.header("location"), "/konto");
  EXPECT_NE(c.get("/konto").body.find("<strong>substantiell</strong>"), std::string::npos);
}

TEST_P(AccountPages, ProfileChangesAreCheckedAndSaved) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto bad = submit(
      c, "/konto/profil",
      {{"given_name", "Anna"}, {"family_name", "Schmidt"}, {"postcode", "123"}, {"country", "de"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("Eine deutsche Postleitzahl hat fünf Ziffern."), std::string::npos);
  auto ok = submit(c, "/konto/profil",
                   {{"given_name", "Anna"},
                    {"family_name", "Schmidt"},
                    {"street", enc("Markt 11")},
                    {"postcode", "23966"},
                    {"city", "Wismar"},
                    {"country", "DE"}});
  EXPECT_EQ(ok.status, 303);
  auto account = c.get("/konto");
  EXPECT_NE(account.body.find("Ihre Angaben sind gespeichert."), std::string::npos);
  EXPECT_NE(account.body.find("Wismar"), std::string::npos);
}

TEST_P(AccountPages, ForgottenPasswordByMailEndsEverySession) {
  auto elsewhere = registered();
  ASSERT_EQ(login(elsewhere, "anna@example.org", kPassword).status, 303);

  auto c = client();
  auto asked = submit(c, "/passwort-vergessen", {{"email", enc("anna@example.org")}});
  EXPECT_EQ(asked.status, 303);
  EXPECT_EQ(asked.header("location"), "/passwort-vergessen/gesendet");
  auto stranger = client();
  auto unknown = submit(stranger, "/passwort-vergessen", {{"email", enc("wer@example.org")}});
  EXPECT_EQ(unknown.header("location"), asked.header("location")) << "the same answer";

  auto mails = sink_.wait_for(++mails_expected_);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      mails.back().body, m,
      std::regex(R"(http://127\.0\.0\.1(/passwort-neu\?token=([A-Za-z0-9_-]+)))")))
      << mails.back().body;
  EXPECT_EQ(c.get(m[1]).status, 200);
  auto done = submit(c, "/passwort-neu",
                     {{"token", m[2]},
                      {"password", enc("ein ganz neues Passwort")},
                      {"password_repeat", enc("ein ganz neues Passwort")}},
                     m[1]);
  EXPECT_EQ(done.status, 200);
  EXPECT_NE(done.body.find("Ihr Passwort ist geändert"), std::string::npos);
  EXPECT_EQ(elsewhere.get("/konto").status, 303) << "the old session ended";
  EXPECT_EQ(login(c, "anna@example.org", kPassword).status, 401);
  EXPECT_EQ(login(c, "anna@example.org", "ein ganz neues Passwort").status, 303);
  auto reused = submit(c, "/passwort-neu",
                       {{"token", m[2]},
                        {"password", enc("noch ein Passwort!!")},
                        {"password_repeat", enc("noch ein Passwort!!")}},
                       m[1]);
  EXPECT_EQ(reused.status, 404);
}

TEST_P(AccountPages, TheOwnerSeesAndEndsSessionsAndSeesTheHistory) {
  auto phone = registered();
  ASSERT_EQ(login(phone, "anna@example.org", kPassword).status, 303);
  auto laptop = client();
  ASSERT_EQ(login(laptop, "anna@example.org", kPassword).status, 303);
  auto page = laptop.get("/konto/sicherheit");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Diese Sitzung"), std::string::npos);
  EXPECT_NE(page.body.find("Anmeldung mit Passwort"), std::string::npos);
  EXPECT_NE(page.body.find("E-Mail-Adresse bestätigt"), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(page.body, m, std::regex(R"(/konto/sitzungen/([0-9a-f]{16})/beenden)")));
  auto ended = laptop.post_form("/konto/sitzungen/" + std::string(m[1]) + "/beenden",
                                {{"csrf_token", token(page.body)}});
  EXPECT_EQ(ended.status, 303);
  EXPECT_EQ(phone.get("/konto").status, 303) << "the phone is signed out";
  EXPECT_EQ(laptop.get("/konto").status, 200);
  auto other = client();
  ASSERT_EQ(login(other, "anna@example.org", kPassword).status, 303);
  EXPECT_EQ(other
                .post_form("/konto/sitzungen/0000000000000000/beenden",
                           {{"csrf_token", token(other.get("/konto").body)}})
                .status,
            303);
  EXPECT_EQ(other.get("/konto").status, 200);
}

TEST_P(AccountPages, ExportHasTheDataAndNoSecrets) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto data = c.get("/konto/daten");
  EXPECT_EQ(data.status, 200);
  EXPECT_EQ(data.header("content-type"), "application/json");
  EXPECT_NE(data.header("content-disposition").find("attachment"), std::string::npos);
  Poco::JSON::Parser parser;
  auto json = parser.parse(data.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(json->getValue<std::string>("email"), "anna@example.org");
  EXPECT_EQ(json->getObject("profile")->getValue<std::string>("givenName"), "Anna");
  EXPECT_EQ(json->getValue<std::string>("mailbox"), "mvsp:" + json->getValue<std::string>("id"));
  EXPECT_GE(json->getArray("sessions")->size(), 1u);
  EXPECT_NE(data.body.find("password_verified"), std::string::npos);
  EXPECT_EQ(data.body.find("argon2"), std::string::npos);
  EXPECT_EQ(client().get("/konto/daten").status, 303);
}

TEST_P(AccountPages, DeletingTheAccountNeedsThePasswordAndSignsOut) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto wrong = submit(c, "/konto/loeschen", {{"password", enc("falsch")}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("Das Passwort ist nicht richtig."), std::string::npos);
  auto gone = submit(c, "/konto/loeschen", {{"password", enc(kPassword)}});
  EXPECT_EQ(gone.status, 200);
  EXPECT_NE(gone.body.find("Ihr Konto ist gelöscht"), std::string::npos);
  EXPECT_EQ(c.get("/konto").status, 303);
  EXPECT_EQ(login(c, "anna@example.org", kPassword).status, 401);
  EXPECT_EQ(database_->db().query_one("SELECT COUNT(*) FROM accounts")->integer(0), 0);
}

TEST_P(AccountPages, OrganisationsThroughThePages) {
  auto anna = registered();
  ASSERT_EQ(login(anna, "anna@example.org", kPassword).status, 303);
  ASSERT_TRUE(app_->get<identity::Identity>().accounts.create_account(
      {.email = "bernd@example.org", .password = kPassword, .verified = true}, "test"));
  ASSERT_TRUE(app_->get<identity::Identity>().accounts.create_account(
      {.email = "carla@example.org", .password = kPassword, .verified = true}, "test"));
  auto created =
      submit(anna, "/konto/organisationen/neu", {{"name", enc("Bäckerei Schmidt GmbH")}});
  ASSERT_EQ(created.status, 303);
  auto org_path = created.header("location");
  auto org_id = org_path.substr(org_path.rfind('/') + 1);
  auto invited =
      submit(anna, org_path + "/einladen",
             {{"email", enc("bernd@example.org")}, {"role", "member"}}, org_path + "/einladen");
  EXPECT_EQ(invited.status, 303);
  auto mails = sink_.wait_for(++mails_expected_);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      mails.back().body, m,
      std::regex(R"(http://127\.0\.0\.1(/organisation/einladung\?token=[A-Za-z0-9_-]+))")))
      << mails.back().body;
  std::string link = m[1];

  auto carla = client();
  ASSERT_EQ(login(carla, "carla@example.org", kPassword).status, 303);
  EXPECT_EQ(carla.get(link).status, 403) << "the link is for bernd's address";
  EXPECT_EQ(carla.get(org_path).status, 404);
  EXPECT_EQ(carla.get(org_path + "/einladen").status, 404);

  auto bernd = client();
  ASSERT_EQ(login(bernd, "bernd@example.org", kPassword).status, 303);
  auto page = bernd.get(link);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Bäckerei Schmidt GmbH"), std::string::npos);
  auto accepted = bernd.post_form(
      "/organisation/einladung",
      {{"csrf_token", token(page.body)}, {"token", link.substr(link.find('=') + 1)}});
  EXPECT_EQ(accepted.status, 303);
  EXPECT_EQ(bernd.get(org_path).status, 200);
  EXPECT_EQ(bernd.get(org_path + "/einladen").status, 403) << "members do not invite";
  auto anna_id = database_->db()
                     .query_one("SELECT id FROM accounts WHERE email = 'anna@example.org'")
                     ->text(0);
  EXPECT_EQ(bernd
                .post_form(org_path + "/mitglieder/" + anna_id + "/entfernen",
                           {{"csrf_token", token(bernd.get("/konto").body)}})
                .status,
            403);
  auto act =
      bernd.post_form(org_path + "/handeln", {{"csrf_token", token(bernd.get("/konto").body)}});
  EXPECT_EQ(act.status, 303);
  EXPECT_NE(bernd.get("/konto").body.find("Handelt für: <strong>Bäckerei Schmidt GmbH</strong>"),
            std::string::npos);
  EXPECT_EQ(
      carla.post_form(org_path + "/handeln", {{"csrf_token", token(carla.get("/konto").body)}})
          .status,
      404);
  auto bernd_id = database_->db()
                      .query_one("SELECT id FROM accounts WHERE email = 'bernd@example.org'")
                      ->text(0);
  auto left = bernd.post_form(org_path + "/mitglieder/" + bernd_id + "/entfernen",
                              {{"csrf_token", token(bernd.get("/konto").body)}});
  EXPECT_EQ(left.status, 303);
  EXPECT_EQ(bernd.get(org_path).status, 404);
  EXPECT_EQ(bernd.get("/konto").body.find("Handelt für"), std::string::npos);
  EXPECT_FALSE(org_id.empty());
}

INSTANTIATE_TEST_SUITE_P(Databases, AccountPages, ::testing::ValuesIn(test::backends()));

class StaffPages : public AccountPages {
 protected:
  // The path of the invitation link in a mail, or "".
  static std::string invitation_link_in(const std::string& mail) {
    static const std::regex kLink(R"((/verwaltung/einladung\?token=[A-Za-z0-9_-]+))");
    std::smatch m;
    return std::regex_search(mail, m, kLink) ? std::string(m[1]) : std::string();
  }
  void SetUp() override {
    AccountPages::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto& id = app_->get<identity::Identity>();
    wismar_ = id.staff.create_tenant("Hansestadt Wismar", "test")->id;
    rostock_ = id.staff.create_tenant("Hanse- und Universitätsstadt Rostock", "test")->id;
    make("it@wismar.de", "authority_admin", wismar_);
    make("it@rostock.de", "authority_admin", rostock_);
    clerk_rostock_ = make("sb@rostock.de", "clerk", rostock_);
    clerk_wismar_ = make("sb@wismar.de", "clerk", wismar_);
  }
  std::string make(const std::string& email, const std::string& role, const std::string& tenant) {
    return app_->get<identity::Identity>()
        .accounts
        .create_account({.email = email,
                         .password = kPassword,
                         .given_name = "Vorname",
                         .family_name = email,
                         .verified = true,
                         .role = role,
                         .tenant_id = tenant},
                        "test")
        ->id;
  }
  // Wismar's admin invites `email` as a clerk; returns the link of the invitation mail.
  std::string invite_clerk_to_wismar(test::HttpClient& admin, const std::string& email) {
    EXPECT_EQ(submit(admin, "/verwaltung/mitarbeitende/neu",
                     {{"mandant", wismar_},
                      {"given_name", "N"},
                      {"family_name", "N"},
                      {"email", enc(email)},
                      {"role", "clerk"}},
                     "/verwaltung/mitarbeitende/neu?mandant=" + wismar_)
                  .status,
              303);
    return invitation_link_in(sink_.wait_for(++mails_expected_).back().body);
  }
  test::HttpClient signed_in_as(const std::string& email) {
    auto c = client();
    EXPECT_EQ(login(c, email, kPassword).status, 303);
    return c;
  }
  std::string roles_of(const std::string& account) {
    std::string out;
    for (const auto& r : database_->db().query("SELECT tenant_id, role FROM account_roles WHERE "
                                               "account_id = ? ORDER BY tenant_id, role",
                                               account)) {
      out += r.text(0) + ":" + r.text(1) + ";";
    }
    return out;
  }
  std::string wismar_, rostock_, clerk_rostock_, clerk_wismar_;
};

TEST_P(StaffPages, StaffOfAnotherAuthorityJoinsOnlyByAcceptingSignedIn) {
  auto admin = signed_in_as("it@wismar.de");
  auto invite = submit(admin, "/verwaltung/mitarbeitende/neu",
                       {{"mandant", wismar_},
                        {"given_name", "Sven"},
                        {"family_name", "Bauer"},
                        {"email", "sb%40rostock.de"},
                        {"role", "clerk"}},
                       "/verwaltung/mitarbeitende/neu?mandant=" + wismar_);
  EXPECT_EQ(invite.status, 303);
  auto link = invitation_link_in(sink_.wait_for(++mails_expected_).back().body);
  ASSERT_FALSE(link.empty());
  EXPECT_EQ(roles_of(clerk_rostock_), rostock_ + ":clerk;") << "nothing without consent";
  auto token_value = link.substr(link.find("token=") + 6);

  auto visitor = client();
  auto asked = visitor.get(link);
  EXPECT_EQ(asked.status, 200);
  EXPECT_NE(asked.body.find("Melden Sie sich damit an"), std::string::npos);
  EXPECT_EQ(asked.body.find(R"(name="password")"), std::string::npos)
      << "no password for an address that has an account";
  EXPECT_EQ(submit(visitor, "/verwaltung/einladung",
                   {{"token", token_value},
                    {"password", enc("ein neues Passwort!")},
                    {"password_repeat", enc("ein neues Passwort!")}},
                   link)
                .status,
            403);
  auto other = signed_in_as("it@rostock.de");
  EXPECT_EQ(submit(other, "/verwaltung/einladung", {{"token", token_value}}, link).status, 403)
      << "another account cannot take it";
  EXPECT_EQ(roles_of(clerk_rostock_), rostock_ + ":clerk;");

  auto sven = signed_in_as("sb@rostock.de");
  auto offer = sven.get(link);
  EXPECT_EQ(offer.status, 200);
  EXPECT_NE(offer.body.find("Einladung annehmen"), std::string::npos);
  auto accepted = submit(sven, "/verwaltung/einladung", {{"token", token_value}}, link);
  EXPECT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(roles_of(clerk_rostock_),
            std::min(rostock_, wismar_) + ":clerk;" + std::max(rostock_, wismar_) + ":clerk;");
  EXPECT_EQ(submit(sven, "/verwaltung/einladung", {{"token", token_value}}, "/konto").status, 404)
      << "once";
}

// The third review: an unconfirmed registration that gave way to an invitation kept its
// sessions (for an account that no longer exists).
TEST_P(StaffPages, AnUnconfirmedRegistrationThatGivesWayLosesItsSessions) {
  ASSERT_TRUE(app_->get<identity::Identity>().accounts.create_account(
      {.email = "neu@wismar.de", .password = kPassword, .given_name = "S", .family_name = "Q"},
      "test"));
  auto squatter = signed_in_as("neu@wismar.de");
  ASSERT_EQ(squatter.get("/konto").status, 200);
  auto admin = signed_in_as("it@wismar.de");
  auto link = invite_clerk_to_wismar(admin, "neu@wismar.de");
  auto owner = client();
  auto accepted = submit(owner, "/verwaltung/einladung",
                         {{"token", link.substr(link.find("token=") + 6)},
                          {"password", enc("ein neues Dienstpasswort")},
                          {"password_repeat", enc("ein neues Dienstpasswort")}},
                         link);
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(squatter.get("/konto").status, 303) << "the squatter's session ended";
  EXPECT_EQ(
      database_->db().query_one("SELECT COUNT(*) FROM sessions WHERE account_id <> ''")->integer(0),
      1)
      << "only the admin's";
}

TEST_P(StaffPages, AnAdminWithdrawsOnlyOwnInvitations) {
  auto admin = signed_in_as("it@wismar.de");
  auto link = invite_clerk_to_wismar(admin, "neu@wismar.de");
  auto id = database_->db().query_one("SELECT id FROM staff_invitations")->text(0);
  auto path = "/verwaltung/mitarbeitende/einladungen/" + id + "/zurueckziehen";
  auto rostock = signed_in_as("it@rostock.de");
  EXPECT_EQ(submit(rostock, path, {{"mandant", rostock_}}, "/konto").status, 404);
  EXPECT_EQ(submit(rostock, path, {{"mandant", wismar_}}, "/konto").status, 403);
  auto clerk = signed_in_as("sb@wismar.de");
  EXPECT_EQ(submit(clerk, path, {{"mandant", wismar_}}, "/konto").status, 403);
  EXPECT_EQ(client().get(link).status, 200) << "still valid";
  auto withdrawn = submit(admin, path, {{"mandant", wismar_}}, "/verwaltung/mitarbeitende");
  EXPECT_EQ(withdrawn.status, 303);
  EXPECT_NE(admin.get(withdrawn.header("location")).body.find("Die Einladung ist zurückgezogen."),
            std::string::npos);
  EXPECT_EQ(client().get(link).status, 404);
}

TEST_P(StaffPages, EveryStaffRouteKeepsAnAdminInsideTheOwnAuthority) {
  auto admin = signed_in_as("it@wismar.de");
  auto csrf = token(admin.get("/konto").body);
  auto before = roles_of(clerk_rostock_);
  auto count = [&] {
    return database_->db().query_one("SELECT COUNT(*) FROM accounts")->integer(0);
  };
  auto accounts = count();

  EXPECT_EQ(admin.get("/verwaltung/mitarbeitende?mandant=" + rostock_).status, 403);
  EXPECT_EQ(admin.get("/verwaltung/mitarbeitende/neu?mandant=" + rostock_).status, 403);
  EXPECT_EQ(admin
                .post_form("/verwaltung/mitarbeitende/neu", {{"csrf_token", csrf},
                                                             {"mandant", rostock_},
                                                             {"email", "neu%40rostock.de"},
                                                             {"given_name", "N"},
                                                             {"family_name", "N"},
                                                             {"role", "clerk"}})
                .status,
            403);
  EXPECT_EQ(admin.get("/verwaltung/mitarbeitende/" + clerk_rostock_ + "?mandant=" + wismar_).status,
            404);
  EXPECT_EQ(
      admin.get("/verwaltung/mitarbeitende/" + clerk_rostock_ + "?mandant=" + rostock_).status,
      403);
  EXPECT_EQ(
      admin
          .post_form("/verwaltung/mitarbeitende/" + clerk_rostock_,
                     {{"csrf_token", csrf}, {"mandant", wismar_}, {"roles", "authority_admin"}})
          .status,
      404);
  EXPECT_EQ(
      admin
          .post_form("/verwaltung/mitarbeitende/" + clerk_rostock_,
                     {{"csrf_token", csrf}, {"mandant", rostock_}, {"roles", "authority_admin"}})
          .status,
      403);
  EXPECT_EQ(admin
                .post_form("/verwaltung/mitarbeitende/" + clerk_rostock_ + "/entfernen",
                           {{"csrf_token", csrf}, {"mandant", wismar_}})
                .status,
            404);
  EXPECT_EQ(admin
                .post_form("/verwaltung/mitarbeitende/" + clerk_rostock_ + "/entfernen",
                           {{"csrf_token", csrf}, {"mandant", rostock_}})
                .status,
            403);
  EXPECT_EQ(roles_of(clerk_rostock_), before);
  EXPECT_EQ(count(), accounts);
  auto own = admin.get("/verwaltung/mitarbeitende");
  EXPECT_EQ(own.status, 200);
  EXPECT_NE(own.body.find("sb@wismar.de"), std::string::npos);
  EXPECT_EQ(own.body.find("sb@rostock.de"), std::string::npos);
}

TEST_P(StaffPages, ClerksAndVisitorsHaveNoStaffPages) {
  auto clerk = signed_in_as("sb@wismar.de");
  auto csrf = token(clerk.get("/konto").body);
  EXPECT_EQ(clerk.get("/verwaltung/mitarbeitende").status, 403);
  EXPECT_EQ(clerk.get("/verwaltung/mitarbeitende?mandant=" + wismar_).status, 403);
  EXPECT_EQ(clerk.get("/verwaltung/mitarbeitende/neu?mandant=" + wismar_).status, 403);
  EXPECT_EQ(clerk.get("/verwaltung/mitarbeitende/" + clerk_wismar_ + "?mandant=" + wismar_).status,
            403);
  EXPECT_EQ(
      clerk
          .post_form("/verwaltung/mitarbeitende/" + clerk_wismar_,
                     {{"csrf_token", csrf}, {"mandant", wismar_}, {"roles", "authority_admin"}})
          .status,
      403);
  EXPECT_EQ(roles_of(clerk_wismar_), wismar_ + ":clerk;") << "no clerk makes themselves admin";
  for (const auto& path :
       {std::string("/verwaltung/mitarbeitende"), std::string("/verwaltung/mitarbeitende/neu"),
        "/verwaltung/mitarbeitende/" + clerk_wismar_}) {
    EXPECT_EQ(client().get(path).status, 303) << path;
  }
}

TEST_P(StaffPages, AnAdminInvitesAndChangesRolesThroughThePages) {
  auto admin = signed_in_as("it@wismar.de");
  auto invite = submit(admin, "/verwaltung/mitarbeitende/neu",
                       {{"mandant", wismar_},
                        {"given_name", "Rita"},
                        {"family_name", "Redaktion"},
                        {"email", "redaktion%40wismar.de"},
                        {"role", "editor"}},
                       "/verwaltung/mitarbeitende/neu?mandant=" + wismar_);
  EXPECT_EQ(invite.status, 303);
  auto mails = sink_.wait_for(++mails_expected_);
  EXPECT_EQ(mails.back().to, "redaktion@wismar.de");
  auto link = invitation_link_in(mails.back().body);
  ASSERT_FALSE(link.empty()) << mails.back().body;
  auto list = admin.get(invite.header("location"));
  EXPECT_NE(list.body.find("Die Einladung ist verschickt."), std::string::npos);
  EXPECT_NE(list.body.find("Offene Einladungen"), std::string::npos);
  EXPECT_NE(list.body.find("redaktion@wismar.de"), std::string::npos);

  // The invited person sets a password through the link and so makes the account.
  auto rita = client();
  auto page = rita.get(link);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Hansestadt Wismar"), std::string::npos);
  EXPECT_NE(page.body.find(R"(name="password_repeat")"), std::string::npos);
  auto token_value = link.substr(link.find("token=") + 6);
  auto mismatch = submit(rita, "/verwaltung/einladung",
                         {{"token", token_value},
                          {"password", enc("Redaktion in Wismar")},
                          {"password_repeat", enc("etwas anderes")}},
                         link);
  EXPECT_EQ(mismatch.status, 422);
  EXPECT_NE(mismatch.body.find(R"(href="#feld-password_repeat")"), std::string::npos);
  auto made = submit(rita, "/verwaltung/einladung",
                     {{"token", token_value},
                      {"password", enc("Redaktion in Wismar")},
                      {"password_repeat", enc("Redaktion in Wismar")}},
                     link);
  EXPECT_EQ(made.status, 200) << made.body;
  EXPECT_EQ(rita.get(link).status, 404) << "the link is used";
  EXPECT_EQ(login(rita, "redaktion@wismar.de", "Redaktion in Wismar").status, 303);
  list = admin.get("/verwaltung/mitarbeitende?mandant=" + wismar_);
  EXPECT_NE(list.body.find("Keine offenen Einladungen."), std::string::npos);
  EXPECT_NE(list.body.find("redaktion@wismar.de"), std::string::npos);

  auto bad = submit(admin, "/verwaltung/mitarbeitende/" + clerk_wismar_, {{"mandant", wismar_}},
                    "/verwaltung/mitarbeitende/" + clerk_wismar_ + "?mandant=" + wismar_);
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find(R"(href="#feld-roles")"), std::string::npos);
  auto ok = submit(admin, "/verwaltung/mitarbeitende/" + clerk_wismar_,
                   {{"mandant", wismar_}, {"roles", "clerk"}, {"roles", "editor"}},
                   "/verwaltung/mitarbeitende/" + clerk_wismar_ + "?mandant=" + wismar_);
  EXPECT_EQ(ok.status, 303);
  EXPECT_EQ(roles_of(clerk_wismar_), wismar_ + ":clerk;" + wismar_ + ":editor;");
}

INSTANTIATE_TEST_SUITE_P(Databases, StaffPages, ::testing::ValuesIn(test::backends()));

class ClientRegistryPages : public StaffPages {
 protected:
  void SetUp() override {
    StaffPages::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    make("betrieb@land.example", "operator", wismar_);
  }
};

TEST_P(ClientRegistryPages, OnlyOperatorsRegisterClientsAndSeeTheSecretOnce) {
  auto admin = signed_in_as("it@wismar.de");
  EXPECT_EQ(admin.get("/verwaltung/clients").status, 403);
  EXPECT_EQ(admin.get("/verwaltung/clients/neu").status, 403);
  EXPECT_EQ(
      admin
          .post_form("/verwaltung/clients/neu", {{"csrf_token", token(admin.get("/konto").body)},
                                                 {"name", "x"},
                                                 {"grant", "client_credentials"}})
          .status,
      403);
  EXPECT_EQ(client().get("/verwaltung/clients").status, 303);

  auto op = signed_in_as("betrieb@land.example");
  EXPECT_NE(op.get("/konto").body.find("/verwaltung/clients"), std::string::npos);
  auto bad = submit(op, "/verwaltung/clients/neu",
                    {{"name", "Fachverfahren"},
                     {"redirect_uri", enc("ftp://x")},
                     {"grant", "authorization_code"},
                     {"kind", "confidential"},
                     {"scope", "openid"}},
                    "/verwaltung/clients/neu");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find(R"(href="#feld-redirect_uri")"), std::string::npos)
      << bad.body.substr(0, 3000);
  auto created = submit(op, "/verwaltung/clients/neu",
                        {{"name", "Fachverfahren"},
                         {"redirect_uri", enc("https://fv.example/cb\nhttps://fv.example/cb2")},
                         {"grant", "authorization_code"},
                         {"grant", "refresh_token"},
                         {"kind", "confidential"},
                         {"scope", enc("openid profile")},
                         {"tenant", wismar_}},
                        "/verwaltung/clients/neu");
  ASSERT_EQ(created.status, 200) << created.body.substr(0, 2000);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(created.body, m, std::regex(R"(id="client-id">([a-z0-9]{26})<)")));
  std::smatch secret;
  ASSERT_TRUE(std::regex_search(created.body, secret,
                                std::regex(R"(id="client-secret">([A-Za-z0-9_-]{43})<)")));
  auto registered_client = app_->get<identity::Provider>().find_client(std::string(m[1]));
  ASSERT_TRUE(registered_client);
  EXPECT_EQ(registered_client->redirect_uris,
            (std::vector<std::string>{"https://fv.example/cb", "https://fv.example/cb2"}));
  EXPECT_EQ(registered_client->tenant_id, wismar_);
  auto list = op.get("/verwaltung/clients");
  EXPECT_NE(list.body.find(std::string(m[1])), std::string::npos);
  EXPECT_EQ(list.body.find(std::string(secret[1])), std::string::npos)
      << "the secret is shown once";
}

INSTANTIATE_TEST_SUITE_P(Databases, ClientRegistryPages, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::identity

namespace mvsp::identity {
namespace {

// The Basic OP checks of the OpenID Foundation's test plan, over HTTP.
class OpenIdProvider : public AccountPages {
 protected:
  void SetUp() override {
    AccountPages::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto created = app_->get<identity::Provider>().create_client(
        {.name = "Fachverfahren", .redirect_uris = {kRedirect}, .post_logout_uris = {kAfterLogout}},
        "test");
    ASSERT_TRUE(created);
    client_id_ = created->client.client_id;
    secret_ = created->client_secret;
    auto machine =
        app_->get<identity::Provider>().create_client({.name = "Postfachdienst",
                                                       .scopes = {"notices:write", "notices:read"},
                                                       .grants = {"client_credentials"}},
                                                      "test");
    ASSERT_TRUE(machine) << machine.error().fields[0].message;
    machine_id_ = machine->client.client_id;
    machine_secret_ = machine->client_secret;
  }

  static constexpr const char* kRedirect = "https://rp.example/callback";
  static constexpr const char* kAfterLogout = "https://rp.example/bye";

  std::string authorize_url(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> p{{"client_id", client_id_},
                                         {"redirect_uri", kRedirect},
                                         {"response_type", "code"},
                                         {"scope", "openid profile email"},
                                         {"state", "st-1"},
                                         {"nonce", "n-0815"},
                                         {"code_challenge", challenge_},
                                         {"code_challenge_method", "S256"}};
    for (auto& [k, v] : extra) p[k] = v;
    std::string q;
    for (auto& [k, v] : p) q += (q.empty() ? "" : "&") + enc(k) + "=" + enc(v);
    return "/oidc/authorize?" + q;
  }

  // The parameters of the redirect back to the client.
  std::map<std::string, std::string> answer(const test::HttpResponse& res) {
    std::map<std::string, std::string> out;
    auto location = res.header("location");
    EXPECT_EQ(location.rfind(kRedirect, 0), 0u) << location;
    auto q = location.find('?');
    if (q == std::string::npos) return out;
    for (auto& [k, v] : web::parse_urlencoded(location.substr(q + 1))) out[k] = v;
    return out;
  }

  test::HttpResponse token_request(const std::string& body, const std::string& id,
                                   const std::string& secret) {
    std::map<std::string, std::string> headers{
        {"Content-Type", "application/x-www-form-urlencoded"}};
    headers["Authorization"] = "Basic " + standard_base64(id + ":" + secret);
    return client().request("POST", "/api/v1/oidc/token", body, headers);
  }

  static std::string standard_base64(const std::string& s) {
    auto b = core::crypto::base64url(s);
    std::replace(b.begin(), b.end(), '-', '+');
    std::replace(b.begin(), b.end(), '_', '/');
    while (b.size() % 4) b += '=';
    return b;
  }

  Poco::JSON::Object::Ptr json(const std::string& body) {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
  }

  test::HttpResponse exchange(const std::string& code) {
    return token_request("grant_type=authorization_code&code=" + enc(code) +
                             "&redirect_uri=" + enc(kRedirect) + "&code_verifier=" + verifier_,
                         client_id_, secret_);
  }

  std::string payload_of(const std::string& jwt) {
    auto a = jwt.find('.');
    auto b = jwt.find('.', a + 1);
    std::string part = jwt.substr(a + 1, b - a - 1);
    std::replace(part.begin(), part.end(), '-', '+');
    std::replace(part.begin(), part.end(), '_', '/');
    while (part.size() % 4) part += '=';
    std::istringstream in(part);
    Poco::Base64Decoder dec(in);
    return std::string((std::istreambuf_iterator<char>(dec)), {});
  }

  std::string verifier_ = "a-long-enough-pkce-verifier-0123456789-abcdefghij";
  std::string challenge_ = core::crypto::base64url(core::crypto::sha256(verifier_));
  std::string client_id_, secret_, machine_id_, machine_secret_;
};

TEST_P(OpenIdProvider, DiscoveryAndJwksDescribeTheProvider) {
  auto d = json(client().get("/.well-known/openid-configuration").body);
  EXPECT_EQ(d->getValue<std::string>("issuer"), "http://127.0.0.1");
  EXPECT_EQ(d->getValue<std::string>("token_endpoint"), "http://127.0.0.1/api/v1/oidc/token");
  auto keys = json(client().get("/oidc/jwks").body)->getArray("keys");
  ASSERT_EQ(keys->size(), 2u);
  std::set<std::string> algs;
  for (std::size_t i = 0; i < keys->size(); ++i) {
    algs.insert(keys->getObject(static_cast<unsigned>(i))->getValue<std::string>("alg"));
  }
  EXPECT_EQ(algs, (std::set<std::string>{"ES256", "RS256"}));
  app_->get<identity::Provider>().rotate_keys();
  EXPECT_EQ(json(client().get("/oidc/jwks").body)->getArray("keys")->size(), 4u)
      << "old keys stay published while their tokens live";
}

TEST_P(OpenIdProvider, AnUnregisteredRedirectUriIsRefusedWithoutRedirect) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto res = c.get(authorize_url({{"redirect_uri", "https://evil.example/callback"}}));
  EXPECT_EQ(res.status, 400);
  EXPECT_TRUE(res.header("location").empty());
  EXPECT_EQ(c.get(authorize_url({{"client_id", "nobody"}})).status, 400);
  auto bad_type = answer(c.get(authorize_url({{"response_type", "token"}})));
  EXPECT_EQ(bad_type["error"], "unsupported_response_type");
  EXPECT_EQ(bad_type["state"], "st-1");
}

TEST_P(OpenIdProvider, PromptNoneWithoutSessionAnswersLoginRequired) {
  auto res = client().get(authorize_url({{"prompt", "none"}}));
  EXPECT_EQ(res.status, 303);
  auto a = answer(res);
  EXPECT_EQ(a["error"], "login_required");
  EXPECT_EQ(a["state"], "st-1");
  EXPECT_EQ(a["iss"], "http://127.0.0.1");
  auto to_login = client().get(authorize_url());
  EXPECT_EQ(to_login.header("location").rfind("/anmelden?next=", 0), 0u);
}

TEST_P(OpenIdProvider, CodeFlowEchoesTheNonceAndAReusedCodeRevokesItsTokens) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto a = answer(c.get(authorize_url()));
  ASSERT_FALSE(a["code"].empty());
  EXPECT_EQ(a["state"], "st-1");
  auto first = exchange(a["code"]);
  ASSERT_EQ(first.status, 200) << first.body;
  auto tokens = json(first.body);
  auto claims = json(payload_of(tokens->getValue<std::string>("id_token")));
  EXPECT_EQ(claims->getValue<std::string>("nonce"), "n-0815");
  EXPECT_EQ(claims->getValue<std::string>("aud"), client_id_);
  auto access = tokens->getValue<std::string>("access_token");
  auto bearer = [&](const std::string& t) {
    return std::map<std::string, std::string>{{"Authorization", "Bearer " + t}};
  };
  EXPECT_EQ(client().get("/api/v1/oidc/userinfo", bearer(access)).status, 200);

  auto again = exchange(a["code"]);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(json(again.body)->getValue<std::string>("error"), "invalid_grant");
  auto after = client().get("/api/v1/oidc/userinfo", bearer(access));
  EXPECT_EQ(after.status, 401) << "tokens from a reused code are revoked";
  EXPECT_NE(after.header("www-authenticate").find("invalid_token"), std::string::npos);
}

TEST_P(OpenIdProvider, GarbageGetsAClearAnswerNotAServerError) {
  auto res = client().request("POST", "/api/v1/oidc/token", "grant_type=client_credentials",
                              {{"Content-Type", "application/x-www-form-urlencoded"},
                               {"Authorization", "Basic %%%not base64%%%"}});
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(json(res.body)->getValue<std::string>("error"), "invalid_client");
  auto assertion = client().request(
      "POST", "/api/v1/oidc/token",
      "grant_type=client_credentials&client_assertion_type=" +
          enc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") + "&client_assertion=a.b.c",
      {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(assertion.status, 401);
  EXPECT_EQ(client().get(authorize_url({{"mvsp_after", "soon"}})).status, 303);
  EXPECT_EQ(client().get("/oidc/logout?id_token_hint=not.a.jwt").status, 200);
  EXPECT_EQ(client().get("/oidc/authorize").status, 400);
}

TEST_P(OpenIdProvider, PkceAndRedirectUriAreChecked) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto code = answer(c.get(authorize_url()))["code"];
  auto wrong = token_request("grant_type=authorization_code&code=" + enc(code) + "&redirect_uri=" +
                                 enc(kRedirect) + "&code_verifier=" + std::string(50, 'x'),
                             client_id_, secret_);
  EXPECT_EQ(json(wrong.body)->getValue<std::string>("error"), "invalid_grant");
  auto bad_secret = token_request("grant_type=authorization_code&code=x", client_id_, "falsch");
  EXPECT_EQ(bad_secret.status, 401);
  EXPECT_EQ(json(bad_secret.body)->getValue<std::string>("error"), "invalid_client");
}

// The same, on a clock the test moves (through the same wiring production uses).
class OpenIdProviderOnAManualClock : public OpenIdProvider {
 protected:
  const web::Ports& ports() override { return ports_; }
  test::ManualClock clock_{core::TimePoint(
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()))};
  web::Ports ports_{
      .clock = clock_, .ids = app::system_ports().ids, .http = app::system_ports().http};
};

TEST_P(OpenIdProviderOnAManualClock, MaxAgeForcesAFreshLogin) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  clock_.advance(std::chrono::seconds(2));
  auto res = c.get(authorize_url({{"max_age", "0"}}));
  EXPECT_EQ(res.header("location").rfind("/anmelden?next=", 0), 0u) << res.header("location");
  auto fresh = c.get(authorize_url({{"max_age", "3600"}}));
  EXPECT_FALSE(answer(fresh)["code"].empty());
  auto again = c.get(authorize_url({{"prompt", "login"}}));
  EXPECT_EQ(again.header("location").rfind("/anmelden?next=", 0), 0u) << "prompt=login asks again";
}

TEST_P(OpenIdProvider, UserinfoAnswersGetAndPost) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto tokens = json(exchange(answer(c.get(authorize_url()))["code"]).body);
  auto access = tokens->getValue<std::string>("access_token");
  auto get = client().get("/api/v1/oidc/userinfo", {{"Authorization", "Bearer " + access}});
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(json(get.body)->getValue<std::string>("email"), "anna@example.org");
  EXPECT_EQ(json(get.body)->getValue<std::string>("given_name"), "Anna");
  auto post = client().request("POST", "/api/v1/oidc/userinfo", "access_token=" + enc(access),
                               {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(post.status, 200);
  EXPECT_EQ(json(post.body)->getValue<std::string>("sub"),
            json(get.body)->getValue<std::string>("sub"));
  EXPECT_EQ(client().get("/api/v1/oidc/userinfo").status, 401);
}

TEST_P(OpenIdProvider, MachinesGetScopedTokensWithClientCredentials) {
  auto res = token_request("grant_type=client_credentials&scope=notices%3Awrite", machine_id_,
                           machine_secret_);
  ASSERT_EQ(res.status, 200) << res.body;
  auto t = json(res.body);
  EXPECT_EQ(t->getValue<std::string>("scope"), "notices:write");
  EXPECT_FALSE(t->has("id_token"));
  EXPECT_FALSE(t->has("refresh_token"));
  auto grant =
      app_->get<identity::Provider>().check_access_token(t->getValue<std::string>("access_token"));
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->client_id, machine_id_);
  EXPECT_TRUE(grant->account_id.empty());
  auto too_much = token_request("grant_type=client_credentials&scope=openid%20admin", machine_id_,
                                machine_secret_);
  EXPECT_EQ(json(too_much.body)->getValue<std::string>("error"), "invalid_scope");
  auto not_allowed = token_request("grant_type=client_credentials", client_id_, secret_);
  EXPECT_EQ(json(not_allowed.body)->getValue<std::string>("error"), "unauthorized_client");
}

TEST_P(OpenIdProvider, LogoutEndsTheSessionAndReturnsOnlyToRegisteredAddresses) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto id_token = json(exchange(answer(c.get(authorize_url()))["code"]).body)
                      ->getValue<std::string>("id_token");
  auto out = c.get("/oidc/logout?id_token_hint=" + enc(id_token) +
                   "&post_logout_redirect_uri=" + enc(kAfterLogout) + "&state=bye-1");
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(out.header("location"), std::string(kAfterLogout) + "?state=bye-1");
  EXPECT_EQ(c.get("/konto").status, 303) << "signed out";
  auto c2 = client();
  ASSERT_EQ(login(c2, "anna@example.org", kPassword).status, 303);
  auto elsewhere = c2.get("/oidc/logout?id_token_hint=" + enc(id_token) +
                          "&post_logout_redirect_uri=" + enc("https://evil.example/"));
  EXPECT_EQ(elsewhere.status, 200);
  EXPECT_TRUE(elsewhere.header("location").empty());
}

TEST_P(OpenIdProvider, HintsAndLanguagesAreHonoured) {
  auto to_login = client().get(
      authorize_url({{"ui_locales", "fr-CA en-GB de"}, {"login_hint", "anna@example.org"}}));
  EXPECT_NE(to_login.header("set-cookie").find("mvsp_lang=en"), std::string::npos);
  EXPECT_NE(to_login.header("location").find("login_hint=anna%40example.org"), std::string::npos);

  auto anna = registered();
  ASSERT_EQ(login(anna, "anna@example.org", kPassword).status, 303);
  auto tokens = json(exchange(answer(anna.get(authorize_url()))["code"]).body);
  auto id_token = tokens->getValue<std::string>("id_token");
  EXPECT_FALSE(answer(anna.get(authorize_url({{"id_token_hint", id_token}})))["code"].empty())
      << "the hint names the signed-in person";
  ASSERT_TRUE(app_->get<identity::Identity>().accounts.create_account(
      {.email = "bernd@example.org", .password = kPassword, .verified = true}, "test"));
  auto bernd = client();
  ASSERT_EQ(login(bernd, "bernd@example.org", kPassword).status, 303);
  auto other = bernd.get(authorize_url({{"id_token_hint", id_token}}));
  EXPECT_EQ(other.header("location").rfind("/anmelden?next=", 0), 0u)
      << "the hint names someone else";
}

TEST_P(OpenIdProvider, AccessTokensOfMachinesCarryTheirTenant) {
  auto tenant =
      app_->get<identity::Identity>().staff.create_tenant("Landkreis Nordwestmecklenburg", "test");
  auto bound = app_->get<identity::Provider>().create_client({.name = "Fachverfahren des Kreises",
                                                              .scopes = {"notices:write"},
                                                              .grants = {"client_credentials"},
                                                              .tenant_id = tenant->id},
                                                             "test");
  auto res =
      token_request("grant_type=client_credentials", bound->client.client_id, bound->client_secret);
  auto grant = app_->get<identity::Provider>().check_access_token(
      json(res.body)->getValue<std::string>("access_token"));
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->tenant_id, tenant->id);
}

// A client assertion (RFC 7523) signed with `signer`.
std::string assertion(const Poco::JWT::Signer& signer, const std::string& alg,
                      const std::string& client_id, const std::string& audience,
                      std::int64_t lifetime_s, const std::string& jti) {
  Poco::JWT::Token t;
  t.setIssuer(client_id);
  t.setSubject(client_id);
  t.setAudience(audience);
  auto now = Poco::Timestamp().epochTime();
  t.setIssuedAt(Poco::Timestamp::fromEpochTime(now));
  t.setExpiration(Poco::Timestamp::fromEpochTime(now + lifetime_s));
  t.setId(jti);
  return signer.sign(t, alg);
}

TEST_P(OpenIdProvider, MachinesAuthenticateWithPrivateKeyJwt) {
  Poco::SharedPtr<Poco::Crypto::RSAKey> rsa(
      new Poco::Crypto::RSAKey(Poco::Crypto::RSAKey::KL_2048, Poco::Crypto::RSAKey::EXP_LARGE));
  std::ostringstream pub;
  rsa->save(&pub, nullptr);
  auto bad = app_->get<identity::Provider>().create_client(
      {.name = "x",
       .grants = {"client_credentials"},
       .public_key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
      "test");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().fields[0].field, "public_key");
  auto created =
      app_->get<identity::Provider>().create_client({.name = "Fachverfahren mit Schlüssel",
                                                     .scopes = {"notices:write"},
                                                     .grants = {"client_credentials"},
                                                     .public_key_pem = pub.str()},
                                                    "test");
  ASSERT_TRUE(created) << created.error().fields[0].message;
  EXPECT_TRUE(created->client_secret.empty()) << "no secret for a key client";
  auto id = created->client.client_id;
  Poco::JWT::Signer signer(rsa);
  const std::string endpoint = "http://127.0.0.1/api/v1/oidc/token";
  auto post = [&](const std::string& jwt) {
    return client().request("POST", "/api/v1/oidc/token",
                            "grant_type=client_credentials&client_assertion_type=" +
                                enc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                                "&client_assertion=" + jwt,
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
  };
  auto good = assertion(signer, "RS256", id, endpoint, 60, "jti-1");
  auto ok = post(good);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json(ok.body)->getValue<std::string>("scope"), "notices:write");
  EXPECT_EQ(post(good).status, 401) << "an assertion counts once";
  EXPECT_EQ(
      post(assertion(signer, "RS256", id, "https://elsewhere.example/token", 60, "jti-2")).status,
      401);
  EXPECT_EQ(post(assertion(signer, "RS256", id, endpoint, -10, "jti-3")).status, 401) << "expired";
  EXPECT_EQ(post(assertion(signer, "RS256", id, endpoint, 3600, "jti-4")).status, 401)
      << "too long";
  Poco::SharedPtr<Poco::Crypto::RSAKey> other(
      new Poco::Crypto::RSAKey(Poco::Crypto::RSAKey::KL_2048, Poco::Crypto::RSAKey::EXP_LARGE));
  EXPECT_EQ(post(assertion(Poco::JWT::Signer(other), "RS256", id, endpoint, 60, "jti-5")).status,
            401)
      << "signed with another key";
  EXPECT_EQ(token_request("grant_type=client_credentials", id, "guessed").status, 401);

  Poco::SharedPtr<Poco::Crypto::ECKey> ec(new Poco::Crypto::ECKey("prime256v1"));
  std::ostringstream ec_pub;
  ec->save(&ec_pub, nullptr);
  auto ec_client = app_->get<identity::Provider>().create_client({.name = "EC",
                                                                  .scopes = {"notices:read"},
                                                                  .grants = {"client_credentials"},
                                                                  .public_key_pem = ec_pub.str()},
                                                                 "test");
  ASSERT_TRUE(ec_client);
  EXPECT_EQ(post(assertion(Poco::JWT::Signer(ec), "ES256", ec_client->client.client_id,
                           "http://127.0.0.1", 60, "jti-6"))
                .status,
            200);
}

INSTANTIATE_TEST_SUITE_P(Databases, OpenIdProvider, ::testing::ValuesIn(test::backends()));
INSTANTIATE_TEST_SUITE_P(Databases, OpenIdProviderOnAManualClock,
                         ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::identity
