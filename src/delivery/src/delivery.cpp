// The delivery service's use cases. Every status change, its proof record and the
// callback job commit in one transaction; a delivery job completes in the transaction
// that records its outcome, so a crash at any point leads to one more attempt, never to
// a lost or doubled effect (receivers store a notice once per notice id).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <cmath>
#include <mutex>
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
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/web/client.hpp>
#include <mvsp/web/templates.hpp>
#include <sstream>

namespace mvsp::delivery {
namespace {

using core::Error;
using core::fail;
using Json = Poco::JSON::Object;

constexpr std::size_t kMaxSubject = 1024;
constexpr std::size_t kMaxBody = 100000;
constexpr std::size_t kMaxReference = 255;
constexpr std::size_t kMaxKey = 255;
constexpr std::size_t kMaxDocuments = 20;
constexpr std::string_view kBlobLock = "delivery-blob:";

std::string stringify(const Json& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

Json::Ptr parse_object(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Json::Ptr>();
}

constexpr const char* kNoticeColumns =
    "id, tenant_id, client_id, recipient, mailbox_type, subject, reference, required_level, "
    "status, reason, postal_fallback_required, attempts, accepted_at, updated_at, "
    "next_attempt_at, stored_at, retrieved_at, receipt_message_id, deemed_announced_on, "
    "receipt_fetched_at, documents_deleted_at";
constexpr int kNoticeColumnCount = 21;

Notice read_notice(const core::db::Row& r) {
  Notice n;
  n.id = r.text(0);
  n.tenant_id = r.text(1);
  n.client_id = r.text(2);
  n.recipient = r.text(3);
  n.mailbox_type = r.text(4);
  n.subject = r.text(5);
  n.reference = r.text(6);
  n.required_level = r.text(7);
  n.status = r.text(8);
  n.reason = r.text(9);
  n.postal_fallback_required = r.integer(10) != 0;
  n.attempts = static_cast<int>(r.integer(11));
  n.accepted_at = core::from_millis(r.integer(12));
  n.updated_at = core::from_millis(r.integer(13));
  n.next_attempt_at = r.optional_integer(14).transform(core::from_millis);
  n.stored_at = r.optional_integer(15).transform(core::from_millis);
  n.retrieved_at = r.optional_integer(16).transform(core::from_millis);
  n.receipt_message_id = r.text(17);
  n.deemed_announced_on = r.text(18);
  n.receipt_fetched_at = r.optional_integer(19).transform(core::from_millis);
  n.documents_deleted_at = r.optional_integer(20).transform(core::from_millis);
  return n;
}

bool is_final(const std::string& status) {
  return status == kStored || status == kRetrieved || status == kUndeliverable;
}

std::string proof_hash(const std::string& prev, const std::string& notice_id, int seq,
                       core::TimePoint at, const std::string& step, const std::string& status,
                       const std::string& detail) {
  return core::crypto::sha256_hex(fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}", prev, notice_id, seq,
                                              core::format_utc(at), step, status, detail));
}

std::string signed_head(const std::string& notice_id, int count, const std::string& head) {
  return fmt::format("mvsp-evidence/1\n{}\n{}\n{}", notice_id, count, head);
}

Poco::JSON::Array::Ptr documents_json(const std::vector<DocumentInfo>& docs) {
  Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
  for (const auto& d : docs) {
    Json o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("filename", d.filename);
    o.set("size", static_cast<Poco::Int64>(d.size));
    o.set("sha256", d.sha256);
    o.set("sha512", d.sha512);
    arr->add(o);
  }
  return arr;
}

}  // namespace

struct Delivery::Impl {
  Impl(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
       core::JobQueue& jobs, core::AuditLog& audit, Senders& senders, DeliveryOptions options)
      : db(db),
        clock(clock),
        ids(ids),
        jobs(jobs),
        audit(audit),
        senders(senders),
        options(std::move(options)) {}

  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::JobQueue& jobs;
  core::AuditLog& audit;
  Senders& senders;
  DeliveryOptions options;
  std::map<std::string, std::unique_ptr<MailboxAdapter>, std::less<>> adapters;
  std::string sealing_key;
  std::string evidence_seed;
  std::string retrieval_key;

  std::mutex stores_mutex;
  std::map<std::string, std::unique_ptr<core::BlobStore>> stores;

  struct Bucket {
    double tokens = 0;
    core::TimePoint last;
  };
  std::mutex buckets_mutex;
  std::map<std::string, Bucket> buckets;

  std::int64_t now_ms() const { return core::to_millis(clock.now()); }

  // The tenant's document store, encrypted with the tenant's own data key.
  core::BlobStore& store_for(const std::string& tenant_id) {
    std::lock_guard lock(stores_mutex);
    auto it = stores.find(tenant_id);
    if (it != stores.end()) return *it->second;
    auto row =
        db.query_one("SELECT sealed_key FROM delivery_tenant_keys WHERE tenant_id = ?", tenant_id);
    if (!row) {
      db.execute(
          "INSERT INTO delivery_tenant_keys (tenant_id, sealed_key, created_at) VALUES (?, ?, ?) "
          "ON CONFLICT DO NOTHING",
          tenant_id, core::crypto::seal(sealing_key, core::crypto::random_bytes(32)), now_ms());
      row = db.query_one("SELECT sealed_key FROM delivery_tenant_keys WHERE tenant_id = ?",
                         tenant_id);
    }
    auto key = core::crypto::open(sealing_key, row->text(0));
    if (!key || key->size() != 32) {
      throw core::Failure("the tenant's document key cannot be opened with this master key");
    }
    auto store = std::make_unique<core::BlobStore>(
        options.data_dir / "delivery" / core::crypto::sha256_hex(tenant_id).substr(0, 32), *key);
    return *stores.emplace(tenant_id, std::move(store)).first->second;
  }

  // Which blobs a notice of the tenant that still keeps its documents names.
  core::NamedAmong named_among(std::string tenant_id) {
    return [tenant_id = std::move(tenant_id)](core::db::Connection& c,
                                              std::span<const std::string> ids) {
      std::vector<core::db::Value> params{tenant_id};
      params.insert(params.end(), ids.begin(), ids.end());
      std::vector<std::string> out;
      for (const auto& r : c.query_values(
               fmt::format("SELECT DISTINCT dd.blob_id FROM delivery_documents dd JOIN "
                           "delivery_notices n ON n.id = dd.notice_id WHERE n.tenant_id = ? AND "
                           "n.documents_deleted_at IS NULL AND dd.blob_id IN ({})",
                           core::db::parameter_list(ids.size())),
               params)) {
        out.push_back(r.text(0));
      }
      return out;
    };
  }

  // Each use case holds one pooled connection at a time: pass the one in hand.
  std::vector<DocumentInfo> documents(core::db::Connection& c, const std::string& notice_id) {
    std::vector<DocumentInfo> out;
    for (const auto& r : c.query("SELECT position, filename, media_type, size, sha256, sha512 FROM "
                                 "delivery_documents WHERE notice_id = ? ORDER BY position",
                                 notice_id)) {
      out.push_back({static_cast<int>(r.integer(0)), r.text(1), r.text(2), r.integer(3), r.text(4),
                     r.text(5)});
    }
    return out;
  }

  // `lock`: the row stays locked until commit (PostgreSQL), so that what follows (a proof
  // record) comes after any other transaction's on the same notice.
  std::optional<Notice> load(core::db::Connection& c, const std::string& id, bool lock = false) {
    auto r = c.query_one(fmt::format("SELECT {} FROM delivery_notices WHERE id = ?{}",
                                     kNoticeColumns, lock ? c.for_update() : ""),
                         id);
    if (!r) return std::nullopt;
    return read_notice(*r);
  }

  // What the next proof record of a notice follows: read once per transaction, then kept
  // up to date by record().
  struct ProofHead {
    int seq = 0;
    std::string hash;
    bool callback = false;  // the sending client has a callback address
  };
  // No job that would have nothing to do: a client without a callback address is told
  // nothing (it asks for the status).
  static constexpr std::string_view kProofHead =
      "SELECT p.seq, p.hash, c.callback_url FROM delivery_notices n LEFT JOIN "
      "delivery_clients c ON c.client_id = n.client_id LEFT JOIN delivery_proof p ON "
      "p.notice_id = n.id WHERE n.id = ? ORDER BY p.seq DESC LIMIT 1";
  static ProofHead proof_head_of(const core::db::Rows& rows) {
    ProofHead head;
    if (rows.empty()) return head;
    const auto& r = rows.front();
    if (!r.is_null(0)) {
      head.seq = static_cast<int>(r.integer(0));
      head.hash = r.text(1);
    }
    head.callback = !r.optional_text(2).value_or("").empty();
    return head;
  }
  ProofHead proof_head(core::db::Connection& tx, const std::string& notice_id) {
    return proof_head_of(tx.query(kProofHead, notice_id));
  }

  // Appends a proof record after `head` and, when the sending client has a callback
  // address, queues the callback for it; returns the record's seq.
  int record(core::db::Connection& tx, const std::string& notice_id, ProofHead& head,
             const std::string& step, const std::string& status, const Json& detail) {
    int seq = head.seq + 1;
    auto at = clock.now();
    auto text = stringify(detail);
    auto hash = proof_hash(head.hash, notice_id, seq, at, step, status, text);
    tx.execute_later(
        "INSERT INTO delivery_proof (notice_id, seq, at, step, status, detail, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        notice_id, seq, core::to_millis(at), step, status, text, head.hash, hash);
    if (head.callback) {
      jobs.enqueue_later(tx,
                         {.kind = "delivery.callback",
                          .payload = fmt::format(R"({{"noticeId":"{}","seq":{}}})", notice_id, seq),
                          .idempotency_key = fmt::format("delivery.callback:{}:{}", notice_id, seq),
                          .max_attempts = 20});
    }
    head.seq = seq;
    head.hash = std::move(hash);
    return seq;
  }
  int record(core::db::Connection& tx, const std::string& notice_id, const std::string& step,
             const std::string& status, const Json& detail) {
    auto head = proof_head(tx, notice_id);
    return record(tx, notice_id, head, step, status, detail);
  }

  void set_status(core::db::Connection& tx, const std::string& id, const std::string& status,
                  const std::string& reason, bool postal) {
    tx.execute(
        "UPDATE delivery_notices SET status = ?, reason = ?, postal_fallback_required = ?, "
        "next_attempt_at = NULL, updated_at = ? WHERE id = ?",
        status, reason, postal ? 1 : 0, now_ms(), id);
  }

  // Final failure: the authority must announce by post; its contacts are told.
  void undeliverable(core::db::Connection& tx, const Notice& n, const std::string& reason,
                     const std::string& detail) {
    // The row first: its lock orders this record after any other of the notice.
    set_status(tx, n.id, kUndeliverable, reason, true);
    auto head = proof_head(tx, n.id);
    record_undeliverable(tx, n, head, reason, detail);
  }
  // The outcome of an attempt: the row also takes the attempt's count.
  void undeliverable(core::db::Connection& tx, const Notice& n, ProofHead& head,
                     const std::string& reason, const std::string& detail) {
    tx.execute_later(
        "UPDATE delivery_notices SET status = ?, reason = ?, postal_fallback_required = 1, "
        "attempts = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?",
        kUndeliverable, reason, n.attempts, now_ms(), n.id);
    record_undeliverable(tx, n, head, reason, detail);
  }
  void record_undeliverable(core::db::Connection& tx, const Notice& n, ProofHead& head,
                            const std::string& reason, const std::string& detail) {
    Json d(Poco::JSON_PRESERVE_KEY_ORDER);
    d.set("reason", reason);
    d.set("detail", detail);
    d.set("postalFallbackRequired", true);
    record(tx, n.id, head, "final", kUndeliverable, d);
    jobs.enqueue_later(tx, {.kind = "delivery.alert",
                            .payload = fmt::format(R"({{"noticeId":"{}"}})", n.id),
                            .idempotency_key = "delivery.alert:" + n.id});
    audit.append(tx, {.actor = "system:delivery",
                      .action = "notice.undeliverable",
                      .object_type = "notice",
                      .object_id = n.id,
                      .detail = fmt::format(R"({{"reason":"{}"}})", reason)});
  }

  Limits limits_of(const std::string& client_id) {
    Limits l = options.limits;
    if (auto r = db.query_one(
            "SELECT rate_per_second, burst, daily_quota FROM delivery_clients WHERE client_id = ?",
            client_id)) {
      if (!r->is_null(0)) l.rate_per_second = r->real(0);
      if (!r->is_null(1)) l.burst = static_cast<int>(r->integer(1));
      if (!r->is_null(2)) l.daily_quota = static_cast<int>(r->integer(2));
    }
    return l;
  }

  // Takes a token from the client's bucket; the seconds to wait when there is none.
  std::optional<int> take_token(const std::string& client_id, const Limits& l) {
    std::lock_guard lock(buckets_mutex);
    auto now = clock.now();
    auto [it, fresh] = buckets.try_emplace(client_id, Bucket{static_cast<double>(l.burst), now});
    auto& b = it->second;
    if (!fresh) {
      double elapsed = std::chrono::duration<double>(now - b.last).count();
      b.tokens = std::min<double>(l.burst, b.tokens + elapsed * l.rate_per_second);
      b.last = now;
    }
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return std::nullopt;
    }
    if (l.rate_per_second <= 0) return 3600;
    return static_cast<int>(std::ceil((1.0 - b.tokens) / l.rate_per_second));
  }

  core::Result<Notice> owned(const Client& client, const std::string& id) {
    auto conn = db.acquire();
    auto n = load(*conn, id);
    // Another tenant's notice does not exist for this client.
    if (!n || n->tenant_id != client.tenant_id) return fail(Error::not_found("no such notice"));
    n->documents = documents(*conn, id);
    return *n;
  }

  std::vector<ProofRecord> proof(const std::string& id) {
    std::vector<ProofRecord> out;
    for (const auto& r :
         db.query("SELECT seq, at, step, status, detail, prev_hash, hash FROM delivery_proof "
                  "WHERE notice_id = ? ORDER BY seq",
                  id)) {
      out.push_back({static_cast<int>(r.integer(0)), core::from_millis(r.integer(1)), r.text(2),
                     r.text(3), r.text(4), r.text(5), r.text(6)});
    }
    return out;
  }

  // The retrieval, from our mailbox or confirmed by an external one.
  core::JobOutcome retrieved(const std::string& id, core::TimePoint at, const std::string& via) {
    return db.transaction([&](core::db::Tx& tx) {
      auto n = load(tx, id);
      if (!n || n->status == kRetrieved || n->status == kUndeliverable) {
        return core::JobOutcome::ok();
      }
      // Opened before our receipt was written (a crash in between): wait for the receipt.
      if (n->status != kStored) return core::JobOutcome::retry("the receipt is not recorded yet");
      tx.execute(
          "UPDATE delivery_notices SET status = ?, retrieved_at = ?, updated_at = ? WHERE id = ?",
          kRetrieved, core::to_millis(at), now_ms(), id);
      Json d(Poco::JSON_PRESERVE_KEY_ORDER);
      d.set("retrievedAt", core::format_utc(at));
      d.set("via", via);
      record(tx, id, "retrieval", kRetrieved, d);
      return core::JobOutcome::ok();
    });
  }

  std::string retrieval_url(const std::string& id) const {
    return options.public_url + "/api/v1/notices/" + id +
           "/retrieval?token=" + core::crypto::to_hex(core::crypto::hmac_sha256(retrieval_key, id));
  }

  core::JobOutcome deliver(core::JobContext& ctx);
  // An attempt under way: the notice as the attempt left it, and its proof chain's head.
  struct Attempt {
    Notice notice;
    ProofHead head;
  };
  core::JobOutcome conclude(core::JobContext& ctx, const std::string& id,
                            const std::vector<DocumentInfo>& documents, const LocalStore& store);
  // How an attempt is counted: on its own, committed before the notice leaves, or with
  // its outcome, in the one transaction that stores the notice in our own database.
  enum class Counted { before, with_outcome };
  // The notice locked (and the attempt counted, when it goes before) and its proof head
  // read after the lock: sent together, read with the caller's next statement that waits.
  struct Locked {
    core::db::Later notice;
    core::db::Later head;
  };
  Locked lock_for_attempt(core::db::Tx& tx, const std::string& id, Counted counted);
  std::optional<Attempt> begin_attempt(core::db::Tx& tx, const std::string& id, Locked& locked,
                                       Counted counted);
  OutgoingNotice outgoing(Notice& n, std::string body);
  void record_outcome(core::db::Tx& tx, core::JobContext& ctx, Attempt& a,
                      const DeliveryResult& result);
  core::JobOutcome callback(const std::string& notice_id, int seq);
};

Delivery::Delivery(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                   core::JobQueue& jobs, core::AuditLog& audit, Senders& senders,
                   DeliveryOptions options)
    : impl_(std::make_unique<Impl>(db, clock, ids, jobs, audit, senders, std::move(options))) {
  auto& d = *impl_;
  if (!d.options.fetch) throw core::Failure("the delivery service needs a transport");
  d.sealing_key = core::crypto::derive_key(d.options.master_key, "mvspdlvr", 1);
  d.evidence_seed = core::crypto::derive_key(d.options.master_key, "mvspevid", 1);
  d.retrieval_key = core::crypto::derive_key(d.options.master_key, "mvspretr", 1);
}

Delivery::~Delivery() = default;

void Delivery::add_adapter(std::unique_ptr<MailboxAdapter> adapter) {
  auto type = adapter->type();
  impl_->adapters[type] = std::move(adapter);
}

std::vector<std::string> Delivery::mailbox_types() const {
  std::vector<std::string> out;
  for (const auto& [type, a] : impl_->adapters) out.push_back(type);
  return out;
}

std::pair<std::chrono::milliseconds, std::chrono::milliseconds> Delivery::retry_delay(
    int failures) const {
  core::RetryPolicy p{impl_->options.first_retry, impl_->options.max_retry_delay};
  return {core::backoff_delay(failures, p, 0.0), core::backoff_delay(failures, p, 0.999999)};
}

core::Result<Accepted> Delivery::accept(const Client& client, const NewNotice& in,
                                        const std::string& idempotency_key) {
  auto& d = *impl_;
  if (client.tenant_id.empty()) {
    return fail(Error::forbidden("the client belongs to no tenant (authority)"));
  }
  Error error{core::ErrorCode::invalid_input, "The notice is not valid.", {}, {}};
  if (idempotency_key.empty() || idempotency_key.size() > kMaxKey) {
    error.and_field("Idempotency-Key", "is required (1 to 255 characters)");
  }
  auto colon = in.recipient.find(':');
  std::string type = colon == std::string::npos ? "" : in.recipient.substr(0, colon);
  std::string address = colon == std::string::npos ? "" : in.recipient.substr(colon + 1);
  auto adapter = d.adapters.find(type);
  if (in.recipient.empty()) {
    error.and_field("metadata.recipient", "is required");
  } else if (adapter == d.adapters.end()) {
    std::string known;
    for (const auto& t : mailbox_types()) known += (known.empty() ? "" : ", ") + t + ":…";
    error.and_field("metadata.recipient", "must be a mailbox id of a known type (" + known + ")");
  } else if (!adapter->second->valid_address(address)) {
    error.and_field("metadata.recipient",
                    fmt::format("is not a valid address for mailbox type {}", type));
  }
  if (in.subject.empty() || in.subject.size() > kMaxSubject) {
    error.and_field("metadata.subject", fmt::format("must have 1 to {} characters", kMaxSubject));
  } else if (!core::is_single_line(in.subject)) {
    error.and_field("metadata.subject", "must be one line without control characters");
  }
  if (in.body.size() > kMaxBody) {
    error.and_field("metadata.body", fmt::format("must have at most {} characters", kMaxBody));
  }
  if (in.reference.size() > kMaxReference) {
    error.and_field("metadata.reference",
                    fmt::format("must have at most {} characters", kMaxReference));
  } else if (!core::is_single_line(in.reference)) {
    error.and_field("metadata.reference", "must be one line without control characters");
  }
  auto level = identity::parse_level(in.required_level);
  if (!level) {
    error.and_field("metadata.requiredTrustLevel", "must be basic, low, substantial or high");
  }
  if (in.documents.empty()) error.and_field("document", "at least one PDF document is required");
  if (in.documents.size() > kMaxDocuments) {
    error.and_field("document", fmt::format("at most {} documents", kMaxDocuments));
  }
  for (std::size_t i = 0; i < in.documents.size(); ++i) {
    const auto& doc = in.documents[i];
    auto field = fmt::format("document[{}]", i);
    if (!core::is_plain_filename(doc.filename)) {
      error.and_field(field + ".filename",
                      "is required: 1 to 255 characters without / \\ \" or line breaks");
    }
    if (!doc.content.starts_with("%PDF-")) {
      error.and_field(field, "must be a PDF document (application/pdf, starting with %PDF-)");
    } else if (doc.content.size() > d.options.max_document_bytes) {
      error.and_field(field, fmt::format("must be at most {} bytes", d.options.max_document_bytes));
    }
  }
  if (!error.fields.empty()) return fail(error);

  // The request's fingerprint, to tell a repeated request from another one.
  std::string fingerprint = fmt::format("{}\n{}\n{}\n{}\n{}", in.recipient, in.subject, in.body,
                                        in.required_level, in.reference);
  std::vector<DocumentInfo> docs;
  for (std::size_t i = 0; i < in.documents.size(); ++i) {
    const auto& doc = in.documents[i];
    docs.push_back({static_cast<int>(i), doc.filename, "application/pdf",
                    static_cast<std::int64_t>(doc.content.size()),
                    core::crypto::sha256_hex(doc.content), core::crypto::sha512_hex(doc.content)});
    fingerprint += "\n" + doc.filename + "\n" + docs.back().sha256;
  }
  auto request_hash = core::crypto::sha256_hex(fingerprint);
  auto replay = [&]() -> std::optional<core::Result<Accepted>> {
    auto r = d.db.query_one(
        "SELECT id, request_hash FROM delivery_notices WHERE client_id = ? AND idempotency_key = ?",
        client.client_id, idempotency_key);
    if (!r) return std::nullopt;
    if (r->text(1) != request_hash) {
      return fail(Error::conflict(
          "The Idempotency-Key was used before with another request; use a new key."));
    }
    auto n = d.owned(client, r->text(0));
    if (!n) return fail(n.error());
    return Accepted{*n, true};
  };
  if (auto earlier = replay()) return *earlier;

  auto limits = d.limits_of(client.client_id);
  auto day_start = std::chrono::floor<std::chrono::days>(d.clock.now());
  auto day = static_cast<std::int64_t>(day_start.time_since_epoch().count());
  auto quota_used = [&] {
    return fail(Error::rate_limited(
        fmt::format("The daily quota of {} notices is used up.", limits.daily_quota),
        std::chrono::ceil<std::chrono::seconds>(day_start + std::chrono::days(1) - d.clock.now())));
  };
  // Refused before the documents are stored; the accepting transaction counts exactly.
  if (auto today = d.db.query_one(
          "SELECT accepted FROM delivery_client_days WHERE client_id = ? AND day = ?",
          client.client_id, day);
      today && today->integer(0) >= limits.daily_quota) {
    return quota_used();
  }
  if (auto wait = d.take_token(client.client_id, limits)) {
    return fail(Error::rate_limited(
        fmt::format("Too many notices: at most {} per second.", limits.rate_per_second),
        std::chrono::seconds(*wait)));
  }

  // Documents go into the tenant's encrypted store before the row that names them.
  auto& store = d.store_for(client.tenant_id);
  std::vector<std::string> blob_ids;
  for (const auto& doc : in.documents) blob_ids.push_back(store.put(doc.content).id);

  auto id = d.ids.key();
  auto now = d.clock.now();
  auto inserted = d.db.transaction([&](core::db::Tx& tx) -> core::Result<bool> {
    if (tx.execute(
            "INSERT INTO delivery_notices (id, tenant_id, client_id, idempotency_key, "
            "request_hash, recipient, mailbox_type, subject, body, required_level, reference, "
            "status, reason, postal_fallback_required, attempts, accepted_at, updated_at, "
            "receipt_message_id, deemed_announced_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "'', 0, 0, ?, ?, '', '') ON CONFLICT DO NOTHING",
            id, client.tenant_id, client.client_id, idempotency_key, request_hash, in.recipient,
            type, in.subject, in.body, in.required_level, in.reference, kAccepted,
            core::to_millis(now), core::to_millis(now)) != 1) {
      return false;
    }
    for (std::size_t i = 0; i < docs.size(); ++i) {
      const auto& doc = docs[i];
      // Under the document's lock, which a removal takes alone: a copy removed since put()
      // (the last notice naming it let go of its documents) is written again.
      tx.lock_shared(std::string(kBlobLock) + blob_ids[i]);
      if (!store.exists(blob_ids[i])) store.put(in.documents[i].content);
      tx.execute(
          "INSERT INTO delivery_documents (notice_id, position, filename, media_type, size, "
          "sha256, sha512, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          id, doc.position, doc.filename, doc.media_type, doc.size, doc.sha256, doc.sha512,
          blob_ids[i]);
    }
    Json detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("client", client.client_id);
    detail.set("recipient", in.recipient);
    detail.set("subjectSha256", core::crypto::sha256_hex(in.subject));
    detail.set("bodySha256", core::crypto::sha256_hex(in.body));
    detail.set("requiredTrustLevel", in.required_level);
    detail.set("reference", in.reference);
    detail.set("documents", documents_json(docs));
    d.record(tx, id, "accepted", kAccepted, detail);
    d.jobs.enqueue_later(tx, {.kind = "delivery.deliver",
                              .payload = fmt::format(R"({{"noticeId":"{}"}})", id),
                              .idempotency_key = "delivery.deliver:" + id + ":1",
                              .max_attempts = 5});
    // Counted up only below the quota: of requests racing for the last place, one gets it.
    tx.execute(
        "INSERT INTO delivery_client_days (client_id, day, accepted) VALUES (?, ?, 0) "
        "ON CONFLICT (client_id, day) DO NOTHING",
        client.client_id, day);
    if (tx.execute("UPDATE delivery_client_days SET accepted = accepted + 1 WHERE client_id = ? "
                   "AND day = ? AND accepted < ?",
                   client.client_id, day, static_cast<std::int64_t>(limits.daily_quota)) != 1) {
      return quota_used();
    }
    d.audit.append(
        tx, {.actor = "client:" + client.client_id,
             .action = "notice.accepted",
             .object_type = "notice",
             .object_id = id,
             .detail = fmt::format(R"({{"mailboxType":"{}","documents":{}}})", type, docs.size())});
    return true;
  });
  if (!inserted) return fail(inserted.error());
  if (!*inserted) {
    // The same key at the same moment from a second request: the first one counts.
    if (auto earlier = replay()) return *earlier;
    throw core::Failure("a notice conflicted on insert, but no earlier one has its key");
  }
  auto n = d.owned(client, id);
  if (!n) return fail(n.error());
  return Accepted{*n, false};
}

core::JobOutcome Delivery::Impl::deliver(core::JobContext& ctx) {
  auto id = parse_object(ctx.job.payload)->getValue<std::string>("noticeId");
  std::optional<Notice> n;
  std::string body;
  if (auto r = db.query_one(
          fmt::format("SELECT {}, body FROM delivery_notices WHERE id = ?", kNoticeColumns), id)) {
    n = read_notice(*r);
    body = r->text(kNoticeColumnCount);
  }
  if (!n || is_final(n->status)) return core::JobOutcome::ok();
  auto adapter = adapters.find(n->mailbox_type);
  if (adapter == adapters.end()) {
    return conclude(ctx, id, {}, [&](core::db::Tx&) -> DeliveryResult {
      return std::unexpected(DeliveryFailure{
          false, "no_adapter", "this instance has no adapter for " + n->mailbox_type});
    });
  }
  auto out = outgoing(*n, std::move(body));
  // A mailbox in our own database stores the notice in the transaction that records the
  // attempt and the receipt.
  LocalStore local;
  try {
    local = adapter->second->stage(out);
  } catch (const std::exception& e) {
    // Writing the documents failed (a full disk, the database away): a failed attempt,
    // retried within the notice's window like any other.
    local = [error = std::string(e.what())](core::db::Tx&) -> DeliveryResult {
      return std::unexpected(DeliveryFailure{false, "error", error});
    };
  }
  if (local) return conclude(ctx, id, n->documents, local);
  // Elsewhere, the attempt is counted and recorded before anything leaves the building.
  bool go = db.transaction([&](core::db::Tx& tx) {
    auto locked = lock_for_attempt(tx, id, Counted::before);
    return begin_attempt(tx, id, locked, Counted::before).has_value();
  });
  if (!go) return core::JobOutcome::ok();
  DeliveryResult result;
  try {
    result = adapter->second->deliver(out);
  } catch (const std::exception& e) {
    result = std::unexpected(DeliveryFailure{false, "error", e.what()});
  }
  bool completed = db.transaction([&](core::db::Tx& tx) {
    // A worker that lost its lease leaves the outcome to the one that took over.
    if (!jobs.complete(tx, ctx.job)) return false;
    if (auto now = load(tx, id, true)) {
      Attempt a{*now, proof_head(tx, id)};
      a.notice.documents = n->documents;
      record_outcome(tx, ctx, a, result);
    }
    return true;
  });
  return completed ? core::JobOutcome::completed() : core::JobOutcome::ok();
}

core::JobOutcome Delivery::Impl::conclude(core::JobContext& ctx, const std::string& id,
                                          const std::vector<DocumentInfo>& documents,
                                          const LocalStore& store) {
  // True when this worker still held the job and marked it done.
  auto attempt = [&](core::db::Tx& tx, const LocalStore& step) {
    // One round trip: the job's completion, the notice's lock, its proof head.
    auto held = jobs.complete_later(tx, ctx.job);
    auto locked = lock_for_attempt(tx, id, Counted::with_outcome);
    if (held.rows().empty()) return false;
    if (auto a = begin_attempt(tx, id, locked, Counted::with_outcome)) {
      a->notice.documents = documents;
      record_outcome(tx, ctx, *a, step(tx));
    }
    return true;
  };
  auto outcome = [](bool completed) {
    return completed ? core::JobOutcome::completed() : core::JobOutcome::ok();
  };
  std::string error;
  try {
    return outcome(db.transaction([&](core::db::Tx& tx) { return attempt(tx, store); }));
  } catch (const std::exception& e) {
    error = e.what();
  }
  // The transaction failed (the store mid-way, or a write that went with it) and took
  // everything with it: the attempt and its failure are recorded on their own, and the
  // notice is retried within its window.
  return outcome(db.transaction([&](core::db::Tx& tx) {
    return attempt(tx, [&](core::db::Tx&) -> DeliveryResult {
      return std::unexpected(DeliveryFailure{false, "error", error});
    });
  }));
}

Delivery::Impl::Locked Delivery::Impl::lock_for_attempt(core::db::Tx& tx, const std::string& id,
                                                        Counted counted) {
  // Locked, not written, when the outcome's one update writes the row (each update of it
  // writes every index, as its status changes).
  auto notice =
      counted == Counted::before
          ? tx.query_later(
                fmt::format("UPDATE delivery_notices SET status = ?, attempts = attempts + 1, "
                            "next_attempt_at = NULL, updated_at = ? WHERE id = ? AND status NOT "
                            "IN (?, ?, ?) RETURNING {}",
                            kNoticeColumns),
                kDelivering, now_ms(), id, kStored, kRetrieved, kUndeliverable)
          : tx.query_later(fmt::format("SELECT {} FROM delivery_notices WHERE id = ?{}",
                                       kNoticeColumns, tx.for_update()),
                           id);
  // A statement of its own after the lock: it sees what another transaction on the notice
  // committed while this one waited for the lock.
  return {std::move(notice), tx.query_later(kProofHead, id)};
}

// Records the attempt, unless the notice has ended meanwhile; a.notice.attempts is the
// attempt's number, counted already or left to record_outcome.
std::optional<Delivery::Impl::Attempt> Delivery::Impl::begin_attempt(core::db::Tx& tx,
                                                                     const std::string& id,
                                                                     Locked& locked,
                                                                     Counted counted) {
  const auto& rows = locked.notice.rows();
  if (rows.empty()) return std::nullopt;
  Attempt a{read_notice(rows.front()), proof_head_of(locked.head.rows())};
  if (counted == Counted::with_outcome) {
    if (is_final(a.notice.status)) return std::nullopt;
    ++a.notice.attempts;
  }
  Json detail(Poco::JSON_PRESERVE_KEY_ORDER);
  detail.set("attempt", a.notice.attempts);
  detail.set("mailboxType", a.notice.mailbox_type);
  record(tx, id, a.head, "attempt", kDelivering, detail);
  return a;
}

// What leaves for the mailbox: the notice with its documents in the clear. Fills
// n.documents for the receipt.
OutgoingNotice Delivery::Impl::outgoing(Notice& n, std::string body) {
  OutgoingNotice out{
      .id = n.id,
      .sender = n.tenant_id,
      .address = n.recipient.substr(n.recipient.find(':') + 1),
      .subject = n.subject,
      .body = std::move(body),
      .reference = n.reference,
      .required_level =
          identity::parse_level(n.required_level).value_or(identity::TrustLevel::high),
      .documents = {},
      .retrieval_confirmation_url = {}};
  if (auto name = senders.name(n.tenant_id)) out.sender = *name;
  if (n.mailbox_type != "mvsp") out.retrieval_confirmation_url = retrieval_url(n.id);
  auto& store = store_for(n.tenant_id);
  n.documents.clear();
  for (const auto& r : db.query("SELECT position, filename, media_type, size, sha256, sha512, "
                                "blob_id FROM delivery_documents WHERE notice_id = ? "
                                "ORDER BY position",
                                n.id)) {
    auto content = store.read_all(r.text(6));
    if (!content) {
      throw core::Failure("a document of notice " + n.id +
                          " cannot be read: " + content.error().message);
    }
    n.documents.push_back(
        {static_cast<int>(r.integer(0)), r.text(1), r.text(2), r.integer(3), r.text(4), r.text(5)});
    out.documents.push_back({r.text(1), r.text(2), std::move(*content), r.text(5)});
  }
  return out;
}

// The outcome of attempt a.notice.attempts, in the transaction that completes the job.
void Delivery::Impl::record_outcome(core::db::Tx& tx, core::JobContext& ctx, Attempt& a,
                                    const DeliveryResult& result) {
  const auto& n = a.notice;
  const auto& id = n.id;
  int attempt = n.attempts;
  auto now = clock.now();
  if (result) {
    tx.execute_later(
        "UPDATE delivery_notices SET status = ?, reason = '', stored_at = ?, "
        "receipt_message_id = ?, deemed_announced_on = ?, attempts = ?, next_attempt_at = NULL, "
        "updated_at = ? WHERE id = ?",
        kStored, core::to_millis(result->stored_at), result->message_id,
        result->deemed_announced_on, attempt, core::to_millis(now), id);
    Json detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("attempt", attempt);
    detail.set("messageId", result->message_id);
    detail.set("storedAt", core::format_utc(result->stored_at));
    if (!result->deemed_announced_on.empty()) {
      detail.set("deemedAnnouncedOn", result->deemed_announced_on);
    }
    detail.set("documents", documents_json(n.documents));
    record(tx, id, a.head, "receipt", kStored, detail);
    return;
  }
  const auto& f = result.error();
  if (f.permanent) {
    undeliverable(tx, n, a.head, f.reason, f.detail);
    return;
  }
  auto unit = core::crypto::random_unit();
  auto delay = core::backoff_delay(attempt, {options.first_retry, options.max_retry_delay}, unit);
  auto next = now + delay;
  if (next > n.accepted_at + options.retry_window) {
    undeliverable(tx, n, a.head, "retries_exhausted", f.reason + ": " + f.detail);
    return;
  }
  tx.execute_later(
      "UPDATE delivery_notices SET status = ?, reason = ?, attempts = ?, next_attempt_at = ?, "
      "updated_at = ? WHERE id = ?",
      kFailedRetrying, f.reason, attempt, core::to_millis(next), core::to_millis(now), id);
  Json detail(Poco::JSON_PRESERVE_KEY_ORDER);
  detail.set("attempt", attempt);
  detail.set("reason", f.reason);
  detail.set("detail", f.detail);
  detail.set("nextAttemptAt", core::format_utc(next));
  record(tx, id, a.head, "attempt_failed", kFailedRetrying, detail);
  jobs.enqueue_later(tx, {.kind = "delivery.deliver",
                          .payload = ctx.job.payload,
                          .idempotency_key = fmt::format("delivery.deliver:{}:{}", id, attempt + 1),
                          .run_at = next,
                          .max_attempts = 5});
}

core::JobOutcome Delivery::Impl::callback(const std::string& notice_id, int seq) {
  auto n = db.query_one(
      "SELECT n.client_id, n.reference, n.status, n.reason, n.postal_fallback_required, "
      "p.step, p.status, p.at, c.callback_url, c.callback_secret FROM delivery_notices n "
      "JOIN delivery_proof p ON p.notice_id = n.id AND p.seq = ? "
      "JOIN delivery_clients c ON c.client_id = n.client_id WHERE n.id = ?",
      seq, notice_id);
  if (!n || n->text(8).empty()) return core::JobOutcome::ok();
  auto secret = core::crypto::open(sealing_key, n->text(9));
  if (!secret) return core::JobOutcome::permanent("the callback secret cannot be opened");
  Json body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("noticeId", notice_id);
  body.set("seq", seq);
  body.set("step", n->text(5));
  body.set("status", n->text(6));
  body.set("at", core::format_utc(core::from_millis(n->integer(7))));
  body.set("currentStatus", n->text(2));
  if (!n->text(3).empty()) body.set("reason", n->text(3));
  body.set("postalFallbackRequired", n->integer(4) != 0);
  if (!n->text(1).empty()) body.set("reference", n->text(1));
  if (auto sent =
          web::post_signed(options.fetch, n->text(8), *secret, stringify(body), clock.now());
      !sent) {
    return core::JobOutcome::retry(sent.error().message);
  }
  return core::JobOutcome::ok();
}

core::Result<Notice> Delivery::find(const Client& client, const std::string& id) {
  auto& d = *impl_;
  auto n = d.owned(client, id);
  if (!n) return n;
  // The back office has the final receipt now: the documents' keeping time starts.
  if (is_final(n->status) && !n->receipt_fetched_at) {
    auto now = d.now_ms();
    d.db.execute(
        "UPDATE delivery_notices SET receipt_fetched_at = ? WHERE id = ? AND "
        "receipt_fetched_at IS NULL",
        now, id);
    n->receipt_fetched_at = core::from_millis(now);
  }
  return n;
}

core::Result<std::vector<ProofRecord>> Delivery::events(const Client& client,
                                                        const std::string& id) {
  auto n = impl_->owned(client, id);
  if (!n) return fail(n.error());
  return impl_->proof(id);
}

std::string Delivery::evidence_public_key() const {
  return core::crypto::ed25519_public_key(impl_->evidence_seed);
}

std::string Delivery::evidence_key_id() const {
  return core::crypto::sha256_hex(evidence_public_key()).substr(0, 16);
}

core::Result<std::string> Delivery::evidence(const Client& client, const std::string& id) {
  auto n = impl_->owned(client, id);
  if (!n) return fail(n.error());
  auto records = impl_->proof(id);
  Json notice(Poco::JSON_PRESERVE_KEY_ORDER);
  notice.set("id", n->id);
  notice.set("tenantId", n->tenant_id);
  notice.set("clientId", n->client_id);
  notice.set("recipient", n->recipient);
  notice.set("subject", n->subject);
  notice.set("reference", n->reference);
  notice.set("requiredTrustLevel", n->required_level);
  notice.set("status", n->status);
  notice.set("documents", documents_json(n->documents));
  Poco::JSON::Array list;
  for (const auto& r : records) {
    Json o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("seq", r.seq);
    o.set("at", core::format_utc(r.at));
    o.set("step", r.step);
    o.set("status", r.status);
    o.set("detail", r.detail);
    o.set("prevHash", r.prev_hash);
    o.set("hash", r.hash);
    list.add(o);
  }
  auto head = records.empty() ? std::string() : records.back().hash;
  Json signature(Poco::JSON_PRESERVE_KEY_ORDER);
  signature.set("alg", "Ed25519");
  signature.set("keyId", evidence_key_id());
  signature.set("signed", "mvsp-evidence/1 LF noticeId LF number of records LF head");
  signature.set("value", core::crypto::base64(core::crypto::ed25519_sign(
                             impl_->evidence_seed,
                             signed_head(n->id, static_cast<int>(records.size()), head))));
  Json out(Poco::JSON_PRESERVE_KEY_ORDER);
  out.set("format", "mvsp-evidence/1");
  out.set("notice", notice);
  out.set("records", list);
  out.set("head", head);
  out.set("signature", signature);
  std::ostringstream text;
  out.stringify(text, 2);
  return text.str();
}

EvidenceCheck Delivery::verify_evidence(std::string_view json, std::string_view public_key) {
  EvidenceCheck check;
  try {
    auto o = parse_object(std::string(json));
    if (o->optValue<std::string>("format", "") != "mvsp-evidence/1") {
      check.problem = "not an mvsp-evidence/1 file";
      return check;
    }
    auto notice = o->getObject("notice");
    check.notice_id = notice->getValue<std::string>("id");
    auto records = o->getArray("records");
    std::string prev;
    for (std::size_t i = 0; i < records->size(); ++i) {
      auto r = records->getObject(static_cast<unsigned>(i));
      int seq = r->getValue<int>("seq");
      auto at_text = r->getValue<std::string>("at");
      if (seq != static_cast<int>(i) + 1 || r->getValue<std::string>("prevHash") != prev) {
        check.problem = fmt::format("record {} does not follow record {}", i + 1, i);
        return check;
      }
      // The time as written in the record is what was hashed (format_utc form).
      auto expected = core::crypto::sha256_hex(
          fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}", prev, check.notice_id, seq, at_text,
                      r->getValue<std::string>("step"), r->getValue<std::string>("status"),
                      r->getValue<std::string>("detail")));
      if (expected != r->getValue<std::string>("hash")) {
        check.problem = fmt::format("record {} was altered (its hash does not match)", seq);
        return check;
      }
      prev = expected;
      ++check.records;
    }
    if (o->getValue<std::string>("head") != prev) {
      check.problem = "the head is not the last record's hash";
      return check;
    }
    auto sig =
        core::crypto::base64_decode(o->getObject("signature")->getValue<std::string>("value"));
    if (!sig || !core::crypto::ed25519_verify(
                    public_key, signed_head(check.notice_id, check.records, prev), *sig)) {
      check.problem = "the signature does not verify with this key";
      return check;
    }
    check.ok = true;
  } catch (const std::exception& e) {
    check.problem = std::string("not readable: ") + e.what();
  }
  return check;
}

std::string Delivery::retrieval_url(const std::string& id) const {
  return impl_->retrieval_url(id);
}

core::Status Delivery::confirm_retrieval(const std::string& id, const std::string& token) {
  auto expected = core::crypto::to_hex(core::crypto::hmac_sha256(impl_->retrieval_key, id));
  if (!core::crypto::equal_constant_time(expected, token)) {
    return fail(Error::not_found("no such notice"));
  }
  auto outcome = impl_->retrieved(id, impl_->clock.now(), "external_mailbox");
  if (outcome.kind != core::JobOutcome::Kind::done) {
    return fail(Error::conflict("the notice is not stored yet"));
  }
  return {};
}

core::Result<std::string> Delivery::configure_client(const std::string& client_id,
                                                     const ClientSettings& s) {
  auto& d = *impl_;
  if (!s.callback_url.empty() && !s.callback_url.starts_with("https://") &&
      !s.callback_url.starts_with("http://")) {
    return fail(Error::invalid("callback_url", "must be an http(s) URL"));
  }
  if (s.rate_per_second && *s.rate_per_second <= 0) {
    return fail(Error::invalid("rate", "must be greater than 0"));
  }
  if (s.burst && *s.burst < 1) return fail(Error::invalid("burst", "must be at least 1"));
  if (s.daily_quota && *s.daily_quota < 0) {
    return fail(Error::invalid("daily_quota", "must be 0 or more"));
  }
  auto secret = s.callback_url.empty() ? std::string() : core::crypto::random_token(32);
  d.db.transaction([&](core::db::Tx& tx) {
    tx.execute("DELETE FROM delivery_clients WHERE client_id = ?", client_id);
    tx.execute(
        "INSERT INTO delivery_clients (client_id, callback_url, callback_secret, "
        "rate_per_second, burst, daily_quota, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        client_id, s.callback_url,
        secret.empty() ? std::string() : core::crypto::seal(d.sealing_key, secret),
        s.rate_per_second ? core::db::Value(*s.rate_per_second) : core::db::Value(),
        s.burst ? core::db::Value(static_cast<std::int64_t>(*s.burst)) : core::db::Value(),
        s.daily_quota ? core::db::Value(static_cast<std::int64_t>(*s.daily_quota))
                      : core::db::Value(),
        d.now_ms());
    d.audit.append(tx, {.actor = "operator:cli",
                        .action = "delivery.client_configured",
                        .object_type = "client",
                        .object_id = client_id});
  });
  {
    std::lock_guard lock(d.buckets_mutex);
    d.buckets.erase(client_id);
  }
  return secret;
}

int Delivery::delete_expired_documents() {
  auto& d = *impl_;
  auto cutoff = core::to_millis(d.clock.now() - d.options.keep_documents);
  int cleaned = 0;
  for (const auto& r : d.db.query(
           "SELECT id, tenant_id FROM delivery_notices WHERE documents_deleted_at IS NULL AND "
           "receipt_fetched_at IS NOT NULL AND receipt_fetched_at <= ? LIMIT 500",
           cutoff)) {
    const auto& id = r.text(0);
    auto& store = d.store_for(r.text(1));
    std::vector<std::string> orphans;
    d.db.transaction([&](core::db::Tx& tx) {
      if (tx.execute("UPDATE delivery_notices SET documents_deleted_at = ? WHERE id = ? AND "
                     "documents_deleted_at IS NULL",
                     d.now_ms(), id) != 1) {
        return;
      }
      // A blob another notice still keeps stays (the store is content-addressed).
      for (const auto& b :
           tx.query("SELECT DISTINCT blob_id FROM delivery_documents WHERE notice_id = ? AND NOT "
                    "EXISTS (SELECT 1 FROM delivery_documents o JOIN delivery_notices n ON "
                    "n.id = o.notice_id WHERE o.blob_id = delivery_documents.blob_id AND "
                    "o.notice_id <> ? AND n.documents_deleted_at IS NULL)",
                    id, id)) {
        orphans.push_back(b.text(0));
      }
      Json detail;
      detail.set("documents", static_cast<int>(orphans.size()));
      auto status = tx.query_one("SELECT status FROM delivery_notices WHERE id = ?", id)->text(0);
      d.record(tx, id, "documents_deleted", status, detail);
    });
    auto names = d.named_among(r.text(1));
    for (const auto& b : orphans) core::remove_unless_named(d.db, store, kBlobLock, b, names);
    ++cleaned;
  }
  return cleaned;
}

int Delivery::remove_unnamed_documents() {
  auto& d = *impl_;
  int removed = 0;
  for (const auto& r : d.db.query("SELECT tenant_id FROM delivery_tenant_keys")) {
    removed += core::remove_unnamed_blobs(d.db, d.store_for(r.text(0)), kBlobLock,
                                          d.clock.now() - core::kUnnamedBlobGrace,
                                          d.named_among(r.text(0)));
  }
  return removed;
}

std::int64_t Delivery::forget_past_quota_days() {
  auto& d = *impl_;
  auto today = std::chrono::floor<std::chrono::days>(d.clock.now()).time_since_epoch().count();
  return d.db.execute("DELETE FROM delivery_client_days WHERE day < ?",
                      static_cast<std::int64_t>(today - 1));
}

std::map<std::string, std::int64_t> Delivery::counts() {
  std::map<std::string, std::int64_t> out;
  for (const auto& r :
       impl_->db.query("SELECT status, COUNT(*) FROM delivery_notices GROUP BY status")) {
    out[r.text(0)] = r.integer(1);
  }
  return out;
}

void Delivery::register_jobs(core::JobRunner& runner) {
  auto* d = impl_.get();
  runner.handle("delivery.deliver", [d](core::JobContext& ctx) { return d->deliver(ctx); });
  runner.handle(kMailboxEventJob, [d](core::JobContext& ctx) {
    auto p = parse_object(ctx.job.payload);
    auto ref = p->getValue<std::string>("sourceRef");
    if (!ref.starts_with("delivery:")) return core::JobOutcome::permanent("not a notice: " + ref);
    auto id = ref.substr(9);
    auto event = p->getValue<std::string>("event");
    auto at = core::from_millis(d->now_ms());
    if (event == "retrieved") return d->retrieved(id, at, "mvsp_mailbox");
    if (event == "not_retrieved" || event == "owner_deleted") {
      bool deleted = event == "owner_deleted";
      bool too_early = d->db.transaction([&](core::db::Tx& tx) {
        auto n = d->load(tx, id);
        // The mailbox stores before this service records "stored": an event in between
        // waits for that record, so that it is not lost.
        if (n && n->status == kDelivering) return true;
        if (!n || n->status != kStored) return false;
        d->undeliverable(tx, *n, deleted ? "account_deleted" : "not_retrieved",
                         deleted
                             ? "the recipient's account was deleted before the notice was retrieved"
                             : "the notice was not retrieved within the retrieval period");
        return false;
      });
      return too_early ? core::JobOutcome::retry("the notice is not recorded as stored yet")
                       : core::JobOutcome::ok();
    }
    return core::JobOutcome::permanent("unknown mailbox event " + event);
  });
  runner.handle("delivery.callback",
                [d](core::JobContext& ctx) {
                  auto p = parse_object(ctx.job.payload);
                  return d->callback(p->getValue<std::string>("noticeId"), p->getValue<int>("seq"));
                },
                {std::chrono::seconds(10), std::chrono::hours(1)});
  runner.handle("delivery.alert", [d](core::JobContext& ctx) {
    auto id = parse_object(ctx.job.payload)->getValue<std::string>("noticeId");
    auto n = d->load(*d->db.acquire(), id);
    if (!n) return core::JobOutcome::ok();
    core::log::error("delivery.undeliverable",
                     {{"notice", id}, {"tenant", n->tenant_id}, {"reason", n->reason}});
    const auto& texts = *d->options.texts;
    auto subject = fmt::format(fmt::runtime(texts.text("de", "delivery.alert.subject")),
                               n->reference.empty() ? id : n->reference);
    auto body = fmt::format(fmt::runtime(texts.text("de", "delivery.alert.body")), id, n->reference,
                            n->recipient, n->reason, core::format_berlin(n->accepted_at), id);
    // One mail job per contact, each with its own key: a contact the server refuses is
    // retried alone, and this job run twice queues nobody twice.
    auto contacts = d->senders.contacts(n->tenant_id);
    d->db.transaction([&](core::db::Tx& tx) {
      for (const auto& to : contacts) {
        core::queue_mail(d->jobs, tx, {to, subject, body}, "delivery.alert:" + id + ":" + to);
      }
    });
    return core::JobOutcome::ok();
  });
}

}  // namespace mvsp::delivery
