#include "secrets.hpp"

#include <gtest/gtest.h>

#include <mvsp/core/crypto.hpp>

namespace mvsp::identity::secrets {
namespace {

TEST(Totp, MatchesTheRfc6238TestVectors) {
  // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", 8 digits there; the last
  // six digits are the 6-digit codes.
  const std::string secret = "12345678901234567890";
  EXPECT_EQ(totp_code(secret, 59 / 30), "287082");
  EXPECT_EQ(totp_code(secret, 1111111109 / 30), "081804");
  EXPECT_EQ(totp_code(secret, 1234567890 / 30), "005924");
  EXPECT_EQ(totp_code(secret, 2000000000 / 30), "279037");
}

TEST(Totp, AcceptsOneStepOfClockSkewEitherWay) {
  const std::string secret = "12345678901234567890";
  EXPECT_EQ(totp_match(secret, totp_code(secret, 100), 100), 100);
  EXPECT_EQ(totp_match(secret, totp_code(secret, 99), 100), 99);
  EXPECT_EQ(totp_match(secret, totp_code(secret, 101), 100), 101);
  EXPECT_FALSE(totp_match(secret, totp_code(secret, 98), 100));
  EXPECT_FALSE(totp_match(secret, "12345", 100));
}

TEST(Base32, RoundTripsAndMatchesRfc4648) {
  EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(base32_decode("MZXW6YTBOI"), "foobar");
  EXPECT_EQ(base32_decode("mzxw 6ytb oi"), "foobar");
  EXPECT_FALSE(base32_decode("MZXW1"));
}

TEST(Passwords, HashWithArgon2idAndVerify) {
  core::crypto::init();
  auto h = hash_password("correct horse battery staple");
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u) << h;
  EXPECT_NE(h.find("m=19456,t=2,p=1"), std::string::npos) << h;
  EXPECT_TRUE(verify_password(h, "correct horse battery staple"));
  EXPECT_FALSE(verify_password(h, "correct horse battery stapler"));
}

TEST(Seal, OpensOnlyWithTheKey) {
  core::crypto::init();
  std::string key(32, 'k');
  auto sealed = seal(key, "secret");
  EXPECT_EQ(open(key, sealed), "secret");
  EXPECT_FALSE(open(std::string(32, 'x'), sealed));
  auto tampered = sealed;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(open(key, tampered));
}

}  // namespace
}  // namespace mvsp::identity::secrets
