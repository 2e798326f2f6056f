// What the outside security review of the journey found, each as the behaviour it must have
// now: over-long names reach the authority, external Vorhaben end with their retention, the
// mailbox says that an external service writes, guest starts are limited per IPv6 /64,
// reminders of an organisation's draft go to the organisation, file names are cleaned, an
// order left open is cancelled when the answers change, guest links stay out of the log.
#include <gtest/gtest.h>

#include <mutex>
#include <mvsp/applications/applications.hpp>
#include <mvsp/cases/cases.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/http.hpp>
#include <regex>

#include "fixture.hpp"

namespace mvsp::applications {
namespace {

using fixture::ApplicationsTest;
using fixture::kPdf;
using fixture::kSchwerin;

std::mutex g_mutex;
std::vector<std::string> g_lines;
void capture(std::string_view line) {
  std::lock_guard lock(g_mutex);
  g_lines.emplace_back(line);
}

class Hardening : public ApplicationsTest {
 protected:
  Start guest(const std::string& email, const std::string& from) {
    return {.online_service_id = "test-hunde-online",
            .place = kSchwerin,
            .owner = {"guest", ""},
            .account_id = {},
            .guest_email = email,
            .remote_address = from,
            .locale = "de"};
  }
};

// A name the form accepts (up to 1000 characters a part) is longer than the intake takes: it
// is shortened, and the application reaches the authority.
TEST_P(Hardening, ALongNameStillReachesTheAuthority) {
  auto me = person();
  auto a = started();
  auto ans = answers();
  ans["name.vorname"] = std::string(100, 'e');
  ans["name.nachname"] = std::string(140, 'x') + " " + std::string(60, 'y');  // 302 bytes in all
  ASSERT_TRUE(apps().save_answers(me, a.id, ans));
  ASSERT_TRUE(apps().add_document(me, a.id, 0, "nachweis.pdf", kPdf));
  auto paid = apps().pay(me, a.id);
  ASSERT_TRUE(paid) << paid.error().message
                    << (paid.error().fields.empty()
                            ? ""
                            : paid.error().fields[0].field + ": " + paid.error().fields[0].message);
  ASSERT_TRUE(app_->get<payments::Payments>().invoice(apps().find(me, a.id)->payment_order_id));
  auto done = apps().submit(me, a.id, true);
  ASSERT_TRUE(done) << done.error().message;  // the journey accepts it
  app_->job_runner().run_due();
  EXPECT_EQ(apps().find(me, a.id)->status, Status::received);
  auto vorgang = app_->get<cases::Cases>().by_application(a.id);
  ASSERT_TRUE(vorgang);
  EXPECT_LE(vorgang->applicant.name.size(), 200u);
}

// A Vorhaben created through the API that never got a status ends with its retention.
TEST_P(Hardening, ExternalDraftsEndWithTheirRetention) {
  auto a = apps().create_external({.client_id = "client-a",
                                   .tenant_id = tenant_,
                                   .account_id = accounts_[0],
                                   .title = "Sondernutzung",
                                   .authority_id = {},
                                   .external_url = "https://dienst.example/1",
                                   .idempotency_key = {}});
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->retention_until);
  clock_->advance(std::chrono::days(3650));
  EXPECT_EQ(apps().apply_retention(), 1);
  EXPECT_FALSE(apps().get(a->id));
}

// Without an authority, the mailbox says that an external online service writes.
TEST_P(Hardening, TheMailboxNamesAnExternalServiceAsSuch) {
  auto a = apps().create_external({.client_id = "client-a",
                                   .tenant_id = tenant_,
                                   .account_id = accounts_[0],
                                   .title = "Finanzamt Schwerin",
                                   .authority_id = {},
                                   .external_url = "http://phish.example/zahlung",
                                   .idempotency_key = {}});
  ASSERT_TRUE(a);
  ASSERT_TRUE(apps().post_message("client-a", a->id, "Mahnung", "Zahlen Sie hier: ...", "m1"));
  auto inbox = app_->get<mailbox::Mailbox>().inbox(accounts_[0]);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].sender, "Finanzamt Schwerin (externer Online-Dienst)");
}

// The limit of guest starts per client counts an IPv6 /64 as one client.
TEST_P(Hardening, GuestStartsAreLimitedPerIpv6Prefix) {
  for (int i = 0; i < 30; ++i) {
    auto r = apps().start(
        guest(fmt::format("opfer{}@example.org", i), fmt::format("2001:db8:1:2::{:x}", i + 1)));
    ASSERT_TRUE(r) << i << " " << r.error().message;
  }
  auto more = apps().start(guest("noch-einer@example.org", "2001:db8:1:2:ffff::1"));
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().code, core::ErrorCode::rate_limited);
  EXPECT_TRUE(apps().start(guest("anderes-netz@example.org", "2001:db8:1:3::1")));
}

// Reminders of an organisation's draft go to the organisation's addresses, not to the
// person who started it (who may have left it since).
TEST_P(Hardening, OrganisationRemindersGoToTheOrganisation) {
  auto s = apps().start({.online_service_id = "test-hunde-online",
                         .place = kSchwerin,
                         .owner = {"organisation", "org-1"},
                         .account_id = accounts_[0],
                         .guest_email = {},
                         .remote_address = "127.0.0.1",
                         .locale = "de"});
  ASSERT_TRUE(s);
  clock_->advance(std::chrono::days(24));
  ASSERT_EQ(apps().remind_drafts(), 1);
  bool to_starter = false;
  for (const auto& r : app_->database().query("SELECT payload FROM jobs WHERE kind = 'core.mail'"))
    if (r.text(0).find("erika@example.org") != std::string::npos &&
        r.text(0).find("verwerfen?token=") != std::string::npos)
      to_starter = true;
  EXPECT_FALSE(to_starter);
}

// File names: bytes that are not UTF-8 repaired, bidi controls dropped, the extension of
// the content added.
TEST_P(Hardening, FileNamesAreCleaned) {
  auto me = person();
  auto a = started();
  auto bad = apps().add_document(me, a.id, 0, "bad\xff\xfe.pdf", kPdf);
  ASSERT_TRUE(bad) << bad.error().message;
  EXPECT_EQ(bad->filename, "bad\uFFFD\uFFFD.pdf");
  auto rlo = apps().add_document(me, a.id, 0, "Rechnung\u202Efdp.exe", kPdf);
  ASSERT_TRUE(rlo);
  EXPECT_EQ(rlo->filename, "Rechnungfdp.exe.pdf");
  EXPECT_EQ(rlo->media_type, "application/pdf");
}

// An order left open is cancelled when the answers change: it cannot be paid afterwards for
// a fee that no longer fits, and the next payment is for the new fee.
TEST_P(Hardening, AnOpenOrderEndsWhenTheAnswersChange) {
  auto me = person();
  auto a = started();
  ASSERT_TRUE(apps().save_answers(me, a.id, answers(2)));
  ASSERT_TRUE(apps().add_document(me, a.id, 0, "nachweis.pdf", kPdf));
  ASSERT_TRUE(apps().pay(me, a.id));  // order for 10 euros, left open at the payment page
  auto order = apps().find(me, a.id)->payment_order_id;
  ASSERT_TRUE(apps().save_answers(me, a.id, answers(3)));        // allowed: not paid yet
  EXPECT_FALSE(app_->get<payments::Payments>().invoice(order));  // the old order is cancelled
  auto again = apps().pay(me, a.id);
  ASSERT_TRUE(again);
  auto now = *apps().find(me, a.id);
  EXPECT_NE(now.payment_order_id, order);
  EXPECT_EQ(apps().payment(now)->amount_cents, 1500);
  ASSERT_TRUE(app_->get<payments::Payments>().invoice(now.payment_order_id));
  EXPECT_TRUE(apps().submit(me, a.id, true));
}

INSTANTIATE_TEST_SUITE_P(Backends, Hardening, ::testing::ValuesIn(test::backends()));

// The guest link's token is in the query, which the request log leaves out.
class HardeningPages : public Hardening {};

TEST_P(HardeningPages, TheGuestTokenStaysOutOfTheLog) {
  auto s = apps().start(guest("gast@example.org", "192.0.2.9"));
  ASSERT_TRUE(s);
  {
    std::lock_guard lock(g_mutex);
    g_lines.clear();
  }
  core::log::set_sink(&capture);
  auto c = client();
  auto opened = c.get("/antrag/gast?token=" + s->guest_token);
  core::log::set_sink(nullptr);
  EXPECT_EQ(opened.status, 303);
  bool logged = false;
  std::lock_guard lock(g_mutex);
  for (const auto& l : g_lines)
    if (l.find(s->guest_token) != std::string::npos) logged = true;
  EXPECT_FALSE(logged);
  EXPECT_FALSE(g_lines.empty());  // the request was logged
}

INSTANTIATE_TEST_SUITE_P(Backends, HardeningPages, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::applications
