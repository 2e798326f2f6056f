// Entering a paper application (/verwaltung/papierantrag): the clerk picks an online service
// of their authority, fills its own form page by page as a citizen would (the answers kept in
// the session, one entry at a time), then gives the applicant's address, the Aktenzeichen,
// the day it came in and the scan, and the Vorgang opens (Casework::open_paper).
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <mvsp/cases/casework.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/multipart.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <mvsp/web/view.hpp>
#include <sstream>

#include "routes.hpp"
#include "staff.hpp"

namespace mvsp::cases {
namespace {

using namespace staff;

constexpr std::string_view kBase = "/verwaltung/papierantrag";
// The entry in the session: which service, and its key; the answers beside it.
constexpr const char* kEntry = "cases.paper";
constexpr const char* kAnswers = "cases.paper.answers";
// A session row is read on every request: the answers of an entry take at most this much.
constexpr std::size_t kMaxAnswerBytes = 256 * 1024;

struct Entry {
  std::string key;
  PaperChoice choice;
  forms::FormVersion form;
};

std::string choice_value(const PaperChoice& p) {
  return p.authority.id + "|" + p.service.id;
}

// The entry of the session, when it is still one the person may make; nullopt otherwise.
std::optional<Entry> entry_of(const Ctx& c, const Request& req, const Staffer& who) {
  if (!req.session || !c.options.forms) return std::nullopt;
  auto it = req.session->data.find(kEntry);
  if (it == req.session->data.end()) return std::nullopt;
  std::string key, chosen;
  try {
    Poco::JSON::Parser parser;
    auto o = parser.parse(it->second).extract<Poco::JSON::Object::Ptr>();
    key = o->optValue<std::string>("key", "");
    chosen = o->optValue<std::string>("choice", "");
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
  for (auto& p : c.work.paper_choices(who)) {
    if (choice_value(p) != chosen) continue;
    auto form = c.options.forms->published(p.service.form_key, p.service.form_version);
    if (!form) return std::nullopt;
    return Entry{key, std::move(p), std::move(*form)};
  }
  return std::nullopt;
}

forms::Answers answers_of(const Request& req) {
  if (!req.session) return {};
  auto it = req.session->data.find(kAnswers);
  if (it == req.session->data.end()) return {};
  return forms::answers_from_json(it->second).value_or(forms::Answers{});
}

void forget(Request& req) {
  if (!req.session) return;
  req.session->data.erase(kEntry);
  req.session->data.erase(kAnswers);
  req.session->dirty = true;
}

core::TimePoint now(const Ctx& c) {
  return c.options.clock ? c.options.clock->now() : core::SystemClock().now();
}

forms::Filling filling_for(const Ctx& c, const Request& req, const Entry& e) {
  forms::FillContext context;
  context.now = now(c);
  context.locale = req.locale;
  return forms::Filling(e.form.form, c.pages.catalog(), std::move(context));
}

std::string page_url(const std::string& page) {
  return page.empty() ? fmt::format("{}/abschluss", kBase)
                      : fmt::format("{}/seiten/{}", kBase, page);
}

// The signed-in person with a role of the case management, or the answer that refuses them.
std::optional<Staffer> person(const Ctx& c, Request& req, Response& refused) {
  auto who = staffer(c, req);
  if (auto r = refuse(c, req, who)) {
    refused = std::move(*r);
    return std::nullopt;
  }
  return who;
}

Response start(const Ctx& c, Request& req, const core::Error* error, int status) {
  Response refused;
  auto who = person(c, req, refused);
  if (!who) return refused;
  View model;
  model.set("title", c.t(req, "paper.title"));
  if (error) add_errors(c, req, model, *error);
  auto choices = c.work.paper_choices(*who);
  model.set("has_choices", !choices.empty());
  model.set_list("choices", {});
  auto chosen = req.form("dienst").value_or("");
  for (const auto& p : choices) {
    View v;
    v.set("value", choice_value(p));
    v.set("label",
          fmt::format("{} – {} ({})", p.service.name, p.authority.name,
                      p.authority.tenant_name.empty() ? p.authority.id : p.authority.tenant_name));
    v.set("selected", choice_value(p) == chosen);
    model.add("choices", std::move(v));
  }
  if (auto e = entry_of(c, req, *who)) {
    auto f = filling_for(c, req, *e);
    model.set("begun", e->choice.service.name);
    model.set("continue", page_url(f.next_page(answers_of(req))));
  }
  req.csrf_token();
  return c.pages.render(req, "cases/staff_paper_start", std::move(model), status);
}

Response begin(const Ctx& c, Request& req) {
  Response refused;
  auto who = person(c, req, refused);
  if (!who) return refused;
  auto chosen = req.form("dienst").value_or("");
  for (const auto& p : c.work.paper_choices(*who)) {
    if (choice_value(p) != chosen) continue;
    Poco::JSON::Object o;
    o.set("key", core::crypto::random_token(24));
    o.set("choice", chosen);
    std::ostringstream json;
    o.stringify(json);
    auto& session = req.ensure_session();
    session.data[kEntry] = json.str();
    session.data.erase(kAnswers);
    session.dirty = true;
    auto e = entry_of(c, req, *who);
    if (!e) break;
    return Response::redirect(page_url(filling_for(c, req, *e).next_page({})));
  }
  auto error = core::Error::invalid("online_service", "choose one of the list");
  return start(c, req, &error, 422);
}

Response discard(const Ctx& c, Request& req) {
  Response refused;
  if (!person(c, req, refused)) return refused;
  forget(req);
  return Response::redirect(std::string(kBase));
}

// The entry, its form's filling and answers; or where the person goes instead.
struct Filled {
  std::optional<Staffer> who;
  std::optional<Entry> entry;
  std::optional<forms::Filling> filling;
  forms::Answers answers;
  std::optional<Response> refused;
};

Filled filled(const Ctx& c, Request& req) {
  Filled out;
  Response refused;
  out.who = person(c, req, refused);
  if (!out.who) {
    out.refused = std::move(refused);
    return out;
  }
  out.entry = entry_of(c, req, *out.who);
  if (!out.entry) {
    out.refused = Response::redirect(std::string(kBase));
    return out;
  }
  out.filling.emplace(filling_for(c, req, *out.entry));
  out.answers = answers_of(req);
  return out;
}

Response render_page(const Ctx& c, Request& req, const Filled& f, const std::string& page_id,
                     const forms::Answers* entered, const core::Error* error, int status) {
  auto model = f.filling->page_view(page_id, f.answers, entered, error);
  auto back = f.filling->previous_page(f.answers, page_id);
  model.set("back", back.empty() ? std::string(kBase) : page_url(back));
  model.set("action", page_url(page_id));
  model.set("form_title",
            fmt::format("{} – {}", c.t(req, "paper.title"), f.entry->choice.service.name));
  req.csrf_token();
  return c.pages.render(req, "forms/page", std::move(model), status);
}

Response show_page(const Ctx& c, Request& req) {
  auto f = filled(c, req);
  if (f.refused) return std::move(*f.refused);
  auto page_id = req.param("page");
  if (!f.filling->reachable(f.answers, page_id)) {
    return Response::redirect(page_url(f.filling->next_page(f.answers)));
  }
  return render_page(c, req, f, page_id, nullptr, nullptr, 200);
}

Response submit_page(const Ctx& c, Request& req) {
  auto f = filled(c, req);
  if (f.refused) return std::move(*f.refused);
  auto page_id = req.param("page");
  if (!f.filling->reachable(f.answers, page_id)) {
    return Response::redirect(page_url(f.filling->next_page(f.answers)));
  }
  auto outcome = f.filling->submit(page_id, f.answers, web::parse_urlencoded(req.body));
  if (outcome.stay) return render_page(c, req, f, page_id, &outcome.entered, nullptr, 200);
  if (outcome.error) {
    return render_page(c, req, f, page_id, &outcome.entered, &*outcome.error, 422);
  }
  auto json = forms::answers_to_json(outcome.answers);
  if (json.size() > kMaxAnswerBytes) return c.pages.error(req, 413);
  auto& session = req.ensure_session();
  session.data[kAnswers] = std::move(json);
  session.dirty = true;
  return Response::redirect(page_url(outcome.next));
}

// The last page: the answers to check, and what the paper says besides them.
Response finish_page(const Ctx& c, Request& req, const Filled& f, const core::Error* error,
                     const std::map<std::string, std::string>& sent, int status) {
  View model;
  model.set("title", error ? fmt::format("{}: {}", c.t(req, "paper.error_prefix"),
                                         c.t(req, "paper.finish_title"))
                           : c.t(req, "paper.finish_title"));
  model.set("service", f.entry->choice.service.name);
  model.set("authority", f.entry->choice.authority.name);
  if (error) {
    // an answer the form's final check refused links to its page ("answers.<page>:<field>")
    core::Error rest = *error;
    rest.fields.clear();
    std::vector<View> answers;
    for (const auto& [field, message] : error->fields) {
      if (!field.starts_with("answers.")) {
        rest.fields.push_back({field, message});
        continue;
      }
      View e;
      auto page = std::string_view(field).substr(std::string_view("answers.").size());
      e.set("href", page_url(std::string(page.substr(0, page.find(':')))));
      e.set("message", message);
      answers.push_back(std::move(e));
    }
    if (!rest.fields.empty() || answers.empty()) add_errors(c, req, model, rest);
    model.set("has_errors", true);
    model.set("error_title", c.t(req, "errors.summary"));
    if (rest.fields.empty() && !answers.empty()) model.set_list("errors", {});
    for (auto& e : answers) model.add("errors", std::move(e));
  }
  auto route = f.filling->route(f.answers);
  if (!route.empty()) model.set("back", page_url(route.back()->id));
  forms::add_summary(model, f.filling->summary(f.answers), [](const forms::SummaryRow& r) {
    return r.changeable ? fmt::format("{}/seiten/{}#{}", kBase, r.page, r.anchor) : std::string();
  });
  auto value = [&](const char* name) {
    auto it = sent.find(name);
    return it == sent.end() ? std::string() : it->second;
  };
  model.set("applicant_name_value", value("name"));
  model.set("applicant_address_value", value("anschrift"));
  model.set("aktenzeichen_value", value("aktenzeichen"));
  auto today = core::format_day(core::berlin_day(now(c)));
  model.set("received_on_value", sent.contains("eingang") ? value("eingang") : today);
  model.set("today", today);
  model.set("files_again", error && sent.contains("dateien"));
  req.csrf_token();
  return c.pages.render(req, "cases/staff_paper_finish", std::move(model), status);
}

Response show_finish(const Ctx& c, Request& req) {
  auto f = filled(c, req);
  if (f.refused) return std::move(*f.refused);
  if (auto next = f.filling->next_page(f.answers); !next.empty()) {
    return Response::redirect(page_url(next));
  }
  return finish_page(c, req, f, nullptr, {}, 200);
}

Response open(const Ctx& c, Request& req) {
  auto f = filled(c, req);
  if (f.refused) return std::move(*f.refused);
  std::map<std::string, std::string> sent;
  PaperApplication p;
  auto parts = web::parse_multipart(req, 16);
  if (!parts) return finish_page(c, req, f, &parts.error(), sent, 422);
  for (const auto& part : *parts) {
    if (part.name == "scan") {
      // a file input left empty still sends a part without a name and content
      if (!part.filename.empty() || !part.body.empty()) {
        p.scans.push_back(
            {.requirement = "", .filename = part.filename, .media_type = "", .content = part.body});
        sent["dateien"] = "1";
      }
    } else if (part.name == "name" || part.name == "anschrift" || part.name == "aktenzeichen" ||
               part.name == "eingang") {
      sent[part.name] = part.body;
    }
  }
  p.key = f.entry->key;
  p.authority_id = f.entry->choice.authority.id;
  p.online_service_id = f.entry->choice.service.id;
  p.answers = f.answers;
  p.applicant_name = sent["name"];
  p.applicant_address = sent["anschrift"];
  p.aktenzeichen = sent["aktenzeichen"];
  p.received_on = sent["eingang"];
  auto opened = c.work.open_paper(*f.who, p);
  if (!opened) {
    auto code = opened.error().code;
    if (code == core::ErrorCode::forbidden || code == core::ErrorCode::conflict) {
      return c.pages.error(req, opened.error());
    }
    return finish_page(c, req, f, &opened.error(), sent,
                       code == core::ErrorCode::invalid_input ? 422 : 503);
  }
  forget(req);
  return Response::redirect(fmt::format("/verwaltung/vorgaenge/{}?erfasst=1", opened->id));
}

}  // namespace

void register_paper_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                          Casework& work, const PageOptions& options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, cases, work, options});
  std::string base(kBase);
  router.get(base, [c](Request& req) { return start(*c, req, nullptr, 200); });
  router.post(base, [c](Request& req) { return begin(*c, req); });
  router.post(base + "/verwerfen", [c](Request& req) { return discard(*c, req); });
  router.get(base + "/seiten/{page}", [c](Request& req) { return show_page(*c, req); });
  router.post(base + "/seiten/{page}", [c](Request& req) { return submit_page(*c, req); });
  router.get(base + "/abschluss", [c](Request& req) { return show_finish(*c, req); });
  router.post(base + "/abschluss", [c](Request& req) { return open(*c, req); });
}

}  // namespace mvsp::cases
