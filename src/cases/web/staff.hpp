#pragma once
// What the staff pages of the case management share (private): the context of the routes,
// the signed-in person as Casework sees them, refusals and error summaries.
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/cases/casework.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <mvsp/web/view.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "routes.hpp"

namespace mvsp::cases::staff {

using web::Request;
using web::Response;
using web::View;

struct Ctx {
  const web::Pages& pages;
  Cases& cases;
  Casework& work;
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

// A colleague who works Vorgänge: one to assign them to or make a member of a group.
inline bool works_vorgaenge(const Colleague& colleague) {
  return std::ranges::find(colleague.roles, "clerk") != colleague.roles.end() ||
         std::ranges::find(colleague.roles, "lead") != colleague.roles.end();
}

inline bool works_cases(const std::string& role) {
  return role == "clerk" || role == "lead" || role == "authority_admin";
}

// The signed-in person as Casework sees them; nobody for a visitor.
inline std::optional<Staffer> staffer(const Ctx& c, const Request& req) {
  if (!req.session || req.session->account_id.empty()) return std::nullopt;
  Staffer who{req.session->account_id, {}, {}};
  for (auto& [tenant, role] : c.options.roles_of(who.account_id)) {
    if (works_cases(role)) who.roles.emplace_back(std::move(tenant), std::move(role));
  }
  if (!who.roles.empty()) {
    for (const auto& colleague : c.options.colleagues(who.roles.front().first)) {
      if (colleague.account_id == who.account_id) who.name = colleague.name;
    }
  }
  return who;
}

inline std::vector<std::string> tenants_of(const Staffer& who) {
  std::vector<std::string> out;
  for (const auto& [tenant, role] : who.roles) {
    if (std::find(out.begin(), out.end(), tenant) == out.end()) out.push_back(tenant);
  }
  return out;
}

// Who is refused: a visitor goes to the login; staff without a role of the case
// management see 403.
inline std::optional<Response> refuse(const Ctx& c, Request& req,
                                      const std::optional<Staffer>& who) {
  if (!who) return web::to_login(req);
  if (who->roles.empty()) return c.pages.error(req, 403);
  return std::nullopt;
}

// A field error in the person's language: cases.errors.<field>, else the rule as given.
inline std::string field_message(const Ctx& c, const Request& req, const std::string& field,
                                 const std::string& message) {
  auto key = fmt::format("cases.errors.{}", field);
  auto text = c.pages.catalog().text(req.locale, key);
  return text == key ? message : text;
}

// The error summary, and each field's error at the field.
inline void add_errors(const Ctx& c, const Request& req, View& model, const core::Error& error) {
  model.set("has_errors", true);
  model.set("error_title", c.t(req, "errors.summary"));
  model.set_list("errors", {});
  if (error.fields.empty()) {
    View e;
    e.set("message", field_message(c, req, "general", error.message));
    model.add("errors", std::move(e));
  }
  for (const auto& [field, message] : error.fields) {
    View e;
    e.set("id", field);
    e.set("message", field_message(c, req, field, message));
    model.add("errors", std::move(e));
    // and at the field itself (the templates' e_<id>), with its input marked invalid
    model.set("e_" + field, field_message(c, req, field, message));
  }
}

// The lines of a text the person wrote, trimmed, without empty ones: paragraphs of a
// message, the documents of a request.
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!core::trim(line).empty()) out.emplace_back(core::trim(line));
  }
  return out;
}

// A download: to be saved, never cached, never sniffed.
inline Response download_headers(Response res, const std::string& type,
                                 const std::string& filename) {
  res.set_header("Content-Type", type);
  res.set_header("Content-Disposition", web::attachment_disposition(filename));
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  return res;
}

}  // namespace mvsp::cases::staff
