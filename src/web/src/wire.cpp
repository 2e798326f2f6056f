#include "wire.hpp"

#include <Poco/Net/HTTPServerResponse.h>

#include <mvsp/core/log.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/http.hpp>

namespace mvsp::web {

void write_response(const Response& res, Poco::Net::HTTPServerResponse& out, bool head) {
  for (const auto& [k, v] : res.headers) {
    if (is_valid_header(k, v)) continue;
    core::log::error("http.unsafe_header", {{"header", k}});
    Response refused = Response::text("Interner Fehler / Internal error\n", 500);
    refused.set_header("Cache-Control", "no-store");
    write_response(refused, out, head);
    return;
  }
  out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(res.status),
                         std::string(status_reason(res.status)));
  for (const auto& [k, v] : res.headers) {
    if (k == "Content-Length") continue;
    out.add(k, v);
  }
  if (head) {
    if (auto len = res.header("content-length")) out.setContentLength64(std::stoll(*len));
    out.send();
  } else if (res.stream) {
    if (auto len = res.header("content-length")) {
      out.setContentLength64(std::stoll(*len));
    } else {
      out.setChunkedTransferEncoding(true);
    }
    try {
      res.stream(out.send());
    } catch (const std::exception& e) {
      // Too late for an error answer: logged here, and the exception ends the connection
      // (POCO closes it) so that the body stays visibly incomplete.
      core::log::error("http.stream_failed", {{"error", e.what()}});
      throw;
    }
  } else {
    out.setContentLength64(static_cast<Poco::Int64>(res.body.size()));
    out.sendBuffer(res.body.data(), res.body.size());
  }
}

}  // namespace mvsp::web
