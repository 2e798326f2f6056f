#pragma once
// The pipeline's own refusals as problem+json: a status that no use case returns (400 for
// an ambiguous body, 404/405 for no route, 413, 500). Private to the web layer, so that a
// component answers with a core::Error through web::problem and the one mapping.

#include <mvsp/web/http.hpp>
#include <string_view>

namespace mvsp::web {

Response problem(const Request& req, int status, std::string_view detail);

}  // namespace mvsp::web
