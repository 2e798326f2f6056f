#pragma once
// Private to identity: SAML 2.0 Web Browser SSO as BundID speaks it. The service provider
// side (signed AuthnRequest with RequestedAuthnContext and the AKDB extension, checking a
// signed Response with xmlsec) and the identity provider side the eID simulator needs.

#include <chrono>
#include <filesystem>
#include <map>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/pki.hpp>
#include <mvsp/core/text.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mvsp::identity::saml {

inline constexpr std::string_view kStorkPrefix = "STORK-QAA-Level-";

// BundID attribute names (OIDs), see docs/security.md for the mapping to the profile.
namespace oid {
inline constexpr const char* kSurname = "urn:oid:2.5.4.4";
inline constexpr const char* kGivenName = "urn:oid:2.5.4.42";
inline constexpr const char* kMail = "urn:oid:0.9.2342.19200300.100.1.3";
inline constexpr const char* kPostalAddress = "urn:oid:2.5.4.16";
inline constexpr const char* kPostalCode = "urn:oid:2.5.4.17";
inline constexpr const char* kLocality = "urn:oid:2.5.4.7";
inline constexpr const char* kCountry = "urn:oid:1.2.40.0.10.2.1.1.225599";
inline constexpr const char* kPersonalTitle = "urn:oid:0.9.2342.19200300.100.1.40";
inline constexpr const char* kGender = "urn:oid:1.3.6.1.4.1.33592.1.3.5";
inline constexpr const char* kBirthdate = "urn:oid:1.2.40.0.10.2.1.1.55";
inline constexpr const char* kPlaceOfBirth = "urn:oid:1.3.6.1.5.5.7.9.2";
inline constexpr const char* kBirthName = "urn:oid:1.2.40.0.10.2.1.1.225566";
inline constexpr const char* kBpk2 = "urn:oid:1.3.6.1.4.1.25484.494450.3";
inline constexpr const char* kQaaLevel = "urn:oid:1.2.40.0.10.2.1.1.261.94";
inline constexpr const char* kProvedBy = "urn:oid:1.3.6.1.4.1.25484.494450.2";
}  // namespace oid

using core::pki::generate_key_pair;
using core::pki::KeyPair;
using core::pki::load_or_create_key_pair;
// The PEM certificate for `use` ("signing", "encryption") in SAML metadata, or "".
std::string certificate_from_metadata(std::string_view metadata, std::string_view use);
// The certificate's DER in base64, as metadata and KeyInfo carry it.
std::string certificate_base64(const std::string& certificate_pem);

struct RequestedAttribute {
  std::string name;  // OID
  bool required = false;
};

struct AuthnRequestSpec {
  std::string id;
  std::string issuer;       // our entity id
  std::string destination;  // the IdP's SSO URL
  std::string acs_url;      // where the Response comes back
  int minimum_level = 1;    // STORK-QAA-Level-n, asked with Comparison="minimum"
  core::TimePoint issue_instant;
  std::vector<RequestedAttribute> attributes;
};
// The AuthnRequest, signed (enveloped, RSA-SHA256) with `key`.
std::string authn_request(const AuthnRequestSpec& spec, const KeyPair& key);

struct ParsedAuthnRequest {
  std::string id;
  std::string issuer;
  std::string acs_url;
  std::optional<int> minimum_level;
  std::vector<RequestedAttribute> attributes;
};
core::Result<ParsedAuthnRequest> parse_authn_request(std::string_view xml);
// Whether the document's root element carries a valid signature by `certificate_pem`.
bool root_signed_by(std::string_view xml, const std::string& certificate_pem);

struct Expectations {
  std::string idp_entity_id;
  std::string idp_certificate_pem;
  std::string sp_entity_id;
  std::string acs_url;
  core::TimePoint now;
  std::chrono::seconds skew{120};
  std::string sp_private_key_pem;  // decrypts an EncryptedAssertion
};

struct Assertion {
  std::string in_response_to;
  std::string name_id;
  int level = 1;                                  // the STORK-QAA level reached
  std::map<std::string, std::string> attributes;  // by OID
};

// What a Response said, checked: a signature by the IdP over the assertion (or over the
// whole response), issuer, destination, audience, validity and subject confirmation.
// A response with an error status fails with `cancelled` set when the person cancelled.
struct ResponseFailure {
  std::string in_response_to;
  bool cancelled = false;
  std::string reason;
};
struct ResponseResult {
  std::optional<Assertion> assertion;
  ResponseFailure failure;
};
ResponseResult read_response(std::string_view xml, const Expectations& expect);
// The InResponseTo of a response, read without any check (to find the request).
std::string peek_in_response_to(std::string_view xml);

struct Attribute {
  std::string name;  // OID
  std::string friendly_name;
  std::string value;
  std::string trust_level;  // NORMAL, SUBSTANTIELL, HOCH, UNTERGEORDNET
};

struct ResponseSpec {
  std::string id;
  std::string assertion_id;
  std::string in_response_to;
  std::string issuer;       // the IdP's entity id
  std::string destination;  // the ACS URL
  std::string audience;     // the SP's entity id
  std::string name_id;
  int level = 4;
  core::TimePoint now;
  std::vector<Attribute> attributes;
  // Empty: success. "cancel" or "error" give the BundID status codes without an assertion.
  std::string failure;
  // When set, the signed assertion is encrypted for this certificate (as BundID does).
  std::string encrypt_for_certificate_pem;
};
// A Response with a signed assertion inside a signed response (what BundID sends).
std::string response(const ResponseSpec& spec, const KeyPair& key);

std::string sp_metadata(const std::string& entity_id, const std::string& acs_url,
                        const std::string& certificate_pem);
std::string idp_metadata(const std::string& entity_id, const std::string& sso_url,
                         const std::string& certificate_pem);

// Text for XML (and HTML) content and double- or single-quoted attributes.
inline std::string escape(std::string_view s) {
  return core::escape_markup(s);
}

// Base64 as the HTTP-POST binding carries messages (no line breaks); "" for bad input.
std::string base64(std::string_view bytes);
std::string base64_decode(std::string_view text);

// xs:dateTime in UTC ("2026-11-24T10:00:00Z") and back.
std::string format_instant(core::TimePoint t);
std::optional<core::TimePoint> parse_instant(std::string_view text);

}  // namespace mvsp::identity::saml
