#pragma once
// The catalog's JSON API under /api/v1/catalog/ and the routing API /api/v1/routes.

#include <functional>
#include <mvsp/catalog/catalog.hpp>
#include <optional>
#include <string>

namespace mvsp::web {
class Router;
class Pages;
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

struct EditorPageOptions {
  // The editor behind a staff session (role `editor`), decided by the composition root.
  std::function<std::optional<Editor>(const web::Request&)> editor;
};

// /redaktion: overview with notices, local texts per service and authority, online
// services (publish, adopt).
void register_editor_pages(web::Router& router, const web::Pages& pages, Catalog& catalog,
                           EditorPageOptions options);

}  // namespace mvsp::catalog
