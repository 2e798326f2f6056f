// The preview: a form as the citizen will fill it, page by page, with the answers kept in
// the visitor's session (at most 256 KiB for at most three forms). Published forms at
// /formulare/{key}/vorschau for everyone; a draft at /redaktion/formulare/{key}/vorschau for the
// editors who may change it.
#include <fmt/format.h>

#include <mvsp/forms/component.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/outputs.hpp>
#include <mvsp/forms/pdf.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <set>

#include "pages.hpp"

namespace mvsp::forms {
namespace {

using web::Request;
using web::Response;
using web::View;

struct Ctx {
  const web::Pages& pages;
  Forms& forms;
  PageOptions options;

  std::string t(const Request& req, std::string_view key) const {
    return pages.catalog().text(req.locale, fmt::format("forms.{}", key));
  }
};

// Which form a preview shows, and where its pages live.
struct Target {
  FormVersion version;
  std::string base;  // "/formulare/hundesteuer-anmelden/vorschau"
};

// The published form, or for the editor's preview the draft (or, without one, the latest
// published version); the answer that sends the visitor away otherwise.
std::optional<Target> target_of(const Ctx& c, Request& req, bool draft, Response& refused) {
  auto key = req.param("key");
  if (!draft) {
    auto v = c.forms.published(key);
    if (!v) {
      refused = c.pages.error(req, 404);
      return std::nullopt;
    }
    return Target{std::move(*v), fmt::format("/formulare/{}/vorschau", key)};
  }
  if (!req.session || req.session->account_id.empty()) {
    refused = web::to_login(req);
    return std::nullopt;
  }
  // who is no editor learns nothing, not even whether such a draft exists
  auto editor = c.options.editor ? c.options.editor(req) : std::nullopt;
  if (!editor) {
    refused = c.pages.error(req, core::Error::forbidden("not an editor"));
    return std::nullopt;
  }
  auto v = c.forms.draft(key);
  if (!v) v = c.forms.published(key);
  if (!v) {
    refused = c.pages.error(req, 404);
    return std::nullopt;
  }
  if (!editor || !c.forms.may_edit(*editor, v->owner)) {
    refused = c.pages.error(req, core::Error::forbidden("not an editor of this form"));
    return std::nullopt;
  }
  return Target{std::move(*v), fmt::format("/redaktion/formulare/{}/vorschau", key)};
}

std::string answers_key(const Target& t) {
  return fmt::format("forms.preview:{}:{}:{}", t.version.key, t.version.version, t.version.state);
}

// Set when the preview's final check passed: the finished page follows.
std::string finished_key(const Target& t) {
  auto key = answers_key(t);
  key.append(":fertig");
  return key;
}

Answers answers_of(const Request& req, const Target& t) {
  if (!req.session) return {};
  auto it = req.session->data.find(answers_key(t));
  if (it == req.session->data.end()) return {};
  return answers_from_json(it->second).value_or(Answers{});
}

// A preview keeps at most this much of a visitor's answers, for at most this many forms
// at once: the session row is read on every request.
constexpr std::size_t kMaxAnswerBytes = 256 * 1024;
constexpr std::size_t kMaxFormsKept = 3;

// The preview's entries of one form in a session: its answers and its finished mark.
bool of_form(const std::string& entry, const std::string& key) {
  return entry == key || entry == key + ":fertig";
}

// Makes room for the entries of form `key`: the other forms' answers and marks go, whole
// forms at a time, until fewer than kMaxFormsKept other forms are kept.
void make_room(web::Session& session, const std::string& key) {
  std::set<std::string> forms;
  for (const auto& [entry, value] : session.data) {
    if (!entry.starts_with("forms.preview:") || of_form(entry, key)) continue;
    forms.insert(entry.ends_with(":fertig") ? entry.substr(0, entry.size() - 7) : entry);
  }
  for (auto it = forms.begin(); forms.size() >= kMaxFormsKept && it != forms.end();
       it = forms.erase(it)) {
    session.data.erase(*it);
    session.data.erase(*it + ":fertig");
  }
  session.dirty = true;
}

// False when the answers are more than a preview keeps.
bool keep(Request& req, const Target& t, const Answers& a) {
  auto json = answers_to_json(a);
  if (json.size() > kMaxAnswerBytes) return false;
  auto& session = req.ensure_session();
  auto key = answers_key(t);
  make_room(session, key);
  session.data[key] = std::move(json);
  return true;
}

Filling filling_for(const Ctx& c, const Request& req, const Target& t) {
  FillContext context;
  context.now = c.options.clock->now();
  context.locale = req.locale;
  if (c.options.prefill && req.session) c.options.prefill->fill(*req.session, context);
  return Filling(t.version.form, c.pages.catalog(), std::move(context));
}

Response start(const Ctx& c, Request& req, bool draft) {
  Response refused;
  auto t = target_of(c, req, draft, refused);
  if (!t) return refused;
  auto f = filling_for(c, req, *t);
  auto a = answers_of(req, *t);
  View model;
  model.set("title", t->version.form.title);
  model.set("intro", t->version.form.intro);
  model.set("draft", t->version.state == "draft");
  model.set("version", std::to_string(t->version.version));
  auto next = f.next_page(a);
  model.set("start",
            next.empty() ? t->base + "/pruefen" : fmt::format("{}/seiten/{}", t->base, next));
  model.set("restart_action", t->base + "/neu");
  model.set("started", !a.empty());
  req.csrf_token();
  return c.pages.render(req, "forms/start", std::move(model));
}

Response restart(const Ctx& c, Request& req, bool draft) {
  Response refused;
  auto t = target_of(c, req, draft, refused);
  if (!t) return refused;
  if (req.session) {
    req.session->data.erase(answers_key(*t));
    req.session->data.erase(finished_key(*t));
    req.session->dirty = true;
  }
  return Response::redirect(t->base);
}

Response render_page(const Ctx& c, Request& req, const Target& t, const Filling& f,
                     const std::string& page_id, const Answers& answers, const Answers* entered,
                     const core::Error* error, int status) {
  auto model = f.page_view(page_id, answers, entered, error);
  auto back = f.previous_page(answers, page_id);
  model.set("back", back.empty() ? t.base : fmt::format("{}/seiten/{}", t.base, back));
  model.set("action", fmt::format("{}/seiten/{}", t.base, page_id));
  req.csrf_token();
  return c.pages.render(req, "forms/page", std::move(model), status);
}

// A page of the form; one that is not on the way for these answers sends the visitor to
// the page that is due.
Response show_page(const Ctx& c, Request& req, bool draft) {
  Response refused;
  auto t = target_of(c, req, draft, refused);
  if (!t) return refused;
  auto f = filling_for(c, req, *t);
  auto a = f.prefilled(answers_of(req, *t));
  auto page_id = req.param("page");
  if (!f.reachable(a, page_id)) {
    auto next = f.next_page(a);
    return Response::redirect(next.empty() ? t->base + "/pruefen"
                                           : fmt::format("{}/seiten/{}", t->base, next));
  }
  return render_page(c, req, *t, f, page_id, a, nullptr, nullptr, 200);
}

Response submit_page(const Ctx& c, Request& req, bool draft) {
  Response refused;
  auto t = target_of(c, req, draft, refused);
  if (!t) return refused;
  auto f = filling_for(c, req, *t);
  auto a = f.prefilled(answers_of(req, *t));
  auto page_id = req.param("page");
  if (!f.reachable(a, page_id)) return Response::redirect(t->base);
  auto outcome = f.submit(page_id, a, web::parse_urlencoded(req.body));
  if (outcome.stay) return render_page(c, req, *t, f, page_id, a, &outcome.entered, nullptr, 200);
  if (outcome.error)
    return render_page(c, req, *t, f, page_id, a, &outcome.entered, &*outcome.error, 422);
  if (!keep(req, *t, outcome.answers)) return c.pages.error(req, 413);
  if (outcome.next.empty()) return Response::redirect(t->base + "/pruefen");
  return Response::redirect(fmt::format("{}/seiten/{}", t->base, outcome.next));
}

Response check_page(const Ctx& c, Request& req, bool draft, const core::Error* error, int status) {
  Response refused;
  auto t = target_of(c, req, draft, refused);
  if (!t) return refused;
  auto f = filling_for(c, req, *t);
  auto a = f.prefilled(answers_of(req, *t));
  auto next = f.next_page(a);
  if (!next.empty()) return Response::redirect(fmt::format("{}/seiten/{}", t->base, next));
  View model;
  model.set("title", error
                         ? fmt::format("{}: {}", c.t(req, "error_prefix"), c.t(req, "check.title"))
                         : c.t(req, "check.title"));
  model.set("form_title", t->version.form.title);
  model.set("action", t->base + "/pruefen");
  auto route = f.route(a);
  if (!route.empty()) model.set("back", fmt::format("{}/seiten/{}", t->base, route.back()->id));
  add_summary(model, f.summary(a), [&](const SummaryRow& r) {
    return r.changeable ? fmt::format("{}/seiten/{}#{}", t->base, r.page, r.anchor) : std::string();
  });
  if (error) {
    model.set("has_errors", true);
    model.set("error_title", c.t(req, "error_title"));
    model.set_list("errors", {});
    for (const auto& fe : error->fields) {
      View e;
      auto colon = fe.field.find(':');
      auto page = fe.field.substr(0, colon);
      e.set("href", fmt::format("{}/seiten/{}", t->base, page));
      e.set("message", fe.message);
      model.add("errors", std::move(e));
    }
  }
  req.csrf_token();
  return c.pages.render(req, "forms/check", std::move(model), status);
}

// The end of the preview: the final check, then what the form produces for these answers.
Response finish(const Ctx& c, Request& req, bool draft) {
  Response refused;
  auto t = target_of(c, req, draft, refused);
  if (!t) return refused;
  auto f = filling_for(c, req, *t);
  auto a = f.prefilled(answers_of(req, *t));
  auto done = f.finish(a);
  if (!done) return check_page(c, req, draft, &done.error(), 422);
  auto& session = req.ensure_session();
  make_room(session, answers_key(*t));
  // (insert_or_assign: g++ 12 warns falsely, -Wrestrict, on assigning a literal here)
  session.data.insert_or_assign(finished_key(*t), std::string("1"));
  session.dirty = true;
  return Response::redirect(t->base + "/fertig");
}

Response finished(const Ctx& c, Request& req, bool draft) {
  Response refused;
  auto t = target_of(c, req, draft, refused);
  if (!t) return refused;
  if (!req.session || !req.session->data.contains(finished_key(*t)))
    return Response::redirect(t->base);
  View model;
  model.set("title", c.t(req, "finished.title"));
  model.set("form_title", t->version.form.title);
  model.set("xml", t->base + "/antworten.xml");
  model.set("json", t->base + "/antworten.json");
  model.set("pdf", t->base + "/antworten.pdf");
  model.set("restart_action", t->base + "/neu");
  req.csrf_token();
  return c.pages.render(req, "forms/finished", std::move(model));
}

enum class Output { xml, json, pdf };

// The preview's answers as the back office (XML, JSON) and the citizen (PDF) would receive them.
Response output(const Ctx& c, Request& req, bool draft, Output kind) {
  Response refused;
  auto t = target_of(c, req, draft, refused);
  if (!t) return refused;
  auto f = filling_for(c, req, *t);
  auto a = f.prefilled(answers_of(req, *t));
  if (!f.finish(a)) return Response::redirect(t->base + "/pruefen");
  auto applicable = f.applicable(a);
  const auto& form = t->version.form;
  auto version = t->version.version;
  Response r;
  const char* extension = "json";
  switch (kind) {
    case Output::xml:
      r.body = to_xml(form, version, applicable);
      r.headers.emplace_back("Content-Type", "application/xml; charset=utf-8");
      extension = "xml";
      break;
    case Output::json:
      r.body = to_json(form, version, applicable);
      r.headers.emplace_back("Content-Type", "application/json");
      break;
    case Output::pdf:
      r.body = render_pdf(pdf_document(form, version, f, a));
      r.headers.emplace_back("Content-Type", "application/pdf");
      extension = "pdf";
      break;
  }
  r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"{}-{}.{}\"",
                                                            t->version.key, version, extension));
  return r;
}

void register_for(web::Router& router, const std::shared_ptr<Ctx>& c, const std::string& base,
                  bool draft) {
  router.get(base, [c, draft](Request& req) { return start(*c, req, draft); });
  router.post(base + "/neu", [c, draft](Request& req) { return restart(*c, req, draft); });
  router.get(base + "/seiten/{page}",
             [c, draft](Request& req) { return show_page(*c, req, draft); });
  router.post(base + "/seiten/{page}",
              [c, draft](Request& req) { return submit_page(*c, req, draft); });
  router.get(base + "/pruefen",
             [c, draft](Request& req) { return check_page(*c, req, draft, nullptr, 200); });
  router.post(base + "/pruefen", [c, draft](Request& req) { return finish(*c, req, draft); });
  router.get(base + "/fertig", [c, draft](Request& req) { return finished(*c, req, draft); });
  for (auto [name, kind] : {std::pair{"xml", Output::xml}, std::pair{"json", Output::json},
                            std::pair{"pdf", Output::pdf}}) {
    router.get(fmt::format("{}/antworten.{}", base, name),
               [c, draft, kind](Request& req) { return output(*c, req, draft, kind); });
  }
}

}  // namespace

void register_preview_pages(web::Router& router, const web::Pages& pages, Forms& forms,
                            PageOptions options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, forms, std::move(options)});
  register_for(router, c, "/formulare/{key}/vorschau", false);
  register_for(router, c, "/redaktion/formulare/{key}/vorschau", true);
}

}  // namespace mvsp::forms
