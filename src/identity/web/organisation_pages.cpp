// Organisation accounts: list and choose whom to act for, create, members, invite, accept.
#include <mvsp/identity/acting.hpp>

#include "page_kit.hpp"

namespace mvsp::identity::page_kit {
namespace {

using web::Request;
using web::Response;
using web::View;

std::string role_label(const Context& c, const Request& req, const std::string& role) {
  return c.t(req, "organisations.role_" + role);
}

Response organisations_page(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  req.csrf_token();
  View model;
  model.set("title_key", "identity.organisations.heading");
  auto acting = identity::acting_for(c.identity.organisations, *req.session);
  if (acting) model.set("acting", acting->name);
  model.set_list("organisations", {});
  for (const auto& o : c.identity.organisations.organisations_of(id)) {
    View v;
    v.set("id", o.id);
    v.set("name", o.name);
    v.set("role_label", role_label(c, req, o.role));
    v.set("current", acting && o.id == acting->id);
    model.add("organisations", std::move(v));
  }
  return c.pages.render(req, "identity/organisations", std::move(model));
}

FormPage create_page(const Context& c, const Request& req) {
  return {.heading = c.t(req, "organisations.create_heading"),
          .intro = c.t(req, "organisations.create_intro"),
          .action = "/konto/organisationen/neu",
          .submit = c.t(req, "organisations.create"),
          .fields = {{.name = "name",
                      .label = c.t(req, "organisations.name"),
                      .value = req.form("name").value_or(""),
                      .autocomplete = "organization",
                      .required = true}},
          .links = {link("/konto/organisationen", c.t(req, "organisations.back"))}};
}

Response create_submit(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto created =
      c.identity.organisations.create_organisation(id, req.form("name").value_or(""), req.locale);
  if (!created) return render_form(c, req, create_page(c, req), &created.error(), 422);
  return Response::redirect("/konto/organisationen/" + created->id);
}

Response organisation_page(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto org = c.identity.organisations.organisation(id, req.param("id"));
  if (!org)
    return c.pages.error(req, core::Error::not_found("no such organisation of this person"));
  auto members = c.identity.organisations.organisation_members(id, org->id);
  req.csrf_token();
  View model;
  model.set("title", org->name);
  model.set("id", org->id);
  model.set("name", org->name);
  model.set("is_admin", org->role == "admin");
  model.set_list("members", {});
  for (const auto& m : *members) {
    View v;
    v.set("org_id", org->id);
    v.set("account_id", m.account_id);
    v.set("name", m.name);
    v.set("email", m.email);
    v.set("role_label", role_label(c, req, m.role));
    bool self = m.account_id == id;
    v.set("removable", self || org->role == "admin");
    v.set("action_label", c.t(req, self ? "organisations.leave" : "organisations.remove"));
    model.add("members", std::move(v));
  }
  return c.pages.render(req, "identity/organisation", std::move(model));
}

FormPage invite_org_page(const Context& c, const Request& req, const std::string& org) {
  return {.heading = c.t(req, "organisations.invite_heading"),
          .intro = c.t(req, "organisations.invite_intro"),
          .action = "/konto/organisationen/" + org + "/einladen",
          .submit = c.t(req, "staff.invite_submit"),
          .fields = {{.name = "email",
                      .label = c.t(req, "fields.email"),
                      .value = req.form("email").value_or(""),
                      .type = "email",
                      .required = true}},
          .links = {link("/konto/organisationen/" + org, c.t(req, "organisations.back_to_org"))}};
}

Response invite_org_form(const Context& c, Request& req, const core::Error* error, int status) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto org = c.identity.organisations.organisation(id, req.param("id"));
  if (!org)
    return c.pages.error(req, core::Error::not_found("no such organisation of this person"));
  if (org->role != "admin")
    return c.pages.error(req, core::Error::forbidden("only an organisation's admins invite"));
  View extra;
  extra.set("choices", choices_view("role", c.t(req, "staff.role"), "role", "radio",
                                    {{"member", role_label(c, req, "member")},
                                     {"admin", role_label(c, req, "admin")}},
                                    {req.form("role").value_or("member")}, error));
  return render_form(c, req, invite_org_page(c, req, org->id), error, status, std::move(extra));
}

Response invite_org_submit(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto org_id = req.param("id");
  auto sent = c.identity.organisations.invite_to_organisation(
      id, org_id, req.form("email").value_or(""), req.form("role").value_or(""), req.locale);
  if (!sent) {
    if (web::is_refusal(sent.error())) return c.pages.error(req, sent.error());
    return invite_org_form(c, req, &sent.error(), 422);
  }
  req.session->data["flash"] = c.t(req, "staff.invited");
  req.session->dirty = true;
  return Response::redirect("/konto/organisationen/" + org_id);
}

Response invitation_page(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty())
    return Response::redirect("/anmelden?next=" + web::url_encode(req.path + "?" + req.query));
  auto token = req.query_param("token").value_or("");
  auto org = c.identity.organisations.check_invitation(id, token, req.locale);
  if (!org) {
    return message(c, req, c.t(req, "organisations.invitation_heading"), {org.error().message},
                   link("/konto/organisationen", c.t(req, "organisations.back")),
                   web::http_status(org.error().code));
  }
  req.csrf_token();
  View model;
  model.set("title_key", "identity.organisations.invitation_heading");
  model.set("name", org->name);
  model.set("role_label", role_label(c, req, org->role));
  model.set("token", token);
  return c.pages.render(req, "identity/invitation", std::move(model));
}

Response accept_submit(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto org =
      c.identity.organisations.accept_invitation(id, req.form("token").value_or(""), req.locale);
  if (!org) {
    return message(c, req, c.t(req, "organisations.invitation_heading"), {org.error().message},
                   link("/konto/organisationen", c.t(req, "organisations.back")),
                   web::http_status(org.error().code));
  }
  return Response::redirect("/konto/organisationen/" + org->id);
}

Response remove_submit(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto org_id = req.param("id");
  auto member = req.param("member");
  auto removed = c.identity.organisations.remove_from_organisation(id, org_id, member, req.locale);
  if (!removed) {
    if (web::is_refusal(removed.error())) return c.pages.error(req, removed.error());
    req.session->data["flash"] = removed.error().fields.empty() ? removed.error().message
                                                                : removed.error().fields[0].message;
    req.session->dirty = true;
    return Response::redirect("/konto/organisationen/" + org_id);
  }
  if (member == id) {
    identity::acting_for(c.identity.organisations,
                         *req.session);  // forgets the organisation just left
    return Response::redirect("/konto/organisationen");
  }
  return Response::redirect("/konto/organisationen/" + org_id);
}

// Acting for an organisation: what the person does from now on, they do for it.
Response act_for(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  auto org = identity::act_for(c.identity.organisations, *req.session, req.param("id"));
  if (!org)
    return c.pages.error(req, core::Error::not_found("no such organisation of this person"));
  req.session->data["flash"] = c.t(req, "organisations.now_acting") + " " + org->name;
  req.session->dirty = true;
  return Response::redirect("/konto/organisationen");
}

Response act_private(const Context& c, Request& req) {
  if (signed_in(req).empty()) return to_login(req);
  identity::act_privately(*req.session);
  req.session->data["flash"] = c.t(req, "organisations.now_private");
  req.session->dirty = true;
  return Response::redirect("/konto/organisationen");
}

}  // namespace

void register_organisation_routes(web::Router& router, std::shared_ptr<Context> c) {
  router.get("/konto/organisationen", [c](Request& req) { return organisations_page(*c, req); });
  router.get("/konto/organisationen/neu", [c](Request& req) {
    if (signed_in(req).empty()) return to_login(req);
    return render_form(*c, req, create_page(*c, req), nullptr, 200);
  });
  router.post("/konto/organisationen/neu", [c](Request& req) { return create_submit(*c, req); });
  router.post("/konto/organisationen/privat", [c](Request& req) { return act_private(*c, req); });
  router.get("/konto/organisationen/{id}",
             [c](Request& req) { return organisation_page(*c, req); });
  router.post("/konto/organisationen/{id}/handeln", [c](Request& req) { return act_for(*c, req); });
  router.get("/konto/organisationen/{id}/einladen",
             [c](Request& req) { return invite_org_form(*c, req, nullptr, 200); });
  router.post("/konto/organisationen/{id}/einladen",
              [c](Request& req) { return invite_org_submit(*c, req); });
  router.post("/konto/organisationen/{id}/mitglieder/{member}/entfernen",
              [c](Request& req) { return remove_submit(*c, req); });
  router.get("/organisation/einladung", [c](Request& req) { return invitation_page(*c, req); });
  router.post("/organisation/einladung", [c](Request& req) { return accept_submit(*c, req); });
}

}  // namespace mvsp::identity::page_kit
