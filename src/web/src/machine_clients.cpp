#include <fmt/format.h>

#include <mvsp/web/errors.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/machine_clients.hpp>

namespace mvsp::web {

std::variant<MachineClient, Response> tenant_client(const Request& request, MachineClients& clients,
                                                    std::string_view scope) {
  auto client = clients.authenticate(request);
  if (!client) {
    return problem(request,
                   core::Error::unauthenticated("A bearer token of a machine client is needed."));
  }
  if (!client->has_scope(scope)) {
    auto res = problem(request,
                       core::Error::forbidden(fmt::format("The token lacks the scope {}.", scope)));
    // RFC 6750 3.1: the challenge names the scope the token lacks.
    res.set_header("WWW-Authenticate",
                   fmt::format("Bearer error=\"insufficient_scope\", scope=\"{}\"", scope));
    return res;
  }
  if (client->tenant_id.empty()) {
    return problem(request, core::Error::forbidden("The client belongs to no tenant (authority)."));
  }
  return *client;
}

}  // namespace mvsp::web
