#pragma once
// Outgoing HTTP requests (to upstream identity providers, external mailboxes, callbacks),
// behind a function type so that tests can put their own transport in.

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

// HTTP and HTTPS with POCO; unavailable when the server cannot be reached or does not
// answer within `timeout`. Answers are read up to 1 MiB.
HttpFetch default_http_fetch(std::chrono::seconds timeout = std::chrono::seconds(10));

}  // namespace mvsp::web
