#pragma once
// Shared by the identity page tests: a whole platform with a real SMTP sink, and helpers
// that use the pages as a browser would.
#include <gtest/gtest.h>

#include <mvsp/web/http.hpp>
#include <regex>
#include <string>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::identity {

constexpr const char* kPassword = "mein sicheres Passwort 2026";

class AccountPages : public test::ServerTest {
 protected:
  void configure(app::Settings& s) override {
    s.smtp_port = sink_.port();
    s.http.trusted_proxies = {"127.0.0.1"};
  }

  static std::string token(const std::string& html) {
    return test::HttpClient::csrf_token_in(html);
  }

  // Fills a form like a browser: GET the page, then POST with its CSRF token.
  test::HttpResponse submit(test::HttpClient& c, const std::string& path,
                            std::vector<std::pair<std::string, std::string>> fields,
                            const std::string& form_path = {}) {
    auto page = c.get(form_path.empty() ? path : form_path);
    fields.emplace_back("csrf_token", token(page.body));
    return c.post_form(path, fields);
  }

  static std::string enc(const std::string& s) { return web::url_encode(s); }

  // Registers and confirms Anna through the pages and the mail; returns her client.
  test::HttpClient registered(const std::string& email = "anna@example.org") {
    auto c = client();
    auto res = submit(c, "/konto/registrieren",
                      {{"given_name", "Anna"},
                       {"family_name", "Schmidt"},
                       {"email", enc(email)},
                       {"password", enc(kPassword)},
                       {"password_repeat", enc(kPassword)}});
    EXPECT_EQ(res.status, 303);
    EXPECT_EQ(res.header("location"), "/konto/registrieren/gesendet");
    auto mails = sink_.wait_for(++mails_expected_);
    std::smatch m;
    static const std::regex kLink(
        R"(http://127\.0\.0\.1(?::\d+)?(/konto/bestaetigen\?token=[A-Za-z0-9_-]+))");
    EXPECT_TRUE(std::regex_search(mails.back().body, m, kLink)) << mails.back().body;
    EXPECT_EQ(mails.back().to, email);
    auto confirmed = c.get(m[1]);
    EXPECT_EQ(confirmed.status, 200);
    EXPECT_NE(confirmed.body.find("E-Mail-Adresse bestätigt"), std::string::npos);
    return c;
  }

  test::HttpResponse login(test::HttpClient& c, const std::string& email,
                           const std::string& password, const std::string& from = {}) {
    auto page = c.get("/anmelden");
    std::map<std::string, std::string> headers{
        {"Content-Type", "application/x-www-form-urlencoded"}};
    if (!from.empty()) headers["X-Forwarded-For"] = from;
    return c.request(
        "POST", "/anmelden",
        "email=" + enc(email) + "&password=" + enc(password) + "&csrf_token=" + token(page.body),
        headers);
  }

  test::SmtpSink sink_;
  std::size_t mails_expected_ = 0;
};

}  // namespace mvsp::identity
