#pragma once
// Private to identity's pages: what every page handler shares (the context, forms,
// messages, redirects). Handlers parse the form, call one use case, render or redirect.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <fmt/format.h>

#include <mvsp/core/clock.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/identity/step_up.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/forms.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/templates.hpp>
#include <optional>
#include <sstream>

namespace mvsp::identity::page_kit {

using web::Request;
using web::Response;
using web::View;

inline constexpr std::string_view kDeviceCookie = "mvsp_device";

struct Context {
  const web::Pages& pages;
  web::SessionStore& sessions;
  Identity& identity;
  PageOptions options;

  core::TimePoint now() const { return options.clock->now(); }

  std::string t(const Request& req, std::string_view key) const {
    return pages.catalog().text(req.locale, fmt::format("identity.{}", key));
  }
};

// Only a path on this site, so that `next` cannot send people elsewhere.
inline std::string local_next(const Request& req, std::string fallback) {
  auto next = req.form("next");
  if (!next) next = req.query_param("next");
  return web::local_path_or(next, std::move(fallback));
}

inline std::string signed_in(const Request& req) {
  return req.session ? req.session->account_id : std::string();
}

using web::to_login;

inline View hidden(std::string name, std::string value) {
  View v;
  v.set("name", std::move(name));
  v.set("value", std::move(value));
  return v;
}

inline View link(std::string href, std::string label) {
  View v;
  v.set("href", std::move(href));
  v.set("label", std::move(label));
  return v;
}

struct FormPage {
  std::string heading;
  std::string intro;
  std::string action;
  std::string submit;
  std::vector<web::Field> fields;
  std::vector<View> hidden;
  std::vector<View> links;
};

using web::choices_view;

inline Response render_form(const Context& c, Request& req, const FormPage& page,
                            const core::Error* error, int status, View extra = {}) {
  req.csrf_token();  // the form needs a session
  View model = std::move(extra);
  model.set("title", page.heading);
  model.set("heading", page.heading);
  if (!page.intro.empty()) model.set("intro", page.intro);
  model.set("action", page.action);
  model.set("submit", page.submit);
  model.set("form", web::form_view(page.fields, error,
                                   c.pages.catalog().text(req.locale, "form.error_title")));
  model.set_list("hidden", page.hidden);
  model.set_list("links", page.links);
  model.set("has_links", !page.links.empty());
  return c.pages.render(req, "identity/form", std::move(model), status);
}

inline Response message(const Context& c, Request& req, std::string heading,
                        std::vector<std::string> paragraphs, std::optional<View> link_view = {},
                        int status = 200) {
  View model;
  model.set("title", heading);
  model.set("heading", heading);
  model.set_list("paragraphs", {});
  for (auto& p : paragraphs) model.add("paragraphs", View::of(std::move(p)));
  if (link_view) model.set("link", std::move(*link_view));
  return c.pages.render(req, "identity/message", std::move(model), status);
}

// A form the use case refused: 429 with the wait (and Retry-After) while a throttle holds,
// otherwise 422 with the fields and rules named.
inline Response refused_form(const Context& c, Request& req, const FormPage& page,
                             const core::Error& error, View extra = {}) {
  if (error.code != core::ErrorCode::rate_limited) {
    return render_form(c, req, page, &error, 422, std::move(extra));
  }
  core::Error shown = error;
  shown.message = fmt::format(fmt::runtime(c.t(req, "errors.too_many")), error.retry_after.count());
  shown.fields.clear();
  auto res = render_form(c, req, page, &shown, 429, std::move(extra));
  res.set_header("Retry-After", std::to_string(error.retry_after.count()));
  return res;
}

// Where a form leads next. A redirect chain that starts at a form may only end on this
// site (CSP form-action 'self'), so the way back into the OpenID flow — which ends at the
// client — is a page that moves on by itself (meta refresh, no script) or by its link.
inline Response continue_to(const Context& c, Request& req, const std::string& stored_next) {
  // Also a stored target (from a login that left for an upstream) is checked once more here.
  auto next = web::local_path_or(stored_next, "/konto");
  if (!next.starts_with("/oidc/")) return Response::redirect(next);
  View model;
  model.set("title", c.t(req, "continue.heading"));
  model.set("heading", c.t(req, "continue.heading"));
  model.set("refresh", next);
  model.set_list("paragraphs", {View::of(c.t(req, "continue.text"))});
  model.set("link", link(next, c.t(req, "continue.link")));
  return c.pages.render(req, "identity/message", std::move(model));
}

// The six-digit code from the authenticator app (login and set-up ask for it alike).
inline web::Field code_field(const Context& c, const Request& req) {
  return {.name = "code",
          .label = c.t(req, "fields.code"),
          .autocomplete = "one-time-code",
          .hint = c.t(req, "fields.code_or_recovery_hint"),
          .required = true,
          .inputmode = "numeric"};
}

// A new password, typed twice (reset link, staff invitation).
inline std::vector<web::Field> new_password_fields(const Context& c, const Request& req) {
  return {{.name = "password",
           .label = c.t(req, "fields.new_password"),
           .type = "password",
           .autocomplete = "new-password",
           .hint = c.t(req, "fields.password_hint"),
           .required = true},
          {.name = "password_repeat",
           .label = c.t(req, "fields.password_repeat"),
           .type = "password",
           .autocomplete = "new-password",
           .required = true}};
}

// Set-Cookie values for the device cookie: remembered for a year, or removed.
inline std::string device_cookie(const Context& c, const std::string& value) {
  return fmt::format("{}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{}", kDeviceCookie,
                     value, c.options.secure_cookies ? "; Secure" : "");
}
inline std::string expired_device_cookie(const Context& c) {
  return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}", kDeviceCookie,
                     c.options.secure_cookies ? "; Secure" : "");
}

void register_staff_routes(web::Router& router, std::shared_ptr<Context> c);
void register_client_routes(web::Router& router, std::shared_ptr<Context> c);
void register_organisation_routes(web::Router& router, std::shared_ptr<Context> c);
void register_federation_routes(web::Router& router, std::shared_ptr<Context> c);
// "Mit BundID anmelden" links for the login page (none without upstreams).
std::vector<View> login_upstream_links(const Context& c, const Request& req,
                                       const std::string& next);
// Links that confirm the person again through each upstream linked to `account`.
std::vector<View> reconfirm_links(const Context& c, const Request& req, const std::string& account,
                                  const std::string& next);
// Whether the session's person logged in through an upstream within `within`.
bool upstream_confirmed(const Context& c, const Request& req, std::chrono::minutes within);
// The account's linked upstreams, for the data export.
Poco::JSON::Array linked_providers_json(const Context& c, const std::string& account);
// The upstreams with their link state, for the security page.
View security_upstreams(const Context& c, const Request& req, const std::string& account);

}  // namespace mvsp::identity::page_kit
