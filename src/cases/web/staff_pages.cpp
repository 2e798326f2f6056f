// The clerk's pages of the case management: the arrivals of the authorities (tenants)
// where the signed-in person is a clerk or the authority's admin, and one Vorgang with
// its answers and documents to download. A Vorgang of another tenant does not exist for
// them.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <mvsp/cases/cases.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <mvsp/web/view.hpp>
#include <sstream>

#include "routes.hpp"

namespace mvsp::cases {
namespace {

using web::Request;
using web::Response;
using web::View;

struct Ctx {
  const web::Pages& pages;
  Cases& cases;
  PageOptions options;

  std::string t(const Request& req, std::string_view key) const {
    return pages.catalog().text(req.locale, fmt::format("cases.{}", key));
  }
  // The text of `key`.`value`, or the value itself where the catalog has none.
  std::string named(const Request& req, std::string_view key, const std::string& value) const {
    if (value.empty()) return {};
    auto full = fmt::format("cases.{}.{}", key, value);
    auto text = pages.catalog().text(req.locale, full);
    return text == full ? value : text;
  }
};

// The tenants whose Vorgänge the signed-in person works.
std::vector<std::string> tenants(const Ctx& c, const Request& req) {
  std::vector<std::string> out;
  if (!req.session || req.session->account_id.empty()) return out;
  for (const auto& [tenant, role] : c.options.roles_of(req.session->account_id)) {
    if ((role == "clerk" || role == "authority_admin") &&
        std::find(out.begin(), out.end(), tenant) == out.end()) {
      out.push_back(tenant);
    }
  }
  return out;
}

// Who is refused: a visitor goes to the login; staff without the role see 403.
std::optional<Response> refuse(const Ctx& c, Request& req, const std::vector<std::string>& ids) {
  if (!req.session || req.session->account_id.empty()) return web::to_login(req);
  if (ids.empty()) return c.pages.error(req, 403);
  return std::nullopt;
}

std::string payment_text(const Ctx& c, const Request& req, const Case& k) {
  if (k.payment_status.empty()) return c.t(req, "payment.none");
  return c.named(req, "payment", k.payment_status);
}

Response arrivals(const Ctx& c, Request& req) {
  auto ids = tenants(c, req);
  if (auto r = refuse(c, req, ids)) return *r;
  auto q = req.query_param("q").value_or("");
  auto authority = req.query_param("behoerde").value_or("");
  View model;
  model.set("title", c.t(req, "arrivals.title"));
  model.set("q", q);
  model.set_list("authorities", {});
  std::map<std::string, std::string> names;
  bool known = authority.empty();
  for (const auto& [id, name] : c.options.authorities_of(ids)) {
    names[id] = name;
    known |= id == authority;
    View v;
    v.set("id", id);
    v.set("name", name);
    v.set("selected", id == authority);
    model.add("authorities", std::move(v));
  }
  model.set_list("cases", {});
  // An authority of another tenant is not among the choices, and finds nothing.
  auto found = known ? c.cases.arrivals({.tenant_ids = ids, .authority_id = authority, .text = q})
                     : std::vector<Case>{};
  for (const auto& k : found) {
    View v;
    v.set("id", k.id);
    v.set("reference", k.reference);
    v.set("service", k.title);
    v.set("authority", names.contains(k.authority_id) ? names[k.authority_id] : k.authority_id);
    v.set("applicant", k.applicant.name);
    v.set("received", core::format_berlin(k.received_at));
    v.set("payment", payment_text(c, req, k));
    model.add("cases", std::move(v));
  }
  model.set("has_cases", !found.empty());
  model.set("searched", !q.empty() || !authority.empty());
  return c.pages.render(req, "cases/staff_arrivals", std::move(model));
}

// The Vorgang of the path, when the person works its tenant.
std::optional<Case> staff_case(const Ctx& c, const Request& req) {
  auto found = c.cases.find(tenants(c, req), req.param("id"));
  if (!found) return std::nullopt;
  return *found;
}

Response case_page(const Ctx& c, Request& req) {
  auto ids = tenants(c, req);
  if (auto r = refuse(c, req, ids)) return *r;
  auto k = staff_case(c, req);
  if (!k) return c.pages.error(req, core::Error::not_found("no such case"));
  std::string authority = k->authority_id;
  for (const auto& [id, name] : c.options.authorities_of(ids)) {
    if (id == k->authority_id) authority = name;
  }
  View model;
  model.set("id", k->id);
  model.set("title", fmt::format("{} {}", c.t(req, "case.title"), k->reference));
  model.set("reference", k->reference);
  model.set_list("facts", {});
  auto fact = [&](const char* key, std::string value) {
    if (value.empty()) return;
    View v;
    v.set("label", c.t(req, fmt::format("facts.{}", key)));
    v.set("value", std::move(value));
    model.add("facts", std::move(v));
  };
  fact("reference", k->reference);
  fact("state", c.named(req, "state", k->state));
  fact("service", fmt::format(fmt::runtime(c.t(req, "facts.service_version")), k->title,
                              k->online_service_version));
  fact("authority", authority);
  fact("applicant", k->applicant.name);
  fact("applicant_kind", c.named(req, "applicant_kind", k->applicant.kind));
  fact("email", k->applicant.email);
  fact("submitted", core::format_berlin(k->submitted_at));
  fact("received", core::format_berlin(k->received_at));
  fact("payment", payment_text(c, req, *k));
  if (!k->payment_status.empty()) {
    fact("amount", payments::format_euro(k->payment_amount_cents));
    fact("method", c.named(req, "payment_method", k->payment_method));
    fact("kassenzeichen", k->kassenzeichen);
  }
  model.set_list("documents", {});
  for (const auto& d : k->documents) {
    View v;
    v.set("href", fmt::format("/verwaltung/vorgaenge/{}/dokumente/{}", k->id, d.position));
    v.set("filename", d.filename);
    v.set("requirement", d.requirement);
    v.set("size", fmt::format(fmt::runtime(c.t(req, "case.kilobytes")), (d.size + 1023) / 1024));
    model.add("documents", std::move(v));
  }
  model.set("has_documents", !k->documents.empty());
  return c.pages.render(req, "cases/staff_case", std::move(model));
}

Response download_headers(Response res, const std::string& type, const std::string& filename) {
  res.set_header("Content-Type", type);
  res.set_header("Content-Disposition", web::attachment_disposition(filename));
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  return res;
}

Response answers(const Ctx& c, Request& req, const std::string& kind) {
  auto ids = tenants(c, req);
  if (auto r = refuse(c, req, ids)) return *r;
  auto k = staff_case(c, req);
  if (!k) return c.pages.error(req, core::Error::not_found("no such case"));
  auto content = c.cases.answers(k->id, kind);
  if (!content) return c.pages.error(req, content.error());
  Response res;
  res.body = std::move(*content);
  static const std::map<std::string, std::string> kTypes = {
      {"pdf", "application/pdf"},
      {"json", "application/json"},
      {"xml", "application/xml; charset=utf-8"}};
  return download_headers(std::move(res), kTypes.at(kind),
                          fmt::format("antrag-{}.{}", k->reference, kind));
}

Response document(const Ctx& c, Request& req) {
  auto ids = tenants(c, req);
  if (auto r = refuse(c, req, ids)) return *r;
  auto k = staff_case(c, req);
  if (!k) return c.pages.error(req, core::Error::not_found("no such case"));
  auto n = req.param("n");
  int position = -1;
  auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), position);
  const CaseDocument* doc = nullptr;
  if (ec == std::errc() && p == n.data() + n.size()) {
    for (const auto& d : k->documents) {
      if (d.position == position) doc = &d;
    }
  }
  if (!doc) return c.pages.error(req, core::Error::not_found("no such document"));
  Response res;
  res.set_header("Content-Length", std::to_string(doc->size));
  auto* cases = &c.cases;
  // The head (with the stored length) goes out before the document is read: one that
  // fails to read ends the connection short of that length, a broken download rather than
  // a complete, wrong one.
  res.stream = [cases, id = k->id, position](std::ostream& out) {
    if (auto read = cases->read_document(id, position, out); !read) {
      throw core::Failure(fmt::format("document {} of case {}: {} ({})", position, id,
                                      read.error().message, read.error().detail));
    }
  };
  return download_headers(std::move(res), doc->media_type, doc->filename);
}

}  // namespace

void register_staff_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                          const PageOptions& options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, cases, options});
  router.get("/verwaltung/vorgaenge", [c](Request& req) { return arrivals(*c, req); });
  router.get("/verwaltung/vorgaenge/{id}", [c](Request& req) { return case_page(*c, req); });
  for (const std::string kind : {"pdf", "xml", "json"}) {
    router.get("/verwaltung/vorgaenge/{id}/antrag." + kind,
               [c, kind](Request& req) { return answers(*c, req, kind); });
  }
  router.get("/verwaltung/vorgaenge/{id}/dokumente/{n}",
             [c](Request& req) { return document(*c, req); });
}

}  // namespace mvsp::cases
