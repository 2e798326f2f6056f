#include "secrets.hpp"

#include <Poco/HMACEngine.h>
#include <Poco/SHA1Engine.h>
#include <fmt/format.h>
#include <sodium.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/core/error.hpp>

namespace mvsp::identity::secrets {
namespace {

constexpr unsigned long long kOps = 2;
constexpr std::size_t kMemory = 19 * 1024 * 1024;
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

}  // namespace

std::string hash_password(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOps, kMemory,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw core::Failure("out of memory while hashing a password");
  }
  return out;
}

bool verify_password(std::string_view hash, std::string_view password) {
  std::string h(hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

void burn_password_time(std::string_view password) {
  static const std::string kDummy = hash_password("mvsp-no-such-account");
  verify_password(kDummy, password);
}

std::string base32_encode(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kBase32[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == ' ') continue;
    auto pos = kBase32.find(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (pos == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(pos);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

std::string totp_code(std::string_view secret, std::int64_t step) {
  Poco::HMACEngine<Poco::SHA1Engine> hmac{std::string(secret)};
  unsigned char counter[8];
  for (int i = 7; i >= 0; --i) {
    counter[i] = static_cast<unsigned char>(step & 0xff);
    step >>= 8;
  }
  hmac.update(counter, sizeof counter);
  const auto& digest = hmac.digest();
  int offset = digest[19] & 0x0f;
  std::uint32_t value = ((digest[offset] & 0x7f) << 24) | (digest[offset + 1] << 16) |
                        (digest[offset + 2] << 8) | digest[offset + 3];
  return fmt::format("{:06d}", value % 1'000'000);
}

std::optional<std::int64_t> totp_match(std::string_view secret, std::string_view code,
                                       std::int64_t now_step) {
  if (code.size() != 6) return std::nullopt;
  for (std::int64_t step : {now_step, now_step - 1, now_step + 1}) {
    if (core::crypto::equal_constant_time(totp_code(secret, step), code)) return step;
  }
  return std::nullopt;
}

}  // namespace mvsp::identity::secrets
