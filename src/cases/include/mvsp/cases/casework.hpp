#pragma once
// The clerk's work on a Vorgang (Fallmanagement): who may see and change which Vorgang,
// the inbox, the standard process as a state machine, the processing deadline on the
// business calendar, document requests, withdrawal and the decision notice; and the
// authority's own settings (groups, closing days, notice templates, seal). Every change is
// in the audit log (the Vorgang's timeline), every read of a Vorgang in its read record.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mvsp/cases/cases.hpp>
#include <mvsp/cases/efile.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::web {
class Catalog;
}

namespace mvsp::core {
class VirusScanner;
}  // namespace mvsp::core

namespace mvsp::forms {
class Forms;
}  // namespace mvsp::forms

namespace mvsp::cases {

// The states of the standard process, in the order a Vorgang usually takes them.
enum class State {
  received,             // eingegangen
  formal_check,         // formelle Prüfung
  documents_requested,  // Unterlagen nachgefordert
  material_check,       // inhaltliche Prüfung
  decided,              // entschieden: the notice is made and sealed
  announced,            // bekanntgegeben: in the applicant's mailbox, or by post
  filed,                // an die E-Akte übergeben
  closed,               // abgeschlossen
  withdrawn,            // zurückgezogen
  ended,                // ohne Entscheidung beendet
};
std::string_view state_name(State state);
std::optional<State> parse_state(std::string_view name);
// The states a clerk may move a Vorgang to from `from` (the transitions the pages offer;
// decided, announced and filed are reached through their own steps).
std::vector<State> next_states(State from);
// Whether a Vorgang in `state` takes messages: every state but closed, withdrawn, ended and
// filed.
bool takes_messages(std::string_view state);
// The event of a change of state; payload {"caseId","applicationId","state"}.
inline constexpr std::string_view kCaseStateChanged = "case.state_changed";
// A document request's day is near and the applicant has not answered; payload
// {"applicationId","request"}. The applications component reminds the applicant.
inline constexpr std::string_view kCaseRequestReminder = "case.request_reminder";
// A clerk wrote to the applicant; payload {"applicationId","message"}. The applications
// component tells the applicant where to read it.
inline constexpr std::string_view kCaseMessage = "case.message";
// A clerk forwarded the Vorgang to another authority; payload {"applicationId",
// "fromAuthorityName","authorityId","authorityName"}. The applications component tells the
// applicant.
inline constexpr std::string_view kCaseForwarded = "case.forwarded";
// The job that decides a Vorgang just opened, where its online service is set to decide
// automatically; subscribed to cases.hpp's kCaseReceived by the component.
inline constexpr std::string_view kAutoDecideJob = "cases.auto_decide";

// The person at work, as the pages know them: the account and its staff roles.
struct Staffer {
  std::string account_id;
  std::string name;
  std::vector<std::pair<std::string, std::string>> roles;  // (tenant id, role)
};

// The members of staff of a tenant, as identity knows them (wired in src/app).
struct Colleague {
  std::string account_id;
  std::string name;
  std::string email;
  std::vector<std::string> roles;
};
using ColleaguesOf = std::function<std::vector<Colleague>(std::string_view tenant_id)>;

// Identity's answers about staff and tenants, offered by src/app (the cases component
// does not depend on identity).
class StaffDirectory {
 public:
  virtual ~StaffDirectory() = default;
  virtual std::vector<Colleague> colleagues(std::string_view tenant_id) = 0;
  virtual std::string tenant_name(std::string_view tenant_id) = 0;
};

struct InboxQuery {
  std::string text;   // words of the reference, Aktenzeichen, applicant or answers
  std::string state;  // "" for every open state, "all", or a state's name
  std::string online_service_id;
  std::string authority_id;       // "" for every authority of the person's tenants
  std::string assignee;           // "" any, "me", "none", or an account id
  std::string deadline;           // "" any, "soon", "passed"
  std::string sort = "received";  // received (oldest first), deadline
  std::string after;              // the keyset of the last row of the page before
  int limit = 25;
};

struct InboxRow {
  Case c;
  bool deadline_soon = false;
  bool deadline_passed = false;
};

struct InboxPage {
  std::vector<InboxRow> rows;
  std::string next;  // the keyset for the next page; "" on the last
};

// The processing deadline of a Vorgang as it stands.
struct Deadline {
  std::string rule;  // "3M"
  std::string from;  // YYYY-MM-DD
  std::string on;    // the current end
  std::vector<std::string> extensions;
  bool suspended = false;  // documents are requested
  bool soon = false;
  bool passed = false;
};

struct DocumentRequest {
  std::string id;
  std::string case_id;
  std::vector<std::string> items;
  std::string note;
  std::string deadline_on;
  std::string status;  // open, fulfilled, expired, cancelled
  core::TimePoint created_at;
};

struct Notice {
  std::string id;
  std::string title;
  std::string origin;  // template, upload, automatic
  std::int64_t size = 0;
  std::string sha256;
  core::TimePoint created_at;
  std::string created_by;
  std::string recipient;
  std::string status;  // sealed, delivering, stored, postal (by post needed), posted
  std::optional<core::TimePoint> stored_at;
  std::string deemed_announced_on;
  std::string receipt_message_id;
};

// A message between the clerk and the applicant, with its attachments.
struct MessageFile {
  int position = 0;
  std::string filename;
  std::string media_type;
  std::int64_t size = 0;
};
struct Message {
  std::string id;
  std::string case_id;
  std::string direction;  // to_applicant, from_applicant
  std::string author;     // the clerk's name, or "" for the applicant
  std::string subject;
  std::string body;
  // the trust level the applicant needs to read a message to them: low, substantial, high
  std::string required_level;
  core::TimePoint created_at;
  std::vector<MessageFile> files;
  // set by the applications component: the reader's trust level is too low for it (the
  // text and attachments are left out)
  bool locked = false;
};
struct MessageInput {
  std::string subject;
  std::string body;
  std::string required_level = "low";
  std::vector<IntakeDocument> files;  // media type checked by content; the applicant's scanned
};

// One line of the timeline or of the read record.
struct TimelineEntry {
  core::TimePoint at;
  std::string actor;
  std::string action;  // case.received, case.state, case.assigned, …, or read:<what>
  std::string detail;  // JSON
};

// An authority on the platform (one with a tenant): one to forward a Vorgang to or to ask
// for a statement.
struct AuthorityRef {
  std::string id;
  std::string name;
  std::string tenant_id;
  // the tenant's name, as identity has it (set by Casework::authorities): an authority's
  // name is the catalog editors' to change, the tenant's is not, so choices show both
  std::string tenant_name;
};

// What the clerk asks for in a participation (Beteiligung): a statement of another
// authority on the platform or of an outside body, by a day.
struct StatementRequest {
  std::string party_kind;    // authority, outside
  std::string authority_id;  // the authority asked
  std::string name;          // the outside body and where its link goes
  std::string email;
  std::string question;
  std::string deadline_on;  // YYYY-MM-DD, after today and within a year
  bool share_documents = true;
};

// A request for a statement and, once it came, the answer.
struct Statement {
  std::string id;
  std::string case_id;
  std::string party_kind;  // authority, outside
  std::string party_authority_id;
  std::string party_tenant_id;
  std::string party_name;
  std::string party_email;
  std::string question;
  bool share_documents = false;
  std::string deadline_on;
  std::string status;  // open, answered, cancelled
  core::TimePoint created_at;
  std::string created_by_name;
  std::string answer;
  std::optional<core::TimePoint> answered_at;
  std::string answered_by;  // the name of whoever answered
  std::vector<MessageFile> files;
  bool overdue = false;  // open after its day
  // the outside body's link secret: set on the request just made only (it is mailed; only
  // its hash is kept)
  std::string token;
};

// Who answers a request for a statement: a member of staff of the authority asked, or
// whoever holds the mailed link of an outside body.
struct Party {
  std::optional<Staffer> staffer;
  std::string token;
};

// What a party reads: the request, the Vorgang it is about and the asking authority.
struct StatementView {
  Statement statement;
  std::string reference;
  std::string title;
  std::string asking_authority;
  std::string applicant_name;  // when the documents are shared
  // (what, file name) of the documents the party may read: "antrag" for the application's
  // PDF, a document's position otherwise
  std::vector<std::pair<std::string, std::string>> documents;
};

struct StatementAnswer {
  std::string text;
  std::vector<IntakeDocument> files;  // PDF, PNG or JPEG by content, scanned
};

// An online service an authority takes applications for on paper: its own or one it
// adopted, in production, with a form of the platform (wired in the component from the
// catalog).
struct PaperService {
  std::string id;
  std::string name;
  int version = 0;
  std::string form_key;
  int form_version = 0;
};

// What the clerk may enter a paper application for: an authority of theirs and a service.
struct PaperChoice {
  AuthorityRef authority;
  PaperService service;
};

// An application that came by post, as a clerk enters it: the online service's own form,
// filled by the clerk page by page (forms::Filling), the applicant's postal address, the
// Aktenzeichen, the day it came in and the scan of the paper.
struct PaperApplication {
  // chosen when the entry began: the same entry sent again opens nothing new
  std::string key;
  std::string authority_id;
  std::string online_service_id;
  std::map<std::string, std::string, std::less<>> answers;  // forms::Answers
  std::string applicant_name;
  std::string applicant_address;  // 2 to 5 lines
  std::string aktenzeichen;
  std::string received_on;            // YYYY-MM-DD: today or up to a year back
  std::vector<IntakeDocument> scans;  // 1 to 5, PDF, PNG or JPEG by content, scanned
};

struct Group {
  std::string id;
  std::string name;
  std::vector<std::string> members;          // account ids
  std::vector<std::string> online_services;  // ids
};

struct ServiceSettings {
  std::string online_service_id;
  std::string deadline_rule;                         // core::Duration text, "" for none
  std::string on_request_expiry = "material_check";  // a state's name
  std::string auto_decide_template_id;               // "" for a clerk decides
};

struct ClosingDay {
  std::string day;  // YYYY-MM-DD
  std::string label;
};

struct NoticeTemplate {
  std::string id;
  std::string name;
  std::string title;
  std::string body;  // forms::letter_blocks text with {fields} of the Vorgang ({antragsteller}, …)
};

struct SealSummary {
  std::string subject;
  core::TimePoint not_after;
  bool generated = false;
};

// What the decision notice is made of: a template, or a finished PDF the clerk uploads.
struct NoticeInput {
  std::string template_id;
  std::string body;   // the template's text as the clerk edited it ("" for as it is)
  std::string title;  // "" for the template's
  std::string uploaded_pdf;
  std::string uploaded_filename;
};

// Where notices go out and how they fare: the delivery service (wired in the component).
class NoticeChannel {
 public:
  virtual ~NoticeChannel() = default;
  struct Outgoing {
    std::string tenant_id;
    std::string recipient;  // mailbox id
    std::string subject;
    std::string body;
    std::string reference;
    std::string filename;
    std::string pdf;
    std::string idempotency_key;
  };
  struct Progress {
    std::string status;  // stored, retrieved, postal, or "" while under way
    std::optional<core::TimePoint> stored_at;
    std::string deemed_announced_on;
    std::string receipt_message_id;
  };
  virtual core::Result<std::string> send(const Outgoing& notice) = 0;  // the notice's id
  virtual core::Result<Progress> progress(std::string_view tenant_id,
                                          std::string_view notice_id) = 0;
};

// Seals a PDF with the tenant's certificate and renders a letter; given by the component
// (forms renders, cases/seal.hpp seals), replaceable in tests.
struct NoticeTools {
  std::function<std::string(const std::string& tenant_name, const std::string& title,
                            const std::vector<std::string>& recipient,
                            const std::vector<std::pair<std::string, std::string>>& references,
                            const std::string& body)>
      render;
};

struct CaseworkOptions {
  std::string master_key;               // seals the authorities' seal keys at rest
  std::string public_url;               // for links in mails to staff
  const web::Catalog* texts = nullptr;  // the wording of mails to staff
  ColleaguesOf colleagues;
  std::function<std::string(std::string_view tenant_id)> tenant_name;
  NoticeTools tools;
  NoticeChannel* channel = nullptr;
  // Where finished Vorgänge are filed (an import folder or CMIS; efile_targets.hpp); none:
  // the hand-over is not offered.
  EfileTarget* efile = nullptr;
  std::string efile_location;  // xdomea Ablageort, "" leaves it to the DMS
  // When at most this many Vorgänge have every word of an inbox search, the query starts
  // from them (docs/cases.md, "The inbox"); tests set it low to reach both ways. 0: as
  // measured at 10^6 Vorgänge (bench/results), 2000 on SQLite, 5000 on PostgreSQL, where
  // walking the inbox's order costs more per Vorgang.
  std::size_t search_list_limit = 0;
  // scans the attachments of the clerks' messages and of statements (clamd); none: those
  // with attachments are refused as "try again later"
  core::VirusScanner* scanner = nullptr;
  // the authorities on the platform, for forwarding and participation (wired in the
  // component from the catalog)
  std::function<std::vector<AuthorityRef>()> authorities;
  // the online services an authority takes paper applications for, and the forms they ask
  // (wired in the component from the catalog and forms); none: no paper applications
  std::function<std::vector<PaperService>(std::string_view authority_id)> paper_services;
  forms::Forms* forms = nullptr;
};

// A file for the clerk to download.
struct Download {
  std::string filename;
  std::string media_type;
  std::string content;
};

class Casework {
 public:
  Casework(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
           core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs, Cases& cases,
           CaseworkOptions options);
  ~Casework();

  // --- the clerk's work. Each checks that the person may see the Vorgang (not_found
  // otherwise, as for one that does not exist) and, to change it, works in its tenant.

  core::Result<InboxPage> inbox(const Staffer& who, const InboxQuery& query);
  // The Vorgang, its read recorded as `what` ("view", "pdf", "document:2", …).
  core::Result<Case> open_case(const Staffer& who, std::string_view id, std::string_view what);
  core::Result<Case> assign(const Staffer& who, std::string_view id, std::string_view assignee);
  core::Result<Case> set_aktenzeichen(const Staffer& who, std::string_view id,
                                      std::string_view aktenzeichen);
  core::Result<Case> move(const Staffer& who, std::string_view id, State to, std::string_view note);
  core::Result<Deadline> deadline(std::string_view case_id);
  core::Result<Case> extend_deadline(const Staffer& who, std::string_view id,
                                     std::string_view duration, std::string_view reason);
  core::Result<DocumentRequest> request_documents(const Staffer& who, std::string_view id,
                                                  const std::vector<std::string>& items,
                                                  std::string_view deadline_on,
                                                  std::string_view note);
  std::vector<DocumentRequest> requests(std::string_view case_id);
  // --- messages (messages.cpp)
  // A message to the applicant with up to 5 attachments (PDF, PNG or JPEG by content, each
  // at most 10 MB, scanned) and the trust level needed to read it; the applicant is told
  // through the event kCaseMessage. Refused (conflict) for a Vorgang that is finished; a
  // Vorgang takes at most 100 messages and 50 MB of attachments (invalid_input).
  core::Result<Message> send_message(const Staffer& who, std::string_view id,
                                     const MessageInput& input);
  core::Result<std::vector<Message>> messages(const Staffer& who, std::string_view id);
  // An attachment, its read recorded.
  core::Result<MessageFile> read_message_file(const Staffer& who, std::string_view id,
                                              std::string_view message_id, int position,
                                              std::ostream& out);
  // --- participation (participation.cpp)
  // The authorities a Vorgang can be forwarded to or asked for a statement, by name.
  std::vector<AuthorityRef> authorities() const;
  // Forwards a Vorgang in a check to another authority on the platform (Abgabe): it
  // arrives there as received, without assignee, with that authority's group and deadline;
  // open document requests and statements end; the authority's clerks and the applicant are
  // told. The clerk no longer sees it unless they work for that authority too.
  core::Result<Case> forward(const Staffer& who, std::string_view id, std::string_view authority_id,
                             std::string_view reason);
  // Asks for a statement by a day while the Vorgang is in a check; the authority's clerks
  // are mailed a link to their list of requests, an outside body a link of its own.
  core::Result<Statement> ask_statement(const Staffer& who, std::string_view id,
                                        const StatementRequest& request);
  core::Result<std::vector<Statement>> statements(const Staffer& who, std::string_view id);
  core::Status cancel_statement(const Staffer& who, std::string_view id,
                                std::string_view statement_id);
  // An attachment of an answer, its read recorded.
  core::Result<MessageFile> read_statement_file(const Staffer& who, std::string_view id,
                                                std::string_view statement_id, int position,
                                                std::ostream& out);
  // --- the party's side. A request exists for its party (else not_found) only while it is
  // not cancelled and its Vorgang is in a check at the tenant that asked: not once it was
  // decided, withdrawn, ended or forwarded.
  // The requests asked of the person's authorities, open ones first.
  std::vector<StatementView> asked_of(const Staffer& who);
  // The request of `statement_id` (staff) or of the link's token (outside), its read
  // recorded on the Vorgang.
  core::Result<StatementView> asked(const Party& party, std::string_view statement_id);
  // A shared document ("antrag" or a position), its read recorded on the Vorgang.
  core::Result<Download> shared_document(const Party& party, std::string_view statement_id,
                                         std::string_view what);
  // The answer, once: a text and up to 5 attachments (scanned); the clerks who work the
  // Vorgang are told. conflict when answered or cancelled.
  core::Result<Statement> answer_statement(const Party& party, std::string_view statement_id,
                                           const StatementAnswer& answer);

  // --- paper applications (paper.cpp)
  // The services the person may enter a paper application for: of the authorities where
  // they work Vorgänge, those whose group (if the service has one) they are in.
  std::vector<PaperChoice> paper_choices(const Staffer& who);
  // Opens the Vorgang of an application that came by post: the answers must pass the form's
  // final check; the Vorgang arrives as received on `received_on` (its deadline runs from
  // then), with the Aktenzeichen, the scans as its documents and the answers' PDF, XML and
  // JSON as an online one has them. Its applicant is reached by post: no messages, no
  // document requests through the platform, the notice is a letter. invalid_input names each
  // broken rule; forbidden for a service not among paper_choices.
  core::Result<Case> open_paper(const Staffer& who, const PaperApplication& application);

  core::Result<Notice> decide(const Staffer& who, std::string_view id, const NoticeInput& input);
  std::vector<Notice> notices(std::string_view case_id);
  // A notice that goes by post was posted on `posted_on`: the Vorgang is announced.
  core::Result<Case> confirm_postal(const Staffer& who, std::string_view id,
                                    std::string_view posted_on);
  core::Status read_notice(std::string_view case_id, std::string_view notice_id, std::ostream& out);
  std::vector<TimelineEntry> timeline(std::string_view case_id, int limit = 200);
  // Reads and changes, newest first: for the authority's administration only.
  core::Result<std::vector<TimelineEntry>> audit_trail(const Staffer& who, std::string_view id);

  // --- the files of a Vorgang (files.cpp)
  // Every document as one ZIP: the application (PDF, XML, JSON), the documents, the
  // notices and an index (00_Inhaltsverzeichnis.txt) naming each file, what it is, its size and
  // SHA-256. The read is recorded.
  core::Result<Download> documents_zip(const Staffer& who, std::string_view id);
  // The xdomea container of the Vorgang as it stands, made at `at`.
  core::Result<EfileContainer> efile_container(std::string_view case_id, core::TimePoint at);
  // An operator wrote the container out (`mvsp cases export-efile`): recorded on the
  // Vorgang's timeline as case.exported with the container's SHA-256, once it is written.
  void record_export(std::string_view case_id, std::string_view actor,
                     const EfileContainer& container);
  // Hands an announced, withdrawn or ended Vorgang to the e-file: a job makes the container
  // and delivers it to the target; the Vorgang is "filed" once the DMS has it. conflict
  // when no target is set up, invalid_input ("state") in another state.
  core::Result<Case> hand_to_efile(const Staffer& who, std::string_view id);
  bool files_to_efile() const;
  // For operators (`mvsp cases`): the Vorgang of a reference number, and the latest
  // Vorgänge (of one authority, or all), newest first. The reference in any letter case.
  std::optional<Case> by_reference(std::string_view reference);
  std::vector<Case> latest(std::string_view authority_id, int limit);

  // --- the applicant's side, through the applications component (which has checked
  // that the person owns the application).
  std::vector<DocumentRequest> open_requests(std::string_view application_id);
  core::Status answer_request(std::string_view application_id, std::string_view request_id,
                              const std::vector<IntakeDocument>& documents, std::string_view actor);
  core::Status withdraw(std::string_view application_id, std::string_view actor);
  // The messages of the application's Vorgang, oldest first (the applications component
  // shows a message's text only to a person of its trust level).
  std::vector<Message> applicant_messages(std::string_view application_id);
  // The applicant's message (the subject is made from the Vorgang's title); the clerks who
  // work the Vorgang are told by mail. conflict when the Vorgang is finished, rate_limited
  // after 10 in an hour (each mails the clerks).
  core::Result<Message> applicant_message(std::string_view application_id,
                                          const MessageInput& input, std::string_view actor);
  // An attachment of a message of the application's Vorgang (its file name and type); the
  // read is recorded with `actor` (the applicant), as the clerks' are.
  core::Result<MessageFile> read_applicant_file(std::string_view application_id,
                                                std::string_view message_id, int position,
                                                std::ostream& out, std::string_view actor);

  // --- the authority's administration (role authority_admin in the tenant).
  core::Result<std::vector<Group>> groups(const Staffer& who, std::string_view tenant_id);
  core::Result<Group> save_group(const Staffer& who, std::string_view tenant_id,
                                 const Group& group);
  core::Status remove_group(const Staffer& who, std::string_view tenant_id, std::string_view id);
  core::Result<std::vector<ServiceSettings>> service_settings(const Staffer& who,
                                                              std::string_view tenant_id);
  core::Status save_service_settings(const Staffer& who, std::string_view tenant_id,
                                     const ServiceSettings& settings);
  core::Result<std::vector<ClosingDay>> closing_days(const Staffer& who,
                                                     std::string_view tenant_id);
  core::Status add_closing_day(const Staffer& who, std::string_view tenant_id,
                               const ClosingDay& day);
  core::Status remove_closing_day(const Staffer& who, std::string_view tenant_id,
                                  std::string_view day);
  core::Result<std::vector<NoticeTemplate>> templates(const Staffer& who,
                                                      std::string_view tenant_id);
  core::Result<NoticeTemplate> save_template(const Staffer& who, std::string_view tenant_id,
                                             const NoticeTemplate& t);
  core::Result<SealSummary> seal(const Staffer& who, std::string_view tenant_id);
  core::Status upload_seal(const Staffer& who, std::string_view tenant_id,
                           std::string_view pem_or_p12, std::string_view password);

  // --- periodic work and events
  // Document requests whose deadline is near (reminded once) or passed (the Vorgang moves
  // on as the authority set), and statements whose day passed (the clerks are told once).
  // Returns how many requests changed.
  int run_request_deadlines();
  // Notices under way: their receipts, or the postal announcement when delivery failed.
  int follow_notices();
  // A Vorgang just opened: its group, deadline, search words; the automatic decision.
  core::Status prepare(std::string_view case_id);
  void register_jobs(core::JobRunner& runner);

  // The shared state of the parts (private header casework_impl.hpp).
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::cases
