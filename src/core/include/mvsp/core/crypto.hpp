#pragma once
// Small cryptographic helpers on libsodium.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mvsp::core::crypto {

// Must be called once before any other function here (idempotent).
void init();

std::string random_bytes(std::size_t n);
// A uniformly distributed number in [0, 1) (jitter of retry delays).
double random_unit();
// URL-safe base64 without padding of n random bytes (tokens for cookies and links).
std::string random_token(std::size_t n = 32);

std::string sha256(std::string_view data);                             // raw 32 bytes
std::string sha256_hex(std::string_view data);                         // lower-case hex
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes

std::string to_hex(std::string_view bytes);
// Returns false when `hex` is not an even-length hex string.
bool from_hex(std::string_view hex, std::string& out);
std::string base64url(std::string_view bytes);

// A 32-byte key for one purpose, derived from the 32-byte master key: `context` names the
// purpose in exactly 8 characters ("mvspblob"), `id` numbers keys within it.
std::string derive_key(std::string_view master, std::string_view context, std::uint64_t id);

// Authenticated encryption of small secrets with a 32-byte key (hex text out).
std::string seal(std::string_view key, std::string_view plain);
std::optional<std::string> open(std::string_view key, std::string_view sealed_hex);

// Ed25519 signatures from a 32-byte seed (evidence that third parties verify).
std::string ed25519_public_key(std::string_view seed);                   // raw 32 bytes
std::string ed25519_sign(std::string_view seed, std::string_view data);  // raw 64 bytes
bool ed25519_verify(std::string_view public_key, std::string_view data, std::string_view signature);

std::string sha512_hex(std::string_view data);  // lower-case hex
// Standard base64 with padding; decoding takes it (spaces and line breaks skipped) or,
// with `url`, the URL-safe form without padding.
std::string base64(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text, bool url = false);

// Compares in time independent of where the inputs differ.
bool equal_constant_time(std::string_view a, std::string_view b);

// Incremental SHA-256 for streams.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string finish();  // raw 32 bytes

 private:
  void* state_;  // OpenSSL's EVP_MD_CTX, kept out of this header
};

}  // namespace mvsp::core::crypto
