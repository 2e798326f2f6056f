// /api/v1/vorhaben over HTTP on both databases: an external online service signs Erika in
// through our OpenID Connect provider (code flow with PKCE), creates her Vorhaben with her
// token, then posts a status and a message with its own client-credentials token; Erika
// sees both in "Meine Anträge", on the Vorhaben's page and in her mailbox. Tokens of the
// wrong kind, missing scopes, another client and bad bodies are refused by name.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/web/http.hpp>

#include "fixture.hpp"

namespace mvsp::applications {
namespace {

using fixture::ApplicationsTest;

constexpr const char* kRedirect = "https://dienst.example/callback";
constexpr const char* kPassword = "ein langes Passwort 2026";

std::string enc(const std::string& s) {
  return web::url_encode(s);
}

Poco::JSON::Object::Ptr parse(const std::string& s) {
  return Poco::JSON::Parser().parse(s).extract<Poco::JSON::Object::Ptr>();
}

class VorhabenApi : public ApplicationsTest {
 protected:
  struct Client {
    std::string id;
    std::string secret;
  };

  Client make_client(const std::string& name, std::vector<std::string> scopes) {
    auto created = app_->get<identity::Provider>().create_client(
        {.name = name,
         .redirect_uris = {kRedirect},
         .post_logout_uris = {},
         .scopes = std::move(scopes),
         .grants = {"authorization_code", "client_credentials"},
         .is_public = false,
         .tenant_id = tenant_,
         .public_key_pem = {}},
        "test");
    EXPECT_TRUE(created);
    return {created->client.client_id, created->client_secret};
  }

  test::HttpResponse token_request(const Client& cl, const std::string& body) {
    return client().request("POST", "/api/v1/oidc/token",
                            body + "&client_id=" + enc(cl.id) + "&client_secret=" + enc(cl.secret),
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
  }

  // Erika signs in at our provider for the online service; its token for her.
  std::string person_token(const Client& cl, test::HttpClient& browser, const std::string& scope) {
    auto verifier = core::crypto::random_token(32);
    auto challenge = core::crypto::base64url(core::crypto::sha256(verifier));
    auto authorize = "/oidc/authorize?client_id=" + enc(cl.id) + "&redirect_uri=" + enc(kRedirect) +
                     "&response_type=code&scope=" + enc(scope) +
                     "&state=s1&code_challenge=" + challenge + "&code_challenge_method=S256";
    auto res = browser.get(authorize);
    auto location = res.header("location");
    std::string code;
    for (auto& [k, v] : web::parse_urlencoded(location.substr(location.find('?') + 1))) {
      if (k == "code") code = v;
    }
    EXPECT_FALSE(code.empty()) << location;
    auto tokens =
        token_request(cl, "grant_type=authorization_code&code=" + enc(code) +
                              "&redirect_uri=" + enc(kRedirect) + "&code_verifier=" + verifier);
    EXPECT_EQ(tokens.status, 200) << tokens.body;
    return parse(tokens.body)->getValue<std::string>("access_token");
  }

  std::string machine_token(const Client& cl, const std::string& scope) {
    auto res = token_request(cl, "grant_type=client_credentials&scope=" + enc(scope));
    EXPECT_EQ(res.status, 200) << res.body;
    return parse(res.body)->getValue<std::string>("access_token");
  }

  test::HttpClient signed_in(const std::string& email) {
    auto c = client();
    auto page = c.get("/anmelden");
    EXPECT_EQ(c.post_form("/anmelden", {{"email", enc(email)},
                                        {"password", enc(kPassword)},
                                        {"csrf_token", test::HttpClient::csrf_token_in(page.body)}})
                  .status,
              303);
    return c;
  }

  test::HttpResponse post(const std::string& path, const std::string& token,
                          const std::string& body, const std::string& key = {}) {
    std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    if (!key.empty()) headers["Idempotency-Key"] = key;
    return client().request("POST", path, body, headers);
  }
};

TEST_P(VorhabenApi, AnExternalServiceCreatesAVorhabenAndPostsWhatTheCitizenSees) {
  auto service = make_client("Sondernutzungsportal", {"openid", "vorhaben", "vorhaben:write"});
  auto erika = signed_in("erika@example.org");
  auto person = person_token(service, erika, "openid vorhaben");
  const std::string body =
      R"({"title":"Sondernutzung beantragen","url":"https://dienst.example/vorhaben/1"})";

  // without a token, with the client's own token instead of the person's, or without the scope
  EXPECT_EQ(post("/api/v1/vorhaben", "", body).status, 401);
  auto machine = machine_token(service, "vorhaben:write");
  EXPECT_EQ(post("/api/v1/vorhaben", machine, body).status, 401);
  auto without = person_token(service, erika, "openid");
  EXPECT_EQ(post("/api/v1/vorhaben", without, body).status, 403);
  // bad bodies, named
  auto bad =
      post("/api/v1/vorhaben", person, R"j({"title":"","url":"javascript:alert(1)"})j", "k0");
  ASSERT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("\"title\""), std::string::npos);
  EXPECT_NE(bad.body.find("\"url\""), std::string::npos);
  EXPECT_EQ(post("/api/v1/vorhaben", person, "kein JSON").status, 422);

  auto created = post("/api/v1/vorhaben", person, body, "k1");
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = parse(created.body)->getValue<std::string>("id");
  auto again = post("/api/v1/vorhaben", person, body, "k1");
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(parse(again.body)->getValue<std::string>("id"), id);
  EXPECT_EQ(post("/api/v1/vorhaben", person,
                 R"({"title":"Anders","url":"https://dienst.example/2"})", "k1")
                .status,
            409);

  // the status and a message, with the client's own token
  EXPECT_EQ(
      post("/api/v1/vorhaben/" + id + "/status", person, R"({"status":"in_progress"})").status,
      401);
  EXPECT_EQ(post("/api/v1/vorhaben/" + id + "/status", machine, R"({"status":"draft"})").status,
            422);
  auto status = post("/api/v1/vorhaben/" + id + "/status", machine,
                     R"({"status":"in_progress","text":"Wir prüfen Ihren Antrag."})", "s1");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(parse(status.body)->getValue<std::string>("status"), "in_progress");
  auto message =
      post("/api/v1/vorhaben/" + id + "/nachrichten", machine,
           R"({"subject":"Rückfrage zur Sondernutzung","body":"Bitte rufen Sie uns an."})", "m1");
  EXPECT_EQ(message.status, 202) << message.body;
  EXPECT_EQ(post("/api/v1/vorhaben/" + id + "/nachrichten", machine,
                 R"({"subject":"ohne Schlüssel","body":"x"})")
                .status,
            422);

  // what Erika sees
  auto mine = erika.get("/meine-antraege");
  EXPECT_NE(mine.body.find("Sondernutzung beantragen"), std::string::npos);
  EXPECT_NE(mine.body.find("In Bearbeitung"), std::string::npos);
  auto page = erika.get("/antrag/vorhaben/" + id);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Wir prüfen Ihren Antrag."), std::string::npos);
  EXPECT_NE(page.body.find("https://dienst.example/vorhaben/1"), std::string::npos);
  EXPECT_NE(page.body.find("Rückfrage zur Sondernutzung"), std::string::npos);
  EXPECT_NE(erika.get("/postfach").body.find("Rückfrage zur Sondernutzung"), std::string::npos);

  // another online service knows nothing of it; nor does another person
  auto other = make_client("Anderes Portal", {"openid", "vorhaben:write"});
  auto other_token = machine_token(other, "vorhaben:write");
  EXPECT_EQ(
      client().get("/api/v1/vorhaben/" + id, {{"Authorization", "Bearer " + other_token}}).status,
      404);
  EXPECT_EQ(
      post("/api/v1/vorhaben/" + id + "/status", other_token, R"({"status":"decided"})").status,
      404);
  EXPECT_EQ(signed_in("max@example.org").get("/antrag/vorhaben/" + id).status, 404);
  auto read = client().get("/api/v1/vorhaben/" + id, {{"Authorization", "Bearer " + machine}});
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(parse(read.body)->getArray("history")->size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, VorhabenApi, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::applications
