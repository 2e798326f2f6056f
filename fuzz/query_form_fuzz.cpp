// Query strings and application/x-www-form-urlencoded bodies: web::parse_urlencoded,
// Request::query_param and Request::form, as every handler reads them.
#include <mvsp/web/http.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  using mvsp::web::url_encode;
  auto input = mvsp::fuzz::text(data, size);

  auto pairs = mvsp::web::parse_urlencoded(input);
  std::size_t separators = 0;
  for (char c : input) separators += c == '&';
  check(pairs.size() <= separators + 1, "at most one pair per '&'-separated part");
  for (const auto& [k, v] : pairs) {
    check(k.size() + v.size() <= input.size(), "a pair is never longer than the input");
  }

  mvsp::web::Request req;
  req.query = std::string(input);
  req.body = std::string(input);
  req.headers.emplace_back("content-type", "application/x-www-form-urlencoded; charset=UTF-8");
  // The first pair of a name wins, in the query and in the form. A few names are enough:
  // query_param parses the whole query each time, so every name of thousands of pairs made
  // each input quadratic and the target slowed from 12,000 to 570 inputs a second.
  for (std::size_t i = 0; i < pairs.size() && i < 16; ++i) {
    const auto& k = pairs[i].first;
    std::string first;
    for (const auto& [k2, v2] : pairs) {
      if (k2 == k) {
        first = v2;
        break;
      }
    }
    check(req.query_param(k) == first, "query_param gives the first value of a name");
    check(req.form(k) == first, "form gives the first value of a name");
  }

  // Encoding the pairs again and parsing gives the same pairs (empty names are kept only
  // with a value, as the parser skips empty parts).
  std::string again;
  for (const auto& [k, v] : pairs) {
    if (!again.empty()) again += '&';
    again += url_encode(k) + "=" + url_encode(v);
  }
  check(mvsp::web::parse_urlencoded(again) == pairs, "encoding the pairs again round-trips");

  // A body of another type is no form.
  mvsp::web::Request other;
  other.body = std::string(input);
  other.headers.emplace_back("content-type", "text/plain");
  if (!pairs.empty()) check(!other.form(pairs.front().first), "only urlencoded bodies are forms");
  return 0;
}
