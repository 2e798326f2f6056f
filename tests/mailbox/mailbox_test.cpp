// The mailbox store's contract, on both databases: storing (checked, idempotent on the
// source, also when stored from many threads at once), the owner's view, retrieval at the
// level a message needs, attachments, and the retrieval period of notices.
#include <gtest/gtest.h>

#include <atomic>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/mail.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/templates.hpp>
#include <sstream>
#include <thread>

#include "bridges.hpp"
#include "support.hpp"

namespace mvsp::mailbox {
namespace {

using identity::TrustLevel;
using namespace std::chrono_literals;

class MailboxStore : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    core::crypto::init();
    database_->migrate(clock_);
    texts_.add(identity::embedded_resources());
    texts_.add(mailbox::embedded_resources());
    jobs_ = std::make_unique<core::JobQueue>(db(), clock_, ids_);
    audit_ = std::make_unique<core::AuditLog>(clock_);
    auto key = core::crypto::random_bytes(32);
    blobs_ = std::make_unique<core::BlobStore>(dir_.path() / "blobs", key);
    identity_ = std::make_unique<identity::Identity>(
        db(), clock_, ids_, *jobs_, *audit_, texts_,
        identity::IdentityOptions{.public_url = "http://127.0.0.1", .key = key});
    owners_ = std::make_unique<app::MailboxOwners>(identity_->organisations);
    mailbox_ = std::make_unique<Mailbox>(db(), clock_, ids_, *jobs_, *audit_, *blobs_, *owners_,
                                         texts_, MailboxOptions{.public_url = "http://127.0.0.1"});
    erika_ = account("erika@example.org");
    max_ = account("max@example.org");
  }

  std::string account(const std::string& email) {
    auto a = identity_->accounts.create_account(
        {.email = email, .password = "Sehr-geheimes-Passwort-1", .verified = true}, "test");
    EXPECT_TRUE(a);
    return a ? a->id : std::string();
  }

  StoreRequest notice(const std::string& source, const std::string& owner) {
    return {.owner_id = owner,
            .source_ref = source,
            .sender = "Landeshauptstadt Schwerin",
            .subject = "Hundesteuerbescheid 2027",
            .body = "Sehr geehrte Frau Mustermann, …",
            .reference = "HS-2027-0042",
            .required_level = TrustLevel::substantial,
            .attachments = {{.filename = "bescheid.pdf",
                             .media_type = "application/pdf",
                             .content = "%PDF-1.7\n%%EOF\n"}},
            .event_job_kind = "test.event"};
  }

  std::int64_t count(const std::string& table) {
    return db().query_one("SELECT COUNT(*) FROM " + table)->integer(0);
  }

  test::TempDir dir_;
  test::ManualClock clock_;
  test::SequenceIds ids_;
  web::Catalog texts_;
  std::unique_ptr<core::JobQueue> jobs_;
  std::unique_ptr<core::AuditLog> audit_;
  std::unique_ptr<core::BlobStore> blobs_;
  std::unique_ptr<identity::Identity> identity_;
  std::unique_ptr<app::MailboxOwners> owners_;
  std::unique_ptr<Mailbox> mailbox_;
  std::string erika_, max_;
};

TEST_P(MailboxStore, BadMessagesAreRefusedWithEveryFieldNamedAndNothingStored) {
  StoreRequest bad{.owner_id = erika_,
                   .subject = std::string(1025, 'x'),
                   .attachments = {{.filename = "../etc/passwd", .content = "x"},
                                   {.filename = "a\r\nb.pdf", .content = "y"}}};
  auto refused = mailbox_->store(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::invalid_input);
  std::vector<std::string> fields;
  for (const auto& f : refused.error().fields) fields.push_back(f.field);
  EXPECT_EQ(fields,
            (std::vector<std::string>{"sourceRef", "subject", "sender", "attachments[0].filename",
                                      "attachments[1].filename"}));
  auto nobody = mailbox_->store(notice("s-nobody", "k-no-such-owner"));
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, core::ErrorCode::not_found);
  EXPECT_EQ(count("mailbox_messages"), 0);
  EXPECT_EQ(count("mailbox_attachments"), 0);
  EXPECT_EQ(count("jobs"), 0);
}

// The notice of arrival is queued with the message, one mail job per address; a message
// an older version stored with a mailbox.notify job is still mailed through that job.
TEST_P(MailboxStore, TheNoticeOfArrivalIsQueuedWithTheMessage) {
  auto mail_jobs = [&](const std::string& message) {
    return db()
        .query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'core.mail' AND idempotency_key = ?",
                   "mailbox.notify:" + message + ":erika@example.org")
        ->integer(0);
  };
  auto stored = mailbox_->store(notice("s-now", erika_));
  ASSERT_TRUE(stored);
  EXPECT_EQ(mail_jobs(stored->message_id), 1);
  EXPECT_TRUE(mailbox_->inbox(erika_)[0].notified_at);

  auto old = mailbox_->store(notice("s-old", erika_));
  ASSERT_TRUE(old);
  db().execute("DELETE FROM jobs WHERE kind = 'core.mail' AND idempotency_key LIKE ?",
               "mailbox.notify:" + old->message_id + ":%");
  db().execute("UPDATE mailbox_messages SET notified_at = NULL WHERE id = ?", old->message_id);
  db().transaction([&](core::db::Tx& tx) {
    jobs_->enqueue(
        tx, {.kind = "mailbox.notify", .payload = R"({"messageId":")" + old->message_id + R"("})"});
  });
  core::JobRunner runner(*jobs_, db(), {.threads = 0, .name = "test"});
  mailbox_->register_jobs(runner);
  EXPECT_EQ(runner.run_due(), 1);
  EXPECT_EQ(mail_jobs(old->message_id), 1);
  EXPECT_EQ(mail_jobs(stored->message_id), 1) << "nobody is told twice";
}

// A document written for a store that then failed (here: a source used for another
// owner) is named by no message; the sweep removes it once it is an hour old, and keeps
// every document a message names, however old.
TEST_P(MailboxStore, DocumentsNoMessageNamesAreRemovedAfterAnHour) {
  ASSERT_TRUE(mailbox_->store(notice("s-1", erika_)));
  auto refused = notice("s-1", max_);
  refused.attachments[0].content = "%PDF-1.7\n% nie gespeichert\n%%EOF\n";
  ASSERT_FALSE(mailbox_->store(refused));
  auto files = [&] { return test::stored_files(dir_.path() / "blobs"); };
  // The refused store wrote nothing: the source was known before any document.
  ASSERT_EQ(files().size(), 1u);
  // A store that failed after writing its document leaves one that no row names.
  auto failed = notice("s-2", max_);
  failed.attachments[0].content = "%PDF-1.7\n% nie benannt\n%%EOF\n";
  auto prepared = mailbox_->prepare(failed);
  ASSERT_TRUE(prepared);
  ASSERT_EQ(files().size(), 2u);
  for (const auto& f : files()) {
    std::filesystem::last_write_time(
        f, std::filesystem::file_time_type::clock::from_sys(clock_.now() - 30min));
  }
  EXPECT_EQ(mailbox_->remove_unnamed_documents(), 0) << "not an hour old yet";
  clock_.advance(31min);
  EXPECT_EQ(mailbox_->remove_unnamed_documents(), 1);
  ASSERT_EQ(files().size(), 1u);
  auto inbox = mailbox_->inbox(erika_);
  ASSERT_EQ(inbox.size(), 1u);
  ASSERT_TRUE(mailbox_->retrieve(erika_, inbox[0].id, TrustLevel::substantial));
  std::ostringstream out;
  EXPECT_TRUE(mailbox_->read_attachment(erika_, inbox[0].id, 0, out));
  EXPECT_EQ(out.str(), "%PDF-1.7\n%%EOF\n");
}

// A data directory whose documents the database mostly does not know (another database,
// or an empty one, with the right data directory) is not swept: the sweep refuses and
// says why, and every file stays.
TEST_P(MailboxStore, TheSweepRefusesWhenTheDatabaseKnowsTooFewOfTheDocuments) {
  ASSERT_TRUE(mailbox_->store(notice("s-1", erika_)));
  for (int i = 0; i < 5; ++i) {
    auto failed = notice("s-" + std::to_string(i + 2), max_);
    failed.attachments[0].content = "%PDF-1.7\n% " + std::to_string(i) + "\n%%EOF\n";
    ASSERT_TRUE(mailbox_->prepare(failed));
  }
  auto files = test::stored_files(dir_.path() / "blobs");
  ASSERT_EQ(files.size(), 6u);
  for (const auto& f : files) {
    std::filesystem::last_write_time(
        f, std::filesystem::file_time_type::clock::from_sys(clock_.now() - 2h));
  }
  EXPECT_EQ(mailbox_->remove_unnamed_documents(), 0);
  EXPECT_EQ(test::stored_files(dir_.path() / "blobs").size(), 6u);
}

TEST_P(MailboxStore, StoringTheSameSourceAgainReturnsTheFirstReceiptForItsOwnerOnly) {
  auto first = mailbox_->store(notice("s-1", erika_));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->stored_before);
  EXPECT_EQ(first->deemed_announced_on, mailbox_->deemed_day(clock_.now()));
  clock_.advance(1h);
  auto again = mailbox_->store(notice("s-1", erika_));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->stored_before);
  EXPECT_EQ(again->message_id, first->message_id);
  EXPECT_EQ(again->provided_at, first->provided_at) << "the first provision counts";
  auto theirs = mailbox_->store(notice("s-1", max_));
  ASSERT_FALSE(theirs);
  EXPECT_EQ(theirs.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(count("mailbox_messages"), 1);
  EXPECT_EQ(count("jobs"), 1) << "one notification";
}

TEST_P(MailboxStore, ManyThreadsStoringOneSourceMakeOneMessage) {
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<core::Result<Receipt>> results(kThreads, core::fail(core::Error::not_found("-")));
  std::atomic<bool> go{false};
  for (int i = 0; i < kThreads; ++i) {
    // Half of them for another owner: they must never get Erika's receipt.
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      results[i] = mailbox_->store(notice("s-race", i % 2 ? max_ : erika_));
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(count("mailbox_messages"), 1);
  EXPECT_EQ(count("mailbox_attachments"), 1);
  EXPECT_EQ(count("jobs"), 1);
  auto owner = db().query_one("SELECT owner_id FROM mailbox_messages")->text(0);
  int fresh = 0;
  for (int i = 0; i < kThreads; ++i) {
    auto wanted = i % 2 ? max_ : erika_;
    if (wanted == owner) {
      ASSERT_TRUE(results[i]) << results[i].error().message;
      fresh += results[i]->stored_before ? 0 : 1;
    } else {
      ASSERT_FALSE(results[i]);
      EXPECT_EQ(results[i].error().code, core::ErrorCode::conflict);
    }
  }
  EXPECT_EQ(fresh, 1);
}

TEST_P(MailboxStore, OwnersSeeOnlyTheirMessagesNewestFirst) {
  ASSERT_TRUE(mailbox_->store(notice("s-a", erika_)));
  clock_.advance(1min);
  auto plain = notice("s-b", erika_);
  plain.notice = false;
  plain.subject = "Eine Nachricht";
  ASSERT_TRUE(mailbox_->store(plain));
  ASSERT_TRUE(mailbox_->store(notice("s-c", max_)));
  auto inbox = mailbox_->inbox(erika_);
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0].subject, "Eine Nachricht");
  EXPECT_FALSE(inbox[0].notice);
  EXPECT_TRUE(inbox[0].deemed_announced_on.empty()) << "no announcement fiction for messages";
  EXPECT_FALSE(inbox[0].retrieval_due_at);
  EXPECT_EQ(inbox[1].source_ref, "s-a");
  EXPECT_EQ(mailbox_->inbox(erika_, 1).size(), 1u);
  EXPECT_EQ(mailbox_->unread(erika_), 2);
  auto maxs = mailbox_->inbox(max_);
  ASSERT_EQ(maxs.size(), 1u);
  auto foreign = mailbox_->find(erika_, maxs[0].id);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, core::ErrorCode::not_found) << "not forbidden: not there";
  EXPECT_FALSE(mailbox_->retrieve(erika_, maxs[0].id, TrustLevel::high));
}

TEST_P(MailboxStore, RetrievalNeedsTheLevelIsRecordedOnceAndOpensTheAttachments) {
  auto stored = mailbox_->store(notice("s-r", erika_));
  ASSERT_TRUE(stored);
  std::ostringstream early;
  auto before = mailbox_->read_attachment(erika_, stored->message_id, 0, early);
  ASSERT_FALSE(before);
  EXPECT_EQ(before.error().code, core::ErrorCode::forbidden);
  EXPECT_TRUE(early.str().empty());
  auto low = mailbox_->retrieve(erika_, stored->message_id, TrustLevel::low);
  ASSERT_FALSE(low);
  EXPECT_EQ(low.error().code, core::ErrorCode::forbidden);
  EXPECT_FALSE(mailbox_->find(erika_, stored->message_id)->retrieved_at);
  clock_.advance(2h);
  auto opened = mailbox_->retrieve(erika_, stored->message_id, TrustLevel::substantial);
  ASSERT_TRUE(opened);
  ASSERT_TRUE(opened->retrieved_at);
  EXPECT_EQ(*opened->retrieved_at, clock_.now());
  clock_.advance(1h);
  auto again = mailbox_->retrieve(erika_, stored->message_id, TrustLevel::high);
  EXPECT_EQ(*again->retrieved_at, *opened->retrieved_at) << "the first retrieval counts";
  EXPECT_EQ(mailbox_->unread(erika_), 0);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'test.event'")->integer(0), 1)
      << "the sender is told once";
  std::ostringstream doc;
  ASSERT_TRUE(mailbox_->read_attachment(erika_, stored->message_id, 0, doc));
  EXPECT_EQ(doc.str(), "%PDF-1.7\n%%EOF\n");
  std::ostringstream none;
  auto missing = mailbox_->read_attachment(erika_, stored->message_id, 1, none);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::not_found);
  std::ostringstream stranger;
  EXPECT_FALSE(mailbox_->read_attachment(max_, stored->message_id, 0, stranger));
  EXPECT_TRUE(stranger.str().empty());
}

TEST_P(MailboxStore, NoticesNotRetrievedInTheirPeriodAreReportedOnce) {
  auto open = mailbox_->store(notice("s-open", erika_));
  auto late = mailbox_->store(notice("s-late", erika_));
  auto plain = notice("s-plain", erika_);
  plain.notice = false;
  ASSERT_TRUE(open && late && mailbox_->store(plain));
  ASSERT_TRUE(mailbox_->retrieve(erika_, open->message_id, TrustLevel::high));
  clock_.advance(std::chrono::days(9));
  EXPECT_EQ(mailbox_->report_overdue(), 0) << "the period is ten days";
  clock_.advance(std::chrono::days(1));
  EXPECT_EQ(mailbox_->report_overdue(), 1) << "only the notice nobody opened";
  EXPECT_EQ(mailbox_->report_overdue(), 0) << "once";
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'test.event' AND payload "
                           "LIKE '%not_retrieved%'")
                ->integer(0),
            1);
}

TEST_P(MailboxStore, TheSchemaRefusesDocumentsOfMissingMessages) {
  EXPECT_THROW(db().execute("INSERT INTO mailbox_attachments (message_id, position, filename, "
                            "media_type, size, sha256, blob_id) VALUES ('missing', 0, 'a.pdf', "
                            "'application/pdf', 1, 'x', 'y')"),
               core::Failure);
}

// Integrity (issue 13): what the mailbox keeps of a deleted account goes with it, through
// identity's account.deleted event as src/app wires it; a document another owner's message
// names stays.
TEST_P(MailboxStore, ADeletedAccountLeavesNothingInTheMailbox) {
  core::JobRunner runner(*jobs_, db(), {.threads = 0, .name = "test"});
  mailbox_->register_jobs(runner);
  for (auto event : {identity::kAccountDeleted, identity::kOrganisationDeleted}) {
    jobs_->subscribe(std::string(event), std::string(Mailbox::kEraseOwnerJob));
  }
  auto own = notice("s-own", erika_);
  own.attachments[0].content = "%PDF-1.7\nnur für Erika\n%%EOF\n";
  ASSERT_TRUE(mailbox_->store(own));
  ASSERT_TRUE(mailbox_->store(notice("s-shared-1", erika_)));
  auto theirs = mailbox_->store(notice("s-shared-2", max_));  // the same document as Erika's
  ASSERT_TRUE(theirs);
  auto blob_of = [&](const std::string& source) {
    return db()
        .query_one(
            "SELECT a.blob_id FROM mailbox_attachments a JOIN mailbox_messages m "
            "ON m.id = a.message_id WHERE m.source_ref = ?",
            source)
        ->text(0);
  };
  auto own_blob = blob_of("s-own");
  auto shared_blob = blob_of("s-shared-2");
  ASSERT_TRUE(blobs_->exists(own_blob));

  ASSERT_TRUE(identity_->accounts.delete_account_reauthenticated(erika_));
  runner.run_due();

  EXPECT_TRUE(mailbox_->inbox(erika_).empty());
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM mailbox_messages WHERE owner_id = ?", erika_)
                ->integer(0),
            0);
  EXPECT_EQ(count("mailbox_attachments"), 1) << "only Max's";
  EXPECT_FALSE(blobs_->exists(own_blob));
  EXPECT_TRUE(blobs_->exists(shared_blob));
  ASSERT_TRUE(mailbox_->retrieve(max_, theirs->message_id, TrustLevel::high));
  std::ostringstream document;
  EXPECT_TRUE(mailbox_->read_attachment(max_, theirs->message_id, 0, document));
  EXPECT_EQ(document.str(), "%PDF-1.7\n%%EOF\n");
  EXPECT_EQ(jobs_->counts()[core::JobState::dead], 0);

  // The review: a message whose owner was checked just before the deletion and written
  // just after the first pass is taken by the second pass.
  db().execute(
      "INSERT INTO mailbox_messages (id, owner_id, source_ref, kind, sender, subject, body, "
      "reference, required_level, provided_at, event_job_kind) VALUES ('late', ?, 's-late', "
      "'message', 'Amt', 'spät', 'spät', '', 'low', 0, '')",
      erika_);
  clock_.advance(std::chrono::minutes(11));
  runner.run_due();
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM mailbox_messages WHERE owner_id = ?", erika_)
                ->integer(0),
            0);
}

// Messages of accounts deleted before the deletion event existed: an upgrade left them
// with no owner. erase_orphans finds them through Owners and erases them, and nothing of
// an owner that still exists.
TEST_P(MailboxStore, MessagesOfOwnersThatNoLongerExistAreErasedOnRequest) {
  ASSERT_TRUE(mailbox_->store(notice("s-erika", erika_)));
  ASSERT_TRUE(mailbox_->store(notice("s-max", max_)));
  // As before the upgrade: the account goes, nobody erases its mailbox.
  db().execute("DELETE FROM accounts WHERE id = ?", erika_);
  EXPECT_EQ(mailbox_->erase_orphans(), 1);
  EXPECT_TRUE(mailbox_->inbox(erika_).empty());
  EXPECT_EQ(mailbox_->inbox(max_).size(), 1u);
  EXPECT_EQ(count("mailbox_messages"), 1);
  EXPECT_EQ(mailbox_->erase_orphans(), 0) << "nothing left to erase";
}

INSTANTIATE_TEST_SUITE_P(Databases, MailboxStore, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::mailbox
