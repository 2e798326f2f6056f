// Identity's account pages: registration, login with second factor, the account with its
// profile, security and data, password reset. Handlers parse the form, call one use case,
// render or redirect.
#include <qrencode.h>

#include <mvsp/identity/acting.hpp>

#include "page_kit.hpp"

namespace mvsp::identity {
using namespace page_kit;
namespace {

using web::Request;
using web::Response;
using web::View;

// --- login -----------------------------------------------------------------

std::vector<View> login_links(const Context& c, const Request& req) {
  std::vector<View> links = {link("/konto/registrieren", c.t(req, "login.register_link")),
                             link("/passwort-vergessen", c.t(req, "login.forgot_link"))};
  for (auto& l : login_upstream_links(c, req, local_next(req, "/konto"))) {
    links.push_back(std::move(l));
  }
  return links;
}

FormPage login_page(const Context& c, const Request& req, std::string email) {
  return {.heading = c.t(req, "login.heading"),
          .intro = c.t(req, "login.intro"),
          .action = "/anmelden",
          .submit = c.t(req, "login.submit"),
          .fields = {{.name = "email",
                      .label = c.t(req, "fields.email"),
                      .value = std::move(email),
                      .type = "email",
                      .autocomplete = "username",
                      .required = true},
                     {.name = "password",
                      .label = c.t(req, "fields.password"),
                      .type = "password",
                      .autocomplete = "current-password",
                      .required = true}},
          .hidden = {hidden("next", local_next(req, "/konto"))},
          .links = login_links(c, req)};
}

Response login_form(const Context& c, Request& req) {
  return render_form(c, req, login_page(c, req, req.query_param("login_hint").value_or("")),
                     nullptr, 200);
}

Response login_submit(const Context& c, Request& req) {
  auto email = req.form("email").value_or("");
  auto result = c.identity.logins.login({.email = email,
                                         .password = req.form("password").value_or(""),
                                         .source_address = req.remote_address,
                                         .device_cookie = req.cookie(kDeviceCookie).value_or("")});
  if (!result) {
    core::Error shown = result.error();
    int status = 401;
    if (shown.code == core::ErrorCode::rate_limited) {
      status = 429;
      shown.message =
          fmt::format(fmt::runtime(c.t(req, "login.too_many")), shown.retry_after.count());
    } else {
      shown.message = c.t(req, "login.failed");
    }
    shown.fields.clear();
    auto res = render_form(c, req, login_page(c, req, email), &shown, status);
    if (status == 429) res.set_header("Retry-After", std::to_string(shown.retry_after.count()));
    return res;
  }
  // A new session id, and nothing of whoever used this browser before (their organisation,
  // an upstream identity that waited to be linked).
  auto& session = req.ensure_session();
  c.sessions.begin_login(session);
  auto next = local_next(req, "/konto");
  Response res;
  if (result->second_factor_required) {
    session.pending_account_id = result->account.id;
    set_login_level(session, result->account.password_level());
    res = Response::redirect("/anmelden/zweiter-faktor?next=" + web::url_encode(next));
  } else {
    session.account_id = result->account.id;
    set_login_level(session, result->account.password_level());
    res = continue_to(c, req, next);
  }
  session.dirty = true;
  res.headers.emplace_back("Set-Cookie", device_cookie(c, result->device_cookie));
  return res;
}

FormPage second_factor_page(const Context& c, const Request& req) {
  return {.heading = c.t(req, "second_factor.heading"),
          .intro = c.t(req, "second_factor.intro"),
          .action = "/anmelden/zweiter-faktor",
          .submit = c.t(req, "second_factor.submit"),
          .fields = {code_field(c, req)},
          .hidden = {hidden("next", local_next(req, "/konto"))}};
}

std::string pending_account(const Request& req) {
  return req.session ? req.session->pending_account_id : std::string();
}

Response second_factor_form(const Context& c, Request& req) {
  if (pending_account(req).empty()) return Response::redirect("/anmelden");
  return render_form(c, req, second_factor_page(c, req), nullptr, 200);
}

Response second_factor_submit(const Context& c, Request& req) {
  auto id = pending_account(req);
  if (id.empty()) return Response::redirect("/anmelden");
  auto code = req.form("code").value_or("");
  code.erase(std::remove(code.begin(), code.end(), ' '), code.end());
  if (auto ok = c.identity.second_factor.verify_totp(id, code); !ok) {
    return refused_form(c, req, second_factor_page(c, req), ok.error());
  }
  auto& session = *req.session;
  // Ended meanwhile (a password reset, a change of the factor): the login starts over.
  if (!c.sessions.rotate(session)) {
    req.session = nullptr;
    return Response::redirect("/anmelden");
  }
  session.pending_account_id.clear();
  session.account_id = id;
  raise_level(session, TrustLevel::substantial);
  session.dirty = true;
  return continue_to(c, req, local_next(req, "/konto"));
}

Response logout(const Context& c, Request& req) {
  if (req.session) c.sessions.destroy(*req.session);
  req.session = nullptr;
  auto res = message(c, req, c.t(req, "logout.heading"), {c.t(req, "logout.text")},
                     link("/anmelden", c.t(req, "logout.again")));
  res.headers.emplace_back("Set-Cookie", c.sessions.expired_cookie());
  return res;
}

// --- registration ----------------------------------------------------------

// A new password and its repetition (registration, reset).
FormPage register_page(const Context& c, const Request& req) {
  auto value = [&](const char* name) { return req.form(name).value_or(""); };
  FormPage page{.heading = c.t(req, "register.heading"),
                .intro = c.t(req, "register.intro"),
                .action = "/konto/registrieren",
                .submit = c.t(req, "register.submit"),
                .fields = {{.name = "given_name",
                            .label = c.t(req, "fields.given_name"),
                            .value = value("given_name"),
                            .autocomplete = "given-name",
                            .required = true},
                           {.name = "family_name",
                            .label = c.t(req, "fields.family_name"),
                            .value = value("family_name"),
                            .autocomplete = "family-name",
                            .required = true},
                           {.name = "email",
                            .label = c.t(req, "fields.email"),
                            .value = value("email"),
                            .type = "email",
                            .autocomplete = "email",
                            .hint = c.t(req, "fields.email_hint"),
                            .required = true}},
                .links = {link("/anmelden", c.t(req, "register.login_link"))}};
  auto passwords = new_password_fields(c, req);
  page.fields.insert(page.fields.end(), passwords.begin(), passwords.end());
  return page;
}

Response register_submit(const Context& c, Request& req) {
  auto value = [&](const char* name) { return req.form(name).value_or(""); };
  auto done = c.identity.accounts.register_citizen({.email = value("email"),
                                                    .password = value("password"),
                                                    .password_repeat = value("password_repeat"),
                                                    .given_name = value("given_name"),
                                                    .family_name = value("family_name"),
                                                    .locale = req.locale,
                                                    .source_address = req.remote_address});
  if (!done) return refused_form(c, req, register_page(c, req), done.error());
  return Response::redirect("/konto/registrieren/gesendet");
}

Response confirm(const Context& c, Request& req) {
  auto confirmed = c.identity.accounts.confirm_email(req.query_param("token").value_or(""));
  if (!confirmed) {
    return message(c, req, c.t(req, "confirm.failed_heading"), {c.t(req, "confirm.failed_text")},
                   link("/anmelden", c.t(req, "confirm.login")), 404);
  }
  return message(c, req, c.t(req, "confirm.heading"), {c.t(req, "confirm.text")},
                 link(signed_in(req).empty() ? "/anmelden" : "/konto", c.t(req, "confirm.login")));
}

// --- account ---------------------------------------------------------------

Response account_page(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto account = c.identity.accounts.find(id);
  if (!account) return to_login(req);
  acting_for(c.identity.organisations,
             *req.session);  // the shell names the organisation only for members
  View model;
  model.set("title_key", "identity.account.heading");
  model.set("level_label",
            c.t(req, "levels." + std::string(level_name(trust_of(*req.session).level))));
  model.set("email_verified", account->email_verified);
  model.set("totp_enabled", account->totp_enabled);
  model.set("is_admin", !c.identity.staff.administered_tenants(id).empty());
  // Staff of an authority reach its payments (clerks read, the cash office acts), and its
  // clerks and admins the Vorgänge that arrived.
  bool authority_staff = false;
  bool case_worker = false;
  for (const auto& [tenant, role] : c.identity.staff.roles_of(id)) {
    authority_staff |=
        role == "clerk" || role == "lead" || role == "cashier" || role == "authority_admin";
    case_worker |= role == "clerk" || role == "lead" || role == "authority_admin";
  }
  model.set("is_authority_staff", authority_staff);
  model.set("is_case_worker", case_worker);
  model.set("is_operator", c.options.oidc && c.identity.staff.is_operator(id));
  const auto& p = account->profile;
  auto row = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    View r;
    r.set("label", c.t(req, fmt::format("fields.{}", key)));
    r.set("value", value);
    model.add("rows", std::move(r));
  };
  row("salutation", p.salutation);
  row("doctoral_degree", p.doctoral_degree);
  row("given_name", p.given_name);
  row("family_name", p.family_name);
  row("birth_name", p.birth_name);
  row("artistic_name", p.artistic_name);
  row("birth_date", p.birth_date);
  row("birth_place", p.birth_place);
  row("street", p.street);
  row("postcode", p.postcode);
  row("city", p.city);
  row("country", p.country);
  row("email", account->email);
  return c.pages.render(req, "identity/account", std::move(model));
}

FormPage profile_page(const Context& c, const Request& req, const Profile& p) {
  auto f = [&](const char* name, const std::string& value, std::string autocomplete = {},
               bool required = false, std::string hint_key = {}) {
    return web::Field{.name = name,
                      .label = c.t(req, fmt::format("fields.{}", name)),
                      .value = value,
                      .autocomplete = std::move(autocomplete),
                      .hint = hint_key.empty() ? std::string() : c.t(req, hint_key),
                      .required = required};
  };
  return {.heading = c.t(req, "profile.heading"),
          .intro = c.t(req, "profile.intro"),
          .action = "/konto/profil",
          .submit = c.t(req, "profile.submit"),
          .fields = {f("salutation", p.salutation, "honorific-prefix"),
                     f("doctoral_degree", p.doctoral_degree),
                     f("given_name", p.given_name, "given-name", true),
                     f("family_name", p.family_name, "family-name", true),
                     f("birth_name", p.birth_name), f("artistic_name", p.artistic_name, "nickname"),
                     f("birth_date", p.birth_date, "bday", false, "fields.birth_date_hint"),
                     f("birth_place", p.birth_place), f("street", p.street, "street-address"),
                     f("postcode", p.postcode, "postal-code"), f("city", p.city, "address-level2"),
                     f("country", p.country, "country", true, "fields.country_hint")},
          .links = {link("/konto", c.t(req, "profile.back"))}};
}

Response profile_form(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto account = c.identity.accounts.find(id);
  if (!account) return to_login(req);
  return render_form(c, req, profile_page(c, req, account->profile), nullptr, 200);
}

Response profile_submit(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto value = [&](const char* name) {
    auto v = req.form(name).value_or("");
    auto b = v.find_first_not_of(" \t");
    auto e = v.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
  };
  Profile p{
      value("salutation"),      value("given_name"),    value("family_name"), value("birth_name"),
      value("doctoral_degree"), value("artistic_name"), value("birth_date"),  value("birth_place"),
      value("street"),          value("postcode"),      value("city"),        value("country")};
  std::transform(p.country.begin(), p.country.end(), p.country.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  auto updated = c.identity.accounts.update_profile(id, p);
  if (!updated) return render_form(c, req, profile_page(c, req, p), &updated.error(), 422);
  req.session->data["flash"] = c.t(req, "profile.saved");
  req.session->dirty = true;
  return Response::redirect("/konto");
}

// --- password reset ----------------------------------------------------------

FormPage forgot_page(const Context& c, const Request& req) {
  return {.heading = c.t(req, "forgot.heading"),
          .intro = c.t(req, "forgot.intro"),
          .action = "/passwort-vergessen",
          .submit = c.t(req, "forgot.submit"),
          .fields = {{.name = "email",
                      .label = c.t(req, "fields.email"),
                      .value = req.form("email").value_or(""),
                      .type = "email",
                      .autocomplete = "email",
                      .required = true}},
          .links = {link("/anmelden", c.t(req, "register.login_link"))}};
}

Response forgot_submit(const Context& c, Request& req) {
  auto sent = c.identity.accounts.request_password_reset(req.form("email").value_or(""), req.locale,
                                                         req.remote_address);
  if (!sent) return refused_form(c, req, forgot_page(c, req), sent.error());
  return Response::redirect("/passwort-vergessen/gesendet");
}

FormPage reset_page(const Context& c, const Request& req, const std::string& token) {
  return {.heading = c.t(req, "reset.heading"),
          .action = "/passwort-neu",
          .submit = c.t(req, "reset.submit"),
          .fields = new_password_fields(c, req),
          .hidden = {hidden("token", token)}};
}

Response reset_submit(const Context& c, Request& req) {
  auto token = req.form("token").value_or("");
  auto reset = c.identity.accounts.reset_password(
      {.token = token,
       .password = req.form("password").value_or(""),
       .password_repeat = req.form("password_repeat").value_or(""),
       .locale = req.locale});
  if (!reset) {
    if (reset.error().code == core::ErrorCode::not_found) {
      return message(c, req, c.t(req, "reset.invalid_heading"), {c.t(req, "reset.invalid_text")},
                     link("/passwort-vergessen", c.t(req, "reset.again")), 404);
    }
    return render_form(c, req, reset_page(c, req, token), &reset.error(), 422);
  }
  // Whoever knew the old password is signed out everywhere.
  c.sessions.revoke_all(reset->id);
  if (req.session) req.session = nullptr;
  return message(c, req, c.t(req, "reset.done_heading"), {c.t(req, "reset.done_text")},
                 link("/anmelden", c.t(req, "confirm.login")));
}

// --- security, data export, deletion -------------------------------------------

Response security_page(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  View model = security_upstreams(c, req, id);
  model.set("title_key", "identity.security.heading");
  if (auto account = c.identity.accounts.find(id)) model.set("totp_enabled", account->totp_enabled);
  model.set_list("sessions", {});
  auto current = web::SessionStore::handle(*req.session);
  for (const auto& s : c.sessions.list_for_account(id)) {
    View v;
    v.set("id", s.id);
    v.set("created", core::format_berlin(s.created_at));
    v.set("last_seen", core::format_berlin(s.last_seen_at));
    v.set("current", s.id == current);
    model.add("sessions", std::move(v));
  }
  model.set_list("activity", {});
  for (const auto& a : c.identity.accounts.activity(id, 20)) {
    View v;
    v.set("at", core::format_berlin(a.at));
    v.set("label", c.t(req, "activity." + a.action));
    model.add("activity", std::move(v));
  }
  return c.pages.render(req, "identity/security", std::move(model));
}

Response revoke_session(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  bool ended = c.sessions.revoke(id, req.param("id"));
  req.session->data["flash"] = c.t(req, ended ? "security.ended" : "security.not_found");
  req.session->dirty = true;
  return Response::redirect("/konto/sicherheit");
}

Response export_data(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto account = c.identity.accounts.find(id);
  if (!account) return to_login(req);
  Poco::JSON::Object out;
  out.set("id", account->id);
  out.set("mailbox", account->mailbox());
  out.set("email", account->email);
  out.set("emailVerified", account->email_verified);
  out.set("createdAt", core::format_utc(account->created_at));
  out.set("secondFactor", account->totp_enabled ? "totp" : "none");
  const auto& p = account->profile;
  Poco::JSON::Object profile;
  for (const auto& [k, v] : std::initializer_list<std::pair<const char*, const std::string*>>{
           {"salutation", &p.salutation},
           {"givenName", &p.given_name},
           {"familyName", &p.family_name},
           {"birthName", &p.birth_name},
           {"doctoralDegree", &p.doctoral_degree},
           {"artisticName", &p.artistic_name},
           {"birthDate", &p.birth_date},
           {"birthPlace", &p.birth_place},
           {"street", &p.street},
           {"postcode", &p.postcode},
           {"city", &p.city},
           {"country", &p.country}}) {
    profile.set(k, *v);
  }
  out.set("profile", profile);
  Poco::JSON::Array sessions;
  for (const auto& s : c.sessions.list_for_account(id)) {
    Poco::JSON::Object o;
    o.set("createdAt", core::format_utc(s.created_at));
    o.set("lastSeenAt", core::format_utc(s.last_seen_at));
    sessions.add(o);
  }
  out.set("sessions", sessions);
  Poco::JSON::Array activity;
  for (const auto& a : c.identity.accounts.activity(id, 1000)) {
    Poco::JSON::Object o;
    o.set("at", core::format_utc(a.at));
    o.set("action", a.action);
    activity.add(o);
  }
  out.set("activity", activity);
  out.set("linkedProviders", linked_providers_json(c, id));
  std::ostringstream body;
  out.stringify(body, 2);
  auto res = Response::json(body.str());
  res.set_header("Content-Disposition", "attachment; filename=\"meine-daten.json\"");
  return res;
}

// Asked again before any change of the second factor: a stolen session is not enough.
web::Field current_password_field(const Context& c, const Request& req) {
  return {.name = "password",
          .label = c.t(req, "fields.password"),
          .type = "password",
          .autocomplete = "current-password",
          .hint = c.t(req, "totp.password_hint"),
          .required = true};
}

// The factor in place: a code from the app, or one of the recovery codes.
web::Field current_code_field(const Context& c, const Request& req) {
  return {.name = "current_code",
          .label = c.t(req, "fields.current_code"),
          .autocomplete = "one-time-code",
          .hint = c.t(req, "fields.code_or_recovery_hint"),
          .required = true,
          .inputmode = "numeric"};
}

// Besides the password, a fresh login through a linked provider confirms the deletion.
std::vector<View> delete_links(const Context& c, const Request& req) {
  auto links = reconfirm_links(c, req, signed_in(req), "/konto/loeschen");
  links.push_back(link("/konto", c.t(req, "profile.back")));
  return links;
}

FormPage delete_page(const Context& c, const Request& req) {
  FormPage page{.heading = c.t(req, "delete.heading"),
                .intro = c.t(req, "delete.intro"),
                .action = "/konto/loeschen",
                .submit = c.t(req, "delete.submit"),
                .fields = {{.name = "password",
                            .label = c.t(req, "fields.password"),
                            .type = "password",
                            .autocomplete = "current-password",
                            .hint = c.t(req, "delete.password_hint"),
                            .required = true}},
                .links = delete_links(c, req)};
  // With a second factor, a stolen session and a guessed password are not enough.
  if (auto account = c.identity.accounts.find(signed_in(req)); account && account->totp_enabled) {
    page.fields.push_back(current_code_field(c, req));
  }
  return page;
}

Response delete_submit(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  // Without a password, a login through an upstream provider in the last ten minutes
  // confirms it is the owner (accounts made from the eID have no known password).
  auto password = req.form("password").value_or("");
  auto deleted = password.empty() && upstream_confirmed(c, req, std::chrono::minutes(10))
                     ? c.identity.accounts.delete_account_reauthenticated(id)
                     : c.identity.accounts.delete_account(
                           {.account_id = id,
                            .password = password,
                            .current_code = req.form("current_code").value_or(""),
                            .source_address = req.remote_address});
  if (!deleted) return refused_form(c, req, delete_page(c, req), deleted.error());
  c.sessions.revoke_all(id);
  req.session = nullptr;
  auto res = message(c, req, c.t(req, "delete.done_heading"), {c.t(req, "delete.done_text")},
                     link("/", c.t(req, "delete.home")));
  res.headers.emplace_back("Set-Cookie", c.sessions.expired_cookie());
  res.headers.emplace_back("Set-Cookie", expired_device_cookie(c));
  return res;
}

// --- second factor: set up, replace, remove ----------------------------------------

constexpr std::string_view kSetUpPath = "/konto/zwei-faktor";
constexpr std::string_view kReplacePath = "/konto/sicherheit/zwei-faktor";
constexpr std::string_view kRemovePath = "/konto/sicherheit/zwei-faktor/entfernen";

FormPage totp_page(const Context& c, const Request& req, bool replacing) {
  auto new_code = code_field(c, req);
  new_code.hint = c.t(req, "fields.code_hint");
  FormPage page{.heading = c.t(req, replacing ? "totp.replace_heading" : "totp.heading"),
                .intro = c.t(req, replacing ? "totp.replace_intro" : "totp.intro"),
                .action = std::string(replacing ? kReplacePath : kSetUpPath),
                .submit = c.t(req, replacing ? "totp.replace_submit" : "totp.submit"),
                .fields = {current_password_field(c, req)},
                .hidden = {hidden("next", local_next(req, ""))},
                .links = {link("/konto/sicherheit", c.t(req, "totp.back"))}};
  if (replacing) page.fields.push_back(current_code_field(c, req));
  page.fields.push_back(std::move(new_code));
  return page;
}

Response totp_form(const Context& c, Request& req, const core::Error* error, int status) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto account = c.identity.accounts.find(id);
  if (!account) return to_login(req);
  bool replacing = req.path == kReplacePath;
  if (account->totp_enabled != replacing) {
    return Response::redirect(std::string(account->totp_enabled ? kReplacePath : kSetUpPath));
  }
  auto& data = req.session->data;
  if (!data.count("totp_secret")) {
    auto enrollment = c.identity.second_factor.begin_totp(*account);
    data["totp_secret"] = enrollment.secret;
    data["totp_uri"] = enrollment.uri;
    req.session->dirty = true;
  }
  View totp;
  // Groups of four are easier to type into an app.
  std::string grouped;
  for (std::size_t i = 0; i < data["totp_secret"].size(); i += 4) {
    if (i) grouped += ' ';
    grouped += data["totp_secret"].substr(i, 4);
  }
  totp.set("secret", grouped);
  View extra;
  extra.set("totp", std::move(totp));
  auto page = totp_page(c, req, replacing);
  if (error) return refused_form(c, req, page, *error, std::move(extra));
  return render_form(c, req, page, nullptr, status, std::move(extra));
}

// The recovery codes, shown this once (never stored in clear, never shown again).
Response recovery_codes_page(const Context& c, Request& req, const RecoveryCodes& codes,
                             const std::string& next) {
  View model;
  model.set("title", c.t(req, "recovery.heading"));
  model.set("heading", c.t(req, "recovery.heading"));
  model.set_list("codes", {});
  for (const auto& code : codes.codes) model.add("codes", View::of(code));
  model.set("next", next);
  return c.pages.render(req, "identity/recovery_codes", std::move(model));
}

Response totp_submit(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto& data = req.session->data;
  if (!data.count("totp_secret")) {
    return Response::redirect(std::string(req.path == kReplacePath ? kReplacePath : kSetUpPath));
  }
  auto enabled =
      c.identity.second_factor.enable_totp({.account_id = id,
                                            .password = req.form("password").value_or(""),
                                            .current_code = req.form("current_code").value_or(""),
                                            .secret = data["totp_secret"],
                                            .code = req.form("code").value_or(""),
                                            .source_address = req.remote_address});
  if (!enabled) return totp_form(c, req, &enabled.error(), 422);
  data.erase("totp_secret");
  data.erase("totp_uri");
  // Password and the new factor were both proven just now: the session reaches substantial
  // (with a new id, as on every raise of privilege).
  raise_level(*req.session, TrustLevel::substantial);
  data["flash"] = c.t(req, "totp.enabled");
  if (!c.sessions.rotate(*req.session)) {
    req.session = nullptr;
    return Response::redirect("/anmelden");
  }
  c.sessions.revoke_others(id, *req.session);
  req.session->dirty = true;
  return recovery_codes_page(c, req, *enabled, local_next(req, "/konto"));
}

FormPage remove_page(const Context& c, const Request& req) {
  return {.heading = c.t(req, "totp.remove_heading"),
          .intro = c.t(req, "totp.remove_intro"),
          .action = std::string(kRemovePath),
          .submit = c.t(req, "totp.remove_submit"),
          .fields = {current_password_field(c, req), current_code_field(c, req)},
          .links = {link("/konto/sicherheit", c.t(req, "totp.back"))}};
}

Response remove_form(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto account = c.identity.accounts.find(id);
  if (!account) return to_login(req);
  if (!account->totp_enabled) return Response::redirect(std::string(kSetUpPath));
  return render_form(c, req, remove_page(c, req), nullptr, 200);
}

Response remove_submit(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto removed =
      c.identity.second_factor.remove_totp({.account_id = id,
                                            .password = req.form("password").value_or(""),
                                            .current_code = req.form("current_code").value_or(""),
                                            .source_address = req.remote_address});
  if (!removed) {
    if (removed.error().code == core::ErrorCode::not_found) {
      return Response::redirect(std::string(kSetUpPath));
    }
    return refused_form(c, req, remove_page(c, req), removed.error());
  }
  c.sessions.revoke_others(id, *req.session);
  req.session->data["flash"] = c.t(req, "totp.removed");
  req.session->dirty = true;
  return Response::redirect("/konto/sicherheit");
}

// The QR code of the pending enrollment as SVG (no script, allowed by the CSP).
Response totp_qr(Request& req) {
  if (!req.session || req.session->account_id.empty() || !req.session->data.count("totp_uri")) {
    return Response::text("not found\n", 404);
  }
  QRcode* qr =
      QRcode_encodeString(req.session->data["totp_uri"].c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (!qr) throw core::Failure("QR code could not be made");
  int w = qr->width;
  constexpr int kQuiet = 4;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" "
      "shape-rendering=\"crispEdges\">"
      "<rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
      w + 2 * kQuiet);
  for (int y = 0; y < w; ++y) {
    for (int x = 0; x < w; ++x) {
      if (qr->data[y * w + x] & 1) svg += fmt::format("M{} {}h1v1h-1z", x + kQuiet, y + kQuiet);
    }
  }
  svg += "\"/></svg>";
  QRcode_free(qr);
  auto res = Response::text(std::move(svg));
  res.set_header("Content-Type", "image/svg+xml");
  return res;
}

}  // namespace

void register_pages(web::Router& router, const web::Pages& pages, web::SessionStore& sessions,
                    Identity& identity, PageOptions options) {
  if (!options.clock) throw core::Failure("identity pages need a clock");
  auto c = std::make_shared<Context>(Context{pages, sessions, identity, options});
  register_staff_routes(router, c);
  register_client_routes(router, c);
  register_organisation_routes(router, c);
  register_federation_routes(router, c);
  router.get("/anmelden", [c](Request& req) { return login_form(*c, req); });
  router.post("/anmelden", [c](Request& req) { return login_submit(*c, req); });
  router.get("/anmelden/zweiter-faktor", [c](Request& req) { return second_factor_form(*c, req); });
  router.post("/anmelden/zweiter-faktor",
              [c](Request& req) { return second_factor_submit(*c, req); });
  router.post("/abmelden", [c](Request& req) { return logout(*c, req); });
  router.get("/konto/registrieren", [c](Request& req) {
    return render_form(*c, req, register_page(*c, req), nullptr, 200);
  });
  router.post("/konto/registrieren", [c](Request& req) { return register_submit(*c, req); });
  router.get("/konto/registrieren/gesendet", [c](Request& req) {
    return message(*c, req, c->t(req, "register.sent_heading"),
                   {c->t(req, "register.sent_text"), c->t(req, "register.sent_hint")});
  });
  router.get("/konto/bestaetigen", [c](Request& req) { return confirm(*c, req); });
  router.get("/konto", [c](Request& req) { return account_page(*c, req); });
  router.get("/konto/profil", [c](Request& req) { return profile_form(*c, req); });
  router.post("/konto/profil", [c](Request& req) { return profile_submit(*c, req); });
  for (auto path : {kSetUpPath, kReplacePath}) {
    router.get(std::string(path), [c](Request& req) { return totp_form(*c, req, nullptr, 200); });
    router.post(std::string(path), [c](Request& req) { return totp_submit(*c, req); });
  }
  router.get(std::string(kRemovePath), [c](Request& req) { return remove_form(*c, req); });
  router.post(std::string(kRemovePath), [c](Request& req) { return remove_submit(*c, req); });
  router.get("/konto/zwei-faktor/qr.svg", [](Request& req) { return totp_qr(req); });
  router.get("/passwort-vergessen", [c](Request& req) {
    return render_form(*c, req, forgot_page(*c, req), nullptr, 200);
  });
  router.post("/passwort-vergessen", [c](Request& req) { return forgot_submit(*c, req); });
  router.get("/passwort-vergessen/gesendet", [c](Request& req) {
    return message(*c, req, c->t(req, "forgot.sent_heading"), {c->t(req, "forgot.sent_text")});
  });
  router.get("/passwort-neu", [c](Request& req) {
    return render_form(*c, req, reset_page(*c, req, req.query_param("token").value_or("")), nullptr,
                       200);
  });
  router.post("/passwort-neu", [c](Request& req) { return reset_submit(*c, req); });
  router.get("/konto/sicherheit", [c](Request& req) { return security_page(*c, req); });
  router.post("/konto/sitzungen/{id}/beenden",
              [c](Request& req) { return revoke_session(*c, req); });
  router.get("/konto/daten", [c](Request& req) { return export_data(*c, req); });
  router.get("/konto/loeschen", [c](Request& req) {
    if (signed_in(req).empty()) return to_login(req);
    return render_form(*c, req, delete_page(*c, req), nullptr, 200);
  });
  router.post("/konto/loeschen", [c](Request& req) { return delete_submit(*c, req); });
}

}  // namespace mvsp::identity
