// The whole platform over HTTP, on both databases.
#include <gtest/gtest.h>

#include <mvsp/web/router.hpp>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::app {
namespace {

class Server : public test::ServerTest {
 protected:
  void configure(Settings& s) override {
    s.http.max_body_bytes = 1024 * 1024;
    s.metrics_token = "m3trics";
  }
  void add_routes(App& app) override {
    // A form round trip to show the CSRF check from both sides.
    app.router().get("/test/form", [](web::Request& req) {
      return web::Response::html(
          "<form method=\"post\"><input type=\"hidden\" name=\"csrf_token\" value=\"" +
          req.csrf_token() + "\"></form>");
    });
    app.router().post("/test/form", [](web::Request& req) {
      return web::Response::text("saved " + req.form("value").value_or(""));
    });
    // A streamed body that ends short of the length it announced (a document that failed
    // to read after the head was sent).
    app.router().get("/test/short", [](web::Request&) {
      web::Response res;
      res.set_header("Content-Type", "application/octet-stream");
      res.set_header("Content-Length", "400");
      res.stream = [](std::ostream& out) { out << "only ten.."; };
      return res;
    });
    app.router().post_from_other_site("/test/inbound", [](web::Request& req) {
      auto res = web::Response::text("took " + req.form("value").value_or(""));
      res.form_targets.push_back("https://idp.example");
      return res;
    });
  }
};

TEST_P(Server, StartPageIsGermanKernStyledAndHardened) {
  auto res = client().get("/");
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find("<html lang=\"de\">"), std::string::npos);
  EXPECT_NE(res.body.find("/static/kern/kern.min.css"), std::string::npos);
  EXPECT_NE(res.body.find("Zum Inhalt springen"), std::string::npos);
  auto csp = res.header("content-security-policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(res.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(res.header("referrer-policy"), "same-origin");
  EXPECT_FALSE(res.header("x-request-id").empty());
  EXPECT_TRUE(res.header("set-cookie").empty()) << "no session for a plain visit";
}

// The fourth review: a streamed body shorter than its Content-Length left the connection
// open, so the next response on it was read as the rest of the body.
TEST_P(Server, AStreamThatEndsShortClosesTheConnection) {
  auto answer = test::raw_http(port_,
                               "GET /test/short HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                               std::chrono::seconds(5));
  EXPECT_EQ(test::raw_status(answer), 200);
  EXPECT_NE(answer.find("only ten.."), std::string::npos);
  EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos)
      << "no second response inside the first one's body:\n"
      << answer;
}

TEST_P(Server, UnknownPagesGetAnHtml404AndUnknownApisProblemJson) {
  auto page = client().get("/does-not-exist");
  EXPECT_EQ(page.status, 404);
  EXPECT_NE(page.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("Seite nicht gefunden"), std::string::npos);
  auto api = client().get("/api/does-not-exist");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.header("content-type"), "application/problem+json");
  EXPECT_NE(api.body.find(R"("status":404)"), std::string::npos);
  EXPECT_NE(api.body.find(R"("instance":"/api/does-not-exist")"), std::string::npos);
}

TEST_P(Server, APostWithoutCsrfTokenIsRefused) {
  auto c = client();
  auto no_session = c.post_form("/test/form", {{"value", "x"}});
  EXPECT_EQ(no_session.status, 403);
  auto form = c.get("/test/form");
  auto cookie = form.header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);
  auto token = test::HttpClient::csrf_token_in(form.body);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(c.post_form("/test/form", {{"value", "x"}}).status, 403) << "session but no token";
  EXPECT_EQ(c.post_form("/test/form", {{"value", "x"}, {"csrf_token", "forged"}}).status, 403);
  auto ok = c.post_form("/test/form", {{"value", "x"}, {"csrf_token", token}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "saved x");
}

TEST_P(Server, OnlyRoutesMeantForOtherSitesTakePostsWithoutToken) {
  auto c = client();
  auto res = c.post_form("/test/inbound", {{"value", "x"}});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "took x");
  EXPECT_NE(res.header("content-security-policy").find("form-action 'self' https://idp.example;"),
            std::string::npos);
  EXPECT_EQ(c.post_form("/test/form", {{"value", "x"}}).status, 403);
}

TEST_P(Server, StaticFilesCarryAnEtagAndAnswer304) {
  auto c = client();
  auto css = c.get("/static/css/mvsp.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  auto etag = css.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_NE(css.header("cache-control").find("max-age"), std::string::npos);
  EXPECT_EQ(c.get("/static/css/mvsp.css", {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(c.get("/static/../CMakeCache.txt").status, 404);
  EXPECT_EQ(c.get("/static/kern/fonts/fira-sans/FiraSans-Regular.woff2").header("content-type"),
            "font/woff2");
}

TEST_P(Server, OversizedBodiesAreRefused) {
  auto big = std::string(2 * 1024 * 1024, 'x');
  auto res = client().request("POST", "/api/v1/anything", big, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(res.header("content-type"), "application/problem+json");
}

TEST_P(Server, LanguageSwitchPersistsAndStaysOnTheSite) {
  auto c = client();
  auto sw = c.get("/sprache/en?next=%2Fimpressum");
  EXPECT_EQ(sw.status, 303);
  EXPECT_EQ(sw.header("location"), "/impressum");
  auto page = c.get("/impressum");
  EXPECT_NE(page.body.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(page.body.find("Legal notice"), std::string::npos);
  EXPECT_EQ(c.get("/sprache/de?next=https%3A%2F%2Fevil.example").header("location"), "/");
  EXPECT_EQ(c.get("/sprache/de?next=%2F%2Fevil.example").header("location"), "/");
  EXPECT_EQ(client().get("/", {{"Accept-Language", "en-GB,en;q=0.8"}}).header("content-language"),
            "en");
}

TEST_P(Server, FooterPagesExist) {
  for (const char* path : {"/impressum", "/datenschutz", "/barrierefreiheit"}) {
    auto res = client().get(path);
    EXPECT_EQ(res.status, 200) << path;
    EXPECT_NE(res.body.find("Angaben zum Betreiber fehlen"), std::string::npos) << path;
  }
}

TEST_P(Server, HealthReadinessAndMetrics) {
  auto c = client();
  EXPECT_EQ(c.get("/healthz").status, 200);
  auto ready = c.get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, R"({"status":"ready"})");
  c.get("/");
  auto metrics = c.get("/metrics", {{"Authorization", "Bearer m3trics"}});
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(R"(mvsp_http_requests_total{method="GET",route="/",status="200"} 1)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(mvsp_jobs{state="dead"} 0)"), std::string::npos);
  EXPECT_NE(metrics.body.find("mvsp_catalog_undecodable_rows_total 0"), std::string::npos);
  EXPECT_NE(metrics.body.find("mvsp_http_request_duration_seconds_bucket"), std::string::npos);
}

TEST_P(Server, HeadAnswersWithoutABody) {
  auto res = client().head("/");
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(res.body.empty());
}

TEST_P(Server, WrongMethodOnAPageIs405) {
  EXPECT_EQ(client().request("DELETE", "/impressum", "", {}).status, 405);
}

INSTANTIATE_TEST_SUITE_P(Databases, Server, ::testing::ValuesIn(test::backends()));

class HttpsServer : public test::ServerTest {
 protected:
  void configure(Settings& s) override { s.public_url = "https://portal.example"; }
  void add_routes(App& app) override {
    app.router().get("/test/session", [](web::Request& req) {
      req.csrf_token();
      return web::Response::text("ok");
    });
  }
};

TEST_P(HttpsServer, CookiesAreSecureAndHstsIsSent) {
  auto res = client().get("/test/session");
  EXPECT_NE(res.header("set-cookie").find("; Secure"), std::string::npos);
  EXPECT_TRUE(res.header("set-cookie").starts_with("__Host-mvsp_session="))
      << res.header("set-cookie");
  EXPECT_NE(res.header("set-cookie").find("; Path=/"), std::string::npos);
  EXPECT_EQ(res.header("set-cookie").find("Domain="), std::string::npos);
  EXPECT_NE(res.header("strict-transport-security").find("max-age="), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Databases, HttpsServer, ::testing::ValuesIn(test::backends()));

class MetricsToken : public test::ServerTest {
 protected:
  void configure(Settings& s) override { s.metrics_token = "m3trics"; }
};

TEST_P(MetricsToken, MetricsNeedTheTokenWhenOneIsSet) {
  EXPECT_EQ(client().get("/metrics").status, 403);
  EXPECT_EQ(client().get("/metrics", {{"Authorization", "Bearer wrong"}}).status, 403);
  EXPECT_EQ(client().get("/metrics", {{"Authorization", "Bearer m3trics"}}).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Databases, MetricsToken, ::testing::Values("sqlite"));

}  // namespace
}  // namespace mvsp::app
