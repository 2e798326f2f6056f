// The processing deadline of a Vorgang on the business calendar: its rule comes from the
// authority's settings for the online service, it runs from the day of receipt, stops
// while documents are requested (the days in between are added when it runs again), and
// a clerk may extend it where the law allows, each with a reason. The end is recomputed
// from these facts on every change, never adjusted by hand.
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/calendar.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/text.hpp>

#include "casework_impl.hpp"
#include "rows.hpp"

namespace mvsp::cases {

using core::Error;
using core::fail;

namespace {

std::vector<std::string> split_extensions(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    if (comma > pos) out.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

struct DeadlineRow {
  std::string rule, from, extensions;
};

}  // namespace

core::BusinessCalendar Casework::Impl::calendar(core::db::Connection& c,
                                                std::string_view tenant_id) {
  std::vector<core::ClosingDay> days;
  for (const auto& r : c.query("SELECT day, label FROM case_closing_days WHERE tenant_id = ?",
                               std::string(tenant_id))) {
    if (auto day = core::parse_day(r.text(0))) days.push_back({*day, r.text(1)});
  }
  return core::BusinessCalendar(std::move(days));
}

std::string Casework::Impl::warn_until(const std::string& today) {
  static const core::BusinessCalendar kMv;
  auto day = core::parse_day(today).value_or(core::berlin_day(clock.now()));
  return core::format_day(
      core::deadline_end(kMv, day, {kWarnBusinessDays, core::Duration::business_days}));
}

void Casework::Impl::start_deadline(core::db::Connection& tx, Case& k, core::TimePoint from) {
  auto s = tx.query_one(
      "SELECT deadline_rule FROM case_service_settings WHERE tenant_id = ? AND "
      "online_service_id = ?",
      k.tenant_id, k.online_service_id);
  if (!s || s->text(0).empty()) return;
  tx.execute("UPDATE cases SET deadline_rule = ?, deadline_from = ? WHERE id = ?", s->text(0),
             core::format_day(core::berlin_day(from)), k.id);
  recompute_deadline(tx, k);
}

void Casework::Impl::recompute_deadline(core::db::Connection& tx, Case& k) {
  auto r = tx.query_one(
      "SELECT deadline_rule, deadline_from, deadline_extensions FROM cases WHERE id = ?", k.id);
  if (!r || r->text(0).empty()) return;
  auto rule = core::parse_duration(r->text(0));
  auto from = core::parse_day(r->text(1));
  if (!rule || !from) return;
  std::vector<core::Suspension> suspensions;
  bool open = false;
  for (const auto& s : tx.query(
           "SELECT from_day, to_day FROM case_suspensions WHERE case_id = ? ORDER BY seq", k.id)) {
    auto a = core::parse_day(s.text(0));
    auto b = core::parse_day(s.text(1));
    if (!a) continue;
    if (!b) open = true;
    suspensions.push_back({*a, b});
  }
  std::vector<core::Duration> extensions;
  for (const auto& e : split_extensions(r->text(2))) {
    if (auto d = core::parse_duration(e)) extensions.push_back(*d);
  }
  std::string on(kNoDeadline);
  // While the deadline stands still it has no end: the inbox neither warns nor sorts by it.
  if (!open) {
    auto cal = calendar(tx, k.tenant_id);
    core::DeadlineState state{core::deadline_end(cal, *from, *rule), std::move(suspensions),
                              std::move(extensions)};
    on = core::format_day(core::current_end(cal, state, core::berlin_day(clock.now())));
  }
  tx.execute("UPDATE cases SET deadline_on = ? WHERE id = ?", on, k.id);
  k.deadline_on = on == kNoDeadline ? std::string() : on;
}

void Casework::Impl::suspend_deadline(core::db::Connection& tx, Case& k) {
  auto r = tx.query_one("SELECT deadline_rule FROM cases WHERE id = ?", k.id);
  if (!r || r->text(0).empty()) return;
  if (tx.query_one("SELECT 1 FROM case_suspensions WHERE case_id = ? AND to_day = ''", k.id))
    return;
  auto seq = tx.query_one(
      "SELECT COALESCE(MAX(seq) + 1, 0) FROM case_suspensions WHERE case_id = ?", k.id);
  tx.execute("INSERT INTO case_suspensions (case_id, seq, from_day, to_day) VALUES (?, ?, ?, '')",
             k.id, seq ? seq->integer(0) : 0, core::format_day(core::berlin_day(clock.now())));
  recompute_deadline(tx, k);
}

void Casework::Impl::resume_deadline(core::db::Connection& tx, Case& k) {
  if (tx.execute("UPDATE case_suspensions SET to_day = ? WHERE case_id = ? AND to_day = ''",
                 core::format_day(core::berlin_day(clock.now())), k.id) > 0) {
    recompute_deadline(tx, k);
  }
}

core::Result<Deadline> Casework::deadline(std::string_view case_id) {
  auto& d = *impl_;
  auto c = d.db.acquire();
  auto r = c->query_one(
      "SELECT deadline_rule, deadline_from, deadline_extensions, deadline_on, state "
      "FROM cases WHERE id = ?",
      std::string(case_id));
  if (!r) return fail(Error::not_found("no such case"));
  Deadline out;
  out.rule = r->text(0);
  out.from = r->text(1);
  out.extensions = split_extensions(r->text(2));
  out.on = r->text(3) == kNoDeadline ? std::string() : r->text(3);
  out.suspended = !out.rule.empty() &&
                  c->query_one("SELECT 1 FROM case_suspensions WHERE case_id = ? AND to_day = ''",
                               std::string(case_id))
                      .has_value();
  auto state = parse_state(r->text(4));
  if (!out.on.empty() && state && is_open(*state)) {
    auto today = core::format_day(core::berlin_day(d.clock.now()));
    out.passed = out.on < today;
    out.soon = !out.passed && out.on <= d.warn_until(today);
  }
  return out;
}

core::Result<Case> Casework::extend_deadline(const Staffer& who, std::string_view id,
                                             std::string_view duration, std::string_view reason) {
  auto& d = *impl_;
  Error invalid{core::ErrorCode::invalid_input, "The extension is not valid.", {}, {}};
  auto rule = core::parse_duration(duration);
  if (!rule) invalid.and_field("duration", "must be a duration such as 1M, 2W, 10D or 5BD");
  auto why = std::string(core::trim(reason));
  if (why.empty() || why.size() > 1000 || !core::valid_utf8(why)) {
    invalid.and_field("reason", "is required (at most 1000 characters)");
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Case> {
    auto k = d.visible(tx, who, id, true);
    if (!k) return k;
    auto r =
        tx.query_one("SELECT deadline_rule, deadline_extensions FROM cases WHERE id = ?", k->id);
    auto state = parse_state(k->state).value_or(State::received);
    if (r->text(0).empty() || !is_open(state) || state == State::decided) {
      return fail(Error::invalid("duration", "this Vorgang has no running deadline"));
    }
    auto text = core::format_duration(*rule);
    auto extensions = r->text(1).empty() ? text : r->text(1) + "," + text;
    tx.execute("UPDATE cases SET deadline_extensions = ? WHERE id = ?", extensions, k->id);
    d.recompute_deadline(tx, *k);
    d.record(tx, Impl::actor(who), who.name, *k, "case.deadline_extended",
             {{"extension", core::format_duration_de(*rule)},
              {"reason", why},
              {"deadline", k->deadline_on}});
    return k;
  });
}

}  // namespace mvsp::cases
