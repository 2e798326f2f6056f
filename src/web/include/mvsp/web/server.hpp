#pragma once
// The HTTP server: POCO's HTTPServer with one thread per connection, in front of a Site.

#include <memory>
#include <string>

namespace mvsp::web {

class Site;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int threads = 256;
  int max_queued = 256;
  int keep_alive_seconds = 5;
  int max_keep_alive_requests = 100;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
};

class HttpServer {
 public:
  HttpServer(Site& site, ServerOptions options);
  ~HttpServer();
  void start();
  int port() const;
  // Stops accepting, closes idle connections and waits for running requests.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::web
