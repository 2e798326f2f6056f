// The clamd scanner against a real clamd on loopback (scripts/test-clamd: a database that
// knows the EICAR test file only), and media types told by content (libmagic).
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <gtest/gtest.h>

#include <mvsp/core/virus_scan.hpp>
#include <thread>
#include <vector>

#include "support.hpp"

namespace mvsp::core {
namespace {

// The EICAR test file, put together here so that no scanner flags this source file.
std::string eicar() {
  return std::string(R"(X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDA)") +
         "RD-ANTIVIRUS-TEST-FILE!$H+H*";
}

using ClamdScanner = test::ClamdTest;

TEST_F(ClamdScanner, CleanContentIsNotInfected) {
  auto scanner = make_clamd_scanner(clamd_);
  for (std::string content :
       {std::string("Antrag auf Wohngeld\n"), std::string(), std::string("\0\1\2binary\xff", 10)}) {
    auto result = scanner->scan(content);
    ASSERT_TRUE(result) << result.error().detail;
    EXPECT_FALSE(result->infected);
    EXPECT_EQ(result->signature, "");
  }
}

TEST_F(ClamdScanner, TheEicarTestFileIsInfectedWithASignatureName) {
  auto scanner = make_clamd_scanner(clamd_);
  for (const auto& content : {eicar(), "Anlage 1\n" + eicar() + "\nEnde\n"}) {
    auto result = scanner->scan(content);
    ASSERT_TRUE(result) << result.error().detail;
    EXPECT_TRUE(result->infected);
    EXPECT_NE(result->signature.find("EICAR"), std::string::npos) << result->signature;
    EXPECT_EQ(result->signature.find(' '), std::string::npos) << result->signature;
  }
}

TEST_F(ClamdScanner, LargeContentIsScannedWhole) {
  auto scanner = make_clamd_scanner(clamd_);
  std::string clean(3 * 1024 * 1024, 'a');
  auto result = scanner->scan(clean);
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_FALSE(result->infected);
  // Past the first chunks too.
  auto infected = clean + eicar();
  result = scanner->scan(infected);
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_TRUE(result->infected);
}

TEST_F(ClamdScanner, ContentBeyondClamdsStreamLimitIsUnavailableNotClean) {
  // scripts/test-clamd sets StreamMaxLength 110M: a 100 MB upload fits, this does not.
  auto scanner = make_clamd_scanner(clamd_);
  std::string huge(111 * 1024 * 1024 + 1, 'a');
  auto result = scanner->scan(huge);
  ASSERT_FALSE(result) << "a stream clamd did not read to the end must not count as clean";
  EXPECT_EQ(result.error().code, ErrorCode::unavailable);
}

TEST_F(ClamdScanner, ScansFromSeveralThreadsAtOnce) {
  auto scanner = make_clamd_scanner(clamd_);
  std::vector<std::thread> threads;
  std::vector<int> found(8, -1);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto result = scanner->scan(i % 2 ? eicar() : std::string("sauber"));
      found[i] = result ? (result->infected ? 1 : 0) : -1;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(found[i], i % 2) << i;
}

TEST(ClamdScannerDown, AnUnreachableScannerIsUnavailable) {
  auto scanner =
      make_clamd_scanner({.port = test::unused_port(), .timeout = std::chrono::seconds(2)});
  auto result = scanner->scan("Antrag");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::unavailable);
}

TEST(ClamdScannerDown, AScannerThatDoesNotAnswerTimesOut) {
  // Listens, so the connection is made, but never reads or answers.
  Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0));
  auto scanner =
      make_clamd_scanner({.port = silent.address().port(), .timeout = std::chrono::seconds(1)});
  auto started = std::chrono::steady_clock::now();
  auto result = scanner->scan("Antrag");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(MediaType, IsToldByContent) {
  struct Case {
    const char* what;
    std::string content;
    const char* type;
  };
  const std::string png_header("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0",
                               29);
  const std::string jpeg_header("\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 20);
  const Case cases[] = {
      {"pdf",
       "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
       "application/pdf"},
      {"png", png_header + std::string(64, '\0'), "image/png"},
      {"jpeg", jpeg_header + std::string(64, '\0'), "image/jpeg"},
      {"text", "Antrag auf Wohngeld\nStraße 1, 19053 Schwerin\n", "text/plain"},
      {"html named nothing",
       "<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n", "text/html"},
      {"empty", "", "application/octet-stream"},
  };
  for (const auto& c : cases) EXPECT_EQ(media_type_of(c.content), c.type) << c.what;
}

TEST(MediaType, IsSafeFromSeveralThreads) {
  std::vector<std::thread> threads;
  std::vector<std::string> types(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { types[i] = media_type_of("%PDF-1.7\n%%EOF\n"); });
  }
  for (auto& t : threads) t.join();
  for (const auto& t : types) EXPECT_EQ(t, "application/pdf");
}

}  // namespace
}  // namespace mvsp::core
