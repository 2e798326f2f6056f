#include <mvsp/web/server.hpp>
#include <mvsp/web/small_server.hpp>

namespace mvsp::web {

struct SmallServer::Impl {
  std::string host;
  int port = 0;
  std::function<Response(const Request&)> handler;
  std::size_t max_body = 0;
  std::unique_ptr<HttpServer> server;
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
  // The platform's engine with a few threads; a body over the limit is not the handler's.
  auto* impl = impl_.get();
  impl_->server = std::make_unique<HttpServer>(
      [impl](Request& req) {
        if (req.body.size() > impl->max_body) return Response::text("Payload Too Large\n", 413);
        return impl->handler(req);
      },
      ServerOptions{.host = impl_->host,
                    .port = impl_->port,
                    .threads = 8,
                    .io_threads = 1,
                    .max_connections = 1024,
                    .max_body_bytes = impl_->max_body});
  impl_->server->start();
  impl_->port = impl_->server->port();
}

void SmallServer::stop() {
  if (impl_ && impl_->server) {
    impl_->server->stop();
    impl_->server.reset();
  }
}

int SmallServer::port() const {
  return impl_->port;
}

}  // namespace mvsp::web
