#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/server.hpp>
#include <mvsp/web/site.hpp>

#include "wire.hpp"

namespace mvsp::web {
namespace net = Poco::Net;
namespace {

class RequestHandler final : public net::HTTPRequestHandler {
 public:
  RequestHandler(Site& site, std::size_t max_body) : site_(site), max_body_(max_body) {}

  void handleRequest(net::HTTPServerRequest& in, net::HTTPServerResponse& out) override {
    Request req;
    req.method = parse_method(in.getMethod());
    const std::string& uri = in.getURI();
    auto q = uri.find('?');
    req.path = url_decode(std::string_view(uri).substr(0, q), false);
    if (q != std::string::npos) req.query = uri.substr(q + 1);
    for (const auto& [k, v] : in) {
      std::string name = k;
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      req.headers.emplace_back(std::move(name), v);
    }
    req.remote_address = in.clientAddress().host().toString();
    // Refused on the head alone (an announced body too large, no credentials for a route
    // that checks them first): answered before a byte of the body is read, then closed.
    auto announced = in.hasContentLength() ? in.getContentLength64() : Poco::Int64{0};
    if (auto refused =
            site_.before_body(req, announced < 0 ? 0 : static_cast<std::size_t>(announced))) {
      out.setKeepAlive(false);
      write_response(*refused, out, req.method == Method::head);
      return;
    }
    if (in.hasContentLength() || in.getChunkedTransferEncoding()) {
      // Without either, HTTP/1.1 has no body (RFC 9112 6.3); POCO would read to EOF. A chunked
      // body is read up to one byte over the limit; the pipeline then answers 413.
      std::istream& body = in.stream();
      std::string buf(16 * 1024, '\0');
      while (body && req.body.size() <= max_body_) {
        body.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        req.body.append(buf.data(), static_cast<std::size_t>(body.gcount()));
      }
      if (req.body.size() > max_body_) out.setKeepAlive(false);
    }
    Response res = site_.handle(req);
    write_response(res, out, req.method == Method::head);
  }

 private:
  Site& site_;
  std::size_t max_body_;
};

class Factory final : public net::HTTPRequestHandlerFactory {
 public:
  Factory(Site& site, std::size_t max_body) : site_(site), max_body_(max_body) {}
  net::HTTPRequestHandler* createRequestHandler(const net::HTTPServerRequest&) override {
    return new RequestHandler(site_, max_body_);
  }

 private:
  Site& site_;
  std::size_t max_body_;
};

}  // namespace

struct HttpServer::Impl {
  Site& site;
  ServerOptions options;
  Poco::ThreadPool pool;
  std::unique_ptr<net::HTTPServer> server;
  int port = 0;

  Impl(Site& s, ServerOptions o)
      : site(s), options(std::move(o)), pool(2, std::max(2, options.threads), 60) {}
};

HttpServer::HttpServer(Site& site, ServerOptions options)
    : impl_(std::make_unique<Impl>(site, std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  const auto& o = impl_->options;
  net::ServerSocket socket(net::SocketAddress(o.host, static_cast<Poco::UInt16>(o.port)), 128);
  impl_->port = socket.address().port();
  auto* params = new net::HTTPServerParams;
  params->setMaxThreads(std::max(2, o.threads));
  params->setMaxQueued(o.max_queued);
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(o.keep_alive_seconds, 0));
  params->setMaxKeepAliveRequests(o.max_keep_alive_requests);
  params->setTimeout(Poco::Timespan(30, 0));
  params->setServerName("mvsp");
  impl_->server = std::make_unique<net::HTTPServer>(new Factory(impl_->site, o.max_body_bytes),
                                                    impl_->pool, socket, params);
  impl_->server->start();
}

int HttpServer::port() const {
  return impl_->port;
}

void HttpServer::stop() {
  if (!impl_->server) return;
  impl_->server->stopAll(false);
  impl_->pool.joinAll();
  impl_->server.reset();
}

}  // namespace mvsp::web
