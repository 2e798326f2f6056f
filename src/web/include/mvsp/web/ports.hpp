#pragma once
// What the platform takes from the world: time, identifiers, outgoing HTTP. Only the
// composition root (src/app) makes real ones; components, handlers, adapters and simulators
// are given them, so that tests put a manual clock or their own transport in through the
// same wiring production uses.

#include <chrono>
#include <functional>
#include <mvsp/web/client.hpp>

namespace mvsp::core {
class Clock;
class IdGenerator;
}  // namespace mvsp::core

namespace mvsp::web {

// Makes an HTTP transport that gives up after `timeout`.
using HttpFetchFactory = std::function<HttpFetch(std::chrono::seconds timeout)>;

struct Ports {
  const core::Clock& clock;
  core::IdGenerator& ids;
  HttpFetchFactory http;
};

}  // namespace mvsp::web
