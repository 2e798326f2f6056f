// The staff's pages of payments, for members of an authority (tenant): clerks, the cash
// office (cashier) and the authority's admins find orders and read their journal; the
// cash office and admins refund, mark invoices paid, cancel and read bank statements; the
// admins keep the authority's payment account. Every page checks the person's roles for
// the order's tenant; an order of another tenant does not exist for them.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <mvsp/core/text.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/forms.hpp>
#include <mvsp/web/multipart.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <mvsp/web/view.hpp>

#include "page_context.hpp"
#include "routes.hpp"

namespace mvsp::payments {
namespace {

using web::Request;
using web::Response;
using web::View;

using Ctx = PageContext;

enum class Need { read, manage, admin };

// The use case names the field and the rule; the page says it in the person's language
// where the catalog has the rule's text (payments.errors.<field>).
core::Error localised(const Ctx& c, const Request& req, core::Error error) {
  for (auto& f : error.fields) {
    auto key = fmt::format("payments.errors.{}", f.field);
    if (auto text = c.pages.catalog().text(req.locale, key); text != key) f.message = text;
  }
  return error;
}

// The tenants whose payments the signed-in person may see (read), handle (manage: the cash
// office and admins) or configure (admin).
std::vector<std::string> tenants(const Ctx& c, const Request& req, Need need) {
  std::vector<std::string> out;
  if (!req.session || req.session->account_id.empty()) return out;
  for (const auto& [tenant, role] : c.options.roles_of(req.session->account_id)) {
    bool ok = role == "authority_admin" || (need != Need::admin && role == "cashier") ||
              (need == Need::read && role == "clerk");
    if (ok && std::find(out.begin(), out.end(), tenant) == out.end()) out.push_back(tenant);
  }
  return out;
}

std::string actor(const Request& req) {
  return "account:" + req.session->account_id;
}

// Who is refused: a visitor goes to the login; staff without the role see 403.
std::optional<Response> refuse(const Ctx& c, Request& req, const std::vector<std::string>& ids) {
  if (!req.session || req.session->account_id.empty()) return web::to_login(req);
  if (ids.empty()) return c.pages.error(req, 403);
  return std::nullopt;
}

// "12,50", "12.50", "12" euros as cents; nothing when it is not an amount.
std::optional<std::int64_t> parse_euro(std::string_view text) {
  text = core::trim(text);
  if (text.ends_with("€")) text = core::trim(text.substr(0, text.size() - 3));
  auto sep = text.find_first_of(",.");
  auto whole = text.substr(0, sep);
  auto frac = sep == std::string_view::npos ? std::string_view() : text.substr(sep + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 9 || frac.size() > 2 || !digits(whole) || !digits(frac) ||
      (sep != std::string_view::npos && frac.empty())) {
    return std::nullopt;
  }
  std::int64_t euros = 0;
  std::int64_t cents = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), euros);
  if (ec != std::errc() || p != whole.data() + whole.size()) return std::nullopt;
  if (!frac.empty()) {
    auto [q, ec2] = std::from_chars(frac.data(), frac.data() + frac.size(), cents);
    if (ec2 != std::errc() || q != frac.data() + frac.size()) return std::nullopt;
    if (frac.size() == 1) cents *= 10;
  }
  return euros * 100 + cents;
}

std::string day_of(const Ctx& c, const Request& req) {
  auto day = req.query_param("tag").value_or("");
  if (core::parse_day(day)) return day;
  return core::format_day(core::berlin_day(c.options.clock->now()));
}

// Staff read our own states (an open invoice is not "being checked").
std::string status_text(const Ctx& c, const Request& req, State s) {
  return c.t(req, fmt::format("state.{}", info(s).name));
}

std::string method_text(const Ctx& c, const Request& req, const std::string& method) {
  if (method.empty()) return {};
  auto key = fmt::format("payments.method.{}", method);
  auto text = c.pages.catalog().text(req.locale, key);
  return text == key ? method : text;
}

View order_row(const Ctx& c, const Request& req, const Order& o) {
  View v;
  v.set("id", o.id);
  v.set("kassenzeichen", o.kassenzeichen);
  v.set("amount", format_euro(o.amount_cents));
  v.set("status", status_text(c, req, o.state));
  v.set("purpose", o.purpose);
  v.set("payer", std::string(core::trim(o.payer.first_name + " " + o.payer.name)));
  v.set("created", core::format_berlin(o.created_at));
  return v;
}

void authority_choices(const Ctx& c, const std::vector<std::string>& tenant_ids,
                       const std::string& selected, View& model) {
  model.set_list("authorities", {});
  for (const auto& a : c.payments.accounts(tenant_ids)) {
    View v;
    v.set("id", a.authority_id);
    v.set("name", a.authority_name);
    v.set("selected", a.authority_id == selected);
    model.add("authorities", std::move(v));
  }
}

Response search(const Ctx& c, Request& req) {
  auto ids = tenants(c, req, Need::read);
  if (auto r = refuse(c, req, ids)) return *r;
  View model;
  model.set("title", c.t(req, "staff.search.title"));
  auto q = req.query_param("q").value_or("");
  auto authority = req.query_param("behoerde").value_or("");
  model.set("q", q);
  authority_choices(c, ids, authority, model);
  model.set_list("orders", {});
  auto orders = c.payments.search({.tenant_ids = ids, .text = q, .authority_id = authority});
  std::map<std::string, std::string> names;
  for (const auto& a : c.payments.accounts(ids)) names[a.authority_id] = a.authority_name;
  for (const auto& o : orders) {
    auto row = order_row(c, req, o);
    row.set("authority", names.contains(o.authority_id) ? names[o.authority_id] : o.authority_id);
    model.add("orders", std::move(row));
  }
  model.set("has_orders", !orders.empty());
  model.set("manage", !tenants(c, req, Need::manage).empty());
  model.set("admin", !tenants(c, req, Need::admin).empty());
  model.set("today", core::format_day(core::berlin_day(c.options.clock->now())));
  return c.pages.render(req, "payments/staff_search", std::move(model));
}

std::optional<Order> staff_order(const Ctx& c, const Request& req, Need need) {
  auto ids = tenants(c, req, need);
  auto o = c.payments.get(req.param("id"));
  if (!o || std::find(ids.begin(), ids.end(), o->tenant_id) == ids.end()) return std::nullopt;
  return o;
}

Response order_page(const Ctx& c, Request& req, const core::Error* error = nullptr,
                    const std::string& amount = {}, const std::string& reason = {}) {
  auto ids = tenants(c, req, Need::read);
  if (auto r = refuse(c, req, ids)) return *r;
  auto o = staff_order(c, req, Need::read);
  if (!o) return c.pages.error(req, core::Error::not_found("no such payment"));
  View model = order_row(c, req, *o);
  model.set("title", fmt::format("{} {}", c.t(req, "staff.order.title"), o->kassenzeichen));
  model.set_list("facts", {});
  auto fact = [&](const char* key, std::string value) {
    if (value.empty()) return;
    View v;
    v.set("label", c.t(req, fmt::format("facts.{}", key)));
    v.set("value", std::move(value));
    model.add("facts", std::move(v));
  };
  fact("kassenzeichen", o->kassenzeichen);
  fact("amount", format_euro(o->amount_cents));
  fact("status", status_text(c, req, o->state));
  fact("purpose", o->purpose);
  fact("case_reference", o->reference);
  fact("payer", std::string(core::trim(o->payer.first_name + " " + o->payer.name)));
  fact("method", method_text(c, req, o->method));
  if (o->method != "invoice") fact("provider", o->provider);
  fact("provider_reference", o->provider_reference);
  fact("budget_position", o->budget_position);
  fact("booking_account", o->booking_account);
  fact("refunded", o->refunded_cents > 0 ? format_euro(o->refunded_cents) : "");
  fact("created", core::format_berlin(o->created_at));
  if (o->paid_at) fact("paid", core::format_berlin(*o->paid_at));
  model.set_list("journal", {});
  for (const auto& e : c.payments.journal(o->id)) {
    View v;
    v.set("at", core::format_berlin(e.at));
    v.set("event", c.t(req, fmt::format("journal.{}", e.event)));
    v.set("state", e.to_state == e.from_state
                       ? std::string()
                       : status_text(c, req, parse_state(e.to_state).value_or(State::created)));
    v.set("amount", e.amount_cents == 0 ? std::string() : format_euro(e.amount_cents));
    v.set("actor", e.actor);
    model.add("journal", std::move(v));
  }
  model.set_list("refunds", {});
  for (const auto& f : c.payments.refunds(o->id)) {
    View v;
    v.set("at", core::format_berlin(f.created_at));
    v.set("amount", format_euro(f.amount_cents));
    v.set("status", c.t(req, fmt::format("refund_status.{}", refund_status_name(f.status))));
    v.set("route", c.t(req, fmt::format("refund_route.{}", f.route)));
    v.set("reason", f.reason);
    model.add("refunds", std::move(v));
  }
  bool manage = staff_order(c, req, Need::manage).has_value();
  model.set("can_refund", manage && o->state == State::paid && o->refunded_cents < o->amount_cents);
  model.set("can_mark_paid", manage && o->state == State::invoiced);
  model.set("can_cancel", manage && !info(o->state).finished);
  auto form =
      web::form_view({{.name = "amount",
                       .label = c.t(req, "staff.refund.amount"),
                       .value = amount,
                       .hint = fmt::format(fmt::runtime(c.t(req, "staff.refund.amount_hint")),
                                           format_euro(o->amount_cents - o->refunded_cents)),
                       .required = true,
                       .inputmode = "decimal"},
                      {.name = "reason",
                       .label = c.t(req, "staff.refund.reason"),
                       .value = reason,
                       .required = true}},
                     error, c.t(req, "staff.refund.error_title"));
  model.set("refund_form", std::move(form));
  return c.pages.render(req, "payments/staff_order", std::move(model), error ? 422 : 200);
}

Response refund(const Ctx& c, Request& req) {
  auto ids = tenants(c, req, Need::manage);
  if (auto r = refuse(c, req, ids)) return *r;
  auto o = staff_order(c, req, Need::manage);
  if (!o) return c.pages.error(req, core::Error::not_found("no such payment"));
  auto amount_text = req.form("amount").value_or("");
  auto reason = req.form("reason").value_or("");
  auto amount = parse_euro(amount_text);
  if (!amount) {
    auto e = core::Error::invalid("amount", c.t(req, "staff.refund.amount_error"));
    return order_page(c, req, &e, amount_text, reason);
  }
  auto done = c.payments.refund(o->tenant_id, o->id, *amount, reason, actor(req));
  if (!done) {
    if (done.error().code != core::ErrorCode::invalid_input) {
      return c.pages.error(req, done.error());
    }
    auto error = localised(c, req, done.error());
    return order_page(c, req, &error, amount_text, reason);
  }
  web::flash(req, fmt::format(fmt::runtime(c.t(req, "staff.refund.done")), format_euro(*amount)));
  return Response::redirect("/verwaltung/zahlungen/" + o->id);
}

Response mark_paid(const Ctx& c, Request& req) {
  auto ids = tenants(c, req, Need::manage);
  if (auto r = refuse(c, req, ids)) return *r;
  auto o = staff_order(c, req, Need::manage);
  if (!o) return c.pages.error(req, core::Error::not_found("no such payment"));
  auto done = c.payments.mark_paid(o->tenant_id, o->id, actor(req));
  if (!done) return c.pages.error(req, done.error());
  web::flash(req, c.t(req, "staff.order.marked_paid"));
  return Response::redirect("/verwaltung/zahlungen/" + o->id);
}

Response cancel(const Ctx& c, Request& req) {
  auto ids = tenants(c, req, Need::manage);
  if (auto r = refuse(c, req, ids)) return *r;
  auto o = staff_order(c, req, Need::manage);
  if (!o) return c.pages.error(req, core::Error::not_found("no such payment"));
  auto done = c.payments.cancel(o->tenant_id, o->id, actor(req));
  if (!done) return c.pages.error(req, done.error());
  web::flash(req, c.t(req, "staff.order.cancelled"));
  return Response::redirect("/verwaltung/zahlungen/" + o->id);
}

// The authority named in ?behoerde=, if the person may see it.
std::optional<Account> chosen_account(const Ctx& c, const Request& req, Need need) {
  auto id = req.query_param("behoerde").value_or(req.form("behoerde").value_or(""));
  auto a = c.payments.account(id);
  auto ids = tenants(c, req, need);
  if (!a || std::find(ids.begin(), ids.end(), a->tenant_id) == ids.end()) return std::nullopt;
  return a;
}

Response journal(const Ctx& c, Request& req) {
  auto ids = tenants(c, req, Need::read);
  if (auto r = refuse(c, req, ids)) return *r;
  auto accounts = c.payments.accounts(ids);
  auto a = chosen_account(c, req, Need::read);
  if (!a && !accounts.empty() && !req.query_param("behoerde")) a = accounts.front();
  if (!a) return c.pages.error(req, core::Error::not_found("no such authority"));
  auto day = day_of(c, req);
  View model;
  model.set("title", c.t(req, "staff.journal.title"));
  model.set("authority", a->authority_name);
  model.set("authority_id", a->authority_id);
  model.set("day", day);
  authority_choices(c, ids, a->authority_id, model);
  model.set_list("entries", {});
  auto entries = c.payments.journal_of_day(a->authority_id, day);
  for (const auto& e : entries) {
    auto o = c.payments.get(e.order_id);
    View v;
    v.set("at", core::format_berlin(e.at));
    v.set("href", "/verwaltung/zahlungen/" + e.order_id);
    v.set("kassenzeichen", o ? o->kassenzeichen : e.order_id);
    v.set("event", c.t(req, fmt::format("journal.{}", e.event)));
    v.set("state", e.to_state == e.from_state
                       ? std::string()
                       : status_text(c, req, parse_state(e.to_state).value_or(State::created)));
    v.set("amount", e.amount_cents == 0 ? std::string() : format_euro(e.amount_cents));
    model.add("entries", std::move(v));
  }
  model.set("has_entries", !entries.empty());
  auto e = c.payments.daily_export(a->authority_id, day);
  model.set("bookings", std::to_string(e.bookings.size()));
  model.set("payments_total", format_euro(e.payments_cents));
  model.set("refunds_total", format_euro(e.refunds_cents));
  model.set("total", format_euro(e.total_cents));
  model.set("stored", c.payments.stored_export(a->authority_id, day).has_value());
  return c.pages.render(req, "payments/staff_journal", std::move(model));
}

Response export_file(const Ctx& c, Request& req, bool json) {
  auto ids = tenants(c, req, Need::read);
  if (auto r = refuse(c, req, ids)) return *r;
  auto a = chosen_account(c, req, Need::read);
  if (!a) return c.pages.error(req, core::Error::not_found("no such authority"));
  auto day = day_of(c, req);
  // The file the scheduled job wrote is the one the cash office got; a day without one
  // (today) is made now.
  std::string body;
  if (auto stored = c.payments.stored_export(a->authority_id, day)) {
    body = json ? stored->second : stored->first;
  } else {
    auto e = c.payments.daily_export(a->authority_id, day);
    body = json ? e.json() : e.csv();
  }
  Response res;
  res.body = std::move(body);
  res.set_header("Content-Type", json ? "application/json" : "text/csv; charset=utf-8");
  res.set_header("Content-Disposition", fmt::format("attachment; filename=\"buchungen-{}-{}.{}\"",
                                                    a->authority_id, day, json ? "json" : "csv"));
  res.set_header("Cache-Control", "no-store");
  return res;
}

Response statement_page(const Ctx& c, Request& req, const StatementResult* result = nullptr,
                        const core::Error* error = nullptr) {
  auto ids = tenants(c, req, Need::manage);
  if (auto r = refuse(c, req, ids)) return *r;
  View model;
  model.set("title", c.t(req, "staff.statement.title"));
  if (error) {
    View summary;
    summary.set("id", "statement");
    summary.set("message", error->fields.empty() ? error->message
                                                 : error->fields.front().field + ": " +
                                                       error->fields.front().message);
    model.set("has_errors", true);
    model.set_list("errors", {std::move(summary)});
    model.set("error_title", c.t(req, "staff.statement.error_title"));
  }
  if (result) {
    model.set("result", true);
    model.set("summary",
              fmt::format(fmt::runtime(c.t(req, "staff.statement.summary")), result->entries,
                          result->matched, result->already_paid, result->unmatched.size()));
    model.set_list("unmatched", {});
    for (const auto& u : result->unmatched) model.add("unmatched", View::of(u));
    model.set("has_unmatched", !result->unmatched.empty());
  }
  return c.pages.render(req, "payments/staff_statement", std::move(model), error ? 422 : 200);
}

Response statement_upload(const Ctx& c, Request& req) {
  auto ids = tenants(c, req, Need::manage);
  if (auto r = refuse(c, req, ids)) return *r;
  auto parts = web::parse_multipart(req, 8);
  if (!parts) return statement_page(c, req, nullptr, &parts.error());
  std::string xml;
  for (auto& p : *parts) {
    if (p.name == "statement") xml = std::move(p.body);
  }
  if (xml.empty()) {
    auto e = core::Error::invalid("statement", c.t(req, "staff.statement.missing"));
    return statement_page(c, req, nullptr, &e);
  }
  auto result = c.payments.import_statement(ids, xml, actor(req));
  if (!result) return statement_page(c, req, nullptr, &result.error());
  return statement_page(c, req, &*result);
}

// The authority's payment account, kept by its admins: booking data, Kassenzeichen
// pattern, provider, invoices. Every field is checked (check_account) and named.
Response accounts_page(const Ctx& c, Request& req) {
  auto ids = tenants(c, req, Need::admin);
  if (auto r = refuse(c, req, ids)) return *r;
  View model;
  model.set("title", c.t(req, "staff.accounts.title"));
  model.set_list("authorities", {});
  for (const auto& [id, name, tenant] : c.options.authorities_of(ids)) {
    View v;
    v.set("id", id);
    v.set("name", name);
    v.set("status",
          c.t(req, c.payments.account(id) ? "staff.accounts.set" : "staff.accounts.unset"));
    model.add("authorities", std::move(v));
  }
  return c.pages.render(req, "payments/staff_accounts", std::move(model));
}

std::optional<std::tuple<std::string, std::string, std::string>> own_authority(const Ctx& c,
                                                                               const Request& req) {
  auto ids = tenants(c, req, Need::admin);
  for (auto& a : c.options.authorities_of(ids)) {
    if (std::get<0>(a) == req.param("authority")) return a;
  }
  return std::nullopt;
}

Response account_form(const Ctx& c, Request& req, const Account& a, const core::Error* error) {
  View model;
  model.set("title", c.t(req, "staff.account.title"));
  model.set("authority", a.authority_name);
  model.set("authority_id", a.authority_id);
  auto field = [&](const char* name, std::string value, bool required, const char* mode = "") {
    return web::Field{.name = name,
                      .label = c.t(req, fmt::format("staff.account.{}", name)),
                      .value = std::move(value),
                      .hint = c.t(req, fmt::format("staff.account.{}_hint", name)),
                      .required = required,
                      .inputmode = mode};
  };
  auto form =
      web::form_view({field("payee", a.payee, true), field("iban", a.iban, true),
                      field("bic", a.bic, false), field("budgetPosition", a.budget_position, true),
                      field("bookingAccount", a.booking_account, true),
                      field("kassenzeichen.pattern", a.kassenzeichen.pattern, true),
                      field("endpointId", a.endpoint_id, false),
                      field("invoiceDays", std::to_string(a.invoice_days), true, "numeric")},
                     error, c.t(req, "staff.account.error_title"));
  model.set("form", std::move(form));
  std::vector<std::pair<std::string, std::string>> checks = {
      {"luhn", c.t(req, "staff.account.luhn")}, {"mod11", c.t(req, "staff.account.mod11")}};
  model.set("checks", web::choices_view("kassenzeichen.check", c.t(req, "staff.account.check"),
                                        "check", "radio", checks, {a.kassenzeichen.check}, error));
  std::vector<std::pair<std::string, std::string>> providers = {
      {"", c.t(req, "staff.account.no_provider")}};
  for (const auto& p : c.options.provider_names) providers.emplace_back(p, p);
  model.set("providers", web::choices_view("provider", c.t(req, "staff.account.provider"),
                                           "provider", "radio", providers, {a.provider}, error));
  model.set("invoices",
            web::choices_view(
                "invoice", c.t(req, "staff.account.invoice"), "invoice", "checkbox",
                {{"1", c.t(req, "staff.account.invoice_yes")}},
                a.invoice ? std::vector<std::string>{"1"} : std::vector<std::string>{}, error));
  return c.pages.render(req, "payments/staff_account", std::move(model), error ? 422 : 200);
}

Response account_page(const Ctx& c, Request& req) {
  auto ids = tenants(c, req, Need::admin);
  if (auto r = refuse(c, req, ids)) return *r;
  auto authority = own_authority(c, req);
  if (!authority) return c.pages.error(req, core::Error::not_found("no such authority"));
  auto& [id, name, tenant] = *authority;
  auto a = c.payments.account(id).value_or(Account{.authority_id = id});
  a.authority_name = name;
  return account_form(c, req, a, nullptr);
}

Response account_save(const Ctx& c, Request& req) {
  auto ids = tenants(c, req, Need::admin);
  if (auto r = refuse(c, req, ids)) return *r;
  auto authority = own_authority(c, req);
  if (!authority) return c.pages.error(req, core::Error::not_found("no such authority"));
  auto& [id, name, tenant] = *authority;
  auto f = [&](const char* key) { return std::string(core::trim(req.form(key).value_or(""))); };
  Account a{.authority_id = id,
            .tenant_id = tenant,
            .authority_name = name,
            .payee = f("payee"),
            .iban = f("iban"),
            .bic = f("bic"),
            .budget_position = f("budgetPosition"),
            .booking_account = f("bookingAccount"),
            .kassenzeichen = {f("kassenzeichen.pattern"), f("check")},
            .provider = f("provider"),
            .endpoint_id = f("endpointId"),
            .invoice = f("invoice") == "1",
            .invoice_days = 0};
  auto days = f("invoiceDays");
  auto [p, ec] = std::from_chars(days.data(), days.data() + days.size(), a.invoice_days);
  if (ec != std::errc() || p != days.data() + days.size()) a.invoice_days = 0;
  auto saved = c.payments.save_account(a, actor(req));
  if (!saved) {
    auto error = localised(c, req, saved.error());
    return account_form(c, req, a, &error);
  }
  web::flash(req, c.t(req, "staff.account.saved"));
  return Response::redirect("/verwaltung/zahlungen/konten");
}

}  // namespace

void register_staff_pages(web::Router& router, const web::Pages& pages, Payments& payments,
                          const PageOptions& options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, payments, options});
  router.get("/verwaltung/zahlungen", [c](Request& req) { return search(*c, req); });
  router.get("/verwaltung/zahlungen/journal", [c](Request& req) { return journal(*c, req); });
  router.get("/verwaltung/zahlungen/buchungen.csv",
             [c](Request& req) { return export_file(*c, req, false); });
  router.get("/verwaltung/zahlungen/buchungen.json",
             [c](Request& req) { return export_file(*c, req, true); });
  router.get("/verwaltung/zahlungen/kontoauszug",
             [c](Request& req) { return statement_page(*c, req); });
  // The body is bounded by the server's max_body_bytes (10 MiB by default), more than a
  // day's statement of an authority's account.
  router.post("/verwaltung/zahlungen/kontoauszug",
              [c](Request& req) { return statement_upload(*c, req); });
  router.get("/verwaltung/zahlungen/konten", [c](Request& req) { return accounts_page(*c, req); });
  router.get("/verwaltung/zahlungen/konten/{authority}",
             [c](Request& req) { return account_page(*c, req); });
  router.post("/verwaltung/zahlungen/konten/{authority}",
              [c](Request& req) { return account_save(*c, req); });
  router.get("/verwaltung/zahlungen/{id}", [c](Request& req) { return order_page(*c, req); });
  router.post("/verwaltung/zahlungen/{id}/erstattung",
              [c](Request& req) { return refund(*c, req); });
  router.post("/verwaltung/zahlungen/{id}/bezahlt",
              [c](Request& req) { return mark_paid(*c, req); });
  router.post("/verwaltung/zahlungen/{id}/abbrechen",
              [c](Request& req) { return cancel(*c, req); });
}

}  // namespace mvsp::payments
