#pragma once
// Back-office systems call the APIs as OAuth2 machine clients (client credentials). This
// port tells an API who is calling from the request's bearer token; identity answers it,
// and the APIs (catalog, delivery) decide what the client's scopes allow.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mvsp::web {

struct Request;
struct Response;

struct MachineClient {
  std::string client_id;
  std::string tenant_id;  // empty: a client of no tenant (the state's systems)
  std::vector<std::string> scopes;

  bool has_scope(std::string_view scope) const {
    for (const auto& s : scopes) {
      if (s == scope) return true;
    }
    return false;
  }
};

class MachineClients {
 public:
  virtual ~MachineClients() = default;
  // The client behind "Authorization: Bearer …", if the token is a machine's and valid.
  virtual std::optional<MachineClient> authenticate(const Request& request) = 0;
};

// The machine client of a tenant behind the request, with `scope`; else the
// problem+json answer that refuses it: 401 without a valid token, 403 naming the missing
// scope (with the RFC 6750 challenge), 403 for a client of no tenant.
std::variant<MachineClient, Response> tenant_client(const Request& request, MachineClients& clients,
                                                    std::string_view scope);

}  // namespace mvsp::web
