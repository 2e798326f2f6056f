#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/String.h>

#include <mvsp/web/small_server.hpp>

#include "wire.hpp"

namespace mvsp::web {

struct SmallServer::Impl {
  std::string host;
  int port = 0;
  std::function<Response(const Request&)> handler;
  std::size_t max_body = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server;

  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(Impl& impl) : impl_(impl) {}
    void handleRequest(Poco::Net::HTTPServerRequest& in,
                       Poco::Net::HTTPServerResponse& out) override {
      Request req;
      req.method = parse_method(in.getMethod());
      const auto& uri = in.getURI();
      auto q = uri.find('?');
      req.path = uri.substr(0, q);
      if (q != std::string::npos) req.query = uri.substr(q + 1);
      for (const auto& [k, v] : in) req.headers.emplace_back(Poco::toLower(k), v);
      if (req.method == Method::post) {
        char buf[8192];
        auto& s = in.stream();
        while (s.read(buf, sizeof buf) || s.gcount() > 0) {
          req.body.append(buf, static_cast<std::size_t>(s.gcount()));
          if (req.body.size() > impl_.max_body) break;
        }
      }
      auto res = impl_.handler(req);
      write_response(res, out, req.method == Method::head);
    }

   private:
    Impl& impl_;
  };

  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(Impl& impl) : impl_(impl) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(impl_);
    }

   private:
    Impl& impl_;
  };
};

SmallServer::SmallServer(std::string host, int port,
                         std::function<Response(const Request&)> handler, std::size_t max_body)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->handler = std::move(handler);
  impl_->max_body = max_body;
}

SmallServer::~SmallServer() {
  stop();
}

void SmallServer::start() {
  Poco::Net::ServerSocket socket(
      Poco::Net::SocketAddress(impl_->host, static_cast<Poco::UInt16>(impl_->port)));
  impl_->port = socket.address().port();
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(16);
  params->setKeepAlive(false);
  impl_->server =
      std::make_unique<Poco::Net::HTTPServer>(new Impl::Factory(*impl_), socket, params);
  impl_->server->start();
}

void SmallServer::stop() {
  if (impl_ && impl_->server) {
    impl_->server->stopAll(true);
    impl_->server.reset();
  }
}

int SmallServer::port() const {
  return impl_->port;
}

}  // namespace mvsp::web
