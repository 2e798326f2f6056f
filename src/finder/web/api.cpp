// GET /api/v1/search: the same search as the pages, as JSON; with `ags`, each result names
// the authority responsible at that place.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/finder/finder.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/router.hpp>
#include <sstream>

namespace mvsp::finder {

void register_api(web::Router& router, Finder& finder, catalog::Catalog& catalog) {
  router.get("/api/v1/search", [&finder, &catalog](web::Request& req) {
    core::Error error{core::ErrorCode::invalid_input, "The request is not valid.", {}, {}};
    Query q{.text = req.query_param("q").value_or(""),
            .topic = req.query_param("topic").value_or(""),
            .life_situation = req.query_param("lifeSituation").value_or("")};
    if (q.text.empty() && q.topic.empty() && q.life_situation.empty()) {
      error.and_field("q", "is required (or topic or lifeSituation)");
    }
    if (q.text.size() > 200) error.and_field("q", "must have at most 200 characters");
    auto ags = req.query_param("ags").value_or("");
    std::optional<catalog::Region> place;
    if (!ags.empty()) {
      place = catalog.region(ags);
      if (!place || place->kind != "municipality") {
        error.and_field("ags", "must be the 8-digit AGS of a municipality in MV");
      }
    }
    if (!error.fields.empty()) return web::problem(req, error);
    auto result = finder.search(q);
    Poco::JSON::Array::Ptr results = new Poco::JSON::Array;
    for (const auto& h : result.hits) {
      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
      o->set("leikaKey", h.leika_key);
      o->set("name", h.name);
      o->set("score", h.score);
      if (place) {
        auto route = catalog.route(h.leika_key, place->key);
        if (route) {
          Poco::JSON::Object::Ptr a = new Poco::JSON::Object;
          a->set("id", route->authority.id);
          a->set("name", route->authority.name);
          o->set("authority", a);
          o->set("onlineService", route->online_service
                                      ? Poco::Dynamic::Var(route->online_service->id)
                                      : Poco::Dynamic::Var());
        } else {
          o->set("authority", Poco::Dynamic::Var());
        }
      }
      results->add(o);
    }
    Poco::JSON::Object out;
    out.set("results", results);
    out.set("suggestion", result.suggestion.empty() ? Poco::Dynamic::Var()
                                                    : Poco::Dynamic::Var(result.suggestion));
    out.set("total", static_cast<int>(result.estimated_total));
    std::ostringstream body;
    out.stringify(body);
    return web::Response::json(body.str());
  });
}

}  // namespace mvsp::finder
