#pragma once
// Outgoing HTTP requests (to upstream identity providers, external mailboxes, callbacks),
// behind a function type: the composition root gives the real one (app::network_http),
// tests their own.

#include <chrono>
#include <functional>
#include <mvsp/core/clock.hpp>
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

// POSTs a JSON body to a machine client's callback address, signed with the client's
// secret as docs/api describes: X-Mvsp-Timestamp (Unix seconds) and X-Mvsp-Signature
// "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)). An answer other than 2xx is
// an `unavailable` error (worth retrying).
core::Status post_signed(const HttpFetch& fetch, const std::string& url, std::string_view secret,
                         const std::string& body, core::TimePoint now);

}  // namespace mvsp::web
