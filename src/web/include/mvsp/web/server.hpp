#pragma once
// The HTTP/1.1 server: event-driven (Boost.Asio, with Boost.Beast's request parser), so that
// an open connection costs memory but never a thread. Accepting, reading and writing run on
// a few I/O threads; handlers run on a bounded pool of worker threads. The platform serves a
// Site on it; the simulators serve a single function (web::SmallServer).

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mvsp::web {

class Site;
struct Request;
struct Response;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;     // 0: any free port
  int threads = 64;    // worker threads that run handlers
  int io_threads = 0;  // threads that accept, read and write (0: one per core, at most 4)
  // Requests waiting for a worker beyond `threads`; more are answered 503 at once.
  int max_queued = 1024;
  int keep_alive_seconds = 5;  // an idle connection is closed after this
  int max_keep_alive_requests = 1000;
  // The request head must have arrived this long after its first byte (and a new
  // connection must send its first byte within it); else the connection is closed.
  int head_timeout_seconds = 10;
  // After a grace of head_timeout_seconds, a body must arrive at least this fast on average.
  std::size_t min_body_bytes_per_second = 1024;
  // A client that takes no response bytes for this long is dropped.
  int write_timeout_seconds = 60;
  int max_connections = 20000;            // open connections in total
  int max_connections_per_address = 256;  // per client address, except trusted proxies
  std::vector<std::string> trusted_proxies;
  std::size_t max_head_bytes = 16 * 1024;  // request line and headers; larger gets 431
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  int shutdown_seconds = 30;  // how long stop() lets running requests finish
};

class HttpServer {
 public:
  // Site::before_body decides on each head before its body is read; Site::handle answers.
  HttpServer(Site& site, ServerOptions options);
  // Every request goes to `handler`; no check before the body.
  HttpServer(std::function<Response(Request&)> handler, ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();  // binds now; port() is known afterwards
  int port() const;
  // Stops accepting, closes idle connections, lets running requests finish (within
  // shutdown_seconds) and returns when every thread has ended.
  void stop();
  // Connections open now (for tests and metrics).
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::web
