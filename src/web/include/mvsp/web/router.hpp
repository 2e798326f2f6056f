#pragma once
// Routes with path parameters: "/api/v1/notices/{id}". Literal segments win over
// parameters; a path that matches with another method gives 405.

#include <functional>
#include <map>
#include <memory>
#include <mvsp/web/http.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::web {

using Handler = std::function<Response(Request&)>;
// A check of the request head alone, run before the body is read: a route that takes a
// large body refuses a caller without credentials before reading it. Nothing means "go on".
using HeadCheck = std::function<std::optional<Response>(const Request&)>;

class Router {
 public:
  void add(Method method, std::string pattern, Handler handler, HeadCheck before_body = {});
  void get(std::string pattern, Handler h) { add(Method::get, std::move(pattern), std::move(h)); }
  void post(std::string pattern, Handler h, HeadCheck before_body = {}) {
    add(Method::post, std::move(pattern), std::move(h), std::move(before_body));
  }
  // A POST that another site's page sends on purpose (a SAML response from the identity
  // provider): no CSRF token, no session. The handler must prove the request otherwise.
  void post_from_other_site(std::string pattern, Handler h);

  struct Match {
    const Handler* handler = nullptr;
    std::string pattern;
    std::map<std::string, std::string, std::less<>> params;
    bool other_method = false;  // the path exists with another method
    bool from_other_site = false;
    const HeadCheck* before_body = nullptr;  // set when the route has one
  };
  Match match(Method method, std::string_view path) const;

 private:
  struct Route {
    Method method;
    std::string pattern;
    std::vector<std::string> segments;  // a parameter's segment is its name
    std::vector<bool> parameter;        // per segment
    int literals = 0;                   // segments that are not parameters
    Handler handler;
    HeadCheck before_body;
    bool from_other_site = false;
  };
  std::vector<Route> routes_;
  // Which routes have n segments, in the order added: a path is held against those alone.
  std::vector<std::vector<std::size_t>> by_length_;
};

}  // namespace mvsp::web
