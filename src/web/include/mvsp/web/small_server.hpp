#pragma once
// A small HTTP server for the simulators (eID, mailboxes): one function answers every
// request, no sessions, no shell, on the same engine as the platform (web::HttpServer).

#include <functional>
#include <memory>
#include <mvsp/web/http.hpp>
#include <string>

namespace mvsp::web {

class SmallServer {
 public:
  // `handler` gets the method, path, query, headers (lower-case names) and, for POST, the
  // body (up to `max_body` bytes); it answers with a Response (body and headers only).
  SmallServer(std::string host, int port, std::function<Response(const Request&)> handler,
              std::size_t max_body = 1024 * 1024);
  ~SmallServer();
  SmallServer(const SmallServer&) = delete;
  SmallServer& operator=(const SmallServer&) = delete;

  void start();  // binds now; port() is known afterwards
  void stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::web
