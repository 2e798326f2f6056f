#pragma once
// The one place where the error taxonomy becomes HTTP (docs/adr/0001-errors.md).

#include <mvsp/core/error.hpp>
#include <mvsp/web/http.hpp>
#include <string_view>

namespace mvsp::web {

int http_status(core::ErrorCode code);
// A refusal the person cannot mend in the form (forbidden, not found, not signed in): a
// page answers it with the error page (Pages::error), a form shows the other errors.
bool is_refusal(const core::Error& error);
std::string_view status_reason(int status);

// An application/problem+json response (RFC 9457) for an error, with `errors` listing
// the fields for invalid input and the request's correlation id; Retry-After when
// rate_limited, and the bearer challenge (WWW-Authenticate) when unauthenticated.
Response problem(const Request& req, const core::Error& error);

}  // namespace mvsp::web
