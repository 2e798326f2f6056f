#include <gtest/gtest.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/core/log.hpp>

namespace mvsp::core {
namespace {

TEST(Crypto, KnownSha256AndHex) {
  crypto::init();
  EXPECT_EQ(crypto::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string raw;
  ASSERT_TRUE(crypto::from_hex("00ff10", raw));
  EXPECT_EQ(raw, std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(crypto::from_hex("0g", raw));
  EXPECT_FALSE(crypto::from_hex("abc", raw));
  crypto::Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(crypto::to_hex(h.finish()), crypto::sha256_hex("abc"));
  EXPECT_EQ(crypto::base64url("\xfb\xff"), "-_8");
  EXPECT_TRUE(crypto::equal_constant_time("same", "same"));
  EXPECT_FALSE(crypto::equal_constant_time("same", "sane"));
}

std::vector<std::string> g_lines;
void capture(std::string_view line) {
  g_lines.emplace_back(line);
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_lines.clear();
    log::set_sink(&capture);
  }
  void TearDown() override {
    log::set_sink(nullptr);
    log::configure(log::Level::info, log::Format::text);
  }
};

TEST_F(LogTest, NeverWritesSecretsInClear) {
  log::configure(log::Level::info, log::Format::text);
  log::info("login", {{"user", "anna"}, {"password", "hunter2"}, {"session_token", "abc"}});
  ASSERT_EQ(g_lines.size(), 1u);
  EXPECT_EQ(g_lines[0].find("hunter2"), std::string::npos);
  EXPECT_EQ(g_lines[0].find("abc"), std::string::npos);
  EXPECT_NE(g_lines[0].find("user=anna"), std::string::npos);
  EXPECT_NE(g_lines[0].find("password=[redacted]"), std::string::npos);
}

TEST_F(LogTest, CarriesTheCorrelationIdAndEscapesJson) {
  log::configure(log::Level::info, log::Format::json);
  {
    log::CorrelationScope scope("req-42");
    log::warn("odd", {{"detail", "a \"quoted\"\nline"}});
  }
  log::warn("after");
  ASSERT_EQ(g_lines.size(), 2u);
  EXPECT_NE(g_lines[0].find(R"("correlation_id":"req-42")"), std::string::npos) << g_lines[0];
  EXPECT_NE(g_lines[0].find(R"("detail":"a \"quoted\"\nline")"), std::string::npos) << g_lines[0];
  EXPECT_EQ(g_lines[1].find("correlation_id"), std::string::npos);
}

TEST_F(LogTest, DropsLinesBelowTheLevel) {
  log::configure(log::Level::warn, log::Format::text);
  log::info("quiet");
  log::error("loud");
  ASSERT_EQ(g_lines.size(), 1u);
  EXPECT_NE(g_lines[0].find("event=loud"), std::string::npos);
}

}  // namespace
}  // namespace mvsp::core

#include <mvsp/core/clock.hpp>

namespace mvsp::core {
namespace {

TimePoint utc(int y, unsigned m, unsigned d, int h, int min) {
  using namespace std::chrono;
  return time_point_cast<milliseconds>(sys_days(year(y) / month(m) / day(d)) + hours(h) +
                                       minutes(min));
}

TEST(BerlinTime, FollowsWinterAndSummerTime) {
  EXPECT_EQ(format_berlin(utc(2026, 11, 24, 6, 13)), "24.11.2026, 07:13");
  EXPECT_EQ(format_berlin(utc(2026, 7, 1, 22, 30)), "02.07.2026, 00:30");
  // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
  EXPECT_EQ(format_berlin(utc(2026, 3, 29, 0, 59)), "29.03.2026, 01:59");
  EXPECT_EQ(format_berlin(utc(2026, 3, 29, 1, 0)), "29.03.2026, 03:00");
  EXPECT_EQ(format_berlin(utc(2026, 10, 25, 0, 59)), "25.10.2026, 02:59");
  EXPECT_EQ(format_berlin(utc(2026, 10, 25, 1, 0)), "25.10.2026, 02:00");
  EXPECT_EQ(format_utc(utc(2026, 11, 24, 6, 13)), "2026-11-24T06:13:00.000Z");
}

TEST(BerlinTime, DaysAreGermanDays) {
  // 23:30 UTC on 1 July is already 2 July in Germany.
  EXPECT_EQ(format_day(berlin_day(utc(2026, 7, 1, 23, 30))), "2026-07-02");
  EXPECT_EQ(format_day(berlin_day(utc(2026, 11, 24, 22, 59))), "2026-11-24");
  EXPECT_EQ(format_day(berlin_day(utc(2026, 11, 24, 23, 0))), "2026-11-25");
  EXPECT_EQ(parse_day("2026-11-28"), berlin_day(utc(2026, 11, 28, 12, 0)));
  EXPECT_FALSE(parse_day("2026-02-30"));
  EXPECT_FALSE(parse_day("28.11.2026"));
  EXPECT_FALSE(parse_day("2026-11-28x"));
}

// The saml fuzz target: fmt's chrono formatting goes through nanoseconds and overflowed
// (undefined behaviour, caught by the sanitizer build) for instants after 2262, and instants
// and days come from outside.
TEST(BerlinTime, FarDatesFormatAsTheyAre) {
  EXPECT_EQ(format_utc(utc(4052, 11, 24, 10, 0)), "4052-11-24T10:00:00.000Z");
  EXPECT_EQ(format_utc_seconds(utc(9999, 12, 31, 23, 59)), "9999-12-31T23:59:00Z");
  EXPECT_EQ(format_berlin(utc(4052, 1, 2, 3, 4)), "02.01.4052, 04:04");
  EXPECT_EQ(format_day(*parse_day("9999-12-31")), "9999-12-31");
  EXPECT_EQ(format_utc(utc(1970, 1, 1, 0, 0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_utc(utc(-1, 12, 31, 23, 0)), "-0001-12-31T23:00:00.000Z");
  EXPECT_EQ(format_utc(utc(1969, 12, 31, 23, 59) + std::chrono::milliseconds(59'500)),
            "1969-12-31T23:59:59.500Z");
}

TEST(Crypto, SealsSignsAndEncodes) {
  crypto::init();
  auto key = crypto::random_bytes(32);
  auto sealed = crypto::seal(key, "Schlüssel");
  EXPECT_EQ(crypto::open(key, sealed), "Schlüssel");
  EXPECT_FALSE(crypto::open(crypto::random_bytes(32), sealed));
  auto seed = crypto::random_bytes(32);
  auto sig = crypto::ed25519_sign(seed, "Nachweis");
  auto pk = crypto::ed25519_public_key(seed);
  EXPECT_TRUE(crypto::ed25519_verify(pk, "Nachweis", sig));
  EXPECT_FALSE(crypto::ed25519_verify(pk, "Nachweis!", sig));
  EXPECT_EQ(crypto::base64("Hallo?"), "SGFsbG8/");
  EXPECT_EQ(crypto::base64_decode("SGFsbG8/"), "Hallo?");
  EXPECT_EQ(crypto::base64_decode("SGFsbG8_", true), "Hallo?");
  EXPECT_FALSE(crypto::base64_decode("SGF$"));
  EXPECT_EQ(crypto::sha512_hex("abc").substr(0, 16), "ddaf35a193617aba");
}

}  // namespace
}  // namespace mvsp::core
