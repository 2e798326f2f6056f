#pragma once
// The authority's electronic seal on a decision notice: a PAdES baseline B-B signature
// (ETSI EN 319 142-1) over the whole PDF, made with the authority's certificate. Where the
// key is kept is the caller's decision; it must be stored sealed at rest.

#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <string>
#include <string_view>

namespace mvsp::cases {

// An authority's seal certificate, all PEM: the private key (PKCS#8, unencrypted), the
// certificate that belongs to it, and the intermediate certificates up to (not
// necessarily including) the root, in any order; empty when the certificate stands alone.
struct SealCertificate {
  std::string private_key_pem;
  std::string certificate_pem;
  std::string chain_pem;
};

// Reads and checks the key and certificate an authority's admin uploads: PEM (the key,
// encrypted with `password` or not, and the certificates in one text) or PKCS#12 opened
// with `password`. Refused, with the field named ("certificate", "private_key",
// "password") and the rule broken: what is neither; a key that does not belong to any of
// the certificates; a key other than RSA of at least 2048 bits or EC on P-256 or P-384; a
// certificate not valid at `now`; a key usage that allows neither digitalSignature nor
// nonRepudiation.
core::Result<SealCertificate> read_seal_certificate(std::string_view pem_or_p12,
                                                    std::string_view password, core::TimePoint now);

// A self-signed seal certificate for an authority that has none yet (demo, first start):
// an RSA 3072 key, CN and O the authority's name, key usage digitalSignature and
// nonRepudiation, valid for three years from `now`.
SealCertificate generate_seal_certificate(std::string_view authority_name, core::TimePoint now);

// What the signature dictionary says besides the signature itself.
struct SealInfo {
  std::string signer;    // /Name; the certificate's common name when empty
  std::string reason;    // /Reason, e.g. "Bescheid"; none when empty
  std::string location;  // /Location, e.g. "Schwerin"; none when empty
  core::TimePoint at;    // /M, the time of sealing (PAdES keeps it out of the CMS)
};

// The sealed PDF: `pdf` unchanged, followed by an incremental update with an invisible
// signature field on page 1 (tagged as a Form element when the document is tagged) and
// its signature: /Filter /Adobe.PPKLite, /SubFilter /ETSI.CAdES.detached, /ByteRange over
// everything but /Contents, /Contents a detached CMS SignedData (SHA-256) with the signed
// attributes content-type, message-digest and signing-certificate-v2 and the certificate
// and its chain. Throws core::Failure when the PDF cannot be read (damaged, encrypted) or
// the key cannot sign.
std::string seal_pdf(std::string_view pdf, const SealCertificate& cert, const SealInfo& info);

}  // namespace mvsp::cases
