// The files of a Vorgang: every document in one ZIP for the clerk, and the hand-over to the
// e-file (the xdomea container, delivered by a job to the configured target).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>
#include <sstream>

#include "casework_impl.hpp"
#include "rows.hpp"
#include "zip.hpp"

namespace mvsp::cases {

using core::Error;
using core::fail;

namespace {

// What a Vorgang holds, in the order a file is read: the application, the documents, the
// notices and their receipts.
struct Part {
  std::string id;     // stable across hand-overs
  std::string kind;   // Antrag, Anlage, Bescheid, Zustellnachweis
  std::string title;  // what it is
  std::string filename;
  std::string media_type;
  std::string content;
  core::TimePoint created_at;
};

std::string read_all(const std::function<core::Status(std::ostream&)>& read, core::Status& status) {
  std::ostringstream out;
  status = read(out);
  return out.str();
}

// A name for the ZIP that unpacks on every system: the stored names are plain already
// (cases.cpp); what Windows reserves (: * ? < > | and a trailing dot or space) becomes _.
std::string entry_name(int n, const std::string& filename) {
  std::string name = core::is_plain_filename(filename) ? filename : "Datei";
  for (auto& ch : name) {
    if (std::string_view(":*?<>|").find(ch) != std::string_view::npos) ch = '_';
  }
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.back() = '_';
  return fmt::format("{:02}_{}", n, name);
}

// How often the hand-over of a Vorgang failed: a request after a failure is a new one.
std::size_t efile_failures(Casework& work, const std::string& case_id) {
  auto entries = work.timeline(case_id, 1000);
  return static_cast<std::size_t>(
      std::ranges::count(entries, std::string("case.efile_failed"), &TimelineEntry::action));
}

core::Result<std::vector<Part>> parts_of(Casework::Impl& d, Casework& work, const Case& k) {
  std::vector<Part> out;
  for (auto [kind, media, label] : {std::tuple{"pdf", "application/pdf", "PDF"},
                                    {"xml", "application/xml", "XML"},
                                    {"json", "application/json", "JSON"}}) {
    auto content = d.cases.answers(k.id, kind);
    if (!content && content.error().code == core::ErrorCode::not_found) continue;
    if (!content) return fail(content.error());
    out.push_back({.id = fmt::format("antrag/{}", kind),
                   .kind = "Antrag",
                   .title = fmt::format("Antrag ({})", label),
                   .filename = fmt::format("{}.{}", k.reference, kind),
                   .media_type = media,
                   .content = std::move(*content),
                   .created_at = k.submitted_at});
  }
  for (const auto& r :
       d.db.query("SELECT position, requirement, filename, media_type FROM case_documents WHERE "
                  "case_id = ? ORDER BY position",
                  k.id)) {
    core::Status read;
    auto position = static_cast<int>(r.integer(0));
    auto content =
        read_all([&](std::ostream& o) { return d.cases.read_document(k.id, position, o); }, read);
    if (!read) return fail(read.error());
    out.push_back({.id = fmt::format("dokument/{}", position),
                   .kind = "Anlage",
                   .title = r.text(1).empty() ? std::string("Anlage") : r.text(1),
                   .filename = r.text(2),
                   .media_type = r.text(3),
                   .content = std::move(content),
                   .created_at = k.received_at});
  }
  int n = 0;
  for (const auto& notice : work.notices(k.id)) {
    ++n;
    core::Status read;
    auto content =
        read_all([&](std::ostream& o) { return work.read_notice(k.id, notice.id, o); }, read);
    if (!read) return fail(read.error());
    out.push_back({.id = "bescheid/" + notice.id,
                   .kind = "Bescheid",
                   .title = notice.title,
                   .filename = fmt::format("Bescheid-{}.pdf", n),
                   .media_type = "application/pdf",
                   .content = std::move(content),
                   .created_at = notice.created_at});
    // announced: stored in the mailbox, or posted on a day the clerk recorded
    if (!notice.stored_at && notice.status != "posted") continue;
    // the proof of announcement, as the Vorgang recorded it
    std::string proof =
        fmt::format("Zustellnachweis\n\nBescheid: {}\nSHA-256 des Bescheids: {}\nErstellt: {}\n",
                    notice.title, notice.sha256, core::format_berlin(notice.created_at));
    if (notice.stored_at) {
      proof += fmt::format(
          "Zugestellt über: Zustelldienst der Serviceplattform\nEingelagert im Postfach: {}\n"
          "Nachricht im Postfach: {}\n",
          core::format_berlin(*notice.stored_at), notice.receipt_message_id);
    } else {
      proof += "Zugestellt über: Post (Tag der Aufgabe zur Post im Vorgang vermerkt)\n";
    }
    if (!notice.deemed_announced_on.empty()) {
      proof += fmt::format("Gilt als bekanntgegeben am: {}\n",
                           core::format_day_de(notice.deemed_announced_on));
    }
    out.push_back({.id = "zustellnachweis/" + notice.id,
                   .kind = "Zustellnachweis",
                   .title = "Zustellnachweis: " + notice.title,
                   .filename = fmt::format("Zustellnachweis-{}.txt", n),
                   .media_type = "text/plain",
                   .content = std::move(proof),
                   .created_at = notice.stored_at.value_or(notice.created_at)});
  }
  // the messages with the applicant, each as text, and their attachments
  int m = 0;
  for (const auto& r :
       d.db.query("SELECT id, direction, author_name, subject, body, created_at FROM "
                  "case_messages WHERE case_id = ? ORDER BY seq",
                  k.id)) {
    ++m;
    auto at = core::from_millis(r.integer(5));
    bool to_applicant = r.text(1) == "to_applicant";
    out.push_back(
        {.id = "nachricht/" + r.text(0),
         .kind = "Nachricht",
         .title = r.text(3).empty() ? std::string("Nachricht") : r.text(3),
         .filename = fmt::format("Nachricht-{}.txt", m),
         .media_type = "text/plain",
         .content = fmt::format("Nachricht {}\nVon: {}\nAn: {}\nZeit: {}\nBetreff: {}\n\n{}\n", m,
                                to_applicant ? r.text(2) : "Antragstellende Person",
                                to_applicant ? "Antragstellende Person" : "Behörde",
                                core::format_berlin(at), r.text(3), r.text(4)),
         .created_at = at});
    for (const auto& f : d.db.query("SELECT position, filename, media_type, blob_id FROM "
                                    "case_message_files WHERE message_id = ? ORDER BY position",
                                    r.text(0))) {
      core::Status read;
      auto content =
          read_all([&](std::ostream& o) { return d.cases.read_blob(f.text(3), o); }, read);
      if (!read) return fail(read.error());
      out.push_back({.id = fmt::format("nachricht/{}/{}", r.text(0), f.integer(0)),
                     .kind = "Anlage",
                     .title = fmt::format("Anlage zu Nachricht {}", m),
                     .filename = f.text(1),
                     .media_type = f.text(2),
                     .content = std::move(content),
                     .created_at = at});
    }
  }
  // the statements of other authorities and outside bodies, each as text, and their
  // attachments
  int n_statement = 0;
  for (const auto& r : d.db.query(
           "SELECT id, party_name, question, deadline_on, status, created_at, created_by_name, "
           "answer, answered_at, answered_by FROM case_statements WHERE case_id = ? AND status "
           "<> 'cancelled' ORDER BY created_at, id",
           k.id)) {
    ++n_statement;
    auto asked = core::from_millis(r.integer(5));
    bool answered = r.text(4) == "answered";
    auto at = answered ? core::from_millis(r.integer(8)) : asked;
    out.push_back({.id = "stellungnahme/" + r.text(0),
                   .kind = "Stellungnahme",
                   .title = "Stellungnahme: " + r.text(1),
                   .filename = fmt::format("Stellungnahme-{}.txt", n_statement),
                   .media_type = "text/plain",
                   .content = fmt::format(
                       "Bitte um Stellungnahme {}\nAn: {}\nGefragt von: {}\nGefragt am: {}\nFrist: "
                       "{}\n\n{}\n\n{}\n",
                       n_statement, r.text(1), r.text(6), core::format_berlin(asked),
                       core::format_day_de(r.text(3)), r.text(2),
                       answered ? fmt::format("Stellungnahme von {} am {}:\n\n{}", r.text(9),
                                              core::format_berlin(at), r.text(7))
                                : std::string("Noch keine Stellungnahme.")),
                   .created_at = at});
    for (const auto& f : d.db.query("SELECT position, filename, media_type, blob_id FROM "
                                    "case_statement_files WHERE statement_id = ? ORDER BY position",
                                    r.text(0))) {
      core::Status read;
      auto content =
          read_all([&](std::ostream& o) { return d.cases.read_blob(f.text(3), o); }, read);
      if (!read) return fail(read.error());
      out.push_back({.id = fmt::format("stellungnahme/{}/{}", r.text(0), f.integer(0)),
                     .kind = "Anlage",
                     .title = fmt::format("Anlage zu Stellungnahme {}", n_statement),
                     .filename = f.text(1),
                     .media_type = f.text(2),
                     .content = std::move(content),
                     .created_at = at});
    }
  }
  return out;
}

}  // namespace

core::Result<Download> Casework::documents_zip(const Staffer& who, std::string_view id) {
  auto& d = *impl_;
  auto k = open_case(who, id, "zip");
  if (!k) return fail(k.error());
  auto parts = parts_of(d, *this, *k);
  if (!parts) return fail(parts.error());
  // each file under its number, so that two of the same name stay apart
  std::string index = fmt::format(
      "Vorgang {}{}\n{}\nAntragsteller: {}\nErstellt: {}\n\nNr.  Datei  |  Inhalt  |  Größe  |  "
      "SHA-256\n",
      k->reference, k->aktenzeichen.empty() ? "" : " (Aktenzeichen " + k->aktenzeichen + ")",
      k->title, k->applicant.name, core::format_berlin(d.clock.now()));
  std::vector<std::string> names;
  int n = 0;
  for (const auto& p : *parts) {
    auto name = entry_name(++n, p.filename);
    index += fmt::format("{:02}  {}  |  {}: {}  |  {} Bytes  |  {}\n", n, name, p.kind, p.title,
                         p.content.size(), core::crypto::sha256_hex(p.content));
    names.push_back(std::move(name));
  }
  std::vector<ZipEntry> entries{{"00_Inhaltsverzeichnis.txt", index}};
  for (std::size_t i = 0; i < parts->size(); ++i)
    entries.push_back({names[i], (*parts)[i].content});
  return Download{.filename = k->reference + ".zip",
                  .media_type = "application/zip",
                  .content = zip_of(entries, d.clock.now())};
}

void Casework::record_export(std::string_view case_id, std::string_view actor,
                             const EfileContainer& container) {
  auto& d = *impl_;
  d.db.transaction([&](core::db::Tx& tx) {
    if (auto k = d.load(tx, case_id, false)) {
      d.record(tx, std::string(actor), "", *k, "case.exported",
               {{"processId", container.process_id},
                {"sha256", core::crypto::sha256_hex(container.zip)}});
    }
  });
}

core::Result<EfileContainer> Casework::efile_container(std::string_view case_id,
                                                       core::TimePoint at) {
  auto& d = *impl_;
  auto k = d.load(*d.db.acquire(), case_id, false);
  if (!k) return fail(Error::not_found("no such case"));
  auto parts = parts_of(d, *this, *k);
  if (!parts) return fail(parts.error());
  EfileRecord record;
  record.case_id = k->id;
  record.reference = k->reference;
  record.aktenzeichen = k->aktenzeichen;
  record.title = k->title;
  record.authority_id = k->authority_id;
  record.authority_name = d.options.tenant_name ? d.options.tenant_name(k->tenant_id) : "";
  if (record.authority_name.empty()) record.authority_name = k->authority_id;
  record.applicant_name = k->applicant.name;
  record.source = k->source;
  record.applicant_address = k->applicant.address;
  record.opened_at = k->received_at;
  record.state = k->state;
  record.filing_location = d.options.efile_location;
  for (auto& p : *parts) {
    record.documents.push_back({.id = p.id,
                                .title = p.title,
                                .filename = p.filename,
                                .media_type = p.media_type,
                                .content = std::move(p.content),
                                .created_at = p.created_at,
                                .kind = p.kind});
  }
  return make_efile_container(record, efile_uuid("handover/" + k->id), at);
}

bool Casework::files_to_efile() const {
  return impl_->options.efile != nullptr;
}

core::Result<Case> Casework::hand_to_efile(const Staffer& who, std::string_view id) {
  auto& d = *impl_;
  if (!d.options.efile) return fail(Error::conflict("no e-file is set up for this installation"));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Case> {
    auto k = d.visible(tx, who, id, true);
    if (!k) return k;
    auto state = parse_state(k->state).value_or(State::received);
    if (state != State::announced && state != State::withdrawn && state != State::ended) {
      return fail(Error::invalid("state", "only an announced, withdrawn or ended Vorgang"));
    }
    auto at = d.clock.now();
    // one job per request: clicked twice, the second finds the first (and its time, so the
    // container keeps its bytes); asked again after a failure, a new one
    d.jobs.enqueue(
        tx,
        {.kind = kEfileJob,
         .payload = json_object({{"caseId", k->id}, {"at", std::to_string(core::to_millis(at))}}),
         .idempotency_key = fmt::format("cases.efile:{}:{}", k->id, efile_failures(*this, k->id))});
    d.record(tx, Impl::actor(who), who.name, *k, "case.efile_requested", {});
    return k;
  });
}

core::Status file_case(Casework& work, Casework::Impl& d, const std::string& case_id,
                       core::TimePoint at, bool last_attempt) {
  auto k = d.load(*d.db.acquire(), case_id, false);
  if (!k) return fail(Error::not_found("no such case"));
  if (k->state == state_name(State::filed) || k->state == state_name(State::closed)) return {};
  if (!d.options.efile) return fail(Error::unavailable("no e-file target", "cases.efile"));
  auto container = work.efile_container(case_id, at);
  if (!container) return fail(container.error());
  auto delivered = d.options.efile->deliver(*container);
  if (!delivered && (delivered.error().code != core::ErrorCode::unavailable || last_attempt)) {
    // a person must look (credentials, rights, a missing folder): the timeline says so
    d.db.transaction([&](core::db::Tx& tx) {
      d.record(tx, "system:cases", "", *k, "case.efile_failed",
               {{"target", d.options.efile->name()}, {"error", delivered.error().message}});
    });
  }
  if (!delivered) return fail(delivered.error());
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    auto current = d.load(tx, case_id, true);
    if (!current || current->state == state_name(State::filed)) return {};
    d.set_state(tx, *current, State::filed, "system:cases", "", "");
    d.record(tx, "system:cases", "", *current, "case.filed",
             {{"processId", container->process_id}, {"container", container->zip_name}});
    return {};
  });
}

std::optional<Case> Casework::by_reference(std::string_view reference) {
  auto& d = *impl_;
  // as people type it: "mv-35ca3-4hfyvhok" is MV-35CA3-4HFYVHOK (and O is 0, I and L are 1)
  auto typed = std::string(core::trim(reference));
  auto canonical = core::parse_public_id("MV", typed);
  if (!canonical) {
    canonical = typed;
    std::ranges::transform(*canonical, canonical->begin(),
                           [](unsigned char ch) { return std::toupper(ch); });
  }
  auto r = d.db.query_one("SELECT id FROM cases WHERE reference = ?", *canonical);
  if (!r) return std::nullopt;
  return d.load(*d.db.acquire(), r->text(0), false);
}

std::vector<Case> Casework::latest(std::string_view authority_id, int limit) {
  auto& d = *impl_;
  std::vector<Case> out;
  auto sql = fmt::format("SELECT {} FROM cases{} ORDER BY received_at DESC, id LIMIT ?",
                         kCaseColumns, authority_id.empty() ? "" : " WHERE authority_id = ?");
  auto rows = authority_id.empty() ? d.db.query(sql, limit)
                                   : d.db.query(sql, std::string(authority_id), limit);
  for (const auto& r : rows) out.push_back(read_case(r));
  return out;
}

}  // namespace mvsp::cases
