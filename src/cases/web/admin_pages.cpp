// The authority's administration of its case management, on one page: the groups of
// clerks and the online services each handles, the settings per online service (processing
// deadline, what happens when a document request passes, automatic decision), the closing
// days of the business calendar, the notice templates and the seal certificate. For the
// role authority_admin of the tenant (several tenants: ?mandant=); every change goes
// through Casework, which checks the role again and audits it.
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/web/multipart.hpp>
#include <mvsp/web/router.hpp>

#include "routes.hpp"
#include "staff.hpp"

namespace mvsp::cases {
namespace {

using namespace staff;

constexpr std::string_view kBase = "/verwaltung/fallmanagement";

// The tenant the page is about: ?mandant= (or the form's) among those the person
// administers, else the first of them; none when the person administers none.
std::optional<std::string> tenant_of(const Staffer& who, const Request& req) {
  // in the query of every form's action too (the seal's form is multipart)
  auto wanted = req.query_param("mandant").value_or("");
  std::optional<std::string> first;
  for (const auto& [tenant, role] : who.roles) {
    if (role != "authority_admin") continue;
    if (!first) first = tenant;
    if (tenant == wanted) return tenant;
  }
  return wanted.empty() ? first : std::nullopt;
}

std::string back(const std::string& tenant, std::string_view anchor) {
  return fmt::format("{}?mandant={}#{}", kBase, web::url_encode(tenant), anchor);
}

// What a refused form sent, to show it again at its section.
struct Refused {
  std::string section;  // gruppen, dienste, schliesstage, vorlagen, siegel
  std::string key;      // the online service of a settings form
  const core::Error* error = nullptr;
  std::map<std::string, std::string> sent;
};

Response page(const Ctx& c, Request& req, const Staffer& who, const std::string& tenant,
              const Refused& refused = {}) {
  View model;
  model.set("title", c.t(req, "admin.title"));
  model.set("q", "?mandant=" + web::url_encode(tenant));
  model.set("base", std::string(kBase));
  // the summary links to the field in the section of the form that was sent
  std::string prefix = refused.section;
  if (refused.section == "dienste") {
    auto services = c.options.online_services_of(tenant);
    auto it = std::ranges::find(services, refused.key, &std::pair<std::string, std::string>::first);
    prefix = fmt::format("dienst-{}", it - services.begin() + 1);
  }
  if (refused.error) {
    model.set("has_errors", true);
    model.set("error_title", c.t(req, "errors.summary"));
    model.set_list("errors", {});
    for (const auto& [field, message] : refused.error->fields) {
      View e;
      e.set("id", fmt::format("{}-{}", prefix, field));
      e.set("message", field_message(c, req, field, message));
      model.add("errors", std::move(e));
    }
    if (refused.error->fields.empty()) {
      View e;
      e.set("message", field_message(c, req, "general", refused.error->message));
      model.add("errors", std::move(e));
    }
  }
  auto sent = [&](const std::string& section, const std::string& name, std::string value) {
    if (refused.section == section && refused.sent.contains(name)) return refused.sent.at(name);
    return value;
  };
  auto error_of = [&](const std::string& section, const std::string& key = {}) {
    if (!refused.error || refused.section != section || refused.key != key) return std::string();
    const auto& e = *refused.error;
    return e.fields.empty() ? field_message(c, req, "general", e.message)
                            : field_message(c, req, e.fields[0].field, e.fields[0].message);
  };

  // groups
  auto colleagues = c.options.colleagues(tenant);
  auto services = c.options.online_services_of(tenant);
  auto groups = c.work.groups(who, tenant);
  if (!groups) return c.pages.error(req, groups.error());
  auto editing_id = req.query_param("gruppe").value_or(
      refused.sent.contains("id") && refused.section == "gruppen" ? refused.sent.at("id") : "");
  Group editing;
  model.set_list("groups", {});
  for (const auto& g : *groups) {
    View v;
    v.set("id", g.id);
    v.set("name", g.name);
    std::vector<std::string> names;
    for (const auto& m : g.members) {
      auto it = std::ranges::find(colleagues, m, &Colleague::account_id);
      names.push_back(it == colleagues.end() ? m : it->name);
    }
    v.set("members", fmt::format("{}", fmt::join(names, ", ")));
    std::vector<std::string> handled;
    for (const auto& s : g.online_services) {
      auto it = std::ranges::find(services, s, &std::pair<std::string, std::string>::first);
      handled.push_back(it == services.end() ? s : it->second);
    }
    v.set("services", fmt::format("{}", fmt::join(handled, ", ")));
    v.set("edit_href", fmt::format("{}?mandant={}&gruppe={}#gruppen", kBase,
                                   web::url_encode(tenant), web::url_encode(g.id)));
    v.set("remove_action", fmt::format("{}/gruppen/{}/entfernen", kBase, web::url_encode(g.id)));
    model.add("groups", std::move(v));
    if (g.id == editing_id) editing = g;
  }
  model.set("has_groups", !groups->empty());
  model.set("group_id", editing.id);
  model.set("group_name", sent("gruppen", "name", editing.name));
  model.set("group_error", error_of("gruppen"));
  model.set_list("clerks", {});
  for (const auto& colleague : colleagues) {
    if (!works_vorgaenge(colleague)) continue;
    View v;
    v.set("id", colleague.account_id);
    v.set("name", colleague.name);
    v.set("checked",
          std::ranges::find(editing.members, colleague.account_id) != editing.members.end());
    model.add("clerks", std::move(v));
  }
  model.set_list("group_services", {});
  for (const auto& [id, name] : services) {
    View v;
    v.set("id", id);
    v.set("name", name);
    v.set("checked",
          std::ranges::find(editing.online_services, id) != editing.online_services.end());
    model.add("group_services", std::move(v));
  }

  // templates (before the settings, which offer them for the automatic decision)
  auto templates = c.work.templates(who, tenant);
  if (!templates) return c.pages.error(req, templates.error());
  auto template_id = req.query_param("vorlage").value_or(
      refused.section == "vorlagen" && refused.sent.contains("id") ? refused.sent.at("id") : "");
  NoticeTemplate shown;
  model.set_list("templates", {});
  for (const auto& t : *templates) {
    View v;
    v.set("name", t.name);
    v.set("title", t.title);
    v.set("edit_href", fmt::format("{}?mandant={}&vorlage={}#vorlagen", kBase,
                                   web::url_encode(tenant), web::url_encode(t.id)));
    model.add("templates", std::move(v));
    if (t.id == template_id) shown = t;
  }
  model.set("has_templates", !templates->empty());
  model.set("template_id", shown.id);
  model.set("template_name", sent("vorlagen", "name", shown.name));
  model.set("template_title", sent("vorlagen", "title", shown.title));
  model.set("template_body", sent("vorlagen", "body", shown.body));
  model.set("template_error", error_of("vorlagen"));

  // settings per online service
  auto settings = c.work.service_settings(who, tenant);
  if (!settings) return c.pages.error(req, settings.error());
  model.set_list("services", {});
  int n = 0;
  for (const auto& [id, name] : services) {
    ServiceSettings s{.online_service_id = id};
    if (auto it = std::ranges::find(*settings, id, &ServiceSettings::online_service_id);
        it != settings->end()) {
      s = *it;
    }
    bool refused_here = refused.section == "dienste" && refused.key == id;
    View v;
    v.set("n", std::to_string(++n));
    v.set("name", name);
    v.set("action", fmt::format("{}/dienste/{}", kBase, web::url_encode(id)));
    v.set("rule", refused_here && refused.sent.contains("frist") ? refused.sent.at("frist")
                                                                 : s.deadline_rule);
    v.set("error", error_of("dienste", id));
    v.set_list("expiries", {});
    for (auto state : {State::formal_check, State::material_check, State::ended}) {
      View o;
      o.set("value", std::string(state_name(state)));
      o.set("label", c.named(req, "state", std::string(state_name(state))));
      o.set("selected", s.on_request_expiry == state_name(state));
      v.add("expiries", std::move(o));
    }
    v.set_list("auto_templates", {});
    for (const auto& t : *templates) {
      View o;
      o.set("value", t.id);
      o.set("label", t.name);
      o.set("selected", s.auto_decide_template_id == t.id);
      v.add("auto_templates", std::move(o));
    }
    model.add("services", std::move(v));
  }
  model.set("has_services", !services.empty());

  // closing days
  auto days = c.work.closing_days(who, tenant);
  if (!days) return c.pages.error(req, days.error());
  model.set_list("days", {});
  for (const auto& d : *days) {
    View v;
    v.set("day", core::format_day_de(d.day));
    v.set("label", d.label);
    v.set("remove_action",
          fmt::format("{}/schliesstage/{}/entfernen", kBase, web::url_encode(d.day)));
    model.add("days", std::move(v));
  }
  model.set("has_days", !days->empty());
  model.set("day_value", sent("schliesstage", "tag", ""));
  model.set("day_label", sent("schliesstage", "bezeichnung", ""));
  model.set("day_error", error_of("schliesstage"));

  // the seal
  if (auto seal = c.work.seal(who, tenant)) {
    model.set("seal_subject", seal->subject);
    model.set("seal_until",
              core::format_day_de(core::format_day(core::berlin_day(seal->not_after))));
    model.set("seal_generated", seal->generated);
  }
  model.set("seal_error", error_of("siegel"));

  req.csrf_token();
  auto res = c.pages.render(req, "cases/staff_admin", std::move(model));
  if (refused.error) {
    using enum core::ErrorCode;
    auto code = refused.error->code;
    res.status = code == invalid_input ? 422
                 : code == forbidden   ? 403
                 : code == not_found   ? 404
                                       : 409;
  }
  return res;
}

// The person and the tenant, or the answer: to the login, 403 for anyone who administers
// no tenant (or not the one asked for).
struct Admin {
  std::optional<Staffer> who;
  std::string tenant;
  std::optional<Response> refused;
};

Admin admin(const Ctx& c, Request& req) {
  Admin a;
  a.who = staffer(c, req);
  if (!a.who) {
    a.refused = web::to_login(req);
    return a;
  }
  auto tenant = tenant_of(*a.who, req);
  if (!tenant) {
    a.refused = c.pages.error(req, 403);
    return a;
  }
  a.tenant = *tenant;
  return a;
}

Response show(const Ctx& c, Request& req) {
  auto a = admin(c, req);
  if (a.refused) return std::move(*a.refused);
  return page(c, req, *a.who, a.tenant);
}

// A change sent from the page: done, back to its section; refused, the page with the error
// at the form that was sent.
template <typename Change>
Response change(const Ctx& c, Request& req, std::string section, std::string key,
                std::initializer_list<const char*> fields, Change&& run) {
  auto a = admin(c, req);
  if (a.refused) return std::move(*a.refused);
  std::map<std::string, std::string> sent;
  for (const char* name : fields) sent[name] = req.form(name).value_or("");
  core::Status done = run(*a.who, a.tenant, sent);
  if (done) {
    web::flash(req, c.t(req, "admin.saved"));
    return Response::redirect(back(a.tenant, section));
  }
  return page(c, req, *a.who, a.tenant,
              {.section = section, .key = key, .error = &done.error(), .sent = sent});
}

template <typename T>
core::Status status_of(const core::Result<T>& r) {
  return r ? core::Status{} : core::Status{core::fail(r.error())};
}

Response save_group(const Ctx& c, Request& req) {
  return change(c, req, "gruppen", "", {"id", "name"},
                [&](const Staffer& who, const std::string& tenant, auto& sent) {
                  Group g{
                      .id = sent["id"], .name = sent["name"], .members = {}, .online_services = {}};
                  g.members = req.form_all("mitglieder");
                  g.online_services = req.form_all("dienste");
                  return status_of(c.work.save_group(who, tenant, g));
                });
}

Response remove_group(const Ctx& c, Request& req) {
  return change(c, req, "gruppen", "", {},
                [&](const Staffer& who, const std::string& tenant, auto&) {
                  return c.work.remove_group(who, tenant, req.param("group"));
                });
}

Response save_settings(const Ctx& c, Request& req) {
  auto service = req.param("service");
  return change(c, req, "dienste", service, {"frist", "ablauf", "automatisch"},
                [&](const Staffer& who, const std::string& tenant, auto& sent) {
                  return c.work.save_service_settings(
                      who, tenant,
                      {.online_service_id = service,
                       .deadline_rule = sent["frist"],
                       .on_request_expiry = sent["ablauf"],
                       .auto_decide_template_id = sent["automatisch"]});
                });
}

Response add_day(const Ctx& c, Request& req) {
  return change(c, req, "schliesstage", "", {"tag", "bezeichnung"},
                [&](const Staffer& who, const std::string& tenant, auto& sent) {
                  return c.work.add_closing_day(who, tenant, {sent["tag"], sent["bezeichnung"]});
                });
}

Response remove_day(const Ctx& c, Request& req) {
  return change(c, req, "schliesstage", "", {},
                [&](const Staffer& who, const std::string& tenant, auto&) {
                  return c.work.remove_closing_day(who, tenant, req.param("day"));
                });
}

Response save_template(const Ctx& c, Request& req) {
  return change(c, req, "vorlagen", "", {"id", "name", "title", "body"},
                [&](const Staffer& who, const std::string& tenant, auto& sent) {
                  return status_of(c.work.save_template(
                      who, tenant, {sent["id"], sent["name"], sent["title"], sent["body"]}));
                });
}

Response upload_seal(const Ctx& c, Request& req) {
  auto parts = web::parse_multipart(req, 8);
  std::string file, password;
  if (parts) {
    for (const auto& p : *parts) {
      if (p.name == "zertifikat") file = p.body;
      if (p.name == "passwort") password = p.body;
    }
  }
  return change(c, req, "siegel", "", {},
                [&](const Staffer& who, const std::string& tenant, auto&) {
                  if (!parts) return core::Status{core::fail(parts.error())};
                  return c.work.upload_seal(who, tenant, file, password);
                });
}

}  // namespace

void register_admin_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                          Casework& work, const PageOptions& options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, cases, work, options});
  auto get = [&](const std::string& path, Response (*fn)(const Ctx&, Request&)) {
    router.get(path, [c, fn](Request& req) { return fn(*c, req); });
  };
  auto post = [&](const std::string& path, Response (*fn)(const Ctx&, Request&)) {
    router.post(path, [c, fn](Request& req) { return fn(*c, req); });
  };
  auto base = std::string(kBase);
  get(base, show);
  post(base + "/gruppen", save_group);
  post(base + "/gruppen/{group}/entfernen", remove_group);
  post(base + "/dienste/{service}", save_settings);
  post(base + "/schliesstage", add_day);
  post(base + "/schliesstage/{day}/entfernen", remove_day);
  post(base + "/vorlagen", save_template);
  post(base + "/siegel", upload_seal);
}

}  // namespace mvsp::cases
