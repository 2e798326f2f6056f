// Participation (Beteiligung): the clerk forwards a Vorgang to the authority that is
// competent (Abgabe), or asks another authority on the platform or an outside body (a
// school, an expert) for a statement by a day. An authority answers in its own case
// management; an outside body through a link mailed to it, whose secret only it holds (the
// Vorgang keeps its SHA-256). A party reads the question, the Vorgang's reference and,
// when the clerk shares them, the application and its documents, never the Vorgang itself;
// each of its reads is in the Vorgang's read record.
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/text.hpp>
#include <sstream>

#include "casework_impl.hpp"
#include "rows.hpp"

namespace mvsp::cases {

using core::Error;
using core::fail;

namespace {

constexpr std::size_t kMaxReason = 2000;
constexpr std::size_t kMaxQuestion = 5000;
constexpr std::size_t kMaxAnswer = 10000;
constexpr std::size_t kMaxPartyName = 200;
constexpr int kMaxStatementDays = 366;
// what one Vorgang takes, so that nobody mails without end from it
constexpr std::int64_t kMaxStatements = 20;
// and at most this much in the answers' attachments (they go into its ZIP and e-file)
constexpr std::int64_t kMaxStatementBytes = 50LL * 1024 * 1024;
// a link's secret is 43 characters (32 bytes); anything much longer is not one
constexpr std::size_t kMaxToken = 100;
constexpr const char* kStatementColumns =
    "id, case_id, party_kind, party_authority_id, party_tenant_id, party_name, party_email, "
    "question, share_documents, deadline_on, status, created_at, created_by_name, answer, "
    "answered_at, answered_by";

Statement read_statement(const core::db::Row& r, const std::string& today) {
  Statement s{.id = r.text(0),
              .case_id = r.text(1),
              .party_kind = r.text(2),
              .party_authority_id = r.text(3),
              .party_tenant_id = r.text(4),
              .party_name = r.text(5),
              .party_email = r.text(6),
              .question = r.text(7),
              .share_documents = r.integer(8) != 0,
              .deadline_on = r.text(9),
              .status = r.text(10),
              .created_at = core::from_millis(r.integer(11)),
              .created_by_name = r.text(12),
              .answer = r.text(13),
              .answered_at = {},
              .answered_by = r.text(15),
              .files = {},
              .overdue = false,
              .token = {}};
  if (!r.is_null(14)) s.answered_at = core::from_millis(r.integer(14));
  s.overdue = s.status == "open" && s.deadline_on < today;
  return s;
}

void load_files(core::db::Connection& c, Statement& s) {
  for (const auto& r :
       c.query("SELECT position, filename, media_type, size FROM case_statement_files WHERE "
               "statement_id = ? ORDER BY position",
               s.id)) {
    s.files.push_back({.position = static_cast<int>(r.integer(0)),
                       .filename = r.text(1),
                       .media_type = r.text(2),
                       .size = r.integer(3)});
  }
}

std::string today_of(const core::Clock& clock) {
  return core::format_day(core::berlin_day(clock.now()));
}

// The deadline of a request for a statement: a day after today, within a year.
void check_day(const core::Clock& clock, std::string_view text, const char* field, Error& invalid) {
  auto today = core::berlin_day(clock.now());
  auto day = core::parse_day(text);
  if (!day) {
    invalid.and_field(field, "must be a day (YYYY-MM-DD)");
  } else if (*day <= today || *day > today + std::chrono::days(kMaxStatementDays)) {
    invalid.and_field(field, "must be after today and within a year");
  }
}

// A text as pasted: form feeds and vertical tabs (from PDF and word processors) become line
// breaks.
std::string pasted(std::string_view text) {
  std::string out(text);
  std::ranges::replace_if(
      out, [](char ch) { return ch == '\f' || ch == '\v'; }, '\n');
  return out;
}

// A text of lines: no control character but tab and line breaks (PostgreSQL would cut it at
// a NUL, SQLite keep it).
bool plain_text(std::string_view text) {
  return std::ranges::none_of(text, [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || c == 0x7f;
  });
}

void check_text(std::string_view text, std::size_t max, const char* field, Error& invalid) {
  if (core::trim(text).empty()) invalid.and_field(field, "is required");
  if (text.size() > max || !core::valid_utf8(text) || !plain_text(text)) {
    invalid.and_field(field, fmt::format("must be at most {} characters", max));
  }
}

std::optional<AuthorityRef> authority_of(const CaseworkOptions& options, std::string_view id) {
  if (!options.authorities || id.empty()) return std::nullopt;
  for (auto& a : options.authorities()) {
    if (a.id == id && !a.tenant_id.empty()) return a;
  }
  return std::nullopt;
}

std::string authority_name(const CaseworkOptions& options, const Case& k) {
  if (auto a = authority_of(options, k.authority_id)) return a->name;
  return options.tenant_name ? options.tenant_name(k.tenant_id) : k.authority_id;
}

bool works_for(const Staffer& who, std::string_view tenant) {
  return Casework::Impl::has_role(who, tenant, {"clerk", "lead", "authority_admin"});
}

// The request the party may read, and its Vorgang: staff of the authority asked, or the
// holder of the link's secret; not while cancelled.
struct Asked {
  Statement statement;
  Case k;
};

core::Result<Asked> find_asked(Casework::Impl& d, core::db::Connection& c, const Party& party,
                               std::string_view statement_id, bool for_update) {
  std::string lock(for_update ? c.for_update() : std::string_view());
  std::optional<core::db::Row> r;
  if (party.staffer) {
    r = c.query_one(fmt::format("SELECT {}, asking_tenant_id FROM case_statements WHERE id = ? "
                                "AND party_kind = 'authority'{}",
                                kStatementColumns, lock),
                    std::string(statement_id));
    if (r && !works_for(*party.staffer, r->text(4))) r.reset();
  } else if (!party.token.empty() && party.token.size() <= kMaxToken) {
    r = c.query_one(fmt::format("SELECT {}, asking_tenant_id FROM case_statements WHERE "
                                "token_hash = ? AND party_kind = 'outside'{}",
                                kStatementColumns, lock),
                    core::crypto::sha256_hex(party.token));
  }
  if (!r) return fail(Error::not_found("no such request for a statement"));
  auto s = read_statement(*r, today_of(d.clock));
  if (s.status == "cancelled") return fail(Error::not_found("no such request for a statement"));
  // only while the Vorgang is in a check at the authority that asked: not once it was
  // decided, withdrawn or ended, nor after it was forwarded
  auto k = d.load(c, s.case_id, false);
  if (!k || !in_checks(k->state) || k->tenant_id != r->text(16)) {
    return fail(Error::not_found("no such request for a statement"));
  }
  load_files(c, s);
  return Asked{std::move(s), std::move(*k)};
}

// Who reads or answers for the party, as the read record and the timeline name them.
std::pair<std::string, std::string> party_actor(const Party& party, const Statement& s) {
  if (party.staffer) {
    return {Casework::Impl::actor(*party.staffer),
            fmt::format("{}, {}", party.staffer->name, s.party_name)};
  }
  return {fmt::format("statement:{}", s.id), s.party_name};
}

void record_read(Casework::Impl& d, const Party& party, const Asked& a, const std::string& what) {
  auto [id, name] = party_actor(party, a.statement);
  d.db.acquire()->execute("INSERT INTO case_reads (case_id, at, actor, what) VALUES (?, ?, ?, ?)",
                          a.k.id, core::to_millis(d.clock.now()), fmt::format("{} ({})", id, name),
                          what);
}

StatementView view_of(Casework::Impl& d, Asked a) {
  StatementView v{.statement = std::move(a.statement),
                  .reference = a.k.reference,
                  .title = a.k.title,
                  .asking_authority = authority_name(d.options, a.k),
                  .applicant_name = {},
                  .documents = {}};
  if (v.statement.share_documents && v.statement.status == "open") {
    v.applicant_name = a.k.applicant.name;
    v.documents.emplace_back("antrag", fmt::format("Antrag-{}.pdf", a.k.reference));
    if (auto full = d.cases.by_application(a.k.application_id)) {
      for (const auto& doc : full->documents) {
        v.documents.emplace_back(std::to_string(doc.position), doc.filename);
      }
    }
  }
  return v;
}

}  // namespace

std::vector<AuthorityRef> Casework::authorities() const {
  std::vector<AuthorityRef> out;
  if (!impl_->options.authorities) return out;
  for (auto& a : impl_->options.authorities()) {
    if (a.tenant_id.empty()) continue;
    if (impl_->options.tenant_name) a.tenant_name = impl_->options.tenant_name(a.tenant_id);
    out.push_back(std::move(a));
  }
  std::ranges::sort(out, {}, &AuthorityRef::name);
  return out;
}

core::Result<Case> Casework::forward(const Staffer& who, std::string_view id,
                                     std::string_view authority_id, std::string_view reason) {
  auto& d = *impl_;
  Error invalid{core::ErrorCode::invalid_input, "The forwarding is not complete.", {}, {}};
  auto target = authority_of(d.options, authority_id);
  if (!target) invalid.and_field("forward_authority", "choose an authority on the platform");
  auto reason_text = pasted(reason);
  check_text(reason_text, kMaxReason, "forward_reason", invalid);
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  auto why = std::string(core::trim(reason_text));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Case> {
    auto k = d.visible(tx, who, id, true);
    if (!k) return k;
    if (!in_checks(k->state)) {
      return fail(Error::invalid("state", "a Vorgang can be forwarded during the checks only"));
    }
    if (target->id == k->authority_id) {
      return fail(Error::invalid("forward_authority", "is the authority that has the Vorgang"));
    }
    auto actor = Impl::actor(who);
    auto from_name = authority_name(d.options, *k);
    // the rows of requests before the audit record, whose chain is locked last, as
    // answer_statement locks them: the same order, no deadlock between the two
    if (k->state == state_name(State::documents_requested)) d.end_requests(tx, *k, "cancelled");
    tx.execute(
        "UPDATE case_statements SET status = 'cancelled' WHERE case_id = ? AND status = 'open'",
        k->id);
    // the Aktenzeichen was the forwarding authority's: on the timeline, not the Vorgang
    d.record(tx, actor, who.name, *k, "case.forwarded",
             {{"from", from_name},
              {"to", target->name},
              {"reason", why},
              {"formerAktenzeichen", k->aktenzeichen}});
    k->aktenzeichen.clear();
    // its search words again without that Aktenzeichen (the answers read on this
    // connection: another one from the pool could be waited for while this one writes)
    tx.execute("DELETE FROM case_terms WHERE case_id = ?", k->id);
    std::ostringstream answers;
    if (auto blob = tx.query_one("SELECT json_blob_id FROM cases WHERE id = ?", k->id);
        blob && !blob->text(0).empty()) {
      if (auto read = d.cases.read_blob(blob->text(0), answers); !read) return fail(read.error());
    }
    d.index_words(tx, *k, answers.str());
    // it arrives at the other authority as if just received: its group, its deadline
    k->tenant_id = target->tenant_id;
    k->authority_id = target->id;
    k->group_id.clear();
    if (auto g = tx.query_one("SELECT group_id FROM case_group_services WHERE tenant_id = ? AND "
                              "online_service_id = ?",
                              k->tenant_id, k->online_service_id)) {
      k->group_id = g->text(0);
    }
    k->assignee_id.clear();
    k->assignee_name.clear();
    k->updated_at = d.clock.now();
    tx.execute(
        "UPDATE cases SET tenant_id = ?, authority_id = ?, group_id = ?, assignee_id = '', "
        "assignee_name = '', aktenzeichen = '', resume_state = '', deadline_rule = '', "
        "deadline_from = '', "
        "deadline_extensions = '', deadline_on = ?, updated_at = ? WHERE id = ?",
        k->tenant_id, k->authority_id, k->group_id, std::string(kNoDeadline),
        core::to_millis(k->updated_at), k->id);
    tx.execute("DELETE FROM case_suspensions WHERE case_id = ?", k->id);
    d.start_deadline(tx, *k, d.clock.now());
    if (k->state != state_name(State::received)) {
      d.set_state(tx, *k, State::received, actor, who.name, "");
    }
    d.tell_workers(tx, *k, "forwarded", d.ids.key());  // each forwarding its own mail
    d.jobs.publish(tx, kCaseForwarded,
                   json_object({{"applicationId", k->application_id},
                                {"fromAuthorityName", from_name},
                                {"authorityId", target->id},
                                {"authorityName", target->name}}));
    return k;
  });
}

core::Result<Statement> Casework::ask_statement(const Staffer& who, std::string_view id,
                                                const StatementRequest& request) {
  auto& d = *impl_;
  Error invalid{
      core::ErrorCode::invalid_input, "The request for a statement is not complete.", {}, {}};
  std::optional<AuthorityRef> target;
  auto name = std::string(core::trim(request.name));
  auto email = std::string(core::trim(request.email));
  if (request.party_kind == "authority") {
    target = authority_of(d.options, request.authority_id);
    if (!target) invalid.and_field("statement_authority", "choose an authority on the platform");
  } else if (request.party_kind == "outside") {
    if (name.empty()) invalid.and_field("statement_name", "is required");
    if (name.size() > kMaxPartyName || !core::is_single_line(name) || !core::valid_utf8(name)) {
      invalid.and_field("statement_name",
                        fmt::format("must be one line of at most {} characters", kMaxPartyName));
    }
    if (!core::looks_like_email(email)) {
      invalid.and_field("statement_email", "must be an e-mail address");
    }
  } else {
    invalid.and_field("statement_party", "must be authority or outside");
  }
  auto question = pasted(request.question);
  check_text(question, kMaxQuestion, "statement_question", invalid);
  check_day(d.clock, request.deadline_on, "statement_deadline", invalid);
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Statement> {
    auto k = d.visible(tx, who, id, true);
    if (!k) return fail(k.error());
    if (!in_checks(k->state)) {
      return fail(Error::invalid("state", "a statement can be asked for during the checks only"));
    }
    if (target && target->id == k->authority_id) {
      return fail(Error::invalid("statement_authority", "is the authority that has the Vorgang"));
    }
    auto count = tx.query_one("SELECT COUNT(*) FROM case_statements WHERE case_id = ?", k->id);
    if (count->integer(0) >= kMaxStatements) {
      return fail(Error::invalid(
          "statement_party",
          fmt::format("a Vorgang takes at most {} requests for statements", kMaxStatements)));
    }
    Statement s{.id = d.ids.key(),
                .case_id = k->id,
                .party_kind = request.party_kind,
                .party_authority_id = target ? target->id : "",
                .party_tenant_id = target ? target->tenant_id : "",
                .party_name = target ? target->name : name,
                .party_email = target ? "" : email,
                .question = std::string(core::trim(question)),
                .share_documents = request.share_documents,
                .deadline_on = std::string(request.deadline_on),
                .status = "open",
                .created_at = d.clock.now(),
                .created_by_name = who.name,
                .answer = {},
                .answered_at = {},
                .answered_by = {},
                .files = {},
                .overdue = false,
                .token = target ? "" : core::crypto::random_token(32)};
    tx.execute(fmt::format("INSERT INTO case_statements ({}, created_by, token_hash, "
                           "asking_tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                           "?, ?, ?, ?, ?)",
                           kStatementColumns),
               s.id, s.case_id, s.party_kind, s.party_authority_id, s.party_tenant_id, s.party_name,
               s.party_email, s.question, s.share_documents ? 1 : 0, s.deadline_on, s.status,
               core::to_millis(s.created_at), s.created_by_name, std::string(), core::db::Value{},
               std::string(), Impl::actor(who),
               s.token.empty() ? std::string() : core::crypto::sha256_hex(s.token), k->tenant_id);
    d.record(tx, Impl::actor(who), who.name, *k, "case.statement_asked",
             {{"statement", s.id}, {"party", s.party_name}, {"deadline", s.deadline_on}});
    std::vector<std::pair<std::string, std::string>> more = {
        {"authority", authority_name(d.options, *k)},
        {"deadline", core::format_day_de(s.deadline_on)},
        {"party", s.party_name}};
    if (target) {
      auto link = fmt::format("{}/verwaltung/beteiligungen/{}", d.options.public_url, s.id);
      // its clerks and leads; an authority without them (only its administration) is not
      // left unaware
      auto staff = d.options.colleagues(target->tenant_id);
      auto has = [](const Colleague& colleague, std::initializer_list<std::string_view> roles) {
        return !colleague.email.empty() && std::ranges::any_of(colleague.roles, [&](const auto& r) {
          return std::ranges::find(roles, r) != roles.end();
        });
      };
      bool workers = std::ranges::any_of(staff, [&](const Colleague& colleague) {
        return has(colleague, {"clerk", "lead"});
      });
      for (const auto& colleague : staff) {
        if (workers ? has(colleague, {"clerk", "lead"}) : has(colleague, {"authority_admin"})) {
          d.notify_staff(tx, colleague.email, "statement_asked", *k, s.id, link, more);
        }
      }
    } else {
      auto link = fmt::format("{}/beteiligung?zugang={}", d.options.public_url, s.token);
      d.notify_staff(tx, s.party_email, "statement_asked_outside", *k, s.id, link, more);
    }
    return s;
  });
}

core::Result<std::vector<Statement>> Casework::statements(const Staffer& who, std::string_view id) {
  auto& d = *impl_;
  auto c = d.db.acquire();
  auto k = d.visible(*c, who, id, false);
  if (!k) return fail(k.error());
  std::vector<Statement> out;
  auto today = today_of(d.clock);
  for (const auto& r : c->query(fmt::format("SELECT {} FROM case_statements WHERE case_id = ? "
                                            "ORDER BY created_at, id",
                                            kStatementColumns),
                                k->id)) {
    out.push_back(read_statement(r, today));
    load_files(*c, out.back());
  }
  return out;
}

core::Status Casework::cancel_statement(const Staffer& who, std::string_view id,
                                        std::string_view statement_id) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    auto k = d.visible(tx, who, id, true);
    if (!k) return fail(k.error());
    if (tx.execute("UPDATE case_statements SET status = 'cancelled' WHERE id = ? AND case_id = ? "
                   "AND status = 'open'",
                   std::string(statement_id), k->id) != 1) {
      return fail(Error::not_found("no open request for a statement"));
    }
    d.record(tx, Impl::actor(who), who.name, *k, "case.statement_cancelled",
             {{"statement", std::string(statement_id)}});
    return {};
  });
}

core::Result<MessageFile> Casework::read_statement_file(const Staffer& who, std::string_view id,
                                                        std::string_view statement_id, int position,
                                                        std::ostream& out) {
  return impl_->read_attachment(who, id, kStatementFiles, statement_id, position, out);
}

std::vector<StatementView> Casework::asked_of(const Staffer& who) {
  auto& d = *impl_;
  std::vector<std::string> tenants;
  for (const auto& [tenant, role] : who.roles) {
    if (works_for(who, tenant) && std::ranges::find(tenants, tenant) == tenants.end()) {
      tenants.push_back(tenant);
    }
  }
  std::vector<StatementView> out;
  if (tenants.empty()) return out;
  auto c = d.db.acquire();
  std::vector<core::db::Value> params(tenants.begin(), tenants.end());
  auto today = today_of(d.clock);
  for (const auto& r : c->query_values(
           fmt::format("SELECT {}, asking_tenant_id FROM case_statements WHERE party_kind = "
                       "'authority' AND "
                       "party_tenant_id IN ({}) AND status <> 'cancelled' ORDER BY CASE status "
                       "WHEN 'open' THEN 0 ELSE 1 END, deadline_on, id LIMIT 200",
                       kStatementColumns, core::db::parameter_list(tenants.size())),
           params)) {
    auto s = read_statement(r, today);
    auto k = d.load(*c, s.case_id, false);
    if (!k || !in_checks(k->state) || k->tenant_id != r.text(16)) continue;
    out.push_back(view_of(d, {std::move(s), std::move(*k)}));
  }
  return out;
}

core::Result<StatementView> Casework::asked(const Party& party, std::string_view statement_id) {
  auto& d = *impl_;
  auto a = find_asked(d, *d.db.acquire(), party, statement_id, false);
  if (!a) return fail(a.error());
  record_read(d, party, *a, fmt::format("statement:{}", a->statement.id));
  return view_of(d, std::move(*a));
}

core::Result<Download> Casework::shared_document(const Party& party, std::string_view statement_id,
                                                 std::string_view what) {
  auto& d = *impl_;
  auto a = find_asked(d, *d.db.acquire(), party, statement_id, false);
  if (!a) return fail(a.error());
  auto view = view_of(d, *a);
  auto doc = std::ranges::find(view.documents, what, &std::pair<std::string, std::string>::first);
  if (doc == view.documents.end()) return fail(Error::not_found("no such document"));
  Download out{.filename = doc->second, .media_type = "application/pdf", .content = {}};
  if (what == "antrag") {
    auto pdf = d.cases.answers(a->k.id, "pdf");
    if (!pdf) return fail(pdf.error());
    out.content = std::move(*pdf);
  } else {
    auto full = d.cases.by_application(a->k.application_id);
    auto position = std::stoi(std::string(what));
    for (const auto& document : full ? full->documents : std::vector<CaseDocument>{}) {
      if (document.position == position) out.media_type = document.media_type;
    }
    std::ostringstream content;
    if (auto read = d.cases.read_document(a->k.id, position, content); !read) {
      return fail(read.error());
    }
    out.content = std::move(content).str();
  }
  record_read(d, party, *a, fmt::format("statement:{}:document:{}", a->statement.id, what));
  return out;
}

core::Result<Statement> Casework::answer_statement(const Party& party,
                                                   std::string_view statement_id,
                                                   const StatementAnswer& answer) {
  auto& d = *impl_;
  Error invalid{core::ErrorCode::invalid_input, "The statement is not complete.", {}, {}};
  auto text = pasted(answer.text);
  check_text(text, kMaxAnswer, "statement_answer", invalid);
  check_attachments(answer.files, "statement_files", invalid);
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  std::int64_t adding = 0;
  for (const auto& f : answer.files) adding += static_cast<std::int64_t>(f.content.size());
  // The Vorgang's attachments to statements so far; within its lock when writing, so that
  // two answers at once do not both fit.
  auto too_much = [&](core::db::Connection& c, const std::string& case_id) {
    auto so_far = c.query_one(
        "SELECT COALESCE(SUM(f.size), 0) FROM case_statement_files f JOIN case_statements s ON "
        "s.id = f.statement_id WHERE s.case_id = ?",
        case_id);
    return so_far->integer(0) + adding > kMaxStatementBytes;
  };
  std::string case_id;
  {
    // found (and the budget checked) before the scan, so that a stranger's files are not
    // scanned at all
    auto c = d.db.acquire();
    auto a = find_asked(d, *c, party, statement_id, false);
    if (!a) return fail(a.error());
    case_id = a->k.id;
    if (too_much(*c, case_id)) {
      return fail(Error::invalid("statement_files",
                                 "a Vorgang takes at most 50 MB of attachments to statements"));
    }
  }
  if (auto scanned = scan_attachments(d.options.scanner, answer.files, "statement_files");
      !scanned) {
    return fail(scanned.error());
  }
  std::vector<std::string_view> contents;
  for (const auto& f : answer.files) contents.push_back(f.content);
  Statement done;
  auto stored = d.cases.store_with(
      contents,
      [&](core::db::Connection& tx, const std::vector<std::string>& blobs) -> core::Status {
        // the Vorgang first, then the request: the order of forwarding and of every change
        // of state, which end requests
        if (!d.load(tx, case_id, true)) return fail(Error::not_found("no such case"));
        auto a = find_asked(d, tx, party, statement_id, true);
        if (!a) return fail(a.error());
        if (a->statement.status != "open") {
          return fail(Error::conflict("the statement has been given"));
        }
        if (too_much(tx, case_id)) {
          return fail(Error::invalid("statement_files",
                                     "a Vorgang takes at most 50 MB of attachments to statements"));
        }
        auto [actor_id, actor_name] = party_actor(party, a->statement);
        done = std::move(a->statement);
        done.status = "answered";
        done.answer = std::string(core::trim(text));
        done.answered_at = d.clock.now();
        done.answered_by = actor_name;
        tx.execute(
            "UPDATE case_statements SET status = 'answered', answer = ?, answered_at = ?, "
            "answered_by = ? WHERE id = ?",
            done.answer, core::to_millis(*done.answered_at), done.answered_by, done.id);
        done.files = insert_attachments(tx, kStatementFiles, done.id, answer.files, blobs);
        d.record(tx, actor_id, actor_name, a->k, "case.statement_answered",
                 {{"statement", done.id},
                  {"party", done.party_name},
                  {"attachments", std::to_string(done.files.size())}});
        d.tell_workers(tx, a->k, "statement_answered", done.id);
        return {};
      });
  if (!stored) return fail(stored.error());
  return done;
}

int Casework::Impl::tell_overdue_statements() {
  auto today = today_of(clock);
  int told = 0;
  for (const auto& r : db.query("SELECT id, case_id FROM case_statements WHERE status = 'open' AND "
                                "overdue_told_at IS NULL AND deadline_on < ?",
                                today)) {
    db.transaction([&](core::db::Tx& tx) {
      if (tx.execute("UPDATE case_statements SET overdue_told_at = ? WHERE id = ? AND status = "
                     "'open' AND overdue_told_at IS NULL",
                     core::to_millis(clock.now()), r.text(0)) != 1) {
        return;
      }
      auto k = load(tx, r.text(1), false);
      if (!k || !in_checks(k->state)) return;
      record(tx, "system:cases", "", *k, "case.statement_overdue", {{"statement", r.text(0)}});
      tell_workers(tx, *k, "statement_overdue", r.text(0));
      ++told;
    });
  }
  return told;
}

}  // namespace mvsp::cases
