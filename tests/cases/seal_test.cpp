// The seal on decision notices, checked as a recipient would: pdfsig (poppler with NSS)
// must find a valid PAdES signature, qpdf must find the file sound, and the CMS must carry
// exactly the attributes PAdES B-B asks for. The certificates of an authority come from
// the openssl tool, as an admin would make them.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mvsp/cases/seal.hpp>
#include <mvsp/core/pki.hpp>
#include <mvsp/forms/pdf.hpp>
#include <regex>
#include <sstream>

#include "support.hpp"

namespace mvsp::cases {
namespace {

using namespace std::chrono_literals;

// 2026-05-28 20:26:40 UTC
const core::TimePoint kNow{std::chrono::milliseconds(1'780'000'000'000)};

struct Run {
  int status = -1;
  std::string output;  // stdout and stderr
};

Run run(const std::string& command) {
  Run r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  while (auto n = fread(buffer.data(), 1, buffer.size(), pipe)) r.output.append(buffer.data(), n);
  int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string notice() {
  forms::PdfDocument d;
  d.title = "Bescheid über die Hundesteuer";
  d.facts = {"Aktenzeichen MV-35CA3-4HFYVHOK", "Schwerin, 28.05.2026"};
  d.sections = {{"festsetzung",
                 "Festsetzung",
                 {{"hunde", "Hunde", "2", "festsetzung", "hunde"},
                  {"betrag", "Steuer im Jahr", "240,00 €", "festsetzung", "betrag"}}}};
  return forms::render_pdf(d);
}

class Seal : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    auto path = (dir_.path() / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_.path() / name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Runs the openssl tool in the test's directory; the test fails when it does.
  void openssl(const std::string& args) {
    auto r = run("cd " + dir_.path().string() + " && openssl " + args);
    ASSERT_EQ(r.status, 0) << args << "\n" << r.output;
  }
  // pdfsig without certificate validation: a self-signed seal is not trusted, and the
  // signature's validity is what is tested (validation could also look for revocation).
  std::string pdfsig(const std::string& pdf) {
    return run("pdfsig -nocert " + write("check.pdf", pdf)).output;
  }
  // A CA and an EC P-256 seal certificate it issued, as ca.pem/ca.key, seal.pem/seal.key.
  void make_issued_certificate(const std::string& key_usage) {
    openssl(
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 "
        "-subj '/CN=Test-CA Landesverwaltung'");
    openssl(
        "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout seal.key "
        "-out seal.csr -subj '/CN=Amt Crivitz/O=Amt Crivitz'");
    write("ext.cnf", "keyUsage=critical," + key_usage + "\n");
    openssl(
        "x509 -req -in seal.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
        "-extfile ext.cnf -out seal.pem");
  }

  // One city's seal for the whole suite: an RSA 3072 key takes up to a second to make.
  static const SealCertificate& stadt() {
    static const SealCertificate seal = generate_seal_certificate("Stadt Schwerin", kNow);
    return seal;
  }

  test::TempDir dir_;
};

// The CMS in /Contents and the bytes the /ByteRange covers.
struct Signed {
  std::string cms;
  std::string content;
};

Signed last_signature(const std::string& pdf) {
  static const std::regex range(R"(/ByteRange \[0 (\d+) (\d+) (\d+) *\])");
  Signed s;
  for (std::sregex_iterator it(pdf.begin(), pdf.end(), range), end; it != end; ++it) {
    auto a = std::stoul((*it)[1]), b = std::stoul((*it)[2]), c = std::stoul((*it)[3]);
    s.content = pdf.substr(0, a) + pdf.substr(b, c);
    auto hex = pdf.substr(a + 1, b - a - 2);
    s.cms.clear();
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
      s.cms += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return s;
}

TEST_F(Seal, PdfsigFindsAValidPadesSignatureOverTheWholeNotice) {
  auto pdf = notice();
  auto sealed = seal_pdf(pdf, stadt(), {"", "Bescheid", "Schwerin", kNow});

  EXPECT_TRUE(sealed.starts_with(pdf)) << "an incremental update leaves the notice as it was";
  auto report = pdfsig(sealed);
  EXPECT_NE(report.find("Signature Validation: Signature is Valid."), std::string::npos) << report;
  EXPECT_NE(report.find("Signer Certificate Common Name: Stadt Schwerin"), std::string::npos)
      << report;
  EXPECT_NE(report.find("Signature Type: ETSI.CAdES.detached"), std::string::npos) << report;
  EXPECT_NE(report.find("Signing Hash Algorithm: SHA-256"), std::string::npos) << report;
  EXPECT_NE(report.find("Total document signed"), std::string::npos) << report;
  EXPECT_NE(report.find("Signing Time: May 28 2026 20:26:40"), std::string::npos) << report;
}

TEST_F(Seal, OneChangedByteInEitherSignedRangeBreaksIt) {
  auto sealed = seal_pdf(notice(), stadt(), {"", "Bescheid", "Schwerin", kNow});
  ASSERT_NE(pdfsig(sealed).find("Signature is Valid."), std::string::npos);
  // before /Contents: the widget's description; after it: the reason
  for (std::string text : {"Elektronisches Siegel", "/Reason (Bescheid)"}) {
    auto changed = sealed;
    auto at = changed.rfind(text);
    ASSERT_NE(at, std::string::npos) << text;
    changed[at + text.size() - 2] ^= 0x01;
    auto report = pdfsig(changed);
    EXPECT_NE(report.find("Signature Validation:"), std::string::npos) << report;
    EXPECT_EQ(report.find("Signature is Valid."), std::string::npos) << text << "\n" << report;
  }
}

TEST_F(Seal, TheSealedNoticeStaysSoundAndTagged) {
  auto sealed = seal_pdf(notice(), stadt(), {"Stadt Schwerin", "Bescheid", "", kNow});
  auto path = write("sealed.pdf", sealed);

  auto check = run("qpdf --check " + path);
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_NE(check.output.find("No syntax or stream encoding errors found"), std::string::npos);

  std::smatch root;
  auto trailer = run("qpdf --show-object=trailer " + path).output;
  ASSERT_TRUE(std::regex_search(trailer, root, std::regex(R"(/Root (\d+) 0 R)"))) << trailer;
  auto catalog = run("qpdf --show-object=" + root[1].str() + " " + path).output;
  for (const char* kept : {"/Lang (de-DE)", "/MarkInfo << /Marked true >>", "/Metadata ",
                           "/StructTreeRoot ", "/SigFlags 3"}) {
    EXPECT_NE(catalog.find(kept), std::string::npos) << kept << "\n" << catalog;
  }
  auto info = run("pdfinfo " + path).output;
  EXPECT_NE(info.find("Tagged:          yes"), std::string::npos) << info;
  EXPECT_NE(info.find("Form:            AcroForm"), std::string::npos) << info;
  // the widget is a Form element in the structure, and the page's tab order follows it
  auto structure = run("pdfinfo -struct-text " + path).output;
  EXPECT_NE(structure.find("  Form\n    Object "), std::string::npos) << structure;
  EXPECT_NE(sealed.find("/Tabs /S"), std::string::npos);
  EXPECT_NE(sealed.find("/TU (Elektronisches Siegel: Stadt Schwerin)"), std::string::npos);
}

TEST_F(Seal, TheCmsCarriesThePadesAttributesAndNoSigningTime) {
  auto sealed = seal_pdf(notice(), stadt(), {"", "", "", kNow});
  auto s = last_signature(sealed);
  ASSERT_FALSE(s.cms.empty());
  const auto* p = reinterpret_cast<const unsigned char*>(s.cms.data());
  std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(s.cms.size())), CMS_ContentInfo_free);
  ASSERT_TRUE(cms);
  EXPECT_EQ(OBJ_obj2nid(CMS_get0_type(cms.get())), NID_pkcs7_signed);
  EXPECT_EQ(CMS_is_detached(cms.get()), 1);

  auto* signers = CMS_get0_SignerInfos(cms.get());
  ASSERT_EQ(sk_CMS_SignerInfo_num(signers), 1);
  auto* si = sk_CMS_SignerInfo_value(signers, 0);
  EXPECT_GE(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1), 0);
  EXPECT_GE(CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1), 0);
  EXPECT_GE(CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1), 0);
  EXPECT_LT(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1), 0);
  EXPECT_EQ(CMS_signed_get_attr_count(si), 3);
  X509_ALGOR* digest = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, nullptr);
  EXPECT_EQ(OBJ_obj2nid(digest->algorithm), NID_sha256);

  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> certs(
      CMS_get1_certs(cms.get()), [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); });
  ASSERT_EQ(sk_X509_num(certs.get()), 1);

  // OpenSSL agrees with pdfsig: the signature holds over exactly the signed ranges
  std::unique_ptr<BIO, decltype(&BIO_free)> content(
      BIO_new_mem_buf(s.content.data(), static_cast<int>(s.content.size())), BIO_free);
  EXPECT_EQ(CMS_verify(cms.get(), nullptr, nullptr, content.get(), nullptr,
                       CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY),
            1);
  s.content[100] ^= 0x01;
  std::unique_ptr<BIO, decltype(&BIO_free)> changed(
      BIO_new_mem_buf(s.content.data(), static_cast<int>(s.content.size())), BIO_free);
  EXPECT_NE(CMS_verify(cms.get(), nullptr, nullptr, changed.get(), nullptr,
                       CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY),
            1);
}

TEST_F(Seal, ASecondSealLeavesTheFirstValid) {
  auto once = seal_pdf(notice(), stadt(), {"", "Bescheid", "Schwerin", kNow});
  auto other = generate_seal_certificate("Landkreis Ludwigslust-Parchim", kNow);
  auto twice = seal_pdf(once, other, {"", "Zweitschrift", "Parchim", kNow + 1h});

  EXPECT_TRUE(twice.starts_with(once));
  auto report = pdfsig(twice);
  EXPECT_EQ(count(report, "Signature Validation: Signature is Valid."), 2u) << report;
  EXPECT_NE(report.find("Signature Field Name: Siegel\n"), std::string::npos) << report;
  EXPECT_NE(report.find("Signature Field Name: Siegel 2\n"), std::string::npos) << report;
  EXPECT_NE(report.find("Common Name: Landkreis Ludwigslust-Parchim"), std::string::npos);
  EXPECT_EQ(count(report, "Total document signed"), 1u) << report;
  auto check = run("qpdf --check " + write("twice.pdf", twice));
  EXPECT_EQ(check.status, 0) << check.output;
  // both widgets are in the structure
  EXPECT_EQ(count(run("pdfinfo -struct-text " + write("twice.pdf", twice)).output, "  Form\n"), 2u);
}

TEST_F(Seal, SealsAFileWithCrossReferenceStreams) {
  auto plain = write("plain.pdf", notice());
  auto packed = (dir_.path() / "packed.pdf").string();
  ASSERT_EQ(run("qpdf --object-streams=generate " + plain + " " + packed).status, 0);
  auto pdf = read("packed.pdf");
  ASSERT_NE(pdf.find("/Type /XRef"), std::string::npos);

  auto sealed = seal_pdf(pdf, stadt(), {"", "Bescheid", "Schwerin", kNow});
  auto report = pdfsig(sealed);
  EXPECT_NE(report.find("Signature is Valid."), std::string::npos) << report;
  EXPECT_NE(report.find("Total document signed"), std::string::npos) << report;
  auto check = run("qpdf --check " + write("sealed.pdf", sealed));
  EXPECT_EQ(check.status, 0) << check.output;
}

TEST_F(Seal, RefusesWhatIsNotAReadablePdf) {
  EXPECT_THROW((void)seal_pdf("this is no PDF", stadt(), {"", "", "", kNow}), core::Failure);
  auto pdf = notice();
  EXPECT_THROW((void)seal_pdf(pdf.substr(0, pdf.size() / 2), stadt(), {"", "", "", kNow}),
               core::Failure);

  // every offset off by one: qpdf repairs the file, the seal refuses it
  auto damaged = pdf;
  damaged.insert(damaged.find('\n') + 1, "\n");
  EXPECT_THROW((void)seal_pdf(damaged, stadt(), {"", "", "", kNow}), core::Failure);

  auto plain = write("plain.pdf", pdf);
  auto locked = (dir_.path() / "locked.pdf").string();
  ASSERT_EQ(run("qpdf --encrypt '' owner-secret 256 -- " + plain + " " + locked).status, 0);
  EXPECT_THROW((void)seal_pdf(read("locked.pdf"), stadt(), {"", "", "", kNow}), core::Failure);
}

// --- the authority's certificate -------------------------------------------------------

std::string field_of(const core::Result<SealCertificate>& r) {
  return r ? "(accepted)" : r.error().fields.empty() ? "(none)" : r.error().fields[0].field;
}

TEST_F(Seal, AGeneratedCertificateIsASealCertificateForThreeYears) {
  const auto& c = stadt();
  EXPECT_EQ(core::pki::subject_common_name(c.certificate_pem), "Stadt Schwerin");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(c.certificate_pem.data(), static_cast<int>(c.certificate_pem.size())),
      BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  ASSERT_TRUE(cert);
  char organization[128] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_organizationName, organization,
                            sizeof organization);
  EXPECT_STREQ(organization, "Stadt Schwerin");
  ASSERT_NE(X509_get_extension_flags(cert.get()) & EXFLAG_KUSAGE, 0u);
  EXPECT_EQ(X509_get_key_usage(cert.get()), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()),
                           X509_get0_notAfter(cert.get())),
            1);
  EXPECT_GE(days, 3 * 365);
  EXPECT_LE(days, 3 * 365 + 1);

  auto read = read_seal_certificate(c.private_key_pem + c.certificate_pem, "", kNow + 1min);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->certificate_pem, c.certificate_pem);
  EXPECT_TRUE(read->chain_pem.empty());
}

TEST_F(Seal, RefusesACertificateOutsideItsValidity) {
  const auto& c = stadt();
  auto expired = read_seal_certificate(c.private_key_pem + c.certificate_pem, "",
                                       kNow + std::chrono::days(3 * 365 + 2));
  ASSERT_FALSE(expired);
  EXPECT_EQ(field_of(expired), "certificate");
  EXPECT_NE(expired.error().fields[0].message.find("expired"), std::string::npos);
  auto early = read_seal_certificate(c.private_key_pem + c.certificate_pem, "", kNow - 1h);
  EXPECT_EQ(field_of(early), "certificate");
}

TEST_F(Seal, RefusesAKeyThatBelongsToAnotherCertificate) {
  auto other = core::pki::generate_key_pair("Stadt Schwerin");
  auto r = read_seal_certificate(other.private_key_pem + stadt().certificate_pem, "", kNow + 1min);
  EXPECT_EQ(field_of(r), "private_key");
  EXPECT_NE(r.error().fields[0].message.find("does not belong"), std::string::npos);
  // with its own certificate (no key usage: any use) the same key is taken; that pair is
  // dated by the machine's clock
  auto own = read_seal_certificate(other.private_key_pem + other.certificate_pem, "",
                                   core::SystemClock().now());
  EXPECT_TRUE(own) << field_of(own);
}

TEST_F(Seal, RefusesGarbageAndHalves) {
  const auto& c = stadt();
  EXPECT_EQ(field_of(read_seal_certificate("not a certificate", "", kNow)), "certificate");
  EXPECT_EQ(field_of(read_seal_certificate(std::string("\x30\x82\x01\x00\xff\x00", 6), "", kNow)),
            "certificate");
  EXPECT_EQ(field_of(read_seal_certificate(c.certificate_pem, "", kNow)), "private_key");
  EXPECT_EQ(field_of(read_seal_certificate(c.private_key_pem, "", kNow)), "certificate");
}

TEST_F(Seal, ReadsAPkcs12WithItsChainAndSealsWithIt) {
  make_issued_certificate("digitalSignature,nonRepudiation");
  openssl(
      "pkcs12 -export -inkey seal.key -in seal.pem -certfile ca.pem -name Siegel "
      "-passout pass:Geheim-1 -out seal.p12");
  auto p12 = read("seal.p12");
  auto now = core::SystemClock().now();

  auto wrong = read_seal_certificate(p12, "geheim-1", now);
  EXPECT_EQ(field_of(wrong), "password");
  EXPECT_EQ(field_of(read_seal_certificate(p12, "", now)), "password");

  auto seal = read_seal_certificate(p12, "Geheim-1", now);
  ASSERT_TRUE(seal) << seal.error().fields[0].message;
  EXPECT_EQ(core::pki::subject_common_name(seal->certificate_pem), "Amt Crivitz");
  EXPECT_EQ(core::pki::subject_common_name(seal->chain_pem), "Test-CA Landesverwaltung");

  auto sealed = seal_pdf(notice(), *seal, {"", "Bescheid", "Crivitz", now});
  auto report = pdfsig(sealed);
  EXPECT_NE(report.find("Signature is Valid."), std::string::npos) << report;
  EXPECT_NE(report.find("Signer Certificate Common Name: Amt Crivitz"), std::string::npos);
  // the chain travels in the CMS, so a verifier can build the path to the CA
  auto s = last_signature(sealed);
  const auto* p = reinterpret_cast<const unsigned char*>(s.cms.data());
  std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(s.cms.size())), CMS_ContentInfo_free);
  ASSERT_TRUE(cms);
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> certs(
      CMS_get1_certs(cms.get()), [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); });
  EXPECT_EQ(sk_X509_num(certs.get()), 2);
}

TEST_F(Seal, ReadsAnEncryptedPemKeyWithItsPassword) {
  make_issued_certificate("digitalSignature");
  openssl("pkey -in seal.key -aes256 -passout pass:Geheim-1 -out seal-locked.key");
  auto text = read("seal-locked.key") + read("seal.pem") + read("ca.pem");
  auto now = core::SystemClock().now();
  EXPECT_EQ(field_of(read_seal_certificate(text, "falsch", now)), "password");
  EXPECT_EQ(field_of(read_seal_certificate(text, "", now)), "password");
  auto seal = read_seal_certificate(text, "Geheim-1", now);
  ASSERT_TRUE(seal) << seal.error().fields[0].message;
  EXPECT_EQ(core::pki::subject_common_name(seal->certificate_pem), "Amt Crivitz");
  EXPECT_EQ(seal->private_key_pem.find("ENCRYPTED"), std::string::npos);
}

TEST_F(Seal, RefusesWeakKeysAndAKeyUsageForOtherPurposes) {
  struct Case {
    const char* key;
    const char* extension;
    const char* field;
  };
  for (auto c : {Case{"rsa:1024", "digitalSignature", "private_key"},
                 Case{"ec -pkeyopt ec_paramgen_curve:P-521", "digitalSignature", "private_key"},
                 Case{"rsa:2048", "keyCertSign", "certificate"},
                 Case{"rsa:2048", "keyEncipherment", "certificate"},
                 Case{"rsa:2048", "nonRepudiation", "(accepted)"},
                 Case{"ec -pkeyopt ec_paramgen_curve:P-384", "digitalSignature", "(accepted)"}}) {
    openssl(std::string("req -x509 -newkey ") + c.key +
            " -nodes -keyout k.pem -out c.pem -days 30 -subj '/CN=Amt Test' "
            "-addext 'keyUsage=critical," +
            c.extension + "'");
    auto now = core::SystemClock().now();  // the tool's certificate starts at its time
    EXPECT_EQ(field_of(read_seal_certificate(read("k.pem") + read("c.pem"), "", now)), c.field)
        << c.key << " " << c.extension;
  }
}

}  // namespace
}  // namespace mvsp::cases
