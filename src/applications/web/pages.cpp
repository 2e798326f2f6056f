// The citizen's pages of the journey: start for a place, guest access, the task list, the
// form page by page (forms renders it), the documents, the way to the payment, check and
// submit, the confirmation, the Vorhaben after submission, "Meine Anträge", discarding and
// the reminders' links. Every page works without JavaScript; every POST carries the CSRF
// token (checked by the site before the handler runs).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <mvsp/applications/applications.hpp>
#include <mvsp/cases/casework.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/identity/acting.hpp>
#include <mvsp/identity/step_up.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/forms.hpp>
#include <mvsp/web/multipart.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <mvsp/web/view.hpp>
#include <sstream>

#include "document_rules.hpp"
#include "routes.hpp"

namespace mvsp::applications {
namespace {

using web::Request;
using web::Response;
using web::View;

constexpr std::string_view kGuestKey = "applications.guest";
constexpr std::size_t kGuestLinksKept = 10;

struct Ctx {
  const web::Pages& pages;
  Applications& apps;
  PageOptions options;

  std::string t(const Request& req, std::string_view key) const {
    return pages.catalog().text(req.locale, fmt::format("applications.{}", key));
  }
  template <class... A>
  std::string tf(const Request& req, std::string_view key, A&&... args) const {
    return fmt::format(fmt::runtime(t(req, key)), std::forward<A>(args)...);
  }
};

std::vector<std::string> guest_links(const Request& req) {
  std::vector<std::string> out;
  if (!req.session) return out;
  auto it = req.session->data.find(std::string(kGuestKey));
  if (it == req.session->data.end()) return out;
  std::istringstream in(it->second);
  for (std::string id; in >> id;) out.push_back(id);
  return out;
}

Actor actor_of(const Ctx& c, Request& req) {
  Actor a;
  a.locale = req.locale;
  a.guest_of = guest_links(req);
  if (req.session && !req.session->account_id.empty()) {
    a.account_id = req.session->account_id;
    if (auto org = identity::acting_for(*c.options.organisations, *req.session)) {
      a.organisation_id = org->id;
    }
    a.level =
        identity::session_level(*req.session, c.options.clock->now(), c.options.step_up_lifetime);
  }
  return a;
}

std::string base_of(std::string_view id) {
  return fmt::format("/antrag/vorhaben/{}", id);
}

std::string level_text(const Ctx& c, const Request& req, std::string_view level) {
  return c.pages.catalog().text(req.locale, fmt::format("identity.levels.{}", level));
}

// The answer for a Vorhaben this visitor may not see, or that is gone: the same 404.
Response not_found(const Ctx& c, Request& req) {
  return c.pages.error(req, core::Error::not_found("no such application"));
}

// The Vorhaben of the visitor, or the answer: to the login when nobody is signed in and
// no guest link is held, 404 otherwise.
std::optional<Application> mine(const Ctx& c, Request& req, Response& refused) {
  auto actor = actor_of(c, req);
  auto a = c.apps.find(actor, req.param("id"));
  if (a) return std::move(*a);
  if (actor.account_id.empty() && actor.guest_of.empty()) {
    refused = web::to_login(req);
  } else {
    refused = not_found(c, req);
  }
  return std::nullopt;
}

// The error summary of a page (its template shows "errors" under "error_title"): one link
// per field, where `href` says the field is; a refusal without fields links to `href("")`.
void add_errors(const Ctx& c, const Request& req, View& model, const core::Error& error,
                const std::function<std::string(const std::string&)>& href) {
  model.set("has_errors", true);
  model.set("error_title", c.t(req, "check.error_title"));
  model.set_list("errors", {});
  auto add = [&](const std::string& field, const std::string& message) {
    View e;
    e.set("href", href(field));
    e.set("message", message);
    model.add("errors", std::move(e));
  };
  for (const auto& fe : error.fields) add(fe.field, fe.message);
  if (error.fields.empty()) add("", error.message);
}

// ---- start ------------------------------------------------------------------------

void need_facts(const Ctx& c, Request& req, const catalog::OnlineService& os,
                const catalog::Authority& authority, View& model) {
  View docs;
  model.set_list("documents", {});
  for (const auto& d : os.config.documents) {
    View v;
    v.set("name", d.name);
    v.set("optional", !d.required);
    v.set("types", c.tf(req, "start.types", type_names(d.types), megabytes(d.max_bytes)));
    model.add("documents", std::move(v));
  }
  model.set("has_documents", !os.config.documents.empty());
  const auto& cfg = os.config;
  std::string fee;
  if (cfg.fee_cents > 0 && cfg.fee_per_unit_cents > 0) {
    fee = c.tf(req, "start.fee_both", payments::format_euro(cfg.fee_cents),
               payments::format_euro(cfg.fee_per_unit_cents));
  } else if (cfg.fee_per_unit_cents > 0) {
    fee = c.tf(req, "start.fee_per_unit", payments::format_euro(cfg.fee_per_unit_cents));
  } else if (cfg.fee_cents > 0) {
    fee = payments::format_euro(cfg.fee_cents);
  } else {
    fee = c.t(req, "start.fee_none");
  }
  model.set("fee", fee);
  if (auto service = c.options.catalog->service(os.leika_key)) {
    auto texts = c.options.catalog->texts_for(*service, authority.id);
    if (!texts.processing_time.empty()) model.set("processing_time", texts.processing_time);
    if (!texts.legal_basis.empty()) model.set("legal_basis", texts.legal_basis);
  }
  model.set("level", cfg.min_level == "high"
                         ? c.t(req, "start.level_high")
                         : c.tf(req, "start.level", level_text(c, req, cfg.min_level)));
  model.set("guest_possible", cfg.guest_access);
  model.set("draft_kept", c.tf(req, "start.draft_kept", cfg.draft_days));
}

// /antrag/{service}?ort=AGS: what the citizen needs, and the start (signed in, or the
// choice of login and guest access); without a place, the place is asked first.
Response start_page(const Ctx& c, Request& req, const core::Error* error, int status) {
  auto os = c.options.catalog->online_service(req.param("service"));
  if (!os || os->state != "production") return c.pages.error(req, 404);
  View model;
  model.set("title", os->name);
  model.set("service_name", os->name);
  auto self = fmt::format("/antrag/{}", web::url_encode(os->id));
  model.set("self", self);
  if (!os->config.external_url.empty()) {
    model.set("external_url", os->config.external_url);
    return c.pages.render(req, "applications/start", std::move(model));
  }
  auto place = req.query_param("ort").value_or("");
  std::optional<catalog::Route> route;
  core::Error problem{core::ErrorCode::invalid_input, c.t(req, "errors.summary"), {}, {}};
  if (error) problem = *error;
  if (!place.empty()) {
    auto r = c.options.catalog->route(os->leika_key, place);
    if (r) {
      bool offered = os->owner == r->authority.id ||
                     std::find(os->adopted_by.begin(), os->adopted_by.end(), r->authority.id) !=
                         os->adopted_by.end();
      if (offered && !r->authority.tenant_id.empty()) {
        route = std::move(*r);
      } else {
        problem.and_field(
            "ort", c.t(req, offered ? "errors.authority_not_online" : "errors.not_offered_here"));
      }
    } else {
      // a name typed: the places that start with it
      auto found = c.options.catalog->find_places(place, 10);
      model.set_list("places", {});
      for (const auto& p : found) {
        View v;
        v.set("name", p.display_name());
        v.set("href", fmt::format("{}?ort={}", self, p.key));
        model.add("places", std::move(v));
      }
      model.set("has_places", !found.empty());
      if (found.empty()) problem.and_field("ort", c.t(req, "start.place_none"));
    }
  }
  if (!route) {
    model.set("choose_place", true);
    model.set("form", web::form_view({web::Field{.name = "ort",
                                                 .label = c.t(req, "start.place_label"),
                                                 .value = place,
                                                 .hint = c.t(req, "start.place_hint"),
                                                 .required = true}},
                                     problem.fields.empty() ? nullptr : &problem,
                                     c.t(req, "check.error_title")));
    if (!problem.fields.empty()) {
      model.set("title", fmt::format("{}: {}", c.t(req, "check.error_prefix"), os->name));
      status = std::max(status, 422);
    }
    return c.pages.render(req, "applications/start", std::move(model), status);
  }
  model.set("responsible",
            c.tf(req, "start.responsible", route->place.display_name(), route->authority.name));
  need_facts(c, req, *os, route->authority, model);
  model.set("ort", route->place.key);
  auto here = fmt::format("{}?ort={}", self, route->place.key);
  bool signed_in = req.session && !req.session->account_id.empty();
  model.set("signed_in", signed_in);
  model.set("start_action", self + "/starten");
  model.set("login_href", "/anmelden?next=" + web::url_encode(here));
  if (os->config.guest_access) {
    model.set("guest_href", fmt::format("{}/gast?ort={}", self, route->place.key));
  }
  if (signed_in) {
    if (auto org = identity::acting_for(*c.options.organisations, *req.session)) {
      model.set("acting_for", c.tf(req, "start.acting_for", org->name));
    }
  }
  if (error) {
    model.set("form", web::form_view({}, error, c.t(req, "check.error_title")));
  }
  req.csrf_token();
  return c.pages.render(req, "applications/start", std::move(model), status);
}

Response start_as_account(const Ctx& c, Request& req) {
  auto place = req.form("ort").value_or("");
  auto self = fmt::format("/antrag/{}", web::url_encode(req.param("service")));
  if (!req.session || req.session->account_id.empty()) {
    return Response::redirect("/anmelden?next=" + web::url_encode(fmt::format(
                                                      "{}?ort={}", self, web::url_encode(place))));
  }
  Start s;
  s.online_service_id = req.param("service");
  s.place = place;
  s.account_id = req.session->account_id;
  s.owner = {"account", req.session->account_id};
  if (auto org = identity::acting_for(*c.options.organisations, *req.session)) {
    s.owner = {"organisation", org->id};
  }
  s.remote_address = req.remote_address;
  s.locale = req.locale;
  auto started = c.apps.start(s);
  if (!started) {
    if (web::is_refusal(started.error()) || started.error().code == core::ErrorCode::not_found)
      return c.pages.error(req, started.error());
    req.query = "ort=" + web::url_encode(place);
    return start_page(c, req, &started.error(), 422);
  }
  return Response::redirect(base_of(started->application.id));
}

// ---- guests -------------------------------------------------------------------------

Response guest_page(const Ctx& c, Request& req, const std::string& email, const core::Error* error,
                    int status) {
  auto os = c.options.catalog->online_service(req.param("service"));
  if (!os || os->state != "production" || !os->config.guest_access) return c.pages.error(req, 404);
  auto place = req.query_param("ort").value_or(req.form("ort").value_or(""));
  View model;
  model.set("title",
            error ? fmt::format("{}: {}", c.t(req, "check.error_prefix"), c.t(req, "guest.title"))
                  : c.t(req, "guest.title"));
  model.set("service_name", os->name);
  model.set("action", fmt::format("/antrag/{}/gast", web::url_encode(os->id)));
  model.set("back",
            fmt::format("/antrag/{}?ort={}", web::url_encode(os->id), web::url_encode(place)));
  model.set("ort", place);
  model.set("form", web::form_view({web::Field{.name = "email",
                                               .label = c.t(req, "guest.email"),
                                               .value = email,
                                               .type = "email",
                                               .autocomplete = "email",
                                               .hint = c.t(req, "guest.email_hint"),
                                               .required = true}},
                                   error, c.t(req, "check.error_title")));
  req.csrf_token();
  return c.pages.render(req, "applications/guest", std::move(model), status);
}

Response start_as_guest(const Ctx& c, Request& req) {
  auto email = req.form("email").value_or("");
  Start s;
  s.online_service_id = req.param("service");
  s.place = req.form("ort").value_or("");
  s.owner = {"guest", ""};
  s.guest_email = email;
  s.remote_address = req.remote_address;
  s.locale = req.locale;
  auto started = c.apps.start(s);
  if (!started) {
    const auto& e = started.error();
    if (e.code == core::ErrorCode::invalid_input && !e.fields.empty() &&
        e.fields[0].field == "email")
      return guest_page(c, req, email, &e, 422);
    if (e.code == core::ErrorCode::invalid_input) {
      req.query = "ort=" + web::url_encode(s.place);
      return start_page(c, req, &e, 422);
    }
    return c.pages.error(req, e);
  }
  View model;
  model.set("title", c.t(req, "guest.sent_title"));
  model.set("sent", c.tf(req, "guest.sent", started->application.guest_email));
  return c.pages.render(req, "applications/guest_sent", std::move(model));
}

// The mailed link: this browser may open the Vorhaben from now on.
Response open_guest_link(const Ctx& c, Request& req) {
  auto id = c.apps.open_guest_link(req.query_param("token").value_or(""));
  if (!id) {
    View model;
    model.set("title", c.t(req, "guest.title"));
    model.set("message", c.t(req, "guest.link_invalid"));
    return c.pages.render(req, "applications/message", std::move(model), 404);
  }
  auto& session = req.ensure_session();
  auto links = guest_links(req);
  std::erase(links, *id);
  links.insert(links.begin(), *id);
  if (links.size() > kGuestLinksKept) links.resize(kGuestLinksKept);
  std::string joined;
  for (const auto& l : links) joined += (joined.empty() ? "" : " ") + l;
  session.data[std::string(kGuestKey)] = joined;
  session.dirty = true;
  // a new token for the new access, so that a session cookie planted before is worth nothing
  if (!session.is_new && !c.options.sessions->rotate(session)) return web::to_login(req);
  return Response::redirect(base_of(*id));
}

// ---- the task list and the Vorhaben -----------------------------------------------------

struct Task {
  std::string key;
  std::string title;
  std::string href;   // empty: no way in yet
  std::string state;  // completed, in_progress, not_started, cannot_start
  std::string note;
};

View task_view(const Ctx& c, const Request& req, const Task& t, int n) {
  View v;
  v.set("n", std::to_string(n));
  v.set("id", t.key);
  v.set("title", t.title);
  if (!t.href.empty()) v.set("href", t.href);
  v.set("status", c.t(req, fmt::format("tasks.{}", t.state)));
  v.set("badge", t.state == "completed"     ? "success"
                 : t.state == "in_progress" ? "warning"
                 : t.state == "not_started" ? "info"
                                            : "danger");
  if (!t.note.empty()) v.set("note", t.note);
  return v;
}

// What the payment step shows, and whether it is done.
struct PaymentState {
  std::string state;
  std::string note;
};

PaymentState payment_state(const Ctx& c, const Request& req, const Application& a, bool form_done) {
  if (!form_done) return {"cannot_start", c.t(req, "payment.form_first")};
  auto amount = c.apps.fee(a);
  if (!amount)
    return {"cannot_start", amount.error().fields.empty() ? amount.error().message
                                                          : amount.error().fields[0].message};
  if (*amount <= 0) return {"completed", c.t(req, "payment.none")};
  auto order = c.apps.payment(a);
  if (order && order->amount_cents == *amount) {
    if (order->state == payments::State::paid)
      return {"completed", c.tf(req, "payment.paid", payments::format_euro(order->amount_cents),
                                order->kassenzeichen)};
    if (order->state == payments::State::invoiced)
      return {"completed",
              c.tf(req, "payment.invoiced", payments::format_euro(order->amount_cents),
                   order->kassenzeichen, core::format_day_de(order->invoice_due.value_or("")))};
    if (payments::info(order->state).finished) return {"in_progress", c.t(req, "payment.failed")};
    return {"in_progress", c.t(req, "payment.open")};
  }
  return {"not_started", c.tf(req, "payment.amount", payments::format_euro(*amount))};
}

std::optional<forms::FormVersion> form_of(const Ctx& c, const Application& a) {
  return c.options.forms->published(a.config.form, a.config.form_version);
}

forms::Filling filling_for(const Ctx& c, const Request& req, const forms::FormVersion& form,
                           const Application& a) {
  forms::FillContext context;
  context.now = c.options.clock->now();
  context.locale = req.locale;
  if (c.options.prefill && req.session && !a.is_guest())
    c.options.prefill->fill(*req.session, context);
  // a guest's confirmed address is the one to ask for again least
  if (a.is_guest() && a.guest_confirmed) context.prefill["account.email"] = a.guest_email;
  return forms::Filling(form.form, c.pages.catalog(), std::move(context));
}

Response task_list(const Ctx& c, Request& req, Application& a) {
  auto base = base_of(a.id);
  auto actor = actor_of(c, req);
  std::vector<Task> tasks;
  // identification
  Task ident{"identifikation", c.t(req, "tasks.identification"), "", "completed", ""};
  if (a.is_guest()) {
    ident.note = c.t(req, "tasks.guest_confirmed");
  } else {
    auto required = identity::parse_level(a.config.min_level).value_or(identity::TrustLevel::low);
    if (actor.level >= required) {
      ident.note =
          c.tf(req, "tasks.level_ok", level_text(c, req, identity::level_name(actor.level)));
    } else {
      ident.state = "in_progress";
      ident.note = c.tf(req, "tasks.level_low", level_text(c, req, a.config.min_level));
      if (auto where = identity::step_up_location(*c.options.accounts, *req.session, required,
                                                  c.options.has_upstream, base)) {
        ident.href = *where;
      }
    }
  }
  tasks.push_back(ident);
  // form
  auto form = form_of(c, a);
  bool form_done = false;
  bool locked = c.apps.paid(a);
  Task ftask{"formular", c.t(req, "tasks.form"), "", "not_started", ""};
  if (form) {
    auto f = filling_for(c, req, *form, a);
    auto answers = f.prefilled(a.answers);
    auto next = f.next_page(answers);
    form_done = next.empty() && f.finish(answers).has_value();
    auto route = f.route(answers);
    ftask.state =
        form_done ? "completed" : (a.answers.contains("_done") ? "in_progress" : "not_started");
    if (!locked) {
      ftask.href = next.empty()
                       ? (route.empty() ? std::string()
                                        : fmt::format("{}/formular/{}", base, route.front()->id))
                       : fmt::format("{}/formular/{}", base, next);
    }
    if (locked) ftask.note = c.t(req, "tasks.paid_locked");
  }
  tasks.push_back(ftask);
  // documents
  bool docs_done = true;
  if (!a.config.documents.empty()) {
    Task dtask{"unterlagen", c.t(req, "tasks.documents"), base + "/unterlagen", "not_started", ""};
    bool any = !a.documents.empty();
    for (std::size_t i = 0; i < a.config.documents.size(); ++i) {
      if (!a.config.documents[i].required) continue;
      bool has = std::any_of(a.documents.begin(), a.documents.end(), [&](const Document& d) {
        return d.requirement == static_cast<int>(i);
      });
      if (!has) docs_done = false;
    }
    // nothing uploaded yet is "not started", also where every document is optional (then
    // the check can start all the same)
    dtask.state = !any ? "not_started" : (docs_done ? "completed" : "in_progress");
    tasks.push_back(dtask);
  }
  // payment
  bool pay_done = true;
  if (a.has_fee()) {
    auto p = payment_state(c, req, a, form_done);
    Task ptask{"zahlung", c.t(req, "tasks.payment"), "", p.state, p.note};
    pay_done = p.state == "completed";
    tasks.push_back(ptask);
  }
  bool ready = form_done && docs_done && pay_done && ident.state == "completed";
  tasks.push_back({"pruefen", c.t(req, "tasks.check"), ready ? base + "/pruefen" : "",
                   ready ? "not_started" : "cannot_start", ""});
  View model;
  model.set("title", a.title);
  model.set("reference", a.reference);
  model.set("authority", a.authority_name);
  model.set("version", std::to_string(a.online_service_version));
  if (a.draft_expires_at) model.set("expires", core::format_berlin(*a.draft_expires_at));
  model.set_list("tasks", {});
  int n = 0;
  for (const auto& t : tasks) model.add("tasks", task_view(c, req, t, ++n));
  // the payment button where the payment is due
  if (a.has_fee() && form_done && !pay_done) {
    model.set("pay_action", base + "/bezahlen");
  }
  model.set("discard_href", base + "/verwerfen");
  req.csrf_token();
  return c.pages.render(req, "applications/tasks", std::move(model));
}

View event_view(const Ctx& c, const Request& req, const Event& e) {
  View v;
  v.set("at", core::format_berlin(e.at));
  v.set("status", c.t(req, fmt::format("status.{}", status_name(e.status))));
  if (!e.text.empty()) v.set("text", e.text);
  return v;
}

// The form a refusal belongs to when it is the message form's (not a request's).
constexpr std::string_view kMessageForm = "#nachricht";

// The messages with the authority, and the form to write one (`sent_text` and the error
// fields of a refused one at it).
void conversation(const Ctx& c, Request& req, View& model, const Application& a,
                  const core::Error* refused, const std::string& sent_text) {
  auto list = c.apps.messages(actor_of(c, req), a.id);
  if (!list || a.case_id.empty()) return;
  model.set("conversation_open", true);
  model.set_list("conversation", {});
  for (const auto& m : *list) {
    View v;
    bool mine = m.direction == "from_applicant";
    v.set("subject", !m.subject.empty() ? m.subject
                     : m.locked         ? c.t(req, "messages.locked_subject")
                                        : c.t(req, "messages.write"));
    v.set("from", mine ? c.t(req, "messages.from_you") : a.authority_name);
    v.set("at", core::format_berlin(m.created_at));
    if (m.locked) {
      v.set("locked",
            c.tf(req, "messages.locked",
                 c.pages.catalog().text(req.locale, "identity.levels." + m.required_level)));
    }
    v.set_list("paragraphs", {});
    std::istringstream in(m.body);
    for (std::string line; std::getline(in, line);) {
      if (!core::trim(line).empty()) v.add("paragraphs", View::of(std::string(core::trim(line))));
    }
    v.set_list("files", {});
    for (const auto& f : m.files) {
      View file;
      file.set("href", fmt::format("{}/nachrichten/{}/{}", base_of(a.id), m.id, f.position));
      file.set("filename", f.filename);
      v.add("files", std::move(file));
    }
    v.set("has_files", !m.files.empty());
    model.add("conversation", std::move(v));
  }
  model.set("can_write", a.status != Status::withdrawn && a.status != Status::ended);
  model.set("write_action", base_of(a.id) + "/nachrichten");
  model.set("text_value", sent_text);
  if (refused) {
    for (const auto& f : refused->fields) {
      model.set(f.field == "anlagen" ? "files_error" : "text_error", f.message);
    }
    add_errors(c, req, model, *refused, [](const std::string& field) {
      return field == "anlagen" ? std::string("#anlagen") : std::string("#nachricht");
    });
  }
  req.csrf_token();
}

// `refused`: what an upload in answer to a request, or a message (kMessageForm), was
// refused for (shown at its form).
Response detail(const Ctx& c, Request& req, const Application& a, bool confirmation,
                const core::Error* refused = nullptr, std::string_view refused_request = {},
                int status = 200, const std::string& sent_text = {}) {
  View model;
  auto base = base_of(a.id);
  auto actor = actor_of(c, req);
  bool for_message = refused && refused_request == kMessageForm;
  conversation(c, req, model, a, for_message ? refused : nullptr, sent_text);
  if (for_message && !refused->fields.empty()) refused = nullptr;
  model.set_list("requests", {});
  bool shown = false;  // the refusal, at its request's form
  if (auto open = c.apps.requests(actor, a.id)) {
    for (const auto& r : *open) {
      View v;
      v.set("id", r.id);
      v.set_list("items", {});
      for (const auto& item : r.items) v.add("items", View::of(item));
      v.set("deadline", c.tf(req, "requests.deadline", core::format_day_de(r.deadline_on)));
      if (!r.note.empty()) v.set("note", r.note);
      v.set("action", fmt::format("{}/nachreichen/{}", base, web::url_encode(r.id)));
      if (refused && r.id == refused_request) {
        v.set("error", refused->fields.empty() ? refused->message : refused->fields[0].message);
        add_errors(c, req, model, *refused,
                   [&](const std::string&) { return fmt::format("#dateien-{}", r.id); });
        shown = true;
      }
      model.add("requests", std::move(v));
    }
    req.csrf_token();
  }
  // refused for a reason of its own (the request closed, the trust level): the summary only
  if (refused && !shown) {
    add_errors(c, req, model, *refused, [](const std::string&) { return std::string("#stand"); });
  }
  if (Applications::may_withdraw(a)) model.set("withdraw_href", base + "/zurueckziehen");
  model.set("title", confirmation ? c.t(req, "confirmation.title") : a.title);
  model.set("confirmation", confirmation);
  model.set("service_name", a.title);
  model.set("intro", c.tf(req, "confirmation.intro", a.title));
  model.set("reference", a.reference);
  model.set("authority", a.authority_name);
  model.set("status", c.t(req, fmt::format("status.{}", status_name(a.status))));
  if (a.submitted_at) {
    model.set("submitted", core::format_berlin(*a.submitted_at));
    model.set("pdf", base + "/antrag.pdf");
  }
  if (!a.config.confirmation_text.empty()) model.set("next", a.config.confirmation_text);
  model.set("received", a.received_at.has_value());
  model.set("guest", a.is_guest());
  if (!a.external_url.empty()) model.set("external_url", a.external_url);
  model.set_list("events", {});
  for (const auto& e : c.apps.events(a.id)) model.add("events", event_view(c, req, e));
  // the notices and messages about it in the owner's mailbox (by its reference number)
  model.set_list("messages", {});
  bool has_messages = false;
  if (!a.is_guest() && c.options.mailbox) {
    for (const auto& m : c.options.mailbox->inbox(a.owner.id)) {
      if (m.reference != a.reference) continue;
      View v;
      v.set("href", "/postfach/" + m.id);
      v.set("subject", m.subject);
      v.set("kind", c.pages.catalog().text(
                        req.locale, m.notice ? "mailbox.kind.notice" : "mailbox.kind.message"));
      v.set("provided", core::format_berlin(m.provided_at));
      model.add("messages", std::move(v));
      has_messages = true;
    }
  }
  model.set("has_messages", has_messages);
  return c.pages.render(req, "applications/detail", std::move(model), status);
}

Response vorhaben(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  if (a->status == Status::draft && a->client_id.empty()) return task_list(c, req, *a);
  return detail(c, req, *a, false);
}

Response confirmation(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  if (a->status == Status::draft) return Response::redirect(base_of(a->id));
  return detail(c, req, *a, true);
}

// ---- the form -----------------------------------------------------------------------

Response render_form_page(const Ctx& c, Request& req, const Application& a, const forms::Filling& f,
                          const std::string& page_id, const forms::Answers& answers,
                          const forms::Answers* entered, const core::Error* error, int status) {
  auto base = base_of(a.id);
  auto model = f.page_view(page_id, answers, entered, error);
  auto back = f.previous_page(answers, page_id);
  model.set("back", back.empty() ? base : fmt::format("{}/formular/{}", base, back));
  model.set("action", fmt::format("{}/formular/{}", base, page_id));
  req.csrf_token();
  return c.pages.render(req, "forms/page", std::move(model), status);
}

Response form_page(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  auto base = base_of(a->id);
  if (a->status != Status::draft || c.apps.paid(*a)) return Response::redirect(base);
  auto form = form_of(c, *a);
  if (!form) return c.pages.error(req, core::Error::not_found("form gone"));
  auto f = filling_for(c, req, *form, *a);
  auto answers = f.prefilled(a->answers);
  auto page_id = req.param("page");
  if (!f.reachable(answers, page_id)) {
    auto next = f.next_page(answers);
    return Response::redirect(next.empty() ? base : fmt::format("{}/formular/{}", base, next));
  }
  if (req.method == web::Method::get)
    return render_form_page(c, req, *a, f, page_id, answers, nullptr, nullptr, 200);
  auto outcome = f.submit(page_id, answers, web::parse_urlencoded(req.body));
  if (outcome.stay)
    return render_form_page(c, req, *a, f, page_id, answers, &outcome.entered, nullptr, 200);
  if (outcome.error)
    return render_form_page(c, req, *a, f, page_id, answers, &outcome.entered, &*outcome.error,
                            422);
  auto saved = c.apps.save_answers(actor_of(c, req), a->id, outcome.answers);
  if (!saved) return c.pages.error(req, saved.error());
  if (outcome.next.empty() || outcome.exit) return Response::redirect(base);
  return Response::redirect(fmt::format("{}/formular/{}", base, outcome.next));
}

// ---- documents ----------------------------------------------------------------------

Response documents_page(const Ctx& c, Request& req, const Application& a, const core::Error* error,
                        int status) {
  auto base = base_of(a.id);
  View model;
  model.set("title", error ? fmt::format("{}: {}", c.t(req, "check.error_prefix"),
                                         c.t(req, "documents.title"))
                           : c.t(req, "documents.title"));
  model.set("service_name", a.title);
  model.set("back", base);
  model.set("action", base + "/unterlagen");
  model.set_list("rules", {});
  for (std::size_t i = 0; i < a.config.documents.size(); ++i) {
    const auto& rule = a.config.documents[i];
    View r;
    auto field = fmt::format("datei-{}", i);
    r.set("id", field);
    r.set("index", std::to_string(i));
    r.set("name", rule.name);
    r.set("need", c.t(req, rule.required ? "documents.required" : "documents.optional"));
    r.set("allowed",
          c.tf(req, "documents.allowed", type_names(rule.types), megabytes(rule.max_bytes)));
    if (rule.multiple)
      r.set("several", c.tf(req, "documents.several", catalog::kMaxFilesPerDocument));
    r.set("accept", [&] {
      std::string out;
      for (const auto& t : rule.types) out += (out.empty() ? "" : ",") + t;
      return out;
    }());
    r.set_list("files", {});
    int count = 0;
    for (const auto& d : a.documents) {
      if (d.requirement != static_cast<int>(i)) continue;
      ++count;
      View f;
      f.set("name", d.filename);
      f.set("size", c.tf(req, "documents.size", (d.size + 1023) / 1024));
      f.set("href", fmt::format("{}/unterlagen/{}", base, d.id));
      f.set("remove_action", fmt::format("{}/unterlagen/{}/entfernen", base, d.id));
      r.add("files", std::move(f));
    }
    r.set("has_files", count > 0);
    r.set("can_add", count < (rule.multiple ? catalog::kMaxFilesPerDocument : 1));
    if (error) {
      for (const auto& fe : error->fields) {
        if (fe.field == field) r.set("error", fe.message);
      }
    }
    model.add("rules", std::move(r));
  }
  if (error) {
    add_errors(c, req, model, *error, [](const std::string& field) {
      return field.empty() ? std::string("#unterlagen") : "#" + field;
    });
  }
  req.csrf_token();
  return c.pages.render(req, "applications/documents", std::move(model), status);
}

Response documents(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  if (a->status != Status::draft) return Response::redirect(base_of(a->id));
  return documents_page(c, req, *a, nullptr, 200);
}

Response upload(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  if (a->status != Status::draft) return Response::redirect(base_of(a->id));
  auto parts = web::parse_multipart(req, 8);
  if (!parts) return documents_page(c, req, *a, &parts.error(), 422);
  int requirement = -1;
  const web::Part* file = nullptr;
  for (const auto& p : *parts) {
    if (p.name == "unterlage") {
      try {
        requirement = std::stoi(p.body);
      } catch (const std::exception&) {
        requirement = -1;
      }
    } else if (p.name == "datei") {
      file = &p;
    }
  }
  auto actor = actor_of(c, req);
  core::Result<Document> added =
      file
          ? c.apps.add_document(actor, a->id, requirement, file->filename, file->body)
          : core::Result<Document>(core::fail(core::Error::invalid(
                fmt::format("datei-{}", std::max(requirement, 0)), c.t(req, "errors.file_empty"))));
  if (!added) {
    auto fresh = c.apps.find(actor, a->id);
    if (!fresh) return not_found(c, req);
    int status = added.error().code == core::ErrorCode::unavailable ? 503 : 422;
    if (added.error().code == core::ErrorCode::conflict) return Response::redirect(base_of(a->id));
    return documents_page(c, req, *fresh, &added.error(), status);
  }
  web::flash(req, c.tf(req, "documents.added", added->filename));
  return Response::redirect(base_of(a->id) + "/unterlagen");
}

Response remove_upload(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  auto removed = c.apps.remove_document(actor_of(c, req), a->id, req.param("document"));
  if (!removed && removed.error().code == core::ErrorCode::not_found) return not_found(c, req);
  if (removed) web::flash(req, c.t(req, "documents.removed"));
  return Response::redirect(base_of(a->id) + "/unterlagen");
}

// A file of the Vorhaben as a download: never shown inline, never cached, its type as stored.
Response file_download(std::string body, const std::string& media_type,
                       const std::string& filename) {
  Response r;
  r.body = std::move(body);
  r.set_header("Content-Type", media_type);
  r.set_header("Content-Disposition", web::attachment_disposition(filename));
  r.set_header("Cache-Control", "no-store");
  r.set_header("X-Content-Type-Options", "nosniff");
  return r;
}

Response download(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  const Document* doc = nullptr;
  for (const auto& d : a->documents) {
    if (d.id == req.param("document")) doc = &d;
  }
  if (!doc) return not_found(c, req);
  std::ostringstream out;
  if (auto read = c.apps.read_document(actor_of(c, req), a->id, doc->id, out); !read)
    return c.pages.error(req, read.error());
  return file_download(out.str(), doc->media_type, doc->filename);
}

// ---- payment --------------------------------------------------------------------------

Response pay(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  auto where = c.apps.pay(actor_of(c, req), a->id);
  if (!where) {
    if (where.error().code == core::ErrorCode::conflict) {
      web::flash(req, where.error().message);
      return Response::redirect(base_of(a->id));
    }
    return c.pages.error(req, where.error());
  }
  return Response::redirect(*where);
}

// ---- check and submit -------------------------------------------------------------------

Response check_page(const Ctx& c, Request& req, const Application& a, const core::Error* error,
                    int status) {
  auto base = base_of(a.id);
  auto form = form_of(c, a);
  if (!form) return c.pages.error(req, core::Error::not_found("form gone"));
  auto f = filling_for(c, req, *form, a);
  bool locked = c.apps.paid(a);
  View model;
  model.set("title",
            error ? fmt::format("{}: {}", c.t(req, "check.error_prefix"), c.t(req, "check.title"))
                  : c.t(req, "check.title"));
  model.set("service_name", a.title);
  model.set("back", base);
  model.set("action", base + "/absenden");
  model.set("reference", a.reference);
  forms::add_summary(model, f.summary(f.prefilled(a.answers)), [&](const forms::SummaryRow& r) {
    return r.changeable && !locked ? fmt::format("{}/formular/{}#{}", base, r.page, r.anchor)
                                   : std::string();
  });
  model.set("has_document_rules", !a.config.documents.empty());
  model.set_list("documents", {});
  for (const auto& d : a.documents) {
    View v;
    auto idx = static_cast<std::size_t>(d.requirement);
    v.set("label", idx < a.config.documents.size() ? a.config.documents[idx].name : "");
    v.set("name", d.filename);
    model.add("documents", std::move(v));
  }
  model.set("documents_href", base + "/unterlagen");
  if (a.has_fee()) {
    auto p = payment_state(c, req, a, true);
    model.set("payment", p.note);
  }
  if (error) {
    add_errors(c, req, model, *error, [&](const std::string& field) -> std::string {
      if (field.starts_with("datei-")) return base + "/unterlagen#" + field;
      if (field == "formular" || field == "zahlung" || field == "identifikation") return base;
      return "#erklaerung";
    });
    for (const auto& fe : error->fields) {
      if (fe.field == "erklaerung") model.set("declaration_error", fe.message);
    }
  }
  req.csrf_token();
  return c.pages.render(req, "applications/check", std::move(model), status);
}

Response check(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  if (a->status != Status::draft) return Response::redirect(base_of(a->id) + "/bestaetigung");
  auto problems = c.apps.missing(actor_of(c, req), *a);
  if (!problems.fields.empty()) return check_page(c, req, *a, &problems, 200);
  return check_page(c, req, *a, nullptr, 200);
}

Response submit(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  auto submitted = c.apps.submit(actor_of(c, req), a->id, req.form("erklaerung") == "ja");
  if (!submitted) {
    if (submitted.error().code != core::ErrorCode::invalid_input)
      return c.pages.error(req, submitted.error());
    return check_page(c, req, *a, &submitted.error(), 422);
  }
  return Response::redirect(base_of(a->id) + "/bestaetigung");
}

Response answers_pdf(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  auto pdf = c.apps.output(actor_of(c, req), a->id, "pdf");
  if (!pdf) return c.pages.error(req, pdf.error());
  Response r;
  r.body = std::move(*pdf);
  r.set_header("Content-Type", "application/pdf");
  r.set_header("Content-Disposition", web::attachment_disposition(a->reference + ".pdf"));
  r.set_header("Cache-Control", "no-store");
  return r;
}

// ---- after the submission: documents the authority asks for, withdrawal -----------------

// The files sent in the parts named `name`; a form sent without a file chosen still has the
// part, empty and nameless.
std::vector<Applications::Upload> uploads_in(const std::vector<web::Part>& parts,
                                             std::string_view name) {
  std::vector<Applications::Upload> files;
  for (const auto& p : parts) {
    if (p.name == name && !(p.filename.empty() && p.body.empty()))
      files.push_back({.filename = p.filename, .content = p.body});
  }
  return files;
}

// The status of a page that shows a refused upload or message again.
int refusal_status(const core::Error& error) {
  using core::ErrorCode;
  switch (error.code) {
    case ErrorCode::unavailable:
      return 503;
    case ErrorCode::conflict:
      return 409;
    case ErrorCode::forbidden:
      return 403;
    case ErrorCode::rate_limited:
      return 429;
    default:
      return 422;
  }
}

Response answer_request(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  auto parts = web::parse_multipart(req, catalog::kMaxFilesPerDocument + 2);
  auto files = parts ? uploads_in(*parts, "dateien") : std::vector<Applications::Upload>{};
  auto request = req.param("request");
  // a body that cannot be split here has more parts than files are allowed
  auto sent = parts ? c.apps.answer_request(actor_of(c, req), a->id, request, files)
                    : core::Status(core::fail(
                          core::Error::invalid("dateien", c.t(req, "errors.too_many_files"))));
  if (sent) {
    web::flash(req, c.t(req, "requests.sent"));
    return Response::redirect(base_of(a->id));
  }
  if (sent.error().code == core::ErrorCode::not_found) return not_found(c, req);
  return detail(c, req, *a, false, &sent.error(), request, refusal_status(sent.error()));
}

// A message to the authority (multipart: nachricht, anlagen repeated).
Response send_message(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  auto parts = web::parse_multipart(req, catalog::kMaxFilesPerDocument + 2);
  auto files = parts ? uploads_in(*parts, "anlagen") : std::vector<Applications::Upload>{};
  std::string text;
  if (parts) {
    for (const auto& p : *parts) {
      if (p.name == "nachricht") text = p.body;
    }
  }
  auto sent = parts ? c.apps.send_message(actor_of(c, req), a->id, text, files)
                    : core::Status(core::fail(
                          core::Error::invalid("anlagen", c.t(req, "errors.too_many_files"))));
  if (sent) {
    web::flash(req, c.t(req, "messages.sent"));
    return Response::redirect(base_of(a->id) + "#nachrichten");
  }
  if (sent.error().code == core::ErrorCode::not_found) return not_found(c, req);
  return detail(c, req, *a, false, &sent.error(), kMessageForm, refusal_status(sent.error()), text);
}

Response message_file(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  auto n = req.param("n");
  int position = -1;
  auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), position);
  if (ec != std::errc() || p != n.data() + n.size()) return not_found(c, req);
  std::ostringstream out;
  auto file =
      c.apps.read_message_file(actor_of(c, req), a->id, req.param("message"), position, out);
  if (!file) return not_found(c, req);
  return file_download(out.str(), file->media_type, file->filename);
}

Response withdraw_page(const Ctx& c, Request& req, const core::Error* error = nullptr,
                       int status = 200) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  if (!error && a->status == Status::withdrawn) return Response::redirect(base_of(a->id));
  View model;
  model.set("title", c.t(req, "withdraw.title"));
  model.set("question", c.tf(req, "withdraw.question", a->title, a->reference));
  model.set("action", base_of(a->id) + "/zurueckziehen");
  model.set("back", base_of(a->id));
  model.set("can_withdraw", Applications::may_withdraw(*a));
  if (error) {
    add_errors(c, req, model, *error, [](const std::string&) { return std::string("#fehler"); });
  } else if (!Applications::may_withdraw(*a)) {
    core::Error why = core::Error::conflict(c.t(req, "errors.not_withdrawable"));
    add_errors(c, req, model, why, [](const std::string&) { return std::string("#fehler"); });
  }
  req.csrf_token();
  return c.pages.render(req, "applications/withdraw", std::move(model), status);
}

Response withdraw(const Ctx& c, Request& req) {
  Response refused;
  auto a = mine(c, req, refused);
  if (!a) return refused;
  auto done = c.apps.withdraw(actor_of(c, req), a->id);
  if (!done && done.error().code == core::ErrorCode::not_found) return not_found(c, req);
  if (!done) {
    using enum core::ErrorCode;
    auto code = done.error().code;
    return withdraw_page(c, req, &done.error(),
                         code == conflict    ? 409
                         : code == forbidden ? 403
                                             : 503);
  }
  web::flash(req, c.t(req, "withdraw.done"));
  return Response::redirect(base_of(a->id));
}

// ---- discard and reminders --------------------------------------------------------------

Response discard_page(const Ctx& c, Request& req) {
  auto token = req.query_param("token").value_or("");
  std::optional<Application> a;
  if (!token.empty()) {
    a = c.apps.get(req.param("id"));
    if (!a || !core::crypto::equal_constant_time(c.apps.reminder_token(a->id), token))
      return not_found(c, req);
  } else {
    Response refused;
    a = mine(c, req, refused);
    if (!a) return refused;
  }
  if (a->status != Status::draft) return Response::redirect(base_of(a->id));
  View model;
  model.set("title", c.t(req, "discard.title"));
  model.set("question", c.tf(req, "discard.question", a->title, a->reference));
  model.set("action", base_of(a->id) + "/verwerfen");
  model.set("token", token);
  model.set("back", token.empty() ? base_of(a->id) : std::string("/"));
  req.csrf_token();
  return c.pages.render(req, "applications/discard", std::move(model));
}

Response discard(const Ctx& c, Request& req) {
  auto token = req.form("token").value_or("");
  core::Status done;
  if (!token.empty()) {
    done = c.apps.discard_by_token(req.param("id"), token);
  } else {
    done = c.apps.discard(actor_of(c, req), req.param("id"));
  }
  if (!done && done.error().code == core::ErrorCode::not_found) {
    if (token.empty() && (!req.session || req.session->account_id.empty()) &&
        guest_links(req).empty())
      return web::to_login(req);
    return not_found(c, req);
  }
  if (!done) return c.pages.error(req, done.error());
  web::flash(req, c.t(req, "discard.done"));
  return Response::redirect(req.session && !req.session->account_id.empty() ? "/meine-antraege"
                                                                            : "/");
}

Response reminders_page(const Ctx& c, Request& req) {
  auto token = req.query_param("token").value_or("");
  auto a = c.apps.get(req.param("id"));
  if (!a || token.empty() ||
      !core::crypto::equal_constant_time(c.apps.reminder_token(a->id), token))
    return not_found(c, req);
  View model;
  model.set("title", c.t(req, "reminders.title"));
  model.set("question", c.tf(req, "reminders.question", a->title));
  model.set("action", base_of(a->id) + "/keine-erinnerungen");
  model.set("token", token);
  model.set("done", a->reminders_off);
  model.set("done_text", c.t(req, "reminders.done"));
  req.csrf_token();
  return c.pages.render(req, "applications/reminders", std::move(model));
}

Response stop_reminders(const Ctx& c, Request& req) {
  auto stopped = c.apps.stop_reminders(req.param("id"), req.form("token").value_or(""));
  if (!stopped) return not_found(c, req);
  web::flash(req, c.t(req, "reminders.done"));
  return Response::redirect(fmt::format("{}/keine-erinnerungen?token={}", base_of(stopped->id),
                                        web::url_encode(req.form("token").value_or(""))));
}

// ---- Meine Anträge ------------------------------------------------------------------------

Response my_applications(const Ctx& c, Request& req) {
  auto actor = actor_of(c, req);
  if (actor.account_id.empty() && actor.guest_of.empty()) return web::to_login(req);
  View model;
  model.set("title", c.t(req, "list.title"));
  model.set_list("applications", {});
  auto list = c.apps.list(actor);
  for (const auto& a : list) {
    View v;
    v.set("title", a.title);
    v.set("href", base_of(a.id));
    v.set("authority", a.authority_name);
    v.set("reference", a.reference);
    v.set("status", c.t(req, fmt::format("status.{}", status_name(a.status))));
    v.set("draft", a.status == Status::draft);
    if (Applications::may_withdraw(a)) v.set("withdraw_href", base_of(a.id) + "/zurueckziehen");
    v.set("updated", core::format_berlin(a.updated_at));
    model.add("applications", std::move(v));
  }
  model.set("has_applications", !list.empty());
  if (!actor.organisation_id.empty() && req.session) {
    if (auto org = identity::acting_for(*c.options.organisations, *req.session))
      model.set("organisation", c.tf(req, "list.organisation", org->name));
  }
  return c.pages.render(req, "applications/list", std::move(model));
}

}  // namespace

void register_pages(web::Router& router, const web::Pages& pages, Applications& apps,
                    PageOptions options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, apps, options});
  auto get = [&](const std::string& path, Response (*fn)(const Ctx&, Request&)) {
    router.get(path, [c, fn](Request& req) { return fn(*c, req); });
  };
  auto post = [&](const std::string& path, Response (*fn)(const Ctx&, Request&)) {
    router.post(path, [c, fn](Request& req) { return fn(*c, req); });
  };
  router.get("/antrag/{service}", [c](Request& req) { return start_page(*c, req, nullptr, 200); });
  post("/antrag/{service}/starten", start_as_account);
  router.get("/antrag/{service}/gast",
             [c](Request& req) { return guest_page(*c, req, "", nullptr, 200); });
  post("/antrag/{service}/gast", start_as_guest);
  // the token in the query, as every link with a secret here: the logs name the path only
  get("/antrag/gast", open_guest_link);
  get("/antrag/vorhaben/{id}", vorhaben);
  get("/antrag/vorhaben/{id}/formular/{page}", form_page);
  post("/antrag/vorhaben/{id}/formular/{page}", form_page);
  get("/antrag/vorhaben/{id}/unterlagen", documents);
  post("/antrag/vorhaben/{id}/unterlagen", upload);
  get("/antrag/vorhaben/{id}/unterlagen/{document}", download);
  post("/antrag/vorhaben/{id}/unterlagen/{document}/entfernen", remove_upload);
  post("/antrag/vorhaben/{id}/bezahlen", pay);
  get("/antrag/vorhaben/{id}/zahlung", vorhaben);
  get("/antrag/vorhaben/{id}/pruefen", check);
  post("/antrag/vorhaben/{id}/absenden", submit);
  get("/antrag/vorhaben/{id}/bestaetigung", confirmation);
  get("/antrag/vorhaben/{id}/antrag.pdf", answers_pdf);
  get("/antrag/vorhaben/{id}/verwerfen", discard_page);
  post("/antrag/vorhaben/{id}/verwerfen", discard);
  post("/antrag/vorhaben/{id}/nachreichen/{request}", answer_request);
  get("/antrag/vorhaben/{id}/zurueckziehen",
      [](const Ctx& ctx, Request& req) { return withdraw_page(ctx, req); });
  post("/antrag/vorhaben/{id}/zurueckziehen", withdraw);
  post("/antrag/vorhaben/{id}/nachrichten", send_message);
  get("/antrag/vorhaben/{id}/nachrichten/{message}/{n}", message_file);
  get("/antrag/vorhaben/{id}/keine-erinnerungen", reminders_page);
  post("/antrag/vorhaben/{id}/keine-erinnerungen", stop_reminders);
  get("/meine-antraege", my_applications);
}

}  // namespace mvsp::applications
