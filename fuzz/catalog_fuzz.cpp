// The catalog's JSON input through its API (catalog/web/api.cpp) with a machine client of
// scope catalog:admin: the first byte picks the route — the import (POST
// /api/v1/catalog/import, Catalog::import_json), one service (PUT
// /api/v1/catalog/services/{leikaKey}) or one specialisation (PUT
// /api/v1/catalog/specialisations/…) — and the rest is the JSON body. Never a 500; a refusal
// is a client error.
#include "app_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::AppHarness;
  using mvsp::fuzz::check;
  using mvsp::web::Method;
  if (size == 0) return 0;
  auto body = mvsp::fuzz::harness().expand(mvsp::fuzz::text(data + 1, size - 1));
  mvsp::web::Request req;
  switch (data[0] % 3) {
    case 0:
      req = AppHarness::request(Method::post, "/api/v1/catalog/import");
      break;
    case 1:
      req = AppHarness::request(Method::put, "/api/v1/catalog/services/99050012104000");
      break;
    default:
      req = AppHarness::request(Method::put,
                                "/api/v1/catalog/specialisations/99050012104000/"
                                "fuzz-amt/description");
      break;
  }
  req.headers = {{"content-type", "application/json"},
                 {"authorization", mvsp::fuzz::harness().expand("Bearer @CATALOG_TOKEN@")}};
  req.body = std::move(body);
  auto res = mvsp::fuzz::harness().handle(std::move(req));
  check(res.status == 200 || (res.status >= 400 && res.status < 500),
        "catalog input is taken (200) or refused as a client error",
        std::to_string(res.status) + " " + res.body.substr(0, 200));
  return 0;
}
