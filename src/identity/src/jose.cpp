#include "jose.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/core/error.hpp>
#include <sstream>
#include <vector>

namespace mvsp::identity::jose {
namespace crypto = core::crypto;

// Base64 is decoded with libsodium (core::crypto), not with Poco::Base64Decoder: that one
// throws from inside its stream on a bad character, and reading it into a std::string
// leaked the partly decoded buffer on every malformed token or Basic header
// (fuzz/oidc_token_fuzz, LeakSanitizer). "" when `in` is not base64url.
std::string base64url_decode(std::string_view in) {
  return crypto::base64_decode(in, true).value_or("");
}

std::string stringify(const Poco::JSON::Object& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

// The public point of a P-256 key as JWK x and y.
std::pair<std::string, std::string> ec_coordinates(const std::string& public_pem) {
  BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!pkey) throw core::Failure("cannot read an EC public key");
  unsigned char point[133];
  std::size_t len = 0;
  EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed");
  int ok =
      EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
  EVP_PKEY_free(pkey);
  if (!ok || len != 65 || point[0] != 0x04) throw core::Failure("unexpected EC public key format");
  return {crypto::base64url({reinterpret_cast<char*>(point + 1), 32}),
          crypto::base64url({reinterpret_cast<char*>(point + 33), 32})};
}

// "RSA", "P-256" or "" (not a public key we accept) for a PEM public key.
std::string key_kind(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!pkey) return {};
  std::string kind;
  if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA && EVP_PKEY_get_bits(pkey) >= 2048) {
    kind = "RSA";
  } else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
    char group[64] = {0};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) &&
        std::string_view(group) == "prime256v1") {
      kind = "P-256";
    }
  }
  EVP_PKEY_free(pkey);
  return kind;
}

// A public key from its JWK (RSA, or EC on P-256); null for anything else.
Pkey key_from_jwk(const Poco::JSON::Object& jwk) {
  Pkey none(nullptr, EVP_PKEY_free);
  auto kty = jwk.optValue<std::string>("kty", "");
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  std::vector<BIGNUM*> numbers;
  auto bn = [&](const std::string& b64) {
    auto bytes = base64url_decode(b64);
    auto* n = BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                        static_cast<int>(bytes.size()), nullptr);
    numbers.push_back(n);
    return n;
  };
  std::string point;
  const char* type = nullptr;
  if (kty == "RSA") {
    type = "RSA";
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N,
                           bn(jwk.optValue<std::string>("n", "")));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E,
                           bn(jwk.optValue<std::string>("e", "")));
  } else if (kty == "EC" && jwk.optValue<std::string>("crv", "") == "P-256") {
    type = "EC";
    point = "\x04" + base64url_decode(jwk.optValue<std::string>("x", "")) +
            base64url_decode(jwk.optValue<std::string>("y", ""));
    if (point.size() != 65) return none;
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
  } else {
    return none;
  }
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld.get());
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  if (ctx && EVP_PKEY_fromdata_init(ctx) > 0) {
    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  for (auto* n : numbers) BN_free(n);
  return Pkey(pkey, EVP_PKEY_free);
}

// A JWS signature (RS256 or ES256) over `signed_part`.
bool verify_signature(EVP_PKEY* key, const std::string& alg, std::string_view signed_part,
                      std::string signature) {
  if (alg == "ES256") {
    // JOSE carries r||s; OpenSSL wants DER.
    if (signature.size() != 64) return false;
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(
        sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr),
        BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr));
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (len <= 0) return false;
    signature.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
  }
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok =
      EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

}  // namespace mvsp::identity::jose
