// The notices API over HTTP, and the journey of a notice to the citizen: e-mail, login,
// step-up to `substantial`, opening it; the back office sees stored, then retrieved.
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <filesystem>
#include <fstream>
#include <mvsp/core/crypto.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>
#include <regex>
#include <thread>

#include "app.hpp"
#include "settings.hpp"
#include "support.hpp"

namespace mvsp::delivery {
namespace {

using namespace std::chrono_literals;

Poco::JSON::Object::Ptr parse(const std::string& s) {
  return Poco::JSON::Parser().parse(s).extract<Poco::JSON::Object::Ptr>();
}

std::string enc(const std::string& s) {
  return web::url_encode(s);
}

// RFC 6238 with SHA-1, as an authenticator app computes it.
std::string totp(const std::string& base32, std::int64_t step) {
  std::string key;
  int bits = 0;
  unsigned buffer = 0;
  for (char ch : base32) {
    auto p = std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").find(ch);
    if (p == std::string::npos) continue;
    buffer = (buffer << 5) | static_cast<unsigned>(p);
    bits += 5;
    if (bits >= 8) {
      key += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(step & 0xff);
    step >>= 8;
  }
  unsigned char mac[20];
  unsigned len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), msg, 8, mac, &len);
  int offset = mac[19] & 0x0f;
  unsigned code = ((mac[offset] & 0x7fu) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) |
                  mac[offset + 3];
  char out[7];
  std::snprintf(out, sizeof out, "%06u", code % 1000000);
  return out;
}

class NoticesApi : public test::ServerTest {
 protected:
  void configure(app::Settings& s) override {
    s.smtp_port = sink_.port();
    s.config_text += "[delivery]\nfirst_retry_seconds = 1\n";
  }

  void SetUp() override {
    ServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto& id = app_->get<identity::Identity>();
    schwerin_ = id.staff.create_tenant("Landeshauptstadt Schwerin", "test")->id;
    wismar_ = id.staff.create_tenant("Hansestadt Wismar", "test")->id;
    auto citizen = id.accounts.create_account({.email = "erika@example.org",
                                               .password = kPassword,
                                               .given_name = "Erika",
                                               .family_name = "Mustermann",
                                               .verified = true},
                                              "test");
    ASSERT_TRUE(citizen);
    citizen_ = citizen->id;
    token_ = token(schwerin_, "notices:write notices:read", &client_id_);
    wismar_token_ = token(wismar_, "notices:write notices:read");
    write_only_ = token(schwerin_, "notices:write");
  }

  std::string token(const std::string& tenant, const std::string& scopes,
                    std::string* client_id = nullptr) {
    std::vector<std::string> list;
    std::istringstream in(scopes);
    for (std::string s; in >> s;) list.push_back(s);
    auto cl = app_->get<identity::Provider>().create_client({.name = "Fachverfahren " + tenant,
                                                             .scopes = list,
                                                             .grants = {"client_credentials"},
                                                             .tenant_id = tenant},
                                                            "test");
    EXPECT_TRUE(cl);
    if (client_id) *client_id = cl->client.client_id;
    auto res = client().request("POST", "/api/v1/oidc/token",
                                "grant_type=client_credentials&scope=" + enc(scopes) +
                                    "&client_id=" + cl->client.client_id +
                                    "&client_secret=" + cl->client_secret,
                                {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(res.status, 200) << res.body;
    return parse(res.body)->getValue<std::string>("access_token");
  }

  test::HttpResponse post(const std::string& token, const std::string& metadata,
                          const std::string& key,
                          std::vector<web::Part> documents = {
                              {"document", "bescheid.pdf", "application/pdf",
                               "%PDF-1.7\n% Hundesteuerbescheid 2027\n%%EOF\n"}}) {
    std::vector<web::Part> parts{{"metadata", "", "application/json", metadata}};
    for (auto& d : documents) parts.push_back(std::move(d));
    auto body = web::build_multipart(parts);
    std::map<std::string, std::string> headers{{"Content-Type", body.content_type}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    if (!key.empty()) headers["Idempotency-Key"] = key;
    return client().request("POST", "/api/v1/notices", body.body, headers);
  }

  std::string metadata(const std::string& subject = "Hundesteuerbescheid 2027") {
    return R"({"recipient":"mvsp:)" + citizen_ + R"(","subject":")" + subject +
           R"(","body":"Sehr geehrte Frau Mustermann,\nanbei Ihr Bescheid.",)"
           R"("requiredTrustLevel":"substantial","reference":"StA-2027-0042"})";
  }

  Poco::JSON::Object::Ptr get(const std::string& path, const std::string& token) {
    auto res = client().get(path, {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(res.status, 200) << res.body;
    return parse(res.body);
  }

  // Waits (up to 20 s) until the notice has the status.
  Poco::JSON::Object::Ptr wait_for(const std::string& id, const std::string& status) {
    Poco::JSON::Object::Ptr n;
    for (int i = 0; i < 200; ++i) {
      n = get("/api/v1/notices/" + id, token_);
      if (n->getValue<std::string>("status") == status) return n;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "notice " << id << " is " << n->getValue<std::string>("status");
    return n;
  }

  static constexpr const char* kPassword = "Sehr-geheimes-Passwort-1";
  test::SmtpSink sink_;
  std::string schwerin_, wismar_, citizen_, client_id_;
  std::string token_, wismar_token_, write_only_;
};

TEST_P(NoticesApi, ABackOfficeSendsANoticeTheCitizenStepsUpAndOpensItAndTheProofVerifies) {
  auto res = post(token_, metadata(), "bescheid-2027-0042");
  ASSERT_EQ(res.status, 201) << res.body;
  auto accepted = parse(res.body);
  auto id = accepted->getValue<std::string>("id");
  EXPECT_EQ(res.header("location"), "/api/v1/notices/" + id);
  auto stored = wait_for(id, "stored");
  auto receipt = stored->getObject("receipt");
  ASSERT_TRUE(receipt);
  EXPECT_FALSE(receipt->getValue<std::string>("deemedAnnouncedOn").empty());
  auto stored_at = stored->getValue<std::string>("storedAt");

  // The mail carries no content, only the way to the mailbox.
  auto mails = sink_.wait_for(1);
  EXPECT_EQ(mails.back().to, "erika@example.org");
  EXPECT_EQ(mails.back().body.find("Hundesteuer"), std::string::npos);
  EXPECT_NE(mails.back().body.find("/postfach"), std::string::npos);

  // The citizen has a second factor; she logs in with her password (low).
  auto account = app_->get<identity::Identity>().accounts.find(citizen_);
  auto enrollment = app_->get<identity::Identity>().second_factor.begin_totp(*account);
  auto step = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count() /
              30;
  ASSERT_TRUE(app_->get<identity::Identity>().second_factor.enable_totp(
      {.account_id = citizen_,
       .password = kPassword,
       .secret = enrollment.secret,
       .code = totp(enrollment.secret, step - 1)}));
  auto c = client();
  auto login_page = c.get("/anmelden");
  auto login = c.request("POST", "/anmelden",
                         "email=" + enc("erika@example.org") + "&password=" + enc(kPassword) +
                             "&csrf_token=" + test::HttpClient::csrf_token_in(login_page.body),
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(login.status, 303);
  // With a second factor the login asks for it; she completes it later from the message.
  auto inbox = c.get("/postfach");
  if (inbox.status == 303) {
    auto second = c.get("/anmelden/zweiter-faktor");
    auto done = c.request("POST", "/anmelden/zweiter-faktor",
                          "code=" + totp(enrollment.secret, step) +
                              "&csrf_token=" + test::HttpClient::csrf_token_in(second.body),
                          {{"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(done.status, 303) << done.body;
    inbox = c.get("/postfach");
  }
  ASSERT_EQ(inbox.status, 200) << inbox.body;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(inbox.body, m, std::regex(R"re(href="/postfach/([a-z0-9]{26})")re")));
  auto message = "/postfach/" + m[1].str();
  EXPECT_NE(inbox.body.find("Hundesteuerbescheid 2027"), std::string::npos);
  EXPECT_NE(inbox.body.find("ungelesen"), std::string::npos);
  auto page = c.get(message);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("als bekannt gegeben"), std::string::npos);
  EXPECT_NE(page.body.find("bescheid.pdf"), std::string::npos);
  auto doc = c.get(message + "/anhang/0");
  EXPECT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body, "%PDF-1.7\n% Hundesteuerbescheid 2027\n%%EOF\n");
  EXPECT_EQ(doc.header("content-type"), "application/pdf");
  // A stored document that no longer authenticates is not sent as a complete download: the
  // connection ends before the end of the body.
  {
    auto blob = database_->db().query_one("SELECT blob_id FROM mailbox_attachments")->text(0);
    std::filesystem::path file;
    for (const auto& e : std::filesystem::recursive_directory_iterator(app_->settings().data_dir)) {
      if (e.path().filename() == blob) file = e.path();
    }
    ASSERT_FALSE(file.empty());
    auto original = std::filesystem::file_size(file);
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(original - 5));
    char byte = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(original - 5));
    f.put(static_cast<char>(byte ^ 0x01));  // a bit flipped: a fixed byte may be there already
    f.close();
    bool cut_short = true;
    try {
      auto broken = c.get(message + "/anhang/0");
      EXPECT_EQ(broken.header("content-length"), std::to_string(doc.body.size()));
      cut_short = broken.body.size() < std::stoul(broken.header("content-length"));
    } catch (const Poco::Exception&) {  // the client noticed the short body itself
    }
    EXPECT_TRUE(cut_short) << "an incomplete body, not a complete one";
  }

  auto retrieved = wait_for(id, "retrieved");
  EXPECT_EQ(retrieved->getValue<std::string>("storedAt"), stored_at);
  EXPECT_TRUE(retrieved->has("retrievedAt"));
  auto events = get("/api/v1/notices/" + id + "/events", token_);
  EXPECT_EQ(events->getValue<int>("count"), 4);
  auto evidence =
      client().get("/api/v1/notices/" + id + "/evidence", {{"Authorization", "Bearer " + token_}});
  ASSERT_EQ(evidence.status, 200);
  auto key = parse(client().get("/api/v1/delivery/evidence-key").body);
  auto public_key = core::crypto::base64_decode(key->getValue<std::string>("publicKey"));
  ASSERT_TRUE(public_key);
  auto check = Delivery::verify_evidence(evidence.body, *public_key);
  EXPECT_TRUE(check.ok) << check.problem;
}

TEST_P(NoticesApi, StepUpIsAskedBeforeANoticeThatNeedsItOpens) {
  auto res = post(token_, metadata(), "k-step");
  ASSERT_EQ(res.status, 201);
  wait_for(parse(res.body)->getValue<std::string>("id"), "stored");
  auto c = client();
  auto login_page = c.get("/anmelden");
  ASSERT_EQ(c.request("POST", "/anmelden",
                      "email=" + enc("erika@example.org") + "&password=" + enc(kPassword) +
                          "&csrf_token=" + test::HttpClient::csrf_token_in(login_page.body),
                      {{"Content-Type", "application/x-www-form-urlencoded"}})
                .status,
            303);
  auto inbox = c.get("/postfach");
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(inbox.body, m, std::regex(R"re(href="/postfach/([a-z0-9]{26})")re")))
      << inbox.status << inbox.body;
  auto page = c.get("/postfach/" + m[1].str());
  EXPECT_EQ(page.status, 403);
  EXPECT_NE(page.body.find("substantiell"), std::string::npos);
  EXPECT_NE(page.body.find("/konto/zwei-faktor?next=%2Fpostfach%2F" + m[1].str()),
            std::string::npos);
  EXPECT_EQ(page.body.find("Sehr geehrte"), std::string::npos) << "no content before step-up";
  EXPECT_EQ(c.get("/postfach/" + m[1].str() + "/anhang/0").status, 303);
  // Nothing counts as retrieved yet; a stranger's mailbox does not show it.
  EXPECT_EQ(get("/api/v1/notices/" + parse(res.body)->getValue<std::string>("id"), token_)
                ->getValue<std::string>("status"),
            "stored");
  EXPECT_EQ(client().get("/postfach").status, 303);
}

TEST_P(NoticesApi, IdempotencyKeysAndBadRequests) {
  auto first = post(token_, metadata(), "same-key");
  auto again = post(token_, metadata(), "same-key");
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(parse(first.body)->getValue<std::string>("id"),
            parse(again.body)->getValue<std::string>("id"));
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  auto conflict = post(token_, metadata("Ein anderer Bescheid"), "same-key");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.header("content-type"), "application/problem+json");

  auto no_key = post(token_, metadata(), "");
  EXPECT_EQ(no_key.status, 422);
  EXPECT_NE(no_key.body.find("Idempotency-Key"), std::string::npos);
  auto bad = post(token_, R"({"recipient":"mvsp:nobody","subject":"","colour":"blau"})", "k2",
                  {{"document", "bild.png", "image/png", "\x89PNG"}});
  EXPECT_EQ(bad.status, 422);
  for (const char* field : {"metadata.colour", "document[0]"}) {
    EXPECT_NE(bad.body.find(field), std::string::npos) << field << " in " << bad.body;
  }
  auto invalid = post(token_, R"({"recipient":"mvsp:nobody","subject":""})", "k3");
  EXPECT_EQ(invalid.status, 422);
  for (const char* field : {"metadata.recipient", "metadata.subject"}) {
    EXPECT_NE(invalid.body.find(field), std::string::npos) << field << " in " << invalid.body;
  }
  auto json = client().request("POST", "/api/v1/notices", metadata(),
                               {{"Content-Type", "application/json"},
                                {"Authorization", "Bearer " + token_},
                                {"Idempotency-Key", "k4"}});
  EXPECT_EQ(json.status, 415);
  EXPECT_EQ(parse(json.body)->getValue<int>("status"), 415) << "the body says the same status";
  EXPECT_NE(json.body.find("multipart/form-data"), std::string::npos);
  auto anonymous = post("", metadata(), "k5");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("www-authenticate"), "Bearer");
  auto read_only_missing =
      client().get("/api/v1/notices/" + parse(first.body)->getValue<std::string>("id"),
                   {{"Authorization", "Bearer " + write_only_}});
  EXPECT_EQ(read_only_missing.status, 403);
  EXPECT_NE(read_only_missing.header("www-authenticate").find("insufficient_scope"),
            std::string::npos);
  EXPECT_NE(read_only_missing.body.find("urn:mvsp:problem:forbidden"), std::string::npos);
  EXPECT_EQ(app_->database().query_one("SELECT COUNT(*) FROM delivery_notices")->integer(0), 1);
}

TEST_P(NoticesApi, AnotherTenantsClientCannotReadOrTouchTheNotices) {
  auto res = post(token_, metadata(), "t-1");
  ASSERT_EQ(res.status, 201);
  auto id = parse(res.body)->getValue<std::string>("id");
  for (const auto& path : {"/api/v1/notices/" + id, "/api/v1/notices/" + id + "/events",
                           "/api/v1/notices/" + id + "/evidence"}) {
    auto theirs = client().get(path, {{"Authorization", "Bearer " + wismar_token_}});
    EXPECT_EQ(theirs.status, 404) << path;
    EXPECT_EQ(theirs.body.find("Hundesteuer"), std::string::npos);
    EXPECT_EQ(client().get(path).status, 401) << path;
  }
  // Their key space is their own: the same key makes their own notice.
  auto same_key = post(wismar_token_, metadata(), "t-1");
  EXPECT_EQ(same_key.status, 201);
  EXPECT_NE(parse(same_key.body)->getValue<std::string>("id"), id);
  // The retrieval confirmation needs the notice's own token.
  EXPECT_EQ(
      client().request("POST", "/api/v1/notices/" + id + "/retrieval?token=00", "", {}).status,
      404);
}

TEST_P(NoticesApi, AClientOverItsRateIsToldWhenToComeBack) {
  ASSERT_TRUE(app_->get<delivery::Delivery>().configure_client(
      client_id_, {.callback_url = "", .rate_per_second = 0.01, .burst = 2, .daily_quota = {}}));
  EXPECT_EQ(post(token_, metadata(), "r-1").status, 201);
  EXPECT_EQ(post(token_, metadata(), "r-2").status, 201);
  auto third = post(token_, metadata(), "r-3");
  EXPECT_EQ(third.status, 429);
  EXPECT_FALSE(third.header("retry-after").empty());
  EXPECT_GE(std::stoi(third.header("retry-after")), 50);
  // A replay is not a new notice and is answered.
  EXPECT_EQ(post(token_, metadata(), "r-1").status, 201);
  ASSERT_TRUE(app_->get<delivery::Delivery>().configure_client(
      client_id_, {.callback_url = "", .rate_per_second = {}, .burst = {}, .daily_quota = 2}));
  auto quota = post(token_, metadata(), "r-4");
  EXPECT_EQ(quota.status, 429);
  EXPECT_NE(quota.body.find("quota"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Databases, NoticesApi, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::delivery
