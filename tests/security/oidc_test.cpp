// Findings of the outside security review (issue 11: items 5 and 9, OIDC and catalog), each
// over HTTP on both databases, named after what it protects.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/http.hpp>
#include <regex>

#include "../identity/account_pages.hpp"
#include "app.hpp"
#include "support.hpp"

namespace mvsp::security {
namespace {

using identity::kPassword;

class SecurityFindings : public identity::AccountPages {
 protected:
  void SetUp() override {
    AccountPages::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto created =
        app_->get<identity::Provider>().create_client({.name = "Fachverfahren",
                                                       .redirect_uris = {kRedirect, kLoopback},
                                                       .post_logout_uris = {kAfterLogout}},
                                                      "test");
    ASSERT_TRUE(created) << created.error().fields[0].message;
    client_id_ = created->client.client_id;
    secret_ = created->client_secret;
  }

  static constexpr const char* kRedirect = "https://rp.example/callback";
  static constexpr const char* kLoopback = "http://127.0.0.1:8000/cb";
  static constexpr const char* kAfterLogout = "https://rp.example/bye";

  std::string authorize_url(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> p{{"client_id", client_id_},
                                         {"redirect_uri", kRedirect},
                                         {"response_type", "code"},
                                         {"scope", "openid profile email"},
                                         {"state", "st-1"},
                                         {"code_challenge", challenge_},
                                         {"code_challenge_method", "S256"}};
    for (auto& [k, v] : extra) p[k] = v;
    std::string q;
    for (auto& [k, v] : p) q += (q.empty() ? "" : "&") + enc(k) + "=" + enc(v);
    return "/oidc/authorize?" + q;
  }

  static std::string code_of(const test::HttpResponse& res) {
    auto location = res.header("location");
    auto q = location.find('?');
    if (q == std::string::npos) return {};
    for (auto& [k, v] : web::parse_urlencoded(location.substr(q + 1))) {
      if (k == "code") return v;
    }
    return {};
  }

  test::HttpResponse token_request(const std::string& body, const std::string& id,
                                   const std::string& secret) {
    return client().request("POST", "/api/v1/oidc/token",
                            body + "&client_id=" + enc(id) + "&client_secret=" + enc(secret),
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
  }

  static Poco::JSON::Object::Ptr json(const std::string& body) {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
  }

  // The tokens of a code flow of the person signed in with `c`.
  Poco::JSON::Object::Ptr tokens_for(test::HttpClient& c,
                                     std::map<std::string, std::string> extra = {},
                                     const std::string& id = {}, const std::string& secret = {}) {
    if (!id.empty()) extra["client_id"] = id;
    auto code = code_of(c.get(authorize_url(extra)));
    EXPECT_FALSE(code.empty());
    auto res = token_request("grant_type=authorization_code&code=" + enc(code) +
                                 "&redirect_uri=" + enc(kRedirect) + "&code_verifier=" + verifier_,
                             id.empty() ? client_id_ : id, id.empty() ? secret_ : secret);
    EXPECT_EQ(res.status, 200) << res.body;
    return json(res.body);
  }

  test::HttpResponse refresh(const std::string& refresh_token) {
    return token_request("grant_type=refresh_token&refresh_token=" + enc(refresh_token), client_id_,
                         secret_);
  }

  int userinfo_status(const std::string& access_token) {
    return client()
        .get("/api/v1/oidc/userinfo", {{"Authorization", "Bearer " + access_token}})
        .status;
  }

  std::string account_id(const std::string& email) {
    return database_->db().query_one("SELECT id FROM accounts WHERE email = ?", email)->text(0);
  }

  std::string make_account(const std::string& email) {
    auto a = app_->get<identity::Identity>().accounts.create_account(
        {.email = email, .password = kPassword, .given_name = "Vorname", .verified = true}, "test");
    EXPECT_TRUE(a);
    return a ? a->id : std::string();
  }

  test::HttpClient signed_in(const std::string& email) {
    auto c = client();
    EXPECT_EQ(login(c, email, kPassword).status, 303);
    return c;
  }

  void add_member(const std::string& org, const std::string& account) {
    database_->db().execute(
        "INSERT INTO organisation_members (organisation_id, account_id, role) VALUES (?, ?, ?)",
        org, account, std::string("member"));
  }

  test::HttpResponse act_for(test::HttpClient& c, const std::string& org) {
    return c.post_form("/konto/organisationen/" + org + "/handeln",
                       {{"csrf_token", token(c.get("/konto/organisationen").body)}});
  }

  std::string store_message(const std::string& owner, const std::string& subject) {
    auto stored = app_->get<mailbox::Mailbox>().store({.owner_id = owner,
                                                       .source_ref = "ref-" + subject,
                                                       .notice = false,
                                                       .sender = "Hansestadt Wismar",
                                                       .subject = subject,
                                                       .body = "Guten Tag."});
    EXPECT_TRUE(stored) << stored.error().message;
    return stored ? stored->message_id : std::string();
  }

  std::string verifier_ = "a-long-enough-pkce-verifier-0123456789-abcdefghij";
  std::string challenge_ = core::crypto::base64url(core::crypto::sha256(verifier_));
  std::string client_id_, secret_;
};

// Item 5: membership is checked on every request that acts for an organisation.
TEST_P(SecurityFindings, RemovedMemberCannotOpenOrganisationMailbox) {
  auto anna = make_account("anna@example.org");
  auto bernd = make_account("bernd@example.org");
  auto org = app_->get<identity::Identity>().organisations.create_organisation(
      anna, "Bäckerei Schmidt GmbH", "de");
  ASSERT_TRUE(org);
  add_member(org->id, bernd);
  auto message = store_message(org->id, "Betriebsprüfung");

  auto c = signed_in("bernd@example.org");
  ASSERT_EQ(act_for(c, org->id).status, 303);
  ASSERT_NE(c.get("/postfach").body.find("Betriebsprüfung"), std::string::npos);
  ASSERT_EQ(c.get("/postfach/" + message).status, 200) << "a member opens it";

  ASSERT_TRUE(app_->get<identity::Identity>().organisations.remove_from_organisation(anna, org->id,
                                                                                     bernd, "de"));
  EXPECT_EQ(c.get("/postfach/" + message).status, 404);
  EXPECT_EQ(c.get("/postfach").body.find("Betriebsprüfung"), std::string::npos);
  EXPECT_EQ(c.get("/konto/organisationen").body.find("Bäckerei Schmidt GmbH"), std::string::npos)
      << "the session no longer says it acts for the organisation";
  EXPECT_EQ(c.get("/konto").body.find("Handelt für"), std::string::npos);
}

// Item 5: a login in the same browser starts without the previous person's organisation.
TEST_P(SecurityFindings, LoginAsAnotherPersonStartsWithoutOrganisation) {
  auto anna = make_account("anna@example.org");
  auto bernd = make_account("bernd@example.org");
  auto carla = make_account("carla@example.org");
  auto org = app_->get<identity::Identity>().organisations.create_organisation(
      anna, "Bäckerei Schmidt GmbH", "de");
  ASSERT_TRUE(org);
  add_member(org->id, bernd);
  add_member(org->id, carla);  // a member too: only the login may end the choice
  store_message(org->id, "Betriebsprüfung");
  store_message(carla, "Wohngeldbescheid");

  auto c = signed_in("bernd@example.org");
  ASSERT_EQ(act_for(c, org->id).status, 303);
  ASSERT_NE(c.get("/konto").body.find("Handelt für"), std::string::npos);
  auto old_cookie = c.cookies()["mvsp_session"];

  ASSERT_EQ(login(c, "carla@example.org", kPassword).status, 303);
  auto inbox = c.get("/postfach");
  EXPECT_NE(inbox.body.find("Wohngeldbescheid"), std::string::npos) << "carla's own mailbox";
  EXPECT_EQ(inbox.body.find("Betriebsprüfung"), std::string::npos);
  EXPECT_EQ(c.get("/konto").body.find("Handelt für"), std::string::npos);

  auto old = client();
  old.cookies()["mvsp_session"] = old_cookie;
  EXPECT_EQ(old.get("/konto").status, 303) << "the previous session id is gone";
}

// Item 9: a password reset takes back every grant the old password gave.
TEST_P(SecurityFindings, RefreshTokenDiesWithPasswordReset) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto tokens = tokens_for(c);
  auto renewed = refresh(tokens->getValue<std::string>("refresh_token"));
  ASSERT_EQ(renewed.status, 200) << "refresh works before the reset: " << renewed.body;
  auto current = json(renewed.body);
  auto pending_code = code_of(c.get(authorize_url()));
  ASSERT_FALSE(pending_code.empty());

  auto stranger = client();
  ASSERT_EQ(submit(stranger, "/passwort-vergessen", {{"email", enc("anna@example.org")}}).status,
            303);
  auto mails = sink_.wait_for(++mails_expected_);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      mails.back().body, m,
      std::regex(R"(http://127\.0\.0\.1(/passwort-neu\?token=([A-Za-z0-9_-]+)))")));
  auto done = submit(stranger, "/passwort-neu",
                     {{"token", m[2]},
                      {"password", enc("ein ganz neues Passwort")},
                      {"password_repeat", enc("ein ganz neues Passwort")}},
                     m[1]);
  ASSERT_EQ(done.status, 200);

  auto after = refresh(current->getValue<std::string>("refresh_token"));
  EXPECT_EQ(after.status, 400);
  EXPECT_EQ(json(after.body)->getValue<std::string>("error"), "invalid_grant");
  EXPECT_EQ(userinfo_status(current->getValue<std::string>("access_token")), 401);
  auto late = token_request("grant_type=authorization_code&code=" + enc(pending_code) +
                                "&redirect_uri=" + enc(kRedirect) + "&code_verifier=" + verifier_,
                            client_id_, secret_);
  EXPECT_EQ(late.status, 400) << "a code issued before the reset is worthless: " << late.body;
}

// Item 9: deleting the account takes back every grant.
TEST_P(SecurityFindings, RefreshTokenDiesWithAccountDeletion) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto tokens = tokens_for(c);
  ASSERT_EQ(userinfo_status(tokens->getValue<std::string>("access_token")), 200);
  auto gone = submit(c, "/konto/loeschen", {{"password", enc(kPassword)}});
  ASSERT_EQ(gone.status, 200);
  auto after = refresh(tokens->getValue<std::string>("refresh_token"));
  EXPECT_EQ(after.status, 400);
  EXPECT_EQ(json(after.body)->getValue<std::string>("error"), "invalid_grant");
  EXPECT_EQ(userinfo_status(tokens->getValue<std::string>("access_token")), 401);
  EXPECT_EQ(database_->db().query_one("SELECT COUNT(*) FROM oidc_tokens")->integer(0), 0)
      << "nothing of the account is left";
}

// Item 9: logout CSRF. Without a hint for the signed-in person, the provider asks first.
TEST_P(SecurityFindings, LogoutWithoutHintAsksFirst) {
  make_account("anna@example.org");
  auto c = signed_in("anna@example.org");
  auto asked = c.get("/oidc/logout");
  EXPECT_EQ(asked.status, 200);
  EXPECT_NE(asked.body.find(R"(action="/oidc/logout")"), std::string::npos);
  EXPECT_NE(asked.body.find(R"(method="post")"), std::string::npos);
  EXPECT_EQ(c.get("/konto").status, 200) << "a link alone signs nobody out";

  auto forged = c.post_form("/oidc/logout", {{"csrf_token", "guessed"}});
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(c.get("/konto").status, 200) << "a forged post signs nobody out";

  // An attacker's own ID token is a valid hint, but not for Anna.
  make_account("mallory@example.org");
  auto mallory = signed_in("mallory@example.org");
  auto foreign = tokens_for(mallory)->getValue<std::string>("id_token");
  EXPECT_EQ(c.get("/oidc/logout?id_token_hint=" + enc(foreign)).status, 200);
  EXPECT_EQ(c.get("/konto").status, 200) << "someone else's hint signs nobody out";

  auto page = c.get("/oidc/logout?client_id=" + enc(client_id_) +
                    "&post_logout_redirect_uri=" + enc(kAfterLogout) + "&state=bye-1");
  ASSERT_EQ(page.status, 200);
  auto confirmed = c.post_form("/oidc/logout", {{"csrf_token", token(page.body)},
                                                {"client_id", client_id_},
                                                {"post_logout_redirect_uri", enc(kAfterLogout)},
                                                {"state", "bye-1"}});
  EXPECT_EQ(confirmed.status, 303);
  EXPECT_EQ(confirmed.header("location"), std::string(kAfterLogout) + "?state=bye-1");
  EXPECT_EQ(c.get("/konto").status, 303) << "signed out after the confirmation";

  // With a hint for the signed-in person, the logout needs no question (the RP asked).
  auto own = tokens_for(mallory)->getValue<std::string>("id_token");
  auto direct = mallory.get("/oidc/logout?id_token_hint=" + enc(own));
  EXPECT_EQ(direct.status, 200);
  EXPECT_EQ(mallory.get("/konto").status, 303);
}

// Item 9: the catalog API takes only machine tokens (client credentials).
TEST_P(SecurityFindings, CatalogApiRefusesUserTokens) {
  auto both = app_->get<identity::Provider>().create_client(
      {.name = "Redaktionsportal",
       .redirect_uris = {kRedirect},
       .scopes = {"openid", "profile", "catalog:admin"},
       .grants = {"authorization_code", "client_credentials"}},
      "test");
  ASSERT_TRUE(both);
  const auto& id = both->client.client_id;
  auto put = [&](const std::string& token) {
    return client().request(
        "PUT", "/api/v1/catalog/services/99050012104000",
        R"({"leikaKey":"99050012104000","name":"","level":"x"})",
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
  };
  auto machine = json(
      token_request("grant_type=client_credentials&scope=catalog%3Aadmin", id, both->client_secret)
          .body);
  EXPECT_EQ(put(machine->getValue<std::string>("access_token")).status, 422)
      << "the machine gets as far as the validation";

  make_account("anna@example.org");
  auto c = signed_in("anna@example.org");
  auto person = tokens_for(c, {{"scope", "openid catalog:admin"}}, id, both->client_secret);
  ASSERT_NE(person->getValue<std::string>("scope").find("catalog:admin"), std::string::npos);
  auto refused = put(person->getValue<std::string>("access_token"));
  EXPECT_EQ(refused.status, 401) << refused.body;
}

// Item 9: http is allowed for loopback hosts only, and "loopback" means the parsed host.
TEST_P(SecurityFindings, RedirectUriHostIsComparedExactly) {
  for (const char* uri : {"http://localhost.evil.example/cb", "http://localhost@evil.example/cb",
                          "http://127.0.0.1.evil.example/cb", "http://127.0.0.1@evil.example/cb",
                          "http://localhost:8000@evil.example/cb", "https://user@rp.example/cb",
                          "http://localhost/cb#frag", "https:///cb",
                          "javascript:alert(1)//localhost", "ftp://localhost/cb"}) {
    SCOPED_TRACE(uri);
    auto refused = app_->get<identity::Provider>().create_client(
        {.name = "RP", .redirect_uris = {uri}}, "test:registry");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().fields[0].field, "redirect_uri");
  }
  for (const char* uri : {"http://localhost:8000/cb", "http://127.0.0.1/cb", "http://[::1]:9/cb",
                          "https://rp.example/cb?x=1"}) {
    SCOPED_TRACE(uri);
    EXPECT_TRUE(app_->get<identity::Provider>().create_client(
        {.name = "RP", .redirect_uris = {uri}}, "test"));
  }

  // At the authorization endpoint, only the registered address itself counts.
  make_account("anna@example.org");
  auto c = signed_in("anna@example.org");
  ASSERT_FALSE(code_of(c.get(authorize_url({{"redirect_uri", kLoopback}}))).empty());
  for (const char* uri :
       {"http://127.0.0.1:9000/cb", "http://127.0.0.1/cb", "http://localhost:8000/cb",
        "http://127.0.0.1:8000/cb/../evil", "http://127.0.0.1:8000/cb/x",
        "http://127.0.0.1:8000/cbx", "http://127.0.0.1:8000/cb?x=1",
        "http://127.0.0.1:8000@evil.example/cb", "https://rp.example/callback.evil.example",
        "https://rp.example/callback/", "https://rp.example:444/callback",
        "http://rp.example/callback"}) {
    SCOPED_TRACE(uri);
    auto res = c.get(authorize_url({{"redirect_uri", uri}}));
    EXPECT_EQ(res.status, 400);
    EXPECT_TRUE(res.header("location").empty());
  }
}

// Item 9: post-logout addresses follow the rules of redirect URIs and are compared exactly.
TEST_P(SecurityFindings, PostLogoutRedirectMustBeRegistered) {
  for (const char* uri : {"http://localhost.evil.example/bye", "http://localhost@evil.example/bye",
                          "javascript:alert(1)", "http://evil.example/bye"}) {
    SCOPED_TRACE(uri);
    auto refused = app_->get<identity::Provider>().create_client(
        {.name = "RP", .redirect_uris = {kRedirect}, .post_logout_uris = {uri}}, "test");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().fields[0].field, "post_logout_uri");
  }
  auto other = app_->get<identity::Provider>().create_client(
      {.name = "Anderes Verfahren",
       .redirect_uris = {"https://other.example/cb"},
       .post_logout_uris = {"https://other.example/bye"}},
      "test");
  ASSERT_TRUE(other);

  make_account("anna@example.org");
  for (const char* uri : {"https://rp.example/bye/../evil", "https://rp.example/bye.evil.example",
                          "https://rp.example/byex", "https://other.example/bye"}) {
    SCOPED_TRACE(uri);
    auto c = signed_in("anna@example.org");
    auto hint = tokens_for(c)->getValue<std::string>("id_token");
    auto out =
        c.get("/oidc/logout?id_token_hint=" + enc(hint) + "&post_logout_redirect_uri=" + enc(uri));
    EXPECT_EQ(out.status, 200);
    EXPECT_TRUE(out.header("location").empty());
    EXPECT_EQ(c.get("/konto").status, 303) << "signed out, but not sent away";
    // The same without a hint, after the confirmation.
    auto again = signed_in("anna@example.org");
    auto page = again.get("/oidc/logout?client_id=" + enc(client_id_) +
                          "&post_logout_redirect_uri=" + enc(uri));
    auto confirmed = again.post_form("/oidc/logout", {{"csrf_token", token(page.body)},
                                                      {"client_id", client_id_},
                                                      {"post_logout_redirect_uri", enc(uri)}});
    EXPECT_EQ(confirmed.status, 200);
    EXPECT_TRUE(confirmed.header("location").empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Databases, SecurityFindings, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::security
