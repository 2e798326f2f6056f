// Static files: validators (ETag, Last-Modified), byte ranges, pre-compressed variants and
// large files streamed from the disk. (That nothing outside the root is served is in
// tests/security/web_test.cpp.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mvsp/core/log.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/static_files.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace mvsp::web {
namespace {

class Static : public ::testing::Test {
 protected:
  Static() {
    std::ofstream(dir_.path() / "app.css") << kCss;
    std::ofstream(dir_.path() / "app.css.br") << "BROTLI";
    std::ofstream(dir_.path() / "app.css.gz") << "GZIP";
    std::ofstream(dir_.path() / "plain.txt") << "0123456789";
    std::ofstream(dir_.path() / "big.bin") << big_;
  }

  std::optional<Response> get(const std::string& path,
                              std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req;
    req.path = path;
    req.headers = std::move(headers);
    return files_.serve(req);
  }
  // The body however it is held: in `body`, shared, or streamed.
  static std::string body_of(const Response& res) {
    if (!res.stream) return std::string(res.content());
    std::ostringstream out;
    res.stream(out);
    return out.str();
  }

  static constexpr const char* kCss = "body{margin:0}";
  test::TempDir dir_;
  std::string big_ = [] {
    std::string s(300 * 1024, ' ');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
  }();
  StaticFiles files_{dir_.path(), {.cache_bytes = 1024 * 1024, .cached_file_bytes = 64 * 1024}};
};

std::vector<std::string> g_logged;
void capture(std::string_view line) {
  g_logged.emplace_back(line);
}

// A program built without its static files (the demo's build once forgot them) says so at
// start: otherwise every page loads without its style sheet and nothing says why.
TEST(StaticRoot, AMissingFolderIsNamedAtStart) {
  test::TempDir dir;
  g_logged.clear();
  core::log::set_sink(&capture);
  StaticFiles present(dir.path());
  StaticFiles missing(dir.path() / "static");
  core::log::set_sink(nullptr);
  ASSERT_EQ(g_logged.size(), 1u);
  EXPECT_NE(g_logged[0].find("static.missing"), std::string::npos) << g_logged[0];
  EXPECT_NE(g_logged[0].find((dir.path() / "static").string()), std::string::npos);
}

TEST_F(Static, AnswersUnchangedFilesWith304) {
  auto first = get("/static/plain.txt");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(body_of(*first), "0123456789");
  auto etag = first->header("etag").value_or("");
  auto modified = first->header("last-modified").value_or("");
  ASSERT_FALSE(etag.empty());
  ASSERT_TRUE(modified.ends_with(" GMT")) << modified;
  EXPECT_EQ(get("/static/plain.txt", {{"if-none-match", etag}})->status, 304);
  EXPECT_EQ(get("/static/plain.txt", {{"if-none-match", "\"x\", W/" + etag}})->status, 304);
  EXPECT_EQ(get("/static/plain.txt", {{"if-none-match", "\"other\""}})->status, 200);
  EXPECT_EQ(get("/static/plain.txt", {{"if-modified-since", modified}})->status, 304);
  // If-None-Match decides when both are sent.
  EXPECT_EQ(
      get("/static/plain.txt", {{"if-none-match", "\"other\""}, {"if-modified-since", modified}})
          ->status,
      200);
}

TEST_F(Static, SendsTheRangeAskedFor) {
  struct Case {
    std::string range;
    int status;
    std::string body;
    std::string content_range;
  };
  for (const auto& c : std::vector<Case>{
           {"bytes=2-4", 206, "234", "bytes 2-4/10"},
           {"bytes=7-", 206, "789", "bytes 7-9/10"},
           {"bytes=-3", 206, "789", "bytes 7-9/10"},
           {"bytes=8-100", 206, "89", "bytes 8-9/10"},
           {"bytes=-100", 206, "0123456789", "bytes 0-9/10"},
           {"bytes=10-", 416, "", "bytes */10"},
           {"bytes=-0", 416, "", "bytes */10"},
           {"bytes=0-1,4-5", 200, "0123456789", ""},  // several: the whole file
           {"bytes=5-2", 200, "0123456789", ""},      // bad syntax: ignored
           {"items=0-1", 200, "0123456789", ""},
           {"bytes=x-1", 200, "0123456789", ""},
       }) {
    auto res = get("/static/plain.txt", {{"range", c.range}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status) << c.range;
    EXPECT_EQ(body_of(*res), c.body) << c.range;
    EXPECT_EQ(res->header("content-range").value_or(""), c.content_range) << c.range;
  }
  // A range for another version of the file gets the whole file.
  auto etag = get("/static/plain.txt")->header("etag").value_or("");
  EXPECT_EQ(get("/static/plain.txt", {{"range", "bytes=0-1"}, {"if-range", etag}})->status, 206);
  EXPECT_EQ(get("/static/plain.txt", {{"range", "bytes=0-1"}, {"if-range", "\"old\""}})->status,
            200);
}

TEST_F(Static, SendsAPrecompressedVariantToClientsThatAcceptIt) {
  auto br = get("/static/app.css", {{"accept-encoding", "gzip, deflate, br"}});
  EXPECT_EQ(body_of(*br), "BROTLI");
  EXPECT_EQ(br->header("content-encoding"), "br");
  EXPECT_EQ(br->header("vary"), "Accept-Encoding");
  EXPECT_EQ(br->header("content-type"), "text/css; charset=utf-8");
  auto gz = get("/static/app.css", {{"accept-encoding", "gzip"}});
  EXPECT_EQ(body_of(*gz), "GZIP");
  EXPECT_EQ(gz->header("content-encoding"), "gzip");
  EXPECT_NE(gz->header("etag"), br->header("etag"));  // each representation its own tag
  auto refused = get("/static/app.css", {{"accept-encoding", "br;q=0, gzip;q=0.0"}});
  EXPECT_EQ(body_of(*refused), kCss);
  EXPECT_FALSE(refused->header("content-encoding"));
  EXPECT_EQ(refused->header("vary"), "Accept-Encoding");
  auto none = get("/static/app.css");
  EXPECT_EQ(body_of(*none), kCss);
  // A file without variants names no Vary.
  EXPECT_FALSE(get("/static/plain.txt", {{"accept-encoding", "br"}})->header("vary"));
}

TEST_F(Static, StreamsALargeFileFromTheDisk) {
  auto res = get("/static/big.bin");
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->stream) << "not held in memory";
  EXPECT_EQ(res->header("content-length"), std::to_string(big_.size()));
  EXPECT_EQ(body_of(*res), big_);
  auto part = get("/static/big.bin", {{"range", "bytes=100000-100009"}});
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->header("content-length"), "10");
  EXPECT_EQ(body_of(*part), big_.substr(100000, 10));
  EXPECT_EQ(files_.cached_bytes(), 0U);
  // A small one is held, and sent from there without a copy.
  auto small = get("/static/plain.txt");
  EXPECT_TRUE(small->shared_body);
  EXPECT_EQ(get("/static/plain.txt")->shared_body, small->shared_body);
}

}  // namespace
}  // namespace mvsp::web
