#pragma once
// The delivery service's API for back-office systems: /api/v1/notices.

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mvsp::web {
class Router;
struct Request;
}  // namespace mvsp::web

namespace mvsp::delivery {

class Delivery;

// The calling machine client as the identity component authenticated its bearer token.
struct Caller {
  std::string client_id;
  std::string tenant_id;
  std::vector<std::string> scopes;
};

struct ApiOptions {
  std::function<std::optional<Caller>(const web::Request&)> authenticate;
};

void register_api(web::Router& router, Delivery& delivery, ApiOptions options);

}  // namespace mvsp::delivery
