// Staff self-service of an authority: list, invite, roles, remove.
#include "page_kit.hpp"

namespace mvsp::identity::page_kit {
namespace {

using web::Request;
using web::Response;
using web::View;

// --- staff self-service of an authority ----------------------------------------

// The roles an authority admin hands out (operators are made on the command line).
const std::vector<std::string>& assignable_roles() {
  static const std::vector<std::string> kRoles = {"clerk", "lead", "cashier", "editor",
                                                  "authority_admin"};
  return kRoles;
}

std::vector<std::pair<std::string, std::string>> role_options(const Context& c,
                                                              const Request& req) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : assignable_roles()) out.emplace_back(r, c.t(req, "roles." + r));
  return out;
}

// The tenant the admin works on: ?mandant= (or the form field), else the first one.
std::string chosen_tenant(const Context& c, const Request& req, const std::string& actor) {
  auto wanted = req.form("mandant");
  if (!wanted) wanted = req.query_param("mandant");
  if (wanted && !wanted->empty()) return *wanted;
  auto tenants = c.identity.staff.administered_tenants(actor);
  return tenants.empty() ? std::string() : tenants.front().id;
}

std::string tenant_name(const Context& c, const std::string& actor, const std::string& id) {
  for (const auto& t : c.identity.staff.administered_tenants(actor)) {
    if (t.id == id) return t.name;
  }
  return {};
}

// Forbidden and not-found outcomes as error pages; nothing tells whether another
// authority's member exists.
Response refused(const Context& c, Request& req, const core::Error& e) {
  return c.pages.error(req, e);
}

std::string roles_text(const Context& c, const Request& req,
                       const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ", ") + c.t(req, "roles." + r);
  return out;
}

Response staff_list(const Context& c, Request& req) {
  auto actor = signed_in(req);
  if (actor.empty()) return to_login(req);
  auto tenant = chosen_tenant(c, req, actor);
  auto members = c.identity.staff.list_staff(actor, tenant);
  if (!members) return refused(c, req, members.error());
  View model;
  model.set("title_key", "identity.staff.heading");
  model.set("tenant_id", tenant);
  model.set("tenant_name", tenant_name(c, actor, tenant));
  model.set_list("members", {});
  for (const auto& m : *members) {
    View v;
    v.set("id", m.id);
    v.set("name", m.name);
    v.set("email", m.email);
    v.set("roles", roles_text(c, req, m.roles));
    v.set("tenant_id", tenant);
    model.add("members", std::move(v));
  }
  auto invitations = c.identity.staff.staff_invitations(actor, tenant);
  if (!invitations) return refused(c, req, invitations.error());
  req.csrf_token();  // the withdraw buttons are forms
  model.set_list("invitations", {});
  model.set("has_invitations", !invitations->empty());
  for (const auto& i : *invitations) {
    View v;
    v.set("id", i.id);
    v.set("name", i.name);
    v.set("email", i.email);
    v.set("role", c.t(req, "roles." + i.role));
    v.set("valid_until", core::format_berlin(i.expires_at));
    v.set("tenant_id", tenant);
    model.add("invitations", std::move(v));
  }
  model.set_list("other_tenants", {});
  for (const auto& t : c.identity.staff.administered_tenants(actor)) {
    if (t.id == tenant) continue;
    View v;
    v.set("id", t.id);
    v.set("name", t.name);
    model.add("other_tenants", std::move(v));
    model.set("has_other_tenants", true);
  }
  return c.pages.render(req, "identity/staff", std::move(model));
}

FormPage invite_page(const Context& c, const Request& req, const std::string& tenant) {
  auto value = [&](const char* name) { return req.form(name).value_or(""); };
  return {.heading = c.t(req, "staff.invite_heading"),
          .intro = c.t(req, "staff.invite_intro"),
          .action = "/verwaltung/mitarbeitende/neu",
          .submit = c.t(req, "staff.invite_submit"),
          .fields = {{.name = "given_name",
                      .label = c.t(req, "fields.given_name"),
                      .value = value("given_name"),
                      .required = true},
                     {.name = "family_name",
                      .label = c.t(req, "fields.family_name"),
                      .value = value("family_name"),
                      .required = true},
                     {.name = "email",
                      .label = c.t(req, "fields.email"),
                      .value = value("email"),
                      .type = "email",
                      .required = true}},
          .hidden = {hidden("mandant", tenant)},
          .links = {link("/verwaltung/mitarbeitende?mandant=" + tenant, c.t(req, "staff.back"))}};
}

Response invite_form(const Context& c, Request& req, const core::Error* error, int status) {
  auto actor = signed_in(req);
  if (actor.empty()) return to_login(req);
  auto tenant = chosen_tenant(c, req, actor);
  if (auto allowed = c.identity.staff.list_staff(actor, tenant); !allowed) {
    return refused(c, req, allowed.error());
  }
  View extra;
  extra.set("choices",
            choices_view("role", c.t(req, "staff.role"), "role", "radio", role_options(c, req),
                         {req.form("role").value_or("clerk")}, error));
  if (error) return refused_form(c, req, invite_page(c, req, tenant), *error, std::move(extra));
  return render_form(c, req, invite_page(c, req, tenant), nullptr, status, std::move(extra));
}

Response invite_submit(const Context& c, Request& req) {
  auto actor = signed_in(req);
  if (actor.empty()) return to_login(req);
  auto tenant = chosen_tenant(c, req, actor);
  auto invited = c.identity.staff.invite_staff(actor, tenant,
                                               {.email = req.form("email").value_or(""),
                                                .given_name = req.form("given_name").value_or(""),
                                                .family_name = req.form("family_name").value_or(""),
                                                .role = req.form("role").value_or(""),
                                                .locale = req.locale,
                                                .source_address = req.remote_address});
  if (!invited) {
    auto code = invited.error().code;
    if (code != core::ErrorCode::invalid_input && code != core::ErrorCode::rate_limited) {
      return refused(c, req, invited.error());
    }
    return invite_form(c, req, &invited.error(), 422);
  }
  req.session->data["flash"] = c.t(req, "staff.invited");
  req.session->dirty = true;
  return Response::redirect("/verwaltung/mitarbeitende?mandant=" + web::url_encode(tenant));
}

Response member_page(const Context& c, Request& req, const core::Error* error, int status,
                     std::vector<std::string> checked = {}) {
  auto actor = signed_in(req);
  if (actor.empty()) return to_login(req);
  auto tenant = chosen_tenant(c, req, actor);
  auto member = c.identity.staff.staff_member(actor, tenant, req.param("id"));
  if (!member) return refused(c, req, member.error());
  req.csrf_token();
  View model;
  model.set("title", member->name);
  model.set("member_id", member->id);
  model.set("member_name", member->name);
  model.set("member_email", member->email);
  model.set("tenant_id", tenant);
  model.set("tenant_name", tenant_name(c, actor, tenant));
  model.set("is_self", member->id == actor);
  model.set("choices", choices_view("roles", c.t(req, "staff.roles"), "roles", "checkbox",
                                    role_options(c, req), error ? checked : member->roles, error));
  model.set("form",
            web::form_view({}, error, c.pages.catalog().text(req.locale, "form.error_title")));
  return c.pages.render(req, "identity/member", std::move(model), status);
}

Response member_submit(const Context& c, Request& req) {
  auto actor = signed_in(req);
  if (actor.empty()) return to_login(req);
  auto tenant = chosen_tenant(c, req, actor);
  std::vector<std::string> roles;
  for (const auto& [k, v] : web::parse_urlencoded(req.body)) {
    if (k == "roles") roles.push_back(v);
  }
  auto set = c.identity.staff.set_staff_roles(actor, tenant, req.param("id"), roles, req.locale);
  if (!set) {
    if (set.error().code != core::ErrorCode::invalid_input) return refused(c, req, set.error());
    return member_page(c, req, &set.error(), 422, roles);
  }
  req.session->data["flash"] = c.t(req, "staff.saved");
  req.session->dirty = true;
  return Response::redirect("/verwaltung/mitarbeitende?mandant=" + web::url_encode(tenant));
}

Response member_remove(const Context& c, Request& req) {
  auto actor = signed_in(req);
  if (actor.empty()) return to_login(req);
  auto tenant = chosen_tenant(c, req, actor);
  auto removed = c.identity.staff.remove_staff(actor, tenant, req.param("id"), req.locale);
  if (!removed) return refused(c, req, removed.error());
  req.session->data["flash"] = c.t(req, "staff.removed");
  req.session->dirty = true;
  return Response::redirect("/verwaltung/mitarbeitende?mandant=" + web::url_encode(tenant));
}

Response withdraw_submit(const Context& c, Request& req) {
  auto actor = signed_in(req);
  if (actor.empty()) return to_login(req);
  auto tenant = chosen_tenant(c, req, actor);
  auto withdrawn = c.identity.staff.withdraw_staff_invitation(actor, tenant, req.param("id"));
  if (!withdrawn) return refused(c, req, withdrawn.error());
  req.session->data["flash"] = c.t(req, "staff.withdrawn");
  req.session->dirty = true;
  return Response::redirect("/verwaltung/mitarbeitende?mandant=" + web::url_encode(tenant));
}

// --- the invited person's side: the link from the mail -----------------------------

constexpr std::string_view kInvitationPath = "/verwaltung/einladung";

std::string invitation_intro(const Context& c, const Request& req,
                             const StaffInvitationCheck& check) {
  return fmt::format("{} {} ({} {}). {} {}.", c.t(req, "staff_invitation.text"), check.tenant_name,
                     c.t(req, "staff_invitation.role"), c.t(req, "roles." + check.role),
                     c.t(req, "staff_invitation.for_address"), check.email);
}

FormPage invitation_form(const Context& c, const Request& req, const StaffInvitationCheck& check,
                         const std::string& token) {
  bool new_account = check.next == StaffInvitationCheck::Next::set_password;
  FormPage page{.heading = c.t(req, "staff_invitation.heading"),
                .intro = invitation_intro(c, req, check),
                .action = std::string(kInvitationPath),
                .submit = c.t(req, new_account ? "staff_invitation.set_password_submit"
                                               : "staff_invitation.accept"),
                .hidden = {hidden("token", token)}};
  if (new_account) {
    page.intro += " " + c.t(req, "staff_invitation.set_password_intro");
    page.fields = new_password_fields(c, req);
  }
  return page;
}

// What the link asks of the person who opened it; `error` re-shows the form.
Response invitation_page(const Context& c, Request& req, const std::string& token,
                         const core::Error* error) {
  using Next = StaffInvitationCheck::Next;
  auto heading = c.t(req, "staff_invitation.heading");
  auto check = c.identity.staff.check_staff_invitation(token, signed_in(req), req.locale);
  if (!check) return message(c, req, heading, {check.error().message}, {}, 404);
  switch (check->next) {
    case Next::citizen_address:
      return message(
          c, req, heading,
          {invitation_intro(c, req, *check), c.t(req, "staff_invitation.citizen_address")});
    case Next::sign_in: {
      auto back = fmt::format("{}?token={}", kInvitationPath, web::url_encode(token));
      return message(c, req, heading,
                     {invitation_intro(c, req, *check), c.t(req, "staff_invitation.sign_in")},
                     link("/anmelden?next=" + web::url_encode(back),
                          c.t(req, "staff_invitation.sign_in_link")));
    }
    case Next::set_password:
    case Next::accept:
      break;
  }
  auto page = invitation_form(c, req, *check, token);
  if (error) return refused_form(c, req, page, *error);
  return render_form(c, req, page, nullptr, 200);
}

Response invitation_submit(const Context& c, Request& req) {
  auto token = req.form("token").value_or("");
  auto accepted = c.identity.staff.accept_staff_invitation(
      {.token = token,
       .actor = signed_in(req),
       .password = req.form("password").value_or(""),
       .password_repeat = req.form("password_repeat").value_or(""),
       .locale = req.locale});
  auto heading = c.t(req, "staff_invitation.heading");
  if (!accepted) {
    const auto& e = accepted.error();
    if (e.code == core::ErrorCode::invalid_input) return invitation_page(c, req, token, &e);
    return message(c, req, heading, {e.message}, {}, web::http_status(e.code));
  }
  if (!accepted->replaced_account_id.empty()) c.sessions.revoke_all(accepted->replaced_account_id);
  if (signed_in(req) == accepted->member.id) {
    return message(c, req, heading, {c.t(req, "staff_invitation.accepted")},
                   link("/konto", c.t(req, "profile.back")));
  }
  return message(c, req, heading, {c.t(req, "staff_invitation.created")},
                 link("/anmelden", c.t(req, "confirm.login")));
}

}  // namespace

void register_staff_routes(web::Router& router, std::shared_ptr<Context> c) {
  router.get("/verwaltung/mitarbeitende", [c](Request& req) { return staff_list(*c, req); });
  router.get("/verwaltung/mitarbeitende/neu",
             [c](Request& req) { return invite_form(*c, req, nullptr, 200); });
  router.post("/verwaltung/mitarbeitende/neu",
              [c](Request& req) { return invite_submit(*c, req); });
  router.get("/verwaltung/mitarbeitende/{id}",
             [c](Request& req) { return member_page(*c, req, nullptr, 200); });
  router.post("/verwaltung/mitarbeitende/{id}",
              [c](Request& req) { return member_submit(*c, req); });
  router.post("/verwaltung/mitarbeitende/{id}/entfernen",
              [c](Request& req) { return member_remove(*c, req); });
  router.post("/verwaltung/mitarbeitende/einladungen/{id}/zurueckziehen",
              [c](Request& req) { return withdraw_submit(*c, req); });
  router.get(std::string(kInvitationPath), [c](Request& req) {
    return invitation_page(*c, req, req.query_param("token").value_or(""), nullptr);
  });
  router.post(std::string(kInvitationPath),
              [c](Request& req) { return invitation_submit(*c, req); });
}

}  // namespace mvsp::identity::page_kit
