// The Vorhaben and its use cases. Every change is one transaction with its audit record
// (and its jobs); documents and outputs are written to the component's blob store before
// the transaction that names them, under the blob's shared lock (core/blob_sweep.hpp).
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/applications/applications.hpp>
#include <mvsp/cases/cases.hpp>
#include <mvsp/cases/casework.hpp>
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
#include <mvsp/core/virus_scan.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/outputs.hpp>
#include <mvsp/forms/pdf.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/templates.hpp>
#include <sstream>

#include "document_rules.hpp"

namespace mvsp::applications {

namespace {

constexpr std::string_view kBlobLock = "applications.blob:";
constexpr std::string_view kHandOverJob = "applications.hand_over";
constexpr std::string_view kNotifyJob = "applications.notify";

const std::vector<std::pair<Status, std::string_view>>& status_names() {
  static const std::vector<std::pair<Status, std::string_view>> kNames = {
      {Status::draft, "draft"},       {Status::submitted, "submitted"},
      {Status::received, "received"}, {Status::in_progress, "in_progress"},
      {Status::query, "query"},       {Status::documents_requested, "documents_requested"},
      {Status::decided, "decided"},   {Status::withdrawn, "withdrawn"},
      {Status::ended, "ended"}};
  return kNames;
}

constexpr std::string_view kColumns =
    "id, reference, tenant_id, authority_id, authority_name, place, online_service_id, "
    "online_service_version, title, config, owner_kind, owner_id, account_id, guest_email, "
    "guest_confirmed, status, answers, payment_order_id, case_id, client_id, external_url, "
    "created_at, updated_at, draft_expires_at, reminded_at, reminders_off, submitted_at, "
    "received_at, retention_until";

// The citizen's status for a state of the Vorgang; none where it stays as it is (a notice
// made but not yet announced reads as "in Bearbeitung"; filing and closing change nothing
// the citizen needs to know).
std::optional<Status> citizen_status(std::string_view state) {
  using cases::State;
  auto s = cases::parse_state(state);
  if (!s) return std::nullopt;
  switch (*s) {
    case State::received:
      return Status::received;
    case State::formal_check:
    case State::material_check:
    case State::decided:
      return Status::in_progress;
    case State::documents_requested:
      return Status::documents_requested;
    case State::announced:
      return Status::decided;
    case State::withdrawn:
      return Status::withdrawn;
    case State::ended:
      return Status::ended;
    case State::filed:
    case State::closed:
      return std::nullopt;
  }
  return std::nullopt;
}

// What a requested document may be: what every online service takes.
const std::vector<std::string>& request_types() {
  static const std::vector<std::string> kTypes = {"application/pdf", "image/jpeg", "image/png"};
  return kTypes;
}
constexpr std::int64_t kRequestMaxBytes = 10 * 1024 * 1024;

std::optional<core::TimePoint> optional_time(const core::db::Row& r, std::size_t i) {
  if (auto v = r.optional_integer(i)) return core::from_millis(*v);
  return std::nullopt;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// Who started a guest Vorhaben, for the limit per client: an IPv4 address, or the /64 of an
// IPv6 address (one household or machine has a whole /64).
std::string client_key(std::string_view address) {
  auto canonical = web::canonical_address(address).value_or(std::string(address));
  if (canonical.find(':') == std::string::npos) return canonical;
  std::string out;
  int groups = 0;
  std::size_t i = 0;
  while (i < canonical.size() && groups < 4) {
    auto colon = canonical.find(':', i);
    if (colon == i) break;  // "::" compresses the rest
    out += canonical.substr(i, colon == std::string::npos ? std::string::npos : colon - i) + ":";
    ++groups;
    if (colon == std::string::npos) break;
    i = colon + 1;
  }
  return out + "/64";
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c > 0x20 && c < 0x7f;
  });
}

std::string answers_name(const forms::Answers& answers) {
  for (const auto& [path, value] : answers) {
    if (path.find('[') != std::string::npos || !path.ends_with(".nachname")) continue;
    auto base = path.substr(0, path.size() - 9);
    auto given = answers.find(base + ".vorname");
    return given == answers.end() ? value : given->second + " " + value;
  }
  return {};
}

}  // namespace

std::string_view status_name(Status status) {
  for (const auto& [s, name] : status_names()) {
    if (s == status) return name;
  }
  return "draft";
}

std::optional<Status> parse_status(std::string_view name) {
  for (const auto& [s, n] : status_names()) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::string Actor::name() const {
  if (!account_id.empty()) return "account:" + account_id;
  return "guest";
}

struct Applications::Impl {
  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::JobQueue& jobs;
  core::AuditLog& audit;
  core::BlobStore& blobs;
  Parts parts;
  ApplicationsOptions options;
  std::string link_key;

  std::string t(std::string_view locale, std::string_view key) const {
    return parts.texts.text(locale, fmt::format("applications.{}", key));
  }
  std::unexpected<core::Error> invalid(const Actor& actor, const std::string& field,
                                       std::string_view key) const {
    return core::fail(core::Error::invalid(field, t(actor.locale, fmt::format("errors.{}", key))));
  }

  Application decode(const core::db::Row& r) {
    Application a;
    a.id = r.text(0);
    a.reference = r.text(1);
    a.tenant_id = r.text(2);
    a.authority_id = r.text(3);
    a.authority_name = r.text(4);
    a.place = r.text(5);
    a.online_service_id = r.text(6);
    a.online_service_version = static_cast<int>(r.integer(7));
    a.title = r.text(8);
    if (auto config = catalog::config_from_json(r.text(9))) {
      a.config = std::move(*config);
    } else {
      // fail closed: a configuration that no longer reads lets nothing be submitted
      core::log::error("applications.config_undecodable", {{"application", a.id}});
      a.config.form.clear();
      a.config.min_level = "high";
    }
    a.owner = {r.text(10), r.text(11)};
    a.account_id = r.text(12);
    a.guest_email = r.text(13);
    a.guest_confirmed = r.integer(14) != 0;
    a.status = parse_status(r.text(15)).value_or(Status::draft);
    a.answers = forms::answers_from_json(r.text(16)).value_or(forms::Answers{});
    a.payment_order_id = r.text(17);
    a.case_id = r.text(18);
    a.client_id = r.text(19);
    a.external_url = r.text(20);
    a.created_at = core::from_millis(r.integer(21));
    a.updated_at = core::from_millis(r.integer(22));
    a.draft_expires_at = optional_time(r, 23);
    a.reminded_at = optional_time(r, 24);
    a.reminders_off = r.integer(25) != 0;
    a.submitted_at = optional_time(r, 26);
    a.received_at = optional_time(r, 27);
    a.retention_until = optional_time(r, 28);
    return a;
  }

  std::vector<Document> documents_of(core::db::Connection& c, const std::string& id) {
    std::vector<Document> out;
    for (const auto& r :
         c.query("SELECT id, requirement, filename, media_type, size, sha256, blob_id, created_at "
                 "FROM application_documents WHERE application_id = ? "
                 "ORDER BY requirement, created_at, id",
                 id)) {
      out.push_back({r.text(0), static_cast<int>(r.integer(1)), r.text(2), r.text(3), r.integer(4),
                     r.text(5), r.text(6), core::from_millis(r.integer(7))});
    }
    return out;
  }

  std::optional<Application> load(core::db::Connection& c, std::string_view id,
                                  bool for_update = false) {
    auto row = c.query_one(fmt::format("SELECT {} FROM applications WHERE id = ?{}", kColumns,
                                       for_update ? c.for_update() : ""),
                           id);
    if (!row) return std::nullopt;
    auto a = decode(*row);
    a.documents = documents_of(c, a.id);
    return a;
  }
  std::optional<Application> load(std::string_view id) {
    auto c = db.acquire();
    return load(*c, id);
  }

  // A file of the applicant checked for malware: unavailable when the scanner cannot look
  // (or there is none), invalid_input at `field` when it is infected.
  core::Status scan(const Actor& actor, const std::string& id, const std::string& field,
                    const std::string& content) {
    if (!parts.scanner) {
      return core::fail(
          core::Error::unavailable(t(actor.locale, "errors.scanner_down"), "no virus scanner"));
    }
    auto scanned = parts.scanner->scan(content);
    if (!scanned) {
      core::log::warn("applications.scan_unavailable", {{"detail", scanned.error().message}});
      return core::fail(core::Error::unavailable(t(actor.locale, "errors.scanner_down"),
                                                 scanned.error().message));
    }
    if (scanned->infected) {
      core::log::warn("applications.upload_infected",
                      {{"application", id}, {"signature", scanned->signature}});
      return core::fail(core::Error::invalid(field, t(actor.locale, "errors.file_infected")));
    }
    return {};
  }

  // Acting on a submitted application (documents, withdrawal) needs the trust level its
  // submission needed; guests and external online services' Vorhaben have none to reach.
  core::Status level_enough(const Actor& actor, const Application& a) const {
    if (a.is_guest() || !a.client_id.empty()) return {};
    auto required = identity::parse_level(a.config.min_level).value_or(identity::TrustLevel::low);
    if (actor.level >= required) return {};
    return core::fail(core::Error::forbidden(t(actor.locale, "errors.level")));
  }

  // Files the applicant sends after the submission (`what` names them in errors): at most
  // as many as a document rule allows, each a type and size that a request takes, each
  // scanned before any is handed on.
  core::Result<std::vector<cases::IntakeDocument>> checked_files(
      const Actor& actor, const Application& a, const std::string& field, const std::string& what,
      const std::vector<Applications::Upload>& files,
      std::size_t most = catalog::kMaxFilesPerDocument) {
    if (files.size() > most) {
      return core::fail(core::Error::invalid(
          field, fmt::format(fmt::runtime(t(actor.locale, "errors.file_count")), what, most)));
    }
    std::vector<cases::IntakeDocument> documents;
    for (const auto& file : files) {
      if (file.content.empty()) return invalid(actor, field, "file_empty");
      if (static_cast<std::int64_t>(file.content.size()) > kRequestMaxBytes) {
        return core::fail(core::Error::invalid(
            field, fmt::format(fmt::runtime(t(actor.locale, "errors.file_too_large")), what,
                               megabytes(kRequestMaxBytes))));
      }
      auto type = core::media_type_of(file.content);
      if (std::ranges::find(request_types(), type) == request_types().end()) {
        return core::fail(core::Error::invalid(
            field, fmt::format(fmt::runtime(t(actor.locale, "errors.file_type")), what,
                               type_names(request_types()))));
      }
      documents.push_back({.requirement = what,
                           .filename = core::clean_filename(file.filename, type),
                           .media_type = type,
                           .content = file.content});
    }
    for (const auto& doc : documents) {
      if (auto clean = scan(actor, a.id, field, doc.content); !clean)
        return core::fail(clean.error());
    }
    return documents;
  }

  static bool may(const Actor& actor, const Application& a) {
    if (a.owner.kind == "guest") {
      return std::find(actor.guest_of.begin(), actor.guest_of.end(), a.id) != actor.guest_of.end();
    }
    if (a.owner.kind == "organisation") {
      return !actor.organisation_id.empty() && actor.organisation_id == a.owner.id;
    }
    return !actor.account_id.empty() && actor.account_id == a.owner.id;
  }

  core::Result<Application> accessible(const Actor& actor, std::string_view id) {
    auto a = load(id);
    if (!a || !may(actor, *a)) return core::fail(core::Error::not_found("no such application"));
    return std::move(*a);
  }

  std::string token_for(std::string_view purpose, std::string_view id,
                        std::string_view salt = {}) const {
    return core::crypto::base64url(
        core::crypto::hmac_sha256(link_key, fmt::format("{}:{}:{}", purpose, id, salt)));
  }

  // A draft lives `draft_days` after its last change; the reminder is due `reminder_days`
  // before that.
  void touch_draft(core::db::Connection& tx, const Application& a, core::TimePoint now) {
    auto expires = now + std::chrono::days(a.config.draft_days);
    std::optional<std::int64_t> remind;  // none when the online service sends no reminder
    if (a.config.reminder_days > 0)
      remind = core::to_millis(expires - std::chrono::days(a.config.reminder_days));
    tx.execute(
        "UPDATE applications SET updated_at = ?, draft_expires_at = ?, remind_at = ?, "
        "reminded_at = NULL WHERE id = ?",
        core::to_millis(now), core::to_millis(expires), remind, a.id);
  }

  // False when an entry with the same idempotency key exists (posted before, or at once).
  bool event(core::db::Connection& tx, const std::string& id, Status status,
             const std::string& text, const std::string& actor,
             const std::optional<std::string>& key = std::nullopt) {
    return tx.execute(
               "INSERT INTO application_events (id, application_id, at, status, text, actor, "
               "idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
               ids.key(), id, core::to_millis(clock.now()), status_name(status), text, actor,
               key) > 0;
  }

  void record(core::db::Connection& tx, const std::string& actor, const std::string& action,
              const std::string& id, const std::string& detail = "{}") {
    audit.append(tx, {.actor = actor,
                      .action = action,
                      .object_type = "application",
                      .object_id = id,
                      .detail = detail});
  }

  void notify(core::db::Connection& tx, const std::string& id, std::string_view what) {
    jobs.enqueue(tx, {.kind = std::string(kNotifyJob),
                      .payload = core::json_object({{"id", id}, {"event", what}}),
                      .idempotency_key = fmt::format("applications.notify:{}:{}:{}", id, what,
                                                     core::to_millis(clock.now()))});
  }

  // The applicant hears of the documents the authority asks for (`reminder` for one request
  // whose day is near): an account or organisation by a message in its mailbox (which mails
  // that something arrived), a guest by mail with the link only.
  core::JobOutcome tell_of_requests(const Application& a, std::string_view reminder) {
    auto open = parts.casework.open_requests(a.id);
    auto link = a.is_guest() ? guest_link(a)
                             : fmt::format("{}/antrag/vorhaben/{}", options.public_url, a.id);
    for (const auto& r : open) {
      if (!reminder.empty() && r.id != reminder) continue;
      auto day = core::format_day_de(r.deadline_on);
      auto kind = reminder.empty() ? "request" : "request_reminder";
      auto subject =
          fmt::format(fmt::runtime(t("de", fmt::format("mail.{}.subject", kind))), a.title, day);
      if (a.is_guest()) {
        if (!a.guest_confirmed) continue;
        auto body = fmt::format(fmt::runtime(t("de", fmt::format("mail.{}.guest_body", kind))),
                                a.title, a.reference, day, link);
        db.transaction([&](core::db::Connection& tx) {
          queue_mail(tx, a.guest_email, subject, body,
                     fmt::format("applications.{}:{}:{}", kind, a.id, r.id));
        });
        continue;
      }
      mailbox::StoreRequest message;
      message.owner_id = a.owner.id;
      message.source_ref = fmt::format("application:{}:{}:{}", a.id, kind, r.id);
      message.notice = false;
      message.sender = a.authority_name;
      message.subject = subject;
      message.body = fmt::format(fmt::runtime(t("de", fmt::format("mail.{}.body", kind))), a.title,
                                 a.reference, fmt::join(r.items, "\n- "), day,
                                 r.note.empty() ? "" : r.note + "\n\n", link);
      message.reference = a.reference;
      auto stored = parts.mailbox.store(message);
      if (!stored && stored.error().code != core::ErrorCode::not_found)
        return core::JobOutcome::retry(stored.error().message);
    }
    return core::JobOutcome::ok();
  }

  // Tells the applicant what `kind` (message, forwarded) says: a guest with a confirmed
  // address by mail (`guest_body`), an account or organisation in its mailbox (`body`, from
  // `sender`); once per `occasion`, however often the job runs.
  core::JobOutcome tell_applicant(const Application& a, std::string_view kind,
                                  std::string_view occasion, const std::string& sender,
                                  const std::string& subject, const std::string& body,
                                  const std::string& guest_body) {
    if (a.is_guest()) {
      if (!a.guest_confirmed) return core::JobOutcome::ok();
      db.transaction([&](core::db::Connection& tx) {
        queue_mail(tx, a.guest_email, subject, guest_body,
                   fmt::format("applications.{}:{}:{}", kind, a.id, occasion));
      });
      return core::JobOutcome::ok();
    }
    mailbox::StoreRequest message;
    message.owner_id = a.owner.id;
    message.source_ref = fmt::format("application:{}:{}:{}", a.id, kind, occasion);
    message.notice = false;
    message.sender = sender;
    message.subject = subject;
    message.body = body;
    message.reference = a.reference;
    auto stored = parts.mailbox.store(message);
    if (!stored && stored.error().code != core::ErrorCode::not_found)
      return core::JobOutcome::retry(stored.error().message);
    return core::JobOutcome::ok();
  }

  // The applicant hears that the authority wrote (not what: the text may need a higher
  // trust level than a mailbox message or a mail), with the link to read it.
  core::JobOutcome tell_of_message(const Application& a, std::string_view message_id) {
    auto link = a.is_guest()
                    ? guest_link(a)
                    : fmt::format("{}/antrag/vorhaben/{}#nachrichten", options.public_url, a.id);
    auto text = [&](const char* part) {
      return fmt::format(fmt::runtime(t("de", fmt::format("mail.message.{}", part))), a.title,
                         a.reference, a.authority_name, link);
    };
    return tell_applicant(a, "message", message_id, a.authority_name,
                          fmt::format(fmt::runtime(t("de", "mail.message.subject")), a.title),
                          text("body"), text("guest_body"));
  }

  // The Vorgang went to another authority: the Vorhaben names it from now on, and the
  // applicant hears who decides now.
  core::JobOutcome tell_of_forwarding(const std::string& id, const std::string& from_name,
                                      const std::string& authority_id,
                                      const std::string& authority_name,
                                      const std::string& job_id) {
    // only while the Vorgang is there: a forwarding overtaken by a later one leaves naming
    // and telling to that one's job
    auto k = parts.cases.by_application(id);
    if (!k || k->authority_id != authority_id) return core::JobOutcome::ok();
    // named once (a retried job changes nothing)
    db.transaction([&](core::db::Connection& tx) {
      if (tx.execute("UPDATE applications SET authority_id = ?, authority_name = ?, updated_at = ? "
                     "WHERE id = ? AND authority_id <> ?",
                     authority_id, authority_name, core::to_millis(clock.now()), id,
                     authority_id) == 1) {
        record(tx, "system:cases", "application.forwarded", id,
               core::json_object({{"authority", authority_id}}));
      }
    });
    auto a = load(id);
    if (!a) return core::JobOutcome::ok();
    auto link = a->is_guest() ? guest_link(*a)
                              : fmt::format("{}/antrag/vorhaben/{}", options.public_url, a->id);
    auto body = fmt::format(fmt::runtime(t("de", "mail.forwarded.body")), a->title, a->reference,
                            from_name, authority_name, link);
    return tell_applicant(*a, "forwarded", job_id, from_name,
                          fmt::format(fmt::runtime(t("de", "mail.forwarded.subject")), a->title),
                          body, body);
  }

  static std::vector<std::string> blobs_of(const Application& a, core::db::Connection& c) {
    std::vector<std::string> out;
    for (const auto& d : a.documents) out.push_back(d.blob_id);
    if (auto r = c.query_one("SELECT pdf_blob, xml_blob, json_blob FROM applications WHERE id = ?",
                             a.id)) {
      for (std::size_t i = 0; i < 3; ++i) {
        if (!r->text(i).empty()) out.push_back(r->text(i));
      }
    }
    return out;
  }

  static std::vector<std::string> named_among(core::db::Connection& c,
                                              std::span<const std::string> ids) {
    std::vector<std::string> out;
    if (ids.empty()) return out;
    std::vector<core::db::Value> params;
    for (int round = 0; round < 4; ++round) {
      for (const auto& id : ids) params.emplace_back(id);
    }
    auto list = core::db::parameter_list(ids.size());
    for (const auto& r : c.query_values(
             fmt::format("SELECT blob_id FROM application_documents WHERE blob_id IN ({0}) "
                         "UNION SELECT pdf_blob FROM applications WHERE pdf_blob IN ({0}) "
                         "UNION SELECT xml_blob FROM applications WHERE xml_blob IN ({0}) "
                         "UNION SELECT json_blob FROM applications WHERE json_blob IN ({0})",
                         list),
             params)) {
      out.push_back(r.text(0));
    }
    return out;
  }

  void remove_blobs(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      core::remove_unless_named(db, blobs, kBlobLock, id,
                                [](core::db::Connection& c, std::span<const std::string> among) {
                                  return named_among(c, among);
                                });
    }
  }

  // Writes `content` and holds its lock for the transaction that names it: a sweep that
  // took the blob for unnamed meanwhile has removed it, so it is written again.
  static void keep_blob(core::db::Connection& tx, core::BlobStore& blobs, const std::string& id,
                        std::string_view content) {
    tx.lock_shared(std::string(kBlobLock) + id);
    if (!blobs.exists(id)) blobs.put(content);
  }

  // Deletes a Vorhaben with everything it names; an unpaid order is cancelled.
  void erase(const Application& a, const std::string& actor, const std::string& action) {
    std::vector<std::string> named;
    bool erased = db.transaction([&](core::db::Connection& tx) {
      named = blobs_of(a, tx);
      tx.execute("DELETE FROM application_documents WHERE application_id = ?", a.id);
      tx.execute("DELETE FROM application_events WHERE application_id = ?", a.id);
      auto n = tx.execute("DELETE FROM applications WHERE id = ?", a.id);
      record(tx, actor, action, a.id);
      return n > 0;
    });
    if (!erased) return;
    if (!a.payment_order_id.empty()) {
      if (auto order = parts.payments.get(a.payment_order_id);
          order && !payments::info(order->state).finished &&
          order->state != payments::State::invoiced) {
        (void)parts.payments.cancel(a.tenant_id, a.payment_order_id, actor);
      }
    }
    remove_blobs(named);
  }

  forms::Filling filling(const forms::FormVersion& form, std::string_view locale) const {
    forms::FillContext context;
    context.now = clock.now();
    context.locale = std::string(locale);
    return forms::Filling(form.form, parts.texts, std::move(context));
  }

  std::optional<forms::FormVersion> form_of(const Application& a) {
    if (a.config.form.empty()) return std::nullopt;
    return parts.forms.published(a.config.form, a.config.form_version);
  }

  // Names as far as the case management and payments take them (the form allows longer).
  std::string applicant_name(const Application& a) {
    auto name = answers_name(a.answers);
    if (name.empty() && !a.account_id.empty() && parts.account_contact) {
      if (auto contact = parts.account_contact(a.account_id)) name = contact->first;
    }
    return core::truncate_utf8(name.empty() ? a.guest_email : name, 200);
  }

  // Where mails about the Vorhaben go: the guest's confirmed address, or the verified
  // addresses of the owning account or organisation (not the person who started it).
  std::vector<std::string> contact_emails(const Application& a) {
    if (a.is_guest()) {
      return a.guest_confirmed ? std::vector<std::string>{a.guest_email}
                               : std::vector<std::string>{};
    }
    if (parts.owner_addresses) return parts.owner_addresses(a.owner.id);
    return {};
  }
  std::string contact_email(const Application& a) {
    auto all = contact_emails(a);
    return all.empty() ? std::string() : all.front();
  }

  std::string guest_link(const Application& a) {
    auto row = db.query_one("SELECT guest_salt FROM applications WHERE id = ?", a.id);
    if (!row || row->text(0).empty()) return {};
    return fmt::format("{}/antrag/gast?token={}", options.public_url,
                       token_for("guest", a.id, row->text(0)));
  }

  void queue_mail(core::db::Connection& tx, const std::string& to, const std::string& subject,
                  const std::string& body, const std::string& key) {
    core::queue_mail(jobs, tx, {.to = to, .subject = subject, .body = body, .message_id = {}}, key);
  }
};

Applications::Applications(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                           core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs,
                           Parts parts, ApplicationsOptions options)
    : impl_(std::make_unique<Impl>(
          Impl{db, clock, ids, jobs, audit, blobs, std::move(parts), std::move(options), {}})) {
  impl_->link_key = core::crypto::derive_key(impl_->options.master_key, "mvspeast", 1);
}

Applications::~Applications() = default;

core::Result<Started> Applications::start(const Start& s) {
  auto& d = *impl_;
  Actor actor;
  actor.locale = s.locale;
  auto os = d.parts.catalog.online_service(s.online_service_id);
  if (!os || os->state != "production")
    return core::fail(core::Error::not_found("no such online service"));
  if (!os->config.external_url.empty()) {
    return d.invalid(actor, "online_service", "runs_elsewhere");
  }
  if (os->config.form.empty() ||
      !d.parts.forms.published(os->config.form, os->config.form_version)) {
    return d.invalid(actor, "online_service", "no_form");
  }
  auto route = d.parts.catalog.route(os->leika_key, s.place);
  if (!route) return d.invalid(actor, "ort", "place_unknown");
  const auto& authority = route->authority;
  bool offered =
      os->owner == authority.id ||
      std::find(os->adopted_by.begin(), os->adopted_by.end(), authority.id) != os->adopted_by.end();
  if (!offered) return d.invalid(actor, "ort", "not_offered_here");
  if (authority.tenant_id.empty()) return d.invalid(actor, "ort", "authority_not_online");
  bool guest = s.owner.kind == "guest";
  std::string email;
  if (guest) {
    if (!os->config.guest_access) return d.invalid(actor, "email", "no_guest_access");
    email = lower_ascii(core::trim(s.guest_email));
    if (!core::looks_like_email(email)) return d.invalid(actor, "email", "email");
  } else if (s.owner.id.empty() || (s.owner.kind != "account" && s.owner.kind != "organisation")) {
    return core::fail(core::Error::unauthenticated("sign in first"));
  }
  auto now = d.clock.now();
  Started started;
  std::string salt = guest ? core::crypto::random_token(16) : std::string();
  auto id = d.ids.key();
  auto reference = d.ids.public_id("MV");
  if (guest) started.guest_token = d.token_for("guest", id, salt);
  auto result = d.db.transaction([&](core::db::Connection& tx) -> core::Status {
    if (guest) {
      // Each guest start mails a link: limited per address and per client, so that nobody
      // floods someone else's inbox from here.
      auto since = core::to_millis(now - std::chrono::hours(1));
      tx.lock_exclusive("applications.guest:" + email);
      auto per_address =
          tx.query_one("SELECT COUNT(*) FROM applications WHERE guest_email = ? AND created_at > ?",
                       email, since);
      auto per_client = tx.query_one(
          "SELECT COUNT(*) FROM applications WHERE owner_kind = 'guest' AND created_from = ? AND "
          "created_at > ?",
          client_key(s.remote_address), since);
      if (per_address->integer(0) >= d.options.guest_starts_per_address ||
          per_client->integer(0) >= d.options.guest_starts_per_client) {
        return core::fail(core::Error::rate_limited(d.t(s.locale, "errors.guest_throttled"),
                                                    std::chrono::hours(1)));
      }
    }
    tx.execute(fmt::format(
                   "INSERT INTO applications (id, reference, tenant_id, authority_id, "
                   "authority_name, place, online_service_id, online_service_version, title, "
                   "config, owner_kind, owner_id, account_id, guest_email, guest_token_hash, "
                   "guest_salt, guest_confirmed, status, answers, payment_order_id, pdf_blob, "
                   "xml_blob, json_blob, case_id, client_id, client_key, external_url, created_at, "
                   "created_from, updated_at, reminders_off) VALUES ({})",
                   core::db::parameter_list(31)),
               id, reference, authority.tenant_id, authority.id, authority.name, s.place, os->id,
               os->version, os->name, catalog::config_to_json(os->config), s.owner.kind,
               guest ? std::string() : s.owner.id, guest ? std::string() : s.account_id, email,
               guest ? core::crypto::sha256_hex(started.guest_token) : std::string(), salt, 0,
               "draft", "{}", "", "", "", "", "", "", std::nullopt, "", core::to_millis(now),
               client_key(s.remote_address), core::to_millis(now), 0);
    Application a;
    a.id = id;
    a.config = os->config;
    d.touch_draft(tx, a, now);
    d.event(tx, id, Status::draft, "", guest ? "guest" : "account:" + s.account_id);
    d.record(tx, guest ? "guest" : "account:" + s.account_id, "application.started", id,
             fmt::format(R"({{"onlineService":"{}","version":{},"authority":"{}"}})", os->id,
                         os->version, authority.id));
    if (guest) {
      d.queue_mail(
          tx, email, fmt::format(fmt::runtime(d.t(s.locale, "mail.guest.subject")), os->name),
          fmt::format(
              fmt::runtime(d.t(s.locale, "mail.guest.body")), os->name, authority.name,
              fmt::format("{}/antrag/gast?token={}", d.options.public_url, started.guest_token),
              reference),
          "applications.guest:" + id);
    }
    return {};
  });
  if (!result) return core::fail(result.error());
  started.application = *d.load(id);
  return started;
}

core::Result<std::string> Applications::open_guest_link(std::string_view token) {
  auto& d = *impl_;
  if (token.empty() || token.size() > 100)
    return core::fail(core::Error::not_found("no such link"));
  auto hash = core::crypto::sha256_hex(token);
  auto row = d.db.query_one(
      "SELECT id, guest_confirmed FROM applications WHERE guest_token_hash = ? "
      "AND owner_kind = 'guest'",
      hash);
  if (!row) return core::fail(core::Error::not_found("no such link"));
  auto id = row->text(0);
  if (row->integer(1) == 0) {
    d.db.transaction([&](core::db::Connection& tx) {
      tx.execute("UPDATE applications SET guest_confirmed = 1 WHERE id = ?", id);
      d.record(tx, "guest", "application.guest_confirmed", id);
    });
  }
  return id;
}

core::Result<Application> Applications::find(const Actor& actor, std::string_view id) {
  return impl_->accessible(actor, id);
}

std::optional<Application> Applications::get(std::string_view id) {
  return impl_->load(id);
}

std::vector<Application> Applications::list(const Actor& actor) {
  auto& d = *impl_;
  std::vector<Application> out;
  auto c = d.db.acquire();
  auto add = [&](std::string_view where, const std::string& value) {
    for (const auto& r : c->query(fmt::format("SELECT {} FROM applications WHERE {} "
                                              "ORDER BY updated_at DESC LIMIT 200",
                                              kColumns, where),
                                  value)) {
      out.push_back(d.decode(r));
    }
  };
  if (!actor.account_id.empty()) add("owner_kind = 'account' AND owner_id = ?", actor.account_id);
  if (!actor.organisation_id.empty())
    add("owner_kind = 'organisation' AND owner_id = ?", actor.organisation_id);
  for (const auto& id : actor.guest_of) add("owner_kind = 'guest' AND id = ?", id);
  std::sort(out.begin(), out.end(),
            [](const Application& a, const Application& b) { return a.updated_at > b.updated_at; });
  return out;
}

std::vector<Event> Applications::events(std::string_view id) {
  std::vector<Event> out;
  for (const auto& r : impl_->db.query(
           "SELECT at, status, text, actor FROM application_events WHERE application_id = ? "
           "ORDER BY at, id",
           id)) {
    out.push_back({core::from_millis(r.integer(0)), parse_status(r.text(1)).value_or(Status::draft),
                   r.text(2), r.text(3)});
  }
  return out;
}

core::Status Applications::save_answers(const Actor& actor, std::string_view id,
                                        const forms::Answers& answers) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (a->status != Status::draft)
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.frozen")));
  if (paid(*a)) return core::fail(core::Error::conflict(d.t(actor.locale, "errors.paid_frozen")));
  auto json = forms::answers_to_json(answers);
  if (json.size() > 1024 * 1024) return d.invalid(actor, "answers", "too_large");
  // An order still open was for the answers before: cancelled, so that it cannot be paid
  // afterwards for a fee that no longer fits. Paid meanwhile: the answers stay as they are.
  if (auto order = payment(*a); order && !payments::info(order->state).finished &&
                                order->state != payments::State::invoiced) {
    if (!d.parts.payments.cancel(a->tenant_id, order->id, actor.name()) && paid(*d.load(a->id))) {
      return core::fail(core::Error::conflict(d.t(actor.locale, "errors.paid_frozen")));
    }
  }
  return d.db.transaction([&](core::db::Connection& tx) -> core::Status {
    if (tx.execute("UPDATE applications SET answers = ? WHERE id = ? AND status = 'draft'", json,
                   a->id) == 0) {
      return core::fail(core::Error::conflict(d.t(actor.locale, "errors.frozen")));
    }
    d.touch_draft(tx, *a, d.clock.now());
    return {};
  });
}

core::Result<Document> Applications::add_document(const Actor& actor, std::string_view id,
                                                  int requirement, const std::string& filename,
                                                  const std::string& content) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (a->status != Status::draft)
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.frozen")));
  if (requirement < 0 || requirement >= static_cast<int>(a->config.documents.size())) {
    return d.invalid(actor, "datei", "no_such_requirement");
  }
  const auto& rule = a->config.documents[static_cast<std::size_t>(requirement)];
  auto field = fmt::format("datei-{}", requirement);
  if (content.empty()) return d.invalid(actor, field, "file_empty");
  if (static_cast<std::int64_t>(content.size()) > rule.max_bytes) {
    return core::fail(core::Error::invalid(
        field, fmt::format(fmt::runtime(d.t(actor.locale, "errors.file_too_large")), rule.name,
                           megabytes(rule.max_bytes))));
  }
  auto type = core::media_type_of(content);
  if (std::find(rule.types.begin(), rule.types.end(), type) == rule.types.end()) {
    auto allowed = type_names(rule.types);
    return core::fail(core::Error::invalid(
        field,
        fmt::format(fmt::runtime(d.t(actor.locale, "errors.file_type")), rule.name, allowed)));
  }
  int limit = rule.multiple ? catalog::kMaxFilesPerDocument : 1;
  int have = static_cast<int>(
      std::count_if(a->documents.begin(), a->documents.end(),
                    [&](const Document& x) { return x.requirement == requirement; }));
  if (have >= limit) {
    return core::fail(core::Error::invalid(
        field, fmt::format(fmt::runtime(d.t(actor.locale, rule.multiple ? "errors.file_count"
                                                                        : "errors.file_one")),
                           rule.name, limit)));
  }
  // Scanned before anything is written: an infected file, or one the scanner could not
  // look at, is never stored.
  if (auto clean = d.scan(actor, a->id, field, content); !clean) return core::fail(clean.error());
  Document doc;
  doc.id = d.ids.key();
  doc.requirement = requirement;
  doc.filename = core::clean_filename(filename, type);
  doc.media_type = type;
  doc.size = static_cast<std::int64_t>(content.size());
  doc.sha256 = core::crypto::sha256_hex(content);
  doc.created_at = d.clock.now();
  doc.blob_id = d.blobs.put(content).id;
  auto saved = d.db.transaction([&](core::db::Connection& tx) -> core::Status {
    auto current = d.load(tx, a->id, true);
    if (!current || current->status != Status::draft)
      return core::fail(core::Error::conflict(d.t(actor.locale, "errors.frozen")));
    auto count = std::count_if(current->documents.begin(), current->documents.end(),
                               [&](const Document& x) { return x.requirement == requirement; });
    if (count >= limit) {
      return core::fail(core::Error::invalid(
          field, fmt::format(fmt::runtime(d.t(actor.locale, rule.multiple ? "errors.file_count"
                                                                          : "errors.file_one")),
                             rule.name, limit)));
    }
    Impl::keep_blob(tx, d.blobs, doc.blob_id, content);
    tx.execute(
        "INSERT INTO application_documents (id, application_id, requirement, filename, "
        "media_type, size, sha256, blob_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        doc.id, a->id, requirement, doc.filename, doc.media_type, doc.size, doc.sha256, doc.blob_id,
        core::to_millis(doc.created_at));
    d.touch_draft(tx, *current, doc.created_at);
    d.record(tx, actor.name(), "application.document_added", a->id,
             fmt::format(R"({{"document":"{}","sha256":"{}","size":{}}})", doc.id, doc.sha256,
                         doc.size));
    return {};
  });
  if (!saved) {
    d.remove_blobs({doc.blob_id});
    return core::fail(saved.error());
  }
  return doc;
}

core::Status Applications::remove_document(const Actor& actor, std::string_view id,
                                           std::string_view document_id) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (a->status != Status::draft)
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.frozen")));
  std::string blob;
  auto removed = d.db.transaction([&](core::db::Connection& tx) -> core::Status {
    auto row = tx.query_one(
        "SELECT blob_id FROM application_documents WHERE id = ? AND application_id = ?",
        document_id, a->id);
    if (!row) return core::fail(core::Error::not_found("no such document"));
    blob = row->text(0);
    tx.execute("DELETE FROM application_documents WHERE id = ?", document_id);
    d.touch_draft(tx, *a, d.clock.now());
    d.record(tx, actor.name(), "application.document_removed", a->id);
    return {};
  });
  if (removed) d.remove_blobs({blob});
  return removed;
}

core::Status Applications::read_document(const Actor& actor, std::string_view id,
                                         std::string_view document_id, std::ostream& out) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  for (const auto& doc : a->documents) {
    if (doc.id == document_id) return d.blobs.read(doc.blob_id, out);
  }
  return core::fail(core::Error::not_found("no such document"));
}

core::Result<std::int64_t> Applications::fee(const Application& a) {
  payments::FeeRule rule{.fixed_cents = a.config.fee_cents,
                         .per_unit_cents = a.config.fee_per_unit_cents,
                         .unit_field = a.config.fee_unit_field,
                         .max_units = 99};
  std::map<std::string, std::string> answers(a.answers.begin(), a.answers.end());
  return payments::compute_fee(rule, answers);
}

std::optional<payments::Order> Applications::payment(const Application& a) {
  if (a.payment_order_id.empty()) return std::nullopt;
  return impl_->parts.payments.get(a.payment_order_id);
}

bool Applications::paid(const Application& a) {
  auto order = payment(a);
  return order &&
         (order->state == payments::State::paid || order->state == payments::State::invoiced);
}

core::Result<std::string> Applications::pay(const Actor& actor, std::string_view id) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (a->status != Status::draft)
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.frozen")));
  if (!a->has_fee()) return core::fail(core::Error::conflict("no fee"));
  if (auto form = d.form_of(*a);
      !form || !d.filling(*form, actor.locale).next_page(a->answers).empty()) {
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.form_first")));
  }
  auto amount = fee(*a);
  if (!amount) return core::fail(amount.error());
  if (*amount <= 0) return core::fail(core::Error::conflict("no fee"));
  if (paid(*a)) return fmt::format("/antrag/vorhaben/{}", a->id);
  auto existing = payment(*a);
  if (existing && existing->amount_cents != *amount && !payments::info(existing->state).finished) {
    (void)d.parts.payments.cancel(a->tenant_id, existing->id, actor.name());
  }
  payments::NewOrder order;
  order.authority_id = a->authority_id;
  order.amount_cents = *amount;
  order.purpose = core::truncate_utf8(fmt::format("{} {}", a->title, a->reference), 250);
  order.reference = a->reference;
  order.return_url = fmt::format("{}/antrag/vorhaben/{}/zahlung", d.options.public_url, a->id);
  order.language = actor.locale;
  order.fee_rule = {.fixed_cents = a->config.fee_cents,
                    .per_unit_cents = a->config.fee_per_unit_cents,
                    .unit_field = a->config.fee_unit_field,
                    .max_units = 99};
  if (a->config.fee_per_unit_cents > 0) {
    auto units = a->answers.find(a->config.fee_unit_field);
    if (units != a->answers.end()) order.fee_units = std::stoll(units->second);
  }
  auto name = d.applicant_name(*a);
  auto space = name.rfind(' ');
  order.payer.name =
      core::truncate_utf8(space == std::string::npos ? name : name.substr(space + 1), 100);
  order.payer.first_name =
      core::truncate_utf8(space == std::string::npos ? std::string() : name.substr(0, space), 100);
  order.payer.email = d.contact_email(*a);
  // one order per Vorhaben and amount: a second click, or the way back, finds it again
  auto created = d.parts.payments.create({.client_id = "", .tenant_id = a->tenant_id}, order,
                                         fmt::format("application:{}:{}", a->id, *amount));
  if (!created) return core::fail(created.error());
  if (payments::info(created->order.state).finished &&
      created->order.state != payments::State::paid) {
    // the order of this amount ended unpaid (cancelled, expired): a new one
    created =
        d.parts.payments.create({.client_id = "", .tenant_id = a->tenant_id}, order,
                                fmt::format("application:{}:{}:{}", a->id, *amount, d.ids.key()));
    if (!created) return core::fail(created.error());
  }
  d.db.transaction([&](core::db::Connection& tx) {
    tx.execute("UPDATE applications SET payment_order_id = ? WHERE id = ? AND status = 'draft'",
               created->order.id, a->id);
    d.touch_draft(tx, *a, d.clock.now());
    d.record(tx, actor.name(), "application.payment_started", a->id,
             fmt::format(R"({{"order":"{}","amountCents":{}}})", created->order.id, *amount));
  });
  return fmt::format("/zahlung/{}?token={}", created->order.id, created->pay_token);
}

core::Error Applications::missing(const Actor& actor, const Application& a) {
  auto& d = *impl_;
  core::Error e{core::ErrorCode::invalid_input, d.t(actor.locale, "errors.summary"), {}, {}};
  if (a.is_guest()) {
    if (!a.guest_confirmed)
      e.and_field("identifikation", d.t(actor.locale, "errors.guest_unconfirmed"));
  } else if (a.client_id.empty()) {
    auto required = identity::parse_level(a.config.min_level).value_or(identity::TrustLevel::low);
    if (actor.level < required) e.and_field("identifikation", d.t(actor.locale, "errors.level"));
  }
  auto form = d.form_of(a);
  if (!form) {
    e.and_field("formular", d.t(actor.locale, "errors.form_gone"));
  } else if (auto done = d.filling(*form, actor.locale).finish(a.answers); !done) {
    e.and_field("formular", d.t(actor.locale, "errors.form_incomplete"));
  }
  for (std::size_t i = 0; i < a.config.documents.size(); ++i) {
    const auto& rule = a.config.documents[i];
    if (!rule.required) continue;
    bool has = std::any_of(a.documents.begin(), a.documents.end(),
                           [&](const Document& x) { return x.requirement == static_cast<int>(i); });
    if (!has) {
      e.and_field(
          fmt::format("datei-{}", i),
          fmt::format(fmt::runtime(d.t(actor.locale, "errors.document_missing")), rule.name));
    }
  }
  if (a.has_fee()) {
    auto amount = fee(a);
    if (!amount) {
      e.and_field("zahlung", d.t(actor.locale, "errors.unpaid"));
    } else if (*amount > 0) {
      auto order = payment(a);
      if (!paid(a)) {
        e.and_field("zahlung", d.t(actor.locale, "errors.unpaid"));
      } else if (order && order->amount_cents != *amount) {
        e.and_field("zahlung", d.t(actor.locale, "errors.fee_changed"));
      }
    }
  }
  return e;
}

core::Result<Application> Applications::submit(const Actor& actor, std::string_view id,
                                               bool declaration) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (a->status != Status::draft) return std::move(*a);  // submitted before: the same answer
  auto problems = missing(actor, *a);
  if (!declaration) problems.and_field("erklaerung", d.t(actor.locale, "errors.declaration"));
  if (!problems.fields.empty()) return core::fail(problems);
  auto form = d.form_of(*a);
  auto f = d.filling(*form, actor.locale);
  auto now = d.clock.now();
  auto applicable = f.applicable(a->answers);
  forms::Submission submission{.reference = a->reference, .submitted = now};
  auto xml = forms::to_xml(form->form, form->version, applicable, submission);
  auto json = forms::to_json(form->form, form->version, applicable, submission);
  auto pdf = forms::render_pdf(
      forms::pdf_document(form->form, form->version, f, a->answers, a->reference, now));
  auto pdf_blob = d.blobs.put(pdf).id;
  auto xml_blob = d.blobs.put(xml).id;
  auto json_blob = d.blobs.put(json).id;
  bool won = d.db.transaction([&](core::db::Connection& tx) {
    Impl::keep_blob(tx, d.blobs, pdf_blob, pdf);
    Impl::keep_blob(tx, d.blobs, xml_blob, xml);
    Impl::keep_blob(tx, d.blobs, json_blob, json);
    // the one compare-and-set: of two submits at once, one moves the draft
    auto moved = tx.execute(
        "UPDATE applications SET status = 'submitted', submitted_at = ?, updated_at = ?, "
        "pdf_blob = ?, xml_blob = ?, json_blob = ?, retention_until = ?, draft_expires_at = NULL, "
        "remind_at = NULL WHERE id = ? AND status = 'draft'",
        core::to_millis(now), core::to_millis(now), pdf_blob, xml_blob, json_blob,
        core::to_millis(now + std::chrono::days(a->config.retention_days)), a->id);
    if (moved == 0) return false;
    d.event(tx, a->id, Status::submitted, "", actor.name());
    d.jobs.enqueue(tx, {.kind = std::string(kHandOverJob),
                        .payload = fmt::format(R"({{"id":"{}"}})", a->id),
                        .idempotency_key = "applications.hand_over:" + a->id});
    d.notify(tx, a->id, "submitted");
    d.record(tx, actor.name(), "application.submitted", a->id,
             fmt::format(R"({{"reference":"{}","pdfSha256":"{}"}})", a->reference,
                         core::crypto::sha256_hex(pdf)));
    return true;
  });
  if (!won) d.remove_blobs({pdf_blob, xml_blob, json_blob});
  return *d.load(a->id);
}

core::Result<std::string> Applications::output(const Actor& actor, std::string_view id,
                                               std::string_view kind) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  std::string column = kind == "pdf" ? "pdf_blob" : kind == "xml" ? "xml_blob" : "json_blob";
  auto row = d.db.query_one(fmt::format("SELECT {} FROM applications WHERE id = ?", column), a->id);
  if (!row || row->text(0).empty()) return core::fail(core::Error::not_found("not submitted"));
  return d.blobs.read_all(row->text(0));
}

core::Result<Application> Applications::hand_over(std::string_view id) {
  auto& d = *impl_;
  auto a = d.load(id);
  if (!a) return core::fail(core::Error::not_found("no such application"));
  if (a->status != Status::submitted) return std::move(*a);
  auto outputs =
      d.db.query_one("SELECT pdf_blob, xml_blob, json_blob FROM applications WHERE id = ?", a->id);
  cases::Intake intake;
  intake.application_id = a->id;
  intake.reference = a->reference;
  intake.tenant_id = a->tenant_id;
  intake.authority_id = a->authority_id;
  intake.online_service_id = a->online_service_id;
  intake.online_service_version = a->online_service_version;
  intake.title = a->title;
  intake.applicant = {.kind = a->owner.kind,
                      .owner_id = a->owner.id,
                      .name = d.applicant_name(*a),
                      .email = d.contact_email(*a)};
  intake.submitted_at = a->submitted_at.value_or(a->updated_at);
  intake.form_key = a->config.form;
  intake.form_version = a->config.form_version;
  auto read = [&](std::size_t i) -> core::Result<std::string> {
    return d.blobs.read_all(outputs->text(i));
  };
  auto pdf = read(0);
  auto xml = read(1);
  auto json = read(2);
  if (!pdf || !xml || !json)
    return core::fail(core::Error::unavailable("outputs unreadable", a->id));
  intake.pdf = std::move(*pdf);
  intake.answers_xml = std::move(*xml);
  intake.answers_json = std::move(*json);
  for (const auto& doc : a->documents) {
    auto content = d.blobs.read_all(doc.blob_id);
    if (!content) return core::fail(core::Error::unavailable("document unreadable", doc.id));
    const auto& rules = a->config.documents;
    intake.documents.push_back(
        {.requirement = doc.requirement < static_cast<int>(rules.size())
                            ? rules[static_cast<std::size_t>(doc.requirement)].name
                            : std::string(),
         .filename = doc.filename,
         .media_type = doc.media_type,
         .content = std::move(*content)});
  }
  if (auto order = payment(*a)) {
    intake.payment_order_id = order->id;
    // an invoice not paid yet says so (its public status, "submitted", reads as a check)
    intake.payment_status = order->state == payments::State::invoiced
                                ? std::string("invoiced")
                                : std::string(payments::info(order->state).status);
    intake.payment_method = order->method;
    intake.payment_amount_cents = order->amount_cents;
    intake.kassenzeichen = order->kassenzeichen;
  }
  auto opened = d.parts.cases.open(intake);
  if (!opened) {
    std::string fields;
    for (const auto& f : opened.error().fields) fields += (fields.empty() ? "" : ", ") + f.field;
    core::log::error("applications.hand_over_refused", {{"application", a->id},
                                                        {"reference", a->reference},
                                                        {"error", opened.error().message},
                                                        {"fields", fields}});
    return core::fail(opened.error());
  }
  // the case management confirmed receipt: only now "bei der Behörde eingegangen"
  auto now = d.clock.now();
  bool withdrawn = false;
  d.db.transaction([&](core::db::Connection& tx) {
    tx.execute("UPDATE applications SET case_id = ? WHERE id = ? AND case_id = ''", opened->id,
               a->id);
    auto moved = tx.execute(
        "UPDATE applications SET status = 'received', received_at = ?, updated_at = ? "
        "WHERE id = ? AND status = 'submitted'",
        core::to_millis(now), core::to_millis(now), a->id);
    if (moved == 0) {
      auto current = d.load(tx, a->id);
      withdrawn = current && current->status == Status::withdrawn;
      return;
    }
    d.event(tx, a->id, Status::received, "", "system:cases");
    d.notify(tx, a->id, "received");
    d.record(tx, "system:applications", "application.received", a->id,
             fmt::format(R"({{"case":"{}"}})", opened->id));
  });
  // withdrawn while the Vorgang was being opened: it ends at once
  if (withdrawn) {
    if (auto ended = d.parts.casework.withdraw(a->id, "system:applications"); !ended)
      return core::fail(ended.error());
  }
  return *d.load(a->id);
}

core::Status Applications::follow_case(std::string_view id) {
  auto& d = *impl_;
  // a Vorgang of no application here (entered on paper) has nobody to follow it
  if (!d.load(id)) return core::fail(core::Error::not_found("no such application"));
  auto k = d.parts.cases.by_application(id);
  if (!k) return core::fail(core::Error::not_found("no Vorgang of this application"));
  auto to = citizen_status(k->state);
  if (!to && (k->state == "filed" || k->state == "closed")) {
    // filed or closed before this ran: the outcome is the last of announced, withdrawn and
    // ended the Vorgang went through
    core::TimePoint latest{};
    for (const auto& e : d.parts.casework.timeline(k->id, 1000)) {
      if (e.action != "case.state" || e.at < latest) continue;
      Poco::JSON::Parser parser;
      auto state = parser.parse(e.detail).extract<Poco::JSON::Object::Ptr>()->optValue<std::string>(
          "to", "");
      if (state == "announced" || state == "withdrawn" || state == "ended") {
        to = citizen_status(state);
        latest = e.at;
      }
    }
  }
  if (!to) return {};
  auto now = d.clock.now();
  d.db.transaction([&](core::db::Connection& tx) {
    auto a = d.load(tx, id, true);
    if (!a || a->status == *to || a->status == Status::draft) return;
    // a final status stays: an event of an open state arriving late changes nothing
    bool final = a->status == Status::decided || a->status == Status::withdrawn ||
                 a->status == Status::ended;
    bool open = *to != Status::decided && *to != Status::withdrawn && *to != Status::ended;
    if (final && open) {
      core::log::warn("applications.status_kept", {{"application", a->id},
                                                   {"status", std::string(status_name(a->status))},
                                                   {"case_state", k->state}});
      return;
    }
    tx.execute(
        "UPDATE applications SET status = ?, case_id = ?, received_at = COALESCE(received_at, ?), "
        "updated_at = ?, retention_until = ? WHERE id = ?",
        status_name(*to), k->id, core::to_millis(k->received_at), core::to_millis(now),
        core::to_millis(now + std::chrono::days(a->config.retention_days)), a->id);
    d.event(tx, a->id, *to, "", "system:cases");
    d.notify(tx, a->id, status_name(*to));
    d.record(tx, "system:applications", "application.status", a->id,
             core::json_object({{"status", std::string(status_name(*to))}, {"case", k->id}}));
  });
  return {};
}

core::Result<std::vector<cases::DocumentRequest>> Applications::requests(const Actor& actor,
                                                                         std::string_view id) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (a->status != Status::documents_requested) return std::vector<cases::DocumentRequest>{};
  return d.parts.casework.open_requests(a->id);
}

core::Status Applications::answer_request(const Actor& actor, std::string_view id,
                                          std::string_view request_id,
                                          const std::vector<Upload>& files) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (auto enough = d.level_enough(actor, *a); !enough) return enough;
  auto open = requests(actor, id);
  if (!open) return core::fail(open.error());
  auto request = std::ranges::find(*open, request_id, &cases::DocumentRequest::id);
  if (request == open->end())
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.request_closed")));
  auto what = fmt::format("{}", fmt::join(request->items, ", "));
  if (files.empty()) return d.invalid(actor, "dateien", "file_empty");
  auto documents = d.checked_files(actor, *a, "dateien", what, files);
  if (!documents) return core::fail(documents.error());
  auto answered = d.parts.casework.answer_request(id, request_id, *documents, actor.name());
  if (!answered && answered.error().code == core::ErrorCode::conflict)
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.request_closed")));
  if (!answered) return core::fail(answered.error());
  d.db.transaction([&](core::db::Connection& tx) {
    d.record(tx, actor.name(), "application.documents_sent", std::string(id),
             core::json_object({{"request", std::string(request_id)},
                                {"count", std::to_string(documents->size())}}));
  });
  return follow_case(id);
}

namespace {

// A message to the applicant needs its trust level. A guest's Vorhaben is opened by the
// mailed link of a confirmed address, whoever holds it: it reads at "low" (what the clerk's
// form offers first), never higher, whatever account the browser is signed in with.
bool locked_for(const Actor& actor, const Application& a, const cases::Message& m) {
  if (m.direction != "to_applicant") return false;
  auto needed = identity::parse_level(m.required_level).value_or(identity::TrustLevel::high);
  auto level = a.is_guest() ? identity::TrustLevel::low : actor.level;
  return level < needed;
}

}  // namespace

core::Result<std::vector<cases::Message>> Applications::messages(const Actor& actor,
                                                                 std::string_view id) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  auto list = d.parts.casework.applicant_messages(a->id);
  for (auto& m : list) {
    m.locked = locked_for(actor, *a, m);
    if (m.locked) {  // the subject may say as much as the text
      m.subject.clear();
      m.body.clear();
      m.files.clear();
    }
  }
  return list;
}

core::Status Applications::send_message(const Actor& actor, std::string_view id,
                                        const std::string& text, const std::vector<Upload>& files) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (auto enough = d.level_enough(actor, *a); !enough) return enough;
  if (a->case_id.empty()) {
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.no_case_yet")));
  }
  auto trimmed = core::trim(text);
  if (trimmed.empty() || trimmed.size() > 10000 || !core::valid_utf8(trimmed)) {
    return d.invalid(actor, "nachricht", "message_text");
  }
  constexpr std::size_t kMaxMessageFiles = 5;  // as the clerk's (cases)
  auto documents = d.checked_files(actor, *a, "anlagen", d.t(actor.locale, "messages.files"), files,
                                   kMaxMessageFiles);
  if (!documents) return core::fail(documents.error());
  auto sent = d.parts.casework.applicant_message(a->id,
                                                 {.subject = "",
                                                  .body = std::string(trimmed),
                                                  .required_level = "low",
                                                  .files = std::move(*documents)},
                                                 actor.name());
  if (!sent && sent.error().code == core::ErrorCode::conflict) {
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.message_closed")));
  }
  if (!sent && sent.error().code == core::ErrorCode::rate_limited) {
    return core::fail(core::Error::rate_limited(d.t(actor.locale, "errors.message_throttled"),
                                                std::chrono::hours(1)));
  }
  if (!sent && !sent.error().fields.empty()) {
    // the Vorgang's limits, in the applicant's words at the applicant's fields
    bool files_field = sent.error().fields[0].field == "message_files";
    return d.invalid(actor, files_field ? "anlagen" : "nachricht",
                     files_field ? "message_limit_files" : "message_limit");
  }
  if (!sent) return core::fail(sent.error());
  d.db.transaction([&](core::db::Connection& tx) {
    d.record(tx, actor.name(), "application.message_sent", a->id,
             core::json_object(
                 {{"message", sent->id}, {"attachments", std::to_string(sent->files.size())}}));
  });
  return {};
}

core::Result<cases::MessageFile> Applications::read_message_file(const Actor& actor,
                                                                 std::string_view id,
                                                                 std::string_view message_id,
                                                                 int position, std::ostream& out) {
  auto& d = *impl_;
  auto list = messages(actor, id);
  if (!list) return core::fail(list.error());
  auto m = std::ranges::find(*list, message_id, &cases::Message::id);
  if (m == list->end() || m->locked) {
    return core::fail(core::Error::not_found("no such attachment"));
  }
  return d.parts.casework.read_applicant_file(id, message_id, position, out, actor.name());
}

bool Applications::may_withdraw(const Application& a) {
  return a.client_id.empty() && (a.status == Status::submitted || a.status == Status::received ||
                                 a.status == Status::in_progress || a.status == Status::query ||
                                 a.status == Status::documents_requested);
}

core::Status Applications::withdraw(const Actor& actor, std::string_view id) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (a->status == Status::withdrawn) return {};
  auto refused = [&] {
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.not_withdrawable")));
  };
  if (!may_withdraw(*a)) return refused();
  if (auto enough = d.level_enough(actor, *a); !enough) return enough;
  // the Vorgang first: it says whether it is too late (a notice made); none yet when the
  // hand-over has not run, which then sees the withdrawal and opens nothing
  auto ended = d.parts.casework.withdraw(a->id, actor.name());
  if (!ended && ended.error().code == core::ErrorCode::conflict) return refused();
  if (!ended && ended.error().code != core::ErrorCode::not_found) return core::fail(ended.error());
  auto now = d.clock.now();
  bool opened_meanwhile = false;
  d.db.transaction([&](core::db::Connection& tx) {
    auto current = d.load(tx, a->id, true);
    if (!current) return;
    // the hand-over opened the Vorgang after it was asked: it is withdrawn below
    opened_meanwhile = !ended && !current->case_id.empty();
    if (may_withdraw(*current)) {
      tx.execute(
          "UPDATE applications SET status = 'withdrawn', updated_at = ?, retention_until = ? "
          "WHERE id = ?",
          core::to_millis(now), core::to_millis(now + std::chrono::days(a->config.retention_days)),
          a->id);
      d.event(tx, a->id, Status::withdrawn, "", actor.name());
      d.notify(tx, a->id, "withdrawn");
    } else if (!ended) {
      return;  // withdrawn or decided by someone else meanwhile: nothing of this call's
    }
    d.record(tx, actor.name(), "application.withdrawn", a->id);
  });
  if (opened_meanwhile) {
    auto again = d.parts.casework.withdraw(a->id, actor.name());
    if (!again && again.error().code != core::ErrorCode::not_found)
      return core::fail(again.error());
  }
  return {};
}

core::Status Applications::discard(const Actor& actor, std::string_view id) {
  auto& d = *impl_;
  auto a = d.accessible(actor, id);
  if (!a) return core::fail(a.error());
  if (a->status != Status::draft)
    return core::fail(core::Error::conflict(d.t(actor.locale, "errors.frozen")));
  d.erase(*a, actor.name(), "application.discarded");
  return {};
}

std::string Applications::guest_link(const Application& application) const {
  return impl_->guest_link(application);
}

std::string Applications::reminder_token(std::string_view id) const {
  return impl_->token_for("remind", id);
}

core::Result<Application> Applications::stop_reminders(std::string_view id,
                                                       std::string_view token) {
  auto& d = *impl_;
  if (!core::crypto::equal_constant_time(token, reminder_token(id)))
    return core::fail(core::Error::not_found("no such link"));
  auto a = d.load(id);
  if (!a) return core::fail(core::Error::not_found("no such application"));
  d.db.transaction([&](core::db::Connection& tx) {
    tx.execute("UPDATE applications SET reminders_off = 1 WHERE id = ?", a->id);
    d.record(tx, "link:reminder", "application.reminders_stopped", a->id);
  });
  return *d.load(id);
}

core::Status Applications::discard_by_token(std::string_view id, std::string_view token) {
  auto& d = *impl_;
  if (!core::crypto::equal_constant_time(token, reminder_token(id)))
    return core::fail(core::Error::not_found("no such link"));
  auto a = d.load(id);
  if (!a) return core::fail(core::Error::not_found("no such application"));
  if (a->status != Status::draft)
    return core::fail(core::Error::conflict(d.t("de", "errors.frozen")));
  d.erase(*a, "link:reminder", "application.discarded");
  return {};
}

core::Result<Application> Applications::create_external(const ExternalStart& s) {
  auto& d = *impl_;
  core::Error e{core::ErrorCode::invalid_input, "The Vorhaben is not valid.", {}, {}};
  auto title = std::string(core::trim(s.title));
  if (title.empty() || title.size() > 200 || !core::is_single_line(title) ||
      !core::valid_utf8(title)) {
    e.and_field("title", "one line of 1 to 200 characters");
  }
  if (!(s.external_url.starts_with("https://") || s.external_url.starts_with("http://")) ||
      s.external_url.size() > 500 || !printable_ascii(s.external_url)) {
    e.and_field("url", "an http(s) URL of at most 500 characters");
  }
  if (s.idempotency_key.size() > 200) e.and_field("Idempotency-Key", "at most 200 characters");
  std::string authority_name;
  if (!s.authority_id.empty()) {
    auto authority = d.parts.catalog.authority(s.authority_id);
    if (!authority || authority->tenant_id != s.tenant_id) {
      e.and_field("authority", "an authority of the client's tenant");
    } else {
      authority_name = authority->name;
    }
  }
  if (s.account_id.empty())
    return core::fail(core::Error::unauthenticated("a person's token is needed"));
  if (!e.fields.empty()) return core::fail(e);
  if (!s.idempotency_key.empty()) {
    if (auto row =
            d.db.query_one("SELECT id FROM applications WHERE client_id = ? AND client_key = ?",
                           s.client_id, s.idempotency_key)) {
      auto a = d.load(row->text(0));
      if (a && a->owner.id == s.account_id && a->title == title &&
          a->external_url == s.external_url)
        return std::move(*a);
      return core::fail(core::Error::conflict("the Idempotency-Key was used for another Vorhaben"));
    }
  }
  auto id = d.ids.key();
  auto now = d.clock.now();
  catalog::OnlineServiceConfig config;
  config.external_url = s.external_url;
  auto inserted = d.db.transaction([&](core::db::Connection& tx) {
    auto n = tx.execute(
        fmt::format(
            "INSERT INTO applications (id, reference, tenant_id, authority_id, "
            "authority_name, place, online_service_id, online_service_version, title, "
            "config, owner_kind, owner_id, account_id, guest_email, guest_token_hash, "
            "guest_salt, guest_confirmed, status, answers, payment_order_id, pdf_blob, "
            "xml_blob, json_blob, case_id, client_id, client_key, external_url, created_at, "
            "created_from, updated_at, reminders_off, retention_until) VALUES ({}) "
            "ON CONFLICT DO NOTHING",
            core::db::parameter_list(32)),
        id, d.ids.public_id("MV"), s.tenant_id, s.authority_id, authority_name, "", "", 0, title,
        catalog::config_to_json(config), "account", s.account_id, s.account_id, "", "", "", 0,
        "draft", "{}", "", "", "", "", "", s.client_id,
        s.idempotency_key.empty() ? std::optional<std::string>() : s.idempotency_key,
        s.external_url, core::to_millis(now), "client:" + s.client_id, core::to_millis(now), 0,
        core::to_millis(now + std::chrono::days(config.retention_days)));
    if (n == 0) return false;
    d.event(tx, id, Status::draft, "", "client:" + s.client_id);
    d.record(tx, "client:" + s.client_id, "application.created_external", id);
    return true;
  });
  if (!inserted) return create_external(s);  // the same key at once: answer as the first
  return *d.load(id);
}

core::Result<Application> Applications::find_external(std::string_view client_id,
                                                      std::string_view id) {
  auto a = impl_->load(id);
  if (!a || a->client_id.empty() || a->client_id != client_id)
    return core::fail(core::Error::not_found("no such Vorhaben of this client"));
  return std::move(*a);
}

core::Result<Application> Applications::post_status(std::string_view client_id, std::string_view id,
                                                    Status status, const std::string& text,
                                                    const std::string& idempotency_key) {
  auto& d = *impl_;
  auto a = find_external(client_id, id);
  if (!a) return core::fail(a.error());
  if (text.size() > 2000)
    return core::fail(core::Error::invalid("text", "at most 2000 characters"));
  if (idempotency_key.size() > 200)
    return core::fail(core::Error::invalid("Idempotency-Key", "at most 200 characters"));
  auto now = d.clock.now();
  d.db.transaction([&](core::db::Connection& tx) {
    std::optional<std::string> key;
    if (!idempotency_key.empty()) key = idempotency_key;
    if (!d.event(tx, a->id, status, text, "client:" + std::string(client_id), key)) {
      return;  // posted before
    }
    tx.execute(
        "UPDATE applications SET status = ?, updated_at = ?, retention_until = ? WHERE id = ?",
        status_name(status), core::to_millis(now),
        core::to_millis(now + std::chrono::days(a->config.retention_days)), a->id);
    d.record(tx, "client:" + std::string(client_id), "application.status_posted", a->id,
             fmt::format(R"({{"status":"{}"}})", status_name(status)));
  });
  return *d.load(id);
}

core::Status Applications::post_message(std::string_view client_id, std::string_view id,
                                        const std::string& subject, const std::string& body,
                                        const std::string& idempotency_key) {
  auto& d = *impl_;
  auto a = find_external(client_id, id);
  if (!a) return core::fail(a.error());
  if (idempotency_key.empty() || idempotency_key.size() > 200)
    return core::fail(core::Error::invalid("Idempotency-Key", "required, at most 200 characters"));
  if (!core::is_single_line(subject))
    return core::fail(core::Error::invalid("subject", "one line"));
  mailbox::StoreRequest message;
  message.owner_id = a->owner.id;
  message.source_ref = fmt::format("application:{}:{}", a->id, idempotency_key);
  message.notice = false;
  // the sender shown is the authority, or says that an external online service writes
  message.sender =
      a->authority_name.empty()
          ? core::truncate_utf8(fmt::format("{} (externer Online-Dienst)", a->title), 200)
          : a->authority_name;
  message.subject = subject;
  message.body = body;
  message.reference = a->reference;
  auto stored = d.parts.mailbox.store(message);
  if (!stored) return core::fail(stored.error());
  return {};
}

int Applications::remind_drafts() {
  auto& d = *impl_;
  auto now = d.clock.now();
  int sent = 0;
  for (const auto& r :
       d.db.query("SELECT id FROM applications WHERE status = 'draft' AND remind_at <= ? AND "
                  "reminded_at IS NULL AND reminders_off = 0 AND client_id = '' LIMIT 500",
                  core::to_millis(now))) {
    auto a = d.load(r.text(0));
    if (!a) continue;
    auto to = d.contact_emails(*a);
    auto token = reminder_token(a->id);
    auto base = fmt::format("{}/antrag/vorhaben/{}", d.options.public_url, a->id);
    auto resume = a->is_guest() ? d.guest_link(*a) : base;
    auto expires = a->draft_expires_at ? core::format_berlin(*a->draft_expires_at) : std::string();
    d.db.transaction([&](core::db::Connection& tx) {
      auto marked =
          tx.execute("UPDATE applications SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
                     core::to_millis(now), a->id);
      if (marked == 0) return;
      for (const auto& address : to) {
        d.queue_mail(
            tx, address, fmt::format(fmt::runtime(d.t("de", "mail.reminder.subject")), a->title),
            fmt::format(fmt::runtime(d.t("de", "mail.reminder.body")), a->title, a->reference,
                        expires, resume, fmt::format("{}/verwerfen?token={}", base, token),
                        fmt::format("{}/keine-erinnerungen?token={}", base, token)),
            fmt::format("applications.reminder:{}:{}:{}", a->id, core::to_millis(now), address));
      }
      d.record(tx, "system:applications", "application.reminded", a->id);
      ++sent;
    });
  }
  return sent;
}

int Applications::expire_drafts() {
  auto& d = *impl_;
  int n = 0;
  for (const auto& r :
       d.db.query("SELECT id FROM applications WHERE status = 'draft' AND draft_expires_at <= ? "
                  "LIMIT 500",
                  core::to_millis(d.clock.now()))) {
    if (auto a = d.load(r.text(0))) {
      d.erase(*a, "system:applications", "application.draft_expired");
      ++n;
    }
  }
  return n;
}

int Applications::apply_retention() {
  auto& d = *impl_;
  int n = 0;
  for (const auto& r : d.db.query("SELECT id FROM applications WHERE retention_until <= ? AND "
                                  "(status <> 'draft' OR client_id <> '') LIMIT 500",
                                  core::to_millis(d.clock.now()))) {
    if (auto a = d.load(r.text(0))) {
      d.erase(*a, "system:applications", "application.retention_ended");
      ++n;
    }
  }
  return n;
}

int Applications::remove_unnamed_documents() {
  auto& d = *impl_;
  return core::remove_unnamed_blobs(d.db, d.blobs, kBlobLock,
                                    d.clock.now() - core::kUnnamedBlobGrace,
                                    [](core::db::Connection& c, std::span<const std::string> ids) {
                                      return Impl::named_among(c, ids);
                                    });
}

void Applications::register_jobs(core::JobRunner& runner) {
  auto id_of = [](const core::Job& job) -> std::string {
    Poco::JSON::Parser parser;
    auto o = parser.parse(job.payload).extract<Poco::JSON::Object::Ptr>();
    return o->getValue<std::string>("id");
  };
  runner.handle(std::string(kHandOverJob), [this, id_of](core::JobContext& ctx) {
    auto handed = hand_over(id_of(ctx.job));
    if (handed) return core::JobOutcome::ok();
    if (handed.error().code == core::ErrorCode::not_found) return core::JobOutcome::ok();
    if (handed.error().code == core::ErrorCode::invalid_input)
      return core::JobOutcome::permanent(handed.error().message);
    return core::JobOutcome::retry(handed.error().message);
  });
  runner.handle(std::string(kNotifyJob), [this, id_of](core::JobContext& ctx) {
    auto& d = *impl_;
    auto a = d.load(id_of(ctx.job));
    if (!a) return core::JobOutcome::ok();
    Poco::JSON::Parser parser;
    auto what = parser.parse(ctx.job.payload)
                    .extract<Poco::JSON::Object::Ptr>()
                    ->getValue<std::string>("event");
    if (what == "documents_requested") return d.tell_of_requests(*a, "");
    if (a->is_guest()) {
      // a guest hears of every change by mail, without its content; the submission itself
      // the guest has just seen confirmed on the page
      if (!a->guest_confirmed || what == "submitted") return core::JobOutcome::ok();
      // read before the transaction: inside it, a second connection from the pool would be
      // waited for while holding the write lock (SQLite), and with every other connection
      // waiting for that lock nothing moves until the busy timeout
      auto link = d.guest_link(*a);
      d.db.transaction([&](core::db::Connection& tx) {
        d.queue_mail(
            tx, a->guest_email,
            fmt::format(fmt::runtime(d.t("de", "mail.changed.subject")), a->reference),
            fmt::format(fmt::runtime(d.t("de", "mail.changed.body")), a->title, a->reference, link),
            fmt::format("applications.changed:{}", ctx.job.id));
        d.jobs.complete(tx, ctx.job);
      });
      return core::JobOutcome::ok();
    }
    if (what != "submitted") return core::JobOutcome::ok();
    // the confirmation with the PDF in the owner's mailbox
    auto pdf = output(Actor{.account_id = a->owner.kind == "account" ? a->owner.id : "",
                            .organisation_id = a->owner.kind == "organisation" ? a->owner.id : "",
                            .guest_of = {},
                            .level = identity::TrustLevel::basic,
                            .locale = "de"},
                      a->id, "pdf");
    if (!pdf) return core::JobOutcome::retry(pdf.error().message);
    mailbox::StoreRequest message;
    message.owner_id = a->owner.id;
    message.source_ref = fmt::format("application:{}:submitted", a->id);
    message.notice = false;
    message.sender = a->authority_name;
    message.subject = fmt::format(fmt::runtime(d.t("de", "mail.submitted.subject")), a->title);
    message.body = fmt::format(
        fmt::runtime(d.t("de", "mail.submitted.body")), a->title, a->reference,
        a->submitted_at ? core::format_berlin(*a->submitted_at) : "", a->config.confirmation_text);
    message.reference = a->reference;
    message.attachments.push_back(
        {.filename = a->reference + ".pdf", .media_type = "application/pdf", .content = *pdf});
    auto stored = d.parts.mailbox.store(message);
    if (!stored && stored.error().code == core::ErrorCode::not_found) return core::JobOutcome::ok();
    if (!stored) return core::JobOutcome::retry(stored.error().message);
    return core::JobOutcome::ok();
  });
  // the Vorgang's state, whatever the event said: events may arrive out of order
  auto value = [](const core::Job& job, const char* key) {
    Poco::JSON::Parser parser;
    return parser.parse(job.payload)
        .extract<Poco::JSON::Object::Ptr>()
        ->optValue<std::string>(key, "");
  };
  runner.handle(std::string(kFollowCaseJob), [this, value](core::JobContext& ctx) {
    auto followed = follow_case(value(ctx.job, "applicationId"));
    if (followed || followed.error().code == core::ErrorCode::not_found)
      return core::JobOutcome::ok();
    return core::JobOutcome::retry(followed.error().message);
  });
  runner.handle(std::string(kMessageJob), [this, value](core::JobContext& ctx) {
    auto a = impl_->load(value(ctx.job, "applicationId"));
    if (!a) return core::JobOutcome::ok();
    return impl_->tell_of_message(*a, value(ctx.job, "message"));
  });
  runner.handle(std::string(kForwardedJob), [this, value](core::JobContext& ctx) {
    return impl_->tell_of_forwarding(
        value(ctx.job, "applicationId"), value(ctx.job, "fromAuthorityName"),
        value(ctx.job, "authorityId"), value(ctx.job, "authorityName"), ctx.job.id);
  });
  runner.handle(std::string(kRequestReminderJob), [this, value](core::JobContext& ctx) {
    auto a = impl_->load(value(ctx.job, "applicationId"));
    if (!a || a->status != Status::documents_requested) return core::JobOutcome::ok();
    return impl_->tell_of_requests(*a, value(ctx.job, "request"));
  });
}

}  // namespace mvsp::applications
