// The catalog's JSON API: reading is public, writing needs an editor (a staff session or
// a machine client with a catalog scope, resolved by the caller), and the routing API in
// the shape of FITKO's: GET /api/v1/routes?leikaKey=…&ags=….
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <fmt/format.h>

#include <charconv>
#include <mvsp/catalog/api.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/router.hpp>
#include <variant>

#include "json.hpp"

namespace mvsp::catalog {
namespace {

using web::Request;
using web::Response;

Response json_response(const Poco::JSON::Object& o, int status = 200) {
  auto res = Response::json(json::stringify(o), status);
  res.set_header("Cache-Control", "no-cache");
  return res;
}

template <typename T, typename F>
Response list(const std::vector<T>& items, F to) {
  Poco::JSON::Object o;
  Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
  for (const auto& i : items) arr->add(to(i));
  o.set("count", static_cast<int>(items.size()));
  o.set("items", arr);
  return json_response(o);
}

int int_param(const Request& req, const char* name, int fallback, int min, int max,
              core::Error& error) {
  auto v = req.query_param(name);
  if (!v) return fallback;
  int n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max) {
    error.and_field(name, fmt::format("must be a whole number from {} to {}", min, max));
    return fallback;
  }
  return n;
}

Poco::JSON::Object::Ptr authority_json(const Authority& a) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object(json::to_json(a));
  return o;
}

struct Api {
  Catalog& catalog;
  ApiOptions options;

  // The editor behind the request, or the answer that refuses it.
  std::variant<Editor, Response> editor(const Request& req) {
    auto e = options.editor ? options.editor(req) : std::nullopt;
    if (!e) {
      return web::problem(
          req, core::Error::unauthenticated("A bearer token with a catalog scope is needed."));
    }
    return *e;
  }

  // The same check on the head alone, so that a large body is never read for a stranger.
  web::HeadCheck editor_first() {
    return [this](const Request& req) -> std::optional<Response> {
      auto who = editor(req);
      if (auto* refused = std::get_if<Response>(&who)) return std::move(*refused);
      return std::nullopt;
    };
  }

  Response routes(Request& req) {
    core::Error error{core::ErrorCode::invalid_input, "The request is not valid.", {}, {}};
    auto leika = req.query_param("leikaKey").value_or("");
    auto ags = req.query_param("ags").value_or("");
    auto digits = [](const std::string& s, std::size_t n) {
      return s.size() == n && s.find_first_not_of("0123456789") == std::string::npos;
    };
    if (leika.empty()) {
      error.and_field("leikaKey", "is required");
    } else if (!digits(leika, 14)) {
      error.and_field("leikaKey", "must be 14 digits (a LeiKa key)");
    }
    if (ags.empty()) {
      error.and_field("ags", "is required (8-digit AGS of a municipality)");
    } else if (!digits(ags, 8)) {
      error.and_field("ags", "must be 8 digits (the AGS of a municipality)");
    }
    int offset = int_param(req, "offset", 0, 0, 100000, error);
    int limit = int_param(req, "limit", 100, 1, 500, error);
    if (!error.fields.empty()) return web::problem(req, error);
    auto route = catalog.route(leika, ags);
    if (!route && route.error().code != core::ErrorCode::not_found) {
      return web::problem(req, route.error());
    }
    Poco::JSON::Array::Ptr routes = new Poco::JSON::Array;
    int total = route ? 1 : 0;
    if (route && offset == 0 && limit > 0) {
      Poco::JSON::Object::Ptr r = new Poco::JSON::Object;
      const auto& a = route->authority;
      r->set("destinationId", route->online_service ? route->online_service->id : a.id);
      r->set("destinationName", a.name);
      r->set("leikaKey", route->service.leika_key);
      r->set("serviceName", route->service.name);
      r->set("ags", route->place.key);
      r->set("responsibilityRegion", route->responsibility_region.key);
      r->set("authority", authority_json(a));
      if (route->online_service) {
        Poco::JSON::Object::Ptr os = new Poco::JSON::Object;
        os->set("id", route->online_service->id);
        os->set("name", route->online_service->name);
        os->set("version", route->online_service->version);
        os->set("minLevel", route->online_service->config.min_level);
        os->set("feeCents", route->online_service->config.fee_cents);
        if (!route->online_service->config.form.empty()) {
          os->set("form", route->online_service->config.form);
          os->set("formVersion", route->online_service->config.form_version);
        }
        os->set("url", route->online_service->config.external_url.empty()
                           ? fmt::format("{}/antrag/{}?ags={}", options.public_url,
                                         route->online_service->id, route->place.key)
                           : route->online_service->config.external_url);
        r->set("onlineService", os);
      } else {
        r->set("onlineService", Poco::Dynamic::Var());
      }
      routes->add(r);
    }
    Poco::JSON::Object o;
    o.set("count", static_cast<int>(routes->size()));
    o.set("offset", offset);
    o.set("totalCount", total);
    o.set("routes", routes);
    return json_response(o);
  }
};

}  // namespace

void register_api(web::Router& router, Catalog& catalog, ApiOptions options) {
  auto api = std::make_shared<Api>(Api{catalog, std::move(options)});
  router.get("/api/v1/routes", [api](Request& req) { return api->routes(req); });
  router.get("/api/v1/catalog/services", [api](Request&) {
    return list(api->catalog.services(), [](const Service& s) {
      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
      o->set("leikaKey", s.leika_key);
      o->set("name", s.name);
      o->set("level", s.level);
      return o;
    });
  });
  router.get("/api/v1/catalog/services/{leikaKey}", [api](Request& req) {
    auto s = api->catalog.service(req.param("leikaKey"));
    if (!s)
      return web::problem(req, core::Error::not_found("There is no service with this LeiKa key."));
    auto o = json::to_json(*s);
    Poco::JSON::Array::Ptr resp = new Poco::JSON::Array;
    for (const auto& r : api->catalog.responsibilities(s->leika_key)) {
      resp->add(Poco::JSON::Object::Ptr(new Poco::JSON::Object(json::to_json(r))));
    }
    o.set("responsibilities", resp);
    return json_response(o);
  });
  router.get("/api/v1/catalog/authorities",
             [api](Request&) { return list(api->catalog.authorities(), authority_json); });
  router.get("/api/v1/catalog/authorities/{id}", [api](Request& req) {
    auto a = api->catalog.authority(req.param("id"));
    if (!a) return web::problem(req, core::Error::not_found("There is no such authority."));
    return json_response(json::to_json(*a));
  });
  router.get("/api/v1/catalog/regions", [api](Request& req) {
    auto q = req.query_param("q").value_or("");
    if (q.empty()) return web::problem(req, core::Error::invalid("q", "is required"));
    return list(api->catalog.find_places(q, 10), [](const Region& r) {
      return Poco::JSON::Object::Ptr(new Poco::JSON::Object(json::to_json(r)));
    });
  });
  router.get("/api/v1/catalog/online-services", [api](Request&) {
    return list(api->catalog.online_services(), [](const OnlineService& s) {
      return Poco::JSON::Object::Ptr(new Poco::JSON::Object(json::to_json(s)));
    });
  });
  router.get("/api/v1/catalog/online-services/{id}", [api](Request& req) {
    auto s = api->catalog.online_service(req.param("id"));
    if (!s) return web::problem(req, core::Error::not_found("There is no such online service."));
    return json_response(json::to_json(*s));
  });
  router.get("/api/v1/catalog/export", [api](Request&) {
    auto res = Response::json(api->catalog.export_json());
    res.set_header("Content-Disposition", "attachment; filename=\"katalog.json\"");
    return res;
  });
  router.post(
      "/api/v1/catalog/import",
      [api](Request& req) {
        auto who = api->editor(req);
        if (auto* refused = std::get_if<Response>(&who)) return std::move(*refused);
        auto done = api->catalog.import_json(std::get<Editor>(who), req.body);
        if (!done) return web::problem(req, done.error());
        return Response::json(R"({"imported":true})");
      },
      api->editor_first());
  router.add(
      web::Method::put, "/api/v1/catalog/services/{leikaKey}",
      [api](Request& req) {
        auto who = api->editor(req);
        if (auto* refused = std::get_if<Response>(&who)) return std::move(*refused);
        auto body = json::parse(req.body);
        if (!body) return web::problem(req, core::Error::invalid("body", "must be a JSON object"));
        core::Error e{core::ErrorCode::invalid_input, "The service is not valid.", {}, {}};
        auto s = json::service_from(*body, "service", e);
        if (s.leika_key != req.param("leikaKey")) {
          e.and_field("service.leikaKey", "must be the key in the path");
        }
        if (!e.fields.empty()) return web::problem(req, e);
        auto done = api->catalog.put_service(std::get<Editor>(who), s);
        if (!done) return web::problem(req, done.error());
        return json_response(json::to_json(s));
      },
      api->editor_first());
  router.add(
      web::Method::put, "/api/v1/catalog/specialisations/{leikaKey}/{authorityId}/{module}",
      [api](Request& req) {
        auto who = api->editor(req);
        if (auto* refused = std::get_if<Response>(&who)) return std::move(*refused);
        auto body = json::parse(req.body);
        if (!body) {
          return web::problem(req, core::Error::invalid("body", "must be a JSON object"));
        }
        Specialisation s{req.param("leikaKey"), req.param("authorityId"), req.param("module"),
                         body->optValue<std::string>("text", ""),
                         body->optValue<bool>("replace", false)};
        auto done = api->catalog.put_specialisation(std::get<Editor>(who), s);
        if (!done) return web::problem(req, done.error());
        return json_response(json::to_json(s));
      },
      api->editor_first());
}

}  // namespace mvsp::catalog
