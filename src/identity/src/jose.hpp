#pragma once
// JOSE pieces that the OpenID provider (oidc.cpp) and the OpenID upstream (federation.cpp)
// share: base64url, JSON text, public keys as JWK and back, JWS signature checks (RS256,
// ES256). Private to src/identity.
#include <Poco/JSON/Object.h>
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace mvsp::identity::jose {

// "" when `in` is not base64url.
std::string base64url_decode(std::string_view in);
std::string stringify(const Poco::JSON::Object& o);
// The public point of a P-256 key (PEM) as JWK x and y.
std::pair<std::string, std::string> ec_coordinates(const std::string& public_pem);
// "RSA" (2048 bits or more), "P-256" or "" (not a public key we accept) for a PEM public key.
std::string key_kind(const std::string& pem);

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
// A public key from its JWK (RSA, or EC on P-256); null for anything else.
Pkey key_from_jwk(const Poco::JSON::Object& jwk);
// Whether `signature` (JOSE form: r||s for ES256) signs `signed_part` with `key`.
bool verify_signature(EVP_PKEY* key, const std::string& alg, std::string_view signed_part,
                      std::string signature);

}  // namespace mvsp::identity::jose
