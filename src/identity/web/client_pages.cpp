// The client registry for operators: list and register OpenID Connect clients.
#include <sstream>

#include "page_kit.hpp"

namespace mvsp::identity::page_kit {
namespace {

using web::Request;
using web::Response;
using web::View;

// --- client registry (operators) ----------------------------------------------

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    while (!line.empty() && line.front() == ' ') line.erase(0, 1);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Operators only; everyone else gets 403 (and visitors the login).
std::optional<Response> refuse_non_operator(const Context& c, Request& req) {
  auto id = signed_in(req);
  if (id.empty()) return to_login(req);
  if (!c.options.oidc || !c.identity.staff.is_operator(id))
    return c.pages.error(req, core::Error::forbidden("only operators manage clients"));
  return std::nullopt;
}

Response clients_list(const Context& c, Request& req) {
  if (auto refused = refuse_non_operator(c, req)) return *refused;
  View model;
  model.set("title_key", "identity.clients.heading");
  model.set_list("clients", {});
  for (const auto& cl : c.options.oidc->clients()) {
    View v;
    v.set("name", cl.name);
    v.set("client_id", cl.client_id);
    v.set("kind", c.t(req, cl.is_public ? "clients.public" : "clients.confidential"));
    std::string grants;
    for (const auto& g : cl.grants) grants += (grants.empty() ? "" : ", ") + g;
    v.set("grants", grants);
    std::string redirects;
    for (const auto& r : cl.redirect_uris) redirects += (redirects.empty() ? "" : " ") + r;
    v.set("redirects", redirects);
    model.add("clients", std::move(v));
  }
  return c.pages.render(req, "identity/clients", std::move(model));
}

Response client_form(const Context& c, Request& req, const core::Error* error, int status) {
  if (auto refused = refuse_non_operator(c, req)) return *refused;
  auto value = [&](const char* name, std::string fallback = {}) {
    return req.form(name).value_or(std::move(fallback));
  };
  FormPage page{.heading = c.t(req, "clients.new_heading"),
                .intro = c.t(req, "clients.new_intro"),
                .action = "/verwaltung/clients/neu",
                .submit = c.t(req, "clients.create"),
                .fields = {{.name = "name",
                            .label = c.t(req, "clients.name"),
                            .value = value("name"),
                            .required = true},
                           {.name = "redirect_uri",
                            .label = c.t(req, "clients.redirects"),
                            .value = value("redirect_uri"),
                            .hint = c.t(req, "clients.lines_hint"),
                            .multiline = true},
                           {.name = "post_logout_uri",
                            .label = c.t(req, "clients.post_logout"),
                            .value = value("post_logout_uri"),
                            .hint = c.t(req, "clients.lines_hint"),
                            .multiline = true},
                           {.name = "scope",
                            .label = c.t(req, "clients.scopes"),
                            .value = value("scope", "openid profile email address"),
                            .hint = c.t(req, "clients.scopes_hint")}},
                .links = {link("/verwaltung/clients", c.t(req, "clients.back"))}};
  std::vector<std::string> grants;
  for (const auto& [k, v] : web::parse_urlencoded(req.body)) {
    if (k == "grant") grants.push_back(v);
  }
  if (req.method == web::Method::get) grants = {"authorization_code", "refresh_token"};
  View extra;
  View kinds = choices_view(
      "kind", c.t(req, "clients.kind"), "kind", "radio",
      {{"confidential", c.t(req, "clients.confidential")}, {"public", c.t(req, "clients.public")}},
      {value("kind", "confidential")}, error);
  View grant_choices = choices_view("grant", c.t(req, "clients.grants"), "grant", "checkbox",
                                    {{"authorization_code", "authorization_code"},
                                     {"refresh_token", "refresh_token"},
                                     {"client_credentials", "client_credentials"}},
                                    grants, error);
  std::vector<std::pair<std::string, std::string>> tenant_options{
      {"", c.t(req, "clients.no_tenant")}};
  for (const auto& t : c.identity.staff.tenants()) tenant_options.emplace_back(t.id, t.name);
  View tenant_choices = choices_view("tenant", c.t(req, "clients.tenant"), "tenant", "radio",
                                     tenant_options, {value("tenant")}, error);
  // The form template shows one group; the others follow as a list.
  extra.set_list("groups", {std::move(kinds), std::move(grant_choices), std::move(tenant_choices)});
  return render_form(c, req, page, error, status, std::move(extra));
}

Response client_create(const Context& c, Request& req) {
  if (auto refused = refuse_non_operator(c, req)) return *refused;
  std::vector<std::string> grants;
  for (const auto& [k, v] : web::parse_urlencoded(req.body)) {
    if (k == "grant") grants.push_back(v);
  }
  if (grants.empty()) {
    auto missing = core::Error::invalid("grant", c.t(req, "clients.no_grant"));
    return client_form(c, req, &missing, 422);
  }
  auto created = c.options.oidc->create_client(
      {.name = req.form("name").value_or(""),
       .redirect_uris = lines(req.form("redirect_uri").value_or("")),
       .post_logout_uris = lines(req.form("post_logout_uri").value_or("")),
       .scopes = words(req.form("scope").value_or("")),
       .grants = grants,
       .is_public = req.form("kind").value_or("") == "public",
       .tenant_id = req.form("tenant").value_or("")},
      "account:" + signed_in(req));
  if (!created) return client_form(c, req, &created.error(), 422);
  View model;
  model.set("title_key", "identity.clients.created_heading");
  model.set("client_id", created->client.client_id);
  if (!created->client_secret.empty()) model.set("client_secret", created->client_secret);
  return c.pages.render(req, "identity/client_created", std::move(model));
}

}  // namespace

void register_client_routes(web::Router& router, std::shared_ptr<Context> c) {
  router.get("/verwaltung/clients", [c](Request& req) { return clients_list(*c, req); });
  router.get("/verwaltung/clients/neu",
             [c](Request& req) { return client_form(*c, req, nullptr, 200); });
  router.post("/verwaltung/clients/neu", [c](Request& req) { return client_create(*c, req); });
}

}  // namespace mvsp::identity::page_kit
