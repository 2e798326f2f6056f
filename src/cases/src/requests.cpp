// Document requests (Nachforderung) and the applicant's withdrawal: the clerk names what is
// missing and by when; the deadline of the Vorgang stops while the applicant has it; the
// applicant's upload (scanned by the applications component, as at submission) brings the
// Vorgang back to the check it came from; a request whose day passes moves it on to the
// state the authority set.
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>

#include "casework_impl.hpp"
#include "rows.hpp"

namespace mvsp::cases {

using core::Error;
using core::fail;

namespace {

constexpr std::size_t kMaxItems = 10;
constexpr std::size_t kMaxItem = 300;
constexpr std::size_t kMaxNote = 2000;
constexpr int kMaxRequestDays = 366;
constexpr std::string_view kApplicant = "applicant";

std::string items_json(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ",";
    core::append_json_string(out, item);
  }
  return out + "]";
}

std::vector<std::string> items_of(const std::string& json) {
  std::vector<std::string> out;
  Poco::JSON::Parser parser;
  auto array = parser.parse(json).extract<Poco::JSON::Array::Ptr>();
  for (const auto& item : *array) out.push_back(item.convert<std::string>());
  return out;
}

DocumentRequest read_request(const core::db::Row& r) {
  return {r.text(0),
          r.text(1),
          items_of(r.text(2)),
          r.text(3),
          r.text(4),
          r.text(5),
          core::from_millis(r.integer(6))};
}

constexpr const char* kRequestColumns = "id, case_id, items, note, deadline_on, status, created_at";

}  // namespace

void Casework::Impl::end_requests(core::db::Connection& tx, Case& k, std::string_view status) {
  tx.execute(
      "UPDATE case_requests SET status = ?, closed_at = ? WHERE case_id = ? AND status = 'open'",
      std::string(status), core::to_millis(clock.now()), k.id);
  resume_deadline(tx, k);
}

core::Result<DocumentRequest> Casework::request_documents(const Staffer& who, std::string_view id,
                                                          const std::vector<std::string>& items,
                                                          std::string_view deadline_on,
                                                          std::string_view note) {
  auto& d = *impl_;
  Error invalid{core::ErrorCode::invalid_input, "The document request is not complete.", {}, {}};
  std::vector<std::string> wanted;
  for (const auto& item : items) {
    auto t = std::string(core::trim(item));
    if (t.empty()) continue;
    if (t.size() > kMaxItem || !core::is_single_line(t) || !core::valid_utf8(t)) {
      invalid.and_field("items",
                        fmt::format("each must be one line of at most {} characters", kMaxItem));
      break;
    }
    wanted.push_back(std::move(t));
  }
  if (wanted.empty()) invalid.and_field("items", "name at least one document");
  if (wanted.size() > kMaxItems) invalid.and_field("items", fmt::format("at most {}", kMaxItems));
  auto today = core::berlin_day(d.clock.now());
  auto day = core::parse_day(deadline_on);
  if (!day) {
    invalid.and_field("deadline", "must be a day (YYYY-MM-DD)");
  } else if (*day <= today || *day > today + std::chrono::days(kMaxRequestDays)) {
    invalid.and_field("deadline", "must be after today and within a year");
  }
  if (note.size() > kMaxNote || !core::valid_utf8(note)) {
    invalid.and_field("note", fmt::format("must be at most {} characters", kMaxNote));
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<DocumentRequest> {
    auto k = d.visible(tx, who, id, true);
    if (!k) return fail(k.error());
    if (by_post(*k)) {
      return fail(Error::conflict(
          "the applicant applied on paper: ask for documents by letter, not on the platform"));
    }
    auto state = parse_state(k->state).value_or(State::received);
    if (state != State::received && state != State::formal_check &&
        state != State::material_check) {
      return fail(Error::invalid("state", "documents can be requested during the checks only"));
    }
    DocumentRequest r{d.ids.key(), k->id,        wanted, std::string(note), core::format_day(*day),
                      "open",      d.clock.now()};
    tx.execute(
        fmt::format("INSERT INTO case_requests ({}, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    kRequestColumns),
        r.id, r.case_id, items_json(r.items), r.note, r.deadline_on, r.status,
        core::to_millis(r.created_at), Impl::actor(who));
    tx.execute("UPDATE cases SET resume_state = ? WHERE id = ?",
               std::string(state == State::received ? "formal_check" : k->state), k->id);
    d.suspend_deadline(tx, *k);
    d.record(tx, Impl::actor(who), who.name, *k, "case.documents_requested",
             {{"request", r.id},
              {"items", fmt::format("{}", fmt::join(r.items, "; "))},
              {"deadline", r.deadline_on}});
    d.set_state(tx, *k, State::documents_requested, Impl::actor(who), who.name, note);
    return r;
  });
}

std::vector<DocumentRequest> Casework::requests(std::string_view case_id) {
  auto& d = *impl_;
  std::vector<DocumentRequest> out;
  for (const auto& r : d.db.query(fmt::format("SELECT {} FROM case_requests WHERE case_id = ? "
                                              "ORDER BY created_at DESC, id",
                                              kRequestColumns),
                                  std::string(case_id))) {
    out.push_back(read_request(r));
  }
  return out;
}

std::vector<DocumentRequest> Casework::open_requests(std::string_view application_id) {
  auto& d = *impl_;
  std::vector<DocumentRequest> out;
  for (const auto& r :
       d.db.query(fmt::format("SELECT {} FROM case_requests WHERE status = 'open' AND case_id = "
                              "(SELECT id FROM cases WHERE application_id = ?) ORDER BY created_at",
                              kRequestColumns),
                  std::string(application_id))) {
    out.push_back(read_request(r));
  }
  return out;
}

core::Status Casework::answer_request(std::string_view application_id, std::string_view request_id,
                                      const std::vector<IntakeDocument>& documents,
                                      std::string_view actor) {
  auto& d = *impl_;
  if (documents.empty()) return fail(Error::invalid("documents", "add at least one document"));
  std::vector<std::string_view> contents;
  for (const auto& doc : documents) contents.push_back(doc.content);
  return d.cases.store_with(
      contents,
      [&](core::db::Connection& tx, const std::vector<std::string>& blobs) -> core::Status {
        auto row = tx.query_one(
            fmt::format("SELECT id FROM cases WHERE application_id = ?{}", tx.for_update()),
            std::string(application_id));
        if (!row) return fail(Error::not_found("no such case"));
        auto k = d.load(tx, row->text(0), true);
        auto request = tx.query_one("SELECT status FROM case_requests WHERE id = ? AND case_id = ?",
                                    std::string(request_id), k->id);
        if (!request) return fail(Error::not_found("no such request"));
        if (request->text(0) != "open" || k->state != state_name(State::documents_requested)) {
          return fail(Error::conflict("the request is not open any more"));
        }
        auto next = tx.query_one(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM case_documents WHERE case_id = ?", k->id);
        auto position = next ? next->integer(0) : 0;
        std::vector<std::string> names;
        for (std::size_t i = 0; i < documents.size(); ++i) {
          const auto& doc = documents[i];
          auto name = stored_filename(doc.filename, static_cast<std::size_t>(position));
          tx.execute(
              "INSERT INTO case_documents (case_id, position, requirement, filename, media_type, "
              "size, sha256, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              k->id, position++, core::truncate_utf8(doc.requirement, 500), name, doc.media_type,
              static_cast<std::int64_t>(doc.content.size()), core::crypto::sha256_hex(doc.content),
              blobs[i]);
          names.push_back(name);
        }
        tx.execute("UPDATE case_requests SET status = 'fulfilled', closed_at = ? WHERE id = ?",
                   core::to_millis(d.clock.now()), std::string(request_id));
        d.resume_deadline(tx, *k);
        d.record(tx, std::string(actor), std::string(kApplicant), *k, "case.documents_received",
                 {{"request", std::string(request_id)},
                  {"documents", fmt::format("{}", fmt::join(names, "; "))}});
        auto resume = tx.query_one("SELECT resume_state FROM cases WHERE id = ?", k->id);
        auto to = parse_state(resume ? resume->text(0) : "").value_or(State::formal_check);
        d.set_state(tx, *k, to, std::string(actor), std::string(kApplicant), "");
        return {};
      });
}

core::Status Casework::withdraw(std::string_view application_id, std::string_view actor) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    auto row = tx.query_one(
        fmt::format("SELECT id FROM cases WHERE application_id = ?{}", tx.for_update()),
        std::string(application_id));
    if (!row) return fail(Error::not_found("no such case"));
    auto k = d.load(tx, row->text(0), true);
    auto state = parse_state(k->state).value_or(State::received);
    if (state == State::withdrawn) return {};
    if (!is_open(state) || state == State::decided) {
      return fail(Error::conflict("the application was decided or ended and cannot be withdrawn"));
    }
    if (state == State::documents_requested) d.end_requests(tx, *k, "cancelled");
    d.set_state(tx, *k, State::withdrawn, std::string(actor), std::string(kApplicant), "");
    d.tell_workers(tx, *k, "withdrawn");
    return {};
  });
}

int Casework::run_request_deadlines() {
  auto& d = *impl_;
  auto today = core::format_day(core::berlin_day(d.clock.now()));
  int changed = 0;
  auto due = d.db.query(
      "SELECT id, case_id FROM case_requests WHERE status = 'open' AND deadline_on < ?", today);
  for (const auto& r : due) {
    auto done = d.db.transaction([&](core::db::Tx& tx) -> core::Result<bool> {
      auto k = d.load(tx, r.text(1), true);
      auto still = tx.query_one("SELECT status FROM case_requests WHERE id = ?", r.text(0));
      if (!k || !still || still->text(0) != "open") return false;
      tx.execute("UPDATE case_requests SET status = 'expired', closed_at = ? WHERE id = ?",
                 core::to_millis(d.clock.now()), r.text(0));
      d.resume_deadline(tx, *k);
      auto setting = tx.query_one(
          "SELECT on_request_expiry FROM case_service_settings WHERE tenant_id = ? AND "
          "online_service_id = ?",
          k->tenant_id, k->online_service_id);
      auto to = parse_state(setting ? setting->text(0) : "").value_or(State::material_check);
      d.record(tx, "system:cases", "", *k, "case.request_expired", {{"request", r.text(0)}});
      if (k->state == state_name(State::documents_requested)) {
        d.set_state(tx, *k, to, "system:cases", "", "");
      }
      return true;
    });
    if (done && *done) ++changed;
  }
  // A reminder to the applicant three days before the day (once).
  auto soon = core::format_day(core::berlin_day(d.clock.now()) + std::chrono::days(3));
  for (const auto& r : d.db.query(
           "SELECT r.id, c.application_id FROM case_requests r JOIN cases c ON c.id = r.case_id "
           "WHERE r.status = 'open' AND r.reminded_at IS NULL AND r.deadline_on <= ?",
           soon)) {
    d.db.transaction([&](core::db::Tx& tx) {
      if (tx.execute(
              "UPDATE case_requests SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
              core::to_millis(d.clock.now()), r.text(0)) != 1) {
        return;
      }
      d.jobs.publish(tx, kCaseRequestReminder,
                     json_object({{"applicationId", r.text(1)}, {"request", r.text(0)}}));
      return;
    });
    ++changed;
  }
  return changed + d.tell_overdue_statements();
}

}  // namespace mvsp::cases
