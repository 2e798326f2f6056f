// The editor's pages for forms (/redaktion/formulare): forms are built without code, page
// by page and question by question; conditions and routes are picked from lists (an
// expression can be typed where lists do not reach). Every change is saved to the form's
// draft, which the store checks as a whole; a draft is previewed, compared with the
// published version and published as the next version. Forms travel as JSON.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/forms.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <regex>

#include "logic.hpp"
#include "pages.hpp"

namespace mvsp::forms {
namespace {

using web::Request;
using web::Response;
using web::View;

struct Ctx {
  const web::Pages& pages;
  Forms& forms;
  catalog::Catalog& catalog;
  PageOptions options;

  std::string t(const Request& req, std::string_view key) const {
    return pages.catalog().text(req.locale, fmt::format("forms.editor.{}", key));
  }
};

std::optional<catalog::Editor> editor_of(const Ctx& c, Request& req, Response& refused) {
  if (!req.session || req.session->account_id.empty()) {
    refused = web::to_login(req);
    return std::nullopt;
  }
  auto e = c.options.editor ? c.options.editor(req) : std::nullopt;
  if (!e) refused = c.pages.error(req, core::Error::forbidden("not an editor"));
  return e;
}

std::string field(const Request& req, std::string_view name) {
  return req.form(name).value_or("");
}

std::string form_url(std::string_view key) {
  return fmt::format("/redaktion/formulare/{}", key);
}
std::string page_url(std::string_view key, std::string_view page) {
  return fmt::format("/redaktion/formulare/{}/seiten/{}", key, page);
}
std::string question_url(std::string_view key, std::string_view page, std::string_view q) {
  return fmt::format("/redaktion/formulare/{}/seiten/{}/fragen/{}", key, page, q);
}

// The version an editor works on: the draft, or a new draft from the latest published.
std::optional<FormVersion> working_version(const Ctx& c, std::string_view key) {
  if (auto d = c.forms.draft(key)) return d;
  return c.forms.published(key);
}

// The form, for an editor who may change it; the refusal otherwise.
std::optional<FormVersion> editable(const Ctx& c, Request& req, const catalog::Editor& e,
                                    Response& refused) {
  auto v = working_version(c, req.param("key"));
  if (!v) {
    refused = c.pages.error(req, 404);
    return std::nullopt;
  }
  if (!c.forms.may_edit(e, v->owner)) {
    refused = c.pages.error(req, core::Error::forbidden("not an editor of this form"));
    return std::nullopt;
  }
  return v;
}

// The editor and the form of the address, for an editor who may change it; otherwise
// nothing, and `refused` says why (the login, 403, 404).
std::pair<std::optional<catalog::Editor>, std::optional<FormVersion>> editor_and_form(
    const Ctx& c, Request& req, Response& refused) {
  auto e = editor_of(c, req, refused);
  if (!e) return {};
  auto v = editable(c, req, *e, refused);
  if (!v) return {};
  return {std::move(e), std::move(v)};
}

// ---- conditions picked from lists ----

const std::vector<std::pair<std::string, std::string>>& operators() {
  static const std::vector<std::pair<std::string, std::string>> kOps = {
      {"=", "gleich"},      {"!=", "ungleich"},           {">", "größer als"},
      {"<", "kleiner als"}, {"filled", "ist ausgefüllt"}, {"empty", "ist nicht ausgefüllt"}};
  return kOps;
}

// The questions a condition may read: every question of the form with an answer of its
// own (compound questions by their parts), with their labels.
std::vector<std::pair<std::string, std::string>> condition_names(const Form& form,
                                                                 const Question* group) {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const Question& q, const std::string& prefix) {
    if (q.type == QuestionType::info || q.type == QuestionType::group ||
        q.type == QuestionType::file)
      return;
    auto label = q.label.empty() ? q.id : q.label;
    if (q.type == QuestionType::name || q.type == QuestionType::address ||
        q.type == QuestionType::iban)
      return;
    out.emplace_back(prefix + q.id, label);
  };
  if (group) {
    for (const auto& m : group->questions) add(m, "");
  }
  for (const auto& p : form.pages) {
    for (const auto& q : p.questions) add(q, "");
  }
  return out;
}

// The longest text the editor's pages hand to std::regex, which recurses per character:
// values of conditions, stored simple conditions, field paths of errors.
constexpr std::size_t kMaxMatched = 200;

// A literal for `value` as the question's answers are compared.
std::optional<std::string> literal_for(const Question* q, const std::string& value) {
  if (!q || value.size() > kMaxMatched) return std::nullopt;
  switch (q->type) {
    case QuestionType::yes_no:
    case QuestionType::declaration:
      if (value == "ja" || value == "true") return "true";
      if (value == "nein" || value == "false") return "false";
      return std::nullopt;
    case QuestionType::integer:
    case QuestionType::decimal:
    case QuestionType::money:
    case QuestionType::computed: {
      auto v = value;
      std::replace(v.begin(), v.end(), ',', '.');
      static const std::regex kNumber("-?[0-9]+(\\.[0-9]+)?");
      if (!std::regex_match(v, kNumber)) return std::nullopt;
      return v;
    }
    case QuestionType::date: {
      static const std::regex kIso("[0-9]{4}-[0-9]{2}-[0-9]{2}");
      static const std::regex kGerman("([0-9]{1,2})\\.([0-9]{1,2})\\.([0-9]{4})");
      std::smatch m;
      if (std::regex_match(value, kIso)) return "date('" + value + "')";
      if (std::regex_match(value, m, kGerman))
        return fmt::format("date('{}-{:0>2}-{:0>2}')", m[3].str(), m[2].str(), m[1].str());
      return std::nullopt;
    }
    default:
      if (value.find('\'') == std::string::npos) return "'" + value + "'";
      if (value.find('"') == std::string::npos) return "\"" + value + "\"";
      return std::nullopt;
  }
}

const Question* find_name(const Form& form, const Question* group, std::string_view name) {
  if (group) {
    for (const auto& m : group->questions) {
      if (m.id == name) return &m;
    }
  }
  return form.question(name);
}

// The expression the condition fields of a page say, or an error for the field.
std::variant<std::string, core::FieldError> condition_from(const Request& req, const Form& form,
                                                           const Question* group,
                                                           const std::string& prefix) {
  auto expression = field(req, prefix + "_ausdruck");
  if (!expression.empty()) return expression;
  auto name = field(req, prefix + "_frage");
  if (name.empty()) return std::string();
  auto op = field(req, prefix + "_op");
  if (op == "filled") return fmt::format("filled({})", name);
  if (op == "empty") return fmt::format("not filled({})", name);
  auto literal = literal_for(find_name(form, group, name), field(req, prefix + "_wert"));
  if (!literal)
    return core::FieldError{prefix + "_wert", "Dieser Wert passt nicht zur gewählten Frage."};
  if (std::none_of(operators().begin(), operators().end(),
                   [&](const auto& o) { return o.first == op; }))
    return core::FieldError{prefix + "_op", "Bitte wählen Sie einen Vergleich."};
  return fmt::format("{} {} {}", name, op, *literal);
}

// The view of the condition fields, filled from `expression` where the lists can show it.
View condition_view(const Form& form, const Question* group, const std::string& prefix,
                    const std::string& expression, const std::string& legend) {
  View v;
  v.set("prefix", prefix);
  v.set("legend", legend);
  std::string name, op, value;
  static const std::regex kSimple(R"(^([a-z][a-z0-9_]*) (=|!=|>|<) (.+)$)");
  static const std::regex kFilled(R"(^(not )?filled\(([a-z][a-z0-9_]*)\)$)");
  std::smatch m;
  bool shown = expression.empty();
  if (expression.size() > kMaxMatched) {
    // shown as an expression
  } else if (std::regex_match(expression, m, kFilled)) {
    name = m[2];
    op = m[1].matched ? "empty" : "filled";
    shown = true;
  } else if (std::regex_match(expression, m, kSimple)) {
    name = m[1];
    op = m[2];
    value = m[3];
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"'))
      value = value.substr(1, value.size() - 2);
    if (value.starts_with("date('")) value = value.substr(6, 10);
    if (value == "true") value = "ja";
    if (value == "false") value = "nein";
    shown = true;
  }
  v.set_list("names", {});
  for (const auto& [id, label] : condition_names(form, group)) {
    View o;
    o.set("value", id);
    o.set("label", fmt::format("{} ({})", label, id));
    o.set("selected", shown && id == name);
    v.add("names", std::move(o));
  }
  v.set_list("ops", {});
  for (const auto& [id, label] : operators()) {
    View o;
    o.set("value", id);
    o.set("label", label);
    o.set("selected", shown && id == op);
    v.add("ops", std::move(o));
  }
  v.set("value", shown ? value : "");
  v.set("expression", shown ? "" : expression);
  return v;
}

// ---- saving a change ----

// The store's errors, for the page: each with a readable place ("Seite 2, Frage 1: …").
core::Error readable(const Ctx& c, const Request& req, const Form& form, core::Error e) {
  e.message = c.t(req, "not_saved");
  static const std::regex kPageQuestion(
      R"(^pages\[(\d+)\](?:\.questions\[(\d+)\])?(?:\.questions\[(\d+)\])?\.?(.*)$)");
  for (auto& f : e.fields) {
    std::smatch m;
    std::string where;
    if (f.field.size() <= kMaxMatched && std::regex_match(f.field, m, kPageQuestion)) {
      auto pi = std::stoul(m[1]);
      if (pi < form.pages.size()) where = fmt::format("Seite „{}“", form.pages[pi].title);
      if (m[2].matched && pi < form.pages.size()) {
        auto qi = std::stoul(m[2]);
        if (qi < form.pages[pi].questions.size())
          where += fmt::format(", Frage „{}“", form.pages[pi].questions[qi].label.empty()
                                                   ? form.pages[pi].questions[qi].id
                                                   : form.pages[pi].questions[qi].label);
      }
      if (m[4].length() > 0) where += fmt::format(" ({})", m[4].str());
    } else {
      where = f.field;
    }
    f.message = where.empty() ? f.message : where + ": " + f.message;
    f.field = "";
  }
  return e;
}

// Applies `edit` to the editor's version of the form and saves it as the draft.
template <typename Edit>
std::optional<core::Error> change(const Ctx& c, const Request& req, const catalog::Editor& e,
                                  FormVersion& v, Edit&& edit) {
  if (auto problem = edit(v.form)) return problem;
  auto saved = c.forms.save_draft(e, v.owner, to_json(v.form));
  if (!saved) {
    if (saved.error().code != core::ErrorCode::invalid_input) return saved.error();
    return readable(c, req, v.form, saved.error());
  }
  v = std::move(*saved);
  return std::nullopt;
}

Response refusal_or(const Ctx& c, Request& req, const core::Error& e,
                    const std::function<Response()>& page) {
  if (web::is_refusal(e)) return c.pages.error(req, e);
  return page();
}

View error_view(const core::Error* error, const std::string& title) {
  View v;
  if (!error) return v;
  v.set("has_errors", true);
  v.set("error_title", title);
  v.set_list("errors", {});
  for (const auto& f : error->fields) {
    View item;
    if (!f.field.empty())
      item.set("id", "feld-" + f.field);
    else
      item.set("id", false);
    item.set("message", f.message);
    v.add("errors", std::move(item));
  }
  if (error->fields.empty()) {
    View item;
    item.set("id", false);
    item.set("message", error->message);
    v.add("errors", std::move(item));
  }
  return v;
}

// A button's action, or false where the button is not there.
void set_action(View& v, const std::string& key, bool there, const std::string& action) {
  if (there)
    v.set(key, action);
  else
    v.set(key, false);
}

// ---- the list ----

Response list_page(const Ctx& c, Request& req, const core::Error* error, int status) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  View model;
  model.set("title", c.t(req, "list_title"));
  model.set_list("forms", {});
  for (const auto& f : c.forms.list()) {
    if (!c.forms.may_edit(*e, f.owner)) continue;
    View v;
    v.set("key", f.key);
    v.set("title", f.title);
    v.set("url", form_url(f.key));
    v.set("published", f.published > 0 ? std::to_string(f.published) : "–");
    v.set("draft", f.draft > 0 ? std::to_string(f.draft) : "–");
    auto owner = f.owner.empty() ? std::nullopt : c.catalog.authority(f.owner);
    v.set("owner", owner ? owner->name : c.t(req, "state"));
    model.add("forms", std::move(v));
  }
  model.set_list("owners", {});
  if (e->state_wide) {
    View state;
    state.set("id", "");
    state.set("name", c.t(req, "state"));
    model.add("owners", std::move(state));
  }
  for (const auto& a : c.catalog.authorities()) {
    if (!catalog::may_edit(*e, a)) continue;
    View o;
    o.set("id", a.id);
    o.set("name", a.name);
    o.set("selected", field(req, "owner") == a.id);
    model.add("owners", std::move(o));
  }
  model.set("new_key", field(req, "key"));
  model.set("new_title", field(req, "title"));
  model.set("errors_view", error_view(error, c.t(req, "error_title")));
  req.csrf_token();
  return c.pages.render(req, "forms/editor_list", std::move(model), status);
}

Response create(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  auto key = field(req, "key");
  if (c.forms.draft(key) || c.forms.published(key)) {
    auto err = core::Error::invalid("key", c.t(req, "key_taken"));
    return list_page(c, req, &err, 422);
  }
  Form form;
  form.key = key;
  form.title = field(req, "title");
  form.pages.push_back({.id = "seite_1",
                        .title = c.t(req, "first_page"),
                        .hint = {},
                        .questions = {},
                        .show_if = {},
                        .routes = {},
                        .exit = false,
                        .text = {}});
  auto saved = c.forms.save_draft(*e, field(req, "owner"), to_json(form));
  if (!saved) {
    auto err = saved.error();
    for (auto& f : err.fields) {
      if (f.field == "key") f.message = c.t(req, "key_rule");
    }
    return refusal_or(c, req, err, [&] { return list_page(c, req, &err, 422); });
  }
  web::flash(req, c.t(req, "created"));
  return Response::redirect(form_url(saved->key));
}

Response import(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  auto saved = c.forms.save_draft(*e, field(req, "owner"), field(req, "json"));
  if (!saved) {
    auto err = saved.error();
    err.message = c.t(req, "import_failed");
    for (auto& f : err.fields) {
      f.message = f.field.empty() ? f.message : f.field + ": " + f.message;
      f.field = "json";
    }
    return refusal_or(c, req, err, [&] { return list_page(c, req, &err, 422); });
  }
  web::flash(req, c.t(req, "imported"));
  return Response::redirect(form_url(saved->key));
}

// ---- one form ----

Response form_page(const Ctx& c, Request& req, const core::Error* error, int status) {
  Response refused;
  auto [e, v] = editor_and_form(c, req, refused);
  if (!v) return refused;
  View model;
  model.set("title", v->form.title);
  model.set("key", v->key);
  model.set("form_title", v->form.title);
  model.set("intro", v->form.intro);
  model.set("xml_namespace", v->form.outputs.xml_namespace);
  model.set("xml_root", v->form.outputs.xml_root);
  model.set("version", std::to_string(v->version));
  model.set("is_draft", v->state == "draft");
  model.set("base", form_url(v->key));
  auto published = c.forms.published(v->key);
  if (published && v->state == "draft") {
    model.set_list("changes", {});
    for (auto& line : differences(published->form, v->form))
      model.add("changes", View::of(std::move(line)));
    model.set("has_changes", true);
  }
  model.set_list("pages", {});
  for (std::size_t i = 0; i < v->form.pages.size(); ++i) {
    const auto& p = v->form.pages[i];
    View pv;
    pv.set("id", p.id);
    pv.set("title", p.title);
    pv.set("url", page_url(v->key, p.id));
    pv.set("number", std::to_string(i + 1));
    pv.set("count", std::to_string(p.questions.size()));
    pv.set("exit", p.exit);
    pv.set("conditional", !p.show_if.empty());
    set_action(pv, "up", i > 0, "hoch:" + p.id);
    set_action(pv, "down", i + 1 < v->form.pages.size(), "runter:" + p.id);
    set_action(pv, "remove", v->form.pages.size() > 1, "entfernen:" + p.id);
    model.add("pages", std::move(pv));
  }
  model.set("errors_view", error_view(error, c.t(req, "error_title")));
  req.csrf_token();
  return c.pages.render(req, "forms/editor_form", std::move(model), status);
}

// Moves or removes the item `id` of `items` by `what` ("hoch", "runter", "entfernen").
template <typename T>
bool rearrange(std::vector<T>& items, const std::string& what, const std::string& id) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& x) { return x.id == id; });
  if (it == items.end()) return false;
  if (what == "hoch" && it != items.begin())
    std::iter_swap(it, it - 1);
  else if (what == "runter" && it + 1 != items.end())
    std::iter_swap(it, it + 1);
  else if (what == "entfernen")
    items.erase(it);
  else
    return false;
  return true;
}

Response form_submit(const Ctx& c, Request& req) {
  Response refused;
  auto [e, v] = editor_and_form(c, req, refused);
  if (!v) return refused;
  auto action = field(req, "aktion");
  auto problem = change(c, req, *e, *v, [&](Form& form) -> std::optional<core::Error> {
    if (action.empty()) {
      form.title = field(req, "title");
      form.intro = field(req, "intro");
      form.outputs.xml_namespace = field(req, "xml_namespace");
      form.outputs.xml_root = field(req, "xml_root");
      return std::nullopt;
    }
    if (action == "seite_neu") {
      auto id = field(req, "page_id");
      form.pages.push_back({.id = id,
                            .title = field(req, "page_title"),
                            .hint = {},
                            .questions = {},
                            .show_if = {},
                            .routes = {},
                            .exit = false,
                            .text = {}});
      return std::nullopt;
    }
    auto colon = action.find(':');
    if (colon == std::string::npos ||
        !rearrange(form.pages, action.substr(0, colon), action.substr(colon + 1)))
      return core::Error::invalid("aktion", c.t(req, "unknown_action"));
    return std::nullopt;
  });
  if (problem)
    return refusal_or(c, req, *problem, [&] { return form_page(c, req, &*problem, 422); });
  web::flash(req, c.t(req, "saved"));
  return Response::redirect(form_url(v->key));
}

Response publish(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  auto published = c.forms.publish(*e, req.param("key"));
  if (!published) return c.pages.error(req, published.error());
  web::flash(req, fmt::format(fmt::runtime(c.t(req, "published")), published->version));
  return Response::redirect(form_url(published->key));
}

Response discard(const Ctx& c, Request& req) {
  Response refused;
  auto e = editor_of(c, req, refused);
  if (!e) return refused;
  auto key = req.param("key");
  auto done = c.forms.discard_draft(*e, key);
  if (!done) return c.pages.error(req, done.error());
  web::flash(req, c.t(req, "discarded"));
  return Response::redirect(c.forms.published(key) ? form_url(key) : "/redaktion/formulare");
}

Response export_json(const Ctx& c, Request& req) {
  Response refused;
  auto [e, v] = editor_and_form(c, req, refused);
  if (!v) return refused;
  if (auto version = req.query_param("version")) {
    int n = 0;
    std::from_chars(version->data(), version->data() + version->size(), n);
    auto p = c.forms.published(v->key, n);
    if (!p || n <= 0) return c.pages.error(req, 404);
    v = std::move(p);
  }
  Response r;
  r.body = to_json(v->form);
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Content-Disposition",
                         fmt::format("attachment; filename=\"{}-{}.json\"", v->key, v->version));
  return r;
}

Response history(const Ctx& c, Request& req) {
  Response refused;
  auto [e, v] = editor_and_form(c, req, refused);
  if (!v) return refused;
  auto all = c.forms.history(v->key);
  View model;
  model.set("title", fmt::format("{} – {}", v->form.title, c.t(req, "history")));
  model.set("form_title", v->form.title);
  model.set("base", form_url(v->key));
  model.set_list("versions", {});
  for (std::size_t i = 0; i < all.size(); ++i) {
    View h;
    h.set("version", std::to_string(all[i].version));
    h.set("state", c.t(req, all[i].state == "draft" ? "draft" : "published_state"));
    h.set("at", core::format_berlin(all[i].published_at.value_or(all[i].changed_at)));
    h.set("by", all[i].changed_by);
    h.set("export", all[i].state == "published"
                        ? fmt::format("{}/export.json?version={}", form_url(v->key), all[i].version)
                        : form_url(v->key) + "/export.json");
    h.set_list("changes", {});
    if (i + 1 < all.size()) {
      auto lines = differences(all[i + 1].form, all[i].form);
      h.set("has_changes", !lines.empty());
      for (auto& line : lines) h.add("changes", View::of(std::move(line)));
    }
    model.add("versions", std::move(h));
  }
  return c.pages.render(req, "forms/editor_history", std::move(model));
}

// ---- one page ----

Page* page_in(Form& form, std::string_view id) {
  for (auto& p : form.pages) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

View question_list(const std::vector<Question>& qs, const std::string& key, const std::string& page,
                   const std::string& prefix, const Request& req, const Ctx& c) {
  View list;
  list.set_list("items", {});
  for (std::size_t i = 0; i < qs.size(); ++i) {
    const auto& q = qs[i];
    View v;
    auto path = prefix + q.id;
    v.set("id", q.id);
    v.set("label", q.label.empty() ? (q.text.empty() ? q.id : q.text.substr(0, 60)) : q.label);
    v.set("type",
          c.pages.catalog().text(req.locale, fmt::format("forms.types.{}", type_key(q.type))));
    v.set("url", question_url(key, page, path));
    v.set("conditional", !q.show_if.empty());
    set_action(v, "up", i > 0, "hoch:" + path);
    set_action(v, "down", i + 1 < qs.size(), "runter:" + path);
    set_action(v, "remove", true, "entfernen:" + path);
    list.add("items", std::move(v));
  }
  return list;
}

View type_options(const Ctx& c, const Request& req, bool in_group) {
  View v;
  v.set_list("types", {});
  for (auto t : question_types()) {
    if (in_group && t == QuestionType::group) continue;
    View o;
    o.set("value", std::string(type_key(t)));
    o.set("label", c.pages.catalog().text(req.locale, fmt::format("forms.types.{}", type_key(t))));
    v.add("types", std::move(o));
  }
  return v;
}

Response page_page(const Ctx& c, Request& req, const core::Error* error, int status) {
  Response refused;
  auto [e, v] = editor_and_form(c, req, refused);
  if (!v) return refused;
  auto* p = page_in(v->form, req.param("page"));
  if (!p) return c.pages.error(req, 404);
  View model;
  model.set("title", fmt::format("{} – {}", p->title, v->form.title));
  model.set("form_title", v->form.title);
  model.set("form_url", form_url(v->key));
  model.set("action", page_url(v->key, p->id));
  model.set("page_title", p->title);
  model.set("hint", p->hint);
  model.set("exit", p->exit);
  model.set("text", p->text);
  model.set("condition",
            condition_view(v->form, nullptr, "bedingung", p->show_if, c.t(req, "page_condition")));
  model.set("questions", question_list(p->questions, v->key, p->id, "", req, c));
  model.set("new_question", type_options(c, req, false));
  model.set_list("routes", {});
  for (std::size_t i = 0; i < p->routes.size(); ++i) {
    View r;
    r.set("when", p->routes[i].when);
    auto* target = page_in(v->form, p->routes[i].go_to);
    r.set("target", target ? target->title : p->routes[i].go_to);
    r.set("remove", fmt::format("route_entfernen:{}", i));
    model.add("routes", std::move(r));
  }
  model.set("route_condition",
            condition_view(v->form, nullptr, "weiter", "", c.t(req, "route_condition")));
  model.set_list("targets", {});
  bool after = false;
  for (const auto& other : v->form.pages) {
    if (after) {
      View o;
      o.set("value", other.id);
      o.set("label", other.title);
      model.add("targets", std::move(o));
    }
    if (other.id == p->id) after = true;
  }
  model.set("errors_view", error_view(error, c.t(req, "error_title")));
  req.csrf_token();
  return c.pages.render(req, "forms/editor_page", std::move(model), status);
}

// The question list a path ("hunde.rasse" or "rasse") sits in, and the question's id.
std::vector<Question>* list_of(Page& p, const std::string& path, std::string& id) {
  auto dot = path.find('.');
  if (dot == std::string::npos) {
    id = path;
    return &p.questions;
  }
  auto group = path.substr(0, dot);
  id = path.substr(dot + 1);
  for (auto& q : p.questions) {
    if (q.id == group && q.type == QuestionType::group) return &q.questions;
  }
  return nullptr;
}

Response page_submit(const Ctx& c, Request& req) {
  Response refused;
  auto [e, v] = editor_and_form(c, req, refused);
  if (!v) return refused;
  auto page_id = req.param("page");
  std::string go = page_url(v->key, page_id);
  auto action = field(req, "aktion");
  auto problem = change(c, req, *e, *v, [&](Form& form) -> std::optional<core::Error> {
    auto* p = page_in(form, page_id);
    if (!p) return core::Error::not_found("no such page");
    if (action.empty()) {
      auto condition = condition_from(req, form, nullptr, "bedingung");
      if (auto* fe = std::get_if<core::FieldError>(&condition))
        return core::Error::invalid(fe->field, fe->message);
      p->title = field(req, "page_title");
      p->hint = field(req, "hint");
      p->exit = req.form("exit").has_value();
      p->text = field(req, "text");
      p->show_if = std::get<std::string>(condition);
      return std::nullopt;
    }
    if (action == "frage_neu") {
      auto type = type_from_key(field(req, "type"));
      if (!type) return core::Error::invalid("type", c.t(req, "choose_type"));
      Question q;
      q.id = field(req, "question_id");
      q.type = *type;
      q.label = field(req, "question_label");
      q.required = *type != QuestionType::info && *type != QuestionType::computed;
      if (*type == QuestionType::choice || *type == QuestionType::multiple_choice)
        q.options = {{"1", c.t(req, "first_option")}};
      if (*type == QuestionType::declaration || *type == QuestionType::info) q.text = q.label;
      if (*type == QuestionType::computed) q.value = "0";
      if (*type == QuestionType::group) {
        q.item_label = q.label;
        q.max_count = 10;
        q.questions.push_back(
            {.id = "angabe", .type = QuestionType::text, .label = c.t(req, "first_member")});
      }
      auto group = field(req, "group");
      if (!group.empty()) {
        std::string ignored;
        auto* list = list_of(*p, group + ".x", ignored);
        if (!list) return core::Error::invalid("group", c.t(req, "unknown_action"));
        list->push_back(std::move(q));
        go = question_url(v->key, page_id, group);
      } else {
        p->questions.push_back(std::move(q));
      }
      return std::nullopt;
    }
    if (action == "route_neu") {
      auto when = condition_from(req, form, nullptr, "weiter");
      if (auto* fe = std::get_if<core::FieldError>(&when))
        return core::Error::invalid(fe->field, fe->message);
      if (std::get<std::string>(when).empty())
        return core::Error::invalid("weiter_frage", c.t(req, "route_needs_condition"));
      p->routes.push_back({std::get<std::string>(when), field(req, "target")});
      return std::nullopt;
    }
    if (action.starts_with("route_entfernen:")) {
      std::size_t i = 0;
      auto n = action.substr(16);
      std::from_chars(n.data(), n.data() + n.size(), i);
      if (i >= p->routes.size()) return core::Error::invalid("aktion", c.t(req, "unknown_action"));
      p->routes.erase(p->routes.begin() + static_cast<std::ptrdiff_t>(i));
      return std::nullopt;
    }
    auto colon = action.find(':');
    if (colon == std::string::npos)
      return core::Error::invalid("aktion", c.t(req, "unknown_action"));
    auto path = action.substr(colon + 1);
    std::string id;
    auto* list = list_of(*p, path, id);
    if (!list || !rearrange(*list, action.substr(0, colon), id))
      return core::Error::invalid("aktion", c.t(req, "unknown_action"));
    if (path.find('.') != std::string::npos)
      go = question_url(v->key, page_id, path.substr(0, path.find('.')));
    return std::nullopt;
  });
  if (problem) {
    if (problem->code == core::ErrorCode::not_found) return c.pages.error(req, 404);
    return refusal_or(c, req, *problem, [&] { return page_page(c, req, &*problem, 422); });
  }
  web::flash(req, c.t(req, "saved"));
  return Response::redirect(go);
}

// ---- one question ----

std::string options_text(const std::vector<Option>& options) {
  std::string out;
  for (const auto& o : options) out += fmt::format("{}={}\n", o.value, o.label);
  return out;
}

std::optional<std::vector<Option>> options_from(const std::string& text) {
  std::vector<Option> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    auto line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) return std::nullopt;
    out.push_back({line.substr(0, eq), line.substr(eq + 1)});
  }
  return out;
}

Question* question_in(Page& p, const std::string& path) {
  std::string id;
  auto* list = list_of(p, path, id);
  if (!list) return nullptr;
  for (auto& q : *list) {
    if (q.id == id) return &q;
  }
  return nullptr;
}

const Question* group_of(Page& p, const std::string& path) {
  auto dot = path.find('.');
  if (dot == std::string::npos) return nullptr;
  return question_in(p, path.substr(0, dot));
}

Response question_page(const Ctx& c, Request& req, const core::Error* error, int status) {
  Response refused;
  auto [e, v] = editor_and_form(c, req, refused);
  if (!v) return refused;
  auto* p = page_in(v->form, req.param("page"));
  auto path = req.param("question");
  auto* q = p ? question_in(*p, path) : nullptr;
  if (!q) return c.pages.error(req, 404);
  View model;
  model.set("title", fmt::format("{} – {}", q->label.empty() ? q->id : q->label, v->form.title));
  model.set("form_title", v->form.title);
  model.set("page_url", page_url(v->key, p->id));
  model.set("page_title", p->title);
  model.set("action", question_url(v->key, p->id, path));
  model.set("type",
            c.pages.catalog().text(req.locale, fmt::format("forms.types.{}", type_key(q->type))));
  auto t = [&](const char* key) { return c.t(req, fmt::format("q.{}", key)); };
  auto posted = req.method == web::Method::post;
  auto value = [&](const char* name, const std::string& stored) {
    return posted ? field(req, name) : stored;
  };
  std::vector<web::Field> fields;
  fields.push_back(
      {.name = "label", .label = t("label"), .value = value("label", q->label), .required = true});
  fields.push_back(
      {.name = "hint", .label = t("hint"), .value = value("hint", q->hint), .multiline = true});
  bool texty = q->type == QuestionType::text || q->type == QuestionType::long_text ||
               q->type == QuestionType::email || q->type == QuestionType::phone;
  bool numeric = q->type == QuestionType::integer || q->type == QuestionType::decimal ||
                 q->type == QuestionType::money || q->type == QuestionType::date;
  if (q->type == QuestionType::info || q->type == QuestionType::declaration)
    fields.push_back(
        {.name = "text", .label = t("text"), .value = value("text", q->text), .multiline = true});
  if (texty) {
    fields.push_back(
        {.name = "min_length",
         .label = t("min_length"),
         .value = value("min_length", q->min_length ? std::to_string(*q->min_length) : ""),
         .inputmode = "numeric"});
    fields.push_back(
        {.name = "max_length",
         .label = t("max_length"),
         .value = value("max_length", q->max_length ? std::to_string(*q->max_length) : ""),
         .inputmode = "numeric"});
    fields.push_back({.name = "pattern",
                      .label = t("pattern"),
                      .value = value("pattern", q->pattern),
                      .hint = t("pattern_hint")});
    fields.push_back({.name = "pattern_message",
                      .label = t("pattern_message"),
                      .value = value("pattern_message", q->pattern_message)});
  }
  if (numeric) {
    auto hint = q->type == QuestionType::date ? t("date_bound_hint") : "";
    fields.push_back(
        {.name = "min", .label = t("min"), .value = value("min", q->min), .hint = hint});
    fields.push_back(
        {.name = "max", .label = t("max"), .value = value("max", q->max), .hint = hint});
  }
  if (q->type == QuestionType::choice || q->type == QuestionType::multiple_choice)
    fields.push_back({.name = "options",
                      .label = t("options"),
                      .value = value("options", options_text(q->options)),
                      .hint = t("options_hint"),
                      .required = true,
                      .multiline = true});
  if (q->type == QuestionType::computed)
    fields.push_back({.name = "value",
                      .label = t("value"),
                      .value = value("value", q->value),
                      .hint = t("value_hint"),
                      .required = true});
  if (q->type == QuestionType::group) {
    fields.push_back({.name = "item_label",
                      .label = t("item_label"),
                      .value = value("item_label", q->item_label),
                      .required = true});
    fields.push_back({.name = "min_count",
                      .label = t("min_count"),
                      .value = value("min_count", std::to_string(q->min_count)),
                      .inputmode = "numeric"});
    fields.push_back({.name = "max_count",
                      .label = t("max_count"),
                      .value = value("max_count", std::to_string(q->max_count)),
                      .inputmode = "numeric"});
  }
  fields.push_back({.name = "xml_name",
                    .label = t("xml_name"),
                    .value = value("xml_name", q->xml_name),
                    .hint = t("xml_name_hint")});
  model.set("form", web::form_view(fields, error, c.t(req, "error_title")));
  model.set("asks", q->type != QuestionType::info && q->type != QuestionType::computed &&
                        q->type != QuestionType::group);
  model.set("required", posted ? req.form("required").has_value() : q->required);
  model.set("is_choice", q->type == QuestionType::choice);
  model.set("select", posted ? req.form("select").has_value() : q->select);
  model.set_list("prefills", {});
  for (auto b : prefill_bindings()) {
    View o;
    o.set("value", std::string(b));
    o.set("label", c.pages.catalog().text(
                       req.locale, fmt::format("forms.prefill.{}", b.substr(b.find('.') + 1))) +
                       fmt::format(" ({})", b));
    o.set("selected", value("prefill", q->prefill) == b);
    model.add("prefills", std::move(o));
  }
  auto* group = group_of(*p, path);
  model.set("condition", condition_view(v->form, group, "bedingung", q->show_if, t("condition")));
  if (q->type == QuestionType::group) {
    model.set("is_group", true);
    model.set("members", question_list(q->questions, v->key, p->id, q->id + ".", req, c));
    model.set("new_member", type_options(c, req, true));
    model.set("group", q->id);
    model.set("page_action", page_url(v->key, p->id));
  }
  model.set("errors_view", error_view(error, c.t(req, "error_title")));
  req.csrf_token();
  return c.pages.render(req, "forms/editor_question", std::move(model), status);
}

Response question_submit(const Ctx& c, Request& req) {
  Response refused;
  auto [e, v] = editor_and_form(c, req, refused);
  if (!v) return refused;
  auto page_id = req.param("page");
  auto path = req.param("question");
  auto problem = change(c, req, *e, *v, [&](Form& form) -> std::optional<core::Error> {
    auto* p = page_in(form, page_id);
    auto* q = p ? question_in(*p, path) : nullptr;
    if (!q) return core::Error::not_found("no such question");
    auto err = core::Error::invalid("", c.t(req, "not_saved"));
    err.fields.clear();
    auto integer = [&](const char* name, std::optional<std::int64_t>& into) {
      auto s = field(req, name);
      if (s.empty()) {
        into.reset();
        return;
      }
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec != std::errc{} || end != s.data() + s.size()) {
        err.and_field(name, c.t(req, "whole_number"));
        return;
      }
      into = n;
    };
    auto condition = condition_from(req, form, group_of(*p, path), "bedingung");
    if (auto* fe = std::get_if<core::FieldError>(&condition)) err.and_field(fe->field, fe->message);
    q->label = field(req, "label");
    q->hint = field(req, "hint");
    if (req.form("text")) q->text = field(req, "text");
    if (q->type != QuestionType::info && q->type != QuestionType::computed &&
        q->type != QuestionType::group)
      q->required = req.form("required").has_value();
    if (req.form("min_length")) integer("min_length", q->min_length);
    if (req.form("max_length")) integer("max_length", q->max_length);
    if (req.form("pattern")) q->pattern = field(req, "pattern");
    if (req.form("pattern_message")) q->pattern_message = field(req, "pattern_message");
    if (req.form("min")) q->min = field(req, "min");
    if (req.form("max")) q->max = field(req, "max");
    if (req.form("min") && q->type != QuestionType::date)
      std::replace(q->min.begin(), q->min.end(), ',', '.');
    if (req.form("max") && q->type != QuestionType::date)
      std::replace(q->max.begin(), q->max.end(), ',', '.');
    if (req.form("options")) {
      auto options = options_from(field(req, "options"));
      if (!options)
        err.and_field("options", c.t(req, "options_rule"));
      else
        q->options = std::move(*options);
    }
    if (q->type == QuestionType::choice) q->select = req.form("select").has_value();
    if (req.form("value")) q->value = field(req, "value");
    if (req.form("prefill")) q->prefill = field(req, "prefill");
    if (q->type == QuestionType::group) {
      q->item_label = field(req, "item_label");
      std::optional<std::int64_t> min, max;
      integer("min_count", min);
      integer("max_count", max);
      if (min) q->min_count = static_cast<int>(std::clamp<std::int64_t>(*min, -1, 1000));
      if (max) q->max_count = static_cast<int>(std::clamp<std::int64_t>(*max, -1, 1000));
    }
    q->xml_name = field(req, "xml_name");
    if (!err.fields.empty()) return err;
    q->show_if = std::get<std::string>(condition);
    return std::nullopt;
  });
  if (problem) {
    if (problem->code == core::ErrorCode::not_found) return c.pages.error(req, 404);
    return refusal_or(c, req, *problem, [&] { return question_page(c, req, &*problem, 422); });
  }
  web::flash(req, c.t(req, "saved"));
  return Response::redirect(page_url(v->key, page_id));
}

}  // namespace

void register_editor_pages(web::Router& router, const web::Pages& pages, Forms& forms,
                           catalog::Catalog& catalog, PageOptions options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, forms, catalog, std::move(options)});
  router.get("/redaktion/formulare",
             [c](Request& req) { return list_page(*c, req, nullptr, 200); });
  // one address for both: a form's key may be any word, "import" too
  router.post("/redaktion/formulare",
              [c](Request& req) { return req.form("json") ? import(*c, req) : create(*c, req); });
  router.get("/redaktion/formulare/{key}",
             [c](Request& req) { return form_page(*c, req, nullptr, 200); });
  router.post("/redaktion/formulare/{key}", [c](Request& req) { return form_submit(*c, req); });
  router.post("/redaktion/formulare/{key}/veroeffentlichen",
              [c](Request& req) { return publish(*c, req); });
  router.post("/redaktion/formulare/{key}/verwerfen",
              [c](Request& req) { return discard(*c, req); });
  router.get("/redaktion/formulare/{key}/export.json",
             [c](Request& req) { return export_json(*c, req); });
  router.get("/redaktion/formulare/{key}/versionen",
             [c](Request& req) { return history(*c, req); });
  router.get("/redaktion/formulare/{key}/seiten/{page}",
             [c](Request& req) { return page_page(*c, req, nullptr, 200); });
  router.post("/redaktion/formulare/{key}/seiten/{page}",
              [c](Request& req) { return page_submit(*c, req); });
  router.get("/redaktion/formulare/{key}/seiten/{page}/fragen/{question}",
             [c](Request& req) { return question_page(*c, req, nullptr, 200); });
  router.post("/redaktion/formulare/{key}/seiten/{page}/fragen/{question}",
              [c](Request& req) { return question_submit(*c, req); });
}

}  // namespace mvsp::forms
