// The mailbox's use cases. A message and its notification job commit together; the
// attachments are encrypted at rest in the blob store before the row that names them.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <mvsp/core/audit.hpp>
#include <mvsp/core/blob_sweep.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/mail.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/templates.hpp>
#include <sstream>

namespace mvsp::mailbox {
namespace {

using core::Error;
using core::fail;
using identity::TrustLevel;

constexpr std::size_t kMaxSubject = 1024;
constexpr std::size_t kMaxSender = 255;
constexpr std::size_t kMaxBody = 100000;
constexpr std::string_view kBlobLock = "blob:";

std::vector<std::string> named_among(core::db::Connection& c, std::span<const std::string> ids) {
  std::vector<core::db::Value> params(ids.begin(), ids.end());
  std::vector<std::string> out;
  for (const auto& r : c.query_values(
           fmt::format("SELECT DISTINCT blob_id FROM mailbox_attachments WHERE blob_id IN ({})",
                       core::db::parameter_list(ids.size())),
           params)) {
    out.push_back(r.text(0));
  }
  return out;
}

constexpr const char* kColumns =
    "id, owner_id, source_ref, kind, sender, subject, body, reference, required_level, "
    "provided_at, notified_at, retrieved_at, deemed_announced_on, retrieval_due_at";

Message read_message(const core::db::Row& r) {
  Message m;
  m.id = r.text(0);
  m.owner_id = r.text(1);
  m.source_ref = r.text(2);
  m.notice = r.text(3) == "notice";
  m.sender = r.text(4);
  m.subject = r.text(5);
  m.body = r.text(6);
  m.reference = r.text(7);
  m.required_level = identity::parse_level(r.text(8)).value_or(TrustLevel::high);
  m.provided_at = core::from_millis(r.integer(9));
  m.notified_at = r.optional_integer(10).transform(core::from_millis);
  m.retrieved_at = r.optional_integer(11).transform(core::from_millis);
  m.deemed_announced_on = r.optional_text(12).value_or("");
  m.retrieval_due_at = r.optional_integer(13).transform(core::from_millis);
  return m;
}

std::string event_payload(const std::string& source_ref, const char* event, core::TimePoint at) {
  Poco::JSON::Object o;
  o.set("sourceRef", source_ref);
  o.set("event", event);
  o.set("at", core::format_utc(at));
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

}  // namespace

struct Mailbox::Impl {
  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::JobQueue& jobs;
  core::AuditLog& audit;
  core::BlobStore& blobs;
  Owners& owners;
  const web::Catalog& texts;
  MailboxOptions options;

  std::vector<AttachmentInfo> attachments(const std::string& message_id) {
    std::vector<AttachmentInfo> out;
    for (const auto& r :
         db.query("SELECT position, filename, media_type, size, sha256 FROM mailbox_attachments "
                  "WHERE message_id = ? ORDER BY position",
                  message_id)) {
      out.push_back(
          {static_cast<int>(r.integer(0)), r.text(1), r.text(2), r.integer(3), r.text(4)});
    }
    return out;
  }

  // The e-mail notice that something arrived, in the transaction that stored it (which
  // sets notified_at): one
  // core.mail job per address, each with its own key, so that an address the mail server
  // refuses is retried alone and nobody who got the mail gets it again. The mail says only
  // that something arrived: no sender, no subject, no content.
  void notify(core::db::Connection& tx, const std::string& message_id,
              const std::vector<std::string>& addresses) {
    auto subject = texts.text("de", "mailbox.mail.subject");
    auto body = fmt::format(fmt::runtime(texts.text("de", "mailbox.mail.body")),
                            options.public_url + "/postfach");
    for (const auto& to : addresses) {
      core::queue_mail(jobs, tx, {.to = to, .subject = subject, .body = body},
                       "mailbox.notify:" + message_id + ":" + to);
    }
  }

  std::optional<Message> by_source(core::db::Connection& c, const std::string& source_ref) {
    auto r = c.query_one(
        fmt::format("SELECT {} FROM mailbox_messages WHERE source_ref = ?", kColumns), source_ref);
    if (!r) return std::nullopt;
    return read_message(*r);
  }

  Receipt receipt_of(const Message& m, bool before) {
    return {m.id, m.provided_at, m.deemed_announced_on, before};
  }

  // A source stored before answers with its first receipt, for the same owner only.
  core::Result<Receipt> stored_before(const Message& existing, const std::string& owner_id) {
    if (existing.owner_id != owner_id) {
      return fail(Error::conflict("the source reference was used for another recipient"));
    }
    return receipt_of(existing, true);
  }
};

Mailbox::Mailbox(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                 core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs,
                 Owners& owners, const web::Catalog& texts, MailboxOptions options)
    : impl_(std::make_unique<Impl>(
          Impl{db, clock, ids, jobs, audit, blobs, owners, texts, std::move(options)})) {}

Mailbox::~Mailbox() = default;

std::string Mailbox::deemed_day(core::TimePoint provided) const {
  return core::format_day(core::berlin_day(provided) +
                          std::chrono::days(impl_->options.deemed_after_days));
}

core::Result<Receipt> Mailbox::store(const StoreRequest& request) {
  auto prepared = prepare(request);
  if (!prepared) return fail(prepared.error());
  return impl_->db.transaction(
      [&](core::db::Tx& tx) -> core::Result<Receipt> { return store(tx, *prepared); });
}

core::Result<PreparedMessage> Mailbox::prepare(StoreRequest request) {
  auto& d = *impl_;
  Error error{core::ErrorCode::invalid_input, "The message is not valid.", {}, {}};
  if (request.source_ref.empty()) error.and_field("sourceRef", "is required");
  if (request.subject.empty() || request.subject.size() > kMaxSubject) {
    error.and_field("subject", fmt::format("must have 1 to {} characters", kMaxSubject));
  }
  if (request.sender.empty() || request.sender.size() > kMaxSender) {
    error.and_field("sender", fmt::format("must have 1 to {} characters", kMaxSender));
  }
  if (request.body.size() > kMaxBody) {
    error.and_field("body", fmt::format("must have at most {} characters", kMaxBody));
  }
  for (std::size_t i = 0; i < request.attachments.size(); ++i) {
    const auto& a = request.attachments[i];
    if (!core::is_plain_filename(a.filename)) {
      error.and_field(fmt::format("attachments[{}].filename", i),
                      "must be a file name of 1 to 255 characters without / \\ \" or line breaks");
    }
  }
  if (!error.fields.empty()) return fail(error);
  PreparedMessage p;
  if (auto existing = d.by_source(*d.db.acquire(), request.source_ref)) {
    auto receipt = d.stored_before(*existing, request.owner_id);
    if (!receipt) return fail(receipt.error());
    p.stored_before_ = *receipt;
    p.request_ = std::move(request);
    return p;
  }
  auto addresses = d.owners.notify_addresses(request.owner_id);
  if (!addresses) return fail(Error::not_found("no account or organisation with this mailbox"));
  p.notify_ = std::move(*addresses);
  // Documents first: a blob nobody names is harmless and content-addressed; a row naming a
  // missing blob would not be.
  for (const auto& a : request.attachments) {
    p.documents_.push_back({d.blobs.put(a.content).id, core::crypto::sha256_hex(a.content)});
  }
  p.request_ = std::move(request);
  return p;
}

core::Result<Receipt> Mailbox::store(core::db::Connection& tx, const PreparedMessage& p) {
  auto& d = *impl_;
  if (p.stored_before_) return *p.stored_before_;
  const auto& request = p.request_;
  auto now = d.clock.now();
  Message m;
  m.id = d.ids.key();
  m.provided_at = now;
  if (request.notice) {
    m.deemed_announced_on = deemed_day(now);
    m.retrieval_due_at = now + std::chrono::days(d.options.retrieval_period_days);
  }
  if (tx.execute(
          "INSERT INTO mailbox_messages (id, owner_id, source_ref, kind, sender, subject, body, "
          "reference, required_level, provided_at, notified_at, deemed_announced_on, "
          "retrieval_due_at, event_job_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT DO NOTHING",
          m.id, request.owner_id, request.source_ref, request.notice ? "notice" : "message",
          request.sender, request.subject, request.body, request.reference,
          std::string(identity::level_name(request.required_level)), core::to_millis(now),
          core::to_millis(now),
          request.notice ? core::db::Value(m.deemed_announced_on) : core::db::Value(),
          m.retrieval_due_at ? core::db::Value(core::to_millis(*m.retrieval_due_at))
                             : core::db::Value(),
          request.event_job_kind) != 1) {
    // Stored at the same moment by another worker: that one counts.
    auto existing = d.by_source(tx, request.source_ref);
    if (!existing) throw core::Failure("a message conflicted on insert, but none has its source");
    return d.stored_before(*existing, request.owner_id);
  }
  for (std::size_t i = 0; i < request.attachments.size(); ++i) {
    const auto& a = request.attachments[i];
    const auto& doc = p.documents_.at(i);
    // Under the document's lock, which erase_owner takes alone to remove it (messages
    // being stored share it): a copy removed since put() (the last other message naming
    // it was erased) is written again.
    tx.lock_shared(std::string(kBlobLock) + doc.blob_id);
    if (!d.blobs.exists(doc.blob_id)) d.blobs.put(a.content);
    tx.execute_later(
        "INSERT INTO mailbox_attachments (message_id, position, filename, media_type, size, "
        "sha256, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        m.id, static_cast<std::int64_t>(i), a.filename,
        a.media_type.empty() ? "application/octet-stream" : a.media_type,
        static_cast<std::int64_t>(a.content.size()), doc.sha256, doc.blob_id);
  }
  d.notify(tx, m.id, p.notify_);
  d.audit.append(tx, {.actor = "system:mailbox",
                      .action = "mailbox.message_stored",
                      .object_type = "mailbox_message",
                      .object_id = m.id,
                      .detail = fmt::format(R"({{"sourceRef":"{}","attachments":{}}})",
                                            request.source_ref, request.attachments.size())});
  return d.receipt_of(m, false);
}

std::vector<Message> Mailbox::inbox(const std::string& owner_id, int limit) {
  std::vector<Message> out;
  for (const auto& r :
       impl_->db.query(fmt::format("SELECT {} FROM mailbox_messages WHERE owner_id = ? "
                                   "ORDER BY provided_at DESC, id DESC LIMIT ?",
                                   kColumns),
                       owner_id, limit)) {
    out.push_back(read_message(r));
  }
  return out;
}

int Mailbox::unread(const std::string& owner_id) {
  return static_cast<int>(
      impl_->db
          .query_one(
              "SELECT COUNT(*) FROM mailbox_messages WHERE owner_id = ? AND retrieved_at IS NULL",
              owner_id)
          ->integer(0));
}

core::Result<Message> Mailbox::find(const std::string& owner_id, const std::string& message_id) {
  auto r = impl_->db.query_one(
      fmt::format("SELECT {} FROM mailbox_messages WHERE id = ? AND owner_id = ?", kColumns),
      message_id, owner_id);
  if (!r) return fail(Error::not_found("no such message"));
  auto m = read_message(*r);
  m.attachments = impl_->attachments(m.id);
  return m;
}

core::Result<Message> Mailbox::retrieve(const std::string& owner_id, const std::string& message_id,
                                        TrustLevel session_level) {
  auto& d = *impl_;
  auto m = find(owner_id, message_id);
  if (!m) return m;
  if (session_level < m->required_level) {
    auto e = Error::forbidden("the message needs a higher trust level");
    e.detail = "level";
    return fail(e);
  }
  if (m->retrieved_at) return m;
  auto now = d.clock.now();
  d.db.transaction([&](core::db::Tx& tx) {
    if (tx.execute("UPDATE mailbox_messages SET retrieved_at = ? WHERE id = ? AND "
                   "retrieved_at IS NULL",
                   core::to_millis(now), m->id) != 1) {
      return;
    }
    auto kind = tx.query_one("SELECT event_job_kind FROM mailbox_messages WHERE id = ?", m->id);
    if (kind && !kind->text(0).empty()) {
      d.jobs.enqueue(tx, {.kind = kind->text(0),
                          .payload = event_payload(m->source_ref, "retrieved", now),
                          .idempotency_key = "mailbox.retrieved:" + m->id});
    }
    d.audit.append(
        tx, {.actor = "account:" + owner_id,
             .action = "mailbox.message_retrieved",
             .object_type = "mailbox_message",
             .object_id = m->id,
             .detail = fmt::format(R"({{"level":"{}"}})", identity::level_name(session_level))});
    m->retrieved_at = now;
  });
  if (!m->retrieved_at) return find(owner_id, message_id);
  return m;
}

core::Status Mailbox::read_attachment(const std::string& owner_id, const std::string& message_id,
                                      int position, std::ostream& out) {
  auto m = find(owner_id, message_id);
  if (!m) return fail(m.error());
  if (!m->retrieved_at) return fail(Error::forbidden("open the message first"));
  auto r = impl_->db.query_one(
      "SELECT blob_id FROM mailbox_attachments WHERE message_id = ? AND position = ?", m->id,
      position);
  if (!r) return fail(Error::not_found("no such attachment"));
  return impl_->blobs.read(r->text(0), out);
}

int Mailbox::report_overdue() {
  auto& d = *impl_;
  auto now = d.clock.now();
  int reported = 0;
  for (const auto& r : d.db.query(
           "SELECT id, source_ref, event_job_kind FROM mailbox_messages WHERE retrieved_at IS NULL "
           "AND fallback_reported_at IS NULL AND retrieval_due_at <= ? LIMIT 500",
           core::to_millis(now))) {
    d.db.transaction([&](core::db::Tx& tx) {
      if (tx.execute("UPDATE mailbox_messages SET fallback_reported_at = ? WHERE id = ? AND "
                     "fallback_reported_at IS NULL AND retrieved_at IS NULL",
                     core::to_millis(now), r.text(0)) != 1) {
        return;
      }
      if (!r.text(2).empty()) {
        d.jobs.enqueue(tx, {.kind = r.text(2),
                            .payload = event_payload(r.text(1), "not_retrieved", now),
                            .idempotency_key = "mailbox.not_retrieved:" + r.text(0)});
      }
      d.audit.append(tx, {.actor = "system:mailbox",
                          .action = "mailbox.retrieval_period_passed",
                          .object_type = "mailbox_message",
                          .object_id = r.text(0)});
      ++reported;
    });
  }
  return reported;
}

int Mailbox::erase_orphans() {
  auto& d = *impl_;
  std::vector<std::string> owners;
  for (const auto& r :
       d.db.query("SELECT DISTINCT owner_id FROM mailbox_messages ORDER BY owner_id")) {
    owners.push_back(r.text(0));
  }
  int erased = 0;
  for (const auto& owner : owners) {
    if (d.owners.notify_addresses(owner)) continue;
    erase_owner(owner);
    ++erased;
  }
  return erased;
}

int Mailbox::erase_owner(const std::string& owner_id) {
  auto& d = *impl_;
  std::vector<std::string> blobs;
  auto now = d.clock.now();
  auto erased = d.db.transaction([&](core::db::Tx& tx) {
    // Whoever sent a message nobody opened learns that nobody will (a notice must then go
    // by post).
    for (const auto& r : tx.query(
             "SELECT id, source_ref, event_job_kind FROM mailbox_messages WHERE owner_id = ? "
             "AND retrieved_at IS NULL AND fallback_reported_at IS NULL AND event_job_kind <> ''",
             owner_id)) {
      d.jobs.enqueue(tx, {.kind = r.text(2),
                          .payload = event_payload(r.text(1), "owner_deleted", now),
                          .idempotency_key = "mailbox.owner_deleted:" + r.text(0)});
    }
    for (const auto& r :
         tx.query("SELECT DISTINCT a.blob_id FROM mailbox_attachments a "
                  "JOIN mailbox_messages m ON m.id = a.message_id WHERE m.owner_id = ?",
                  owner_id)) {
      blobs.push_back(r.text(0));
    }
    tx.execute(
        "DELETE FROM mailbox_attachments WHERE message_id IN "
        "(SELECT id FROM mailbox_messages WHERE owner_id = ?)",
        owner_id);
    auto n = tx.execute("DELETE FROM mailbox_messages WHERE owner_id = ?", owner_id);
    d.audit.append(tx, {.actor = "system:mailbox",
                        .action = "mailbox.owner_erased",
                        .object_type = "mailbox",
                        .object_id = owner_id,
                        .detail = fmt::format(R"({{"messages":{}}})", n)});
    return n;
  });
  // Documents are content-addressed: one that another message still names stays. Checked
  // and removed under the document's lock, which a message being stored holds until its
  // row is committed.
  for (const auto& blob : blobs) {
    core::remove_unless_named(d.db, d.blobs, kBlobLock, blob, named_among);
  }
  return static_cast<int>(erased);
}

int Mailbox::remove_unnamed_documents() {
  auto& d = *impl_;
  return core::remove_unnamed_blobs(d.db, d.blobs, kBlobLock,
                                    d.clock.now() - core::kUnnamedBlobGrace, named_among);
}

void Mailbox::register_jobs(core::JobRunner& runner) {
  runner.handle(std::string(kEraseOwnerJob), [this](core::JobContext& ctx) {
    auto& d = *impl_;
    Poco::JSON::Parser parser;
    auto payload = parser.parse(ctx.job.payload).extract<Poco::JSON::Object::Ptr>();
    auto owner = payload->getValue<std::string>("ownerId");
    erase_owner(owner);
    // A message whose owner was checked just before the deletion may be written just
    // after this pass: a second pass a little later takes it too.
    if (!payload->has("pass")) {
      d.db.transaction([&](core::db::Tx& tx) {
        d.jobs.enqueue(tx, {.kind = std::string(kEraseOwnerJob),
                            .payload = fmt::format(R"({{"ownerId":"{}","pass":2}})", owner),
                            .idempotency_key = "mailbox.erase_owner:2:" + owner,
                            .run_at = d.clock.now() + std::chrono::minutes(10)});
      });
    }
    return core::JobOutcome::ok();
  });
  // Messages stored before the notice mails were queued with the message (an older
  // version queued this job instead) are still told about.
  runner.handle("mailbox.notify", [this](core::JobContext& ctx) {
    auto& d = *impl_;
    Poco::JSON::Parser parser;
    auto payload = parser.parse(ctx.job.payload).extract<Poco::JSON::Object::Ptr>();
    auto id = payload->getValue<std::string>("messageId");
    auto r = d.db.query_one("SELECT owner_id, notified_at FROM mailbox_messages WHERE id = ?", id);
    if (!r || !r->is_null(1)) return core::JobOutcome::ok();
    auto addresses = d.owners.notify_addresses(r->text(0)).value_or(std::vector<std::string>{});
    d.db.transaction([&](core::db::Tx& tx) {
      d.notify(tx, id, addresses);
      tx.execute("UPDATE mailbox_messages SET notified_at = ? WHERE id = ?",
                 core::to_millis(d.clock.now()), id);
    });
    return core::JobOutcome::ok();
  });
}

}  // namespace mvsp::mailbox
