// The token endpoint (POST /api/v1/oidc/token, Provider::token): every grant, client
// authentication by secret (post and basic), by signed client assertion (private_key_jwt,
// RFC 7523; the JWT is parsed and checked) or none with PKCE. The first input line is the
// Authorization header (empty: none), the rest the form body; placeholders as in
// app_harness.hpp. Invariants: never a 500; the answer is a JSON object; an error is 400 or
// 401 with an "error" member; success is 200 with an access token.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "app_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  auto [authorization, body] = mvsp::fuzz::split_first_line(mvsp::fuzz::text(data, size));
  auto req = mvsp::fuzz::AppHarness::request(mvsp::web::Method::post, "/api/v1/oidc/token");
  req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  if (!authorization.empty()) {
    req.headers.emplace_back("authorization", mvsp::fuzz::harness().expand(authorization));
  }
  req.body = mvsp::fuzz::harness().expand(body);
  auto res = mvsp::fuzz::harness().handle(std::move(req));
  check(res.status == 200 || res.status == 400 || res.status == 401,
        "the token endpoint answers 200, 400 or 401", std::to_string(res.status));
  Poco::JSON::Object::Ptr answer;
  try {
    answer = Poco::JSON::Parser().parse(res.body).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
  }
  check(answer != nullptr, "the token endpoint answers a JSON object",
        std::to_string(res.status) + " " + mvsp::fuzz::printable(res.body));
  if (res.status == 200) {
    check(answer->has("access_token"), "a token response has an access token");
  } else {
    check(answer->has("error"), "a token error names the error (RFC 6749 5.2)");
  }
  return 0;
}
