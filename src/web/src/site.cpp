#include <fmt/format.h>

#include <chrono>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/metrics.hpp>
#include <mvsp/web/multipart.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/site.hpp>
#include <mvsp/web/static_files.hpp>
#include <mvsp/web/templates.hpp>
#include <optional>

#include "status_problem.hpp"

namespace mvsp::web {
namespace log = core::log;
namespace {

constexpr std::string_view kLocaleCookie = "mvsp_lang";

// Accepts a caller's request id only when it is short and plain, so logs stay clean.
bool usable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string choose_locale(const Request& req, const Catalog& catalog) {
  if (auto c = req.cookie(kLocaleCookie); c && catalog.supports(*c)) return *c;
  // The first of our languages that the browser names; German when it names none.
  auto accept = req.header("accept-language").value_or("");
  std::size_t best = std::string::npos;
  std::string chosen(Catalog::kDefaultLocale);
  for (std::string_view code : {"de", "en"}) {
    auto pos = accept.find(code);
    if (pos != std::string::npos && pos < best) {
      best = pos;
      chosen = code;
    }
  }
  return chosen;
}

}  // namespace

void add_security_headers(Response& res, bool https) {
  std::string form_action = "'self'";
  for (const auto& origin : res.form_targets) form_action += " " + origin;
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "font-src 'self'; connect-src 'self'; form-action " +
                     form_action + "; frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "same-origin");
  res.set_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  res.set_header("Cross-Origin-Opener-Policy", "same-origin");
  if (https) res.set_header("Strict-Transport-Security", "max-age=31536000");
}

Site::Site(const Router& router, const Pages& pages, SessionStore& sessions, Metrics& metrics,
           StaticFiles& static_files, core::IdGenerator& ids, SiteOptions options)
    : router_(router),
      pages_(pages),
      sessions_(sessions),
      metrics_(metrics),
      static_files_(static_files),
      ids_(ids),
      options_(std::move(options)) {
  for (const auto& proxy : options_.trusted_proxies) {
    trusted_proxies_.push_back(canonical_address(proxy).value_or(proxy));
  }
}

void Site::identify(Request& req) {
  if (!req.correlation_id.empty()) return;  // done before the body was read
  auto incoming = req.header("x-request-id");
  req.correlation_id = incoming && usable_request_id(*incoming) ? *incoming : ids_.key();
  req.remote_address = canonical_address(req.remote_address).value_or(req.remote_address);
  // Behind a trusted proxy, the client is the last address the proxy added: the last entry
  // of all X-Forwarded-For lines together (a proxy may add a line of its own after one the
  // client forged). Only a well-formed address counts.
  if (std::find(trusted_proxies_.begin(), trusted_proxies_.end(), req.remote_address) !=
      trusted_proxies_.end()) {
    std::string forwarded;
    for (const auto& [name, value] : req.headers) {
      if (name == "x-forwarded-for") forwarded += (forwarded.empty() ? "" : ",") + value;
    }
    auto last = forwarded.rfind(',');
    auto client = canonical_address(forwarded.substr(last == std::string::npos ? 0 : last + 1));
    if (client) req.remote_address = *client;
  }
}

Response Site::too_large(Request& req) {
  return req.is_api() ? problem(req, 413, "The request body is too large.")
                      : pages_.error(req, 413);
}

std::optional<Response> Site::before_body(Request& head, std::size_t announced_body,
                                          bool has_body) {
  // Without a body there is nothing to spare reading; the pipeline decides as ever (and
  // the route is matched once, not twice, on the many GETs). Framing that two readers could
  // take differently never gets here: the server refuses it (web/src/server.cpp).
  if (!has_body) return std::nullopt;
  identify(head);
  log::CorrelationScope scope(head.correlation_id);
  head.locale = choose_locale(head, pages_.catalog());
  std::optional<Response> refused;
  if (announced_body > options_.max_body_bytes) {
    refused = too_large(head);
  } else if (auto match = router_.match(head.method, head.path); match.handler) {
    if (changes_state(head.method) && !head.is_api() && !match.from_other_site &&
        !head.cookie(sessions_.options().cookie_name)) {
      log::warn("http.csrf_rejected", {{"path", head.path}, {"reason", "no session"}});
      refused = pages_.error(head, 403);
    } else if (match.before_body) {
      refused = (*match.before_body)(head);
    }
    if (refused) head.route = match.pattern;
  }
  if (!refused) return std::nullopt;
  finish(head, *refused);
  metrics_.record_request(method_name(head.method), head.route.empty() ? "unmatched" : head.route,
                          refused->status, 0);
  log::info("http.refused", {{"method", method_name(head.method)},
                             {"path", head.path},
                             {"status", std::to_string(refused->status)}});
  return refused;
}

Response Site::handle(Request& req) {
  auto started = std::chrono::steady_clock::now();
  identify(req);
  log::CorrelationScope scope(req.correlation_id);

  // Static assets need neither a session nor a language.
  if (auto res = static_files_.serve(req)) return static_answer(req, std::move(*res), started);

  req.locale = choose_locale(req, pages_.catalog());
  std::optional<Session> session;
  Response res;
  try {
    if (auto token = req.cookie(sessions_.options().cookie_name)) session = sessions_.load(*token);
    if (session) req.session = &*session;
    req.ensure_session = [&]() -> Session& {
      if (!session) {
        session = sessions_.create();
        req.session = &*session;
      }
      return *session;
    };
    res = dispatch(req);
    if (session && session->dirty) sessions_.save(*session);
  } catch (const std::exception& e) {
    log::error("http.failure",
               {{"method", method_name(req.method)}, {"path", req.path}, {"error", e.what()}});
    try {
      res = req.is_api() ? problem(req, 500, "The request could not be completed.")
                         : pages_.error(req, 500);
    } catch (const std::exception&) {
      res = Response::text("Interner Fehler / Internal error", 500);
    }
  }
  if (session && session->is_new)
    res.headers.emplace_back("Set-Cookie", sessions_.cookie(*session));
  finish(req, res);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.record_request(method_name(req.method), req.route.empty() ? "unmatched" : req.route,
                          res.status, seconds);
  log::info("http.request", {{"method", method_name(req.method)},
                             {"path", req.path},
                             {"status", std::to_string(res.status)},
                             {"ms", fmt::format("{:.2f}", seconds * 1000)}});
  return res;
}

Response Site::dispatch(Request& req) {
  if (req.body.size() > options_.max_body_bytes) return too_large(req);
  auto match = router_.match(req.method, req.path);
  if (!match.handler) {
    int status = match.other_method ? 405 : 404;
    return req.is_api() ? problem(req, status, status == 404 ? "No such resource." : "")
                        : pages_.error(req, status);
  }
  req.params = std::move(match.params);
  req.route = std::move(match.pattern);
  // Pages authenticate with the session cookie, so every state-changing page request must
  // prove it comes from our own form. The API takes bearer tokens only, never cookies.
  if (changes_state(req.method) && !req.is_api() && !match.from_other_site) {
    auto sent = req.form("csrf_token");
    if (!sent) sent = req.header("x-csrf-token");
    if (!sent && req.header("content-type").value_or("").starts_with("multipart/form-data")) {
      // A form with a file (no JavaScript to set the header): the token is one of its parts.
      if (auto parts = parse_multipart(req)) {
        for (const auto& p : *parts) {
          if (p.name == "csrf_token" && p.filename.empty()) sent = p.body;
        }
      }
    }
    if (!req.session || !sent ||
        !core::crypto::equal_constant_time(*sent, req.session->csrf_token)) {
      log::warn("http.csrf_rejected", {{"path", req.path}});
      return pages_.error(req, 403);
    }
  }
  return (*match.handler)(req);
}

std::optional<Response> Site::answer_at_once(Request& req) {
  if (!req.path.starts_with("/static/")) return std::nullopt;
  auto started = std::chrono::steady_clock::now();
  auto res = static_files_.serve(req, StaticFiles::only_held);
  if (!res) return std::nullopt;
  identify(req);
  log::CorrelationScope scope(req.correlation_id);
  return static_answer(req, std::move(*res), started);
}

Response Site::static_answer(Request& req, Response res,
                             std::chrono::steady_clock::time_point started) {
  req.route = "/static/*";
  finish(req, res);
  metrics_.record_request(
      method_name(req.method), req.route, res.status,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return res;
}

void Site::finish(Request& req, Response& res) {
  add_security_headers(res, options_.public_url.starts_with("https://"));
  res.set_header("X-Request-Id", req.correlation_id);
  if (!res.header("cache-control")) res.set_header("Cache-Control", "no-store");
  if (req.method == Method::head) {
    // The length a GET would get; a stream tells its own, if it knows it.
    if (!res.stream) res.set_header("Content-Length", std::to_string(res.content().size()));
    res.body.clear();
    res.shared_body.reset();
    res.stream = nullptr;
  }
}

}  // namespace mvsp::web
