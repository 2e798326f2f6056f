#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/core/error.hpp>

namespace mvsp::core::crypto {
namespace {

// The SHA-2 digests come from OpenSSL, which uses the processor's SHA instructions
// (libsodium's portable SHA-256 takes four times as long on a 60 KB document). Fetched once.
const EVP_MD* md(const char* name) {
  const EVP_MD* found = EVP_MD_fetch(nullptr, name, nullptr);
  if (!found) throw Failure(std::string("OpenSSL has no ") + name);
  return found;
}
const EVP_MD* sha256_md() {
  static const EVP_MD* m = md("SHA256");
  return m;
}
const EVP_MD* sha512_md() {
  static const EVP_MD* m = md("SHA512");
  return m;
}

std::string digest(const EVP_MD* m, std::string_view data) {
  std::string out(static_cast<std::size_t>(EVP_MD_get_size(m)), '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len, m,
                 nullptr) != 1 ||
      len != out.size()) {
    throw Failure("OpenSSL digest failed");
  }
  return out;
}

}  // namespace

void init() {
  if (sodium_init() < 0) throw Failure("libsodium could not be initialised");
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

double random_unit() {
  std::uint64_t bits = 0;
  randombytes_buf(&bits, sizeof bits);
  // The top 53 bits fill a double's mantissa exactly.
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

std::string random_token(std::size_t n) {
  return base64url(random_bytes(n));
}

std::string sha256(std::string_view data) {
  return digest(sha256_md(), data);
}

std::string sha256_hex(std::string_view data) {
  return to_hex(sha256(data));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  // OpenSSL refuses a null key pointer even for an empty key; an empty view may have one.
  static constexpr char kEmpty[] = "";
  if (!HMAC(sha256_md(), key.empty() ? kEmpty : key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.empty() ? kEmpty : data.data()),
            data.size(), reinterpret_cast<unsigned char*>(out.data()), &len) ||
      len != out.size()) {
    throw Failure("OpenSSL HMAC failed");
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

bool from_hex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.assign(hex.size() / 2, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(),
                     hex.size(), nullptr, &len, &end) != 0 ||
      len != out.size() || end != hex.data() + hex.size()) {
    return false;
  }
  return true;
}

std::string base64url(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string derive_key(std::string_view master, std::string_view context, std::uint64_t id) {
  if (master.size() != crypto_kdf_KEYBYTES || context.size() != crypto_kdf_CONTEXTBYTES) {
    throw Failure("derive_key needs a 32-byte key and an 8-character context");
  }
  std::string sub(32, '\0');
  char ctx[crypto_kdf_CONTEXTBYTES];
  std::copy(context.begin(), context.end(), ctx);
  crypto_kdf_derive_from_key(reinterpret_cast<unsigned char*>(sub.data()), sub.size(), id, ctx,
                             reinterpret_cast<const unsigned char*>(master.data()));
  return sub;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Sha256::Sha256() : state_(EVP_MD_CTX_new()) {
  if (!state_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(state_), sha256_md(), nullptr) != 1) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(state_));
    throw Failure("OpenSSL digest failed");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(state_));
}

void Sha256::update(std::string_view data) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(state_), data.data(), data.size()) != 1) {
    throw Failure("OpenSSL digest failed");
  }
}

std::string Sha256::finish() {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(state_),
                         reinterpret_cast<unsigned char*>(out.data()), &len) != 1) {
    throw Failure("OpenSSL digest failed");
  }
  return out;
}

std::string seal(std::string_view key, std::string_view plain) {
  std::string nonce = random_bytes(crypto_secretbox_NONCEBYTES);
  std::string box(plain.size() + crypto_secretbox_MACBYTES, '\0');
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(box.data()),
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                        reinterpret_cast<const unsigned char*>(nonce.data()),
                        reinterpret_cast<const unsigned char*>(key.data()));
  return to_hex(nonce + box);
}

std::optional<std::string> open(std::string_view key, std::string_view sealed_hex) {
  std::string raw;
  if (!from_hex(sealed_hex, raw) ||
      raw.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return std::nullopt;
  }
  std::string plain(raw.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(
          reinterpret_cast<unsigned char*>(plain.data()),
          reinterpret_cast<const unsigned char*>(raw.data() + crypto_secretbox_NONCEBYTES),
          raw.size() - crypto_secretbox_NONCEBYTES,
          reinterpret_cast<const unsigned char*>(raw.data()),
          reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return std::nullopt;
  }
  return plain;
}

std::string ed25519_public_key(std::string_view seed) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  if (seed.size() != crypto_sign_SEEDBYTES) throw Failure("an Ed25519 seed has 32 bytes");
  crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(seed.data()));
  sodium_memzero(sk, sizeof sk);
  return std::string(reinterpret_cast<const char*>(pk), sizeof pk);
}

std::string ed25519_sign(std::string_view seed, std::string_view data) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  if (seed.size() != crypto_sign_SEEDBYTES) throw Failure("an Ed25519 seed has 32 bytes");
  crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(seed.data()));
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size(), sk);
  sodium_memzero(sk, sizeof sk);
  return sig;
}

bool ed25519_verify(std::string_view public_key, std::string_view data,
                    std::string_view signature) {
  return public_key.size() == crypto_sign_PUBLICKEYBYTES && signature.size() == crypto_sign_BYTES &&
         crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature.data()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(),
             reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

std::string sha512_hex(std::string_view data) {
  return to_hex(digest(sha512_md(), data));
}

std::string base64(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(out.size() - 1);
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, bool url) {
  const int variant =
      url ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL;
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  // Line breaks and spaces (as in XML documents) are skipped.
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), " \t\r\n", &len, nullptr, variant) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace mvsp::core::crypto
