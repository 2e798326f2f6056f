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
  Route route{.method = method,
              .pattern = std::move(pattern),
              .segments = {},
              .parameter = {},
              .literals = 0,
              .handler = std::move(handler),
              .before_body = std::move(before_body)};
  for (auto& seg : split_path(route.pattern)) {
    bool param = is_param(seg);
    route.parameter.push_back(param);
    route.segments.push_back(param ? seg.substr(1, seg.size() - 2) : std::move(seg));
    if (!param) ++route.literals;
  }
  auto n = route.segments.size();
  if (by_length_.size() <= n) by_length_.resize(n + 1);
  by_length_[n].push_back(routes_.size());
  routes_.push_back(std::move(route));
}

void Router::post_from_other_site(std::string pattern, Handler handler) {
  add(Method::post, std::move(pattern), std::move(handler));
  routes_.back().from_other_site = true;
}

// Every request passes here: only the routes of the path's length are looked at, a route
// is dropped at its first literal that differs, and the parameters are read from the one
// route that wins.
Router::Match Router::match(Method method, std::string_view path) const {
  Match best;
  // "//x" is not "/x": a handler that echoes its path must never hand out "//host".
  if (path.find("//") != std::string_view::npos) return best;
  auto parts = split_path(path);
  if (parts.size() >= by_length_.size()) return best;
  // HEAD is answered by the GET route (the server sends no body).
  Method wanted = method == Method::head ? Method::get : method;
  const Route* chosen = nullptr;
  for (auto index : by_length_[parts.size()]) {
    const auto& route = routes_[index];
    // Literal segments win over parameters, the first added on a tie: a route with no more
    // cannot beat the one chosen (and with a route chosen, other methods do not matter).
    if (chosen && route.literals <= chosen->literals) continue;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      ok = route.parameter[i] || route.segments[i] == parts[i];
    }
    if (!ok) continue;
    if (route.method != wanted) {
      best.other_method = true;
      continue;
    }
    chosen = &route;
  }
  if (!chosen) return best;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (chosen->parameter[i]) best.params[chosen->segments[i]] = std::move(parts[i]);
  }
  best.handler = &chosen->handler;
  best.pattern = chosen->pattern;
  best.from_other_site = chosen->from_other_site;
  best.before_body = chosen->before_body ? &chosen->before_body : nullptr;
  best.other_method = false;
  return best;
}

}  // namespace mvsp::web
