#pragma once
// Outgoing HTTP over the network: the real transport behind web::HttpFetch. Only the
// composition root makes one (system_ports); components are given theirs.

#include <chrono>
#include <mvsp/web/client.hpp>

namespace mvsp::app {

// HTTP and HTTPS with POCO; unavailable when the server cannot be reached or does not
// answer within `timeout`. Answers are read up to 1 MiB.
web::HttpFetch network_http(std::chrono::seconds timeout);

}  // namespace mvsp::app
