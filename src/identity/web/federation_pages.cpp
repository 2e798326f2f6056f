// Logging in through an upstream provider (BundID, another OpenID provider): the way out,
// the way back, a new account or a link to an existing one, and the links in the account.
#include <Poco/URI.h>

#include <array>
#include <charconv>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/identity/federation.hpp>

#include "page_kit.hpp"

namespace mvsp::identity::page_kit {
namespace {

constexpr std::string_view kUpstreamCookie = "mvsp_upstream";

// An identity that came back without an account waits in the session for a link (or a new
// account) for 15 minutes, bound to the browser that finished the upstream login by the
// link cookie: the session keeps only the cookie's hash. A login starts the session over
// and so ends a waiting identity; the link itself asks for the account's password (and
// second factor) on its own form, so nobody links into an account they cannot prove.
constexpr std::string_view kLinkCookie = "mvsp_link";
constexpr std::string_view kLinkPath = "/anmelden/extern/verbinden";
constexpr auto kLinkWait = std::chrono::minutes(15);

std::string link_cookie(const Context& c, const std::string& value, std::chrono::seconds max_age) {
  return fmt::format("{}={}; Path=/anmelden/extern; Max-Age={}; HttpOnly; SameSite=Lax{}",
                     kLinkCookie, value, max_age.count(),
                     c.options.secure_cookies ? "; Secure" : "");
}

// Everything a waiting link keeps in the session.
constexpr std::array<const char*, 5> kPendingKeys = {
    "pending_upstream", "pending_upstream_next", "pending_upstream_for", "pending_upstream_nonce",
    "pending_upstream_until"};

// Forgets an upstream identity that waits to be linked (everything it keeps in the session).
void forget_pending(web::Session& session) {
  for (const char* key : kPendingKeys) session.data.erase(key);
  session.dirty = true;
}

std::string upstream_cookie(const Context& c, const std::string& value, int max_age) {
  return fmt::format("{}={}; Path=/anmelden/extern; Max-Age={}; HttpOnly; SameSite=Lax{}",
                     kUpstreamCookie, value, max_age, c.options.secure_cookies ? "; Secure" : "");
}

Federation& fed(const Context& c) {
  return *c.options.federation;
}

std::string label_of(const Context& c, const std::string& upstream) {
  const auto* u = fed(c).find(upstream);
  return u ? u->label : upstream;
}

Response problem_page(const Context& c, Request& req, const std::string& key, int status) {
  auto res = message(c, req, c.t(req, "upstream." + key + "_heading"),
                     {c.t(req, "upstream." + key + "_text")},
                     link("/anmelden", c.t(req, "upstream.back_to_login")), status);
  res.headers.emplace_back("Set-Cookie", upstream_cookie(c, "", 0));
  return res;
}

// The links that start a login at each upstream, for the login page and step-up.
std::vector<View> upstream_links(const Context& c, const Request& req, const std::string& next,
                                 std::optional<TrustLevel> level) {
  std::vector<View> out;
  for (const auto& u : fed(c).upstreams()) {
    auto href = fmt::format("/anmelden/extern/{}?next={}", u.name, web::url_encode(next));
    if (level) href += "&level=" + std::string(level_name(*level));
    out.push_back(link(href, fmt::format(fmt::runtime(c.t(req, "upstream.login_with")), u.label)));
  }
  return out;
}

Response choose(const Context& c, Request& req) {
  auto level = parse_level(req.query_param("level").value_or(""));
  View model;
  model.set("title", c.t(req, "upstream.choose_heading"));
  model.set("heading", c.t(req, "upstream.choose_heading"));
  model.set_list("paragraphs",
                 {View::of(c.t(req, level == TrustLevel::high ? "upstream.choose_high"
                                                              : "upstream.choose_text"))});
  model.set_list("links", upstream_links(c, req, local_next(req, "/konto"), level));
  model.set("has_links", true);
  return c.pages.render(req, "identity/message", std::move(model));
}

Response start(const Context& c, Request& req) {
  auto level = parse_level(req.query_param("level").value_or("")).value_or(TrustLevel::basic);
  auto next = local_next(req, "/konto");
  const auto* u = fed(c).find(req.param("name"));
  if (!u) return c.pages.error(req, core::Error::not_found("no such upstream identity provider"));
  auto started = fed(c).begin(u->name, level, next, signed_in(req));
  if (!started) {
    core::log::warn("federation.start_failed",
                    {{"upstream", u->name}, {"error", started.error().message}});
    return problem_page(c, req, "unreachable", 503);
  }
  Response res;
  if (!started->redirect_url.empty()) {
    res = Response::redirect(started->redirect_url);
  } else {
    // HTTP-POST binding: a form that goes to the provider when the person presses the
    // button (no script needed); CSP lets this one page post there.
    View model;
    model.set("title", fmt::format(fmt::runtime(c.t(req, "upstream.post_heading")), u->label));
    model.set("heading", fmt::format(fmt::runtime(c.t(req, "upstream.post_heading")), u->label));
    model.set("intro", fmt::format(fmt::runtime(c.t(req, "upstream.post_text")), u->label));
    model.set("action", started->post_url);
    model.set("submit", fmt::format(fmt::runtime(c.t(req, "upstream.post_submit")), u->label));
    model.set("back", "/anmelden");
    model.set("back_label", c.t(req, "upstream.back_to_login"));
    model.set_list("fields", {});
    for (const auto& [name, value] : started->post_fields) model.add("fields", hidden(name, value));
    res = c.pages.render(req, "identity/upstream_post", std::move(model));
    res.form_targets.push_back(web::origin_of(started->post_url));
  }
  res.headers.emplace_back(
      "Set-Cookie",
      upstream_cookie(c, started->request_id + "." + started->browser_secret, 15 * 60));
  return res;
}

struct Pending {
  UpstreamIdentity identity;
  std::string next;
  std::string for_account;  // the signed-in account that brought it; empty: nobody was
};

// Puts `identity` to wait for a link in the session and binds it to this browser.
// `for_account`: the signed-in account that started the link (empty when nobody was).
void wait_for_link(const Context& c, web::Session& session, Response& res,
                   const UpstreamIdentity& identity, const std::string& next,
                   const std::string& for_account) {
  forget_pending(session);
  auto nonce = core::crypto::random_token(16);
  session.data["pending_upstream"] = identity_to_json(identity);
  session.data["pending_upstream_next"] = next;
  if (!for_account.empty()) session.data["pending_upstream_for"] = for_account;
  session.data["pending_upstream_nonce"] = core::crypto::sha256_hex(nonce);
  session.data["pending_upstream_until"] = std::to_string(core::to_millis(c.now() + kLinkWait));
  res.headers.emplace_back(
      "Set-Cookie",
      link_cookie(c, nonce, std::chrono::duration_cast<std::chrono::seconds>(kLinkWait)));
}

// The identity that waits in this session, if it is bound to this browser and its time
// has not run out.
std::optional<Pending> waiting_link(const Context& c, const Request& req) {
  if (!req.session) return std::nullopt;
  const auto& data = req.session->data;
  auto value = [&](const char* key) {
    auto it = data.find(key);
    return it == data.end() ? std::string() : it->second;
  };
  auto nonce = req.cookie(kLinkCookie).value_or("");
  auto bound = value("pending_upstream_nonce");
  if (nonce.empty() || bound.empty() || core::crypto::sha256_hex(nonce) != bound) {
    return std::nullopt;
  }
  auto until = value("pending_upstream_until");
  std::int64_t until_ms = 0;
  if (std::from_chars(until.data(), until.data() + until.size(), until_ms).ec != std::errc{} ||
      c.now() >= core::from_millis(until_ms)) {
    return std::nullopt;
  }
  auto identity = identity_from_json(value("pending_upstream"));
  if (!identity) return std::nullopt;
  auto next = value("pending_upstream_next");
  return Pending{.identity = std::move(*identity),
                 .next = next.empty() ? std::string("/konto") : next,
                 .for_account = value("pending_upstream_for")};
}

// For the new-account pages: only an identity from an anonymous login, never one a
// signed-in account started to link, and only while nobody is signed in.
std::optional<Pending> waiting_for_new_account(const Context& c, const Request& req) {
  auto pending = waiting_link(c, req);
  if (!pending || !pending->for_account.empty() || !signed_in(req).empty()) return std::nullopt;
  return pending;
}

// Signs `account` in with the level the upstream confirmed. A fresh login through the
// upstream counts as that level for the whole session; for someone signed in already
// it is a raised level, which the step-up time limits. Only a login through an identity
// that was linked before (`reconfirms`) stands in for the password when deleting the
// account: one linked just now may be a thief's own.
[[nodiscard]] bool sign_in(const Context& c, Request& req, const std::string& account,
                           TrustLevel level, bool reconfirms) {
  auto& session = req.ensure_session();
  bool fresh = session.account_id != account;
  if (fresh) {
    c.sessions.begin_login(session);  // nothing of a previous person's session stays
  } else if (!c.sessions.rotate(session)) {
    req.session = nullptr;  // ended meanwhile: nothing is raised
    return false;
  }
  session.account_id = account;
  forget_pending(session);
  session.pending_account_id.clear();
  if (reconfirms) {
    session.data["upstream_at"] = std::to_string(core::to_millis(c.now()));
  } else {
    session.data.erase("upstream_at");
  }
  if (fresh) {
    set_login_level(session, level);
  } else {
    raise_level(session, level);
  }
  session.dirty = true;
  return true;
}

Response complete(const Context& c, Request& req, const std::string& request_id) {
  auto cookie = req.cookie(kUpstreamCookie).value_or("");
  auto dot = cookie.find('.');
  if (dot == std::string::npos || cookie.substr(0, dot) != request_id) {
    return problem_page(c, req, "expired", 400);
  }
  auto outcome = fed(c).finish(request_id, cookie.substr(dot + 1));
  if (!outcome) {
    const auto& e = outcome.error();
    if (e.code == core::ErrorCode::not_found) return problem_page(c, req, "expired", 400);
    if (e.detail == "cancelled") return problem_page(c, req, "cancelled", 200);
    if (e.detail == "level") return problem_page(c, req, "level", 403);
    return problem_page(c, req, "failed", 403);
  }
  auto current = signed_in(req);
  if (current != outcome->started_by) return problem_page(c, req, "expired", 400);
  const auto& identity = outcome->identity;
  Response res;
  if (!outcome->linked_account.empty()) {
    if (!current.empty() && current != outcome->linked_account) {
      return problem_page(c, req, "linked_elsewhere", 409);
    }
    auto account = c.identity.accounts.find(outcome->linked_account);
    if (!account) return problem_page(c, req, "failed", 403);
    // An account from the new-account page is used only once its address is confirmed:
    // until then it may carry someone else's address.
    if (!account->email_verified) return problem_page(c, req, "unconfirmed", 403);
    fed(c).used(outcome->linked_account, identity);
    if (current.empty() && account->totp_enabled && identity.level < TrustLevel::substantial) {
      // The account's password login asks for its second factor; a weaker upstream login
      // does too.
      auto& session = req.ensure_session();
      c.sessions.begin_login(session);
      session.pending_account_id = account->id;
      set_login_level(session, identity.level);
      session.dirty = true;
      res = Response::redirect("/anmelden/zweiter-faktor?next=" + web::url_encode(outcome->next));
    } else {
      if (!sign_in(c, req, outcome->linked_account, identity.level, true)) {
        return Response::redirect("/anmelden");
      }
      res = continue_to(c, req, outcome->next);
    }
  } else if (!current.empty()) {
    // A new identity for the signed-in account: the link form asks for its password (and
    // second factor), so that a stolen session alone cannot add a lasting way in.
    auto& session = *req.session;
    res = Response::redirect(std::string(kLinkPath));
    wait_for_link(c, session, res, identity, outcome->next, current);
    session.dirty = true;
  } else {
    // Nobody is signed in: a new account, or a password login to link. Nothing of an
    // earlier waiting identity or a half-finished login stays.
    auto& session = req.ensure_session();
    session.pending_account_id.clear();
    res = Response::redirect("/anmelden/extern/neu");
    wait_for_link(c, session, res, identity, outcome->next, {});
    session.dirty = true;
  }
  res.headers.emplace_back("Set-Cookie", upstream_cookie(c, "", 0));
  return res;
}

FormPage new_account_page(const Context& c, const Request& req, const UpstreamIdentity& i,
                          std::string email) {
  auto label = label_of(c, i.upstream);
  auto name = fmt::format("{} {}", i.profile.given_name, i.profile.family_name);
  return {.heading = c.t(req, "upstream.new_heading"),
          .intro = fmt::format(fmt::runtime(c.t(req, "upstream.new_intro")), label, name),
          .action = "/anmelden/extern/neu",
          .submit = c.t(req, "upstream.new_submit"),
          .fields = {{.name = "email",
                      .label = c.t(req, "fields.email"),
                      .value = std::move(email),
                      .type = "email",
                      .autocomplete = "email",
                      .hint = c.t(req, "upstream.new_email_hint"),
                      .required = true}},
          .links = {link(std::string(kLinkPath),
                         fmt::format(fmt::runtime(c.t(req, "upstream.have_account")), label))}};
}

Response new_account_form(const Context& c, Request& req) {
  auto pending = waiting_for_new_account(c, req);
  if (!pending) return Response::redirect("/anmelden");
  const auto& identity = pending->identity;
  return render_form(c, req, new_account_page(c, req, identity, identity.email), nullptr, 200);
}

Response new_account_submit(const Context& c, Request& req) {
  auto pending = waiting_for_new_account(c, req);
  if (!pending) return Response::redirect("/anmelden");
  auto identity = pending->identity;
  auto next = pending->next;
  auto email = req.form("email").value_or("");
  auto created = c.identity.accounts.create_federated_account(identity.profile, email, req.locale,
                                                              req.remote_address);
  if (!created) {
    return refused_form(c, req, new_account_page(c, req, identity, email), created.error());
  }
  // A new account is linked but not signed in: for a taken address nobody can be, and the
  // answer must not tell the two apart. The person confirms the address from the mail and
  // then signs in through the upstream again.
  if (*created && !fed(c).link((*created)->id, identity, true)) {
    return problem_page(c, req, "linked_elsewhere", 409);
  }
  forget_pending(*req.session);
  auto res = message(
      c, req, c.t(req, "upstream.sent_heading"),
      {fmt::format(fmt::runtime(c.t(req, "upstream.sent_text")), label_of(c, identity.upstream))},
      link("/anmelden?next=" + web::url_encode(next), c.t(req, "confirm.login")));
  res.headers.emplace_back("Set-Cookie", link_cookie(c, "", std::chrono::seconds(0)));
  return res;
}

// The identity this request may link: one waiting in this browser, brought by the signed-in
// account or, when nobody is signed in, by an anonymous login. Anything else is dropped.
std::optional<Pending> link_to_confirm(const Context& c, Request& req) {
  auto pending = waiting_link(c, req);
  if (!pending || pending->for_account != signed_in(req)) {
    if (req.session) forget_pending(*req.session);
    return std::nullopt;
  }
  return pending;
}

FormPage connect_page(const Context& c, const Request& req, const Pending& pending,
                      std::string email) {
  const auto& profile = pending.identity.profile;
  auto label = label_of(c, pending.identity.upstream);
  auto name = fmt::format("{} {}", profile.given_name, profile.family_name);
  FormPage page{.heading = c.t(req, "upstream.connect_heading"),
                .action = std::string(kLinkPath),
                .submit = c.t(req, "upstream.connect_submit"),
                .links = {link(pending.for_account.empty() ? "/anmelden/extern/neu" : "/konto",
                               c.t(req, "upstream.connect_cancel"))}};
  web::Field password{.name = "password",
                      .label = c.t(req, "fields.password"),
                      .type = "password",
                      .autocomplete = "current-password",
                      .required = true};
  web::Field code = code_field(c, req);
  if (pending.for_account.empty()) {
    // Nobody signed in: which account, proven with its password (and code, if it has one).
    page.intro = fmt::format(fmt::runtime(c.t(req, "upstream.connect_intro_login")), label, name);
    code.required = false;
    code.hint = c.t(req, "upstream.connect_code_hint");
    page.fields = {{.name = "email",
                    .label = c.t(req, "fields.email"),
                    .value = std::move(email),
                    .type = "email",
                    .autocomplete = "username",
                    .required = true},
                   password,
                   code};
    return page;
  }
  auto account = c.identity.accounts.find(pending.for_account);
  page.intro = fmt::format(fmt::runtime(c.t(req, "upstream.connect_intro")),
                           account ? account->email : std::string(), label, name);
  page.fields = {password};
  if (account && account->totp_enabled) page.fields.push_back(code);
  return page;
}

// The link form: it names the identity (and the signed-in account) and asks for the
// account's password and second factor; a link someone sends cannot make it.
Response connect_form(const Context& c, Request& req) {
  auto pending = link_to_confirm(c, req);
  if (!pending) {
    auto res = Response::redirect(signed_in(req).empty() ? "/anmelden" : "/konto");
    res.headers.emplace_back("Set-Cookie", link_cookie(c, "", std::chrono::seconds(0)));
    return res;
  }
  return render_form(c, req, connect_page(c, req, *pending, ""), nullptr, 200);
}

// Links the identity to the account the person proved on the form, and signs it in.
Response link_confirmed(const Context& c, Request& req) {
  auto pending = link_to_confirm(c, req);
  if (!pending) return Response::redirect(signed_in(req).empty() ? "/anmelden" : "/konto");
  auto email = req.form("email").value_or("");
  if (!pending->for_account.empty()) {
    auto account = c.identity.accounts.find(pending->for_account);
    email = account ? account->email : std::string();
  }
  auto proven =
      c.identity.logins.reauthenticate({.email = email,
                                        .password = req.form("password").value_or(""),
                                        .code = req.form("code").value_or(""),
                                        .source_address = req.remote_address,
                                        .device_cookie = req.cookie(kDeviceCookie).value_or("")});
  if (!proven) {
    // The same words whichever was wrong, as on the login page.
    auto shown = proven.error();
    if (shown.code == core::ErrorCode::unauthenticated) {
      shown.message = c.t(req, "login.failed");
      shown.code = core::ErrorCode::invalid_input;
    }
    auto page = connect_page(c, req, *pending, pending->for_account.empty() ? email : "");
    return refused_form(c, req, page, shown);
  }
  auto account = proven->id;
  auto identity = pending->identity;
  forget_pending(*req.session);
  if (!pending->for_account.empty() && !c.sessions.rotate(*req.session)) {
    req.session = nullptr;  // ended meanwhile (a password reset): nothing is linked
    return Response::redirect("/anmelden");
  }
  if (!proven->email_verified) return problem_page(c, req, "unconfirmed", 403);
  if (!fed(c).link(account, identity)) return problem_page(c, req, "linked_elsewhere", 409);
  c.identity.accounts.tell_upstream_linked(account);
  if (!sign_in(c, req, account, identity.level, false)) return Response::redirect("/anmelden");
  req.session->data["flash"] =
      fmt::format(fmt::runtime(c.t(req, "upstream.linked")), label_of(c, identity.upstream));
  return continue_to(c, req, pending->next);
}

Response connect_submit(const Context& c, Request& req) {
  auto res = link_confirmed(c, req);
  // The cookie ends with the link (made or refused for good); after a wrong password
  // (422, or 429 while throttled) the form is shown again and may be sent again.
  if (res.status != 422 && res.status != 429) {
    res.headers.emplace_back("Set-Cookie", link_cookie(c, "", std::chrono::seconds(0)));
  }
  return res;
}

Response unlink(const Context& c, Request& req) {
  auto account = signed_in(req);
  if (account.empty()) return to_login(req);
  auto done = fed(c).unlink(account, req.param("name"));
  req.session->data["flash"] = done ? fmt::format(fmt::runtime(c.t(req, "upstream.unlinked")),
                                                  label_of(c, req.param("name")))
                                    : c.t(req, "upstream.not_linked");
  req.session->dirty = true;
  return Response::redirect("/konto/sicherheit");
}

}  // namespace

std::vector<View> login_upstream_links(const Context& c, const Request& req,
                                       const std::string& next) {
  if (!c.options.federation) return {};
  return upstream_links(c, req, next, std::nullopt);
}

std::vector<View> reconfirm_links(const Context& c, const Request& req, const std::string& account,
                                  const std::string& next) {
  std::vector<View> out;
  if (!c.options.federation) return out;
  for (const auto& l : fed(c).links_of(account)) {
    out.push_back(
        link(fmt::format("/anmelden/extern/{}?next={}", l.upstream, web::url_encode(next)),
             fmt::format(fmt::runtime(c.t(req, "upstream.confirm_with")), l.label)));
  }
  return out;
}

bool upstream_confirmed(const Context& c, const Request& req, std::chrono::minutes within) {
  if (!req.session) return false;
  auto it = req.session->data.find("upstream_at");
  if (it == req.session->data.end()) return false;
  std::int64_t at = 0;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), at);
  auto age = c.now() - core::from_millis(at);
  return age >= std::chrono::milliseconds(0) && age < within;
}

Poco::JSON::Array linked_providers_json(const Context& c, const std::string& account) {
  Poco::JSON::Array out;
  if (!c.options.federation) return out;
  for (const auto& l : fed(c).links_of(account)) {
    Poco::JSON::Object o;
    o.set("provider", l.upstream);
    o.set("level", std::string(level_name(l.level)));
    o.set("linkedAt", core::format_utc(l.linked_at));
    o.set("lastUsedAt", core::format_utc(l.last_used_at));
    out.add(o);
  }
  return out;
}

View security_upstreams(const Context& c, const Request& req, const std::string& account) {
  View v;
  v.set_list("upstreams", {});
  if (!c.options.federation || fed(c).upstreams().empty()) return v;
  v.set("has_upstreams", true);
  auto links = fed(c).links_of(account);
  for (const auto& u : fed(c).upstreams()) {
    View item;
    item.set("name", u.name);
    item.set("label", u.label);
    for (const auto& l : links) {
      if (l.upstream != u.name) continue;
      item.set("linked", true);
      item.set("since", core::format_berlin(l.linked_at));
      item.set("level", c.t(req, "levels." + std::string(level_name(l.level))));
    }
    item.set("link_href", fmt::format("/anmelden/extern/{}?next={}", u.name,
                                      web::url_encode("/konto/sicherheit")));
    v.add("upstreams", std::move(item));
  }
  return v;
}

void register_federation_routes(web::Router& router, std::shared_ptr<Context> c) {
  if (!c->options.federation) return;
  router.get("/anmelden/extern", [c](Request& req) { return choose(*c, req); });
  router.get("/anmelden/extern/{name}", [c](Request& req) { return start(*c, req); });
  router.get("/anmelden/extern/{name}/rueckkehr", [c](Request& req) {
    std::map<std::string, std::string> params;
    for (const auto& [k, v] : web::parse_urlencoded(req.query)) params.emplace(k, v);
    auto id = fed(*c).oidc_callback(params);
    if (!id) return problem_page(*c, req, "expired", 400);
    return complete(*c, req, *id);
  });
  router.post_from_other_site("/saml/acs", [c](Request& req) {
    auto id = fed(*c).saml_response(req.form("SAMLResponse").value_or(""));
    if (!id) return problem_page(*c, req, "expired", 400);
    return Response::redirect("/anmelden/extern/abschluss?anfrage=" + web::url_encode(*id));
  });
  router.get("/anmelden/extern/abschluss", [c](Request& req) {
    return complete(*c, req, req.query_param("anfrage").value_or(""));
  });
  router.get("/anmelden/extern/neu", [c](Request& req) { return new_account_form(*c, req); });
  router.post("/anmelden/extern/neu", [c](Request& req) { return new_account_submit(*c, req); });
  router.get(std::string(kLinkPath), [c](Request& req) { return connect_form(*c, req); });
  router.post(std::string(kLinkPath), [c](Request& req) { return connect_submit(*c, req); });
  router.post("/konto/verknuepfungen/{name}/loesen", [c](Request& req) { return unlink(*c, req); });
  router.get("/saml/metadata", [c](Request&) {
    auto res = Response::text(fed(*c).sp_metadata());
    res.set_header("Content-Type", "application/samlmetadata+xml; charset=utf-8");
    return res;
  });
}

}  // namespace mvsp::identity::page_kit
