#pragma once
// The case management (Fallmanagement): the clerk's "Vorgang". This first part is the
// intake: a submitted application (or, later, one from FIT-Connect or on paper) opens a
// Vorgang of the responsible authority with its answers, its documents, the payment state
// and the applicant, and the authority's clerks see what arrived in a list. The clerk's
// work on a Vorgang (checks, requests, notices) builds on it.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/resources.hpp>
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
namespace db {
class Database;
class Connection;
}  // namespace db
}  // namespace mvsp::core

namespace mvsp::cases {

std::span<const core::Resource> embedded_resources();

// The event of a Vorgang opened by the intake; payload {"caseId","applicationId","reference"}.
inline constexpr std::string_view kCaseReceived = "case.received";

// A document handed over with a submission. The content is copied into the case's own
// store: what the case keeps does not depend on the application's retention.
struct IntakeDocument {
  std::string requirement;  // the document rule it answers ("Nachweis für eine Ermäßigung")
  std::string filename;
  std::string media_type;  // as checked by content
  std::string content;
};

// Who applied and how to reach them.
struct Applicant {
  std::string kind;      // account, organisation, guest; paper (reached by post only)
  std::string owner_id;  // the account or organisation (its mailbox); "" for a guest
  std::string name;
  std::string email;
  std::string address;  // a paper applicant's postal address, lines joined by "\n"
};

// What a submission hands over. `application_id` is the key of the intake: handing the
// same application over again (a retried job, a crash after the Vorgang opened) opens
// nothing new and answers with the Vorgang there is.
struct Intake {
  std::string application_id;
  std::string reference;  // the citizen's reference number, "MV-35CA3-4HFYVHOK"
  std::string tenant_id;  // the authority's tenant: whose clerks see it
  std::string authority_id;
  std::string online_service_id;
  int online_service_version = 0;
  std::string title;  // the online service's name
  Applicant applicant;
  core::TimePoint submitted_at;
  std::string form_key;
  int form_version = 0;
  std::string answers_json;  // forms::to_json of the frozen answers
  std::string answers_xml;   // forms::to_xml
  std::string pdf;           // the applicant's PDF of the answers
  std::vector<IntakeDocument> documents;
  // The payment, when the online service has a fee: the order and its public status.
  std::string payment_order_id;
  std::string payment_status;  // created, success, … (payments' public states); "" for none
  std::string payment_method;  // invoice, CREDITCARD, …
  std::int64_t payment_amount_cents = 0;
  std::string kassenzeichen;
  // Who hands it over, for the audit log.
  std::string actor = "system:applications";
  // online, or paper: entered by a clerk (Casework::open_paper), with the day it came in
  // (the processing deadline runs from it) and the Aktenzeichen it was given.
  std::string source = "online";
  std::optional<core::TimePoint> received_at;  // none: now
  std::string aktenzeichen;
};

struct CaseDocument {
  int position = 0;
  std::string requirement;
  std::string filename;
  std::string media_type;
  std::int64_t size = 0;
  std::string sha256;
};

struct Case {
  std::string id;
  std::string reference;  // the citizen's reference number
  std::string tenant_id;
  std::string authority_id;
  std::string application_id;
  std::string online_service_id;
  int online_service_version = 0;
  std::string title;
  Applicant applicant;
  std::string state;  // received, … (casework.hpp: State)
  core::TimePoint submitted_at;
  core::TimePoint received_at;
  core::TimePoint updated_at;
  std::string aktenzeichen;  // the authority's file number, "" until a clerk gives one
  std::string source;        // online, paper
  std::string group_id;      // the group that handles it, "" for none
  std::string assignee_id;
  std::string assignee_name;
  std::string deadline_on;  // the processing deadline's end, YYYY-MM-DD; "" for none
  std::string form_key;
  int form_version = 0;
  std::string payment_order_id;
  std::string payment_status;
  std::string payment_method;
  std::int64_t payment_amount_cents = 0;
  std::string kassenzeichen;
  std::vector<CaseDocument> documents;
};

// The clerk's list of arrivals.
struct CaseQuery {
  std::vector<std::string> tenant_ids;  // the tenants whose clerk the person is
  std::string authority_id;             // "" for all of them
  std::string text;                     // reference number or applicant's name
  int limit = 50;
};

class Cases {
 public:
  Cases(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
        core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs);
  ~Cases();

  // Opens the Vorgang of a submission; idempotent on application_id (also when two
  // hand-overs run at once). invalid_input names the field of an incomplete intake.
  core::Result<Case> open(const Intake& intake);
  // The Vorgang of one of the tenants; not_found for any other.
  core::Result<Case> find(const std::vector<std::string>& tenant_ids, std::string_view id);
  std::optional<Case> by_application(std::string_view application_id);
  std::vector<Case> arrivals(const CaseQuery& query);
  // The stored answers (pdf, json, xml) and documents of a Vorgang found with find().
  core::Result<std::string> answers(std::string_view case_id, std::string_view kind);
  core::Status read_document(std::string_view case_id, int position, std::ostream& out);
  // Called inside the transaction that opens a Vorgang, before its event is published:
  // the clerk's work sets group, deadline and search words there (casework).
  // Writes `contents` to the Vorgang's store, then runs `write` in a transaction with
  // their blob ids (in the order given), which it must name in a row; what a failed
  // `write` leaves unnamed is removed.
  using StoreWrite = std::function<core::Status(core::db::Connection& tx,
                                                const std::vector<std::string>& blob_ids)>;
  core::Status store_with(const std::vector<std::string_view>& contents, const StoreWrite& write);
  core::Status read_blob(std::string_view blob_id, std::ostream& out);
  using Preparer =
      std::function<void(core::db::Connection& tx, Case& opened, const Intake& intake)>;
  void on_open(Preparer preparer);
  // Removes the documents no Vorgang names (a hand-over that failed after writing them).
  int remove_unnamed_documents();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::cases
