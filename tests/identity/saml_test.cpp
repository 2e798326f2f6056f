#include "saml.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "support.hpp"

namespace mvsp::identity::saml {
namespace {

using namespace std::chrono_literals;

const KeyPair& idp_key() {
  static const KeyPair k = generate_key_pair("Test IdP");
  return k;
}
const KeyPair& other_key() {
  static const KeyPair k = generate_key_pair("Someone else");
  return k;
}

std::string reference(const std::string& name) {
  std::ifstream in(test::source_dir() + "/tests/identity/data/bundid/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const core::TimePoint kNow = core::from_millis(1'795'000'000'000);

ResponseSpec good_spec() {
  return {.id = "_resp1",
          .assertion_id = "_assert1",
          .in_response_to = "_req1",
          .issuer = "https://idp.example",
          .destination = "https://sp.example/saml/acs",
          .audience = "https://sp.example/saml/metadata",
          .name_id = "bpk2-value",
          .level = 4,
          .now = kNow,
          .attributes = {{oid::kGivenName, "givenName", "Erika", "HOCH"},
                         {oid::kSurname, "surname", "Mustermann", "HOCH"},
                         {oid::kBpk2, "bPK2", "bpk2-value", "NORMAL"},
                         {oid::kQaaLevel, "EID-CITIZEN-QAA-LEVEL", "STORK-QAA-Level-4", "NORMAL"}}};
}

Expectations expectations() {
  return {.idp_entity_id = "https://idp.example",
          .idp_certificate_pem = idp_key().certificate_pem,
          .sp_entity_id = "https://sp.example/saml/metadata",
          .acs_url = "https://sp.example/saml/acs",
          .now = kNow + 10s};
}

TEST(Saml, AuthnRequestAsksForTheLevelWithTheAkdbExtensionAndIsSigned) {
  auto sp = generate_key_pair("SP");
  auto xml = authn_request({.id = "_abc",
                            .issuer = "https://sp.example/saml/metadata",
                            .destination = "https://idp.example/sso",
                            .acs_url = "https://sp.example/saml/acs",
                            .minimum_level = 4,
                            .issue_instant = kNow,
                            .attributes = {{oid::kBpk2, true}, {oid::kMail, false}}},
                           sp);
  EXPECT_NE(xml.find(R"(Comparison="minimum")"), std::string::npos);
  EXPECT_NE(xml.find("STORK-QAA-Level-4</saml:AuthnContextClassRef>"), std::string::npos);
  EXPECT_NE(xml.find(R"(xmlns:akdb="https://www.akdb.de/request/2018/09")"), std::string::npos);
  EXPECT_TRUE(root_signed_by(xml, sp.certificate_pem));
  EXPECT_FALSE(root_signed_by(xml, other_key().certificate_pem));
  auto parsed = parse_authn_request(xml);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->id, "_abc");
  EXPECT_EQ(parsed->acs_url, "https://sp.example/saml/acs");
  EXPECT_EQ(parsed->minimum_level, 4);
  ASSERT_EQ(parsed->attributes.size(), 2u);
  EXPECT_TRUE(parsed->attributes[0].required);
  // Changing the asked level breaks the signature.
  auto tampered = std::regex_replace(xml, std::regex("Level-4"), "Level-1");
  EXPECT_FALSE(root_signed_by(tampered, sp.certificate_pem));
}

TEST(Saml, ReadsTheBundIdReferenceRequests) {
  auto level3 = parse_authn_request(reference("saml-request-level3.decoded.xml"));
  ASSERT_TRUE(level3) << level3.error().message;
  EXPECT_EQ(level3->minimum_level, 3);
  EXPECT_EQ(level3->id, "ID_539945e3-aa81-421c-a802-6c608d247476");
  EXPECT_EQ(level3->attributes.size(), 13u);
  auto plain = parse_authn_request(reference("samlrequest.decoded.xml"));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->minimum_level);
  std::vector<std::string> required;
  for (const auto& a : plain->attributes) {
    if (a.required) required.push_back(a.name);
  }
  EXPECT_EQ(required.size(), 2u);
  EXPECT_NE(std::find(required.begin(), required.end(), oid::kBpk2), required.end());
  EXPECT_NE(std::find(required.begin(), required.end(), oid::kMail), required.end());
  EXPECT_FALSE(parse_authn_request("<x/>"));
}

TEST(Saml, ReadsASignedResponse) {
  auto xml = response(good_spec(), idp_key());
  EXPECT_EQ(peek_in_response_to(xml), "_req1");
  auto r = read_response(xml, expectations());
  ASSERT_TRUE(r.assertion) << r.failure.reason;
  EXPECT_EQ(r.assertion->in_response_to, "_req1");
  EXPECT_EQ(r.assertion->name_id, "bpk2-value");
  EXPECT_EQ(r.assertion->level, 4);
  EXPECT_EQ(r.assertion->attributes.at(oid::kGivenName), "Erika");
}

TEST(Saml, RefusesAResponseThatWasChanged) {
  auto xml = response(good_spec(), idp_key());
  auto changed = std::regex_replace(xml, std::regex(">Erika<"), ">Mallory<");
  ASSERT_NE(changed, xml);
  auto r = read_response(changed, expectations());
  EXPECT_FALSE(r.assertion);
  EXPECT_NE(r.failure.reason.find("signature"), std::string::npos) << r.failure.reason;
}

TEST(Saml, RefusesASignatureByAnotherKey) {
  auto r = read_response(response(good_spec(), other_key()), expectations());
  EXPECT_FALSE(r.assertion);
}

TEST(Saml, RefusesAnUnsignedResponse) {
  auto xml = response(good_spec(), idp_key());
  auto unsigned_xml = std::regex_replace(xml, std::regex("<Signature [\\s\\S]*?</Signature>"), "");
  ASSERT_EQ(unsigned_xml.find("xmldsig"), std::string::npos);
  EXPECT_FALSE(read_response(unsigned_xml, expectations()).assertion);
}

TEST(Saml, RefusesASecondAssertionSmuggledIn) {
  // Signature wrapping: the signed assertion stays, a forged one is placed beside it.
  auto xml = response(good_spec(), idp_key());
  auto forged = R"(<saml:Assertion ID="_evil" Version="2.0" IssueInstant="2026-11-24T00:00:00Z">)"
                R"(<saml:Issuer>https://idp.example</saml:Issuer></saml:Assertion>)";
  auto pos = xml.find("<saml:Assertion");
  auto wrapped = xml.substr(0, pos) + forged + xml.substr(pos);
  EXPECT_FALSE(read_response(wrapped, expectations()).assertion);
}

TEST(Saml, RefusesWrongAudienceDestinationTimeAndRequest) {
  auto expect = expectations();
  auto check = [&](ResponseSpec spec, Expectations e, const char* what) {
    auto r = read_response(response(spec, idp_key()), e);
    EXPECT_FALSE(r.assertion) << what;
  };
  auto s = good_spec();
  s.audience = "https://other.example";
  check(s, expect, "audience");
  s = good_spec();
  s.destination = "https://other.example/acs";
  check(s, expect, "destination");
  s = good_spec();
  s.issuer = "https://fake-idp.example";
  check(s, expect, "issuer");
  auto late = expect;
  late.now = kNow + 30min;
  check(good_spec(), late, "expired");
  auto early = expect;
  early.now = kNow - 30min;
  check(good_spec(), early, "not yet valid");
}

TEST(Saml, DecryptsAnEncryptedAssertionWithOurKey) {
  static const KeyPair sp = generate_key_pair("SP");
  auto spec = good_spec();
  spec.encrypt_for_certificate_pem = sp.certificate_pem;
  auto xml = response(spec, idp_key());
  EXPECT_NE(xml.find("EncryptedAssertion"), std::string::npos);
  EXPECT_EQ(xml.find("Erika"), std::string::npos) << "the attributes are not readable";
  auto expect = expectations();
  expect.sp_private_key_pem = sp.private_key_pem;
  auto r = read_response(xml, expect);
  ASSERT_TRUE(r.assertion) << r.failure.reason;
  EXPECT_EQ(r.assertion->attributes.at(oid::kGivenName), "Erika");
  EXPECT_EQ(r.assertion->level, 4);
  // Without our key, or with another one, nothing is read.
  expect.sp_private_key_pem.clear();
  EXPECT_FALSE(read_response(xml, expect).assertion);
  expect.sp_private_key_pem = other_key().private_key_pem;
  EXPECT_FALSE(read_response(xml, expect).assertion);
  // RSA 1.5 key transport is refused before anything is decrypted.
  expect.sp_private_key_pem = sp.private_key_pem;
  auto old_transport =
      std::regex_replace(xml, std::regex("xmlenc#rsa-oaep-mgf1p"), "xmlenc#rsa-1_5");
  ASSERT_NE(old_transport, xml);
  auto refused = read_response(old_transport, expect);
  EXPECT_FALSE(refused.assertion);
  EXPECT_NE(refused.failure.reason.find("rsa-1_5"), std::string::npos) << refused.failure.reason;
}

TEST(Saml, TellsACancelFromAnError) {
  auto s = good_spec();
  s.failure = "cancel";
  auto r = read_response(response(s, idp_key()), expectations());
  EXPECT_FALSE(r.assertion);
  EXPECT_TRUE(r.failure.cancelled);
  EXPECT_EQ(r.failure.in_response_to, "_req1");
  s.failure = "error";
  r = read_response(response(s, idp_key()), expectations());
  EXPECT_FALSE(r.assertion);
  EXPECT_FALSE(r.failure.cancelled);
}

TEST(Saml, RefusesDocumentTypeDeclarations) {
  auto xml = response(good_spec(), idp_key());
  auto pos = xml.find("<samlp:Response");
  auto with_dtd = xml.substr(0, pos) + "<!DOCTYPE x [<!ENTITY e \"v\">]>" + xml.substr(pos);
  EXPECT_FALSE(read_response(with_dtd, expectations()).assertion);
  EXPECT_EQ(peek_in_response_to(with_dtd), "");
}

TEST(Saml, ReadsInstants) {
  auto t = parse_instant("2026-11-24T10:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_instant(*t), "2026-11-24T10:00:00Z");
  EXPECT_EQ(parse_instant("2026-11-24T11:00:00.123+01:00"), t.value() + 123ms);
  EXPECT_FALSE(parse_instant("2026-02-30T10:00:00Z"));
  EXPECT_FALSE(parse_instant("yesterday"));
  // Found by the saml fuzz target: formatting went through nanoseconds and overflowed.
  EXPECT_EQ(format_instant(*parse_instant("4052-11-24T10:00:00Z")), "4052-11-24T10:00:00Z");
  EXPECT_FALSE(parse_instant("0000-06-01T00:30:00Z")) << "xs:dateTime has no year 0";
  EXPECT_FALSE(parse_instant("0001-01-01T00:30:00+01:00")) << "year 0 in UTC";
  EXPECT_FALSE(parse_instant("9999-12-31T23:30:00-01:00")) << "year 10000 in UTC";
}

TEST(Saml, MetadataCarriesTheCertificate) {
  auto md = sp_metadata("https://sp.example/saml/metadata", "https://sp.example/saml/acs",
                        idp_key().certificate_pem);
  EXPECT_NE(md.find(certificate_base64(idp_key().certificate_pem)), std::string::npos);
  EXPECT_NE(md.find(R"(AuthnRequestsSigned="true")"), std::string::npos);
  auto cert = certificate_from_metadata(md, "encryption");
  EXPECT_EQ(certificate_base64(cert), certificate_base64(idp_key().certificate_pem));
  EXPECT_EQ(certificate_from_metadata("<x/>", "encryption"), "");
}

}  // namespace
}  // namespace mvsp::identity::saml
