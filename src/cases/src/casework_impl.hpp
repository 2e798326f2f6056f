#pragma once
// The state the parts of Casework share (private): casework.cpp (access, inbox, states),
// deadlines.cpp, requests.cpp, notices.cpp and admin.cpp.
#include <initializer_list>
#include <mvsp/cases/casework.hpp>
#include <mvsp/cases/seal.hpp>
#include <mvsp/core/calendar.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mvsp::core {
class BlobStore;
namespace db {
class Connection;
}
}  // namespace mvsp::core

namespace mvsp::cases {

bool is_open(State state);
// An applicant who applied on paper: reached by post only (no messages, no document
// requests on the platform; the notice is a letter to their address).
inline bool by_post(const Case& k) {
  return k.applicant.kind == "paper";
}
// The checks (received, formal check, documents requested, material check): where a Vorgang
// may be forwarded and others asked for statements.
bool in_checks(std::string_view state);
// The search words of a Vorgang: of `texts` and of every string among the answers.
std::vector<std::string> search_terms(std::span<const std::string> texts,
                                      std::string_view answers_json);

// Where attachments of one kind are kept: their table, the table of what they belong to
// (whose rows have a case_id), its column in theirs, and the read record's name for them.
struct AttachmentKind {
  const char* files;
  const char* owners;
  const char* owner_column;
  const char* read_as;
};
inline constexpr AttachmentKind kMessageFiles{"case_message_files", "case_messages", "message_id",
                                              "message"};
inline constexpr AttachmentKind kStatementFiles{"case_statement_files", "case_statements",
                                                "statement_id", "statement"};

// The attachments of messages and statements: how many, how large, how long a name.
inline constexpr std::size_t kMaxAttachments = 5;
inline constexpr std::size_t kMaxAttachmentFileBytes = 10 * 1024 * 1024;
inline constexpr std::size_t kMaxFilename = 255;
// Each broken rule of `files` (at most 5, each a PDF, PNG or JPEG by content of 1 byte to
// 10 MB, with a file name of one line), named at `field`.
void check_attachments(const std::vector<IntakeDocument>& files, const std::string& field,
                       core::Error& invalid);
// Scans `files` before anything is written: unavailable without a scanner, invalid at
// `field` for malware.
core::Status scan_attachments(core::VirusScanner* scanner, const std::vector<IntakeDocument>& files,
                              const std::string& field);
// The rows of attachments of `kind` stored as `blobs` (in order), with clean file names.
std::vector<MessageFile> insert_attachments(core::db::Connection& tx, const AttachmentKind& kind,
                                            const std::string& owner_id,
                                            const std::vector<IntakeDocument>& files,
                                            const std::vector<std::string>& blobs);

// How many business days ahead the inbox warns of a deadline.
inline constexpr int kWarnBusinessDays = 10;

struct Casework::Impl {
  Impl(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
       core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs, Cases& cases,
       CaseworkOptions options);

  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::JobQueue& jobs;
  core::AuditLog& audit;
  core::BlobStore& blobs;
  Cases& cases;
  CaseworkOptions options;

  // --- access (casework.cpp)
  static std::vector<std::string> roles_in(const Staffer& who, std::string_view tenant);
  static bool has_role(const Staffer& who, std::string_view tenant,
                       std::initializer_list<std::string_view> roles);
  std::vector<std::string> groups_of(core::db::Connection& c, std::string_view account);
  bool may_see(core::db::Connection& c, const Staffer& who, const Case& k);
  std::optional<Case> load(core::db::Connection& c, std::string_view id, bool for_update);
  // The Vorgang when the person may see it; not_found otherwise.
  core::Result<Case> visible(core::db::Connection& c, const Staffer& who, std::string_view id,
                             bool for_update);
  static std::string actor(const Staffer& who);
  // An audit record about the Vorgang (its timeline); `by` is the actor's name.
  void record(core::db::Connection& tx, const std::string& actor_id, const std::string& actor_name,
              const Case& k, std::string_view action,
              std::vector<std::pair<std::string, std::string>> detail);
  void set_state(core::db::Connection& tx, Case& k, State to, const std::string& actor_id,
                 const std::string& actor_name, std::string_view note);
  void read(const Staffer& who, const Case& k, std::string_view what);
  // An attachment at `position` of `owner` (a message, a statement) of the Vorgang the person
  // may see, into `out`; the read recorded as "<read_as>:<owner>:<position>".
  core::Result<MessageFile> read_attachment(const Staffer& who, std::string_view case_id,
                                            const AttachmentKind& kind, std::string_view owner,
                                            int position, std::ostream& out);
  // Mails a member of staff about the Vorgang (`what`: withdrawn, …), from the catalog's
  // cases.mail.<what> texts.
  // `occasion` tells mails of the same kind apart (a message's id): one mail per address
  // and occasion, however often the job runs.
  // `link` is the Vorgang's page unless given; `more` gives further {name} values for the texts.
  void notify_staff(core::db::Connection& tx, const std::string& address, std::string_view what,
                    const Case& k, std::string_view occasion = {}, std::string link = {},
                    const std::vector<std::pair<std::string, std::string>>& more = {});
  // The same to whoever works the Vorgang: the clerk it is assigned to (while they are a
  // colleague with an address), else the clerks of its group (or of the tenant, when it has
  // none); when that is nobody with an address, the tenant's administration.
  void tell_workers(core::db::Connection& tx, const Case& k, std::string_view what,
                    std::string_view occasion = {});
  void prepare_open(core::db::Connection& tx, Case& k, const Intake& in);
  // The search words of its reference, applicant, title, Aktenzeichen and answers.
  void index_words(core::db::Connection& tx, const Case& k, const std::string& answers_json);
  // The search words of the Vorgang, each with its arrival (the order of the inbox).
  void write_terms(core::db::Connection& tx, const Case& k, const std::vector<std::string>& terms);

  // --- deadlines (deadlines.cpp)
  core::BusinessCalendar calendar(core::db::Connection& c, std::string_view tenant_id);
  // The last day of the inbox's warning from `today` (YYYY-MM-DD), on the MV calendar.
  std::string warn_until(const std::string& today);
  // The deadline of the Vorgang's online service in its tenant, running from `from`'s day.
  void start_deadline(core::db::Connection& tx, Case& k, core::TimePoint from);
  // Recomputes the deadline's end from its rule, suspensions and extensions.
  void recompute_deadline(core::db::Connection& tx, Case& k);
  void suspend_deadline(core::db::Connection& tx, Case& k);
  void resume_deadline(core::db::Connection& tx, Case& k);

  // --- document requests (requests.cpp)
  // Ends the Vorgang's open requests with `status` and lets the deadline run again.
  void end_requests(core::db::Connection& tx, Case& k, std::string_view status);

  // --- participation (participation.cpp)
  // Statements whose day passed unanswered: the clerks are told once. Returns how many.
  int tell_overdue_statements();

  // --- notices (notices.cpp)
  std::string seal_key(std::string_view tenant_id) const;
  SealCertificate seal_of(const std::string& tenant_id);
  core::Result<Notice> decide_as(const Case& k, const NoticeInput& input,
                                 const std::string& actor_id, const std::string& actor_name,
                                 std::string_view origin);
  core::Status announce(const std::string& notice_id);
};

// --- files (files.cpp)
inline constexpr const char* kEfileJob = "cases.efile";
// Delivers the Vorgang's container, made at `at`, and marks it filed; nothing when it is.
// After the last attempt an unreachable DMS is recorded as a failure too.
core::Status file_case(Casework& work, Casework::Impl& d, const std::string& case_id,
                       core::TimePoint at, bool last_attempt);

}  // namespace mvsp::cases
