// The OpenID provider's front-channel requests (identity/web/oidc_pages.cpp): the query of
// GET /oidc/authorize (Provider::check_authorization, prompt, max_age, ui_locales,
// id_token_hint) and of GET /oidc/logout. The first byte: bit 0 sends the request in a
// signed-in session, bit 1 asks /oidc/logout instead; the rest is the query (placeholders
// as in fuzz_support.hpp). Invariants: never a 500, and never an open redirect — a
// redirect goes to a registered URI of the client or stays on our site.
#include "app_harness.hpp"

namespace {
bool registered_or_local(const std::string& location, const std::string& registered) {
  if (location.starts_with(registered)) {
    return location.size() == registered.size() || location[registered.size()] == '?' ||
           location[registered.size()] == '&';
  }
  // A path on our own site; "//host" and "/\host" would leave it.
  return location.starts_with("/") && !location.starts_with("//") && !location.starts_with("/\\");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  if (size == 0) return 0;
  bool signed_in = data[0] & 1;
  bool logout = data[0] & 2;
  auto req = mvsp::fuzz::AppHarness::request(
      mvsp::web::Method::get, logout ? "/oidc/logout" : "/oidc/authorize",
      mvsp::fuzz::harness().expand(mvsp::fuzz::text(data + 1, size - 1)));
  std::string session;
  if (signed_in) {
    session = mvsp::fuzz::harness().sign_in();
    req.headers.emplace_back("cookie", "mvsp_session=" + session);
  }
  auto res = mvsp::fuzz::harness().handle(std::move(req));
  if (signed_in) mvsp::fuzz::harness().end_session(session);
  if (auto location = res.header("location")) {
    check(registered_or_local(*location,
                              logout ? "https://rp.example/bye" : "https://rp.example/callback"),
          "a redirect goes to the client's registered URI or stays on our site", *location);
  }
  check(res.status < 500, "front-channel requests never fail on the server",
        std::to_string(res.status));
  return 0;
}
