#pragma once
// The request pipeline every route goes through: correlation id, language, session,
// CSRF check on state-changing page requests, routing, error mapping, security headers,
// metrics and the access log.

#include <chrono>
#include <mvsp/web/http.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mvsp::core {
class IdGenerator;
}

namespace mvsp::web {

class Router;
class Pages;
class SessionStore;
class Metrics;
class StaticFiles;

struct SiteOptions {
  std::string public_url = "http://127.0.0.1:8080";
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  // Addresses of reverse proxies whose X-Forwarded-For names the real client.
  std::vector<std::string> trusted_proxies;
};

class Site {
 public:
  Site(const Router& router, const Pages& pages, SessionStore& sessions, Metrics& metrics,
       StaticFiles& static_files, core::IdGenerator& ids, SiteOptions options);

  // Before the body is read (the server calls this with the head, the announced body
  // length and whether a body comes at all): a response when the request is refused on its
  // head alone — a body larger than allowed (413), a state-changing page request without a
  // session (403, it cannot carry a valid CSRF token), or a route's own head check (a
  // missing bearer token). The server sends it and closes the connection without reading
  // the body. A request without a body is never refused here.
  std::optional<Response> before_body(Request& head, std::size_t announced_body, bool has_body);
  Response handle(Request& req);
  // The answer to a request that needs neither a thread nor a wait (a static file held in
  // memory), or nothing: the server asks this on its I/O thread first and hands everything
  // else to a worker. Never touches the disk or the database.
  std::optional<Response> answer_at_once(Request& req);
  const SiteOptions& options() const { return options_; }

 private:
  void identify(Request& req);
  Response too_large(Request& req);
  Response dispatch(Request& req);
  void finish(Request& req, Response& res);
  Response static_answer(Request& req, Response res, std::chrono::steady_clock::time_point started);

  const Router& router_;
  const Pages& pages_;
  SessionStore& sessions_;
  Metrics& metrics_;
  StaticFiles& static_files_;
  core::IdGenerator& ids_;
  SiteOptions options_;
  std::vector<std::string> trusted_proxies_;  // in canonical form
};

// The security headers every response carries (strict CSP without inline script).
void add_security_headers(Response& res, bool https);

}  // namespace mvsp::web
