// The application journey's use cases on both databases, with the whole platform in-process
// (catalog, forms, payments, cases, mailbox) and a real clamd on loopback: the start for a
// place at the online service's version, guest links, uploads checked by content and
// scanned, payment by invoice, idempotent submission, the hand-over to cases and the
// receipt, drafts reminded and expired on a manual clock, external online services.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <mvsp/applications/applications.hpp>
#include <mvsp/cases/cases.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/payments/payments.hpp>
#include <thread>

#include "fixture.hpp"

namespace mvsp::applications {
namespace {

using fixture::ApplicationsTest;
using fixture::eicar;
using fixture::kPdf;
using fixture::kSchwerin;

TEST_P(ApplicationsTest, StartsForThePlaceWithTheVersionOfTheStart) {
  auto a = started();
  EXPECT_EQ(a.authority_id, "sn-buergeramt");
  EXPECT_EQ(a.tenant_id, tenant_);
  EXPECT_EQ(a.online_service_version, 1);
  EXPECT_EQ(a.status, Status::draft);
  EXPECT_TRUE(core::parse_public_id("MV", a.reference));
  // a new version of the online service does not change the started Vorhaben
  catalog::Editor editor{.actor = "test", .state_wide = true, .tenant_ids = {}};
  auto& catalog = app_->get<catalog::Catalog>();
  auto os = *catalog.online_service("test-hunde-online");
  os.config.fee_per_unit_cents = 900;
  ASSERT_TRUE(catalog.put_online_service(editor, os));
  EXPECT_GT(catalog.online_service("test-hunde-online")->version, 1);
  auto again = apps().find(person(), a.id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->online_service_version, 1);
  EXPECT_EQ(again->config.fee_per_unit_cents, 500);
}

TEST_P(ApplicationsTest, RefusesPlacesWhereNobodyOffersIt) {
  Start s{.online_service_id = "test-hunde-online",
          .place = "13003000",  // Rostock: its office has no tenant on the platform
          .owner = {"account", accounts_[0]},
          .account_id = accounts_[0],
          .guest_email = {},
          .remote_address = "127.0.0.1",
          .locale = "de"};
  auto r = apps().start(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().fields.at(0).field, "ort");
  s.place = "99999999";
  r = apps().start(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().fields.at(0).field, "ort");
  s.online_service_id = "gibt-es-nicht";
  EXPECT_EQ(apps().start(s).error().code, core::ErrorCode::not_found);
}

TEST_P(ApplicationsTest, OnlyTheOwnerSeesAVorhaben) {
  auto a = started(0);
  EXPECT_TRUE(apps().find(person(0), a.id));
  EXPECT_EQ(apps().find(person(1), a.id).error().code, core::ErrorCode::not_found);
  Actor guest{.account_id = {}, .organisation_id = {}, .guest_of = {a.id}};
  EXPECT_FALSE(apps().find(guest, a.id));  // a guest link list does not open an account's
  EXPECT_FALSE(apps().save_answers(person(1), a.id, answers()));
  EXPECT_FALSE(apps().add_document(person(1), a.id, 0, "x.pdf", kPdf));
  EXPECT_FALSE(apps().submit(person(1), a.id, true));
  EXPECT_FALSE(apps().discard(person(1), a.id));
  EXPECT_EQ(apps().list(person(1)).size(), 0u);
  EXPECT_EQ(apps().list(person(0)).size(), 1u);
}

TEST_P(ApplicationsTest, GuestsOpenTheirVorhabenByTheMailedLink) {
  auto s = apps().start({.online_service_id = "test-hunde-online",
                         .place = kSchwerin,
                         .owner = {"guest", ""},
                         .account_id = {},
                         .guest_email = "Gast@Example.org ",
                         .remote_address = "192.0.2.1",
                         .locale = "de"});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->application.guest_email, "gast@example.org");
  EXPECT_FALSE(s->application.guest_confirmed);
  ASSERT_FALSE(s->guest_token.empty());
  EXPECT_FALSE(apps().open_guest_link("falsch"));
  auto id = apps().open_guest_link(s->guest_token);
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, s->application.id);
  Actor guest{.account_id = {}, .organisation_id = {}, .guest_of = {*id}};
  auto a = apps().find(guest, *id);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->guest_confirmed);
  EXPECT_FALSE(apps().find(person(0), *id));
  // the link in the mails is the same link
  EXPECT_TRUE(apps().guest_link(*a).ends_with("/antrag/gast?token=" + s->guest_token));
}

TEST_P(ApplicationsTest, GuestLinksAreLimitedPerAddress) {
  Start s{.online_service_id = "test-hunde-online",
          .place = kSchwerin,
          .owner = {"guest", ""},
          .account_id = {},
          .guest_email = "viele@example.org",
          .remote_address = "192.0.2.7",
          .locale = "de"};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(apps().start(s)) << i;
  auto sixth = apps().start(s);
  ASSERT_FALSE(sixth);
  EXPECT_EQ(sixth.error().code, core::ErrorCode::rate_limited);
  s.guest_email = "keine adresse";
  auto bad = apps().start(s);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().fields.at(0).field, "email");
}

TEST_P(ApplicationsTest, UploadsAreCheckedByContentAndScanned) {
  auto a = started();
  auto me = person();
  auto before = stored_documents();
  // a text file named .pdf is not a PDF
  auto text = apps().add_document(me, a.id, 0, "nachweis.pdf", "nur Text, kein PDF\n");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().fields.at(0).field, "datei-0");
  // too large for the rule
  auto big = apps().add_document(me, a.id, 0, "gross.pdf", kPdf + std::string(70 * 1024, ' '));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().fields.at(0).field, "datei-0");
  // the EICAR test string, even inside a "PDF": refused, nothing kept
  auto infected = apps().add_document(me, a.id, 0, "virus.pdf", kPdf + eicar());
  ASSERT_FALSE(infected);
  EXPECT_EQ(infected.error().code, core::ErrorCode::invalid_input);
  EXPECT_NE(infected.error().fields.at(0).message.find("Schadsoftware"), std::string::npos);
  EXPECT_EQ(apps().find(me, a.id)->documents.size(), 0u);
  EXPECT_EQ(stored_documents(), before);
  // a clean PDF is kept, with the path stripped from its name
  auto ok = apps().add_document(me, a.id, 0, "../../etc/nach\"weis.pdf", kPdf);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->media_type, "application/pdf");
  EXPECT_EQ(ok->filename, "nachweis.pdf");
  EXPECT_EQ(stored_documents(), before + 1);
  std::ostringstream back;
  ASSERT_TRUE(apps().read_document(me, a.id, ok->id, back));
  EXPECT_EQ(back.str(), kPdf);
  // no rule of that number
  EXPECT_FALSE(apps().add_document(me, a.id, 7, "x.pdf", kPdf));
  // removed: row and document go
  ASSERT_TRUE(apps().remove_document(me, a.id, ok->id));
  EXPECT_EQ(stored_documents(), before);
}

TEST_P(ApplicationsTest, SubmitNeedsEverythingAndNamesWhatIsMissing) {
  auto a = started();
  auto me = person();
  auto r = apps().submit(me, a.id, false);
  ASSERT_FALSE(r);
  std::set<std::string> fields;
  for (const auto& f : r.error().fields) fields.insert(f.field);
  EXPECT_TRUE(fields.contains("formular"));
  EXPECT_TRUE(fields.contains("datei-0"));
  EXPECT_TRUE(fields.contains("zahlung"));
  EXPECT_TRUE(fields.contains("erklaerung"));
  // payment cannot start before the form is done (the fee depends on the answers)
  EXPECT_EQ(apps().pay(me, a.id).error().code, core::ErrorCode::conflict);
  a = ready(me, a);
  EXPECT_EQ(apps().payment(a)->amount_cents, 1000);  // two dogs at 5 euros
  // below the trust level of the online service
  auto basic = me;
  basic.level = identity::TrustLevel::basic;
  auto low = apps().submit(basic, a.id, true);
  ASSERT_FALSE(low);
  EXPECT_EQ(low.error().fields.at(0).field, "identifikation");
  // once invoiced, the answers are frozen
  EXPECT_EQ(apps().save_answers(me, a.id, answers(3)).error().code, core::ErrorCode::conflict);
  auto done = apps().submit(me, a.id, true);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->status, Status::submitted);
  auto pdf = apps().output(me, a.id, "pdf");
  ASSERT_TRUE(pdf);
  EXPECT_TRUE(pdf->starts_with("%PDF"));
  auto xml = apps().output(me, a.id, "xml");
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find(a.reference), std::string::npos);
  EXPECT_FALSE(apps().output(person(1), a.id, "pdf"));
}

TEST_P(ApplicationsTest, SubmitTwiceAtOnceMakesOneSubmissionAndOneVorgang) {
  auto me = person();
  auto a = ready(me, started());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (apps().submit(me, a.id, true)) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);  // every click answers with the one submission
  auto events = apps().events(a.id);
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const Event& e) { return e.status == Status::submitted; }),
            1);
  // the hand-over job, and a second run of it (a retry after a crash)
  app_->job_runner().run_due();
  ASSERT_TRUE(apps().hand_over(a.id));
  auto& cases = app_->get<cases::Cases>();
  auto vorgang = cases.by_application(a.id);
  ASSERT_TRUE(vorgang);
  EXPECT_EQ(
      cases.arrivals({.tenant_ids = {tenant_}, .authority_id = {}, .text = {}, .limit = 50}).size(),
      1u);
  EXPECT_EQ(vorgang->reference, a.reference);
  EXPECT_EQ(vorgang->documents.size(), 1u);
  EXPECT_EQ(vorgang->payment_status,
            "invoiced");  // an open invoice, not "submitted"
  auto received = apps().find(me, a.id);
  EXPECT_EQ(received->status, Status::received);
  EXPECT_EQ(received->case_id, vorgang->id);
}

TEST_P(ApplicationsTest, ACrashBeforeTheHandOverEndsInOneVorgangAfterRestart) {
  auto me = person();
  auto a = ready(me, started());
  ASSERT_TRUE(apps().submit(me, a.id, true));
  // the process dies after the commit: nothing ran the hand-over yet
  EXPECT_FALSE(app_->get<cases::Cases>().by_application(a.id));
  EXPECT_EQ(apps().find(me, a.id)->status, Status::submitted);
  // the process ends there; a new one starts on the same database and data directory, and
  // runs the queued job (a duplicate run changes nothing)
  auto settings = app_->settings();
  app_->stop();
  app_.reset();
  app_ = std::make_unique<app::App>(settings, ports());
  app_->job_runner().run_due();
  ASSERT_TRUE(apps().hand_over(a.id));
  EXPECT_TRUE(app_->get<cases::Cases>().by_application(a.id));
  EXPECT_EQ(
      app_->get<cases::Cases>()
          .arrivals({.tenant_ids = {tenant_}, .authority_id = {}, .text = a.reference, .limit = 50})
          .size(),
      1u);
  // the owner finds the confirmation with the PDF in the mailbox
  auto inbox = app_->get<mailbox::Mailbox>().inbox(accounts_[0]);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].reference, a.reference);
  auto message = app_->get<mailbox::Mailbox>().find(accounts_[0], inbox[0].id);
  ASSERT_TRUE(message);
  ASSERT_EQ(message->attachments.size(), 1u);
  EXPECT_EQ(message->attachments[0].media_type, "application/pdf");
}

TEST_P(ApplicationsTest, DraftsAreRemindedAndExpire) {
  auto me = person();
  auto a = started();
  ASSERT_TRUE(apps().add_document(me, a.id, 0, "nachweis.pdf", kPdf));
  auto files = stored_documents();
  EXPECT_EQ(apps().remind_drafts(), 0);
  clock_->advance(std::chrono::days(23) + std::chrono::hours(1));
  EXPECT_EQ(apps().remind_drafts(), 1);
  EXPECT_EQ(apps().remind_drafts(), 0);  // once
  EXPECT_EQ(apps().expire_drafts(), 0);
  clock_->advance(std::chrono::days(7));
  EXPECT_EQ(apps().expire_drafts(), 1);
  EXPECT_FALSE(apps().get(a.id));
  EXPECT_EQ(stored_documents(), files - 1);
}

TEST_P(ApplicationsTest, TheOptOutStopsReminders) {
  auto a = started();
  EXPECT_FALSE(apps().stop_reminders(a.id, "falsch"));
  ASSERT_TRUE(apps().stop_reminders(a.id, apps().reminder_token(a.id)));
  clock_->advance(std::chrono::days(24));
  EXPECT_EQ(apps().remind_drafts(), 0);
  // discarding by the mailed link needs the right token too
  EXPECT_FALSE(apps().discard_by_token(a.id, "falsch"));
  EXPECT_TRUE(apps().get(a.id));
  ASSERT_TRUE(apps().discard_by_token(a.id, apps().reminder_token(a.id)));
  EXPECT_FALSE(apps().get(a.id));
}

TEST_P(ApplicationsTest, RetentionDeletesASubmittedVorhaben) {
  auto me = person();
  auto a = ready(me, started());
  ASSERT_TRUE(apps().submit(me, a.id, true));
  app_->job_runner().run_due();
  clock_->advance(std::chrono::days(89));
  EXPECT_EQ(apps().apply_retention(), 0);
  clock_->advance(std::chrono::days(2));
  EXPECT_EQ(apps().apply_retention(), 1);
  EXPECT_FALSE(apps().get(a.id));
  EXPECT_EQ(stored_documents(), 0u);
  // the case keeps what it has
  EXPECT_TRUE(app_->get<cases::Cases>().by_application(a.id));
}

TEST_P(ApplicationsTest, ExternalOnlineServicesCreateAndPostStatus) {
  ExternalStart s{.client_id = "client-a",
                  .tenant_id = tenant_,
                  .account_id = accounts_[0],
                  .title = "Sondernutzung beantragen",
                  .authority_id = "sn-buergeramt",
                  .external_url = "https://dienst.example/vorhaben/1",
                  .idempotency_key = "k1"};
  auto a = apps().create_external(s);
  ASSERT_TRUE(a) << a.error().message;
  auto again = apps().create_external(s);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, a->id);
  auto other = s;
  other.title = "Etwas anderes";
  EXPECT_EQ(apps().create_external(other).error().code, core::ErrorCode::conflict);
  auto bad = s;
  bad.idempotency_key = "k2";
  bad.external_url = "javascript:alert(1)";
  bad.authority_id = "hwi-steuern";  // not of the client's tenant
  auto refused = apps().create_external(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().fields.size(), 2u);
  // the person sees it; the status posted shows
  ASSERT_EQ(apps().list(person(0)).size(), 1u);
  ASSERT_TRUE(apps().post_status("client-a", a->id, Status::in_progress, "Wir prüfen.", "s1"));
  ASSERT_TRUE(apps().post_status("client-a", a->id, Status::in_progress, "Wir prüfen.", "s1"));
  EXPECT_EQ(apps().find(person(0), a->id)->status, Status::in_progress);
  EXPECT_EQ(apps().events(a->id).size(), 2u);  // created, one status (the repeat is the same)
  // another client knows nothing of it
  EXPECT_EQ(apps().post_status("client-b", a->id, Status::decided, "", "").error().code,
            core::ErrorCode::not_found);
  ASSERT_TRUE(apps().post_message("client-a", a->id, "Rückfrage", "Bitte rufen Sie uns an.", "m1"));
  ASSERT_TRUE(apps().post_message("client-a", a->id, "Rückfrage", "Bitte rufen Sie uns an.", "m1"));
  EXPECT_EQ(app_->get<mailbox::Mailbox>().inbox(accounts_[0]).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApplicationsTest, ::testing::ValuesIn(test::backends()));

// With clamd unreachable, every upload is refused and nothing is stored.
class ScannerDown : public ApplicationsTest {
 protected:
  void SetUp() override {
    scanner_down_ = true;
    ApplicationsTest::SetUp();
  }
};

TEST_P(ScannerDown, UploadsAreRefusedAndNothingIsStored) {
  auto a = started();
  auto r = apps().add_document(person(), a.id, 0, "nachweis.pdf", kPdf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::unavailable);
  EXPECT_NE(r.error().message.find("später erneut"), std::string::npos);
  EXPECT_EQ(stored_documents(), 0u);
  EXPECT_EQ(apps().find(person(), a.id)->documents.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ScannerDown, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::applications
