#pragma once
// The catalog's JSON API under /api/v1/catalog/ and the routing API /api/v1/routes.

#include <functional>
#include <mvsp/catalog/catalog.hpp>
#include <optional>
#include <string>

namespace mvsp::web {
class Router;
struct Request;
}  // namespace mvsp::web

namespace mvsp::catalog {

struct ApiOptions {
  std::string public_url;
  // Who may write: the composition root decides from the bearer token (a machine client
  // with scope catalog:write or catalog:admin) or the session (a staff editor).
  std::function<std::optional<Editor>(const web::Request&)> editor;
};

void register_api(web::Router& router, Catalog& catalog, ApiOptions options);

}  // namespace mvsp::catalog
