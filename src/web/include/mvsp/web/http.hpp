#pragma once
// Plain request and response values: handlers take a Request and return a Response, so
// tests call them without a socket. The server adapter fills and sends them.

#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::web {

enum class Method { get, head, post, put, patch, del, options, other };
Method parse_method(std::string_view m);
std::string_view method_name(Method m);
// POST, PUT, PATCH and DELETE change state and need a CSRF token on pages.
bool changes_state(Method m);

struct Session;

struct Request {
  Method method = Method::get;
  std::string path;   // decoded path without query, e.g. "/impressum"
  std::string query;  // raw query string without "?"
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  std::string remote_address;

  // Filled by the pipeline before the handler runs.
  std::map<std::string, std::string, std::less<>> params;  // from the route pattern
  std::string route;  // the matched pattern, e.g. "/api/v1/notices/{id}"
  std::string correlation_id;
  std::string locale = "de";
  Session* session = nullptr;                // the visitor's session, if there is one
  std::function<Session&()> ensure_session;  // creates one when needed (forms)

  std::optional<std::string> header(std::string_view name) const;
  std::optional<std::string> cookie(std::string_view name) const;
  std::optional<std::string> query_param(std::string_view name) const;
  // A field of an application/x-www-form-urlencoded body.
  std::optional<std::string> form(std::string_view name) const;
  // Every value of a field that may repeat (checkboxes of one name), in order.
  std::vector<std::string> form_all(std::string_view name) const;
  std::string param(std::string_view name) const;
  bool is_api() const { return path == "/api" || path.starts_with("/api/"); }
  // The session's CSRF token; creates the session when there is none.
  const std::string& csrf_token();

 private:
  const std::vector<std::pair<std::string, std::string>>& form_fields() const;
  mutable std::optional<std::vector<std::pair<std::string, std::string>>> form_;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // For large bodies (documents): writes the body instead of `body`. It runs on a handler
  // thread while the server sends what it wrote; a client that stops reading makes the
  // writes fail (the stream ends), so it may write as much as it likes.
  std::function<void(std::ostream&)> stream;
  // A body shared with a cache (static files), sent without a copy, instead of `body`.
  std::shared_ptr<const std::string> shared_body;
  // Origins besides our own that this page's forms may post to (CSP form-action).
  std::vector<std::string> form_targets;

  static Response html(std::string body, int status = 200);
  static Response json(std::string body, int status = 200);
  static Response text(std::string body, int status = 200);
  static Response redirect(std::string location, int status = 303);

  void set_header(std::string name, std::string value);
  std::optional<std::string> header(std::string_view name) const;
  // The body, wherever it is held (`body` or `shared_body`; not a stream).
  std::string_view content() const;
};

// Whether `target` is a path on this site that a redirect may go to: "/" followed by a
// path, never another origin. Refused: anything not starting with one "/", "//" or "/\"
// (another host to a browser), a backslash, control characters, spaces and bytes beyond
// ASCII (browsers drop or reinterpret them), and all of that again after one
// percent-decoding. The one rule for every `next`, `return_to` and stored target.
bool is_local_path(std::string_view target);
// `target` when it is a local path, else `fallback`.
std::string local_path_or(const std::optional<std::string>& target, std::string fallback);
// Whether a header may go on the wire: the name an RFC 9110 token, the value without CR,
// LF, NUL or other control characters but tab. Checked where responses are written.
bool is_valid_header(std::string_view name, std::string_view value);

// An IP address in one written form: IPv4 dotted, IPv6 as inet_ntop writes it, an
// IPv4-mapped IPv6 address as IPv4; a port (":p", "[…]:p"), a zone ("%eth0") and spaces
// around are dropped. Nothing when `text` is not an address.
std::optional<std::string> canonical_address(std::string_view text);

// The origin of an absolute URL as CSP and browsers write it: "https://host" with the port
// only where it is not the scheme's own, an IPv6 host in brackets. Throws on a URL that
// does not parse (callers pass URLs they checked).
std::string origin_of(const std::string& url);

// A time as HTTP writes it (RFC 9110 5.6.7): "Thu, 03 Dec 2026 04:19:40 GMT".
std::string http_date(std::time_t t);

// Percent-decoding of URL components ('+' as space when `form` is true).
std::string url_decode(std::string_view s, bool form);
std::string url_encode(std::string_view s);
// The Content-Disposition of a download named `filename` that a person chose (an upload's
// name may hold quotes, backslashes, line breaks and any UTF-8): `attachment;
// filename="…"` with a plain ASCII stand-in (every other character as "_"), and, when the
// name is more than that, RFC 6266's `filename*=UTF-8''…` with the name percent-encoded.
// Control characters are dropped; an empty name becomes `fallback`.
std::string attachment_disposition(std::string_view filename,
                                   std::string_view fallback = "download");

// Pairs of an application/x-www-form-urlencoded string (also a query string).
std::vector<std::pair<std::string, std::string>> parse_urlencoded(std::string_view s);

}  // namespace mvsp::web
