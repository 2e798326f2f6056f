// The Cookie header (Request::cookie) as the session, language and device cookies are read:
// one or more Cookie headers, one per input line; the names asked for are the site's own
// and the first name of each header.
#include <mvsp/web/http.hpp>
#include <vector>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  auto input = mvsp::fuzz::text(data, size);
  mvsp::web::Request req;
  std::vector<std::string> names = {"mvsp_session", "mvsp_lang", "mvsp_device", "", "a"};
  while (!input.empty()) {
    auto nl = input.find('\n');
    auto line = input.substr(0, nl);
    req.headers.emplace_back("cookie", std::string(line));
    auto eq = line.find('=');
    // A few names are enough; every name of thousands of lines made each input quadratic
    // and the target slowed from 20,000 to 450 inputs a second.
    if (eq != std::string_view::npos && names.size() < 16) names.emplace_back(line.substr(0, eq));
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  }
  for (const auto& name : names) {
    auto value = req.cookie(name);
    if (!value) continue;
    check(value->find(';') == std::string::npos, "a cookie value never holds ';'");
    bool inside = false;
    for (const auto& [k, v] : req.headers) {
      if (v.find(name + "=" + *value) != std::string::npos) inside = true;
    }
    check(inside, "a cookie is name=value as sent in a Cookie header");
  }
  return 0;
}
