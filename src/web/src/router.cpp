#include <mvsp/web/router.hpp>

namespace mvsp::web {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

bool is_param(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

void Router::add(Method method, std::string pattern, Handler handler, HeadCheck before_body) {
  auto segments = split_path(pattern);
  routes_.push_back({method, std::move(pattern), std::move(segments), std::move(handler),
                     std::move(before_body)});
}

void Router::post_from_other_site(std::string pattern, Handler handler) {
  add(Method::post, std::move(pattern), std::move(handler));
  routes_.back().from_other_site = true;
}

Router::Match Router::match(Method method, std::string_view path) const {
  Match best;
  // "//x" is not "/x": a handler that echoes its path must never hand out "//host".
  if (path.find("//") != std::string_view::npos) return best;
  auto parts = split_path(path);
  int best_literals = -1;
  // HEAD is answered by the GET route (the server sends no body).
  Method wanted = method == Method::head ? Method::get : method;
  for (const auto& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    std::map<std::string, std::string, std::less<>> params;
    int literals = 0;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      const auto& seg = route.segments[i];
      if (is_param(seg)) {
        params[seg.substr(1, seg.size() - 2)] = parts[i];
      } else if (seg == parts[i]) {
        ++literals;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    if (route.method != wanted) {
      best.other_method = true;
      continue;
    }
    if (literals > best_literals) {
      best_literals = literals;
      best.handler = &route.handler;
      best.pattern = route.pattern;
      best.params = std::move(params);
      best.from_other_site = route.from_other_site;
      best.before_body = route.before_body ? &route.before_body : nullptr;
    }
  }
  if (best.handler) best.other_method = false;
  return best;
}

}  // namespace mvsp::web
