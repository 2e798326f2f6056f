// The OpenID Connect endpoints: parse, ask the Provider, answer as the standards say.
#include <Poco/JSON/Object.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include <charconv>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/identity/federation.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/identity/step_up.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/shell.hpp>
#include <mvsp/web/templates.hpp>
#include <sstream>

namespace mvsp::identity {
namespace {

using web::Request;
using web::Response;

struct Endpoints {
  const web::Pages& pages;
  web::SessionStore& sessions;
  Provider& provider;
  OidcPageOptions options;
};

std::map<std::string, std::string> to_map(
    const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : pairs) out.emplace(k, v);  // the first value counts
  return out;
}

std::string query_of(const std::map<std::string, std::string>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    q += (q.empty() ? "" : "&") + web::url_encode(k) + "=" + web::url_encode(v);
  }
  return q;
}

Response json_error(int status, const std::string& error, const std::string& description) {
  Poco::JSON::Object o;
  o.set("error", error);
  if (!description.empty()) o.set("error_description", description);
  std::ostringstream out;
  o.stringify(out);
  auto res = Response::json(out.str(), status);
  res.set_header("Pragma", "no-cache");
  return res;
}

Response authorize(const Endpoints& e, Request& req) {
  auto params = to_map(web::parse_urlencoded(req.query));
  auto checked = e.provider.check_authorization(params);
  if (auto* err = std::get_if<AuthorizationError>(&checked)) {
    if (!err->redirect) {
      // Without a trusted redirect_uri, the person gets the error, not the client
      // (RFC 6749 4.1.2.1). A malformed OAuth request, answered 400 like this endpoint's
      // other protocol errors: no use case refused it, so no core::ErrorCode applies.
      core::log::info("oidc.authorize_refused", {{"error", err->description}});
      return e.pages.error(req, 400);
    }
    std::map<std::string, std::string> answer{{"error", err->error},
                                              {"error_description", err->description},
                                              {"iss", e.provider.options().issuer}};
    if (!err->state.empty()) answer["state"] = err->state;
    auto sep = err->redirect_uri.find('?') == std::string::npos ? "?" : "&";
    return Response::redirect(err->redirect_uri + sep + query_of(answer));
  }
  auto& r = std::get<AuthorizationRequest>(checked);
  auto back = [&](std::map<std::string, std::string> answer) {
    if (!r.state.empty()) answer["state"] = r.state;
    answer["iss"] = e.provider.options().issuer;
    auto sep = r.redirect_uri.find('?') == std::string::npos ? "?" : "&";
    return Response::redirect(r.redirect_uri + sep + query_of(answer));
  };
  auto fail = [&](const std::string& error, const std::string& description) {
    return back({{"error", error}, {"error_description", description}});
  };

  auto now = e.options.clock->now();
  // How fresh the login must be: prompt=login asks for one after this request, max_age
  // for one within the last max_age seconds. Our own `mvsp_after` marks when we sent the
  // person to log in, so that they are not sent round again afterwards.
  std::optional<core::TimePoint> not_before;
  if (r.max_age) not_before = now - *r.max_age;
  std::int64_t after_ms = 0;
  if (auto it = params.find("mvsp_after");
      it != params.end() &&
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), after_ms).ec ==
          std::errc()) {
    auto after = core::from_millis(after_ms);
    if (!not_before || after > *not_before) not_before = after;
  } else if (r.prompt == "login") {
    not_before = now;
  }
  bool signed_in = req.session && !req.session->account_id.empty();
  bool fresh = signed_in && (!not_before || req.session->created_at >= *not_before);
  // An id_token_hint for someone else than the signed-in person asks for their login.
  if (auto hint = params.find("id_token_hint"); fresh && hint != params.end()) {
    auto h = e.provider.read_id_token_hint(hint->second);
    if (h && h->subject != req.session->account_id) fresh = false;
  }
  auto resume = [&] {
    auto p = params;
    p.erase("prompt");
    p["mvsp_after"] = std::to_string(core::to_millis(now) - 1000);
    return "/oidc/authorize?" + query_of(p);
  };
  if (!fresh) {
    if (r.prompt == "none") return fail("login_required", "the person is not signed in");
    auto target = "/anmelden?next=" + web::url_encode(resume());
    if (!r.login_hint.empty()) target += "&login_hint=" + web::url_encode(r.login_hint);
    auto res = Response::redirect(target);
    // ui_locales: the first tag (in the client's order) that we speak becomes the language.
    std::string_view rest = r.ui_locales;
    while (!rest.empty()) {
      auto space = rest.find(' ');
      auto tag = rest.substr(0, space);
      auto lang = std::string(tag.substr(0, tag.find('-')));
      if (e.pages.catalog().supports(lang)) {
        res.headers.emplace_back("Set-Cookie", web::language_cookie(lang));
        break;
      }
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
    return res;
  }
  auto level = session_level(*req.session, now, e.options.step_up_lifetime);
  if (r.required_level && level < *r.required_level) {
    if (r.prompt == "none") return fail("interaction_required", "a higher trust level is needed");
    bool upstream = e.options.federation && !e.options.federation->upstreams().empty();
    auto where = step_up_location(e.options.identity->accounts, *req.session, *r.required_level,
                                  upstream, resume());
    if (!where) {
      return *r.required_level > TrustLevel::substantial
                 ? fail("unmet_authentication_requirements", "trust level high needs the eID")
                 : fail("login_required", "the account is gone");
    }
    return Response::redirect(*where);
  }
  auto code = e.provider.issue_code(r, req.session->account_id, level, req.session->created_at);
  return back({{"code", code}});
}

Response token(const Endpoints& e, Request& req) {
  auto form = to_map(web::parse_urlencoded(req.body));
  auto result = e.provider.token(form, req.header("authorization").value_or(""));
  if (auto* err = std::get_if<TokenError>(&result)) {
    auto res = json_error(err->error == "invalid_client" ? 401 : 400, err->error, err->description);
    if (err->error == "invalid_client") res.set_header("WWW-Authenticate", "Basic realm=\"mvsp\"");
    return res;
  }
  auto& t = std::get<TokenResponse>(result);
  Poco::JSON::Object o;
  o.set("access_token", t.access_token);
  o.set("token_type", "Bearer");
  o.set("expires_in", t.expires_in);
  if (!t.scope.empty()) o.set("scope", t.scope);
  if (!t.id_token.empty()) o.set("id_token", t.id_token);
  if (!t.refresh_token.empty()) o.set("refresh_token", t.refresh_token);
  std::ostringstream out;
  o.stringify(out);
  auto res = Response::json(out.str());
  res.set_header("Pragma", "no-cache");
  return res;
}

Response userinfo(const Endpoints& e, Request& req) {
  std::string token;
  auto auth = req.header("authorization").value_or("");
  if (auth.starts_with("Bearer ")) token = auth.substr(7);
  if (token.empty() && req.method == web::Method::post) {
    token = to_map(web::parse_urlencoded(req.body))["access_token"];
  }
  auto grant = token.empty() ? std::nullopt : e.provider.check_access_token(token);
  if (!grant || grant->account_id.empty()) {
    auto res = json_error(401, "invalid_token", "the access token is missing, expired or revoked");
    res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return res;
  }
  return Response::json(e.provider.userinfo_json(*grant));
}

// scheme://host[:port] of an address, as CSP form-action names it.
web::View hidden_field(std::string name, std::string value) {
  web::View v;
  v.set("name", std::move(name));
  v.set("value", std::move(value));
  return v;
}

// A logout that nothing proves the person wants (no hint for them): ask, with a form that
// carries the CSRF token, so that a link or an image on another site signs nobody out.
Response confirm_logout(const Endpoints& e, Request& req, const LogoutRequest& r) {
  auto t = [&](std::string_view key) {
    return e.pages.catalog().text(req.locale, fmt::format("identity.logout.{}", key));
  };
  req.csrf_token();  // the form needs it
  web::View model;
  model.set("title", t("confirm_heading"));
  model.set("heading", t("confirm_heading"));
  model.set("intro", r.client_name.empty()
                         ? t("confirm_text")
                         : fmt::format(fmt::runtime(t("confirm_text_client")), r.client_name));
  model.set("action", "/oidc/logout");
  model.set("submit", t("confirm_submit"));
  model.set_list("hidden", {});
  if (!r.client_id.empty()) model.add("hidden", hidden_field("client_id", r.client_id));
  if (!r.redirect_uri.empty()) {
    model.add("hidden", hidden_field("post_logout_redirect_uri", r.redirect_uri));
    if (!r.state.empty()) model.add("hidden", hidden_field("state", r.state));
  }
  web::View stay;
  stay.set("href", "/konto");
  stay.set("label", t("confirm_stay"));
  model.set_list("links", {std::move(stay)});
  model.set("has_links", true);
  auto res = e.pages.render(req, "identity/form", std::move(model));
  // After the confirmation the answer goes back to the client (CSP form-action).
  if (!r.redirect_uri.empty()) res.form_targets.push_back(web::origin_of(r.redirect_uri));
  return res;
}

// Ends the session; back to the client's registered address, or the signed-out page.
Response end_session(const Endpoints& e, Request& req, const LogoutRequest& r) {
  auto account = req.session ? req.session->account_id : std::string();
  if (req.session) e.sessions.destroy(*req.session);
  req.session = nullptr;
  e.provider.logged_out(r, account);
  Response res;
  if (!r.redirect_uri.empty()) {
    auto url = r.redirect_uri;
    if (!r.state.empty()) {
      url +=
          (url.find('?') == std::string::npos ? "?" : "&") + ("state=" + web::url_encode(r.state));
    }
    res = Response::redirect(url);
  } else {
    web::View model;
    model.set("title_key", "identity.logout.heading");
    model.set("heading", e.pages.catalog().text(req.locale, "identity.logout.heading"));
    model.set_list("paragraphs",
                   {web::View::of(e.pages.catalog().text(req.locale, "identity.logout.text"))});
    res = e.pages.render(req, "identity/message", std::move(model));
  }
  res.headers.emplace_back("Set-Cookie", e.sessions.expired_cookie());
  return res;
}

Response logout(const Endpoints& e, Request& req) {
  auto r = e.provider.check_logout(to_map(web::parse_urlencoded(req.query)));
  auto account = req.session ? req.session->account_id : std::string();
  if (!r.ends_without_asking(account)) return confirm_logout(e, req, r);
  return end_session(e, req, r);
}

// The confirmation form (the site has checked its CSRF token): the person wants out.
Response logout_confirmed(const Endpoints& e, Request& req) {
  auto form = to_map(web::parse_urlencoded(req.body));
  form.erase("id_token_hint");
  return end_session(e, req, e.provider.check_logout(form));
}

}  // namespace

void register_oidc_endpoints(web::Router& router, const web::Pages& pages,
                             web::SessionStore& sessions, Provider& provider,
                             OidcPageOptions options) {
  if (!options.clock) throw core::Failure("the OpenID endpoints need a clock");
  auto e = std::make_shared<Endpoints>(Endpoints{pages, sessions, provider, options});
  router.get("/.well-known/openid-configuration", [e](Request&) {
    auto res = Response::json(e->provider.discovery_json());
    res.set_header("Cache-Control", "public, max-age=300");
    return res;
  });
  router.get("/oidc/jwks", [e](Request&) {
    auto res = Response::json(e->provider.jwks_json());
    res.set_header("Cache-Control", "public, max-age=300");
    return res;
  });
  router.post("/api/v1/oidc/token", [e](Request& req) { return token(*e, req); });
  if (options.machine_only) return;
  router.get("/oidc/authorize", [e](Request& req) { return authorize(*e, req); });
  router.get("/oidc/logout", [e](Request& req) { return logout(*e, req); });
  router.post("/oidc/logout", [e](Request& req) { return logout_confirmed(*e, req); });
  router.get("/api/v1/oidc/userinfo", [e](Request& req) { return userinfo(*e, req); });
  router.post("/api/v1/oidc/userinfo", [e](Request& req) { return userinfo(*e, req); });
}

}  // namespace mvsp::identity
