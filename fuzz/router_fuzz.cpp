// Routing of a request line with every route the application registers: the first byte
// picks the method, the rest is the raw path (and query) as it arrives; the path is
// decoded as the server does it, then matched by web::Router::match.
#include <mvsp/web/router.hpp>
#include <vector>

#include "app.hpp"
#include "app_harness.hpp"

namespace {

std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto end = std::min(path.find('/', i), path.size());
    out.emplace_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

constexpr mvsp::web::Method kMethods[] = {mvsp::web::Method::get,     mvsp::web::Method::head,
                                          mvsp::web::Method::post,    mvsp::web::Method::put,
                                          mvsp::web::Method::patch,   mvsp::web::Method::del,
                                          mvsp::web::Method::options, mvsp::web::Method::other};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  if (size == 0) return 0;
  auto method = kMethods[data[0] % std::size(kMethods)];
  auto uri = mvsp::fuzz::text(data + 1, size - 1);
  auto path = mvsp::web::url_decode(uri.substr(0, uri.find('?')), false);

  auto match = mvsp::fuzz::harness().app().router().match(method, path);
  if (!match.handler) {
    check(match.pattern.empty() && match.params.empty(), "no route, no pattern or parameters");
    return 0;
  }
  check(!match.other_method, "a matched route is not also 'other method'");
  // The pattern, with each {name} replaced by its parameter, gives the path's segments.
  auto wanted = segments(path);
  auto pattern = segments(match.pattern);
  check(wanted.size() == pattern.size(), "a route has as many segments as the path", match.pattern);
  std::size_t params = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto& seg = pattern[i];
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      ++params;
      auto it = match.params.find(seg.substr(1, seg.size() - 2));
      check(it != match.params.end(), "every {parameter} of the route is filled", seg);
      check(it->second == wanted[i], "a parameter is its path segment", seg);
      check(!it->second.empty() && it->second.find('/') == std::string::npos,
            "a parameter is one non-empty segment");
    } else {
      check(seg == wanted[i], "literal segments match exactly", seg);
    }
  }
  check(match.params.size() == params, "no parameters beyond the route's");
  return 0;
}
