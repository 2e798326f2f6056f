#pragma once
// The pages and endpoints every installation has: start page, legal footer pages,
// language switch, /healthz, /readyz and /metrics.

#include <functional>
#include <string>
#include <string_view>

namespace mvsp::web {

class Router;
class Pages;
class Metrics;

// What the legal pages say about who runs this installation (config section [site]).
struct SiteOperator {
  std::string name;
  std::string address;
  std::string email;
  std::string phone;
};

struct ShellOptions {
  SiteOperator site_operator;
  // Checked by /readyz: the database answers and every migration is applied.
  std::function<bool()> ready;
  // /metrics needs "Authorization: Bearer <token>"; without a token it is never served.
  std::string metrics_token;
  // The start page shows a search form that asks /suche (the finder is there).
  bool search = false;
};

// The Set-Cookie value that remembers the chosen language ("de", "en") for a year.
std::string language_cookie(std::string_view code);

void register_shell(Router& router, const Pages& pages, const Metrics& metrics,
                    ShellOptions options);

}  // namespace mvsp::web
