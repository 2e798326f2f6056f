#pragma once
// The delivery service (Postfachdienst): takes a notice with a mailbox id from a
// back-office system, delivers it through the adapter of the mailbox type, collects the
// storage receipt, retries what can succeed later, reports final failure so that the
// authority announces by post, and keeps a hash-chained proof log per notice.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/resources.hpp>
#include <mvsp/delivery/adapters.hpp>
#include <mvsp/identity/level.hpp>
#include <mvsp/web/client.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mvsp::core {
class IdGenerator;
class JobQueue;
class JobRunner;
class AuditLog;
namespace db {
class Database;
}
}  // namespace mvsp::core

namespace mvsp::web {
class Catalog;
}

namespace mvsp::delivery {

// Migrations, templates and message catalogs, compiled in.
std::span<const core::Resource> embedded_resources();

// Statuses, in the API's words.
inline constexpr const char* kAccepted = "accepted";
inline constexpr const char* kDelivering = "delivering";
inline constexpr const char* kStored = "stored";
inline constexpr const char* kRetrieved = "retrieved";
inline constexpr const char* kFailedRetrying = "failed_retrying";
inline constexpr const char* kUndeliverable = "undeliverable";

struct Limits {
  double rate_per_second = 20;  // token bucket per client
  int burst = 40;
  int daily_quota = 10000;  // notices per client and UTC day
};

struct DeliveryOptions {
  std::string public_url;
  std::string master_key;               // 32 bytes; tenant keys are sealed with a key from it
  std::filesystem::path data_dir;       // documents under <data_dir>/delivery/<tenant>
  std::chrono::hours retry_window{96};  // retries stop this long after acceptance
  std::chrono::milliseconds first_retry{std::chrono::minutes(1)};
  std::chrono::milliseconds max_retry_delay{std::chrono::hours(6)};
  std::chrono::hours keep_documents{24 * 30};  // after the final receipt was fetched
  std::size_t max_document_bytes = 20 * 1024 * 1024;
  Limits limits;
  const web::Catalog* texts = nullptr;  // the operator alert's wording
  web::HttpFetch fetch;                 // required: calls the senders' callback addresses
};

struct NewDocument {
  std::string filename;
  std::string media_type;
  std::string content;
};

struct NewNotice {
  std::string recipient;  // mailbox id "type:address"
  std::string subject;
  std::string body;
  std::string required_level = "low";
  std::string reference;
  std::vector<NewDocument> documents;
};

// The machine client that calls, as the identity component authenticated it.
struct Client {
  std::string client_id;
  std::string tenant_id;
};

struct DocumentInfo {
  int position = 0;
  std::string filename;
  std::string media_type;
  std::int64_t size = 0;
  std::string sha256;
  std::string sha512;
};

struct Notice {
  std::string id;
  std::string tenant_id;
  std::string client_id;
  std::string recipient;
  std::string mailbox_type;
  std::string subject;
  std::string reference;
  std::string required_level;
  std::string status;
  std::string reason;
  bool postal_fallback_required = false;
  int attempts = 0;
  core::TimePoint accepted_at;
  core::TimePoint updated_at;
  std::optional<core::TimePoint> next_attempt_at;
  std::optional<core::TimePoint> stored_at;
  std::optional<core::TimePoint> retrieved_at;
  std::string receipt_message_id;
  std::string deemed_announced_on;
  std::optional<core::TimePoint> receipt_fetched_at;
  std::optional<core::TimePoint> documents_deleted_at;
  std::vector<DocumentInfo> documents;
};

// One record of the proof log.
struct ProofRecord {
  int seq = 0;
  core::TimePoint at;
  std::string step;    // accepted, attempt, attempt_failed, receipt, retrieval, final, …
  std::string status;  // the notice's status after the step
  std::string detail;  // JSON object
  std::string prev_hash;
  std::string hash;
};

struct Accepted {
  Notice notice;
  bool replayed = false;  // the same Idempotency-Key and request: the first notice
};

// An exported evidence file, checked: the chain, the head and the signature.
struct EvidenceCheck {
  bool ok = false;
  std::string problem;
  std::string notice_id;
  int records = 0;
};

// The authorities (tenants) that send notices: the name a recipient sees and who is told
// when a notice cannot be delivered. Identity knows them; src/app wires it in, so delivery
// needs nothing else of identity.
class Senders {
 public:
  virtual ~Senders() = default;
  virtual std::optional<std::string> name(std::string_view tenant_id) = 0;
  virtual std::vector<std::string> contacts(std::string_view tenant_id) = 0;
};

class Delivery {
 public:
  Delivery(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
           core::JobQueue& jobs, core::AuditLog& audit, Senders& senders, DeliveryOptions options);
  ~Delivery();

  void add_adapter(std::unique_ptr<MailboxAdapter> adapter);
  std::vector<std::string> mailbox_types() const;

  // Takes a notice; with the same idempotency key and the same request, returns the
  // first notice (replayed); with another request under the same key, conflict.
  // rate_limited carries the wait in `retry_after`.
  core::Result<Accepted> accept(const Client& client, const NewNotice& notice,
                                const std::string& idempotency_key);

  // The notice of the client's tenant; not_found for any other. Reading a final notice
  // marks its receipt fetched (documents are deleted a while later).
  core::Result<Notice> find(const Client& client, const std::string& id);
  core::Result<std::vector<ProofRecord>> events(const Client& client, const std::string& id);
  // The evidence file (JSON) for a notice: its metadata, document hashes, every proof
  // record with its hash, and an Ed25519 signature over the chain's head.
  core::Result<std::string> evidence(const Client& client, const std::string& id);
  // The public key evidence is signed with (raw 32 bytes) and its id.
  std::string evidence_public_key() const;
  std::string evidence_key_id() const;
  static EvidenceCheck verify_evidence(std::string_view json, std::string_view public_key);

  // An external mailbox confirms retrieval at the URL we gave it (token from that URL).
  core::Status confirm_retrieval(const std::string& id, const std::string& token);
  std::string retrieval_url(const std::string& id) const;

  // Client settings: callback URL (returns the new callback secret when one is set) and
  // limits; a limit left empty uses the default.
  struct ClientSettings {
    std::string callback_url;
    std::optional<double> rate_per_second;
    std::optional<int> burst;
    std::optional<int> daily_quota;
  };
  core::Result<std::string> configure_client(const std::string& client_id,
                                             const ClientSettings& settings);

  // Deletes documents whose time is up; returns how many notices were cleaned.
  int delete_expired_documents();
  // Removes the documents that no notice names and that were written more than an hour
  // ago (an accept refused or failed after writing them); returns how many.
  int remove_unnamed_documents();
  // Deletes the daily-quota counters of days before yesterday (UTC); returns how many.
  std::int64_t forget_past_quota_days();
  // Notices per status, for metrics.
  std::map<std::string, std::int64_t> counts();
  // The retry schedule: the earliest and latest delay before attempt n+1 after n failures.
  std::pair<std::chrono::milliseconds, std::chrono::milliseconds> retry_delay(int failures) const;

  // Registers the jobs: delivery.deliver, delivery.mailbox_event, delivery.callback,
  // delivery.alert (which queues one core.mail job per contact of the authority).
  void register_jobs(core::JobRunner& runner);
  // The job kind the mvsp mailbox reports retrievals with.
  static constexpr const char* kMailboxEventJob = "delivery.mailbox_event";

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::delivery
