#pragma once
// The one place where a Response goes onto the wire, for both of our servers.

#include <Poco/Net/HTTPServerResponse.h>

namespace mvsp::web {

struct Response;

// Writes status, headers and body. A header whose name or value could split the response
// (CR, LF, NUL) is never written: the whole response becomes a plain 500 instead.
void write_response(const Response& res, Poco::Net::HTTPServerResponse& out, bool head);

}  // namespace mvsp::web
