#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <chrono>
#include <mvsp/core/log.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/server.hpp>
#include <mvsp/web/site.hpp>
#include <optional>

#include "wire.hpp"

namespace mvsp::web {
namespace net = Poco::Net;
namespace {

// After a refusal on the head: a client still sending its body would get a reset and lose
// the answer if we closed at once. So the answer is out first, then what still arrives is
// read and dropped for a short, bounded while (1 s, 4 MiB), never the whole body.
void let_the_answer_arrive(net::HTTPServerRequest& in) {
  if (auto* impl = dynamic_cast<net::HTTPServerRequestImpl*>(&in)) {
    impl->socket().setReceiveTimeout(Poco::Timespan(0, 200'000));
  }
  std::istream& body = in.stream();  // ends where the announced body ends
  char buf[16 * 1024];
  std::size_t total = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (body && total < 4 * 1024 * 1024 && std::chrono::steady_clock::now() < until) {
    body.read(buf, sizeof buf);
    total += static_cast<std::size_t>(body.gcount());
  }
}

// The head of a request as our Request (no body yet).
Request read_head(const net::HTTPServerRequest& in) {
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
  return req;
}

class RequestHandler final : public net::HTTPRequestHandler {
 public:
  RequestHandler(Site& site, std::size_t max_body, Request head, std::optional<Response> refused)
      : site_(site), max_body_(max_body), req_(std::move(head)), refused_(std::move(refused)) {}

  void handleRequest(net::HTTPServerRequest& in, net::HTTPServerResponse& out) override {
    if (refused_) {
      out.setKeepAlive(false);
      write_response(*refused_, out, req_.method == Method::head);
      let_the_answer_arrive(in);
      return;
    }
    if (in.hasContentLength() || in.getChunkedTransferEncoding()) {
      // Without either, HTTP/1.1 has no body (RFC 9112 6.3); POCO would read to EOF. A chunked
      // body is read up to one byte over the limit; the pipeline then answers 413.
      std::istream& body = in.stream();
      std::string buf(16 * 1024, '\0');
      while (body && req_.body.size() <= max_body_) {
        body.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        req_.body.append(buf.data(), static_cast<std::size_t>(body.gcount()));
      }
      if (req_.body.size() > max_body_) out.setKeepAlive(false);
    }
    Response res = site_.handle(req_);
    write_response(res, out, req_.method == Method::head);
  }

 private:
  Site& site_;
  std::size_t max_body_;
  Request req_;
  std::optional<Response> refused_;
};

class Factory final : public net::HTTPRequestHandlerFactory {
 public:
  Factory(Site& site, std::size_t max_body) : site_(site), max_body_(max_body) {}

  // POCO calls this with the head, before it answers "Expect: 100-continue" and before the
  // body is read. A request refused on its head alone (an announced body too large, no
  // credentials for a route that checks them first) is answered without reading a byte of
  // the body, then the connection is closed; a status other than 200 set here keeps POCO
  // from inviting the body with "100 Continue".
  net::HTTPRequestHandler* createRequestHandler(const net::HTTPServerRequest& in) override {
    auto head = read_head(in);
    std::optional<Response> refused;
    try {
      // A Content-Length that is not plain digits is refused by the head check before POCO
      // would parse it.
      bool plain_length = true;
      for (const auto& [name, value] : head.headers) {
        if (name == "content-length" &&
            (value.empty() || value.size() > 18 ||
             value.find_first_not_of("0123456789") != std::string::npos)) {
          plain_length = false;
        }
      }
      Poco::Int64 announced = plain_length && in.hasContentLength() ? in.getContentLength64() : 0;
      bool has_body = announced > 0 || in.getChunkedTransferEncoding();
      refused = site_.before_body(head, static_cast<std::size_t>(announced), has_body);
    } catch (const std::exception& e) {
      // Not an answer POCO would give (a bare 500, or a dropped connection for a non-POCO
      // exception): ours, logged, and the connection closed.
      core::log::error("http.failure", {{"path", head.path}, {"error", e.what()}});
      refused = Response::text("Interner Fehler / Internal error\n", 500);
      refused->set_header("Cache-Control", "no-store");
    }
    if (refused) {
      in.response().setStatus(static_cast<net::HTTPResponse::HTTPStatus>(refused->status));
    }
    return new RequestHandler(site_, max_body_, std::move(head), std::move(refused));
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
