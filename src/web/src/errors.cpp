#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <mvsp/web/errors.hpp>
#include <sstream>

#include "status_problem.hpp"

namespace mvsp::web {

int http_status(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::invalid_input:
      return 422;
    case core::ErrorCode::not_found:
      return 404;
    case core::ErrorCode::conflict:
      return 409;
    case core::ErrorCode::forbidden:
      return 403;
    case core::ErrorCode::unauthenticated:
      return 401;
    case core::ErrorCode::rate_limited:
      return 429;
    case core::ErrorCode::unavailable:
      return 503;
    case core::ErrorCode::unsupported_media_type:
      return 415;
  }
  return 500;
}

bool is_refusal(const core::Error& error) {
  return error.code == core::ErrorCode::forbidden || error.code == core::ErrorCode::not_found ||
         error.code == core::ErrorCode::unauthenticated;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}

namespace {

Response problem_response(const Request& req, int status, std::string_view type,
                          std::string_view detail, const std::vector<core::FieldError>& fields) {
  Poco::JSON::Object body;
  body.set("type", std::string("urn:mvsp:problem:") + std::string(type));
  body.set("title", std::string(status_reason(status)));
  body.set("status", status);
  if (!detail.empty()) body.set("detail", std::string(detail));
  body.set("instance", req.path);
  if (!req.correlation_id.empty()) body.set("correlationId", req.correlation_id);
  if (!fields.empty()) {
    Poco::JSON::Array errors;
    for (const auto& f : fields) {
      Poco::JSON::Object e;
      e.set("field", f.field);
      e.set("message", f.message);
      errors.add(e);
    }
    body.set("errors", errors);
  }
  std::ostringstream out;
  body.stringify(out);
  Response res{status, {{"Content-Type", "application/problem+json"}}, out.str(), {}};
  return res;
}

std::string_view type_of_status(int status) {
  switch (status) {
    case 400:
      return "bad-request";
    case 404:
      return "not-found";
    case 405:
      return "method-not-allowed";
    case 413:
      return "content-too-large";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "error";
  }
}

}  // namespace

Response problem(const Request& req, const core::Error& error) {
  auto res = problem_response(req, http_status(error.code), core::code_name(error.code),
                              error.message, error.fields);
  // The one place a refused caller is told when to come back.
  if (error.code == core::ErrorCode::rate_limited) {
    res.set_header("Retry-After",
                   std::to_string(std::max<std::int64_t>(error.retry_after.count(), 1)));
  }
  // A 401 names how to authenticate (RFC 9110 15.5.2); the API takes bearer tokens only.
  if (error.code == core::ErrorCode::unauthenticated) res.set_header("WWW-Authenticate", "Bearer");
  return res;
}

Response problem(const Request& req, int status, std::string_view detail) {
  return problem_response(req, status, type_of_status(status), detail, {});
}

}  // namespace mvsp::web
