#pragma once
// The one place where a Response becomes bytes on the wire: its head (status line and
// headers) and the framing of a streamed body. Used by web::HttpServer for the platform and
// the simulators alike.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mvsp::web {

struct Response;

// A header whose name or value could split the response (CR, LF, NUL) is never written:
// when `res` has one, it is logged and `res` becomes a plain 500 instead.
void make_safe(Response& res);

// Whether a response with this status may carry a body (not 1xx, 204 or 304).
bool status_has_body(int status);

// The status line and the headers of `res`, ending with the empty line. `length` is the
// Content-Length to announce; without one the body is sent chunked. `close` announces that
// the connection ends after this response. Headers the server owns (Content-Length,
// Transfer-Encoding, Connection, Date) are written from the arguments, not from `res`.
std::string wire_head(const Response& res, std::optional<std::uint64_t> length, bool close);

// One chunk of a chunked body (RFC 9112 7.1); the last chunk is "0\r\n\r\n".
std::string chunk(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace mvsp::web
