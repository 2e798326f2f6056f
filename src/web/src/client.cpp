#include <fmt/format.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/web/client.hpp>

namespace mvsp::web {

core::Status post_signed(const HttpFetch& fetch, const std::string& url, std::string_view secret,
                         const std::string& body, core::TimePoint now) {
  auto ts = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  auto signature = core::crypto::to_hex(core::crypto::hmac_sha256(secret, ts + "." + body));
  auto answer = fetch("POST", url,
                      {{"Content-Type", "application/json"},
                       {"X-Mvsp-Timestamp", ts},
                       {"X-Mvsp-Signature", "v1=" + signature}},
                      body);
  if (!answer) return core::fail(answer.error());
  if (answer->status < 200 || answer->status > 299) {
    return core::fail(
        core::Error::unavailable(fmt::format("the callback answered HTTP {}", answer->status)));
  }
  return {};
}

}  // namespace mvsp::web
