// The delivery service with its real adapters (our mailbox, the mailbox simulator over
// HTTP) on an injected clock: jobs run on this thread when the test says so.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/mail.hpp>
#include <mvsp/core/pki.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/delivery/simulator.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/templates.hpp>
#include <set>
#include <thread>

#include "app.hpp"
#include "bridges.hpp"
#include "support.hpp"

namespace mvsp::delivery {
namespace {

using namespace std::chrono_literals;
using identity::TrustLevel;

constexpr const char* kUuid = "5b0c6f4e-2f1a-4f4b-9d61-1c2b3a4d5e6f";

// Records mails instead of sending them (a test double of the SMTP port).
class RecordingMailer final : public core::Mailer {
 public:
  core::Status send(const core::MailMessage& m) override {
    std::lock_guard lock(mutex);
    attempts.push_back(m);
    if (busy_once.erase(m.to) > 0) return core::fail(core::Error::unavailable("mail server busy"));
    sent.push_back(m);
    return {};
  }
  std::mutex mutex;
  std::vector<core::MailMessage> sent;      // accepted by the "server"
  std::vector<core::MailMessage> attempts;  // every try
  std::set<std::string> busy_once;          // refused once (temporarily), then accepted
};

const core::pki::KeyPair& author_key() {
  static const auto kPair = core::pki::generate_key_pair("Landeshauptstadt Schwerin Fachverfahren");
  return kPair;
}

std::string pdf(const std::string& text) {
  return "%PDF-1.7\n% " + text + "\n%%EOF\n";
}

class DeliveryFlow : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    core::crypto::init();
    database_->migrate(clock_);
    texts_.add(identity::embedded_resources());
    texts_.add(mailbox::embedded_resources());
    texts_.add(delivery::embedded_resources());
    jobs_ = std::make_unique<core::JobQueue>(db(), clock_, ids_);
    audit_ = std::make_unique<core::AuditLog>(clock_);
    key_ = core::crypto::random_bytes(32);
    blobs_ = std::make_unique<core::BlobStore>(dir_.path() / "blobs", key_);
    identity_ = std::make_unique<identity::Identity>(
        db(), clock_, ids_, *jobs_, *audit_, texts_,
        identity::IdentityOptions{.public_url = "http://127.0.0.1", .key = key_});
    owners_ = std::make_unique<app::MailboxOwners>(identity_->organisations);
    senders_ = std::make_unique<app::TenantSenders>(identity_->staff);
    mailbox_ = std::make_unique<mailbox::Mailbox>(
        db(), clock_, ids_, *jobs_, *audit_, *blobs_, *owners_, texts_,
        mailbox::MailboxOptions{.public_url = "http://127.0.0.1"});
    delivery_ = std::make_unique<Delivery>(
        db(), clock_, ids_, *jobs_, *audit_, *senders_,
        DeliveryOptions{
            .public_url = "http://127.0.0.1",
            .master_key = key_,
            .data_dir = dir_.path(),
            .limits = {.rate_per_second = 1000, .burst = 1000, .daily_quota = 100000},
            .texts = &texts_,
            .fetch = [this](const std::string& method, const std::string& url,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& body) -> core::Result<web::HttpAnswer> {
              std::lock_guard lock(callbacks_mutex_);
              callbacks_.push_back({method, url, headers, body});
              return web::HttpAnswer{.status = 204, .body = {}};
            }});
    simulator_.start();
    delivery_->add_adapter(make_mvsp_adapter(*mailbox_, Delivery::kMailboxEventJob));
    delivery_->add_adapter(make_zbp_adapter({.type = "bundid",
                                             .endpoint = simulator_.base_url(),
                                             .author_key_pem = author_key().private_key_pem,
                                             .author_certificate_pem = author_key().certificate_pem,
                                             .service = "Serviceportal MV",
                                             .clock = &clock_,
                                             .fetch = app::system_ports().http(5s)}));
    runner_ = std::make_unique<core::JobRunner>(*jobs_, db(),
                                                core::WorkerOptions{.threads = 0, .name = "t"});
    mailbox_->register_jobs(*runner_);
    delivery_->register_jobs(*runner_);
    core::register_mail_job(*runner_, mailer_);
    auto tenant = identity_->staff.create_tenant("Landeshauptstadt Schwerin", "test");
    auto other = identity_->staff.create_tenant("Hansestadt Wismar", "test");
    ASSERT_TRUE(tenant && other);
    client_ = {"fachverfahren-schwerin", tenant->id};
    stranger_ = {"fachverfahren-wismar", other->id};
    auto citizen = identity_->accounts.create_account({.email = "erika@example.org",
                                                       .password = "Sehr-geheimes-Passwort-1",
                                                       .given_name = "Erika",
                                                       .family_name = "Mustermann",
                                                       .verified = true},
                                                      "test");
    ASSERT_TRUE(citizen);
    citizen_ = citizen->id;
    auto admin = identity_->accounts.create_account({.email = "it@schwerin.de",
                                                     .password = "Sehr-geheimes-Passwort-2",
                                                     .given_name = "Ina",
                                                     .family_name = "Technik",
                                                     .verified = true,
                                                     .role = "authority_admin",
                                                     .tenant_id = tenant->id},
                                                    "test");
    ASSERT_TRUE(admin);
  }

  void TearDown() override { simulator_.stop(); }

  NewNotice notice(const std::string& recipient,
                   const std::string& subject = "Hundesteuerbescheid") {
    return {.recipient = recipient,
            .subject = subject,
            .body = "Sehr geehrte Frau Mustermann,\nanbei Ihr Bescheid.",
            .required_level = "substantial",
            .reference = "StA-2026-0815",
            .documents = {{"bescheid.pdf", "application/pdf", pdf(subject)}}};
  }

  Notice accept(const NewNotice& n, const std::string& key) {
    auto a = delivery_->accept(client_, n, key);
    EXPECT_TRUE(a) << (a ? "" : a.error().message);
    return a->notice;
  }

  Notice status(const std::string& id) { return *delivery_->find(client_, id); }

  std::vector<std::string> steps(const std::string& id) {
    std::vector<std::string> out;
    auto records = delivery_->events(client_, id);
    for (const auto& r : records.value()) out.push_back(r.step);
    return out;
  }

  // Runs due jobs while moving the clock in steps, for `span`.
  void run_for(std::chrono::milliseconds span, std::chrono::milliseconds step = 10min) {
    for (std::chrono::milliseconds t{0}; t < span; t += step) {
      runner_->run_due();
      clock_.advance(step);
    }
    runner_->run_due();
  }

  struct Callback {
    std::string method;
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  std::mutex callbacks_mutex_;
  std::vector<Callback> callbacks_;  // what the delivery service called back, in order
  test::TempDir dir_;
  test::ManualClock clock_;
  test::SequenceIds ids_;
  web::Catalog texts_;
  std::string key_;
  RecordingMailer mailer_;
  std::unique_ptr<core::JobQueue> jobs_;
  std::unique_ptr<core::AuditLog> audit_;
  std::unique_ptr<core::BlobStore> blobs_;
  std::unique_ptr<identity::Identity> identity_;
  std::unique_ptr<app::MailboxOwners> owners_;
  std::unique_ptr<app::TenantSenders> senders_;
  std::unique_ptr<mailbox::Mailbox> mailbox_;
  std::unique_ptr<Delivery> delivery_;
  std::unique_ptr<core::JobRunner> runner_;
  MailboxSimulator simulator_{{.type = "bundid"},
                              {.clock = clock_, .ids = ids_, .http = app::system_ports().http}};
  Client client_;
  Client stranger_;
  std::string citizen_;
};

TEST_P(DeliveryFlow, ANoticeReachesOurMailboxIsRetrievedAtItsLevelAndTheEvidenceVerifies) {
  auto n = accept(notice("mvsp:" + citizen_), "bescheid-1");
  EXPECT_EQ(n.status, kAccepted);
  runner_->run_due();
  auto stored = status(n.id);
  ASSERT_EQ(stored.status, kStored) << stored.reason;
  ASSERT_TRUE(stored.stored_at);
  // The deemed-announcement day: four days after the day of provision (Berlin).
  EXPECT_EQ(stored.deemed_announced_on,
            core::format_day(core::berlin_day(*stored.stored_at) + std::chrono::days(4)));

  // The e-mail says only that something arrived.
  {
    std::lock_guard lock(mailer_.mutex);
    ASSERT_EQ(mailer_.sent.size(), 1u);
    EXPECT_EQ(mailer_.sent[0].to, "erika@example.org");
    EXPECT_EQ(mailer_.sent[0].body.find("Hundesteuer"), std::string::npos);
    EXPECT_NE(mailer_.sent[0].body.find("/postfach"), std::string::npos);
    EXPECT_FALSE(mailer_.sent[0].message_id.empty()) << "sent by a mail job of its own";
  }
  auto inbox = mailbox_->inbox(citizen_);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_TRUE(inbox[0].notified_at);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'core.mail' AND "
                           "idempotency_key = ?",
                           "mailbox.notify:" + inbox[0].id + ":erika@example.org")
                ->integer(0),
            1)
      << "one mail job per address, keyed by message and address";
  EXPECT_EQ(inbox[0].sender, "Landeshauptstadt Schwerin");

  // A password login (low) may not open it; after the step-up it opens.
  auto refused = mailbox_->retrieve(citizen_, inbox[0].id, TrustLevel::low);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::forbidden);
  EXPECT_FALSE(mailbox_->retrieve("someone-else", inbox[0].id, TrustLevel::high));
  clock_.advance(2h);
  auto opened = mailbox_->retrieve(citizen_, inbox[0].id, TrustLevel::substantial);
  ASSERT_TRUE(opened);
  ASSERT_EQ(opened->attachments.size(), 1u);
  std::ostringstream doc;
  ASSERT_TRUE(mailbox_->read_attachment(citizen_, inbox[0].id, 0, doc));
  EXPECT_EQ(doc.str(), pdf("Hundesteuerbescheid"));
  runner_->run_due();
  auto retrieved = status(n.id);
  EXPECT_EQ(retrieved.status, kRetrieved);
  EXPECT_EQ(*retrieved.retrieved_at, *opened->retrieved_at);
  EXPECT_EQ(steps(n.id), (std::vector<std::string>{"accepted", "attempt", "receipt", "retrieval"}));

  auto evidence = delivery_->evidence(client_, n.id);
  ASSERT_TRUE(evidence);
  auto check = Delivery::verify_evidence(*evidence, delivery_->evidence_public_key());
  EXPECT_TRUE(check.ok) << check.problem;
  EXPECT_EQ(check.records, 4);
  // The document's hash is in the proof.
  EXPECT_NE(evidence->find(core::crypto::sha512_hex(pdf("Hundesteuerbescheid"))),
            std::string::npos);
  // A changed record, a dropped record or another key is noticed.
  auto altered = *evidence;
  auto pos = altered.find("StA-2026-0815");
  ASSERT_NE(pos, std::string::npos);
  pos = altered.find("StA-2026-0815", pos + 1);  // the one inside the accepted record
  ASSERT_NE(pos, std::string::npos);
  altered.replace(pos, 4, "XXX-");
  EXPECT_FALSE(Delivery::verify_evidence(altered, delivery_->evidence_public_key()).ok);
  EXPECT_FALSE(Delivery::verify_evidence(
                   *evidence, core::crypto::ed25519_public_key(core::crypto::random_bytes(32)))
                   .ok);
}

// A client with a callback address hears of every proof record, signed with its secret; a
// client without one gets no callback jobs at all (they would have nothing to do).
TEST_P(DeliveryFlow, CallbacksGoOnlyToClientsWithACallbackAddress) {
  auto count_jobs = [&] {
    return db().query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'delivery.callback'")->integer(0);
  };
  auto silent = accept(notice("mvsp:" + citizen_), "ohne-rueckruf");
  runner_->run_due();
  EXPECT_EQ(status(silent.id).status, kStored);
  EXPECT_EQ(count_jobs(), 0);
  EXPECT_TRUE(callbacks_.empty());

  auto secret = delivery_->configure_client(
      client_.client_id, {.callback_url = "https://fachverfahren.schwerin.de/rueckruf",
                          .rate_per_second = {},
                          .burst = {},
                          .daily_quota = {}});
  ASSERT_TRUE(secret) << secret.error().message;
  auto told = accept(notice("mvsp:" + citizen_), "mit-rueckruf");
  runner_->run_due();
  EXPECT_EQ(status(told.id).status, kStored);
  auto records = steps(told.id).size();
  EXPECT_EQ(count_jobs(), static_cast<std::int64_t>(records));
  ASSERT_EQ(callbacks_.size(), records);
  for (const auto& c : callbacks_) {
    EXPECT_EQ(c.method, "POST");
    EXPECT_EQ(c.url, "https://fachverfahren.schwerin.de/rueckruf");
    EXPECT_NE(c.body.find(told.id), std::string::npos);
    std::map<std::string, std::string> h(c.headers.begin(), c.headers.end());
    auto expected = core::crypto::to_hex(
        core::crypto::hmac_sha256(*secret, h["X-Mvsp-Timestamp"] + "." + c.body));
    EXPECT_EQ(h["X-Mvsp-Signature"], "v1=" + expected);
  }
}

TEST_P(DeliveryFlow, TheSameKeyGivesTheSameNoticeAndAnotherRequestUnderItIsAConflict) {
  auto first = delivery_->accept(client_, notice("mvsp:" + citizen_), "k-1");
  auto again = delivery_->accept(client_, notice("mvsp:" + citizen_), "k-1");
  ASSERT_TRUE(first && again);
  EXPECT_EQ(first->notice.id, again->notice.id);
  EXPECT_TRUE(again->replayed);
  auto other = delivery_->accept(client_, notice("mvsp:" + citizen_, "Anderer Bescheid"), "k-1");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, core::ErrorCode::conflict);
  // Keys belong to their client: another tenant's client may use the same key.
  auto theirs = delivery_->accept(stranger_, notice("mvsp:" + citizen_), "k-1");
  ASSERT_TRUE(theirs);
  EXPECT_NE(theirs->notice.id, first->notice.id);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM delivery_notices")->integer(0), 2);
}

// The same key sent from many connections at once (a client's retry racing its first
// try): one notice, one delivery job; the others get it as a replay, a different request
// under the key a conflict.
TEST_P(DeliveryFlow, OneKeySentInParallelMakesOneNotice) {
  constexpr int kThreads = 8;
  std::vector<std::optional<core::Result<Accepted>>> results(kThreads);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      results[i] = delivery_->accept(
          client_, notice("mvsp:" + citizen_, i == kThreads - 1 ? "Anders" : "Bescheid"), "k-p");
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM delivery_notices")->integer(0), 1);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'delivery.deliver'")->integer(0),
            1);
  auto subject = db().query_one("SELECT subject FROM delivery_notices")->text(0);
  int fresh = 0;
  for (int i = 0; i < kThreads; ++i) {
    const auto& r = *results[i];
    if ((i == kThreads - 1) == (subject == "Anders")) {
      ASSERT_TRUE(r) << r.error().message;
      fresh += r->replayed ? 0 : 1;
    } else {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, core::ErrorCode::conflict);
    }
  }
  EXPECT_EQ(fresh, 1);
}

TEST_P(DeliveryFlow, BadNoticesAreRefusedFieldByFieldAndLeaveNothing) {
  NewNotice bad{.recipient = "fax:0385-123",
                .subject = "",
                .body = "",
                .required_level = "sehr hoch",
                .reference = std::string(300, 'x'),
                .documents = {{"a/b.pdf", "application/pdf", "GIF89a"}}};
  auto r = delivery_->accept(client_, bad, "");
  ASSERT_FALSE(r);
  std::set<std::string> fields;
  for (const auto& f : r.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields,
            (std::set<std::string>{"Idempotency-Key", "metadata.recipient", "metadata.subject",
                                   "metadata.requiredTrustLevel", "metadata.reference",
                                   "document[0].filename", "document[0]"}));
  auto no_docs = notice("bundid:not-a-uuid");
  no_docs.documents.clear();
  auto r2 = delivery_->accept(client_, no_docs, "k");
  ASSERT_FALSE(r2);
  fields.clear();
  for (const auto& f : r2.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields, (std::set<std::string>{"metadata.recipient", "document"}));
  // Subject and reference go into mail headers (the authority's alert): one line each.
  auto injected = notice("mvsp:" + citizen_, "Bescheid\r\nBcc: mallory@evil.example");
  injected.reference = "AZ-1\r\nReply-To: mallory@evil.example";
  auto r3 = delivery_->accept(client_, injected, "k-lines");
  ASSERT_FALSE(r3);
  fields.clear();
  for (const auto& f : r3.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields, (std::set<std::string>{"metadata.subject", "metadata.reference"}));
  EXPECT_FALSE(delivery_->accept({"x", ""}, notice("mvsp:" + citizen_), "k"));
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM delivery_notices")->integer(0), 0);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM delivery_proof")->integer(0), 0);
}

TEST_P(DeliveryFlow, AfterADayUnreachableEveryNoticeIsDeliveredExactlyOnce) {
  simulator_.set_mode(MailboxSimulator::Mode::unreachable);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    ids.push_back(accept(notice(std::string("bundid:") + kUuid, "Bescheid " + std::to_string(i)),
                         "u-" + std::to_string(i))
                      .id);
  }
  run_for(24h);
  for (const auto& id : ids) {
    auto n = status(id);
    EXPECT_EQ(n.status, kFailedRetrying);
    EXPECT_EQ(n.reason, "unavailable");
    EXPECT_GE(n.attempts, 8);  // 1, 2, 4 … minutes, then every few hours
    EXPECT_TRUE(n.next_attempt_at);
  }
  EXPECT_EQ(simulator_.stored(), 0u);
  auto before = simulator_.requests();

  simulator_.set_mode(MailboxSimulator::Mode::normal);
  run_for(7h);
  EXPECT_EQ(simulator_.stored(), ids.size());
  EXPECT_EQ(simulator_.requests() - before, ids.size()) << "one successful request per notice";
  for (const auto& id : ids) {
    auto n = status(id);
    EXPECT_EQ(n.status, kStored);
    EXPECT_EQ(simulator_.copies_of(id), 1u);
    auto s = steps(id);
    EXPECT_EQ(std::count(s.begin(), s.end(), "receipt"), 1);
  }
  run_for(48h, 1h);
  EXPECT_EQ(simulator_.requests() - before, ids.size()) << "nothing is sent again";
}

TEST_P(DeliveryFlow, ADeletedAccountEndsUndeliverableAtOnceAndTheAuthorityIsTold) {
  simulator_.set_mode(MailboxSimulator::Mode::account_deleted);
  auto n = accept(notice(std::string("bundid:") + kUuid), "d-1");
  auto gone = accept(notice("mvsp:0000000000000000000000zzzz"), "d-2");
  runner_->run_due();
  for (const auto& id : {n.id, gone.id}) {
    auto s = status(id);
    EXPECT_EQ(s.status, kUndeliverable);
    EXPECT_EQ(s.reason, "account_deleted");
    EXPECT_TRUE(s.postal_fallback_required);
    EXPECT_EQ(s.attempts, 1);
    EXPECT_EQ(steps(id), (std::vector<std::string>{"accepted", "attempt", "final"}));
  }
  clock_.advance(100h);
  runner_->run_due();
  EXPECT_EQ(simulator_.requests(), 1u) << "no retries after a permanent failure";
  std::lock_guard lock(mailer_.mutex);
  ASSERT_EQ(mailer_.sent.size(), 2u);
  EXPECT_EQ(mailer_.sent[0].to, "it@schwerin.de");
  EXPECT_NE(mailer_.sent[0].subject.find("StA-2026-0815"), std::string::npos);
  EXPECT_NE(mailer_.sent[0].body.find("Post"), std::string::npos);
}

TEST_P(DeliveryFlow, TheAlertMailsEachContactOnceEvenWhenOneIsRetried) {
  // Two contacts; the mail server turns one away once. A retry mails only that one, with
  // the same Message-ID, and nobody gets the alert twice.
  ASSERT_TRUE(identity_->accounts.create_account({.email = "leitung@schwerin.de",
                                                  .password = "Sehr-geheimes-Passwort-3",
                                                  .given_name = "Lea",
                                                  .family_name = "Leitung",
                                                  .verified = true,
                                                  .role = "authority_admin",
                                                  .tenant_id = client_.tenant_id},
                                                 "test"));
  {
    std::lock_guard lock(mailer_.mutex);
    mailer_.busy_once.insert("it@schwerin.de");
  }
  simulator_.set_mode(MailboxSimulator::Mode::account_deleted);
  accept(notice(std::string("bundid:") + kUuid), "alert-1");
  runner_->run_due();
  clock_.advance(3h);
  runner_->run_due();
  std::lock_guard lock(mailer_.mutex);
  std::map<std::string, int> sent, tried;
  std::map<std::string, std::set<std::string>> ids;
  for (const auto& m : mailer_.sent) ++sent[m.to];
  for (const auto& m : mailer_.attempts) {
    ++tried[m.to];
    ids[m.to].insert(m.message_id);
  }
  EXPECT_EQ(sent, (std::map<std::string, int>{{"it@schwerin.de", 1}, {"leitung@schwerin.de", 1}}));
  EXPECT_EQ(tried["it@schwerin.de"], 2);
  EXPECT_EQ(tried["leitung@schwerin.de"], 1) << "the retry is not sent to her again";
  EXPECT_EQ(ids["it@schwerin.de"].size(), 1u) << "a retry carries the same Message-ID";
  EXPECT_NE(*ids["it@schwerin.de"].begin(), *ids["leitung@schwerin.de"].begin());
  EXPECT_FALSE(ids["it@schwerin.de"].begin()->empty());
}

TEST_P(DeliveryFlow, RetriesReachPast72HoursThenTheNoticeIsUndeliverable) {
  simulator_.set_mode(MailboxSimulator::Mode::unreachable);
  auto n = accept(notice(std::string("bundid:") + kUuid), "w-1");
  run_for(72h, 30min);
  EXPECT_EQ(status(n.id).status, kFailedRetrying);
  run_for(30h, 30min);
  auto s = status(n.id);
  EXPECT_EQ(s.status, kUndeliverable);
  EXPECT_EQ(s.reason, "retries_exhausted");
  EXPECT_TRUE(s.postal_fallback_required);
  auto records = *delivery_->events(client_, n.id);
  core::TimePoint last_attempt;
  for (const auto& r : records) {
    if (r.step == "attempt") last_attempt = r.at;
  }
  EXPECT_GT(last_attempt - s.accepted_at, 72h);
  // The published schedule: 1 minute, doubling, at most 6 hours, jitter down to half.
  EXPECT_EQ(delivery_->retry_delay(1).first, 30s);
  EXPECT_GT(delivery_->retry_delay(1).second, 59s);
  EXPECT_LE(delivery_->retry_delay(1).second, 60s);
  EXPECT_GT(delivery_->retry_delay(20).second, 5h + 59min);
  EXPECT_LE(delivery_->retry_delay(20).second, 6h);
}

TEST_P(DeliveryFlow, ANoticeNotRetrievedInTimeAsksForThePost) {
  auto n = accept(notice("mvsp:" + citizen_), "p-1");
  runner_->run_due();
  clock_.advance(std::chrono::days(9));
  EXPECT_EQ(mailbox_->report_overdue(), 0);
  clock_.advance(std::chrono::days(1) + 1min);
  EXPECT_EQ(mailbox_->report_overdue(), 1);
  EXPECT_EQ(mailbox_->report_overdue(), 0);
  runner_->run_due();
  auto s = status(n.id);
  EXPECT_EQ(s.status, kUndeliverable);
  EXPECT_EQ(s.reason, "not_retrieved");
  EXPECT_TRUE(s.postal_fallback_required);
}

TEST_P(DeliveryFlow, TheSchemaRefusesDocumentsAndProofOfMissingNotices) {
  EXPECT_THROW(db().execute("INSERT INTO delivery_documents (notice_id, position, filename, "
                            "media_type, size, sha256, sha512, blob_id) VALUES ('missing', 0, "
                            "'a.pdf', 'application/pdf', 1, 'x', 'y', 'z')"),
               core::Failure);
  EXPECT_THROW(db().execute("INSERT INTO delivery_proof (notice_id, seq, at, step, status, "
                            "detail, prev_hash, hash) VALUES ('missing', 1, 0, 'accepted', "
                            "'accepted', '{}', '', 'h')"),
               core::Failure);
}

// Integrity (issue 13): a notice stored in our mailbox and not opened when its account is
// deleted goes with the mailbox, and the authority learns at once that it must go by post.
TEST_P(DeliveryFlow, ANoticeInADeletedAccountsMailboxAsksForThePostAtOnce) {
  for (auto event : {identity::kAccountDeleted, identity::kOrganisationDeleted}) {
    jobs_->subscribe(std::string(event), std::string(mailbox::Mailbox::kEraseOwnerJob));
  }
  auto unopened = accept(notice("mvsp:" + citizen_), "e-1");
  runner_->run_due();
  ASSERT_EQ(status(unopened.id).status, kStored);
  ASSERT_TRUE(identity_->accounts.delete_account_reauthenticated(citizen_));
  runner_->run_due();
  EXPECT_TRUE(mailbox_->inbox(citizen_).empty());
  auto s = status(unopened.id);
  EXPECT_EQ(s.status, kUndeliverable);
  EXPECT_EQ(s.reason, "account_deleted");
  EXPECT_TRUE(s.postal_fallback_required);
  EXPECT_EQ(steps(unopened.id),
            (std::vector<std::string>{"accepted", "attempt", "receipt", "final"}));
}

// The review: the mailbox stores a notice before this service records it as stored; an
// owner_deleted event in between was dropped, and the notice stayed "stored" for good.
TEST_P(DeliveryFlow, AnOwnerDeletedEventBeforeTheStoredRecordWaitsForIt) {
  auto n = accept(notice("mvsp:" + citizen_), "g-1");
  runner_->run_due();
  db().execute("UPDATE delivery_notices SET status = 'delivering' WHERE id = ?", n.id);
  db().transaction([&](core::db::Tx& tx) {
    jobs_->enqueue(tx,
                   {.kind = Delivery::kMailboxEventJob,
                    .payload = R"({"sourceRef":"delivery:)" + n.id +
                               R"(","event":"owner_deleted","at":"2026-12-02T10:00:00.000Z"})"});
  });
  runner_->run_due();
  EXPECT_EQ(status(n.id).status, kDelivering) << "not yet";
  db().execute("UPDATE delivery_notices SET status = 'stored' WHERE id = ?", n.id);
  run_for(1h, 5min);
  auto s = status(n.id);
  EXPECT_EQ(s.status, kUndeliverable);
  EXPECT_EQ(s.reason, "account_deleted");
}

// The daily quota (issue 12) is one counter row per client and day, counted up in the
// accepting transaction: of many requests racing for the last places, exactly the quota
// gets through, and the next day starts afresh.
TEST_P(DeliveryFlow, TheDailyQuotaHoldsExactlyUnderParallelRequests) {
  ASSERT_TRUE(delivery_->configure_client(
      client_.client_id,
      {.callback_url = "", .rate_per_second = {}, .burst = {}, .daily_quota = 5}));
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&, i] {
      auto a = delivery_->accept(client_, notice("mvsp:" + citizen_), fmt::format("q-{}", i));
      if (a) {
        ++accepted;
      } else if (a.error().code == core::ErrorCode::rate_limited &&
                 a.error().message.find("daily quota") != std::string::npos) {
        ++refused;
      } else {
        ADD_FAILURE() << a.error().message;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(refused, 7);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM delivery_notices")->integer(0), 5)
      << "nothing half-written for the refused ones";
  clock_.advance(24h);
  auto next_day = delivery_->accept(client_, notice("mvsp:" + citizen_), "q-next-day");
  EXPECT_TRUE(next_day) << next_day.error().message;
  // Yesterday's counter is kept (a request may still be under way), older ones go.
  auto days = [&] {
    return db().query_one("SELECT COUNT(*) FROM delivery_client_days")->integer(0);
  };
  EXPECT_EQ(delivery_->forget_past_quota_days(), 0);
  EXPECT_EQ(days(), 2);
  clock_.advance(24h);
  EXPECT_EQ(delivery_->forget_past_quota_days(), 1);
  EXPECT_EQ(days(), 1);
}

TEST_P(DeliveryFlow, AnotherTenantsClientSeesNothing) {
  auto n = accept(notice("mvsp:" + citizen_), "t-1");
  for (auto r : {delivery_->find(stranger_, n.id).error().code,
                 delivery_->events(stranger_, n.id).error().code,
                 delivery_->evidence(stranger_, n.id).error().code}) {
    EXPECT_EQ(r, core::ErrorCode::not_found);
  }
  // The same tenant's other client sees it (notices belong to the authority).
  EXPECT_TRUE(delivery_->find({"zweites-verfahren", client_.tenant_id}, n.id));
}

TEST_P(DeliveryFlow, DocumentsAreEncryptedPerTenantAndDeletedAfterTheReceiptWasFetched) {
  auto n = accept(notice("mvsp:" + citizen_), "x-1");
  // The tenant's store holds no plain text.
  bool found_plain = false;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() / "delivery")) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path());
    std::string content((std::istreambuf_iterator<char>(in)), {});
    found_plain |= content.find("Hundesteuerbescheid") != std::string::npos;
  }
  EXPECT_FALSE(found_plain);
  auto keys = db().query_one("SELECT COUNT(*) FROM delivery_tenant_keys")->integer(0);
  EXPECT_EQ(keys, 1);
  runner_->run_due();
  ASSERT_EQ(status(n.id).status, kStored);  // this read fetches the receipt
  clock_.advance(std::chrono::days(29));
  EXPECT_EQ(delivery_->delete_expired_documents(), 0);
  clock_.advance(std::chrono::days(2));
  EXPECT_EQ(delivery_->delete_expired_documents(), 1);
  auto s = status(n.id);
  EXPECT_TRUE(s.documents_deleted_at);
  ASSERT_EQ(s.documents.size(), 1u);  // the metadata stays
  EXPECT_EQ(s.documents[0].sha256, core::crypto::sha256_hex(pdf("Hundesteuerbescheid")));
  std::size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() / "delivery")) {
    files += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 0u);
  auto evidence = delivery_->evidence(client_, n.id);
  EXPECT_TRUE(Delivery::verify_evidence(*evidence, delivery_->evidence_public_key()).ok);
}

// A request refused after its document was stored (a key or the day's quota taken by a
// parallel request a moment before, or a database failure) leaves a document that no
// notice names: here, a copy under another id. The sweep removes it once it is an hour
// old; the document of the notice stays and is delivered.
TEST_P(DeliveryFlow, DocumentsNoNoticeNamesAreRemovedAfterAnHour) {
  auto n = accept(notice("mvsp:" + citizen_), "k-1");
  auto files = [&] { return test::stored_files(dir_.path() / "delivery"); };
  ASSERT_EQ(files().size(), 1u);
  auto named = files()[0];
  auto unnamed = named.parent_path().parent_path().parent_path() / "ab" / "cd" /
                 ("abcd" + std::string(60, '0'));
  std::filesystem::create_directories(unnamed.parent_path());
  std::filesystem::copy_file(named, unnamed);
  for (const auto& f : files()) {
    std::filesystem::last_write_time(
        f, std::filesystem::file_time_type::clock::from_sys(clock_.now()));
  }
  EXPECT_EQ(delivery_->remove_unnamed_documents(), 0) << "not an hour old yet";
  clock_.advance(std::chrono::minutes(61));
  EXPECT_EQ(delivery_->remove_unnamed_documents(), 1);
  EXPECT_EQ(files(), std::vector<std::filesystem::path>{named});
  runner_->run_due();
  EXPECT_EQ(status(n.id).status, kStored);
}

// Our own mailbox failing for a while: first its document store (the disk), then the
// database in the middle of storing. Each is a failed attempt that is retried, with
// nothing of the message left half-written, and the notice arrives once.
TEST_P(DeliveryFlow, AMailboxFailureMidWayIsAFailedAttemptThatIsRetried) {
  auto n = accept(notice("mvsp:" + citizen_), "f-1");
  auto blobs = dir_.path() / "blobs";
  std::filesystem::rename(blobs, dir_.path() / "blobs-away");
  std::ofstream(blobs) << "not a directory";
  runner_->run_due();
  auto s = status(n.id);
  EXPECT_EQ(s.status, kFailedRetrying);
  EXPECT_EQ(s.reason, "error");
  std::filesystem::remove(blobs);
  std::filesystem::rename(dir_.path() / "blobs-away", blobs);

  db().execute("ALTER TABLE mailbox_attachments RENAME TO mailbox_attachments_away");
  run_for(5min, 1min);
  s = status(n.id);
  EXPECT_EQ(s.status, kFailedRetrying);
  EXPECT_EQ(s.reason, "error");
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM mailbox_messages")->integer(0), 0)
      << "the message went with its transaction";
  db().execute("ALTER TABLE mailbox_attachments_away RENAME TO mailbox_attachments");

  run_for(2h);
  s = status(n.id);
  EXPECT_EQ(s.status, kStored);
  EXPECT_GE(s.attempts, 3);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM mailbox_messages")->integer(0), 1);
  auto st = steps(n.id);
  EXPECT_EQ(std::count(st.begin(), st.end(), "attempt_failed"), s.attempts - 1);
  EXPECT_EQ(std::count(st.begin(), st.end(), "receipt"), 1);
}

INSTANTIATE_TEST_SUITE_P(Databases, DeliveryFlow, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::delivery
