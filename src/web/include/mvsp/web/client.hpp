#pragma once
// Outgoing HTTP requests (to upstream identity providers, external mailboxes, callbacks),
// behind a function type: the composition root gives the real one (app::network_http),
// tests their own.

#include <chrono>
#include <functional>
#include <mvsp/core/error.hpp>
#include <string>
#include <utility>
#include <vector>

namespace mvsp::web {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

using HttpFetch = std::function<core::Result<HttpAnswer>(
    const std::string& method, const std::string& url,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body)>;

}  // namespace mvsp::web
