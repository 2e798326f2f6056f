// The authority's own settings, kept by its administration (role authority_admin in the
// tenant) without an operator: groups of clerks and the online services each handles,
// the processing deadline and what follows an unanswered document request per online
// service, closing days, notice templates and the seal certificate.
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/cases/casework.hpp>
#include <mvsp/cases/seal.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/calendar.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/pki.hpp>
#include <mvsp/core/text.hpp>

#include "casework_impl.hpp"

namespace mvsp::cases {

using core::Error;
using core::fail;

namespace {

constexpr std::size_t kMaxName = 120;
constexpr std::size_t kMaxTemplateBody = 100 * 1024;
constexpr std::size_t kMaxGroupMembers = 500;
constexpr std::size_t kMaxSealUpload = 64 * 1024;

core::Status admin_of(const Staffer& who, std::string_view tenant) {
  if (!Casework::Impl::has_role(who, tenant, {"authority_admin"})) {
    return fail(Error::forbidden("this is for the authority's administration"));
  }
  return {};
}

bool one_line(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max && core::is_single_line(s) && core::valid_utf8(s);
}

void audit_admin(core::AuditLog& audit, core::db::Connection& tx, const Staffer& who,
                 std::string_view tenant, std::string_view action, std::string detail) {
  audit.append(tx, {.actor = Casework::Impl::actor(who),
                    .action = std::string(action),
                    .object_type = "tenant",
                    .object_id = std::string(tenant),
                    .detail = std::move(detail)});
}

}  // namespace

core::Result<std::vector<Group>> Casework::groups(const Staffer& who, std::string_view tenant_id) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return fail(ok.error());
  std::vector<Group> out;
  auto c = d.db.acquire();
  for (const auto& r :
       c->query("SELECT id, name FROM case_groups WHERE tenant_id = ? ORDER BY name",
                std::string(tenant_id))) {
    Group g{r.text(0), r.text(1), {}, {}};
    for (const auto& m : c->query("SELECT account_id FROM case_group_members WHERE group_id = ? "
                                  "ORDER BY account_id",
                                  g.id)) {
      g.members.push_back(m.text(0));
    }
    for (const auto& s : c->query("SELECT online_service_id FROM case_group_services WHERE "
                                  "group_id = ? ORDER BY online_service_id",
                                  g.id)) {
      g.online_services.push_back(s.text(0));
    }
    out.push_back(std::move(g));
  }
  return out;
}

core::Result<Group> Casework::save_group(const Staffer& who, std::string_view tenant_id,
                                         const Group& input) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return fail(ok.error());
  Group g = input;
  g.name = std::string(core::trim(g.name));
  Error invalid{core::ErrorCode::invalid_input, "The group is not complete.", {}, {}};
  if (!one_line(g.name, kMaxName)) {
    invalid.and_field("name",
                      fmt::format("is required (one line, at most {} characters)", kMaxName));
  }
  if (g.members.size() > kMaxGroupMembers) invalid.and_field("members", "too many");
  auto staff = d.options.colleagues(tenant_id);
  for (const auto& m : g.members) {
    auto it = std::ranges::find(staff, m, &Colleague::account_id);
    if (it == staff.end() || (std::ranges::find(it->roles, "clerk") == it->roles.end() &&
                              std::ranges::find(it->roles, "lead") == it->roles.end())) {
      invalid.and_field("members", "each must be a clerk of this authority");
      break;
    }
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  std::ranges::sort(g.members);
  g.members.erase(std::unique(g.members.begin(), g.members.end()), g.members.end());
  std::ranges::sort(g.online_services);
  g.online_services.erase(std::unique(g.online_services.begin(), g.online_services.end()),
                          g.online_services.end());
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Group> {
    if (g.id.empty()) {
      g.id = d.ids.key();
      if (tx.execute("INSERT INTO case_groups (id, tenant_id, name) VALUES (?, ?, ?) ON CONFLICT "
                     "DO NOTHING",
                     g.id, std::string(tenant_id), g.name) != 1) {
        return fail(Error::invalid("name", "another group has this name"));
      }
    } else {
      if (!tx.query_one("SELECT 1 FROM case_groups WHERE id = ? AND tenant_id = ?", g.id,
                        std::string(tenant_id))) {
        return fail(Error::not_found("no such group"));
      }
      if (tx.query_one("SELECT 1 FROM case_groups WHERE tenant_id = ? AND name = ? AND id <> ?",
                       std::string(tenant_id), g.name, g.id)) {
        return fail(Error::invalid("name", "another group has this name"));
      }
      tx.execute("UPDATE case_groups SET name = ? WHERE id = ?", g.name, g.id);
      tx.execute("DELETE FROM case_group_members WHERE group_id = ?", g.id);
      tx.execute("DELETE FROM case_group_services WHERE group_id = ?", g.id);
    }
    for (const auto& m : g.members) {
      tx.execute("INSERT INTO case_group_members (group_id, account_id) VALUES (?, ?)", g.id, m);
    }
    for (const auto& s : g.online_services) {
      // One group handles an online service: naming it here takes it from another group.
      tx.execute("DELETE FROM case_group_services WHERE tenant_id = ? AND online_service_id = ?",
                 std::string(tenant_id), s);
      tx.execute(
          "INSERT INTO case_group_services (tenant_id, online_service_id, group_id) VALUES "
          "(?, ?, ?)",
          std::string(tenant_id), s, g.id);
    }
    std::string detail = "{\"group\":";
    core::append_json_string(detail, g.id);
    detail += ",\"name\":";
    core::append_json_string(detail, g.name);
    detail += fmt::format(",\"members\":{},\"onlineServices\":{}}}", g.members.size(),
                          g.online_services.size());
    audit_admin(d.audit, tx, who, tenant_id, "cases.group_saved", std::move(detail));
    return g;
  });
}

core::Status Casework::remove_group(const Staffer& who, std::string_view tenant_id,
                                    std::string_view id) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return ok;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (!tx.query_one("SELECT 1 FROM case_groups WHERE id = ? AND tenant_id = ?", std::string(id),
                      std::string(tenant_id))) {
      return fail(Error::not_found("no such group"));
    }
    // Its Vorgänge go to every clerk of the authority.
    tx.execute("UPDATE cases SET group_id = '' WHERE tenant_id = ? AND group_id = ?",
               std::string(tenant_id), std::string(id));
    tx.execute("DELETE FROM case_group_members WHERE group_id = ?", std::string(id));
    tx.execute("DELETE FROM case_group_services WHERE group_id = ?", std::string(id));
    tx.execute("DELETE FROM case_groups WHERE id = ?", std::string(id));
    std::string detail = "{\"group\":";
    core::append_json_string(detail, id);
    audit_admin(d.audit, tx, who, tenant_id, "cases.group_removed", detail + "}");
    return {};
  });
}

core::Result<std::vector<ServiceSettings>> Casework::service_settings(const Staffer& who,
                                                                      std::string_view tenant_id) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return fail(ok.error());
  std::vector<ServiceSettings> out;
  for (const auto& r : d.db.query(
           "SELECT online_service_id, deadline_rule, on_request_expiry, auto_decide_template_id "
           "FROM case_service_settings WHERE tenant_id = ? ORDER BY online_service_id",
           std::string(tenant_id))) {
    out.push_back({r.text(0), r.text(1), r.text(2), r.text(3)});
  }
  return out;
}

core::Status Casework::save_service_settings(const Staffer& who, std::string_view tenant_id,
                                             const ServiceSettings& s) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return ok;
  Error invalid{core::ErrorCode::invalid_input, "The settings are not valid.", {}, {}};
  if (!one_line(s.online_service_id, 100)) invalid.and_field("online_service_id", "is required");
  if (!s.deadline_rule.empty()) {
    if (auto rule = core::parse_duration(s.deadline_rule); !rule) {
      invalid.and_field("deadline_rule", rule.error().fields.empty()
                                             ? rule.error().message
                                             : rule.error().fields.front().message);
    }
  }
  auto expiry = parse_state(s.on_request_expiry);
  if (!expiry || (*expiry != State::formal_check && *expiry != State::material_check &&
                  *expiry != State::ended)) {
    invalid.and_field("on_request_expiry", "must be formal_check, material_check or ended");
  }
  if (!s.auto_decide_template_id.empty() &&
      !d.db.query_one("SELECT 1 FROM case_templates WHERE id = ? AND tenant_id = ?",
                      s.auto_decide_template_id, std::string(tenant_id))) {
    invalid.and_field("auto_decide_template_id", "must be a template of this authority");
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    tx.execute("DELETE FROM case_service_settings WHERE tenant_id = ? AND online_service_id = ?",
               std::string(tenant_id), s.online_service_id);
    tx.execute(
        "INSERT INTO case_service_settings (tenant_id, online_service_id, deadline_rule, "
        "on_request_expiry, auto_decide_template_id) VALUES (?, ?, ?, ?, ?)",
        std::string(tenant_id), s.online_service_id, s.deadline_rule, s.on_request_expiry,
        s.auto_decide_template_id);
    std::string detail = "{\"onlineService\":";
    core::append_json_string(detail, s.online_service_id);
    detail += ",\"deadline\":";
    core::append_json_string(detail, s.deadline_rule);
    detail +=
        fmt::format(",\"automatic\":{}}}", s.auto_decide_template_id.empty() ? "false" : "true");
    audit_admin(d.audit, tx, who, tenant_id, "cases.service_settings", std::move(detail));
    return {};
  });
}

core::Result<std::vector<ClosingDay>> Casework::closing_days(const Staffer& who,
                                                             std::string_view tenant_id) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return fail(ok.error());
  std::vector<ClosingDay> out;
  for (const auto& r : d.db.query("SELECT day, label FROM case_closing_days WHERE tenant_id = ? "
                                  "ORDER BY day",
                                  std::string(tenant_id))) {
    out.push_back({r.text(0), r.text(1)});
  }
  return out;
}

core::Status Casework::add_closing_day(const Staffer& who, std::string_view tenant_id,
                                       const ClosingDay& day) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return ok;
  Error invalid{core::ErrorCode::invalid_input, "The closing day is not valid.", {}, {}};
  auto parsed = core::parse_day(day.day);
  if (!parsed) invalid.and_field("day", "must be a day (YYYY-MM-DD)");
  auto label = std::string(core::trim(day.label));
  if (!one_line(label, kMaxName)) {
    invalid.and_field("label",
                      fmt::format("is required (one line, at most {} characters)", kMaxName));
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (tx.execute("INSERT INTO case_closing_days (tenant_id, day, label) VALUES (?, ?, ?) ON "
                   "CONFLICT DO NOTHING",
                   std::string(tenant_id), core::format_day(*parsed), label) != 1) {
      return fail(Error::invalid("day", "is a closing day already"));
    }
    std::string detail = "{\"day\":";
    core::append_json_string(detail, core::format_day(*parsed));
    audit_admin(d.audit, tx, who, tenant_id, "cases.closing_day_added", detail + "}");
    return {};
  });
}

core::Status Casework::remove_closing_day(const Staffer& who, std::string_view tenant_id,
                                          std::string_view day) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return ok;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (tx.execute("DELETE FROM case_closing_days WHERE tenant_id = ? AND day = ?",
                   std::string(tenant_id), std::string(day)) != 1) {
      return fail(Error::not_found("no such closing day"));
    }
    std::string detail = "{\"day\":";
    core::append_json_string(detail, day);
    audit_admin(d.audit, tx, who, tenant_id, "cases.closing_day_removed", detail + "}");
    return {};
  });
}

core::Result<std::vector<NoticeTemplate>> Casework::templates(const Staffer& who,
                                                              std::string_view tenant_id) {
  auto& d = *impl_;
  if (!Impl::has_role(who, tenant_id, {"authority_admin", "clerk", "lead"})) {
    return fail(Error::forbidden("not staff of this authority"));
  }
  std::vector<NoticeTemplate> out;
  for (const auto& r : d.db.query("SELECT id, name, title, body FROM case_templates WHERE "
                                  "tenant_id = ? ORDER BY name",
                                  std::string(tenant_id))) {
    out.push_back({r.text(0), r.text(1), r.text(2), r.text(3)});
  }
  return out;
}

core::Result<NoticeTemplate> Casework::save_template(const Staffer& who, std::string_view tenant_id,
                                                     const NoticeTemplate& input) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return fail(ok.error());
  NoticeTemplate t = input;
  t.name = std::string(core::trim(t.name));
  t.title = std::string(core::trim(t.title));
  Error invalid{core::ErrorCode::invalid_input, "The template is not complete.", {}, {}};
  if (!one_line(t.name, kMaxName)) {
    invalid.and_field("name",
                      fmt::format("is required (one line, at most {} characters)", kMaxName));
  }
  if (!one_line(t.title, 300))
    invalid.and_field("title", "is required (one line, at most 300 characters)");
  if (core::trim(t.body).empty() || t.body.size() > kMaxTemplateBody || !core::valid_utf8(t.body)) {
    invalid.and_field("body", "is required (at most 100 KB of text)");
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<NoticeTemplate> {
    auto now = core::to_millis(d.clock.now());
    if (t.id.empty()) {
      t.id = d.ids.key();
      if (tx.execute("INSERT INTO case_templates (id, tenant_id, name, title, body, updated_at) "
                     "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                     t.id, std::string(tenant_id), t.name, t.title, t.body, now) != 1) {
        return fail(Error::invalid("name", "another template has this name"));
      }
    } else {
      if (!tx.query_one("SELECT 1 FROM case_templates WHERE id = ? AND tenant_id = ?", t.id,
                        std::string(tenant_id))) {
        return fail(Error::not_found("no such template"));
      }
      if (tx.query_one("SELECT 1 FROM case_templates WHERE tenant_id = ? AND name = ? AND id <> ?",
                       std::string(tenant_id), t.name, t.id)) {
        return fail(Error::invalid("name", "another template has this name"));
      }
      tx.execute(
          "UPDATE case_templates SET name = ?, title = ?, body = ?, updated_at = ? WHERE id = ?",
          t.name, t.title, t.body, now, t.id);
    }
    std::string detail = "{\"template\":";
    core::append_json_string(detail, t.id);
    detail += ",\"sha256\":";
    core::append_json_string(detail, core::crypto::sha256_hex(t.body));
    audit_admin(d.audit, tx, who, tenant_id, "cases.template_saved", detail + "}");
    return t;
  });
}

core::Result<SealSummary> Casework::seal(const Staffer& who, std::string_view tenant_id) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return fail(ok.error());
  d.seal_of(std::string(tenant_id));
  auto r = d.db.query_one("SELECT subject, not_after, origin FROM case_seals WHERE tenant_id = ?",
                          std::string(tenant_id));
  if (!r) return fail(Error::not_found("no seal"));
  return SealSummary{r->text(0), core::from_millis(r->integer(1)), r->text(2) == "generated"};
}

core::Status Casework::upload_seal(const Staffer& who, std::string_view tenant_id,
                                   std::string_view pem_or_p12, std::string_view password) {
  auto& d = *impl_;
  if (auto ok = admin_of(who, tenant_id); !ok) return ok;
  if (pem_or_p12.empty() || pem_or_p12.size() > kMaxSealUpload) {
    return fail(Error::invalid("certificate", "upload a PEM or PKCS#12 file of at most 64 KB"));
  }
  auto cert = read_seal_certificate(pem_or_p12, password, d.clock.now());
  if (!cert) return fail(cert.error());
  auto key = d.seal_key(tenant_id);
  auto subject = core::pki::subject_common_name(cert->certificate_pem).value_or("");
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    tx.execute("DELETE FROM case_seals WHERE tenant_id = ?", std::string(tenant_id));
    tx.execute(
        "INSERT INTO case_seals (tenant_id, key_sealed, certificate_pem, chain_pem, subject, "
        "not_after, origin, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'uploaded', ?)",
        std::string(tenant_id), core::crypto::seal(key, cert->private_key_pem),
        cert->certificate_pem, cert->chain_pem, subject,
        core::to_millis(
            core::pki::certificate_not_after(cert->certificate_pem).value_or(core::TimePoint{})),
        core::to_millis(d.clock.now()));
    std::string detail = "{\"subject\":";
    core::append_json_string(detail, subject);
    audit_admin(d.audit, tx, who, tenant_id, "cases.seal_uploaded", detail + "}");
    return {};
  });
}

}  // namespace mvsp::cases
