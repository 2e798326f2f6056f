#pragma once
// The electronic application steering (eAst): the citizen's "Vorhaben" from the start of an
// online service for a place through identification, the form, the documents and the
// payment to the submission, the hand-over to the authority's case management and the
// status the person follows in "Meine Anträge"; guest access by a mailed link; drafts
// that are reminded of and expire; Vorhaben of external online services.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/resources.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/identity/level.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::core {
class IdGenerator;
class JobQueue;
class JobRunner;
class AuditLog;
class BlobStore;
class VirusScanner;
namespace db {
class Database;
}
}  // namespace mvsp::core
namespace mvsp::forms {
class Forms;
}
namespace mvsp::payments {
class Payments;
struct Order;
}  // namespace mvsp::payments
namespace mvsp::cases {
class Cases;
class Casework;
struct DocumentRequest;
struct Message;
struct MessageFile;
}  // namespace mvsp::cases
namespace mvsp::mailbox {
class Mailbox;
}
namespace mvsp::web {
class Catalog;
}

namespace mvsp::applications {

std::span<const core::Resource> embedded_resources();

// The jobs that act on the case management's events (the component subscribes them):
// the status follows the Vorgang's state, a reminder of a document request, a message.
inline constexpr std::string_view kFollowCaseJob = "applications.follow_case";
inline constexpr std::string_view kRequestReminderJob = "applications.request_reminder";
// A clerk wrote: the applicant is told where to read it.
inline constexpr std::string_view kMessageJob = "applications.message";
// A clerk forwarded the Vorgang to another authority: the Vorhaben names the new one, and
// the applicant is told.
inline constexpr std::string_view kForwardedJob = "applications.forwarded";

// The status as the citizen reads it (texts in the message catalog, status.<name>).
enum class Status {
  draft,                // Entwurf
  submitted,            // eingereicht: the portal has it, the authority not yet
  received,             // bei der Behörde eingegangen: the destination confirmed receipt
  in_progress,          // in Bearbeitung
  query,                // Rückfrage
  documents_requested,  // Unterlagen nachreichen
  decided,              // entschieden
  withdrawn,            // zurückgezogen
  ended,                // ohne Entscheidung beendet
};
std::string_view status_name(Status status);
std::optional<Status> parse_status(std::string_view name);

// Who owns a Vorhaben: an account, the organisation a person acts for, or a guest (known
// by a confirmed e-mail address only).
struct Owner {
  std::string kind;  // account, organisation, guest
  std::string id;    // the account or organisation; "" for a guest
};

// Who asks: the signed-in person (and the organisation they act for), or a browser that
// holds guest links.
struct Actor {
  std::string account_id;
  std::string organisation_id;
  std::vector<std::string> guest_of;  // Vorhaben this browser opened by a guest link
  identity::TrustLevel level = identity::TrustLevel::basic;
  std::string locale = "de";
  std::string name() const;  // for the audit log
};

struct Document {
  std::string id;
  int requirement = 0;  // index into the online service's document rules
  std::string filename;
  std::string media_type;  // as found by content
  std::int64_t size = 0;
  std::string sha256;
  std::string blob_id;
  core::TimePoint created_at;
};

struct Event {
  core::TimePoint at;
  Status status = Status::draft;
  std::string text;
  std::string actor;
};

struct Application {
  std::string id;
  std::string reference;  // "MV-35CA3-4HFYVHOK"
  std::string tenant_id;
  std::string authority_id;
  std::string authority_name;
  std::string place;  // the AGS it was started for
  std::string online_service_id;
  int online_service_version = 0;
  std::string title;
  catalog::OnlineServiceConfig config;  // as at the start
  Owner owner;
  std::string account_id;  // the person who started it; "" for guests and external ones
  std::string guest_email;
  bool guest_confirmed = false;
  Status status = Status::draft;
  forms::Answers answers;
  std::string payment_order_id;
  std::string case_id;
  std::string client_id;     // the external online service that created it; ""
  std::string external_url;  // where to continue it there
  core::TimePoint created_at;
  core::TimePoint updated_at;
  std::optional<core::TimePoint> draft_expires_at;
  std::optional<core::TimePoint> reminded_at;
  bool reminders_off = false;
  std::optional<core::TimePoint> submitted_at;
  std::optional<core::TimePoint> received_at;
  std::optional<core::TimePoint> retention_until;
  std::vector<Document> documents;

  bool is_guest() const { return owner.kind == "guest"; }
  bool has_form() const { return !config.form.empty(); }
  bool has_fee() const { return config.fee_cents > 0 || config.fee_per_unit_cents > 0; }
};

struct Start {
  std::string online_service_id;
  std::string place;  // AGS of the municipality
  Owner owner;        // account or organisation; for a guest: kind "guest"
  std::string account_id;
  std::string guest_email;  // for a guest
  std::string remote_address;
  std::string locale = "de";
};

struct Started {
  Application application;
  std::string guest_token;  // mailed to the guest (and given to tests); empty otherwise
};

// An external online service's Vorhaben for the person signed in there through our
// OpenID Connect provider.
struct ExternalStart {
  std::string client_id;
  std::string tenant_id;   // the client's tenant: its authorities may be named
  std::string account_id;  // the person the token was issued for
  std::string title;
  std::string authority_id;  // optional: the responsible authority
  std::string external_url;  // where the person continues it (http(s))
  std::string idempotency_key;
};

struct ApplicationsOptions {
  std::string public_url;
  std::string master_key;  // 32 bytes; link tokens are derived from it
  // Guest starts (each mails a link) per address and per client address within an hour.
  int guest_starts_per_address = 5;
  int guest_starts_per_client = 30;
};

// What the component asks of the others.
struct Parts {
  catalog::Catalog& catalog;
  forms::Forms& forms;
  payments::Payments& payments;
  cases::Cases& cases;
  cases::Casework& casework;
  mailbox::Mailbox& mailbox;
  core::VirusScanner* scanner;  // null: every upload is refused as "try again later"
  const web::Catalog& texts;
  // The person's name and mail address (for the applicant, when the form names nobody).
  std::function<std::optional<std::pair<std::string, std::string>>(const std::string& account)>
      account_contact;
  // The verified addresses of an account or organisation (reminders, the applicant's
  // address in the Vorgang).
  std::function<std::vector<std::string>(const std::string& owner)> owner_addresses;
};

class Applications {
 public:
  Applications(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
               core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs, Parts parts,
               ApplicationsOptions options);
  ~Applications();

  // Starts a Vorhaben of the online service for the authority responsible at `place`, with
  // the online service's version as it is now. not_found when the online service does not
  // exist or is not in production; invalid_input ("ort") when nobody offers it there. A
  // guest start mails the link (throttled per address and client).
  core::Result<Started> start(const Start& start);
  // The guest link: the Vorhaben it opens (and the address counts as confirmed).
  core::Result<std::string> open_guest_link(std::string_view token);

  // The actor's Vorhaben; not_found for anyone else's.
  core::Result<Application> find(const Actor& actor, std::string_view id);
  std::optional<Application> get(std::string_view id);
  // Every Vorhaben of the actor (their own, or their organisation's), newest first.
  std::vector<Application> list(const Actor& actor);
  std::vector<Event> events(std::string_view id);

  // The answers of a draft, saved at every page.
  core::Status save_answers(const Actor& actor, std::string_view id, const forms::Answers& answers);
  // A file for document rule `requirement`: its size and media type checked by content,
  // scanned for viruses, stored encrypted. invalid_input ("datei") names the rule broken,
  // unavailable when the scanner cannot be reached; nothing is kept then.
  core::Result<Document> add_document(const Actor& actor, std::string_view id, int requirement,
                                      const std::string& filename, const std::string& content);
  core::Status remove_document(const Actor& actor, std::string_view id,
                               std::string_view document_id);
  core::Status read_document(const Actor& actor, std::string_view id, std::string_view document_id,
                             std::ostream& out);

  // The fee for the answers, when the online service has one.
  core::Result<std::int64_t> fee(const Application& application);
  // The payment order for the fee (a new one when the amount changed); the path of the
  // payment page to send the person to. conflict while the form is not finished.
  core::Result<std::string> pay(const Actor& actor, std::string_view id);
  // The order of a Vorhaben, as payments has it now.
  std::optional<payments::Order> payment(const Application& application);
  // Whether the payment step is done: paid, or an invoice issued.
  bool paid(const Application& application);

  // What keeps the Vorhaben from being submitted, each named by its step (form, documents,
  // payment, identification); empty when nothing does.
  core::Error missing(const Actor& actor, const Application& application);
  // Submits: checks everything, freezes the answers, writes the PDF (with reference number
  // and time), XML and JSON, and queues the hand-over, in one transaction. A second submit
  // (double click, retry) answers with the first. invalid_input names what is missing.
  core::Result<Application> submit(const Actor& actor, std::string_view id, bool declaration);
  // The frozen outputs of a submitted Vorhaben: "pdf", "xml", "json".
  core::Result<std::string> output(const Actor& actor, std::string_view id, std::string_view kind);
  // Hands a submitted Vorhaben to the authority's case management; idempotent (the job).
  core::Result<Application> hand_over(std::string_view id);

  // --- after the submission, with the authority's case management
  // The status as the Vorgang's state says it now (its state changes arrive as events, in
  // any order: the Vorgang is read, not the event); idempotent.
  core::Status follow_case(std::string_view id);
  // The authority's open requests for documents.
  core::Result<std::vector<cases::DocumentRequest>> requests(const Actor& actor,
                                                             std::string_view id);
  // Sends the files a request asks for: each checked by content (PDF, JPG, PNG), size
  // and count, and scanned, before anything is written; all of them or none.
  // invalid_input names the field ("dateien") and the rule.
  struct Upload {
    std::string filename;
    std::string content;
  };
  core::Status answer_request(const Actor& actor, std::string_view id, std::string_view request_id,
                              const std::vector<Upload>& files);
  // The messages between the authority and the applicant, oldest first. A message to the
  // applicant that needs a higher trust level than the person's comes locked: no text, no
  // attachments.
  core::Result<std::vector<cases::Message>> messages(const Actor& actor, std::string_view id);
  // The applicant's message (text, optional files checked and scanned as for a request);
  // needs the trust level of the submission. invalid_input names "nachricht" or "anlagen".
  core::Status send_message(const Actor& actor, std::string_view id, const std::string& text,
                            const std::vector<Upload>& files);
  // An attachment of a message, when the person may read the message.
  core::Result<cases::MessageFile> read_message_file(const Actor& actor, std::string_view id,
                                                     std::string_view message_id, int position,
                                                     std::ostream& out);
  // Withdraws a submitted application (before the hand-over too); conflict once it is
  // decided or ended.
  core::Status withdraw(const Actor& actor, std::string_view id);
  // Whether the application may still be withdrawn (what the page offers).
  static bool may_withdraw(const Application& application);

  // Deletes a draft with its documents (and cancels an unpaid payment order).
  core::Status discard(const Actor& actor, std::string_view id);
  // The link that opens a guest's Vorhaben (in every mail to the guest).
  std::string guest_link(const Application& application) const;
  // The token in a reminder mail's "no more reminders" link, and its use.
  std::string reminder_token(std::string_view id) const;
  core::Result<Application> stop_reminders(std::string_view id, std::string_view token);
  // Discarding from the reminder mail's link (no login needed).
  core::Status discard_by_token(std::string_view id, std::string_view token);

  // External online services.
  core::Result<Application> create_external(const ExternalStart& start);
  core::Result<Application> find_external(std::string_view client_id, std::string_view id);
  core::Result<Application> post_status(std::string_view client_id, std::string_view id,
                                        Status status, const std::string& text,
                                        const std::string& idempotency_key);
  core::Status post_message(std::string_view client_id, std::string_view id,
                            const std::string& subject, const std::string& body,
                            const std::string& idempotency_key);

  // Periodic work: reminders of drafts that expire soon, deletion of expired drafts and of
  // submitted Vorhaben whose retention ended. Each returns how many.
  int remind_drafts();
  int expire_drafts();
  int apply_retention();
  int remove_unnamed_documents();
  void register_jobs(core::JobRunner& runner);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::applications
