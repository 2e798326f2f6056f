// The payer's step: /zahlung/{id}?token=… (the link an online service sends its payer to)
// grants this browser session the order and forgets the token; the page offers online
// payment (the provider's page) and, where allowed, an invoice; coming back from the
// provider asks the provider (never the redirect) and ends on a result page for every
// state. /zahlung/benachrichtigung/{provider} takes the providers' signed pushes.
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/forms.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <mvsp/web/view.hpp>
#include <sstream>

#include "page_context.hpp"
#include "routes.hpp"

namespace mvsp::payments {

namespace {

using web::Request;
using web::Response;
using web::View;

constexpr const char* kGranted = "payments.granted";
constexpr std::size_t kMaxGranted = 10;

using Ctx = PageContext;

std::vector<std::string> granted(const Request& req) {
  std::vector<std::string> out;
  if (!req.session) return out;
  auto it = req.session->data.find(kGranted);
  if (it == req.session->data.end()) return out;
  std::istringstream in(it->second);
  for (std::string id; in >> id;) out.push_back(id);
  return out;
}

void grant(Request& req, const std::string& id) {
  auto ids = granted(req);
  std::erase(ids, id);
  ids.push_back(id);
  // A session keeps the last few payments it was sent to.
  if (ids.size() > kMaxGranted) ids.erase(ids.begin(), ids.end() - kMaxGranted);
  std::string value;
  for (const auto& i : ids) value += (value.empty() ? "" : " ") + i;
  auto& session = req.ensure_session();
  session.data[kGranted] = value;
  session.dirty = true;
}

// The order this session was granted; none for anyone else (404: no hint that it exists).
std::optional<Order> own_order(const Ctx& c, const Request& req) {
  auto id = req.param("id");
  auto ids = granted(req);
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) return std::nullopt;
  return c.payments.get(id);
}

void add_facts(const Ctx& c, const Request& req, const Order& o, View& model) {
  auto fact = [&](const char* key, std::string value) {
    View v;
    v.set("label", c.t(req, fmt::format("facts.{}", key)));
    v.set("value", std::move(value));
    model.add("facts", std::move(v));
  };
  model.set_list("facts", {});
  fact("purpose", o.purpose);
  fact("amount", format_euro(o.amount_cents));
  fact("payee", o.payee);
  fact("kassenzeichen", o.kassenzeichen);
  if (!o.reference.empty()) fact("reference", o.reference);
}

Response not_found(const Ctx& c, Request& req) {
  return c.pages.error(req, core::Error::not_found("no such payment"));
}

// Our order ids are 26 characters of lower-case base32: anything else is no order (and
// never goes into a Location header).
bool plain_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
  });
}

Response enter(const Ctx& c, Request& req) {
  auto id = req.param("id");
  if (!plain_id(id)) return not_found(c, req);
  if (auto token = req.query_param("token")) {
    // The link works once; the session holds the grant from now on, and the token leaves
    // the address bar (and any Referer) at once.
    if (c.payments.redeem_pay_token(id, *token)) grant(req, id);
    return Response::redirect("/zahlung/" + id);
  }
  auto o = own_order(c, req);
  if (!o) return not_found(c, req);
  if (o->state != State::created && o->state != State::started) {
    return Response::redirect("/zahlung/" + o->id + "/ergebnis");
  }
  auto account = c.payments.account(o->authority_id);
  View model;
  model.set("title", c.t(req, "pay.title"));
  model.set("id", o->id);
  add_facts(c, req, *o, model);
  std::vector<std::pair<std::string, std::string>> methods;
  if (account && !account->provider.empty() && c.payments.provider(account->provider)) {
    methods.emplace_back("online", c.t(req, "pay.online"));
  }
  if (account && account->invoice && o->state == State::created) {
    methods.emplace_back("rechnung", c.t(req, "pay.invoice"));
  }
  model.set("has_methods", !methods.empty());
  // With one way to pay it is chosen already; a form sent without a choice comes back
  // with the error (?fehler=1), as the page is reached again by a redirect.
  bool missing = req.query_param("fehler").has_value();
  auto error = core::Error::invalid("method", c.t(req, "pay.choose_error"));
  if (missing) {
    View summary;
    summary.set("id", "method");
    summary.set("message", error.fields.front().message);
    model.set("has_errors", true);
    model.set_list("errors", {std::move(summary)});
    model.set("error_title", c.t(req, "pay.error_title"));
  }
  model.set("methods",
            web::choices_view("method", c.t(req, "pay.choose"), "method", "radio", methods,
                              methods.size() == 1 ? std::vector{methods.front().first}
                                                  : std::vector<std::string>{},
                              missing ? &error : nullptr));
  model.set("return_url", o->return_url);
  auto res = c.pages.render(req, "payments/pay", std::move(model));
  if (auto origin = c.options.provider_origins.find(account ? account->provider : "");
      origin != c.options.provider_origins.end() && !methods.empty() &&
      methods.front().first == "online") {
    res.form_targets.push_back(origin->second);
  }
  return res;
}

Response choose(const Ctx& c, Request& req, const std::string& public_url) {
  auto o = own_order(c, req);
  if (!o) return not_found(c, req);
  auto method = req.form("method").value_or("");
  if (method == "rechnung") {
    auto invoiced = c.payments.invoice(o->id);
    if (!invoiced) return c.pages.error(req, invoiced.error());
    return Response::redirect("/zahlung/" + o->id + "/ergebnis");
  }
  if (method == "online") {
    auto url = c.payments.start(o->id, fmt::format("{}/zahlung/{}/zurueck", public_url, o->id));
    if (!url) return c.pages.error(req, url.error());
    // The provider's page: the one redirect to another site, to the URL the provider gave.
    return Response::redirect(*url);
  }
  return Response::redirect("/zahlung/" + o->id + "?fehler=1");
}

Response back(const Ctx& c, Request& req) {
  auto o = own_order(c, req);
  if (!o) return not_found(c, req);
  // The redirect says nothing: ask the provider what happened.
  (void)c.payments.returned(o->id);
  return Response::redirect("/zahlung/" + o->id + "/ergebnis");
}

Response result(const Ctx& c, Request& req) {
  auto o = own_order(c, req);
  if (!o) return not_found(c, req);
  auto state = std::string(info(o->state).name);
  View model;
  model.set("title", c.t(req, fmt::format("result.{}.title", state)));
  model.set("text", c.t(req, fmt::format("result.{}.text", state)));
  model.set("id", o->id);
  auto status = std::string(info(o->state).status);
  model.set("success", status == "success");
  model.set("pending", status == "submitted" && o->state != State::invoiced);
  model.set("unfinished", status == "created" || status == "started");
  model.set("failed", info(o->state).finished && status != "success");
  model.set("invoiced", o->state == State::invoiced);
  add_facts(c, req, *o, model);
  if (o->invoice_due) {
    auto d = *o->invoice_due;
    View v;
    v.set("label", c.t(req, "facts.due"));
    v.set("value", core::format_day_de(d));
    model.add("facts", std::move(v));
    View iban;
    iban.set("label", c.t(req, "facts.iban"));
    std::string grouped;
    for (std::size_t i = 0; i < o->iban.size(); ++i) {
      if (i > 0 && i % 4 == 0) grouped += ' ';
      grouped += o->iban[i];
    }
    iban.set("value", grouped);
    model.add("facts", std::move(iban));
  }
  model.set("return_url", o->return_url);
  return c.pages.render(req, "payments/result", std::move(model));
}

Response invoice_pdf(const Ctx& c, Request& req) {
  auto o = own_order(c, req);
  if (!o) return not_found(c, req);
  auto pdf = c.payments.invoice_pdf(o->id);
  if (!pdf) return c.pages.error(req, pdf.error());
  Response res;
  res.body = std::move(*pdf);
  res.set_header("Content-Type", "application/pdf");
  res.set_header("Content-Disposition",
                 fmt::format("attachment; filename=\"Rechnung-{}.pdf\"", o->kassenzeichen));
  res.set_header("Cache-Control", "no-store");
  return res;
}

Response notification(Payments& payments, Request& req) {
  auto done = payments.notify(req.param("provider"), req.headers, req.body);
  if (!done) return web::problem(req, done.error());
  Response res;
  res.status = 204;
  return res;
}

}  // namespace

void register_pages(web::Router& router, const web::Pages& pages, Payments& payments,
                    const PageOptions& options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, payments, options});
  router.get("/zahlung/{id}", [c](Request& req) { return enter(*c, req); });
  router.post("/zahlung/{id}",
              [c](Request& req) { return choose(*c, req, c->options.public_url); });
  router.get("/zahlung/{id}/zurueck", [c](Request& req) { return back(*c, req); });
  router.get("/zahlung/{id}/ergebnis", [c](Request& req) { return result(*c, req); });
  router.get("/zahlung/{id}/rechnung.pdf", [c](Request& req) { return invoice_pdf(*c, req); });
  // The provider's server calls this: no session, no CSRF token; the signature proves it.
  router.post_from_other_site("/zahlung/benachrichtigung/{provider}",
                              [&payments](Request& req) { return notification(payments, req); });
}

}  // namespace mvsp::payments
