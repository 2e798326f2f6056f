// The real transport for outgoing HTTP and HTTPS, given to components as a port.
#include "http_client.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include <memory>

namespace mvsp::app {

using web::HttpAnswer;
using web::HttpFetch;

HttpFetch network_http(std::chrono::seconds timeout) {
  return [timeout](const std::string& method, const std::string& url,
                   const std::vector<std::pair<std::string, std::string>>& headers,
                   const std::string& body) -> core::Result<HttpAnswer> {
    try {
      Poco::URI uri(url);
      std::unique_ptr<Poco::Net::HTTPClientSession> session;
      if (uri.getScheme() == "https") {
        session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort());
      } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
      }
      session->setTimeout(Poco::Timespan(static_cast<long>(timeout.count()), 0));
      Poco::Net::HTTPRequest req(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
      for (const auto& [k, v] : headers) req.set(k, v);
      if (!body.empty()) req.setContentLength(static_cast<std::streamsize>(body.size()));
      session->sendRequest(req) << body;
      Poco::Net::HTTPResponse res;
      auto& in = session->receiveResponse(res);
      std::string text;
      char buf[8192];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > 1024 * 1024) break;
      }
      return HttpAnswer{static_cast<int>(res.getStatus()), std::move(text)};
    } catch (const Poco::Exception& e) {
      return core::fail(
          core::Error::unavailable(fmt::format("{} cannot be reached: {}", url, e.displayText())));
    }
  };
}

}  // namespace mvsp::app
