// The notices API's metadata (POST /api/v1/notices, delivery/web/api.cpp): the input is the
// JSON of the "metadata" part; it is sent with one PDF document by a machine client with
// scope notices:write, through the application's own request pipeline. Placeholders as in
// fuzz_support.hpp. Invariants: never a 500; a refused notice is problem+json with 4xx; an
// accepted one is 201 with a Location.
#include <mvsp/web/multipart.hpp>

#include "app_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  auto metadata = mvsp::fuzz::harness().expand(mvsp::fuzz::text(data, size));
  auto body = mvsp::web::build_multipart(
      {{"metadata", "", "application/json", metadata},
       {"document", "bescheid.pdf", "application/pdf", "%PDF-1.7\n%fuzz\n%%EOF\n"}});
  auto req = mvsp::fuzz::AppHarness::request(mvsp::web::Method::post, "/api/v1/notices");
  req.headers = {{"content-type", body.content_type},
                 {"authorization", mvsp::fuzz::harness().expand("Bearer @NOTICES_TOKEN@")}};
  req.body = body.body;
  auto res = mvsp::fuzz::harness().handle(std::move(req));
  if (res.status == 201) {
    check(res.header("location").value_or("").starts_with("/api/v1/notices/"),
          "an accepted notice has its Location");
  } else {
    check(res.status >= 400 && res.status < 500, "a refused notice is a client error",
          std::to_string(res.status) + " " + res.body);
  }
  return 0;
}
