// Entering a paper application (/verwaltung/papierantrag): the clerk picks an online service
// of their authority, fills its own form page by page as a citizen would (the answers kept in
// the session, each entry by its key in the pages' paths), then gives the applicant's address, the
// Aktenzeichen, the day it came in and the scan, and the Vorgang opens (Casework::open_paper).
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <memory>
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
// An entry in the session, by its key (also in its pages' paths, so that two windows with
// two entries each work on their own): {"choice","started","seq","answers"}; `seq` orders
// them as they were begun (several may begin in one millisecond).
constexpr std::string_view kEntryPrefix = "cases.paper.";
// A session row is read on every request: an entry's answers take at most this much, and a
// session keeps at most this many entries (beginning another drops the oldest).
constexpr std::size_t kMaxAnswerBytes = 128 * 1024;
constexpr std::size_t kMaxEntries = 3;

struct Entry {
  std::string key;
  PaperChoice choice;
  // shared: a Filling refers to the form, which stays where it is when an Entry moves
  std::shared_ptr<const forms::FormVersion> form;
  forms::Answers answers;
  std::int64_t started = 0;
  std::int64_t seq = 0;
};

std::string choice_value(const PaperChoice& p) {
  return p.authority.id + "|" + p.service.id;
}

std::string session_key(std::string_view key) {
  return std::string(kEntryPrefix) + std::string(key);
}

void store(Request& req, const Entry& e, const forms::Answers& answers) {
  Poco::JSON::Object o;
  o.set("choice", choice_value(e.choice));
  o.set("started", e.started);
  o.set("seq", e.seq);
  o.set("answers", forms::answers_to_json(answers));
  std::ostringstream json;
  o.stringify(json);
  auto& session = req.ensure_session();
  session.data[session_key(e.key)] = json.str();
  session.dirty = true;
}

void forget(Request& req, std::string_view key) {
  if (req.session && req.session->data.erase(session_key(key)) > 0) req.session->dirty = true;
}

// The entries of the session that are still ones the person may make, oldest first; the
// others (a role or a service gone, a form withdrawn) are dropped.
std::vector<Entry> entries_of(const Ctx& c, Request& req, const Staffer& who) {
  std::vector<Entry> out;
  if (!req.session || !c.options.forms) return out;
  std::vector<std::string> gone;
  auto choices = c.work.paper_choices(who);
  for (const auto& [name, value] : req.session->data) {
    if (!name.starts_with(kEntryPrefix)) continue;
    Entry e;
    e.key = name.substr(kEntryPrefix.size());
    std::string chosen;
    try {
      Poco::JSON::Parser parser;
      auto o = parser.parse(value).extract<Poco::JSON::Object::Ptr>();
      chosen = o->optValue<std::string>("choice", "");
      e.started = o->optValue<std::int64_t>("started", 0);
      e.seq = o->optValue<std::int64_t>("seq", 0);
      e.answers = forms::answers_from_json(o->optValue<std::string>("answers", "{}"))
                      .value_or(forms::Answers{});
    } catch (const Poco::Exception&) {
      gone.push_back(name);
      continue;
    }
    auto p = std::ranges::find_if(choices,
                                  [&](const PaperChoice& x) { return choice_value(x) == chosen; });
    auto form = p == choices.end()
                    ? std::nullopt
                    : c.options.forms->published(p->service.form_key, p->service.form_version);
    if (!form) {
      gone.push_back(name);
      continue;
    }
    e.choice = *p;
    e.form = std::make_shared<const forms::FormVersion>(std::move(*form));
    out.push_back(std::move(e));
  }
  for (const auto& name : gone) req.session->data.erase(name);
  if (!gone.empty()) req.session->dirty = true;
  std::ranges::sort(out, {}, &Entry::seq);
  return out;
}

std::optional<Entry> entry_of(const Ctx& c, Request& req, const Staffer& who,
                              std::string_view key) {
  for (auto& e : entries_of(c, req, who)) {
    if (e.key == key) return std::move(e);
  }
  return std::nullopt;
}

core::TimePoint now(const Ctx& c) {
  return c.options.clock ? c.options.clock->now() : core::SystemClock().now();
}

forms::Filling filling_for(const Ctx& c, const Request& req, const Entry& e) {
  forms::FillContext context;
  context.now = now(c);
  context.locale = req.locale;
  return forms::Filling(e.form->form, c.pages.catalog(), std::move(context));
}

// A page of entry `key`'s form; "" for its last page.
std::string page_url(std::string_view key, const std::string& page) {
  return page.empty() ? fmt::format("{}/{}/abschluss", kBase, key)
                      : fmt::format("{}/{}/seiten/{}", kBase, key, page);
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
  auto begun = entries_of(c, req, *who);
  model.set("has_begun", !begun.empty());
  model.set_list("begun", {});
  for (const auto& e : begun) {
    View v;
    v.set("service", e.choice.service.name);
    v.set("started", core::format_berlin(core::from_millis(e.started)));
    v.set("continue", page_url(e.key, filling_for(c, req, e).next_page(e.answers)));
    v.set("discard", fmt::format("{}/{}/verwerfen", kBase, e.key));
    model.add("begun", std::move(v));
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
    auto form = c.options.forms->published(p.service.form_key, p.service.form_version);
    if (!form) break;
    // room for it: the oldest entries go
    auto begun = entries_of(c, req, *who);
    for (std::size_t i = 0; i + kMaxEntries <= begun.size(); ++i) forget(req, begun[i].key);
    Entry e{core::crypto::random_token(24),
            p,
            std::make_shared<const forms::FormVersion>(std::move(*form)),
            {},
            core::to_millis(now(c)),
            begun.empty() ? 1 : begun.back().seq + 1};
    store(req, e, {});
    return Response::redirect(page_url(e.key, filling_for(c, req, e).next_page({})));
  }
  auto error = core::Error::invalid("online_service", "choose one of the list");
  return start(c, req, &error, 422);
}

// The entry of the path's key, its form's filling and answers; or where the person goes
// instead (an entry that is not there, or no longer the person's to make: the start).
struct Filled {
  std::optional<Staffer> who;
  std::optional<Entry> entry;
  std::optional<forms::Filling> filling;
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
  out.entry = entry_of(c, req, *out.who, req.param("key"));
  if (!out.entry) {
    out.refused = Response::redirect(std::string(kBase));
    return out;
  }
  out.filling.emplace(filling_for(c, req, *out.entry));
  return out;
}

Response discard(const Ctx& c, Request& req) {
  Response refused;
  if (!person(c, req, refused)) return refused;
  forget(req, req.param("key"));
  return Response::redirect(std::string(kBase));
}

Response render_page(const Ctx& c, Request& req, const Filled& f, const std::string& page_id,
                     const forms::Answers* entered, const core::Error* error, int status) {
  auto model = f.filling->page_view(page_id, f.entry->answers, entered, error);
  auto back = f.filling->previous_page(f.entry->answers, page_id);
  const auto& key = f.entry->key;
  model.set("back", back.empty() ? std::string(kBase) : page_url(key, back));
  model.set("action", page_url(key, page_id));
  model.set("form_title",
            fmt::format("{} – {}", c.t(req, "paper.title"), f.entry->choice.service.name));
  req.csrf_token();
  return c.pages.render(req, "forms/page", std::move(model), status);
}

// filled() for the page of the path; a page not reachable yet with the answers so far leads
// to the page the entry is at.
Filled filled_page(const Ctx& c, Request& req) {
  auto f = filled(c, req);
  if (!f.refused && !f.filling->reachable(f.entry->answers, req.param("page"))) {
    f.refused = Response::redirect(page_url(f.entry->key, f.filling->next_page(f.entry->answers)));
  }
  return f;
}

Response show_page(const Ctx& c, Request& req) {
  auto f = filled_page(c, req);
  if (f.refused) return std::move(*f.refused);
  auto page_id = req.param("page");
  return render_page(c, req, f, page_id, nullptr, nullptr, 200);
}

Response submit_page(const Ctx& c, Request& req) {
  auto f = filled_page(c, req);
  if (f.refused) return std::move(*f.refused);
  auto page_id = req.param("page");
  auto outcome = f.filling->submit(page_id, f.entry->answers, web::parse_urlencoded(req.body));
  if (outcome.stay) return render_page(c, req, f, page_id, &outcome.entered, nullptr, 200);
  if (outcome.error) {
    return render_page(c, req, f, page_id, &outcome.entered, &*outcome.error, 422);
  }
  if (forms::answers_to_json(outcome.answers).size() > kMaxAnswerBytes) {
    return c.pages.error(req, 413);
  }
  store(req, *f.entry, outcome.answers);
  return Response::redirect(page_url(f.entry->key, outcome.next));
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
      e.set("href", page_url(f.entry->key, std::string(page.substr(0, page.find(':')))));
      e.set("message", message);
      answers.push_back(std::move(e));
    }
    if (!rest.fields.empty() || answers.empty()) add_errors(c, req, model, rest);
    model.set("has_errors", true);
    model.set("error_title", c.t(req, "errors.summary"));
    if (rest.fields.empty() && !answers.empty()) model.set_list("errors", {});
    for (auto& e : answers) model.add("errors", std::move(e));
  }
  auto route = f.filling->route(f.entry->answers);
  const auto& key = f.entry->key;
  if (!route.empty()) model.set("back", page_url(key, route.back()->id));
  model.set("action", page_url(key, ""));
  model.set("discard", fmt::format("{}/{}/verwerfen", kBase, key));
  forms::add_summary(model, f.filling->summary(f.entry->answers), [&](const forms::SummaryRow& r) {
    return r.changeable ? fmt::format("{}#{}", page_url(key, r.page), r.anchor) : std::string();
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
  if (auto next = f.filling->next_page(f.entry->answers); !next.empty()) {
    return Response::redirect(page_url(f.entry->key, next));
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
  p.answers = f.entry->answers;
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
  forget(req, f.entry->key);
  return Response::redirect(fmt::format("/verwaltung/vorgaenge/{}?erfasst=1", opened->id));
}

}  // namespace

void register_paper_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                          Casework& work, const PageOptions& options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, cases, work, options});
  std::string base(kBase);
  router.get(base, [c](Request& req) { return start(*c, req, nullptr, 200); });
  router.post(base, [c](Request& req) { return begin(*c, req); });
  router.post(base + "/{key}/verwerfen", [c](Request& req) { return discard(*c, req); });
  router.get(base + "/{key}/seiten/{page}", [c](Request& req) { return show_page(*c, req); });
  router.post(base + "/{key}/seiten/{page}", [c](Request& req) { return submit_page(*c, req); });
  router.get(base + "/{key}/abschluss", [c](Request& req) { return show_finish(*c, req); });
  router.post(base + "/{key}/abschluss", [c](Request& req) { return open(*c, req); });
}

}  // namespace mvsp::cases
