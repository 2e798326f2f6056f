// The clerk's work on a Vorgang: access, the inbox, the state machine, assignment and the
// Aktenzeichen. Deadlines, requests and notices are in their own files; they share the
// Impl of casework_impl.hpp.
#include <mvsp/cases/casework.hpp>
// (own header first)
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/mail.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/web/templates.hpp>
#include <optional>
#include <set>

#include "casework_impl.hpp"
#include "rows.hpp"

namespace mvsp::cases {

using core::Error;
using core::fail;

namespace {

constexpr std::array kStateNames = {
    std::pair{State::received, "received"},
    std::pair{State::formal_check, "formal_check"},
    std::pair{State::documents_requested, "documents_requested"},
    std::pair{State::material_check, "material_check"},
    std::pair{State::decided, "decided"},
    std::pair{State::announced, "announced"},
    std::pair{State::filed, "filed"},
    std::pair{State::closed, "closed"},
    std::pair{State::withdrawn, "withdrawn"},
    std::pair{State::ended, "ended"},
};

constexpr int kMaxInbox = 100;
constexpr std::size_t kMaxTerms = 400;
constexpr std::size_t kTermLength = 20;
constexpr std::size_t kMaxNote = 2000;

// Transliterated, lower-case words of [0-9a-z]: so that "Mueller" finds "Müller", and so
// that every term sorts the same under every collation PostgreSQL may have (digits before
// letters, letters in order), which the prefix range of the search relies on.
void add_words(std::string_view text, std::set<std::string>& out) {
  auto folded = core::fold_case(text);
  std::string word;
  auto flush = [&] {
    if (word.size() >= 2 && out.size() < kMaxTerms) out.insert(word.substr(0, kTermLength));
    word.clear();
  };
  for (std::size_t i = 0; i < folded.size(); ++i) {
    auto c = static_cast<unsigned char>(folded[i]);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word += static_cast<char>(c);
      continue;
    }
    if (c == 0xc3 && i + 1 < folded.size()) {
      auto n = static_cast<unsigned char>(folded[i + 1]);
      const char* as = nullptr;
      switch (n) {
        case 0xa4:
          as = "ae";
          break;  // ä
        case 0xb6:
          as = "oe";
          break;  // ö
        case 0xbc:
          as = "ue";
          break;  // ü
        case 0x9f:
          as = "ss";
          break;  // ß
        case 0xa9:
        case 0xa8:
          as = "e";
          break;  // é è
        case 0xa1:
        case 0xa0:
          as = "a";
          break;  // á à
        default:
          break;
      }
      if (as) {
        word += as;
        ++i;
        continue;
      }
    }
    flush();
  }
  flush();
}

void json_words(const Poco::Dynamic::Var& v, std::set<std::string>& out) {
  if (v.type() == typeid(Poco::JSON::Object::Ptr)) {
    for (const auto& [key, value] : *v.extract<Poco::JSON::Object::Ptr>()) json_words(value, out);
  } else if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
    for (const auto& value : *v.extract<Poco::JSON::Array::Ptr>()) json_words(value, out);
  } else if (v.isString()) {
    add_words(v.convert<std::string>(), out);
  }
}

}  // namespace

std::string_view state_name(State state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "received";
}

std::optional<State> parse_state(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::vector<State> next_states(State from) {
  using enum State;
  switch (from) {
    case received:
      return {formal_check, ended};
    case formal_check:
      return {material_check, ended};
    case documents_requested:
      return {formal_check, material_check, ended};
    case material_check:
      return {formal_check, ended};
    case decided:
      return {};
    case announced:
      return {closed};
    case withdrawn:
      return {closed};
    case ended:
      return {closed};
    case filed:
      return {closed};
    case closed:
      return {};
  }
  return {};
}

bool in_checks(std::string_view state) {
  auto s = parse_state(state).value_or(State::closed);
  return s == State::received || s == State::formal_check || s == State::documents_requested ||
         s == State::material_check;
}

bool is_open(State s) {
  return in_checks(state_name(s)) || s == State::decided;
}

namespace {

// "MV-35CA3-4HFYVHOK" in any case: the citizen's reference number, whole.
bool is_reference(std::string_view s) {
  if (s.size() != 17 || s[2] != '-' || s[8] != '-') return false;
  if (std::toupper(static_cast<unsigned char>(s[0])) != 'M' ||
      std::toupper(static_cast<unsigned char>(s[1])) != 'V') {
    return false;
  }
  for (std::size_t i = 3; i < s.size(); ++i) {
    if (i == 8) continue;
    if (!std::isalnum(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> search_terms(std::span<const std::string> texts,
                                      std::string_view answers_json) {
  std::set<std::string> words;
  for (const auto& t : texts) add_words(t, words);
  if (!answers_json.empty()) {
    try {
      Poco::JSON::Parser parser;
      auto root = parser.parse(std::string(answers_json));
      if (auto o = root.extract<Poco::JSON::Object::Ptr>(); o && o->has("answers")) {
        json_words(o->get("answers"), words);
      }
    } catch (const std::exception& e) {
      core::log::warn("cases.answers_not_indexed", {{"error", e.what()}});
    }
  }
  return {words.begin(), words.end()};
}

// --- Impl

Casework::Impl::Impl(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                     core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs,
                     Cases& cases, CaseworkOptions options)
    : db(db),
      clock(clock),
      ids(ids),
      jobs(jobs),
      audit(audit),
      blobs(blobs),
      cases(cases),
      options(std::move(options)) {}

std::vector<std::string> Casework::Impl::roles_in(const Staffer& who, std::string_view tenant) {
  std::vector<std::string> out;
  for (const auto& [t, role] : who.roles) {
    if (t == tenant) out.push_back(role);
  }
  return out;
}

bool Casework::Impl::has_role(const Staffer& who, std::string_view tenant,
                              std::initializer_list<std::string_view> roles) {
  for (const auto& [t, role] : who.roles) {
    if (t == tenant && std::find(roles.begin(), roles.end(), role) != roles.end()) return true;
  }
  return false;
}

std::vector<std::string> Casework::Impl::groups_of(core::db::Connection& c,
                                                   std::string_view account) {
  std::vector<std::string> out;
  for (const auto& r : c.query("SELECT group_id FROM case_group_members WHERE account_id = ?",
                               std::string(account))) {
    out.push_back(r.text(0));
  }
  return out;
}

bool Casework::Impl::may_see(core::db::Connection& c, const Staffer& who, const Case& k) {
  if (who.account_id.empty()) return false;
  if (has_role(who, k.tenant_id, {"lead", "authority_admin"})) return true;
  if (!has_role(who, k.tenant_id, {"clerk"})) return false;
  if (k.group_id.empty()) return true;
  auto mine = groups_of(c, who.account_id);
  return std::find(mine.begin(), mine.end(), k.group_id) != mine.end();
}

std::optional<Case> Casework::Impl::load(core::db::Connection& c, std::string_view id,
                                         bool for_update) {
  auto r = c.query_one(fmt::format("SELECT {} FROM cases WHERE id = ?{}", kCaseColumns,
                                   for_update ? c.for_update() : ""),
                       std::string(id));
  if (!r) return std::nullopt;
  return read_case(*r);
}

core::Result<Case> Casework::Impl::visible(core::db::Connection& c, const Staffer& who,
                                           std::string_view id, bool for_update) {
  auto k = load(c, id, for_update);
  if (!k || !may_see(c, who, *k)) return fail(Error::not_found("no such case"));
  return *k;
}

std::string Casework::Impl::actor(const Staffer& who) {
  return "account:" + who.account_id;
}

void Casework::Impl::record(core::db::Connection& tx, const std::string& actor_id,
                            const std::string& actor_name, const Case& k, std::string_view action,
                            std::vector<std::pair<std::string, std::string>> detail) {
  std::string json = "{\"by\":";
  core::append_json_string(json, actor_name);
  for (const auto& [key, value] : detail) {
    json += ",";
    core::append_json_string(json, key);
    json += ":";
    core::append_json_string(json, value);
  }
  json += "}";
  audit.append(tx, {.actor = actor_id,
                    .action = std::string(action),
                    .object_type = "case",
                    .object_id = k.id,
                    .detail = std::move(json)});
}

void Casework::Impl::set_state(core::db::Connection& tx, Case& k, State to,
                               const std::string& actor_id, const std::string& actor_name,
                               std::string_view note) {
  auto from = k.state;
  // out of the checks: nobody asked for a statement reads or answers any more
  if (!in_checks(state_name(to))) {
    tx.execute(
        "UPDATE case_statements SET status = 'cancelled' WHERE case_id = ? AND status = 'open'",
        k.id);
  }
  k.state = std::string(state_name(to));
  k.updated_at = clock.now();
  tx.execute("UPDATE cases SET state = ?, updated_at = ? WHERE id = ?", k.state,
             core::to_millis(k.updated_at), k.id);
  std::vector<std::pair<std::string, std::string>> detail = {{"from", from}, {"to", k.state}};
  if (!note.empty()) detail.emplace_back("note", std::string(note));
  record(tx, actor_id, actor_name, k, "case.state", std::move(detail));
  jobs.publish(
      tx, kCaseStateChanged,
      json_object({{"caseId", k.id}, {"applicationId", k.application_id}, {"state", k.state}}));
}

void Casework::Impl::read(const Staffer& who, const Case& k, std::string_view what) {
  db.acquire()->execute("INSERT INTO case_reads (case_id, at, actor, what) VALUES (?, ?, ?, ?)",
                        k.id, core::to_millis(clock.now()),
                        fmt::format("{} ({})", actor(who), who.name), std::string(what));
}

void Casework::Impl::notify_staff(core::db::Connection& tx, const std::string& address,
                                  std::string_view what, const Case& k, std::string_view occasion,
                                  std::string link,
                                  const std::vector<std::pair<std::string, std::string>>& more) {
  if (!options.texts) return;
  auto text = [&](std::string_view part) {
    return options.texts->text("de", fmt::format("cases.mail.{}.{}", what, part));
  };
  if (link.empty()) link = fmt::format("{}/verwaltung/vorgaenge/{}", options.public_url, k.id);
  std::vector<std::pair<std::string, std::string>> values = {
      {"reference", k.reference}, {"title", k.title}, {"link", link}};
  values.insert(values.end(), more.begin(), more.end());
  std::vector<std::pair<std::string_view, std::string_view>> views(values.begin(), values.end());
  core::MailMessage mail{.to = address,
                         .subject = core::fill_placeholders(text("subject"), views),
                         .body = core::fill_placeholders(text("body"), views),
                         .message_id = {}};
  core::queue_mail(jobs, tx, mail,
                   fmt::format("cases.{}:{}:{}{}{}", what, k.id, address,
                               occasion.empty() ? "" : ":", occasion));
}

void Casework::Impl::tell_workers(core::db::Connection& tx, const Case& k, std::string_view what,
                                  std::string_view occasion) {
  auto groups =
      tx.query("SELECT account_id FROM case_group_members WHERE group_id = ?", k.group_id);
  auto staff = options.colleagues(k.tenant_id);
  auto has = [](const Colleague& colleague, std::string_view role) {
    return std::ranges::find(colleague.roles, role) != colleague.roles.end();
  };
  // the assignee, when they are still there with an address; else the group's clerks
  bool assignee = !k.assignee_id.empty() && std::ranges::any_of(staff, [&](const Colleague& c) {
    return c.account_id == k.assignee_id && !c.email.empty();
  });
  int told = 0;
  for (const auto& colleague : staff) {
    bool in_group = std::ranges::any_of(
        groups, [&](const auto& r) { return r.text(0) == colleague.account_id; });
    if (colleague.email.empty()) continue;
    if (assignee ? colleague.account_id == k.assignee_id
                 : has(colleague, "clerk") && (k.group_id.empty() || in_group)) {
      notify_staff(tx, colleague.email, what, k, occasion);
      ++told;
    }
  }
  // an authority without such clerks (only its administration) is not left unaware
  if (told > 0) return;
  for (const auto& colleague : staff) {
    if (!colleague.email.empty() && has(colleague, "authority_admin")) {
      notify_staff(tx, colleague.email, what, k, occasion);
    }
  }
}

// Group, search words and deadline of a Vorgang just opened, in its transaction.
void Casework::Impl::prepare_open(core::db::Connection& tx, Case& k, const Intake& in) {
  if (auto g = tx.query_one(
          "SELECT group_id FROM case_group_services WHERE tenant_id = ? AND online_service_id = ?",
          k.tenant_id, k.online_service_id)) {
    k.group_id = g->text(0);
    tx.execute("UPDATE cases SET group_id = ? WHERE id = ?", k.group_id, k.id);
  }
  index_words(tx, k, in.answers_json);
  start_deadline(tx, k, k.received_at);
}

void Casework::Impl::index_words(core::db::Connection& tx, const Case& k,
                                 const std::string& answers_json) {
  std::vector<std::string> texts = {k.reference, k.applicant.name, k.applicant.email, k.title,
                                    k.aktenzeichen};
  write_terms(tx, k, search_terms(texts, answers_json));
}

void Casework::Impl::write_terms(core::db::Connection& tx, const Case& k,
                                 const std::vector<std::string>& terms) {
  for (const auto& term : terms) {
    tx.execute(
        "INSERT INTO case_terms (term, case_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO "
        "NOTHING",
        term, k.id, core::to_millis(k.received_at));
  }
}

// --- Casework

Casework::Casework(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                   core::JobQueue& jobs, core::AuditLog& audit, core::BlobStore& blobs,
                   Cases& cases, CaseworkOptions options)
    : impl_(std::make_unique<Impl>(db, clock, ids, jobs, audit, blobs, cases, std::move(options))) {
  auto* d = impl_.get();
  cases.on_open(
      [d](core::db::Connection& tx, Case& k, const Intake& in) { d->prepare_open(tx, k, in); });
}

Casework::~Casework() = default;

core::Result<InboxPage> Casework::inbox(const Staffer& who, const InboxQuery& q) {
  auto& d = *impl_;
  auto c = d.db.acquire();
  // Tenants where the person sees every Vorgang, and where only their groups' ones.
  std::vector<std::string> all, grouped;
  for (const auto& [tenant, role] : who.roles) {
    if (role == "lead" || role == "authority_admin") {
      if (std::find(all.begin(), all.end(), tenant) == all.end()) all.push_back(tenant);
    }
  }
  for (const auto& [tenant, role] : who.roles) {
    if (role == "clerk" && std::find(all.begin(), all.end(), tenant) == all.end() &&
        std::find(grouped.begin(), grouped.end(), tenant) == grouped.end()) {
      grouped.push_back(tenant);
    }
  }
  if (all.empty() && grouped.empty()) return fail(Error::forbidden("not a clerk of any authority"));
  std::vector<core::db::Value> params;
  std::string where;
  std::vector<std::string> scope;
  if (!all.empty()) {
    scope.push_back(fmt::format("tenant_id IN ({})", core::db::parameter_list(all.size())));
    params.insert(params.end(), all.begin(), all.end());
  }
  if (!grouped.empty()) {
    auto groups = d.groups_of(*c, who.account_id);
    groups.emplace_back();  // no group: every clerk of the tenant
    scope.push_back(fmt::format("(tenant_id IN ({}) AND group_id IN ({}))",
                                core::db::parameter_list(grouped.size()),
                                core::db::parameter_list(groups.size())));
    params.insert(params.end(), grouped.begin(), grouped.end());
    params.insert(params.end(), groups.begin(), groups.end());
  }
  where = scope.size() == 1 ? scope[0] : fmt::format("({} OR {})", scope[0], scope[1]);

  Error invalid{core::ErrorCode::invalid_input, "The inbox query is not valid.", {}, {}};
  if (q.state.empty()) {
    where +=
        " AND state IN ('received', 'formal_check', 'documents_requested', "
        "'material_check', 'decided')";
  } else if (q.state != "all") {
    if (!parse_state(q.state)) {
      invalid.and_field("state", "must be a state of the process, \"all\" or empty");
    }
    where += " AND state = ?";
    params.emplace_back(q.state);
  }
  if (!q.online_service_id.empty()) {
    where += " AND online_service_id = ?";
    params.emplace_back(q.online_service_id);
  }
  if (!q.authority_id.empty()) {
    where += " AND authority_id = ?";
    params.emplace_back(q.authority_id);
  }
  if (q.assignee == "me") {
    where += " AND assignee_id = ?";
    params.emplace_back(who.account_id);
  } else if (q.assignee == "none") {
    where += " AND assignee_id = ''";
  } else if (!q.assignee.empty()) {
    where += " AND assignee_id = ?";
    params.emplace_back(q.assignee);
  }
  auto today = core::format_day(core::berlin_day(d.clock.now()));
  if (q.deadline == "soon") {
    where += " AND deadline_on >= ? AND deadline_on <= ?";
    params.emplace_back(today);
    params.emplace_back(d.warn_until(today));
  } else if (q.deadline == "passed") {
    where += " AND deadline_on < ?";
    params.emplace_back(today);
  } else if (!q.deadline.empty()) {
    invalid.and_field("deadline", "must be soon, passed or empty");
  }
  std::vector<std::string> words;
  // the Vorgänge the query starts from, when the search names few (see below), with their
  // arrival where the words' index gave it (then in the inbox's order)
  std::optional<std::vector<std::string>> listed;
  std::vector<std::int64_t> listed_at;
  auto text = std::string(core::trim(q.text));
  if (is_reference(text)) {
    // a reference number pasted whole: the Vorgänge of its index (one, as a rule), looked up
    // first, so that no planner walks the inbox's order to find it
    std::ranges::transform(text, text.begin(), [](unsigned char ch) { return std::toupper(ch); });
    listed.emplace();
    for (const auto& r : c->query("SELECT id FROM cases WHERE reference = ? LIMIT 10", text)) {
      listed->push_back(r.text(0));
    }
  } else {
    std::set<std::string> set;
    add_words(q.text, set);
    // every reference number begins with "MV": as a word beside others it finds nothing
    // more and would make the search read every Vorgang
    if (set.size() > 1) set.erase("mv");
    words.assign(set.begin(), set.end());
  }
  if (words.size() > 8) invalid.and_field("q", "must have at most 8 words");
  // The Vorgänge that have every word, when they are few, are where the query starts:
  // walking the inbox's order looking for a rare name reads all of it. When they are many,
  // a page is found soon in that order, and the words stay subqueries.
  bool postgresql = c->dialect() == core::db::Dialect::postgresql;
  // a word's range on the index: every term it begins
  auto high = [](const std::string& w) { return w + std::string(kTermLength, 'z'); };
  if (!words.empty() && invalid.fields.empty()) {
    auto most = d.options.search_list_limit;
    if (most == 0) most = postgresql ? 5000 : 2000;
    auto capped = static_cast<std::int64_t>(most + 1);
    // how many Vorgänge each word has, counted up to one past the limit
    std::size_t rarest = 0;
    std::int64_t fewest = capped + 1;
    for (std::size_t i = 0; i < words.size(); ++i) {
      auto n = c->query_one(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM case_terms WHERE term >= ? AND "
                    "term <= ? LIMIT ?) AS t",
                    words[i], high(words[i]), capped)
                   ->integer(0);
      if (n < fewest) {
        fewest = n;
        rarest = i;
      }
    }
    if (fewest <= static_cast<std::int64_t>(most)) {
      // the rarest word's Vorgänge that have the other words too (the planner chooses how:
      // probes, or a hash of a common word's Vorgänge)
      // with their arrival, in the inbox's order, from the index alone (case_terms_order)
      std::string sql =
          "SELECT t.case_id, t.received_at FROM case_terms t WHERE t.term >= ? AND t.term <= ?";
      std::vector<core::db::Value> values{words[rarest], high(words[rarest])};
      for (std::size_t i = 0; i < words.size(); ++i) {
        if (i == rarest) continue;
        sql +=
            " AND EXISTS (SELECT 1 FROM case_terms u WHERE u.case_id = t.case_id AND u.term >= ? "
            "AND u.term <= ?)";
        values.emplace_back(words[i]);
        values.emplace_back(high(words[i]));
      }
      sql += " ORDER BY t.received_at, t.case_id";
      listed.emplace();
      for (const auto& r : c->query_values(sql, values)) {
        // a Vorgang with two words of the range (müller, müllerin) comes twice, side by side
        if (!listed->empty() && listed->back() == r.text(0)) continue;
        listed->push_back(r.text(0));
        listed_at.push_back(r.integer(1));
      }
      words.clear();  // the list holds what they ask for
    } else if (words.size() > 1) {
      // every word is common; together they may still be few
      std::string common;
      std::vector<core::db::Value> values;
      for (const auto& w : words) {
        common += fmt::format("{}SELECT case_id FROM case_terms WHERE term >= ? AND term <= ?",
                              common.empty() ? "" : " INTERSECT ");
        values.emplace_back(w);
        values.emplace_back(high(w));
      }
      values.emplace_back(capped);
      auto rows =
          c->query_values(fmt::format("SELECT case_id FROM ({}) AS t LIMIT ?", common), values);
      if (rows.size() <= most) {
        listed.emplace();
        for (const auto& r : rows) listed->push_back(r.text(0));
        words.clear();
      }
    }
  }
  for (const auto& w : words) {
    // A probe per Vorgang in the inbox's order, which finds a page soon when the word is
    // common. PostgreSQL would turn IN or a plain EXISTS into a join and, in parallel
    // workers, read tens of thousands of Vorgänge past the page (130 ms at 10^6 instead of
    // 10); OFFSET 0 keeps the subquery a probe.
    where += postgresql
                 ? " AND EXISTS (SELECT 1 FROM case_terms t WHERE t.case_id = cases.id AND "
                   "t.term >= ? AND t.term <= ? OFFSET 0)"
                 : " AND id IN (SELECT case_id FROM case_terms WHERE term >= ? AND term <= ?)";
    params.emplace_back(w);
    params.emplace_back(high(w));
  }
  bool by_deadline = q.sort == "deadline";
  if (q.sort != "received" && !by_deadline)
    invalid.and_field("sort", "must be received or deadline");
  const char* key = by_deadline ? "deadline_on" : "received_at";
  if (!q.after.empty()) {
    // The keyset: the sort key and the id of the page's last row, "key~id".
    auto tilde = q.after.find('~');
    if (tilde == std::string::npos) {
      invalid.and_field("after", "must be the keyset of a page");
    } else {
      auto value = q.after.substr(0, tilde);
      auto id = q.after.substr(tilde + 1);
      where += fmt::format(" AND ({0} > ? OR ({0} = ? AND id > ?))", key);
      if (by_deadline) {
        params.emplace_back(value);
        params.emplace_back(value);
      } else {
        std::int64_t ms = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
        if (ec != std::errc() || p != value.data() + value.size()) {
          invalid.and_field("after", "must be the keyset of a page");
        }
        params.emplace_back(ms);
        params.emplace_back(ms);
      }
      params.emplace_back(id);
    }
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  int limit = std::clamp(q.limit, 1, kMaxInbox);
  params.emplace_back(static_cast<std::int64_t>(limit + 1));
  // The query of the listed Vorgänge `ids`: the filters of the inbox on their rows.
  auto listed_query = [&](const std::vector<std::string>& ids) {
    std::vector<core::db::Value> values;
    std::string from;
    if (postgresql) {
      // one array parameter: a VALUES list of thousands costs PostgreSQL more to plan than
      // to run (23 ms for 3500 ids, 7 as an array)
      std::string array = "{";
      for (const auto& id : ids) {
        if (array.size() > 1) array += ",";
        array += '"';
        for (char ch : id) {
          if (ch == '"' || ch == '\\') array += '\\';
          array += ch;
        }
        array += '"';
      }
      array += "}";
      values.emplace_back(std::move(array));
      from = "cases WHERE id = ANY(CAST(? AS text[]))";
    } else {
      // looked up one by one: CROSS JOIN keeps SQLite's planner from walking an index of
      // the tenant instead
      std::vector<std::string> rows(ids.size(), "(?)");
      values.insert(values.end(), ids.begin(), ids.end());
      from = fmt::format(
          "(SELECT column1 AS hit_id FROM (VALUES {}) AS v) AS hit CROSS JOIN cases WHERE "
          "cases.id = hit.hit_id",
          fmt::join(rows, ", "));
    }
    values.insert(values.end(), params.begin(), params.end());
    return std::pair{fmt::format("SELECT {} FROM {} AND {} ORDER BY {}, id LIMIT ?", kCaseColumns,
                                 from, where, key),
                     std::move(values)};
  };
  std::vector<core::db::Row> found;
  if (listed && !listed_at.empty() && !by_deadline) {
    // In the inbox's order already: the rows of the listed Vorgänge are read a few at a
    // time, from the first after the page before, until the page is full. A name with
    // thousands of Vorgänge reads about the page's rows, not the thousands.
    std::size_t from = 0;
    if (auto tilde = q.after.find('~'); tilde != std::string::npos) {
      std::int64_t ms = 0;
      std::from_chars(q.after.data(), q.after.data() + tilde, ms);
      // those of the same time are left to the keyset in the query, which orders ids as
      // the database does
      while (from < listed->size() && listed_at[from] < ms) ++from;
    }
    for (std::size_t chunk = 64; from < listed->size() && found.size() <= std::size_t(limit);
         chunk *= 4) {
      auto to = std::min(listed->size(), from + chunk);
      auto [sql_of, values] = listed_query({listed->begin() + static_cast<std::ptrdiff_t>(from),
                                            listed->begin() + static_cast<std::ptrdiff_t>(to)});
      for (auto& r : c->query_values(sql_of, values)) found.push_back(std::move(r));
      from = to;
    }
  } else if (listed) {
    if (listed->empty()) return InboxPage{};
    auto [sql_of, values] = listed_query(*listed);
    for (auto& r : c->query_values(sql_of, values)) found.push_back(std::move(r));
  } else {
    auto sql = fmt::format("SELECT {} FROM cases WHERE {} ORDER BY {}, id LIMIT ?", kCaseColumns,
                           where, key);
    for (auto& r : c->query_values(sql, params)) found.push_back(std::move(r));
  }
  InboxPage page;
  auto warn = d.warn_until(today);
  for (const auto& r : found) {
    if (static_cast<int>(page.rows.size()) == limit) {
      const auto& last = page.rows.back().c;
      page.next = by_deadline ? fmt::format("{}~{}",
                                            last.deadline_on.empty() ? std::string(kNoDeadline)
                                                                     : last.deadline_on,
                                            last.id)
                              : fmt::format("{}~{}", core::to_millis(last.received_at), last.id);
      break;
    }
    InboxRow row{read_case(r), false, false};
    auto state = parse_state(row.c.state);
    if (!row.c.deadline_on.empty() && state && is_open(*state)) {
      row.deadline_passed = row.c.deadline_on < today;
      row.deadline_soon = !row.deadline_passed && row.c.deadline_on <= warn;
    }
    page.rows.push_back(std::move(row));
  }
  return page;
}

core::Result<Case> Casework::open_case(const Staffer& who, std::string_view id,
                                       std::string_view what) {
  auto& d = *impl_;
  auto k = d.visible(*d.db.acquire(), who, id, false);
  if (!k) return k;
  auto full = d.cases.by_application(k->application_id);
  if (full) k->documents = std::move(full->documents);
  d.read(who, *k, what);
  return k;
}

core::Result<Case> Casework::assign(const Staffer& who, std::string_view id,
                                    std::string_view assignee) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Case> {
    auto k = d.visible(tx, who, id, true);
    if (!k) return k;
    std::string name;
    if (!assignee.empty()) {
      bool found = false;
      for (const auto& colleague : d.options.colleagues(k->tenant_id)) {
        if (colleague.account_id == assignee &&
            std::ranges::any_of(colleague.roles,
                                [](const std::string& r) { return r == "clerk" || r == "lead"; })) {
          found = true;
          name = colleague.name;
        }
      }
      if (!found) return fail(Error::invalid("assignee", "must be a clerk of this authority"));
    }
    k->assignee_id = std::string(assignee);
    k->assignee_name = name;
    k->updated_at = d.clock.now();
    tx.execute("UPDATE cases SET assignee_id = ?, assignee_name = ?, updated_at = ? WHERE id = ?",
               k->assignee_id, k->assignee_name, core::to_millis(k->updated_at), k->id);
    d.record(tx, Impl::actor(who), who.name, *k, "case.assigned",
             {{"assignee", k->assignee_id}, {"assigneeName", name}});
    return k;
  });
}

core::Result<Case> Casework::set_aktenzeichen(const Staffer& who, std::string_view id,
                                              std::string_view aktenzeichen) {
  auto& d = *impl_;
  auto value = std::string(core::trim(aktenzeichen));
  if (value.size() > kMaxAktenzeichen || !core::is_single_line(value) || !core::valid_utf8(value)) {
    return fail(
        Error::invalid("aktenzeichen",
                       fmt::format("must be one line of at most {} characters", kMaxAktenzeichen)));
  }
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Case> {
    auto k = d.visible(tx, who, id, true);
    if (!k) return k;
    k->aktenzeichen = value;
    k->updated_at = d.clock.now();
    tx.execute("UPDATE cases SET aktenzeichen = ?, updated_at = ? WHERE id = ?", value,
               core::to_millis(k->updated_at), k->id);
    std::set<std::string> words;
    add_words(value, words);
    d.write_terms(tx, *k, {words.begin(), words.end()});
    d.record(tx, Impl::actor(who), who.name, *k, "case.aktenzeichen", {{"aktenzeichen", value}});
    return k;
  });
}

core::Result<Case> Casework::move(const Staffer& who, std::string_view id, State to,
                                  std::string_view note) {
  auto& d = *impl_;
  if (note.size() > kMaxNote || !core::valid_utf8(note)) {
    return fail(Error::invalid("note", fmt::format("must be at most {} characters", kMaxNote)));
  }
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Case> {
    auto k = d.visible(tx, who, id, true);
    if (!k) return k;
    auto from = parse_state(k->state).value_or(State::received);
    auto allowed = next_states(from);
    if (std::find(allowed.begin(), allowed.end(), to) == allowed.end()) {
      return fail(Error::invalid(
          "state", fmt::format("cannot go from {} to {}", state_name(from), state_name(to))));
    }
    if (from == State::documents_requested) d.end_requests(tx, *k, "cancelled");
    d.set_state(tx, *k, to, Impl::actor(who), who.name, note);
    return k;
  });
}

std::vector<TimelineEntry> Casework::timeline(std::string_view case_id, int limit) {
  auto& d = *impl_;
  std::vector<TimelineEntry> out;
  for (const auto& e : d.audit.entries_for(d.db, "case", case_id, limit)) {
    out.push_back({e.at, e.actor, e.action, e.detail});
  }
  return out;
}

core::Result<std::vector<TimelineEntry>> Casework::audit_trail(const Staffer& who,
                                                               std::string_view id) {
  auto& d = *impl_;
  auto k = d.visible(*d.db.acquire(), who, id, false);
  if (!k) return fail(k.error());
  if (!d.has_role(who, k->tenant_id, {"authority_admin"})) {
    return fail(Error::forbidden("the audit trail is for the authority's administration"));
  }
  auto out = timeline(id, 1000);
  for (const auto& r : d.db.query(
           "SELECT at, actor, what FROM case_reads WHERE case_id = ? ORDER BY at DESC LIMIT 1000",
           std::string(id))) {
    out.push_back({core::from_millis(r.integer(0)), r.text(1), "read:" + r.text(2), "{}"});
  }
  std::ranges::stable_sort(out, std::greater<>{}, &TimelineEntry::at);
  d.read(who, *k, "audit");
  return out;
}

}  // namespace mvsp::cases

namespace mvsp::cases {

namespace {

std::string payload_value(const std::string& payload, const char* key) {
  Poco::JSON::Parser parser;
  auto o = parser.parse(payload).extract<Poco::JSON::Object::Ptr>();
  return o->optValue<std::string>(key, "");
}

core::JobOutcome outcome(const core::Status& done) {
  if (done) return core::JobOutcome::ok();
  if (done.error().code == core::ErrorCode::not_found) return core::JobOutcome::ok();
  if (done.error().code == core::ErrorCode::invalid_input) {
    return core::JobOutcome::permanent(done.error().message);
  }
  return core::JobOutcome::retry(done.error().message);
}

}  // namespace

core::Status Casework::prepare(std::string_view case_id) {
  auto& d = *impl_;
  auto k = d.load(*d.db.acquire(), case_id, false);
  if (!k || k->state != state_name(State::received)) return {};
  auto setting = d.db.query_one(
      "SELECT auto_decide_template_id FROM case_service_settings WHERE tenant_id = ? AND "
      "online_service_id = ?",
      k->tenant_id, k->online_service_id);
  if (!setting || setting->text(0).empty()) return {};
  auto made = d.decide_as(*k, {.template_id = setting->text(0)}, "system:cases", "", "automatic");
  if (!made) return fail(made.error());
  return {};
}

void Casework::register_jobs(core::JobRunner& runner) {
  runner.handle(std::string(kAutoDecideJob), [this](core::JobContext& ctx) {
    return outcome(prepare(payload_value(ctx.job.payload, "caseId")));
  });
  runner.handle("cases.announce", [this](core::JobContext& ctx) {
    return outcome(impl_->announce(payload_value(ctx.job.payload, "notice")));
  });
  runner.handle(kEfileJob, [this](core::JobContext& ctx) {
    auto at = core::from_millis(std::stoll(payload_value(ctx.job.payload, "at")));
    auto filed = file_case(*this, *impl_, payload_value(ctx.job.payload, "caseId"), at,
                           ctx.job.attempts >= ctx.job.max_attempts);
    if (filed) return core::JobOutcome::ok();
    core::log::warn("cases.efile_failed", {{"error", filed.error().message}});
    if (filed.error().code == core::ErrorCode::unavailable)
      return core::JobOutcome::retry(filed.error().message);
    return core::JobOutcome::permanent(filed.error().message);
  });
  runner.every("cases.follow_notices", std::chrono::seconds(5), [this](core::JobContext&) {
    follow_notices();
    return core::JobOutcome::ok();
  });
  runner.every("cases.request_deadlines", std::chrono::minutes(15), [this](core::JobContext&) {
    if (auto n = run_request_deadlines(); n > 0) {
      core::log::info("cases.requests_due", {{"count", std::to_string(n)}});
    }
    return core::JobOutcome::ok();
  });
}

}  // namespace mvsp::cases
