#pragma once
// RSA keys with self-signed certificates, and RSA signatures (PKCS#1 v1.5), on OpenSSL:
// for SAML (identity), for the signed envelopes of federal mailboxes (delivery) and for
// the seal on decision notices (cases).

#include <chrono>
#include <filesystem>
#include <mvsp/core/clock.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace mvsp::core::pki {

// An RSA key with its self-signed certificate, both PEM.
struct KeyPair {
  std::string private_key_pem;
  std::string certificate_pem;
};
KeyPair generate_key_pair(std::string_view common_name);

// What a self-signed certificate says beyond its common name.
struct CertificateOptions {
  std::string organization;  // the subject's O; none when empty
  TimePoint valid_from;      // notBefore
  std::chrono::days valid_for{3650};
  // keyUsage digitalSignature and nonRepudiation (critical) and basicConstraints CA:FALSE:
  // a certificate for signatures on documents, not for issuing certificates.
  bool document_signing = false;
};
KeyPair generate_key_pair(std::string_view common_name, const CertificateOptions& options);
// The pair in `dir`/<stem>.key and <stem>.crt, created (key 0600) on first use.
KeyPair load_or_create_key_pair(const std::filesystem::path& dir, std::string_view stem,
                                std::string_view common_name);

enum class Digest { sha256, sha512 };

// The raw RSA PKCS#1 v1.5 signature over `data`. Throws core::Failure on a bad key.
std::string rsa_sign(const std::string& private_key_pem, std::string_view data, Digest digest);
// True when `signature` is a valid signature over `data` by the key in the certificate.
bool rsa_verify(const std::string& certificate_pem, std::string_view data,
                std::string_view signature, Digest digest);
// The CN of the certificate's subject, or nothing when the PEM is not a certificate.
std::optional<std::string> subject_common_name(const std::string& certificate_pem);
// The end of the certificate's validity (notAfter), or nothing when the PEM is not one.
std::optional<TimePoint> certificate_not_after(const std::string& certificate_pem);

}  // namespace mvsp::core::pki
