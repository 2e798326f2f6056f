// The pages of a party asked for a statement: the clerks of another authority find the
// requests to their authority at /verwaltung/beteiligungen; an outside body opens
// /beteiligung?zugang=<secret> from its mail (the secret in the query, so that the access
// log, which names paths only, never holds it). Both read the question and what the clerk
// shared, and answer once with a text and attachments.
#include <fmt/format.h>

#include <mvsp/cases/casework.hpp>
#include <mvsp/core/text.hpp>
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

constexpr std::string_view kOutside = "/beteiligung";

// Where the party's page and its downloads are: by the request's id for staff, by the
// link's secret for an outside body.
struct Where {
  Party party;
  std::string id;  // the request's id (staff), "" for an outside body
  std::string page() const {
    return party.staffer ? fmt::format("/verwaltung/beteiligungen/{}", id)
                         : fmt::format("{}?zugang={}", kOutside, web::url_encode(party.token));
  }
  std::string document(const std::string& what) const {
    return party.staffer ? fmt::format("/verwaltung/beteiligungen/{}/unterlagen/{}", id, what)
                         : fmt::format("{}/unterlagen/{}?zugang={}", kOutside, what,
                                       web::url_encode(party.token));
  }
};

std::optional<Where> where(const Ctx& c, Request& req, std::optional<Response>& refused) {
  if (req.path.starts_with("/verwaltung/")) {
    auto who = staffer(c, req);
    if (auto r = refuse(c, req, who)) {
      refused = std::move(*r);
      return std::nullopt;
    }
    return Where{{std::move(who), {}}, req.param("id")};
  }
  auto token = req.query_param("zugang").value_or(req.form("zugang").value_or(""));
  return Where{{std::nullopt, std::move(token)}, {}};
}

Response not_found(const Ctx& c, Request& req) {
  View model;
  model.set("title", c.t(req, "party.title"));
  model.set("message", c.t(req, "party.not_found"));
  return c.pages.render(req, "web/error", std::move(model), 404);
}

Response party_page(const Ctx& c, Request& req, const Where& w, const StatementView& v,
                    const core::Error* error = nullptr, const std::string& sent = {}) {
  req.csrf_token();  // the answer form needs a session, also for an outside body
  View model;
  model.set("title", fmt::format("{} {}", c.t(req, "party.title"), v.reference));
  if (error) add_errors(c, req, model, *error);
  model.set("staff", w.party.staffer.has_value());
  model.set("action", w.party.staffer ? w.page() : std::string(kOutside));
  model.set("token", w.party.token);
  model.set("reference", v.reference);
  model.set("case_title", v.title);
  model.set("asking_authority", v.asking_authority);
  model.set("party_name", v.statement.party_name);
  model.set("asked_by", v.statement.created_by_name);
  model.set("applicant", v.applicant_name);
  model.set("deadline", core::format_day_de(v.statement.deadline_on));
  model.set("overdue", v.statement.overdue);
  model.set_list("question", {});
  for (const auto& p : lines(v.statement.question)) model.add("question", View::of(p));
  model.set_list("documents", {});
  for (const auto& [what, filename] : v.documents) {
    View d;
    d.set("href", w.document(what));
    d.set("filename", filename);
    model.add("documents", std::move(d));
  }
  model.set("has_documents", !v.documents.empty());
  model.set("open", v.statement.status == "open");
  model.set("answered", v.statement.status == "answered");
  model.set_list("answer", {});
  for (const auto& p : lines(v.statement.answer)) model.add("answer", View::of(p));
  if (v.statement.answered_at) {
    model.set("answered_at",
              fmt::format(fmt::runtime(c.t(req, "participation.answer_by")),
                          v.statement.answered_by, core::format_berlin(*v.statement.answered_at)));
  }
  model.set("answer_value", sent);
  auto res = c.pages.render(req, "cases/party_statement", std::move(model));
  if (error) res.status = web::http_status(error->code);
  return res;
}

Response show(const Ctx& c, Request& req) {
  std::optional<Response> refused;
  auto w = where(c, req, refused);
  if (!w) return std::move(*refused);
  auto v = c.work.asked(w->party, w->id);
  if (!v) return not_found(c, req);
  return party_page(c, req, *w, *v);
}

Response answer(const Ctx& c, Request& req) {
  std::optional<Response> refused;
  auto w = where(c, req, refused);
  if (!w) return std::move(*refused);
  StatementAnswer input;
  auto parts = web::parse_multipart(req, 16);
  if (parts) {
    for (const auto& p : *parts) {
      if (p.name == "anlage" && (!p.filename.empty() || !p.body.empty())) {
        input.files.push_back(
            {.requirement = "", .filename = p.filename, .media_type = "", .content = p.body});
      } else if (p.name == "text") {
        input.text = p.body;
      } else if (p.name == "zugang" && !w->party.staffer) {
        w->party.token = p.body;
      }
    }
  }
  auto done = parts ? c.work.answer_statement(w->party, w->id, input)
                    : core::Result<Statement>(core::fail(parts.error()));
  if (!done && done.error().code == core::ErrorCode::not_found) return not_found(c, req);
  if (done) return Response::redirect(w->page());
  // the page again, with the error at its field
  auto v = c.work.asked(w->party, w->id);
  if (!v) return not_found(c, req);
  return party_page(c, req, *w, *v, &done.error(), input.text);
}

Response document(const Ctx& c, Request& req) {
  std::optional<Response> refused;
  auto w = where(c, req, refused);
  if (!w) return std::move(*refused);
  auto file = c.work.shared_document(w->party, w->id, req.param("what"));
  if (!file) return c.pages.error(req, core::Error::not_found("no such document"));
  Response res;
  res.body = std::move(file->content);
  return download_headers(std::move(res), file->media_type, file->filename);
}

Response list(const Ctx& c, Request& req) {
  auto who = staffer(c, req);
  if (auto r = refuse(c, req, who)) return *r;
  View model;
  model.set("title", c.t(req, "party.list_title"));
  model.set_list("requests", {});
  auto asked = c.work.asked_of(*who);
  for (const auto& v : asked) {
    View row;
    row.set("href", fmt::format("/verwaltung/beteiligungen/{}", v.statement.id));
    row.set("reference", v.reference);
    row.set("case_title", v.title);
    row.set("asking_authority", v.asking_authority);
    row.set("party_name", v.statement.party_name);
    row.set("deadline", core::format_day_de(v.statement.deadline_on));
    row.set("overdue", v.statement.overdue);
    row.set("status", c.named(req, "statement_status", v.statement.status));
    model.add("requests", std::move(row));
  }
  model.set("has_requests", !asked.empty());
  return c.pages.render(req, "cases/staff_statements", std::move(model));
}

}  // namespace

void register_participation_pages(web::Router& router, const web::Pages& pages, Cases& cases,
                                  Casework& work, const PageOptions& options) {
  auto c = std::make_shared<Ctx>(Ctx{pages, cases, work, options});
  router.get("/verwaltung/beteiligungen", [c](Request& req) { return list(*c, req); });
  router.get("/verwaltung/beteiligungen/{id}", [c](Request& req) { return show(*c, req); });
  router.post("/verwaltung/beteiligungen/{id}", [c](Request& req) { return answer(*c, req); });
  router.get("/verwaltung/beteiligungen/{id}/unterlagen/{what}",
             [c](Request& req) { return document(*c, req); });
  router.get(std::string(kOutside), [c](Request& req) { return show(*c, req); });
  router.post(std::string(kOutside), [c](Request& req) { return answer(*c, req); });
  router.get(std::string(kOutside) + "/unterlagen/{what}",
             [c](Request& req) { return document(*c, req); });
}

}  // namespace mvsp::cases
