// Findings of the outside security review (issue 11) on the account pages, over HTTP on
// both databases: each test protects against one finding and failed before its fix.
#include <Poco/HMACEngine.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/SHA1Engine.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <latch>
#include <map>
#include <mvsp/identity/eid_simulator.hpp>
#include <mvsp/identity/federation.hpp>
#include <mvsp/identity/identity.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "eid_pages.hpp"

namespace mvsp::identity {
namespace {

// RFC 4648 base32 without padding, as the set-up page shows it (in groups of four).
std::string base32_decode(const std::string& text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char ch : text) {
    int v;
    if (ch >= 'A' && ch <= 'Z') {
      v = ch - 'A';
    } else if (ch >= '2' && ch <= '7') {
      v = ch - '2' + 26;
    } else {
      continue;
    }
    buffer = (buffer << 5) | static_cast<unsigned>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

// RFC 6238 (SHA-1, six digits) computed here, independently of the code under test.
std::string totp(const std::string& key, std::int64_t step) {
  Poco::HMACEngine<Poco::SHA1Engine> hmac(key);
  unsigned char counter[8];
  for (int i = 7; i >= 0; --i) {
    counter[i] = static_cast<unsigned char>(step & 0xff);
    step >>= 8;
  }
  hmac.update(counter, sizeof counter);
  const auto& d = hmac.digest();
  int offset = d[19] & 0x0f;
  std::uint32_t bin =
      ((d[offset] & 0x7fu) << 24) | (d[offset + 1] << 16) | (d[offset + 2] << 8) | d[offset + 3];
  return fmt::format("{:06}", bin % 1'000'000);
}

std::int64_t current_step() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() /
         30;
}

std::vector<std::string> recovery_codes_in(const std::string& html) {
  static const std::regex kCode(R"(\b\d{5}-\d{5}-\d{5}-\d{5}\b)");
  std::vector<std::string> out;
  for (std::sregex_iterator it(html.begin(), html.end(), kCode), end; it != end; ++it) {
    out.push_back(it->str());
  }
  return out;
}

class ReviewFindings : public AccountPages {
 protected:
  // The secret the set-up (or replacement) page shows, decoded.
  static std::string secret_on(const std::string& html) {
    std::smatch m;
    if (!std::regex_search(html, m, std::regex(R"(id="totp-secret">([A-Z2-7 ]+)<)"))) return {};
    return base32_decode(m[1]);
  }

  std::optional<std::string> totp_secret_stored(const std::string& email) {
    auto row = database_->db().query_one("SELECT totp_secret FROM accounts WHERE email = ?", email);
    return row ? row->optional_text(0) : std::nullopt;
  }

  struct Enrolled {
    std::string secret;
    std::vector<std::string> recovery;
    std::int64_t step;
  };

  // Sets up the second factor through the pages with the password, as the owner would.
  Enrolled enrol(test::HttpClient& c) {
    auto page = c.get("/konto/zwei-faktor");
    EXPECT_EQ(page.status, 200);
    Enrolled e{secret_on(page.body), {}, current_step()};
    auto done = c.post_form("/konto/zwei-faktor", {{"csrf_token", token(page.body)},
                                                   {"password", enc(kPassword)},
                                                   {"code", totp(e.secret, e.step)}});
    EXPECT_EQ(done.status, 200) << done.body;
    e.recovery = recovery_codes_in(done.body);
    EXPECT_EQ(e.recovery.size(), 10u);
    mails_expected_++;  // "Zweiter Faktor eingerichtet"
    return e;
  }

  test::HttpResponse second_factor(test::HttpClient& c, const std::string& code) {
    return submit(c, "/anmelden/zweiter-faktor", {{"code", enc(code)}});
  }

  std::int64_t count(const std::string& sql) { return database_->db().query_one(sql)->integer(0); }

  // The authority admin it@wismar.de of `tenant`, signed in.
  test::HttpClient signed_in_admin(const std::string& tenant) {
    EXPECT_TRUE(app_->get<identity::Identity>().accounts.create_account({.email = "it@wismar.de",
                                                                         .password = kPassword,
                                                                         .given_name = "I",
                                                                         .family_name = "T",
                                                                         .verified = true,
                                                                         .role = "authority_admin",
                                                                         .tenant_id = tenant},
                                                                        "test"));
    auto admin = client();
    EXPECT_EQ(login(admin, "it@wismar.de", kPassword).status, 303);
    return admin;
  }
};

// Finding 3: a stolen password or session was enough to enrol an authenticator and reach
// `substantial`.
TEST_P(ReviewFindings, TotpEnrolmentNeedsPassword) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto page = c.get("/konto/zwei-faktor");
  ASSERT_EQ(page.status, 200);
  auto secret = secret_on(page.body);
  ASSERT_FALSE(secret.empty());
  auto step = current_step();

  auto without = submit(c, "/konto/zwei-faktor", {{"code", totp(secret, step)}});
  EXPECT_EQ(without.status, 422);
  EXPECT_NE(without.body.find(R"(href="#feld-password")"), std::string::npos);
  EXPECT_NE(without.body.find("Geben Sie Ihr Passwort ein."), std::string::npos);
  auto wrong = submit(c, "/konto/zwei-faktor",
                      {{"password", enc("nicht mein Passwort")}, {"code", totp(secret, step)}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("Das Passwort ist nicht richtig."), std::string::npos);
  EXPECT_FALSE(totp_secret_stored("anna@example.org")) << "no factor without the password";
  EXPECT_NE(c.get("/konto").body.find("<strong>niedrig</strong>"), std::string::npos);

  auto done =
      submit(c, "/konto/zwei-faktor", {{"password", enc(kPassword)}, {"code", totp(secret, step)}});
  EXPECT_EQ(done.status, 200);
  auto codes = recovery_codes_in(done.body);
  EXPECT_EQ(codes.size(), 10u) << "recovery codes are shown once";
  EXPECT_TRUE(totp_secret_stored("anna@example.org"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM recovery_codes"), 10);
  for (const auto& code : codes) {
    auto digits = std::regex_replace(code, std::regex("-"), "");
    EXPECT_EQ(count(fmt::format("SELECT COUNT(*) FROM recovery_codes WHERE code_hash LIKE '%{}%'",
                                digits)),
              0)
        << "stored hashed";
  }
  EXPECT_NE(c.get("/konto").body.find("<strong>substantiell</strong>"), std::string::npos);
  auto mails = sink_.wait_for(++mails_expected_);
  EXPECT_EQ(mails.back().to, "anna@example.org");
  EXPECT_EQ(mails.back().subject, "Zweiter Faktor eingerichtet");
}

// Finding 3: no page replaced or removed the factor; either now needs the password and
// the factor in place, and the owner is told.
TEST_P(ReviewFindings, SecondFactorIsReplacedOrRemovedOnlyWithPasswordAndCurrentFactor) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto first = enrol(c);
  auto security = c.get("/konto/sicherheit");
  EXPECT_NE(security.body.find(R"(href="/konto/sicherheit/zwei-faktor")"), std::string::npos);
  EXPECT_NE(security.body.find(R"(href="/konto/sicherheit/zwei-faktor/entfernen")"),
            std::string::npos);

  auto page = c.get("/konto/sicherheit/zwei-faktor");
  ASSERT_EQ(page.status, 200);
  auto second = secret_on(page.body);
  auto step = current_step();
  auto no_factor = submit(c, "/konto/sicherheit/zwei-faktor",
                          {{"password", enc(kPassword)}, {"code", totp(second, step)}});
  EXPECT_EQ(no_factor.status, 422);
  EXPECT_NE(no_factor.body.find(R"(href="#feld-current_code")"), std::string::npos);
  auto replaced = submit(c, "/konto/sicherheit/zwei-faktor",
                         {{"password", enc(kPassword)},
                          {"current_code", enc(first.recovery[0])},
                          {"code", totp(second, step)}});
  EXPECT_EQ(replaced.status, 200) << replaced.body;
  auto renewed = recovery_codes_in(replaced.body);
  EXPECT_EQ(renewed.size(), 10u);
  auto mails = sink_.wait_for(++mails_expected_);
  EXPECT_EQ(mails.back().subject, "Zweiter Faktor ersetzt");

  auto removal = c.get("/konto/sicherheit/zwei-faktor/entfernen");
  EXPECT_EQ(removal.status, 200);
  auto wrong = submit(c, "/konto/sicherheit/zwei-faktor/entfernen",
                      {{"password", enc(kPassword)}, {"current_code", "000000"}});
  EXPECT_EQ(wrong.status, 422);
  auto old_code = submit(c, "/konto/sicherheit/zwei-faktor/entfernen",
                         {{"password", enc(kPassword)}, {"current_code", enc(first.recovery[1])}});
  EXPECT_EQ(old_code.status, 422) << "the old factor's recovery codes ended with it";
  auto no_password = submit(c, "/konto/sicherheit/zwei-faktor/entfernen",
                            {{"password", ""}, {"current_code", enc(renewed[0])}});
  EXPECT_EQ(no_password.status, 422);
  EXPECT_TRUE(totp_secret_stored("anna@example.org"));
  auto removed = submit(c, "/konto/sicherheit/zwei-faktor/entfernen",
                        {{"password", enc(kPassword)}, {"current_code", enc(renewed[0])}});
  EXPECT_EQ(removed.status, 303);
  EXPECT_EQ(removed.header("location"), "/konto/sicherheit");
  EXPECT_FALSE(totp_secret_stored("anna@example.org"));
  mails = sink_.wait_for(++mails_expected_);
  EXPECT_EQ(mails.back().subject, "Zweiter Faktor entfernt");
  EXPECT_EQ(count("SELECT COUNT(*) FROM recovery_codes"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.totp_removed'"), 1);
}

// Finding 3: recovery codes stand in for a TOTP code, each once.
TEST_P(ReviewFindings, RecoveryCodesWorkOnceInPlaceOfTotp) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto e = enrol(c);
  submit(c, "/abmelden", {}, "/konto");
  ASSERT_EQ(login(c, "anna@example.org", kPassword)
                .header("location")
                .rfind("/anmelden/zweiter-faktor", 0),
            0u);
  auto in = second_factor(c, e.recovery[3]);
  EXPECT_EQ(in.status, 303);
  EXPECT_NE(c.get("/konto").body.find("<strong>substantiell</strong>"), std::string::npos);
  submit(c, "/abmelden", {}, "/konto");
  login(c, "anna@example.org", kPassword);
  EXPECT_EQ(second_factor(c, e.recovery[3]).status, 422) << "each code once";
  EXPECT_EQ(c.get("/konto").status, 303);
}

// Finding 4: wrong TOTP codes were logged but never slowed down.
TEST_P(ReviewFindings, TwentyWrongTotpCodesAreSlowedDown) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto e = enrol(c);
  submit(c, "/abmelden", {}, "/konto");
  login(c, "anna@example.org", kPassword);
  std::set<std::string> valid;
  for (auto s = current_step() - 2; s <= current_step() + 2; ++s) valid.insert(totp(e.secret, s));
  int checked = 0, slowed = 0;
  for (int i = 0, guess = 0; i < 20; ++guess) {
    auto code = fmt::format("{:06}", 100'000 + guess * 7919);
    if (valid.count(code)) continue;
    ++i;
    auto res = second_factor(c, code);
    if (res.status == 422) ++checked;
    if (res.status == 429) {
      ++slowed;
      EXPECT_GE(std::stoi(res.header("retry-after")), 1);
      EXPECT_NE(res.body.find("Zu viele Versuche."), std::string::npos);
    }
  }
  EXPECT_GE(slowed, 10) << checked << " codes were checked";
  EXPECT_LE(checked, 10);
  EXPECT_EQ(c.get("/konto").status, 303) << "nobody got in";
  // Every checked code is audited with the delay it set.
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.totp_failed'"), checked);
  EXPECT_GT(count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.totp_failed' AND "
                  "detail LIKE '%\"delay_seconds\":1%'"),
            0);
}

// Finding 6: the wait was read, the password hashed and only then the failure recorded,
// so parallel guesses all passed the throttle.
TEST_P(ReviewFindings, ParallelPasswordGuessesAreCountedEach) {
  registered();
  constexpr int kThreads = 16;
  std::vector<test::HttpClient> clients;
  std::vector<std::string> tokens;
  for (int i = 0; i < kThreads; ++i) {
    clients.push_back(client());
    tokens.push_back(token(clients.back().get("/anmelden").body));
  }
  std::latch start(kThreads);
  std::vector<int> statuses(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      // From sixteen addresses, so that only the per-account throttle can hold them.
      statuses[i] = clients[i]
                        .request("POST", "/anmelden",
                                 "email=" + enc("anna@example.org") +
                                     "&password=" + enc("Versuch " + std::to_string(i)) +
                                     "&csrf_token=" + tokens[i],
                                 {{"Content-Type", "application/x-www-form-urlencoded"},
                                  {"X-Forwarded-For", fmt::format("10.9.0.{}", i + 1)}})
                        .status;
    });
  }
  for (auto& t : threads) t.join();
  int checked = std::count(statuses.begin(), statuses.end(), 401);
  int held = std::count(statuses.begin(), statuses.end(), 429);
  EXPECT_EQ(checked + held, kThreads);
  // Four free attempts and the one that starts the delay; every other waits.
  EXPECT_LE(checked, 5);
  EXPECT_GE(held, kThreads - 5);
  EXPECT_EQ(count("SELECT MAX(failures) FROM login_throttle WHERE throttle_key LIKE 'login:%'"),
            checked)
      << "each checked guess was counted";
}

// Finding 9: registration ran argon2 and queued mail before any throttle.
TEST_P(ReviewFindings, RegistrationIsThrottledBeforeHashing) {
  auto c = client();
  auto register_as = [&](const std::string& email, const std::string& from) {
    auto page = c.get("/konto/registrieren");
    return c.request(
        "POST", "/konto/registrieren",
        "given_name=Anna&family_name=Schmidt&email=" + enc(email) + "&password=" + enc(kPassword) +
            "&password_repeat=" + enc(kPassword) + "&csrf_token=" + token(page.body),
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Forwarded-For", from}});
  };
  // From one client, to many addresses.
  int accepted = 0, held = 0;
  for (int i = 0; i < 15; ++i) {
    auto res = register_as(fmt::format("person{}@example.org", i), "198.51.100.7");
    if (res.status == 303) ++accepted;
    if (res.status == 429) {
      ++held;
      EXPECT_NE(res.body.find("Zu viele Versuche."), std::string::npos);
      EXPECT_FALSE(res.header("retry-after").empty());
    }
  }
  // Ten free requests and the one that starts the delay; the others wait.
  EXPECT_EQ(accepted, 11);
  EXPECT_EQ(held, 4);
  EXPECT_EQ(count("SELECT COUNT(*) FROM accounts"), accepted) << "held before anything is stored";
  // To one address, from many clients: its inbox is not flooded, and nobody is told to
  // wait because of an address (else a stranger could keep its owner from registering).
  accepted = 0;
  for (int i = 0; i < 6; ++i) {
    if (register_as("ziel@example.org", fmt::format("203.0.113.{}", i + 1)).status == 303) {
      ++accepted;
    }
  }
  EXPECT_EQ(accepted, 6);
  // Eleven confirmations to the many, then one confirmation and one note to the one.
  // Once no mail job is left to run, what arrived is all there is.
  for (int i = 0; i < 400 && count("SELECT COUNT(*) FROM jobs WHERE kind = 'core.mail' AND "
                                   "state IN ('queued', 'running')") > 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto mails = sink_.wait_for(13);
  EXPECT_EQ(std::count_if(mails.begin(), mails.end(),
                          [](const auto& m) { return m.to == "ziel@example.org"; }),
            2);
}

// Finding 9: password reset requests (mail) and staff invitations (argon2 and mail).
TEST_P(ReviewFindings, ResetRequestsAndInvitationsAreThrottled) {
  auto c = client();
  auto ask = [&](const std::string& email, const std::string& from) {
    auto page = c.get("/passwort-vergessen");
    return c
        .request("POST", "/passwort-vergessen",
                 "email=" + enc(email) + "&csrf_token=" + token(page.body),
                 {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Forwarded-For", from}})
        .status;
  };
  std::vector<int> one_client, one_address;
  for (int i = 0; i < 12; ++i) {
    one_client.push_back(ask(fmt::format("wer{}@example.org", i), "198.51.100.9"));
  }
  for (int i = 0; i < 5; ++i) {
    one_address.push_back(ask("anna@example.org", fmt::format("203.0.113.{}", i + 20)));
  }
  EXPECT_EQ(std::count(one_client.begin(), one_client.end(), 429), 1);
  EXPECT_EQ(std::count(one_address.begin(), one_address.end(), 429), 0)
      << "no stranger can keep an address's owner from asking for a reset";

  auto tenant =
      app_->get<identity::Identity>().staff.create_tenant("Hansestadt Wismar", "test")->id;
  auto admin = signed_in_admin(tenant);
  std::vector<int> invites;
  for (int i = 0; i < 5; ++i) {
    invites.push_back(submit(admin, "/verwaltung/mitarbeitende/neu",
                             {{"mandant", tenant},
                              {"given_name", "Rita"},
                              {"family_name", "Redaktion"},
                              {"email", "redaktion%40wismar.de"},
                              {"role", "editor"}},
                             "/verwaltung/mitarbeitende/neu?mandant=" + tenant)
                          .status);
  }
  EXPECT_EQ(invites, (std::vector<int>{303, 303, 303, 303, 429}));
}

// Finding 9: a staff invitation told the admin that an address has a citizen account.
TEST_P(ReviewFindings, StaffInvitationDoesNotRevealAddresses) {
  registered("buerger@example.org");
  auto tenant =
      app_->get<identity::Identity>().staff.create_tenant("Hansestadt Wismar", "test")->id;
  auto admin = signed_in_admin(tenant);
  auto invite = [&](const std::string& email) {
    return submit(admin, "/verwaltung/mitarbeitende/neu",
                  {{"mandant", tenant},
                   {"given_name", "Bea"},
                   {"family_name", "Bürger"},
                   {"email", enc(email)},
                   {"role", "clerk"}},
                  "/verwaltung/mitarbeitende/neu?mandant=" + tenant);
  };
  auto taken = invite("buerger@example.org");
  auto flash_taken = admin.get(taken.header("location"));
  auto fresh = invite("neu@wismar.de");
  auto flash_fresh = admin.get(fresh.header("location"));
  EXPECT_EQ(taken.status, fresh.status);
  EXPECT_EQ(taken.status, 303);
  EXPECT_EQ(taken.header("location"), fresh.header("location"));
  EXPECT_NE(flash_taken.body.find("Die Einladung ist verschickt."), std::string::npos);
  EXPECT_NE(flash_fresh.body.find("Die Einladung ist verschickt."), std::string::npos);
  // The citizen learns of it by mail; the new address gets its link.
  auto mails = sink_.wait_for(mails_expected_ + 2);
  std::set<std::string> to;
  for (const auto& m : mails) to.insert(m.to + ": " + m.subject);
  EXPECT_TRUE(to.count("buerger@example.org: Einladung in das Serviceportal"));
  EXPECT_TRUE(to.count("neu@wismar.de: Einladung in das Serviceportal"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM account_roles r JOIN accounts a ON a.id = r.account_id "
                  "WHERE a.email = 'buerger@example.org'"),
            0)
      << "a citizen account is never made staff";
  // The list shows both as pending invitations, alike.
  auto list = admin.get("/verwaltung/mitarbeitende?mandant=" + tenant);
  auto pending = list.body.substr(list.body.find("Offene Einladungen"));
  EXPECT_NE(pending.find("buerger@example.org"), std::string::npos);
  EXPECT_NE(pending.find("neu@wismar.de"), std::string::npos);
  EXPECT_EQ(count("SELECT COUNT(*) FROM accounts WHERE email = 'neu@wismar.de'"), 0)
      << "no account before the person accepts";
}

// The review: an admin added existing staff of another authority without their consent.
TEST_P(ReviewFindings, StaffOfAnotherAuthorityIsNotAddedWithoutConsent) {
  auto wismar =
      app_->get<identity::Identity>().staff.create_tenant("Hansestadt Wismar", "test")->id;
  auto rostock = app_->get<identity::Identity>().staff.create_tenant("Rostock", "test")->id;
  auto clerk = app_->get<identity::Identity>().accounts.create_account({.email = "sb@rostock.de",
                                                                        .password = kPassword,
                                                                        .given_name = "S",
                                                                        .family_name = "B",
                                                                        .verified = true,
                                                                        .role = "clerk",
                                                                        .tenant_id = rostock},
                                                                       "test");
  ASSERT_TRUE(clerk);
  auto admin = signed_in_admin(wismar);
  auto invite = submit(admin, "/verwaltung/mitarbeitende/neu",
                       {{"mandant", wismar},
                        {"given_name", "S"},
                        {"family_name", "B"},
                        {"email", enc("sb@rostock.de")},
                        {"role", "authority_admin"}},
                       "/verwaltung/mitarbeitende/neu?mandant=" + wismar);
  EXPECT_EQ(invite.status, 303);
  EXPECT_EQ(count("SELECT COUNT(*) FROM account_roles WHERE tenant_id = '" + wismar +
                  "' AND account_id = '" + clerk->id + "'"),
            0);
  EXPECT_EQ(admin.get("/verwaltung/mitarbeitende/" + clerk->id + "?mandant=" + wismar).status, 404)
      << "the admin reaches no member who has not accepted";
}

TEST_P(ReviewFindings, ChangingTheSecondFactorEndsOtherSessions) {
  // A session stolen before the owner set up (or removed) the factor must not outlive it.
  auto owner = registered();
  ASSERT_EQ(login(owner, "anna@example.org", kPassword).status, 303);
  auto thief = client();
  ASSERT_EQ(login(thief, "anna@example.org", kPassword).status, 303);
  ASSERT_EQ(thief.get("/konto").status, 200);
  enrol(owner);
  EXPECT_EQ(owner.get("/konto").status, 200) << "the owner's own session goes on";
  EXPECT_EQ(thief.get("/konto").status, 303) << "the other session ended";
}

TEST_P(ReviewFindings, OwnLoginDoesNotResetTheClientsCount) {
  // A sprayer with an account of their own must not clear the count of their address by
  // signing in to it between guesses at other people's passwords.
  registered("mallory@example.org");
  auto c = client();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(login(c, fmt::format("opfer{}@example.org", i), "geraten 2026", "203.0.113.9").status,
              401);
  }
  ASSERT_EQ(login(c, "mallory@example.org", kPassword, "203.0.113.9").status, 303);
  EXPECT_EQ(count("SELECT COALESCE(MAX(failures), 0) FROM login_throttle "
                  "WHERE throttle_key = 'addr:203.0.113.9'"),
            4)
      << "the failures stay counted; the attacker's own login neither clears nor adds";
}

TEST_P(ReviewFindings, PeopleBehindOneAddressAreNotChargedForTheirLogins) {
  // An office or a carrier NAT: many right logins from one address slow nobody down.
  registered();
  for (int i = 0; i < 30; ++i) {
    auto c = client();
    ASSERT_EQ(login(c, "anna@example.org", kPassword, "192.0.2.80").status, 303) << i;
  }
  EXPECT_EQ(count("SELECT COALESCE(MAX(failures), 0) FROM login_throttle "
                  "WHERE throttle_key = 'addr:192.0.2.80'"),
            0);
}

TEST_P(ReviewFindings, IPv6ClientsCountPerSlash64) {
  auto c = client();
  for (int i = 1; i <= 3; ++i) {
    login(c, "opfer@example.org", "geraten 2026", fmt::format("2001:db8:1:2::{:x}", i));
  }
  login(c, "opfer@example.org", "geraten 2026", "2001:db8:1:2:ffff:eeee:dddd:cccc");
  login(c, "opfer@example.org", "geraten 2026", "2001:db8:1:3::1");
  EXPECT_EQ(count("SELECT COALESCE(MAX(failures), 0) FROM login_throttle "
                  "WHERE throttle_key = 'addr:2001:0db8:0001:0002::/64'"),
            4)
      << "every address of one /64 is one client";
  EXPECT_EQ(count("SELECT COALESCE(MAX(failures), 0) FROM login_throttle "
                  "WHERE throttle_key = 'addr:2001:0db8:0001:0003::/64'"),
            1);
}

TEST_P(ReviewFindings, AccountDeletionIsThrottledLikeALogin) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    auto res = submit(c, "/konto/loeschen", {{"password", enc("geraten 2026")}});
    if (res.status == 429) ++refused;
  }
  EXPECT_GE(refused, 3) << "a stolen session cannot guess the password at full speed";
  EXPECT_EQ(c.get("/konto").status, 200) << "the account is still there";
}

// Someone who had the password and stopped at the second factor kept that half-finished
// login through the owner's change of the factor (it was no session "of the account" yet).
TEST_P(ReviewFindings, HalfFinishedLoginEndsWhenTheSecondFactorChanges) {
  auto owner = registered();
  ASSERT_EQ(login(owner, "anna@example.org", kPassword).status, 303);
  auto e = enrol(owner);
  auto thief = client();
  auto pending = login(thief, "anna@example.org", kPassword);
  ASSERT_EQ(pending.status, 303);
  EXPECT_EQ(pending.header("location").rfind("/anmelden/zweiter-faktor", 0), 0u);
  EXPECT_EQ(thief.get("/anmelden/zweiter-faktor").status, 200);
  auto removed = submit(owner, "/konto/sicherheit/zwei-faktor/entfernen",
                        {{"password", enc(kPassword)}, {"current_code", enc(e.recovery[0])}});
  EXPECT_EQ(removed.status, 303);
  auto after = thief.get("/anmelden/zweiter-faktor");
  EXPECT_EQ(after.status, 303);
  EXPECT_EQ(after.header("location"), "/anmelden");
  EXPECT_EQ(owner.get("/konto").status, 200) << "the owner's own session stays";
}

// A stolen session plus a guessed or phished password deleted an account that has a
// second factor.
TEST_P(ReviewFindings, AccountWithSecondFactorIsDeletedOnlyWithIt) {
  auto c = registered();
  ASSERT_EQ(login(c, "anna@example.org", kPassword).status, 303);
  auto e = enrol(c);
  auto page = c.get("/konto/loeschen");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(R"(name="current_code")"), std::string::npos);
  auto password_only = submit(c, "/konto/loeschen", {{"password", enc(kPassword)}});
  EXPECT_EQ(password_only.status, 422);
  EXPECT_NE(password_only.body.find(R"(href="#feld-current_code")"), std::string::npos);
  auto wrong =
      submit(c, "/konto/loeschen", {{"password", enc(kPassword)}, {"current_code", "000000"}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_EQ(count("SELECT COUNT(*) FROM accounts WHERE email = 'anna@example.org'"), 1);
  auto gone = submit(c, "/konto/loeschen",
                     {{"password", enc(kPassword)}, {"current_code", enc(e.recovery[0])}});
  EXPECT_EQ(gone.status, 200);
  EXPECT_EQ(count("SELECT COUNT(*) FROM accounts WHERE email = 'anna@example.org'"), 0);
}

INSTANTIATE_TEST_SUITE_P(Databases, ReviewFindings, ::testing::ValuesIn(test::backends()));

// --- the federation's new-account page ------------------------------------------------------

class NewAccountThroughEid : public EidPages {
 protected:
  // Through the simulator as `person` and back, to the new-account page.
  void identified_as(test::HttpClient& c, const std::string& person) {
    auto page = c.get("/anmelden/extern/bundid?next=/konto");
    test::HttpClient idp(simulator().port());
    auto sso = idp.post_form("/saml/sso", {{"SAMLRequest", enc(field(page.body, "SAMLRequest"))},
                                           {"RelayState", enc(field(page.body, "RelayState"))}});
    auto done = idp.post_form("/saml/login", {{"request_id", enc(field(sso.body, "request_id"))},
                                              {"acs", enc(field(sso.body, "acs"))},
                                              {"audience", enc(field(sso.body, "audience"))},
                                              {"relay", enc(field(sso.body, "relay"))},
                                              {"person", person},
                                              {"method", "eID"},
                                              {"action", "login"}});
    auto acs = c.post_form("/saml/acs", {{"SAMLResponse", enc(field(done.body, "SAMLResponse"))}});
    auto back = c.get(acs.header("location"));
    ASSERT_EQ(back.header("location"), "/anmelden/extern/neu") << back.body;
  }

  // The page without what differs by nature: the CSRF token and the address typed.
  static std::string normalised(std::string html, const std::string& email) {
    html = std::regex_replace(html, std::regex(R"(name="csrf_token" value="[^"]*")"), "");
    for (auto pos = html.find(email); pos != std::string::npos; pos = html.find(email, pos)) {
      html.replace(pos, email.size(), "ADDRESS");
    }
    return html;
  }
};

// Finding 9: the new-account page said "this address has an account already".
TEST_P(NewAccountThroughEid, NewAccountPageDoesNotRevealAddresses) {
  registered("anna@example.org");
  auto first = client();
  identified_as(first, "erika");
  auto taken = submit(first, "/anmelden/extern/neu", {{"email", enc("anna@example.org")}});
  auto second = client();
  identified_as(second, "max");
  auto fresh = submit(second, "/anmelden/extern/neu", {{"email", enc("max.m@example.org")}});

  EXPECT_EQ(taken.status, fresh.status);
  EXPECT_EQ(taken.status, 200);
  EXPECT_EQ(normalised(taken.body, "anna@example.org"),
            normalised(fresh.body, "max.m@example.org"));
  EXPECT_NE(taken.body.find("Bitte bestätigen Sie Ihre E-Mail-Adresse"), std::string::npos);
  EXPECT_EQ(first.get("/konto").status, 303);
  EXPECT_EQ(second.get("/konto").status, 303);
  // The owner of the taken address is told by mail; the new address gets its link.
  auto mails = sink_.wait_for(mails_expected_ + 2);
  std::map<std::string, std::string> body_to;
  for (const auto& m : mails) body_to[m.to] = m.body;
  EXPECT_NE(body_to["anna@example.org"].find("ein zweites wurde nicht angelegt"),
            std::string::npos);
  EXPECT_NE(body_to["max.m@example.org"].find("/konto/bestaetigen?token="), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Databases, NewAccountThroughEid, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::identity
