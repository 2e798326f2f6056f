#include "wire.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <mvsp/core/log.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/http.hpp>

namespace mvsp::web {
namespace {

bool owned_by_server(std::string_view name) {
  auto is = [&](std::string_view other) {
    if (name.size() != other.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != other[i]) return false;
    }
    return true;
  };
  return is("content-length") || is("transfer-encoding") || is("connection") || is("date");
}

// The Date header, formatted once a second per thread.
const std::string& date_now() {
  thread_local std::time_t last = 0;
  thread_local std::string text;
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now != last) {
    text = http_date(now);
    last = now;
  }
  return text;
}

}  // namespace

void make_safe(Response& res) {
  for (const auto& [k, v] : res.headers) {
    if (is_valid_header(k, v)) continue;
    core::log::error("http.unsafe_header", {{"header", k}});
    res = Response::text("Interner Fehler / Internal error\n", 500);
    res.set_header("Cache-Control", "no-store");
    return;
  }
}

bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

std::string wire_head(const Response& res, std::optional<std::uint64_t> length, bool close) {
  std::string out;
  out.reserve(512);
  out += fmt::format("HTTP/1.1 {} {}\r\n", res.status, status_reason(res.status));
  for (const auto& [k, v] : res.headers) {
    if (owned_by_server(k)) continue;
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "Date: ";
  out += date_now();
  out += "\r\n";
  if (length) {
    if (status_has_body(res.status)) out += fmt::format("Content-Length: {}\r\n", *length);
  } else {
    out += "Transfer-Encoding: chunked\r\n";
  }
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

std::string chunk(std::string_view data) {
  std::string out = fmt::format("{:x}\r\n", data.size());
  out.reserve(out.size() + data.size() + 2);
  out += data;
  out += "\r\n";
  return out;
}

}  // namespace mvsp::web
