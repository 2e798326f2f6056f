// The security suite, web layer: what an outside review found in the HTTP pipeline, tried
// over a real socket (byte for byte, so that no client library tidies the attack away), on
// both databases. Each test is named after what it protects.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mvsp/core/db.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/static_files.hpp>
#include <regex>
#include <string>
#include <vector>

#include "account_pages.hpp"
#include "app.hpp"
#include "settings.hpp"
#include "support.hpp"

namespace mvsp::security {
namespace fs = std::filesystem;
using test::raw_http;
using test::raw_status;

std::string get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

std::string header_of(const std::string& answer, const std::string& name) {
  std::smatch m;
  std::regex re("\r\n" + name + ":[ \t]*([^\r\n]*)", std::regex::icase);
  return std::regex_search(answer, m, re) ? m[1].str() : std::string();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A platform whose static root is a folder of the test's own, holding one asset, a symbolic
// link that points out of it and a hidden file; beside it a secret that must never leak.
class WebSecurity : public test::ServerTest {
 protected:
  void configure(app::Settings& s) override {
    fs::create_directories(outside_.path() / "static" / "kern");
    std::ofstream(outside_.path() / "static" / "kern" / "site.css") << "body{color:#000}";
    std::ofstream(outside_.path() / "static" / ".hidden") << "hidden";
    std::ofstream(outside_.path() / "secret.txt") << kSecret;
    fs::create_symlink(outside_.path() / "secret.txt", outside_.path() / "static" / "link.txt");
    fs::create_directory_symlink(outside_.path(), outside_.path() / "static" / "up");
    s.static_dir = outside_.path() / "static";
    s.metrics_token.clear();
    s.http.trusted_proxies = {"::ffff:127.0.0.1"};  // as a dual-stack listener would name it
  }
  void add_routes(app::App& app) override {
    // A handler that makes the mistake the pipeline must catch: a header value from input.
    app.router().get("/test/echo-header", [](web::Request& req) {
      auto res = web::Response::text("ok");
      res.set_header("X-Echo", req.query_param("v").value_or(""));
      return res;
    });
    app.router().get("/test/client",
                     [](web::Request& req) { return web::Response::text(req.remote_address); });
    app.router().get("/test/redirect", [](web::Request& req) {
      return web::Response::redirect(req.query_param("to").value_or("/"));
    });
  }

  static constexpr const char* kSecret = "TOP-SECRET-7f3a";
  test::TempDir outside_;
};

TEST_P(WebSecurity, StaticFilesNeverLeaveTheStaticRoot) {
  auto ok = raw_http(port_, get("/static/kern/site.css"));
  ASSERT_EQ(raw_status(ok), 200) << ok;
  EXPECT_NE(ok.find("body{color:#000}"), std::string::npos);

  auto secret = (outside_.path() / "secret.txt").string();  // absolute, starts with "/"
  auto encoded_secret = web::url_encode(secret);            // "/" as %2F
  auto master_key = (data_dir_->path() / "master.key").string();
  std::vector<std::string> attacks = {
      "/static/" + secret.substr(1),  // fine: relative, but not under the root
      "/static/" + secret,            // "/static//tmp/…": absolute after the prefix
      "/static/" + encoded_secret,    // "/static/%2Ftmp%2F…"
      "/static//" + master_key,
      "/static/" + web::url_encode(master_key),
      "/static//etc/hostname",
      "/static/%2Fetc%2Fhostname",
      "/static/%2fproc%2fself%2fenviron",
      "/static/../secret.txt",
      "/static/%2e%2e/secret.txt",
      "/static/%2E%2E%2Fsecret.txt",
      "/static/kern/..%2F..%2Fsecret.txt",
      "/static/kern/%2e%2e/%2e%2e/secret.txt",
      "/static/%252e%252e/secret.txt",     // double encoding
      "/static/%252Fetc%252Fhostname",     // double encoding
      "/static/..%5Csecret.txt",           // backslash
      "/static/kern\\..\\..\\secret.txt",  // raw backslashes
      "/static/%c0%ae%c0%ae/secret.txt",   // overlong UTF-8 for "."
      "/static/%c0%af%2e%2e%c0%afsecret.txt",
      "/static/.%2e/secret.txt",
      "/static/./kern/site.css/../../../secret.txt",
      "/static/link.txt",       // a symbolic link to a file outside
      "/static/up/secret.txt",  // a symbolic link to a folder outside
      "/static/.hidden",
      "/static/kern/site.css%00.png",
      "/static/",
      "/static",
  };
  for (const auto& target : attacks) {
    auto answer = raw_http(port_, get(target));
    EXPECT_EQ(raw_status(answer), 404) << target << "\n" << answer.substr(0, 200);
    EXPECT_EQ(answer.find(kSecret), std::string::npos) << target;
    EXPECT_EQ(answer.find("root:"), std::string::npos) << target;
  }
}

TEST(StaticFilesCache, KeepsWithinItsBound) {
  test::TempDir dir;
  for (int i = 0; i < 50; ++i) {
    std::ofstream(dir.path() / fmt::format("f{}.txt", i)) << std::string(1000, 'a' + i % 26);
  }
  std::ofstream(dir.path() / "big.txt") << std::string(5000, 'b');
  web::StaticFiles files(dir.path(), {.cache_bytes = 10'000, .cached_file_bytes = 4000});
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 50; ++i) {
      web::Request req;
      req.path = fmt::format("/static/f{}.txt", i);
      auto res = files.serve(req);
      ASSERT_TRUE(res);
      EXPECT_EQ(res->content(), std::string(1000, 'a' + i % 26));
      EXPECT_LE(files.cached_bytes(), 10'000u);
    }
  }
  web::Request big;
  big.path = "/static/big.txt";
  ASSERT_TRUE(files.serve(big));
  EXPECT_TRUE(files.serve(big)->stream) << "served from the disk, not kept";
  EXPECT_LE(files.cached_bytes(), 10'000u);
}

TEST_P(WebSecurity, RedirectTargetsStayOnTheSite) {
  struct Case {
    std::string next;  // as sent in the query (already percent-encoded where needed)
    std::string location;
  };
  std::vector<Case> cases = {
      {"/konto", "/konto"},
      {"/suche%3Fq%3DHund%26ort%3DSchwerin", "/suche?q=Hund&ort=Schwerin"},
      {"//evil.example", "/"},
      {"%2F%2Fevil.example", "/"},
      {"/%2F/evil.example", "/"},    // decodes to "///evil.example"
      {"/%252F/evil.example", "/"},  // double encoding: "/%2F/…" decodes once more to "//…"
      {"/%5Cevil.example", "/"},     // "/\evil.example"
      {"/%255Cevil.example", "/"},   // double-encoded backslash
      {"%5C%5Cevil.example", "/"},
      {"/%09/evil.example", "/"},    // tab: browsers drop it, "//evil.example" is left
      {"/%2509/evil.example", "/"},  // double-encoded tab
      {"%09/evil.example", "/"},
      {"%20/evil.example", "/"},  // leading space
      {"/%20/evil.example", "/"},
      {"/x%0D%0ASet-Cookie:%20mvsp_session=planted", "/"},
      {"/x%250D%250ASet-Cookie:%20a=b", "/"},  // double-encoded CR LF
      {"/x%00", "/"},
      {"https://evil.example/", "/"},
      {"javascript:alert(1)", "/"},
      {"evil.example", "/"},
      {"/%C0%AFevil.example", "/"},     // overlong UTF-8 "/"
      {"/%EF%BC%8Fevil.example", "/"},  // fullwidth solidus
      {"", "/"},
  };
  for (const auto& c : cases) {
    auto answer = raw_http(port_, get("/sprache/de?next=" + c.next));
    EXPECT_EQ(raw_status(answer), 303) << c.next;
    EXPECT_EQ(header_of(answer, "Location"), c.location) << c.next;
    EXPECT_EQ(answer.find("planted"), std::string::npos) << c.next;
  }
  // The same rule on the login page's hidden target and on its way after the login.
  auto login = raw_http(port_, get("/anmelden?next=/%09/evil.example"));
  EXPECT_NE(login.find(R"(name="next" value="/konto")"), std::string::npos) << login;
}

TEST(LocalPath, OneRuleForEveryTarget) {
  EXPECT_TRUE(web::is_local_path("/"));
  EXPECT_TRUE(web::is_local_path("/oidc/authorize?client_id=a&redirect_uri=https%3A%2F%2Fx"));
  EXPECT_TRUE(web::is_local_path("/suche?q=M%C3%BCll"));
  for (std::string_view bad :
       {"", "//a", "/\\a", "\\\\a", "/a\\b", "a", "http://a", "/\t/a", "/\r\nX: y", "/ a", "/%2Fa",
        "/%5Ca", "/a%0Db", "/a%00", "/\x7f", "/\xc3\xbc"}) {
    EXPECT_FALSE(web::is_local_path(bad)) << bad;
  }
  EXPECT_TRUE(web::is_local_path("/oidc/authorize?state=" + std::string(3000, 'a')))
      << "a long OpenID request to resume after the login";
  EXPECT_FALSE(web::is_local_path("/" + std::string(9000, 'a'))) << "bounded";
  EXPECT_EQ(web::local_path_or(std::nullopt, "/konto"), "/konto");
}

TEST_P(WebSecurity, NoResponseHeaderIsSplit) {
  // A value with CR, LF or NUL never reaches the wire: the answer is a plain 500.
  for (std::string value : {"a%0D%0ASet-Cookie:%20mvsp_session=planted", "a%0Ab", "a%0Db", "a%00b",
                            "a%0D%0A%0D%0A<script>"}) {
    auto answer = raw_http(port_, get("/test/echo-header?v=" + value));
    EXPECT_EQ(raw_status(answer), 500) << value << "\n" << answer;
    EXPECT_EQ(answer.find("planted"), std::string::npos);
    EXPECT_EQ(answer.find("<script>"), std::string::npos);
    EXPECT_EQ(answer.find("X-Echo"), std::string::npos);
  }
  auto fine = raw_http(port_, get("/test/echo-header?v=a%09b%20c"));
  EXPECT_EQ(raw_status(fine), 200);
  EXPECT_EQ(header_of(fine, "X-Echo"), "a\tb c");
  // Also a redirect built carelessly from input.
  auto redirect = raw_http(port_, get("/test/redirect?to=/a%0D%0ASet-Cookie:%20x=planted"));
  EXPECT_EQ(raw_status(redirect), 500);
  EXPECT_EQ(redirect.find("planted"), std::string::npos);
}

TEST_P(WebSecurity, ApiRefusesStrangersBeforeReadingTheirBody) {
  // The head announces 5 MB (within the limit) and the body never comes: the answer must
  // not wait for it. 64 MB (over the limit) is refused on its length alone.
  for (std::string path : {"/api/v1/notices", "/api/v1/catalog/import"}) {
    for (auto [length, status] : {std::pair{"5000000", 401}, std::pair{"67108864", 413}}) {
      auto answer = raw_http(port_,
                             "POST " + path +
                                 " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Content-Type: multipart/form-data; boundary=x\r\n"
                                 "Content-Length: " +
                                 length + "\r\n\r\n",
                             std::chrono::seconds(5));
      EXPECT_EQ(raw_status(answer), status) << path << "\n" << answer;
      EXPECT_NE(answer.find("application/problem+json"), std::string::npos);
      EXPECT_EQ(lower(header_of(answer, "Connection")), "close");
    }
  }
  // A client that waits for "100 Continue" before it sends the body is not invited to.
  auto expecting = raw_http(port_,
                            "POST /api/v1/notices HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Expect: 100-continue\r\nContent-Length: 5000000\r\n\r\n");
  EXPECT_EQ(raw_status(expecting), 401) << expecting;
  EXPECT_EQ(expecting.find("100 Continue"), std::string::npos);
  // A wrong token as well.
  auto wrong = raw_http(port_,
                        "POST /api/v1/notices HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Authorization: Bearer not-a-token\r\nContent-Length: 1000000\r\n\r\n");
  EXPECT_EQ(raw_status(wrong), 401) << wrong;
}

TEST_P(WebSecurity, OversizedBodiesAreRefusedOnTheirLength) {
  // More than the limit is announced: 413 at once, the connection closed, nothing read.
  auto answer = raw_http(port_,
                         "POST /konto/profil HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Cookie: mvsp_session=x\r\n"
                         "Content-Type: application/x-www-form-urlencoded\r\n"
                         "Content-Length: 1073741824\r\n\r\n");
  EXPECT_EQ(raw_status(answer), 413) << answer;
  EXPECT_EQ(lower(header_of(answer, "Connection")), "close");
  // A form without a session cannot carry a valid CSRF token: refused before its body.
  auto no_session = raw_http(port_,
                             "POST /konto/profil HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Content-Type: application/x-www-form-urlencoded\r\n"
                             "Content-Length: 5000000\r\n\r\n");
  EXPECT_EQ(raw_status(no_session), 403) << no_session;
}

TEST_P(WebSecurity, AnEmptyPathSegmentMatchesNoRoute) {
  // Else "//konto" reaches "/konto", and a handler that redirects to its own path sends
  // the browser to the host "konto".
  EXPECT_EQ(raw_status(raw_http(port_, get("//konto"))), 404);
  EXPECT_EQ(raw_status(raw_http(port_, get("/anmelden//"))), 404);
  EXPECT_EQ(raw_status(raw_http(port_, get("/%2Fanmelden"))), 404);
  EXPECT_EQ(raw_status(raw_http(port_, get("/anmelden"))), 200);
}

TEST_P(WebSecurity, TheClientIsTheLastForwardedAddressAndAnAddress) {
  auto client_for = [&](const std::string& forwarded_lines) {
    auto answer = raw_http(port_, "GET /test/client HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                      forwarded_lines + "Connection: close\r\n\r\n");
    return answer.substr(answer.find("\r\n\r\n") + 4);
  };
  // A proxy that adds a line of its own after the one the client forged.
  EXPECT_EQ(client_for("X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.7\r\n"),
            "203.0.113.7");
  EXPECT_EQ(client_for("X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n"), "203.0.113.7");
  EXPECT_EQ(client_for("X-Forwarded-For: 203.0.113.7:5555\r\n"), "203.0.113.7");
  EXPECT_EQ(client_for("X-Forwarded-For: [2001:DB8:0::1]:443\r\n"), "2001:db8::1");
  EXPECT_EQ(client_for("X-Forwarded-For: ::ffff:198.51.100.2\r\n"), "198.51.100.2");
  EXPECT_EQ(client_for("X-Forwarded-For: not-an-address\r\n"), "127.0.0.1");
  EXPECT_EQ(client_for(""), "127.0.0.1");
}

TEST_P(WebSecurity, ABodyOfAmbiguousLengthIsRefused) {
  // Two readers (a proxy in front and we) could frame these differently: request smuggling.
  for (std::string framing :
       {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: gzip, chunked\r\n", "Content-Length: 5\r\nContent-Length: 6\r\n",
        "Content-Length: -5\r\n", "Content-Length: +5\r\n"}) {
    auto answer = raw_http(
        port_, "POST /api/v1/notices HTTP/1.1\r\nHost: 127.0.0.1\r\n" + framing + "\r\nhello");
    EXPECT_EQ(raw_status(answer), 400) << framing << "\n" << answer;
  }
  // A length that is no number at all POCO itself refuses to read: the connection closes
  // without an answer, and nothing reaches a handler.
  auto garbled = raw_http(port_,
                          "POST /api/v1/notices HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Length: 5x\r\n\r\nhello");
  EXPECT_TRUE(raw_status(garbled) == 0 || raw_status(garbled) == 400) << garbled;
}

TEST_P(WebSecurity, MetricsNeedTheToken) {
  // Loopback proves nothing: behind a local reverse proxy every visitor comes from there.
  EXPECT_EQ(client().get("/metrics").status, 403);
  EXPECT_EQ(client().get("/metrics", {{"X-Forwarded-For", "127.0.0.1"}}).status, 403);
}

INSTANTIATE_TEST_SUITE_P(Databases, WebSecurity, ::testing::ValuesIn(test::backends()));

// Mails carry links with tokens: once sent, no usable token stays in the jobs table, and
// finished jobs do not stay forever.
class MailTokens : public identity::AccountPages {};

TEST_P(MailTokens, NoLinkTokenStaysInTheJobsTable) {
  registered();
  auto c = client();
  auto asked = submit(c, "/passwort-vergessen", {{"email", enc("anna@example.org")}});
  ASSERT_EQ(asked.status, 303);
  auto mails = sink_.wait_for(++mails_expected_);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(mails.back().body, m, std::regex(R"(token=([A-Za-z0-9_-]+))")));
  auto token = m[1].str();
  // The job is marked done a moment after the mail left.
  bool wiped = false;
  for (int i = 0; i < 100 && !wiped; ++i) {
    wiped = true;
    for (const auto& row : app_->database().query("SELECT payload, state FROM jobs")) {
      if (row.text(0).find(token) != std::string::npos) wiped = false;
    }
    if (!wiped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(wiped) << "the reset token stays in a job's payload";
  EXPECT_EQ(app_->database()
                .query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'core.mail' AND state = 'done'")
                ->integer(0),
            2);
}

INSTANTIATE_TEST_SUITE_P(Databases, MailTokens, ::testing::ValuesIn(test::backends()));

}  // namespace mvsp::security
