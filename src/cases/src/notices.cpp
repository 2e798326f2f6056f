// The decision notice: written from the authority's template with the Vorgang's fields (or
// uploaded as a finished PDF), sealed with the authority's certificate, kept with the
// Vorgang, and announced through the delivery service into the applicant's mailbox. A
// guest, or a notice the delivery service finally could not deliver, is announced by post:
// the Vorgang says so and offers the letter; the clerk records the day it was posted.
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/cases/casework.hpp>
#include <mvsp/cases/seal.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/pki.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/payments/payments.hpp>
#include <ostream>
#include <ranges>

#include "casework_impl.hpp"
#include "rows.hpp"

namespace mvsp::cases {

using core::Error;
using core::fail;

namespace {

constexpr std::size_t kMaxNoticePdf = 20 * 1024 * 1024;
constexpr std::size_t kMaxTitle = 300;
constexpr std::size_t kMaxBody = 100 * 1024;
constexpr const char* kAnnounceJob = "cases.announce";
constexpr const char* kNoticeColumns =
    "id, title, origin, size, sha256, created_at, created_by, recipient, status, stored_at, "
    "deemed_announced_on, receipt_message_id";

Notice read_notice_row(const core::db::Row& r) {
  Notice n;
  n.id = r.text(0);
  n.title = r.text(1);
  n.origin = r.text(2);
  n.size = r.integer(3);
  n.sha256 = r.text(4);
  n.created_at = core::from_millis(r.integer(5));
  n.created_by = r.text(6);
  n.recipient = r.text(7);
  n.status = r.text(8);
  if (auto at = r.optional_integer(9)) n.stored_at = core::from_millis(*at);
  n.deemed_announced_on = r.text(10);
  n.receipt_message_id = r.text(11);
  return n;
}

// The answers as "antwort.<path>" fields: groups and lists by their index from 1.
void flatten(const Poco::Dynamic::Var& v, const std::string& path,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
    for (const auto& [key, value] : *v.extract<Poco::JSON::Object::Ptr>()) {
      flatten(value, path + "." + key, out);
    }
  } else if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
    int i = 0;
    std::vector<std::string> plain;
    for (const auto& value : *v.extract<Poco::JSON::Array::Ptr>()) {
      flatten(value, fmt::format("{}.{}", path, ++i), out);
      if (!value.isEmpty() && (value.isString() || value.isNumeric())) {
        plain.push_back(value.convert<std::string>());
      }
    }
    if (!plain.empty()) out.emplace_back(path, fmt::format("{}", fmt::join(plain, ", ")));
  } else if (v.isBoolean()) {
    out.emplace_back(path, v.convert<bool>() ? "ja" : "nein");
  } else if (!v.isEmpty()) {
    out.emplace_back(path, v.convert<std::string>());
  }
}

std::string recipient_of(const Case& k) {
  if ((k.applicant.kind == "account" || k.applicant.kind == "organisation") &&
      !k.applicant.owner_id.empty()) {
    return "mvsp:" + k.applicant.owner_id;
  }
  return {};
}

}  // namespace

// The fields a template may use, {name}: the Vorgang's, and each answer's.
std::vector<std::pair<std::string, std::string>> notice_fields(const Case& k,
                                                               const std::string& authority,
                                                               const std::string& answers_json,
                                                               core::TimePoint now) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"referenz", k.reference},
      {"aktenzeichen", k.aktenzeichen.empty() ? k.reference : k.aktenzeichen},
      {"leistung", k.title},
      {"antragsteller", k.applicant.name},
      {"eingang", core::format_day_de(core::format_day(core::berlin_day(k.received_at)))},
      {"datum", core::format_day_de(core::format_day(core::berlin_day(now)))},
      {"behoerde", authority},
      {"gebuehr",
       k.payment_status.empty() ? std::string() : payments::format_euro(k.payment_amount_cents)},
      {"kassenzeichen", k.kassenzeichen},
  };
  if (!answers_json.empty()) {
    try {
      Poco::JSON::Parser parser;
      auto root = parser.parse(answers_json).extract<Poco::JSON::Object::Ptr>();
      if (root && root->has("answers")) flatten(root->get("answers"), "antwort", out);
    } catch (const std::exception& e) {
      core::log::warn("cases.answers_unreadable", {{"case", k.id}, {"error", e.what()}});
    }
  }
  return out;
}

std::string fill_template(std::string_view text,
                          const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<std::pair<std::string_view, std::string_view>> view(fields.begin(), fields.end());
  return core::fill_placeholders(text, view);
}

// The key the tenant's seal key is sealed with at rest: one per tenant, from the master key.
std::string Casework::Impl::seal_key(std::string_view tenant_id) const {
  auto digest = core::crypto::sha256(tenant_id);
  std::uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id = (id << 8) | static_cast<unsigned char>(digest[i]);
  return core::crypto::derive_key(options.master_key, "caseseal", id);
}

// The tenant's seal, made on first use when the authority has not uploaded one.
SealCertificate Casework::Impl::seal_of(const std::string& tenant_id) {
  auto key = seal_key(tenant_id);
  if (auto r = db.query_one("SELECT key_sealed, certificate_pem, chain_pem FROM case_seals "
                            "WHERE tenant_id = ?",
                            tenant_id)) {
    auto pem = core::crypto::open(key, r->text(0));
    if (!pem) throw core::Failure("the seal key of a tenant does not open with the master key");
    return {*pem, r->text(1), r->text(2)};
  }
  auto name = options.tenant_name ? options.tenant_name(tenant_id) : tenant_id;
  auto made = generate_seal_certificate(name, clock.now());
  db.acquire()->execute(
      "INSERT INTO case_seals (tenant_id, key_sealed, certificate_pem, chain_pem, subject, "
      "not_after, origin, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'generated', ?) ON CONFLICT DO "
      "NOTHING",
      tenant_id, core::crypto::seal(key, made.private_key_pem), made.certificate_pem,
      made.chain_pem, name,
      core::to_millis(
          core::pki::certificate_not_after(made.certificate_pem).value_or(core::TimePoint{})),
      core::to_millis(clock.now()));
  // Two first notices at once: the one stored counts.
  return seal_of(tenant_id);
}

core::Result<Notice> Casework::decide(const Staffer& who, std::string_view id,
                                      const NoticeInput& input) {
  auto& d = *impl_;
  auto k = d.visible(*d.db.acquire(), who, id, false);
  if (!k) return fail(k.error());
  return d.decide_as(*k, input, Impl::actor(who), who.name,
                     input.uploaded_pdf.empty() ? "template" : "upload");
}

core::Result<Notice> Casework::Impl::decide_as(const Case& k, const NoticeInput& input,
                                               const std::string& actor_id,
                                               const std::string& actor_name,
                                               std::string_view origin) {
  auto state = parse_state(k.state).value_or(State::received);
  bool automatic = origin == "automatic";
  if (!(state == State::formal_check || state == State::material_check ||
        (automatic && state == State::received))) {
    return fail(Error::invalid("state", "a notice is made after the checks"));
  }
  Error invalid{core::ErrorCode::invalid_input, "The notice is not complete.", {}, {}};
  std::string pdf;
  std::string title = std::string(core::trim(input.title));
  auto authority = options.tenant_name ? options.tenant_name(k.tenant_id) : k.tenant_id;
  if (!input.uploaded_pdf.empty()) {
    if (input.uploaded_pdf.size() > kMaxNoticePdf || !input.uploaded_pdf.starts_with("%PDF-")) {
      invalid.and_field("file", "must be a PDF of at most 20 MB");
    }
    if (title.empty()) title = "Bescheid";
    pdf = input.uploaded_pdf;
  } else {
    auto t = db.query_one("SELECT title, body FROM case_templates WHERE id = ? AND tenant_id = ?",
                          input.template_id, k.tenant_id);
    if (!t) {
      invalid.and_field("template", "choose a template of this authority");
    } else {
      auto body = input.body.empty() ? t->text(1) : input.body;
      if (body.size() > kMaxBody || !core::valid_utf8(body)) {
        invalid.and_field("body", "must be at most 100 KB of text");
      }
      if (title.empty()) title = t->text(0);
      if (invalid.fields.empty()) {
        auto json = cases.answers(k.id, "json");
        auto fields = notice_fields(k, authority, json ? *json : std::string(), clock.now());
        auto filled_title = fill_template(title, fields);
        std::vector<std::string> recipient = {k.applicant.name};
        if (!k.applicant.address.empty()) {
          for (auto line : std::views::split(std::string_view(k.applicant.address), '\n')) {
            recipient.emplace_back(line.begin(), line.end());
          }
        }
        std::vector<std::pair<std::string, std::string>> references = {
            {"Aktenzeichen", k.aktenzeichen.empty() ? k.reference : k.aktenzeichen},
            {"Ihr Antrag", k.reference},
            {"Eingegangen am",
             core::format_day_de(core::format_day(core::berlin_day(k.received_at)))},
            {"Datum", core::format_day_de(core::format_day(core::berlin_day(clock.now())))}};
        pdf = options.tools.render(authority, filled_title, recipient, references,
                                   fill_template(body, fields));
        title = filled_title;
      }
    }
  }
  if (title.size() > kMaxTitle || !core::is_single_line(title)) {
    invalid.and_field("title", fmt::format("must be one line of at most {} characters", kMaxTitle));
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  auto sealed =
      seal_pdf(pdf, seal_of(k.tenant_id),
               {.signer = authority, .reason = title, .location = authority, .at = clock.now()});
  Notice n;
  n.id = ids.key();
  n.title = title;
  n.origin = std::string(origin);
  n.size = static_cast<std::int64_t>(sealed.size());
  n.sha256 = core::crypto::sha256_hex(sealed);
  n.created_at = clock.now();
  n.created_by = actor_name.empty() ? actor_id : actor_name;
  n.recipient = recipient_of(k);
  n.status = "sealed";
  auto stored = cases.store_with(
      {sealed},
      [&](core::db::Connection& tx, const std::vector<std::string>& blob) -> core::Status {
        auto now = load(tx, k.id, true);
        if (!now || now->state != k.state) {
          return fail(Error::conflict("the Vorgang changed meanwhile; open it again"));
        }
        tx.execute(
            "INSERT INTO case_notices (id, case_id, title, origin, blob_id, sha256, size, "
            "created_at, "
            "created_by, recipient, delivery_notice_id, status, deemed_announced_on, "
            "receipt_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, '', '')",
            n.id, k.id, n.title, n.origin, blob[0], n.sha256, n.size, core::to_millis(n.created_at),
            n.created_by, n.recipient, n.status);
        record(tx, actor_id, actor_name, *now, "case.notice",
               {{"notice", n.id}, {"title", n.title}, {"origin", n.origin}, {"sha256", n.sha256}});
        set_state(tx, *now, State::decided, actor_id, actor_name, "");
        jobs.enqueue(tx, {.kind = kAnnounceJob,
                          .payload = json_object({{"notice", n.id}}),
                          .idempotency_key = "cases.announce:" + n.id});
        return {};
      });
  if (!stored) return fail(stored.error());
  return n;
}

std::vector<Notice> Casework::notices(std::string_view case_id) {
  auto& d = *impl_;
  std::vector<Notice> out;
  for (const auto& r : d.db.query(fmt::format("SELECT {} FROM case_notices WHERE case_id = ? "
                                              "ORDER BY created_at DESC, id",
                                              kNoticeColumns),
                                  std::string(case_id))) {
    out.push_back(read_notice_row(r));
  }
  return out;
}

core::Status Casework::read_notice(std::string_view case_id, std::string_view notice_id,
                                   std::ostream& out) {
  auto& d = *impl_;
  auto r = d.db.query_one("SELECT blob_id FROM case_notices WHERE id = ? AND case_id = ?",
                          std::string(notice_id), std::string(case_id));
  if (!r) return fail(Error::not_found("no such notice"));
  return d.cases.read_blob(r->text(0), out);
}

// Sends a sealed notice into the applicant's mailbox, once (the delivery service keeps the
// notice's id as its idempotency key); a notice no mailbox reaches goes by post.
core::Status Casework::Impl::announce(const std::string& notice_id) {
  auto r = db.query_one(
      "SELECT case_id, recipient, status, title, blob_id FROM case_notices WHERE id = ?",
      notice_id);
  if (!r) return {};
  if (r->text(2) != "sealed") return {};
  auto k = load(*db.acquire(), r->text(0), false);
  if (!k) return {};
  if (r->text(1).empty() || !options.channel) {
    db.transaction([&](core::db::Tx& tx) {
      if (tx.execute("UPDATE case_notices SET status = 'postal' WHERE id = ? AND status = 'sealed'",
                     notice_id) == 1) {
        record(tx, "system:cases", "", *k, "case.postal_needed", {{"notice", notice_id}});
      }
      return;
    });
    return {};
  }
  std::ostringstream pdf;
  if (auto read = cases.read_blob(r->text(4), pdf); !read) return read;
  auto sent = options.channel->send(
      {.tenant_id = k->tenant_id,
       .recipient = r->text(1),
       .subject = r->text(3),
       .body = fmt::format("Ihr Bescheid zu {} ({}) liegt bei.", k->title, k->reference),
       .reference = k->reference,
       .filename = fmt::format("bescheid-{}.pdf", k->reference),
       .pdf = pdf.str(),
       .idempotency_key = "cases.notice:" + notice_id});
  if (!sent) return fail(sent.error());
  db.acquire()->execute(
      "UPDATE case_notices SET status = 'delivering', delivery_notice_id = ? WHERE id = ? AND "
      "status = 'sealed'",
      *sent, notice_id);
  return {};
}

int Casework::follow_notices() {
  auto& d = *impl_;
  if (!d.options.channel) return 0;
  int changed = 0;
  for (const auto& r : d.db.query(
           "SELECT n.id, n.case_id, n.delivery_notice_id, c.tenant_id FROM case_notices n JOIN "
           "cases c ON c.id = n.case_id WHERE n.status = 'delivering' ORDER BY n.created_at LIMIT "
           "200")) {
    auto progress = d.options.channel->progress(r.text(3), r.text(2));
    if (!progress) {
      core::log::warn("cases.notice_progress_unknown",
                      {{"notice", r.text(0)}, {"error", progress.error().message}});
      continue;
    }
    if (progress->status.empty()) continue;
    d.db.transaction([&](core::db::Tx& tx) {
      auto k = d.load(tx, r.text(1), true);
      if (!k) return;
      auto status = progress->status == "postal" ? std::string("postal") : std::string("stored");
      if (tx.execute("UPDATE case_notices SET status = ?, stored_at = ?, deemed_announced_on = ?, "
                     "receipt_message_id = ? WHERE id = ? AND status = 'delivering'",
                     status,
                     progress->stored_at
                         ? std::optional<std::int64_t>(core::to_millis(*progress->stored_at))
                         : std::nullopt,
                     progress->deemed_announced_on, progress->receipt_message_id, r.text(0)) != 1) {
        return;
      }
      if (status == "postal") {
        d.record(tx, "system:cases", "", *k, "case.postal_needed", {{"notice", r.text(0)}});
      } else {
        d.record(tx, "system:delivery", "", *k, "case.announced",
                 {{"notice", r.text(0)},
                  {"receipt", progress->receipt_message_id},
                  {"deemedAnnouncedOn", progress->deemed_announced_on}});
        if (k->state == state_name(State::decided)) {
          d.set_state(tx, *k, State::announced, "system:delivery", "", "");
        }
      }
      ++changed;
      return;
    });
  }
  return changed;
}

core::Result<Case> Casework::confirm_postal(const Staffer& who, std::string_view id,
                                            std::string_view posted_on) {
  auto& d = *impl_;
  auto day = core::parse_day(posted_on);
  auto today = core::berlin_day(d.clock.now());
  if (!day || *day > today || *day < today - std::chrono::days(60)) {
    return fail(Error::invalid("posted_on", "must be a day within the last 60 days"));
  }
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Case> {
    auto k = d.visible(tx, who, id, true);
    if (!k) return k;
    auto n = tx.query_one(
        "SELECT id FROM case_notices WHERE case_id = ? AND status = 'postal' "
        "ORDER BY created_at DESC LIMIT 1",
        k->id);
    if (!n || k->state != state_name(State::decided)) {
      return fail(Error::invalid("state", "no notice waits for the post"));
    }
    // Posted within Germany: announced on the fourth day after posting (§ 41 (2) VwVfG).
    auto deemed = core::format_day(*day + std::chrono::days(4));
    tx.execute("UPDATE case_notices SET status = 'posted', deemed_announced_on = ? WHERE id = ?",
               deemed, n->text(0));
    d.record(tx, Impl::actor(who), who.name, *k, "case.posted",
             {{"notice", n->text(0)},
              {"postedOn", std::string(posted_on)},
              {"deemedAnnouncedOn", deemed}});
    d.set_state(tx, *k, State::announced, Impl::actor(who), who.name, "");
    return k;
  });
}

}  // namespace mvsp::cases
