// The editorial pages (Redaktion) for staff with the role `editor`: an overview with the
// notices about new versions of adopted online services, the local texts of an
// authority for a service, the authority's own entry, and the online services (publish,
// adopt). Every change goes through the catalog's use cases, which check the rights.
#include <fmt/format.h>

#include <mvsp/catalog/api.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/catalog/editor_text.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/forms.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>

namespace mvsp::catalog {
namespace {

using web::Request;
using web::Response;
using web::View;

struct Ctx {
  const web::Pages& pages;
  Catalog& catalog;
  EditorPageOptions options;

  std::string t(const Request& req, std::string_view key) const {
    return pages.catalog().text(req.locale, fmt::format("catalog.{}", key));
  }
};

// The editor behind the session, or the answer that sends the person away.
std::optional<Editor> editor_of(const Ctx& c, Request& req, Response& refused) {
  if (!req.session || req.session->account_id.empty()) {
    refused = web::to_login(req);
    return std::nullopt;
  }
  auto e = c.options.editor ? c.options.editor(req) : std::nullopt;
  if (!e) refused = c.pages.error(req, core::Error::forbidden("not an editor"));
  return e;
}

std::vector<Authority> own_authorities(const Ctx& c, const Editor& e) {
  std::vector<Authority> out;
  for (auto& a : c.catalog.authorities()) {
    if (may_edit(e, a)) out.push_back(std::move(a));
  }
  return out;
}

Response overview(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  req.csrf_token();
  View model;
  model.set("title", c.t(req, "editor.title"));
  model.set("state_wide", e->state_wide);
  model.set_list("authorities", {});
  model.set_list("notices", {});
  for (const auto& a : own_authorities(c, *e)) {
    View v;
    v.set("id", a.id);
    v.set("name", a.name);
    model.add("authorities", std::move(v));
    for (const auto& n : c.catalog.notices(a.id)) {
      auto os = c.catalog.online_service(n.online_service_id);
      View nv;
      nv.set("authority", a.name);
      nv.set("online_service", os ? os->name : n.online_service_id);
      nv.set("version", std::to_string(n.version));
      nv.set("at", core::format_berlin(n.created_at));
      model.add("notices", std::move(nv));
    }
  }
  model.set_list("services", {});
  for (const auto& s : c.catalog.services()) {
    View v;
    v.set("key", s.leika_key);
    v.set("name", s.name);
    model.add("services", std::move(v));
  }
  return c.pages.render(req, "catalog/editor", std::move(model));
}

Response texts_page(const Ctx& c, Request& req, const core::Error* error, int status) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  auto service = c.catalog.service(req.param("leikaKey"));
  auto authority = c.catalog.authority(req.param("authorityId"));
  if (!service || !authority)
    return c.pages.error(req, core::Error::not_found("no such service or authority"));
  if (!may_edit(*e, *authority))
    return c.pages.error(req, core::Error::forbidden("not an editor of this authority"));
  req.csrf_token();
  View model;
  model.set("title", fmt::format("{} – {}", service->name, authority->name));
  model.set("service", service->name);
  model.set("authority", authority->name);
  model.set("action",
            fmt::format("/redaktion/leistungen/{}/{}", service->leika_key, authority->id));
  model.set_list("modules", {});
  auto specs = c.catalog.specialisations(service->leika_key);
  Texts state_texts = service->texts;
  for (const auto& m : text_modules()) {
    View v;
    v.set("id", "modul-" + m);
    v.set("name", m);
    v.set("label", c.t(req, "modules." + m));
    v.set("state_text", *module_of(state_texts, m));
    std::string text = req.method == web::Method::post ? req.form(m).value_or("") : "";
    bool replace = req.method == web::Method::post && req.form(m + "_ersetzen");
    if (req.method != web::Method::post) {
      for (const auto& s : specs) {
        if (s.authority_id == authority->id && s.module == m) {
          text = s.text;
          replace = s.replace;
        }
      }
    }
    v.set("text", text);
    v.set("replace", replace);
    if (error) {
      for (const auto& f : error->fields) {
        if (f.field.ends_with(".text") || f.field.ends_with("." + m)) v.set("error", f.message);
      }
    }
    model.add("modules", std::move(v));
  }
  if (error) model.set("error", error->message);
  return c.pages.render(req, "catalog/texts", std::move(model), status);
}

Response texts_submit(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  auto leika = req.param("leikaKey");
  auto authority = req.param("authorityId");
  for (const auto& m : text_modules()) {
    auto text = req.form(m).value_or("");
    if (text.empty()) continue;
    auto saved = c.catalog.put_specialisation(
        *e, {leika, authority, m, text, req.form(m + "_ersetzen").has_value()});
    if (!saved) {
      if (web::is_refusal(saved.error())) return c.pages.error(req, saved.error());
      return texts_page(c, req, &saved.error(), 422);
    }
  }
  web::flash(req, c.t(req, "editor.saved"));
  return Response::redirect(fmt::format("/redaktion/leistungen/{}/{}", leika, authority));
}

// The catalog's errors ("authority.postcode: must have five digits") as the form shows
// them: under the form's field names, in the person's language.
core::Error for_form(const Ctx& c, const Request& req, core::Error e) {
  e.message = c.t(req, "errors.summary");
  for (auto& f : e.fields) {
    auto dot = f.field.rfind('.');
    if (dot != std::string::npos) f.field = f.field.substr(dot + 1);
    if (f.field == "types" || f.field.starts_with("documents[")) f.field = "documents";
    if (f.field == "authorityId") f.field = "owner";
    auto key = "errors." + f.field;
    auto text = c.t(req, key);
    f.message = text == fmt::format("catalog.{}", key) ? c.t(req, "errors.generic") : text;
  }
  return e;
}

Response render_form(const Ctx& c, Request& req, const std::string& heading,
                     const std::string& intro, const std::string& action,
                     const std::vector<web::Field>& fields, const core::Error* error, int status,
                     View model = {}) {
  req.csrf_token();
  model.set("title", heading);
  model.set("heading", heading);
  if (!intro.empty()) model.set("intro", intro);
  model.set("action", action);
  model.set("form",
            web::form_view(fields, error, c.pages.catalog().text(req.locale, "form.error_title")));
  return c.pages.render(req, "catalog/form", std::move(model), status);
}

std::vector<web::Field> authority_fields(const Ctx& c, const Request& req, const Authority& a) {
  auto f = [&](const char* name, std::string value, const char* autocomplete = "",
               bool multiline = false) {
    return web::Field{.name = name,
                      .label = c.t(req, fmt::format("authority.{}", name)),
                      .value = std::move(value),
                      .autocomplete = autocomplete,
                      .required = std::string_view(name) == "name",
                      .multiline = multiline};
  };
  return {f("name", a.name, "organization"),
          f("street", a.street, "street-address"),
          f("postcode", a.postcode, "postal-code"),
          f("city", a.city, "address-level2"),
          f("postalAddress", a.postal_address),
          f("phone", a.phone, "tel"),
          f("email", a.email, "email"),
          f("website", a.website, "url"),
          f("openingHours", a.opening_hours, "", true),
          f("accessibility", a.accessibility, "", true)};
}

Response authority_form(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  bool is_new = !req.params.contains("id");
  std::optional<Authority> a;
  if (is_new) {
    if (!e->state_wide)
      return c.pages.error(req, core::Error::forbidden("only the state's editors add authorities"));
    a = Authority{};
  } else {
    a = c.catalog.authority(req.param("id"));
    if (!a) return c.pages.error(req, core::Error::not_found("no such authority"));
    if (!may_edit(*e, *a))
      return c.pages.error(req, core::Error::forbidden("not an editor of this authority"));
  }
  auto action = is_new ? std::string("/redaktion/behoerden/neu") : "/redaktion/behoerden/" + a->id;
  auto fields = [&] {
    auto f = authority_fields(c, req, *a);
    if (is_new) {
      f.insert(f.begin(), {{.name = "id",
                            .label = c.t(req, "authority.id"),
                            .value = a->id,
                            .hint = c.t(req, "authority.id_hint"),
                            .required = true},
                           {.name = "region",
                            .label = c.t(req, "resp.region"),
                            .value = a->region,
                            .hint = c.t(req, "resp.region_hint"),
                            .required = true}});
    }
    return f;
  };
  if (req.method == web::Method::post) {
    auto v = [&](const char* k) { return req.form(k).value_or(""); };
    if (is_new) {
      a->id = v("id");
      a->region = v("region");
    }
    // The heading keeps the stored name while the form shows what was typed (perhaps nothing).
    auto heading = is_new ? c.t(req, "authority.new") : a->name;
    a->name = v("name");
    a->street = v("street");
    a->postcode = v("postcode");
    a->city = v("city");
    a->postal_address = v("postalAddress");
    a->phone = v("phone");
    a->email = v("email");
    a->website = v("website");
    a->opening_hours = v("openingHours");
    a->accessibility = v("accessibility");
    core::Status saved;
    if (is_new && !a->id.empty() && c.catalog.authority(a->id)) {
      saved = core::fail(core::Error::invalid("authority.id", "taken"));
    } else {
      saved = c.catalog.put_authority(*e, *a);
    }
    if (!saved) {
      if (web::is_refusal(saved.error())) return c.pages.error(req, saved.error());
      auto shown = for_form(c, req, saved.error());
      return render_form(c, req, heading, "", action, fields(), &shown, 422);
    }
    web::flash(req, c.t(req, "editor.saved"));
    return Response::redirect("/redaktion/behoerden/" + a->id);
  }
  if (is_new) {
    return render_form(c, req, c.t(req, "authority.new"), c.t(req, "authority.intro"), action,
                       fields(), nullptr, 200);
  }
  return render_form(c, req, a->name, c.t(req, "authority.intro"), "/redaktion/behoerden/" + a->id,
                     authority_fields(c, req, *a), nullptr, 200);
}

std::vector<web::Field> service_fields(const Ctx& c, const Request& req, const Service& s,
                                       bool is_new) {
  std::string synonyms;
  for (const auto& syn : s.synonyms) synonyms += (synonyms.empty() ? "" : "\n") + syn;
  std::vector<web::Field> out;
  if (is_new) {
    out.push_back({.name = "leikaKey",
                   .label = c.t(req, "osform.leikaKey"),
                   .value = s.leika_key,
                   .hint = c.t(req, "osform.leikaKey_hint"),
                   .required = true,
                   .inputmode = "numeric"});
  }
  out.push_back(
      {.name = "name", .label = c.t(req, "service.name"), .value = s.name, .required = true});
  out.push_back({.name = "synonyms",
                 .label = c.t(req, "service.synonyms"),
                 .value = synonyms,
                 .hint = c.t(req, "service.synonyms_hint"),
                 .multiline = true});
  Texts t = s.texts;
  for (const auto& m : text_modules()) {
    out.push_back({.name = m,
                   .label = c.t(req, "modules." + m),
                   .value = *module_of(t, m),
                   .multiline = true});
  }
  return out;
}

// Topics, life situations and the level where the law puts the service.
View service_extras(const Ctx& c, const Request& req, const Service& s, bool with_responsibilities,
                    const std::string& resp_error) {
  View model;
  std::vector<std::pair<std::string, std::string>> topics, lifes;
  for (const auto& cat : c.catalog.categories()) {
    (cat.kind == "topic" ? topics : lifes).emplace_back(cat.key, cat.name);
  }
  model.set_list(
      "groups",
      {web::choices_view("level", c.t(req, "service.level"), "level", "radio",
                         {{"municipality", c.t(req, "service.level_municipality")},
                          {"district", c.t(req, "service.level_district")},
                          {"state", c.t(req, "service.level_state")}},
                         {s.level}, nullptr),
       web::choices_view("topics", c.t(req, "service.topics"), "topics", "checkbox", topics,
                         s.topics, nullptr),
       web::choices_view("lifeSituations", c.t(req, "service.life_situations"), "lifeSituations",
                         "checkbox", lifes, s.life_situations, nullptr)});
  if (with_responsibilities) {
    model.set("responsibilities_section", true);
    model.set("resp_action", "/redaktion/leistungen/" + s.leika_key + "/zustaendigkeit");
    if (!resp_error.empty()) model.set("resp_error", resp_error);
    model.set_list("responsibilities", {});
    for (const auto& r : c.catalog.responsibilities(s.leika_key)) {
      View v;
      auto region = c.catalog.region(r.region);
      auto authority = c.catalog.authority(r.authority_id);
      v.set("region", region ? region->display_name() : r.region);
      v.set("authority", authority ? authority->name : r.authority_id);
      model.add("responsibilities", std::move(v));
    }
    model.set_list("all_authorities", {});
    for (const auto& a : c.catalog.authorities()) {
      View v;
      v.set("id", a.id);
      v.set("name", a.name);
      model.add("all_authorities", std::move(v));
    }
  }
  return model;
}

Response service_form(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  bool is_new = !req.params.contains("leikaKey");
  Service s;
  s.level = "municipality";
  if (!is_new) {
    auto found = c.catalog.service(req.param("leikaKey"));
    if (!found) return c.pages.error(req, core::Error::not_found("no such service"));
    s = *found;
  }
  if (!e->state_wide)
    return c.pages.error(req, core::Error::forbidden("only the state's editors edit services"));
  auto action =
      is_new ? std::string("/redaktion/leistungen/neu") : "/redaktion/leistungen/" + s.leika_key;
  if (req.method == web::Method::post) {
    if (is_new) s.leika_key = req.form("leikaKey").value_or("");
    s.name = req.form("name").value_or("");
    s.synonyms = editor_text::lines_of(req.form("synonyms").value_or(""));
    for (const auto& m : text_modules()) *module_of(s.texts, m) = req.form(m).value_or("");
    s.level = req.form("level").value_or(s.level);
    s.topics.clear();
    s.life_situations.clear();
    for (const auto& [k, v] : web::parse_urlencoded(req.body)) {
      if (k == "topics") s.topics.push_back(v);
      if (k == "lifeSituations") s.life_situations.push_back(v);
    }
    core::Status saved;
    if (is_new && c.catalog.service(s.leika_key)) {
      saved = core::fail(core::Error::invalid("service.leikaKey", "exists"));
    } else {
      saved = c.catalog.put_service(*e, s);
    }
    if (!saved) {
      auto shown = for_form(c, req, saved.error());
      if (is_new && c.catalog.service(s.leika_key)) {
        for (auto& f : shown.fields) {
          if (f.field == "leikaKey") f.message = c.t(req, "errors.leikaKey_taken");
        }
      }
      return render_form(c, req, is_new ? c.t(req, "service.new") : s.name, "", action,
                         service_fields(c, req, s, is_new), &shown, 422,
                         service_extras(c, req, s, false, ""));
    }
    web::flash(req, c.t(req, "editor.saved"));
    return Response::redirect("/redaktion/leistungen/" + s.leika_key);
  }
  return render_form(c, req, is_new ? c.t(req, "service.new") : s.name, c.t(req, "service.intro"),
                     action, service_fields(c, req, s, is_new), nullptr, 200,
                     service_extras(c, req, s, !is_new, ""));
}

Response responsibility_submit(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  auto s = c.catalog.service(req.param("leikaKey"));
  if (!s) return c.pages.error(req, core::Error::not_found("no such service"));
  if (!e->state_wide)
    return c.pages.error(req,
                         core::Error::forbidden("only the state's editors set responsibilities"));
  auto region = req.form("region").value_or("");
  auto saved =
      c.catalog.put_responsibility(*e, {s->leika_key, region, req.form("authority").value_or("")});
  if (!saved) {
    auto model = service_extras(c, req, *s, true, c.t(req, "errors.region"));
    return render_form(c, req, s->name, "", "/redaktion/leistungen/" + s->leika_key,
                       service_fields(c, req, *s, false), nullptr, 422, std::move(model));
  }
  web::flash(req, c.t(req, "editor.saved"));
  return Response::redirect("/redaktion/leistungen/" + s->leika_key);
}

Response online_service_form(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  bool is_new = !req.params.contains("id");
  OnlineService os;
  if (!is_new) {
    auto found = c.catalog.online_service(req.param("id"));
    if (!found) return c.pages.error(req, core::Error::not_found("no such online service"));
    os = *found;
  }
  if (!is_new && !c.catalog.may_edit(*e, os))
    return c.pages.error(req, core::Error::forbidden("not an editor of this online service"));
  auto own = own_authorities(c, *e);
  core::Error problems{core::ErrorCode::invalid_input, c.t(req, "errors.summary"), {}, {}};
  std::string fee_text = editor_text::format_fee(os.config.fee_cents);
  std::string unit_fee_text = os.config.fee_per_unit_cents > 0
                                  ? editor_text::format_fee(os.config.fee_per_unit_cents)
                                  : std::string();
  std::string docs_text = editor_text::format_documents(os.config.documents);
  if (req.method == web::Method::post) {
    auto v = [&](const char* k) { return req.form(k).value_or(""); };
    os.name = v("name");
    os.leika_key = v("leikaKey");
    os.owner = v("owner");
    os.config.steps = editor_text::lines_of(v("steps"));
    os.config.min_level = v("minLevel");
    os.config.written_form = req.form("writtenForm").has_value();
    os.config.guest_access = req.form("guestAccess").has_value();
    os.config.fee_unit_field = v("feeUnitField");
    unit_fee_text = v("feePerUnit");
    if (auto fee = editor_text::parse_fee(unit_fee_text)) {
      os.config.fee_per_unit_cents = *fee;
    } else {
      problems.and_field("feePerUnit", c.t(req, "errors.fee"));
    }
    for (auto [field, target] : {std::pair{"draftDays", &os.config.draft_days},
                                 std::pair{"reminderDays", &os.config.reminder_days}}) {
      if (v(field).empty()) continue;  // not sent: stays as it is
      if (auto days = editor_text::parse_days(v(field))) {
        *target = *days;
      } else {
        problems.and_field(field, c.t(req, "errors.retentionDays"));
      }
    }
    os.config.confirmation_text = v("confirmationText");
    os.config.external_url = v("externalUrl");
    os.config.form = v("form");
    if (auto version = editor_text::parse_days(v("formVersion"));
        version || v("formVersion").empty()) {
      os.config.form_version = version.value_or(0);
    } else {
      problems.and_field("formVersion", c.t(req, "errors.formVersion"));
    }
    os.config.languages = editor_text::split(v("languages"), ',');
    std::erase(os.config.languages, "");
    fee_text = v("fee");
    if (auto fee = editor_text::parse_fee(fee_text)) {
      os.config.fee_cents = *fee;
    } else {
      problems.and_field("fee", c.t(req, "errors.fee"));
    }
    if (auto days = editor_text::parse_days(v("retentionDays"))) {
      os.config.retention_days = *days;
    } else {
      problems.and_field("retentionDays", c.t(req, "errors.retentionDays"));
    }
    docs_text = v("documents");
    if (auto documents = editor_text::parse_documents(docs_text)) {
      os.config.documents = std::move(*documents);
    } else {
      problems.and_field("documents", c.t(req, "errors.documents"));
    }
    if (!e->state_wide && os.owner.empty()) problems.and_field("owner", c.t(req, "errors.owner"));
    if (problems.fields.empty()) {
      auto saved = c.catalog.put_online_service(*e, os);
      if (saved) {
        web::flash(req, c.t(req, "editor.saved"));
        return Response::redirect("/redaktion/online-dienste/" + saved->id);
      }
      if (web::is_refusal(saved.error())) return c.pages.error(req, saved.error());
      problems = for_form(c, req, saved.error());
    }
  }
  auto f = [&](const char* name, std::string value, bool multiline = false, bool required = false) {
    return web::Field{.name = name,
                      .label = c.t(req, fmt::format("osform.{}", name)),
                      .value = std::move(value),
                      .hint = c.t(req, fmt::format("osform.{}_hint", name)),
                      .required = required,
                      .multiline = multiline};
  };
  std::string steps, languages;
  for (const auto& st : os.config.steps) steps += (steps.empty() ? "" : "\n") + st;
  for (const auto& l : os.config.languages) languages += (languages.empty() ? "" : ", ") + l;
  std::vector<web::Field> fields = {
      f("name", os.name, false, true),
      f("leikaKey", os.leika_key, false, true),
      f("steps", steps, true),
      f("documents", docs_text, true),
      f("fee", fee_text),
      f("feePerUnit", unit_fee_text),
      f("feeUnitField", os.config.fee_unit_field),
      f("draftDays", std::to_string(os.config.draft_days)),
      f("reminderDays", std::to_string(os.config.reminder_days)),
      f("retentionDays", std::to_string(os.config.retention_days)),
      f("languages", languages),
      f("confirmationText", os.config.confirmation_text, true),
      f("externalUrl", os.config.external_url),
      f("form", os.config.form),
      f("formVersion",
        os.config.form_version > 0 ? std::to_string(os.config.form_version) : std::string())};
  req.csrf_token();
  View model;
  auto heading = is_new ? c.t(req, "osform.new") : os.name;
  model.set("title", heading);
  model.set("heading", heading);
  model.set("action", is_new ? std::string("/redaktion/online-dienste/neu")
                             : "/redaktion/online-dienste/" + os.id);
  bool has_problems = !problems.fields.empty();
  model.set("form", web::form_view(fields, has_problems ? &problems : nullptr,
                                   c.pages.catalog().text(req.locale, "form.error_title")));
  for (const auto& p : problems.fields) {
    if (p.field == "owner") model.set("owner_error", p.message);
  }
  model.set_list("owners", {});
  if (e->state_wide) {
    View v;
    v.set("id", "");
    v.set("name", c.t(req, "osform.state_owner"));
    v.set("selected", os.owner.empty());
    model.add("owners", std::move(v));
  }
  for (const auto& a : own) {
    View v;
    v.set("id", a.id);
    v.set("name", a.name);
    v.set("selected", os.owner == a.id);
    model.add("owners", std::move(v));
  }
  model.set_list("levels", {});
  for (const char* l : {"basic", "low", "substantial", "high"}) {
    View v;
    v.set("id", l);
    v.set("name", c.t(req, fmt::format("levels.{}", l)));
    v.set("selected", os.config.min_level == l);
    model.add("levels", std::move(v));
  }
  model.set("written_form", os.config.written_form);
  model.set("guest_access", os.config.guest_access);
  return c.pages.render(req, "catalog/online_service_form", std::move(model),
                        has_problems ? 422 : 200);
}

Response online_services_page(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  req.csrf_token();
  View model;
  model.set("title", c.t(req, "online.title"));
  auto own = own_authorities(c, *e);
  model.set_list("items", {});
  for (const auto& os : c.catalog.online_services()) {
    View v;
    v.set("id", os.id);
    v.set("name", os.name);
    v.set("state", c.t(req, "states." + os.state));
    v.set("version", std::to_string(os.version));
    bool owner = os.owner.empty() ? e->state_wide
                                  : std::any_of(own.begin(), own.end(),
                                                [&](const auto& a) { return a.id == os.owner; });
    if (owner && (os.state == "draft" || os.state == "test")) {
      auto next = os.state == "draft" ? "test" : "production";
      v.set("next_state", next);
      v.set("next_label", c.t(req, fmt::format("online.to_{}", next)));
    }
    std::vector<View> adoptable;
    if (os.state == "production") {
      for (const auto& a : own) {
        if (std::find(os.adopted_by.begin(), os.adopted_by.end(), a.id) != os.adopted_by.end()) {
          continue;
        }
        View av;
        av.set("id", a.id);
        av.set("name", a.name);
        adoptable.push_back(std::move(av));
      }
    }
    v.set("has_adoptable", !adoptable.empty());
    v.set_list("adoptable", std::move(adoptable));
    model.add("items", std::move(v));
  }
  return c.pages.render(req, "catalog/online_services", std::move(model));
}

Response change_state(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  auto done = c.catalog.publish(*e, req.param("id"), req.form("state").value_or(""));
  if (!done) {
    if (web::is_refusal(done.error())) return c.pages.error(req, done.error());
    web::flash(req, done.error().message);
  } else {
    web::flash(req, c.t(req, "editor.saved"));
  }
  return Response::redirect("/redaktion/online-dienste");
}

Response adopt(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  auto done = c.catalog.adopt(*e, req.param("id"), req.form("authority").value_or(""));
  if (!done) {
    if (web::is_refusal(done.error())) return c.pages.error(req, done.error());
    web::flash(req, done.error().message);
  } else {
    web::flash(req, c.t(req, "online.adopted"));
  }
  return Response::redirect("/redaktion/online-dienste");
}

}  // namespace

void register_editor_pages(web::Router& router, const web::Pages& pages, Catalog& catalog,
                           EditorPageOptions options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, catalog, std::move(options)});
  router.get("/redaktion", [c](Request& req) { return overview(*c, req); });
  router.get("/redaktion/leistungen/{leikaKey}/{authorityId}",
             [c](Request& req) { return texts_page(*c, req, nullptr, 200); });
  router.post("/redaktion/leistungen/{leikaKey}/{authorityId}",
              [c](Request& req) { return texts_submit(*c, req); });
  router.get("/redaktion/online-dienste",
             [c](Request& req) { return online_services_page(*c, req); });
  router.get("/redaktion/online-dienste/neu",
             [c](Request& req) { return online_service_form(*c, req); });
  router.post("/redaktion/online-dienste/neu",
              [c](Request& req) { return online_service_form(*c, req); });
  router.get("/redaktion/online-dienste/{id}",
             [c](Request& req) { return online_service_form(*c, req); });
  router.post("/redaktion/online-dienste/{id}",
              [c](Request& req) { return online_service_form(*c, req); });
  router.get("/redaktion/behoerden/neu", [c](Request& req) { return authority_form(*c, req); });
  router.post("/redaktion/behoerden/neu", [c](Request& req) { return authority_form(*c, req); });
  router.get("/redaktion/behoerden/{id}", [c](Request& req) { return authority_form(*c, req); });
  router.post("/redaktion/behoerden/{id}", [c](Request& req) { return authority_form(*c, req); });
  router.get("/redaktion/leistungen/neu", [c](Request& req) { return service_form(*c, req); });
  router.post("/redaktion/leistungen/neu", [c](Request& req) { return service_form(*c, req); });
  router.post("/redaktion/leistungen/{leikaKey}/zustaendigkeit",
              [c](Request& req) { return responsibility_submit(*c, req); });
  router.get("/redaktion/leistungen/{leikaKey}",
             [c](Request& req) { return service_form(*c, req); });
  router.post("/redaktion/leistungen/{leikaKey}",
              [c](Request& req) { return service_form(*c, req); });
  router.post("/redaktion/online-dienste/{id}/status",
              [c](Request& req) { return change_state(*c, req); });
  router.post("/redaktion/online-dienste/{id}/nachnutzen",
              [c](Request& req) { return adopt(*c, req); });
}

}  // namespace mvsp::catalog
