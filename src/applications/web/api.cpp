// /api/v1/vorhaben: Vorhaben of external online services (integration areas 1 and 2). The
// online service runs elsewhere and signs the person in through our OpenID Connect
// provider; with the person's access token it creates the Vorhaben, which then shows in
// "Meine Anträge". Status and messages follow with the client's own token (client
// credentials), for the client's own Vorhaben only.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/applications/applications.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/machine_clients.hpp>
#include <mvsp/web/router.hpp>
#include <sstream>
#include <variant>

#include "routes.hpp"

namespace mvsp::applications {
namespace {

using web::Request;
using web::Response;
using Json = Poco::JSON::Object;

constexpr std::size_t kMaxBody = 64 * 1024;

std::string bearer(const Request& req) {
  auto h = req.header("authorization").value_or("");
  if (h.size() < 7 || (h.substr(0, 7) != "Bearer " && h.substr(0, 7) != "bearer ")) return {};
  return h.substr(7);
}

Response json_response(const Json& o, int status) {
  std::ostringstream out;
  o.stringify(out);
  auto r = Response::json(out.str(), status);
  r.set_header("Cache-Control", "no-store");
  return r;
}

Json application_json(const Application& a, const std::vector<Event>& events) {
  Json j;
  j.set("id", a.id);
  j.set("reference", a.reference);
  j.set("title", a.title);
  j.set("status", std::string(status_name(a.status)));
  j.set("url", a.external_url);
  if (!a.authority_id.empty()) j.set("authority", a.authority_id);
  j.set("createdAt", core::format_utc(a.created_at));
  j.set("updatedAt", core::format_utc(a.updated_at));
  Poco::JSON::Array history;
  for (const auto& e : events) {
    Json h;
    h.set("at", core::format_utc(e.at));
    h.set("status", std::string(status_name(e.status)));
    if (!e.text.empty()) h.set("text", e.text);
    history.add(h);
  }
  j.set("history", history);
  return j;
}

// The body as a JSON object, or the problem that refuses it.
std::variant<Poco::JSON::Object::Ptr, Response> json_body(const Request& req) {
  if (!req.header("content-type").value_or("").starts_with("application/json")) {
    return web::problem(req,
                        core::Error::unsupported_media_type("The body must be application/json."));
  }
  if (req.body.size() > kMaxBody) {
    return web::problem(req, core::Error::invalid("body", "must be at most 64 KiB"));
  }
  try {
    auto o = Poco::JSON::Parser().parse(req.body).extract<Poco::JSON::Object::Ptr>();
    if (o) return o;
  } catch (const std::exception&) {
  }
  return web::problem(req, core::Error::invalid("body", "must be a JSON object"));
}

// A text member: absent is "", anything but a string is a problem named by the field.
std::string text(const Poco::JSON::Object::Ptr& o, const char* key, core::Error& error) {
  if (!o->has(key)) return {};
  auto v = o->get(key);
  if (!v.isString()) {
    error.and_field(key, "must be a string");
    return {};
  }
  return v.extract<std::string>();
}

struct Api {
  Applications& apps;
  identity::Provider& provider;
  web::MachineClients* clients;

  Response create(Request& req) {
    auto grant = provider.check_access_token(bearer(req));
    if (!grant || grant->account_id.empty()) {
      auto r = web::problem(
          req, core::Error::unauthenticated("The access token of a signed-in person is needed."));
      r.set_header("WWW-Authenticate", "Bearer");
      return r;
    }
    if (std::find(grant->scopes.begin(), grant->scopes.end(), "vorhaben") == grant->scopes.end()) {
      auto r = web::problem(req, core::Error::forbidden("The token lacks the scope vorhaben."));
      r.set_header("WWW-Authenticate", R"(Bearer error="insufficient_scope", scope="vorhaben")");
      return r;
    }
    auto body = json_body(req);
    if (auto* r = std::get_if<Response>(&body)) return *r;
    auto o = std::get<Poco::JSON::Object::Ptr>(body);
    core::Error error{core::ErrorCode::invalid_input, "The Vorhaben is not valid.", {}, {}};
    ExternalStart s;
    s.client_id = grant->client_id;
    s.tenant_id = grant->tenant_id;
    s.account_id = grant->account_id;
    s.title = text(o, "title", error);
    s.external_url = text(o, "url", error);
    s.authority_id = text(o, "authority", error);
    s.idempotency_key = req.header("idempotency-key").value_or("");
    if (!error.fields.empty()) return web::problem(req, error);
    auto created = apps.create_external(s);
    if (!created) return web::problem(req, created.error());
    auto res = json_response(application_json(*created, apps.events(created->id)), 201);
    res.set_header("Location", "/api/v1/vorhaben/" + created->id);
    return res;
  }

  std::variant<web::MachineClient, Response> client(const Request& req, std::string_view scope) {
    return web::tenant_client(req, *clients, scope);
  }

  Response read(Request& req) {
    auto c = client(req, "vorhaben:write");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto a = apps.find_external(std::get<web::MachineClient>(c).client_id, req.param("id"));
    if (!a) return web::problem(req, a.error());
    return json_response(application_json(*a, apps.events(a->id)), 200);
  }

  Response status(Request& req) {
    auto c = client(req, "vorhaben:write");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto body = json_body(req);
    if (auto* r = std::get_if<Response>(&body)) return *r;
    auto o = std::get<Poco::JSON::Object::Ptr>(body);
    core::Error error{core::ErrorCode::invalid_input, "The status is not valid.", {}, {}};
    auto name = text(o, "status", error);
    auto parsed = parse_status(name);
    if (!parsed || *parsed == Status::draft) {
      error.and_field("status",
                      "one of submitted, received, in_progress, query, documents_requested, "
                      "decided, withdrawn, ended");
    }
    auto note = text(o, "text", error);
    if (!error.fields.empty()) return web::problem(req, error);
    auto posted = apps.post_status(std::get<web::MachineClient>(c).client_id, req.param("id"),
                                   *parsed, note, req.header("idempotency-key").value_or(""));
    if (!posted) return web::problem(req, posted.error());
    return json_response(application_json(*posted, apps.events(posted->id)), 200);
  }

  Response message(Request& req) {
    auto c = client(req, "vorhaben:write");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto body = json_body(req);
    if (auto* r = std::get_if<Response>(&body)) return *r;
    auto o = std::get<Poco::JSON::Object::Ptr>(body);
    core::Error error{core::ErrorCode::invalid_input, "The message is not valid.", {}, {}};
    auto subject = text(o, "subject", error);
    auto message_body = text(o, "body", error);
    if (subject.empty() || subject.size() > 200) error.and_field("subject", "1 to 200 characters");
    if (message_body.empty() || message_body.size() > 20000)
      error.and_field("body", "1 to 20,000 characters");
    if (!error.fields.empty()) return web::problem(req, error);
    auto posted =
        apps.post_message(std::get<web::MachineClient>(c).client_id, req.param("id"), subject,
                          message_body, req.header("idempotency-key").value_or(""));
    if (!posted) return web::problem(req, posted.error());
    Response accepted;
    accepted.status = 202;
    return accepted;
  }
};

}  // namespace

void register_api(web::Router& router, Applications& apps, identity::Provider& provider,
                  web::MachineClients& clients) {
  auto api = std::make_shared<Api>(Api{apps, provider, &clients});
  router.post("/api/v1/vorhaben", [api](Request& req) { return api->create(req); });
  router.get("/api/v1/vorhaben/{id}", [api](Request& req) { return api->read(req); });
  router.post("/api/v1/vorhaben/{id}/status", [api](Request& req) { return api->status(req); });
  router.post("/api/v1/vorhaben/{id}/nachrichten",
              [api](Request& req) { return api->message(req); });
}

}  // namespace mvsp::applications
