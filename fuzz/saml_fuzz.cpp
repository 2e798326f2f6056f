// SAML responses as BundID sends them to our assertion consumer service
// (identity::saml::read_response: xmlsec signature checks, encrypted assertions, issuer,
// audience, validity, subject confirmation), and the other XML we read: AuthnRequests
// (the eID simulator), InResponseTo without checks, metadata certificates; base64 of the
// HTTP-POST binding.
//
// The identity provider's and our keys are fixed test keys in fuzz/keys (made on first
// use); the seed corpus holds responses signed with them, written by
//   MVSP_FUZZ_WRITE_SEEDS=fuzz/corpus/saml build-fuzz/fuzz/saml_fuzz
// Since a fuzzer cannot sign, the invariant is: every assertion read_response accepts is
// exactly one of those the seeds carry, signed (no signature wrapping, no comment or
// whitespace tricks that change what the signature covered).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "fuzz_support.hpp"
#include "saml.hpp"

namespace {
namespace saml = mvsp::identity::saml;

struct Fixture {
  saml::KeyPair idp;
  saml::KeyPair sp;
  saml::Expectations expect;
  std::vector<saml::Assertion> signed_assertions;
};
Fixture* g_fixture = nullptr;

std::vector<std::string> seed_responses(const Fixture& f) {
  auto spec = [&](int n) {
    saml::ResponseSpec s;
    s.id = "_response-" + std::to_string(n);
    s.assertion_id = "_assertion-" + std::to_string(n);
    s.in_response_to = "_request-" + std::to_string(n);
    s.issuer = f.expect.idp_entity_id;
    s.destination = f.expect.acs_url;
    s.audience = f.expect.sp_entity_id;
    s.name_id = "fuzz-subject-" + std::to_string(n);
    s.now = f.expect.now;
    return s;
  };
  std::vector<std::string> out;
  auto full = spec(1);
  full.level = 3;
  full.attributes = {{saml::oid::kGivenName, "givenName", "Erika", "SUBSTANTIELL"},
                     {saml::oid::kSurname, "surname", "Mustermann", "SUBSTANTIELL"},
                     {saml::oid::kBpk2, "bPK2", "bpk2-fuzz-1", "SUBSTANTIELL"},
                     {saml::oid::kQaaLevel, "Level", "STORK-QAA-Level-3", "SUBSTANTIELL"}};
  out.push_back(saml::response(full, f.idp));
  auto encrypted = spec(2);
  encrypted.level = 4;
  encrypted.attributes = {{saml::oid::kMail, "mail", "erika@example.org", "NORMAL"}};
  encrypted.encrypt_for_certificate_pem = f.sp.certificate_pem;
  out.push_back(saml::response(encrypted, f.idp));
  auto minimal = spec(3);
  minimal.level = 1;
  out.push_back(saml::response(minimal, f.idp));
  auto cancelled = spec(4);
  cancelled.failure = "cancel";
  out.push_back(saml::response(cancelled, f.idp));
  auto error = spec(5);
  error.failure = "error";
  out.push_back(saml::response(error, f.idp));
  return out;
}

bool same(const saml::Assertion& a, const saml::Assertion& b) {
  return a.in_response_to == b.in_response_to && a.name_id == b.name_id && a.level == b.level &&
         a.attributes == b.attributes;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mvsp::fuzz::quiet_logs();
  auto keys = mvsp::fuzz::source_dir() / "keys";
  g_fixture = new Fixture;
  auto& f = *g_fixture;
  f.idp = saml::load_or_create_key_pair(keys, "saml-idp", "mvsp fuzz identity provider");
  f.sp = saml::load_or_create_key_pair(keys, "saml-sp", "mvsp fuzz service provider");
  f.expect = {.idp_entity_id = "https://id.bund.example/idp",
              .idp_certificate_pem = f.idp.certificate_pem,
              .sp_entity_id = "https://mvsp.example/saml",
              .acs_url = "https://mvsp.example/saml/acs",
              .now = *saml::parse_instant("2026-11-24T10:00:00Z"),
              .sp_private_key_pem = f.sp.private_key_pem};
  auto seeds = seed_responses(f);
  for (const auto& xml : seeds) {
    auto r = saml::read_response(xml, f.expect);
    if (r.assertion) f.signed_assertions.push_back(*r.assertion);
  }
  mvsp::fuzz::check(f.signed_assertions.size() == 3, "the signed seeds are accepted");
  if (const char* dir = std::getenv("MVSP_FUZZ_WRITE_SEEDS")) {
    std::filesystem::create_directories(dir);
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      std::ofstream(std::filesystem::path(dir) / ("signed-" + std::to_string(i + 1) + ".xml"),
                    std::ios::binary)
          << seeds[i];
    }
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  auto xml = mvsp::fuzz::text(data, size);
  auto r = saml::read_response(xml, g_fixture->expect);
  if (r.assertion) {
    bool known = false;
    for (const auto& a : g_fixture->signed_assertions) known = known || same(a, *r.assertion);
    check(known, "an accepted assertion is one the identity provider signed", r.assertion->name_id);
    check(r.failure.reason.empty(), "an accepted assertion carries no failure");
  } else {
    check(!r.failure.reason.empty(), "a refused response says why");
  }
  (void)saml::peek_in_response_to(xml);
  if (auto request = saml::parse_authn_request(xml)) {
    check(!request->id.empty() && !request->acs_url.empty() && !request->issuer.empty(),
          "a parsed AuthnRequest has ID, ACS URL and issuer");
    check(!request->minimum_level || (*request->minimum_level >= 1 && *request->minimum_level <= 4),
          "a requested level is 1 to 4");
  }
  (void)saml::certificate_from_metadata(xml, "signing");
  // The HTTP-POST binding's base64, both ways.
  auto decoded = saml::base64_decode(xml);
  check(saml::base64_decode(saml::base64(xml)) == xml, "base64 round-trips");
  check(decoded.size() <= xml.size(), "base64 decoding shrinks");
  if (auto t = saml::parse_instant(xml)) {
    check(saml::parse_instant(saml::format_instant(*t)).has_value(), "an instant formats back");
  }
  return 0;
}
