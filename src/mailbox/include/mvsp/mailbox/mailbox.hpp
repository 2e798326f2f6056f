#pragma once
// The citizen mailbox (MV-NK Postfach): messages and decision notices for an account or
// an organisation, each with the trust level needed to open it; provision, e-mail
// notification and retrieval are recorded, and for notices the day of the announcement
// fiction (§ 9 OZG) is computed by a configurable rule.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/resources.hpp>
#include <mvsp/identity/level.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mvsp::core {
class IdGenerator;
class JobQueue;
class JobRunner;
class AuditLog;
class BlobStore;
namespace db {
class Connection;
class Database;
}  // namespace db
}  // namespace mvsp::core

namespace mvsp::web {
class Catalog;
}

namespace mvsp::mailbox {

// Migrations, templates and message catalogs, compiled in.
std::span<const core::Resource> embedded_resources();

struct MailboxOptions {
  std::string public_url;
  // A notice counts as announced this many days after the day it was provided.
  int deemed_after_days = 4;
  // A notice not retrieved within this many days is reported for postal delivery.
  int retrieval_period_days = 10;
};

struct NewAttachment {
  std::string filename;
  std::string media_type;
  std::string content;
};

struct StoreRequest {
  std::string owner_id;    // an account or an organisation
  std::string source_ref;  // unique per message: storing it again returns the first receipt
  bool notice = true;      // a decision notice (Bescheid) or a plain message
  std::string sender;
  std::string subject;
  std::string body;
  std::string reference;  // the sender's file number
  identity::TrustLevel required_level = identity::TrustLevel::low;
  std::vector<NewAttachment> attachments;
  // A job of this kind is queued with {"sourceRef","event","at"} when the message is
  // retrieved ("retrieved") and when a notice's retrieval period passes ("not_retrieved").
  std::string event_job_kind;
};

// The storage receipt (Einlagerungsbestätigung).
struct Receipt {
  std::string message_id;
  core::TimePoint provided_at;
  std::string deemed_announced_on;  // ISO day; empty for plain messages
  bool stored_before = false;       // the same source_ref was stored already
};

// A message checked, its owner's notification addresses found and its attachments
// written, ready to be stored in a transaction of the caller's. Made by prepare() only:
// store() trusts what it holds.
class PreparedMessage {
 private:
  friend class Mailbox;
  StoreRequest request_;
  std::vector<std::string> notify_;  // the owner's addresses
  struct Document {
    std::string blob_id;
    std::string sha256;
  };
  std::vector<Document> documents_;
  std::optional<Receipt> stored_before_;  // the source was stored already: nothing to write
};

struct AttachmentInfo {
  int position = 0;
  std::string filename;
  std::string media_type;
  std::int64_t size = 0;
  std::string sha256;
};

struct Message {
  std::string id;
  std::string owner_id;
  std::string source_ref;
  bool notice = true;
  std::string sender;
  std::string subject;
  std::string body;
  std::string reference;
  identity::TrustLevel required_level = identity::TrustLevel::low;
  core::TimePoint provided_at;
  std::optional<core::TimePoint> notified_at;
  std::optional<core::TimePoint> retrieved_at;
  std::string deemed_announced_on;
  std::optional<core::TimePoint> retrieval_due_at;
  std::vector<AttachmentInfo> attachments;
};

// Whose a mailbox is (`mvsp:<id>`: an account or an organisation) and whom to tell when
// something arrives. Identity knows; src/app wires it in, so the mailbox needs nothing else
// of identity.
class Owners {
 public:
  virtual ~Owners() = default;
  // The verified addresses to notify for owner `id` (none is fine); nothing when no account
  // or organisation has this id.
  virtual std::optional<std::vector<std::string>> notify_addresses(std::string_view id) = 0;
};

class Mailbox {
 public:
  Mailbox(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
          core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs, Owners& owners,
          const web::Catalog& texts, MailboxOptions options);
  ~Mailbox();

  // Stores a message and queues the e-mail notice (which says only that something
  // arrived). not_found when the owner has no account or organisation (for good);
  // invalid_input names the field. Idempotent on source_ref.
  core::Result<Receipt> store(const StoreRequest& request);
  // The same in two steps, for a caller that stores the message in its own transaction
  // (the delivery service: the attempt, the message and the receipt commit together).
  // prepare() checks and writes the documents, outside any transaction; store() writes
  // the rows. Both answer as store(request) does.
  core::Result<PreparedMessage> prepare(StoreRequest request);
  core::Result<Receipt> store(core::db::Connection& tx, const PreparedMessage& prepared);

  // The messages of an owner, newest first; without bodies' attachments.
  std::vector<Message> inbox(const std::string& owner_id, int limit = 200);
  int unread(const std::string& owner_id);
  // One message of the owner; not_found for anyone else's.
  core::Result<Message> find(const std::string& owner_id, const std::string& message_id);
  // Records the first retrieval (the person opened it at the level it needs) and tells
  // the sender. Returns the message as it is now.
  core::Result<Message> retrieve(const std::string& owner_id, const std::string& message_id,
                                 identity::TrustLevel session_level);
  // Streams an attachment of a message that was retrieved.
  core::Status read_attachment(const std::string& owner_id, const std::string& message_id,
                               int position, std::ostream& out);
  // Reports notices whose retrieval period has passed; returns how many.
  int report_overdue();

  // The day the notice counts as announced when provided at `provided`.
  std::string deemed_day(core::TimePoint provided) const;

  // Deletes everything the mailbox keeps for owner `owner_id` (an account or organisation
  // that was deleted): its messages and their documents. The sender of a message nobody
  // opened gets the event "owner_deleted". Returns how many messages.
  int erase_owner(const std::string& owner_id);
  // Erases what the mailbox keeps for every owner that no longer exists (Owners knows no
  // such account or organisation): messages of accounts deleted before the deletion event
  // existed (`mvsp mailbox erase-orphans`, once after upgrading). Returns how many owners.
  int erase_orphans();
  // Removes the documents that no message names and that were written more than an hour
  // ago (a store that failed after writing them); returns how many.
  int remove_unnamed_documents();

  // The job that erases an owner, with the payload {"ownerId": "<id>"}; the mailbox
  // component subscribes it to identity's deletion events.
  static constexpr std::string_view kEraseOwnerJob = "mailbox.erase_owner";

  // Registers kEraseOwnerJob, and "mailbox.notify" for messages an older version stored
  // (the e-mail notices are queued with the message now, one core.mail job per address).
  void register_jobs(core::JobRunner& runner);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::mailbox
