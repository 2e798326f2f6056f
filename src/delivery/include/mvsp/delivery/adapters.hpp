#pragma once
// Mailbox types behind one small port: the delivery service hands a notice to the
// adapter of the recipient's mailbox type and gets the storage receipt back, or a
// failure that says whether trying again can help. A new type is one new adapter.

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/identity/level.hpp>
#include <mvsp/web/client.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::core::db {
class Connection;
}

namespace mvsp::mailbox {
class Mailbox;
}

namespace mvsp::delivery {

struct OutgoingDocument {
  std::string filename;
  std::string media_type;
  std::string content;
  std::string sha512;  // lower-case hex of the content
};

struct OutgoingNotice {
  std::string id;  // the notice id: the same on every attempt, so receivers store it once
  std::string sender;
  std::string address;  // the mailbox id without its type prefix
  std::string subject;
  std::string body;
  std::string reference;
  identity::TrustLevel required_level = identity::TrustLevel::low;
  std::vector<OutgoingDocument> documents;
  // Where an external mailbox confirms that the recipient opened the notice.
  std::string retrieval_confirmation_url;
};

// The storage receipt (Einlagerungsbestätigung).
struct DeliveryReceipt {
  std::string message_id;  // the message's id in the target mailbox
  core::TimePoint stored_at;
  std::string deemed_announced_on;  // ISO day, when the mailbox computes it
};

struct DeliveryFailure {
  bool permanent = false;  // e.g. the account was deleted: no retry can help
  std::string reason;      // a stable code: "unreachable", "account_deleted", "rejected", …
  std::string detail;      // for the proof log and the operator; never document content
};

using DeliveryResult = std::expected<DeliveryReceipt, DeliveryFailure>;

// Stores a staged notice in the caller's transaction.
using LocalStore = std::function<DeliveryResult(core::db::Connection& tx)>;

class MailboxAdapter {
 public:
  virtual ~MailboxAdapter() = default;
  // The prefix of mailbox ids of this type: "mvsp", "bundid", "muk".
  virtual std::string type() const = 0;
  // Whether `address` (the part after "type:") can be a mailbox of this type.
  virtual bool valid_address(std::string_view address) const = 0;
  virtual DeliveryResult deliver(const OutgoingNotice& notice) = 0;
  // For a mailbox in the platform's own database: does what can be done before a
  // transaction (checks, documents written) and returns the step that stores the notice
  // in the delivery's own transaction, so that the attempt, the message and the receipt
  // commit together. Empty for a mailbox elsewhere, which deliver() reaches.
  virtual LocalStore stage(const OutgoingNotice&) { return {}; }
};

// The platform's own mailbox (`mvsp:<account or organisation id>`), written through the
// mailbox component; retrievals come back as jobs of kind `event_job_kind`.
std::unique_ptr<MailboxAdapter> make_mvsp_adapter(mailbox::Mailbox& mailbox,
                                                  std::string event_job_kind);

// A federal mailbox in the ZBP message_v6 format: BundID's citizen mailbox (`bundid:`)
// and the organisation mailbox of Mein Unternehmenskonto (`muk:`), each at its endpoint.
struct ZbpOptions {
  std::string type;      // "bundid" or "muk"
  std::string endpoint;  // base URL; messages are posted to <endpoint>/messages
  std::string author_key_pem;
  std::string author_certificate_pem;  // its subject must carry a CN
  std::string service;                 // "service" in the message, e.g. "Serviceportal MV"
  std::string bearer_token;            // sent as Authorization when set
  // Given by the composition root: the time stamped into envelopes and receipts, and the
  // transport to the mailbox (with its time-out).
  const core::Clock* clock = nullptr;
  web::HttpFetch fetch;
};
std::unique_ptr<MailboxAdapter> make_zbp_adapter(ZbpOptions options);

// The signed message_v6 envelope (the four strings content, sha512sum, authorToken,
// authorCertificate) for a notice, as JSON text.
std::string zbp_envelope(const OutgoingNotice& notice, const ZbpOptions& options,
                         core::TimePoint now);

// A message_v6 envelope as a receiver checks it: the RSA-SHA512 signature over content and
// the RS512 author token with the key of the enclosed certificate, the token's expiry,
// and the required fields.
struct ZbpMessage {
  std::string signer;  // the author certificate's CN
  int stork_qaa_level = 1;
  std::string mailbox_uuid;
  std::string sender;
  std::string title;
  std::string content;
  std::string service;
  std::string reference;
  std::string retrieval_confirmation_address;
  struct Attachment {
    std::string filename;
    std::string sha512;
    std::int64_t content_length = 0;
  };
  std::vector<Attachment> attachments;
};
core::Result<ZbpMessage> open_zbp_envelope(std::string_view json, core::TimePoint now);

// STORK-QAA level (1–4) of a trust level, and back.
int stork_level(identity::TrustLevel level);

}  // namespace mvsp::delivery
