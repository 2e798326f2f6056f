#include <Poco/URI.h>
#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mvsp/core/text.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/sessions.hpp>

namespace mvsp::web {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Header names compare without regard to case (RFC 9110 5.1), here without allocating:
// every response sets a dozen headers.
bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> find_pair(const std::vector<std::pair<std::string, std::string>>& v,
                                     std::string_view name) {
  for (const auto& [k, val] : v) {
    if (k == name) return val;
  }
  return std::nullopt;
}

}  // namespace

Method parse_method(std::string_view m) {
  if (m == "GET") return Method::get;
  if (m == "HEAD") return Method::head;
  if (m == "POST") return Method::post;
  if (m == "PUT") return Method::put;
  if (m == "PATCH") return Method::patch;
  if (m == "DELETE") return Method::del;
  if (m == "OPTIONS") return Method::options;
  return Method::other;
}

std::string_view method_name(Method m) {
  switch (m) {
    case Method::get:
      return "GET";
    case Method::head:
      return "HEAD";
    case Method::post:
      return "POST";
    case Method::put:
      return "PUT";
    case Method::patch:
      return "PATCH";
    case Method::del:
      return "DELETE";
    case Method::options:
      return "OPTIONS";
    case Method::other:
      return "OTHER";
  }
  return "OTHER";
}

bool changes_state(Method m) {
  return m == Method::post || m == Method::put || m == Method::patch || m == Method::del ||
         m == Method::other;
}

std::optional<std::string> Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (same_name(k, name)) return v;
  }
  return std::nullopt;
}

std::optional<std::string> Request::cookie(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k != "cookie") continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      auto end = rest.find(';');
      auto part = rest.substr(0, end);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      auto eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == name) {
        return std::string(part.substr(eq + 1));
      }
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  return std::nullopt;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  return find_pair(parse_urlencoded(query), name);
}

const std::vector<std::pair<std::string, std::string>>& Request::form_fields() const {
  if (!form_) {
    auto type = header("content-type").value_or("");
    form_.emplace();
    if (lower(type).starts_with("application/x-www-form-urlencoded")) {
      *form_ = parse_urlencoded(body);
    }
  }
  return *form_;
}

std::optional<std::string> Request::form(std::string_view name) const {
  return find_pair(form_fields(), name);
}

std::vector<std::string> Request::form_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : form_fields()) {
    if (key == name) out.push_back(value);
  }
  return out;
}

std::string Request::param(std::string_view name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

const std::string& Request::csrf_token() {
  return ensure_session().csrf_token;
}

Response Response::html(std::string body, int status) {
  Response r{status, {{"Content-Type", "text/html; charset=utf-8"}}, std::move(body), {}};
  return r;
}

Response Response::json(std::string body, int status) {
  return Response{status, {{"Content-Type", "application/json"}}, std::move(body), {}};
}

Response Response::text(std::string body, int status) {
  return Response{status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body), {}};
}

Response Response::redirect(std::string location, int status) {
  return Response{status, {{"Location", std::move(location)}}, {}, {}};
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (same_name(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string_view Response::content() const {
  return shared_body ? std::string_view(*shared_body) : std::string_view(body);
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (same_name(k, name)) return v;
  }
  return std::nullopt;
}

namespace {

// "//x" and "/\\x" name another host to a browser.
bool names_other_host(std::string_view t) {
  return t.size() > 1 && (t[1] == '/' || t[1] == '\\');
}

}  // namespace

bool is_local_path(std::string_view target) {
  if (target.empty() || target.size() > 8192 || target.front() != '/') return false;
  if (names_other_host(target)) return false;
  for (unsigned char c : target) {
    if (c <= 0x20 || c >= 0x7f || c == '\\') return false;
  }
  // Once decoded (as a careless reader would), still a path here and still one line.
  auto decoded = url_decode(target, false);
  if (names_other_host(decoded)) return false;
  for (unsigned char c : decoded) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string local_path_or(const std::optional<std::string>& target, std::string fallback) {
  if (target && is_local_path(*target)) return *target;
  return fallback;
}

bool is_valid_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f ||
        std::string_view("\"(),/:;<=>?@[\\]{}").find(static_cast<char>(c)) !=
            std::string_view::npos) {
      return false;
    }
  }
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::string url_decode(std::string_view s, bool form) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && form) {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string attachment_disposition(std::string_view filename, std::string_view fallback) {
  auto name = core::repair_utf8(filename);
  std::erase_if(name, [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
  if (name.empty()) name = core::repair_utf8(fallback);
  std::string plain;
  for (std::size_t i = 0; i < name.size(); ++i) {
    auto u = static_cast<unsigned char>(name[i]);
    if (u >= 0x80) {
      // One "_" for each character: its continuation bytes are passed over.
      while (i + 1 < name.size() && (static_cast<unsigned char>(name[i + 1]) & 0xC0) == 0x80) ++i;
      plain += '_';
    } else if (name[i] == '"' || name[i] == '\\') {
      plain += '_';
    } else {
      plain += name[i];
    }
  }
  auto out = fmt::format("attachment; filename=\"{}\"", plain);
  if (plain != name) out += "; filename*=UTF-8''" + url_encode(name);
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_urlencoded(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!s.empty()) {
    auto end = s.find('&');
    auto part = s.substr(0, end);
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(url_decode(part, true), "");
      } else {
        out.emplace_back(url_decode(part.substr(0, eq), true),
                         url_decode(part.substr(eq + 1), true));
      }
    }
    if (end == std::string_view::npos) break;
    s.remove_prefix(end + 1);
  }
  return out;
}

std::optional<std::string> canonical_address(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::string s(text);
  if (s.starts_with("[")) {
    auto close = s.find(']');
    if (close == std::string::npos) return std::nullopt;
    s = s.substr(1, close - 1);
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    s = s.substr(0, s.find(':'));  // IPv4 with a port
  }
  if (auto zone = s.find('%'); zone != std::string::npos) s.resize(zone);
  char out[INET6_ADDRSTRLEN];
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    return inet_ntop(AF_INET, &v4, out, sizeof out) ? std::optional<std::string>(out)
                                                    : std::nullopt;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, &v6.s6_addr[12], 4);
    return inet_ntop(AF_INET, &v4, out, sizeof out) ? std::optional<std::string>(out)
                                                    : std::nullopt;
  }
  return inet_ntop(AF_INET6, &v6, out, sizeof out) ? std::optional<std::string>(out) : std::nullopt;
}

std::string http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

std::string origin_of(const std::string& url) {
  Poco::URI uri(url);
  auto host =
      uri.getHost().find(':') == std::string::npos ? uri.getHost() : "[" + uri.getHost() + "]";
  auto port = uri.getPort();
  bool standard =
      (uri.getScheme() == "https" && port == 443) || (uri.getScheme() == "http" && port == 80);
  return standard ? fmt::format("{}://{}", uri.getScheme(), host)
                  : fmt::format("{}://{}:{}", uri.getScheme(), host, port);
}

}  // namespace mvsp::web
