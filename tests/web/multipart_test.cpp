// multipart/form-data bodies: complete ones read back, truncated ones are refused (the
// inputs come from fuzz/corpus/multipart, where the fuzzer found them).
#include <gtest/gtest.h>

#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>

namespace mvsp::web {
namespace {

Request with_body(std::string boundary, std::string body) {
  Request req;
  req.method = Method::post;
  req.headers.emplace_back("content-type", "multipart/form-data; boundary=" + boundary);
  req.body = std::move(body);
  return req;
}

TEST(Multipart, BuiltBodiesReadBack) {
  auto built = build_multipart({{"metadata", "", "application/json", R"({"a":1})"},
                                {"document", "b.pdf", "application/pdf", "%PDF-1.7\r\n"}});
  Request req;
  req.headers.emplace_back("content-type", built.content_type);
  req.body = built.body;
  auto parts = parse_multipart(req);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, R"({"a":1})");
  EXPECT_EQ((*parts)[1].filename, "b.pdf");
  EXPECT_EQ((*parts)[1].body, "%PDF-1.7\r\n");
}

TEST(Multipart, ClosedBodiesWithEpilogueAreTaken) {
  for (std::string tail : {"", "\r\n", "\r\nepilogue"}) {
    auto parts =
        parse_multipart(with_body("b", "--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--" + tail));
    ASSERT_TRUE(parts) << tail;
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[1].body, "two");
  }
}

TEST(Multipart, OtherMediaTypesAreUnsupported) {
  for (std::string type :
       {"application/json", "multipart/form-data", "multipart/mixed; boundary=b"}) {
    Request req;
    req.headers.emplace_back("content-type", type);
    req.body = "--b\r\n\r\ndata\r\n--b--";
    auto parts = parse_multipart(req);
    ASSERT_FALSE(parts) << type;
    EXPECT_EQ(parts.error().code, core::ErrorCode::unsupported_media_type) << type;
  }
}

TEST(Multipart, TruncatedBodiesAreRefused) {
  // POCO took these as complete and gave the last part a stray byte 0xFF ("data\r\n--b\xff").
  for (std::string body :
       {"--b\r\n\r\ndata\r\n--b", "--b\r\n\r\ndata\r\n--", "--b\r\n\r\ndata",
        "--b\r\n\r\ndata\r\n--b\r\n", "--b\r\nContent-Disposition: form-data; name=\"x"}) {
    auto parts = parse_multipart(with_body("b", body));
    ASSERT_FALSE(parts) << body;
    EXPECT_EQ(parts.error().fields.front().field, "body");
  }
}

}  // namespace
}  // namespace mvsp::web
