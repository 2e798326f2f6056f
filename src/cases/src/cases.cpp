// The intake of the case management: a submission opens one Vorgang, with its answers and
// documents copied into the component's own blob store before the row that names them,
// the audit record and the event `case.received` in the same transaction.
#include <mvsp/cases/cases.hpp>
// (own header first)
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/blob_sweep.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>
#include <ostream>
#include <ranges>

#include "rows.hpp"

namespace mvsp::cases {
namespace {

using core::Error;
using core::fail;

// Lock names are shared by every component's transactions: this prefix is the cases'.
constexpr std::string_view kBlobLock = "cases.blob:";
constexpr std::size_t kMaxId = 100;
constexpr std::size_t kMaxReference = 64;
constexpr std::size_t kMaxTitle = 500;
// bytes: room for a paper applicant's name of kMaxLetterName characters of up to 4 bytes
constexpr std::size_t kMaxName = 400;
constexpr std::size_t kMaxEmail = 254;
constexpr std::size_t kMaxMediaType = 127;
constexpr std::size_t kMaxRequirement = 500;
constexpr std::size_t kMaxDocuments = 100;
constexpr int kMaxArrivals = 200;

// Which of `ids` a row of the cases names: a document, a notice, a message's or a
// statement's attachment, or one of the answers.
std::vector<std::string> named_among(core::db::Connection& c, std::span<const std::string> ids) {
  std::vector<core::db::Value> params;
  for (int i = 0; i < 6; ++i) params.insert(params.end(), ids.begin(), ids.end());
  auto in = core::db::parameter_list(ids.size());
  params.insert(params.end(), ids.begin(), ids.end());
  std::vector<std::string> out;
  for (const auto& r : c.query_values(
           fmt::format("SELECT blob_id FROM case_documents WHERE blob_id IN ({0}) "
                       "UNION SELECT blob_id FROM case_notices WHERE blob_id IN ({0}) "
                       "UNION SELECT blob_id FROM case_message_files WHERE blob_id IN ({0}) "
                       "UNION SELECT blob_id FROM case_statement_files WHERE blob_id IN ({0}) "
                       "UNION SELECT pdf_blob_id FROM cases WHERE pdf_blob_id IN ({0}) "
                       "UNION SELECT json_blob_id FROM cases WHERE json_blob_id IN ({0}) "
                       "UNION SELECT xml_blob_id FROM cases WHERE xml_blob_id IN ({0})",
                       in),
           params)) {
    out.push_back(r.text(0));
  }
  return out;
}

// The text the arrivals are searched by: reference number and applicant's name, folded.
std::string search_text(const Intake& in) {
  return core::fold_case(in.reference) + "\n" + core::fold_case(in.applicant.name);
}

bool single_line(std::string_view s, std::size_t max, bool required) {
  if (s.empty()) return !required;
  return s.size() <= max && core::is_single_line(s) && core::valid_utf8(s);
}

// Every rule of an intake, each broken one named; nothing is written before it passes.
core::Status check(const Intake& in) {
  Error error{core::ErrorCode::invalid_input, "The intake is not complete.", {}, {}};
  auto need = [&](const char* field, std::string_view value, std::size_t max,
                  bool required = true) {
    if (!single_line(value, max, required)) {
      error.and_field(field, required
                                 ? fmt::format("is required (1 to {} characters, one line)", max)
                                 : fmt::format("must be one line of at most {} characters", max));
    }
  };
  need("application_id", in.application_id, kMaxId);
  need("reference", in.reference, kMaxReference);
  need("tenant_id", in.tenant_id, kMaxId);
  need("authority_id", in.authority_id, kMaxId);
  need("online_service_id", in.online_service_id, kMaxId);
  if (in.online_service_version < 0) {
    error.and_field("online_service_version", "must not be negative");
  }
  need("title", in.title, kMaxTitle);
  const auto& a = in.applicant;
  bool paper = in.source == "paper";
  if (!paper && in.source != "online") error.and_field("source", "must be online or paper");
  if (paper ? a.kind != "paper"
            : a.kind != "account" && a.kind != "organisation" && a.kind != "guest") {
    error.and_field("applicant.kind", paper ? "must be paper for a paper application"
                                            : "must be account, organisation or guest");
  }
  if (paper ? !valid_address(a.address) : !a.address.empty()) {
    error.and_field("applicant.address",
                    paper ? fmt::format("is required ({} to {} lines of at most {} characters)",
                                        kMinAddressLines, kMaxAddressLines, kMaxAddressLine)
                          : std::string("is for paper applications only"));
  }
  need("aktenzeichen", in.aktenzeichen, kMaxAktenzeichen, false);
  if (in.received_at && *in.received_at < in.submitted_at) {
    error.and_field("received_at", "must not be before submitted_at");
  }
  need("applicant.owner_id", a.owner_id, kMaxId, a.kind == "account" || a.kind == "organisation");
  need("applicant.name", a.name, kMaxName);
  if (paper && !letter_line(a.name, kMaxLetterName)) {
    error.and_field(
        "applicant.name",
        fmt::format("must be one line of at most {} characters for the letter", kMaxLetterName));
  }
  need("applicant.email", a.email, kMaxEmail, false);
  if (!a.email.empty() && a.email.find('@') == std::string::npos) {
    error.and_field("applicant.email", "must be an e-mail address");
  }
  if (in.submitted_at == core::TimePoint{}) error.and_field("submitted_at", "is required");
  need("form_key", in.form_key, kMaxId, false);
  if (in.form_version < 0) error.and_field("form_version", "must not be negative");
  if (in.pdf.empty()) error.and_field("pdf", "is required (the applicant's PDF of the answers)");
  if (!core::valid_utf8(in.answers_json)) error.and_field("answers_json", "must be UTF-8");
  if (!core::valid_utf8(in.answers_xml)) error.and_field("answers_xml", "must be UTF-8");
  if (in.documents.size() > kMaxDocuments) {
    error.and_field("documents", fmt::format("must be at most {}", kMaxDocuments));
  }
  for (std::size_t i = 0; i < in.documents.size(); ++i) {
    const auto& d = in.documents[i];
    if (!single_line(d.media_type, kMaxMediaType, true) ||
        d.media_type.find('/') == std::string::npos) {
      error.and_field(fmt::format("documents[{}].media_type", i), "must be a media type");
    }
    if (!single_line(d.requirement, kMaxRequirement, false)) {
      error.and_field(fmt::format("documents[{}].requirement", i),
                      fmt::format("must be one line of at most {} characters", kMaxRequirement));
    }
  }
  need("payment_order_id", in.payment_order_id, kMaxId, false);
  need("payment_status", in.payment_status, kMaxId, !in.payment_order_id.empty());
  need("payment_method", in.payment_method, kMaxId, false);
  need("kassenzeichen", in.kassenzeichen, kMaxId, false);
  if (in.payment_amount_cents < 0) {
    error.and_field("payment_amount_cents", "must not be negative");
  }
  if (!error.fields.empty()) return fail(error);
  return {};
}

// The citizen's file name as the Vorgang keeps it: an upload's name is whatever the
// browser sent, and refusing a submission for it would help nobody. Control characters go,
// slashes become "_", bytes that are not UTF-8 become U+FFFD, at most 255 bytes (whole
// characters); the pages make it safe for headers (web::attachment_disposition).
}  // namespace

bool letter_line(std::string_view line, std::size_t max) {
  if (line.empty() || !core::valid_utf8(line)) return false;
  std::size_t characters = 0;
  for (std::size_t i = 0; i < line.size(); ++characters) {
    auto lead = static_cast<unsigned char>(line[i]);
    std::size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? lead : lead & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(line[i + k]) & 0x3F);
    }
    i += n;
    bool control = cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
    bool separator = cp == 0x2028 || cp == 0x2029;
    bool bidi = cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
                (cp >= 0x2066 && cp <= 0x2069);
    // zero widths, joiners and the byte order mark: invisible in the window, yet there
    bool invisible = (cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) ||
                     cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
                     (cp >= 0xE0000 && cp <= 0xE007F);
    if (control || separator || bidi || invisible) return false;
  }
  return characters <= max;
}

bool valid_address(std::string_view address) {
  std::size_t lines = 0;
  for (auto line : std::views::split(address, '\n')) {
    if (!letter_line(std::string_view(line.begin(), line.end()), kMaxAddressLine)) return false;
    ++lines;
  }
  return lines >= kMinAddressLines && lines <= kMaxAddressLines;
}

std::string stored_filename(std::string_view name, std::size_t position) {
  auto out = core::repair_utf8(name);
  std::erase_if(out, [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
  std::ranges::replace(out, '/', '_');
  std::ranges::replace(out, '\\', '_');
  out = core::truncate_utf8(out, 255);
  out = std::string(core::trim(out));
  if (out.empty()) out = fmt::format("dokument-{}", position + 1);
  return out;
}

namespace {

std::string event_payload(const Case& c) {
  return json_object(
      {{"caseId", c.id}, {"applicationId", c.application_id}, {"reference", c.reference}});
}

// The blobs an intake writes, in the order of `contents`.
struct Written {
  std::string pdf, json, xml;
  std::vector<std::pair<std::string, std::string>> documents;  // blob id, sha256
  std::vector<std::string> all() const {
    std::vector<std::string> out;
    for (const auto* id : {&pdf, &json, &xml}) {
      if (!id->empty()) out.push_back(*id);
    }
    for (const auto& d : documents) out.push_back(d.first);
    return out;
  }
};

}  // namespace

struct Cases::Impl {
  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::JobQueue& jobs;
  core::AuditLog& audit;
  core::BlobStore& blobs;
  Preparer preparer;

  std::vector<CaseDocument> documents(core::db::Connection& c, const std::string& case_id) {
    std::vector<CaseDocument> out;
    for (const auto& r :
         c.query("SELECT position, requirement, filename, media_type, size, sha256 FROM "
                 "case_documents WHERE case_id = ? ORDER BY position",
                 case_id)) {
      out.push_back({static_cast<int>(r.integer(0)), r.text(1), r.text(2), r.text(3), r.integer(4),
                     r.text(5)});
    }
    return out;
  }

  std::optional<Case> one(core::db::Connection& c, std::string_view where, const std::string& key) {
    auto r =
        c.query_one(fmt::format("SELECT {} FROM cases WHERE {} = ?", kCaseColumns, where), key);
    if (!r) return std::nullopt;
    auto found = read_case(*r);
    found.documents = documents(c, found.id);
    return found;
  }

  // The Vorgang opened before for this application: the same for the same tenant; a hand-
  // over of the same application to another tenant is a mistake of the caller.
  static core::Result<Case> opened_before(Case existing, const Intake& in) {
    if (existing.tenant_id != in.tenant_id) {
      return fail(Error::conflict("the application was handed over to another tenant"));
    }
    return existing;
  }

  // Copies a blob in again when it was removed since it was written (a sweep that found
  // no row naming it yet), under its lock, which keeps the sweep off until commit.
  void hold(core::db::Connection& tx, const std::string& id, std::string_view content) {
    tx.lock_shared(std::string(kBlobLock) + id);
    if (!blobs.exists(id)) blobs.put(content);
  }

  // What a failed or superseded hand-over wrote and no row names, removed now (the sweep
  // would, a day later).
  void remove_unnamed(const Written& w) {
    for (const auto& id : w.all()) {
      try {
        core::remove_unless_named(db, blobs, kBlobLock, id, named_among);
      } catch (const std::exception& e) {
        core::log::warn("cases.blob_not_removed", {{"blob", id}, {"error", e.what()}});
      }
    }
  }
};

Cases::Cases(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
             core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs)
    : impl_(std::make_unique<Impl>(Impl{db, clock, ids, jobs, audit, blobs, {}})) {}

void Cases::on_open(Preparer preparer) {
  impl_->preparer = std::move(preparer);
}

Cases::~Cases() = default;

core::Result<Case> Cases::open(const Intake& in) {
  auto& d = *impl_;
  if (auto ok = check(in); !ok) return fail(ok.error());
  if (auto existing = d.one(*d.db.acquire(), "application_id", in.application_id)) {
    return Impl::opened_before(std::move(*existing), in);
  }
  // Documents first: a blob no row names is harmless (the sweep removes it); a row naming
  // a missing blob would not be.
  Written w;
  w.pdf = d.blobs.put(in.pdf).id;
  if (!in.answers_json.empty()) w.json = d.blobs.put(in.answers_json).id;
  if (!in.answers_xml.empty()) w.xml = d.blobs.put(in.answers_xml).id;
  for (const auto& doc : in.documents) {
    w.documents.emplace_back(d.blobs.put(doc.content).id, core::crypto::sha256_hex(doc.content));
  }
  bool inserted = false;
  core::Result<Case> result = fail(Error::conflict("not opened"));
  try {
    result = d.db.transaction([&](core::db::Tx& tx) -> core::Result<Case> {
      Case c;
      c.id = d.ids.key();
      c.reference = in.reference;
      c.tenant_id = in.tenant_id;
      c.authority_id = in.authority_id;
      c.application_id = in.application_id;
      c.online_service_id = in.online_service_id;
      c.online_service_version = in.online_service_version;
      c.title = in.title;
      c.applicant = in.applicant;
      c.state = "received";
      c.submitted_at = in.submitted_at;
      c.received_at = in.received_at.value_or(d.clock.now());
      c.form_key = in.form_key;
      c.form_version = in.form_version;
      c.payment_order_id = in.payment_order_id;
      c.payment_status = in.payment_status;
      c.payment_method = in.payment_method;
      c.payment_amount_cents = in.payment_amount_cents;
      c.kassenzeichen = in.kassenzeichen;
      c.updated_at = c.received_at;
      c.source = in.source;
      c.aktenzeichen = in.aktenzeichen;
      if (tx.execute(fmt::format("INSERT INTO cases ({}, search_text, pdf_blob_id, json_blob_id, "
                                 "xml_blob_id) VALUES ({}) ON CONFLICT DO NOTHING",
                                 kCaseColumns, core::db::parameter_list(34)),
                     c.id, c.reference, c.tenant_id, c.authority_id, c.application_id,
                     c.online_service_id, c.online_service_version, c.title, c.applicant.kind,
                     c.applicant.owner_id, c.applicant.name, c.applicant.email, c.state,
                     core::to_millis(c.submitted_at), core::to_millis(c.received_at), c.form_key,
                     c.form_version, c.payment_order_id, c.payment_status, c.payment_method,
                     c.payment_amount_cents, c.kassenzeichen, core::to_millis(c.updated_at),
                     c.aktenzeichen, c.source, c.group_id, c.assignee_id, c.assignee_name,
                     std::string(kNoDeadline), c.applicant.address, search_text(in), w.pdf, w.json,
                     w.xml) != 1) {
        // Opened at the same moment by another hand-over: that one counts.
        auto existing = d.one(tx, "application_id", in.application_id);
        if (!existing) {
          throw core::Failure("a case conflicted on insert, but none has its application");
        }
        return Impl::opened_before(std::move(*existing), in);
      }
      d.hold(tx, w.pdf, in.pdf);
      if (!w.json.empty()) d.hold(tx, w.json, in.answers_json);
      if (!w.xml.empty()) d.hold(tx, w.xml, in.answers_xml);
      for (std::size_t i = 0; i < in.documents.size(); ++i) {
        const auto& doc = in.documents[i];
        const auto& [blob, sha] = w.documents[i];
        d.hold(tx, blob, doc.content);
        c.documents.push_back({static_cast<int>(i), doc.requirement,
                               stored_filename(doc.filename, i), doc.media_type,
                               static_cast<std::int64_t>(doc.content.size()), sha});
        const auto& stored = c.documents.back();
        tx.execute(
            "INSERT INTO case_documents (case_id, position, requirement, filename, media_type, "
            "size, sha256, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            c.id, static_cast<std::int64_t>(i), stored.requirement, stored.filename,
            stored.media_type, stored.size, sha, blob);
      }
      std::string detail = "{\"applicationId\":";
      core::append_json_string(detail, c.application_id);
      detail += ",\"reference\":";
      core::append_json_string(detail, c.reference);
      detail += ",\"authorityId\":";
      core::append_json_string(detail, c.authority_id);
      detail += ",\"source\":";
      core::append_json_string(detail, c.source);
      if (c.source == "paper") {
        // entered by hand: the day it came in (the deadline runs from it) and the Aktenzeichen
        detail += ",\"receivedOn\":";
        core::append_json_string(detail, core::format_day(core::berlin_day(c.received_at)));
        detail += ",\"aktenzeichen\":";
        core::append_json_string(detail, c.aktenzeichen);
      }
      detail += fmt::format(",\"documents\":{}}}", c.documents.size());
      d.audit.append(tx, {.actor = in.actor.empty() ? "system:applications" : in.actor,
                          .action = "case.received",
                          .object_type = "case",
                          .object_id = c.id,
                          .detail = std::move(detail)});
      if (d.preparer) d.preparer(tx, c, in);
      d.jobs.publish(tx, kCaseReceived, event_payload(c));
      inserted = true;
      return c;
    });
  } catch (...) {
    d.remove_unnamed(w);
    throw;
  }
  // A hand-over that lost the race (or was refused) leaves its copies to the winner's rows
  // or removes them.
  if (!inserted) d.remove_unnamed(w);
  return result;
}

core::Result<Case> Cases::find(const std::vector<std::string>& tenant_ids, std::string_view id) {
  auto& d = *impl_;
  auto c = d.one(*d.db.acquire(), "id", std::string(id));
  if (!c || std::find(tenant_ids.begin(), tenant_ids.end(), c->tenant_id) == tenant_ids.end()) {
    return fail(Error::not_found("no such case"));
  }
  return *c;
}

std::optional<Case> Cases::by_application(std::string_view application_id) {
  auto& d = *impl_;
  return d.one(*d.db.acquire(), "application_id", std::string(application_id));
}

std::vector<Case> Cases::arrivals(const CaseQuery& query) {
  auto& d = *impl_;
  std::vector<Case> out;
  if (query.tenant_ids.empty()) return out;
  std::vector<core::db::Value> params(query.tenant_ids.begin(), query.tenant_ids.end());
  auto sql = fmt::format("SELECT {} FROM cases WHERE tenant_id IN ({})", kCaseColumns,
                         core::db::parameter_list(query.tenant_ids.size()));
  if (!query.authority_id.empty()) {
    sql += " AND authority_id = ?";
    params.emplace_back(query.authority_id);
  }
  if (auto text = core::trim(query.text); !text.empty()) {
    std::string like;
    for (char c : core::fold_case(text)) {
      if (c == '%' || c == '_' || c == '\\') like += '\\';
      like += c;
    }
    sql += " AND search_text LIKE ? ESCAPE '\\'";
    params.emplace_back("%" + like + "%");
  }
  sql += " ORDER BY received_at DESC, id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(std::clamp(query.limit, 1, kMaxArrivals)));
  for (const auto& r : d.db.acquire()->query_values(sql, params)) out.push_back(read_case(r));
  return out;
}

core::Result<std::string> Cases::answers(std::string_view case_id, std::string_view kind) {
  auto& d = *impl_;
  if (kind != "pdf" && kind != "json" && kind != "xml") {
    return fail(Error::invalid("kind", "must be pdf, json or xml"));
  }
  auto r = d.db.query_one(fmt::format("SELECT {}_blob_id FROM cases WHERE id = ?", kind),
                          std::string(case_id));
  if (!r) return fail(Error::not_found("no such case"));
  if (r->text(0).empty()) return fail(Error::not_found("the case has no answers of this kind"));
  return d.blobs.read_all(r->text(0));
}

core::Status Cases::read_document(std::string_view case_id, int position, std::ostream& out) {
  auto& d = *impl_;
  auto r = d.db.query_one("SELECT blob_id FROM case_documents WHERE case_id = ? AND position = ?",
                          std::string(case_id), position);
  if (!r) return fail(Error::not_found("no such document"));
  return d.blobs.read(r->text(0), out);
}

core::Status Cases::store_with(const std::vector<std::string_view>& contents,
                               const StoreWrite& write) {
  auto& d = *impl_;
  Written w;
  for (auto content : contents) w.documents.emplace_back(d.blobs.put(content).id, "");
  std::vector<std::string> ids;
  for (const auto& [id, sha] : w.documents) ids.push_back(id);
  core::Status result;
  try {
    result = d.db.transaction([&](core::db::Tx& tx) -> core::Status {
      for (std::size_t i = 0; i < contents.size(); ++i) d.hold(tx, ids[i], contents[i]);
      return write(tx, ids);
    });
  } catch (...) {
    d.remove_unnamed(w);
    throw;
  }
  if (!result) d.remove_unnamed(w);
  return result;
}

core::Status Cases::read_blob(std::string_view blob_id, std::ostream& out) {
  return impl_->blobs.read(std::string(blob_id), out);
}

int Cases::remove_unnamed_documents() {
  auto& d = *impl_;
  return core::remove_unnamed_blobs(d.db, d.blobs, kBlobLock,
                                    d.clock.now() - core::kUnnamedBlobGrace, named_among);
}

}  // namespace mvsp::cases
