// The seal on a decision notice: reading the authority's certificate (OpenSSL), the CMS
// signature (OpenSSL), and the signature field added to the PDF.
//
// The field goes in as an incremental update (ISO 32000-1, 7.5.6), not as a rewrite of the
// file: the notice's bytes stay exactly as they were (what was rendered is what is
// sealed), a later signature is one more update that leaves this one valid, and viewers
// show each signature's revision. qpdf reads the file through its C API (as in forms: its
// C++ headers do not parse with clang in C++23); the update is written here.
#include <mvsp/cases/seal.hpp>
// (own header first)
#include <fmt/format.h>
#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <qpdf/qpdf-c.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mvsp/core/pki.hpp>
#include <set>
#include <vector>

namespace mvsp::cases {
namespace {

using core::Error;
using core::fail;
using core::Failure;

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;
using Cms = std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)>;
using P12 = std::unique_ptr<PKCS12, decltype(&PKCS12_free)>;

Bio memory(std::string_view bytes) {
  return Bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())), BIO_free);
}

template <typename Write>
std::string pem(Write write) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || write(bio.get()) != 1) throw Failure("seal: cannot write PEM");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string certificate_pem(X509* cert) {
  return pem([&](BIO* b) { return PEM_write_bio_X509(b, cert); });
}

// Every certificate in a PEM text, in order (other blocks are skipped).
std::vector<Cert> read_certificates(std::string_view text) {
  std::vector<Cert> out;
  auto bio = memory(text);
  while (bio) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) break;
    out.emplace_back(cert, X509_free);
  }
  ERR_clear_error();  // the end of the text reads as an error
  return out;
}

int give_password(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* password = static_cast<const std::string*>(user);
  if (password->empty() || static_cast<int>(password->size()) > size) return 0;
  std::memcpy(buf, password->data(), password->size());
  return static_cast<int>(password->size());
}

// The rule on the key's algorithm and strength, or an empty string when it holds.
std::string key_rule(EVP_PKEY* key) {
  int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA) {
    return EVP_PKEY_get_bits(key) >= 2048 ? "" : "must be an RSA key of at least 2048 bits";
  }
  if (type == EVP_PKEY_EC) {
    char group[64] = {0};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) == 1) {
      std::string_view name(group, len);
      if (name == "prime256v1" || name == "secp384r1") return "";
    }
    return "must be an EC key on P-256 or P-384";
  }
  return "must be RSA (at least 2048 bits) or EC (P-256 or P-384)";
}

std::string day_of(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

struct Material {
  Key key{nullptr, EVP_PKEY_free};
  std::vector<Cert> certificates;
};

core::Result<Material> read_pkcs12(std::string_view der, const std::string& password) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  P12 p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())), PKCS12_free);
  if (!p12) {
    ERR_clear_error();
    return fail(Error::invalid("certificate", "is neither PEM nor PKCS#12"));
  }
  auto mac_opens = [&](const char* pass) {
    return PKCS12_verify_mac(p12.get(), pass, pass ? static_cast<int>(std::strlen(pass)) : 0) == 1;
  };
  // an empty password may have been taken as "none" or as "" by the tool that wrote the file
  if (PKCS12_mac_present(p12.get()) == 1 && !mac_opens(password.c_str()) &&
      !(password.empty() && mac_opens(nullptr))) {
    ERR_clear_error();
    return fail(Error::invalid("password", "does not open the PKCS#12 file"));
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* others = nullptr;
  if (PKCS12_parse(p12.get(), password.c_str(), &key, &cert, &others) != 1) {
    ERR_clear_error();
    // the password was right (the MAC says so): what remains is an encryption OpenSSL 3
    // no longer reads by default, RC2 or single DES from older tools
    return fail(
        Error::invalid("certificate", "cannot be read from the PKCS#12 file (export it with AES)"));
  }
  Material m;
  m.key.reset(key);
  if (cert) m.certificates.emplace_back(cert, X509_free);
  while (others && sk_X509_num(others) > 0)
    m.certificates.emplace_back(sk_X509_shift(others), X509_free);
  sk_X509_free(others);
  if (!m.key) return fail(Error::invalid("private_key", "is missing from the PKCS#12 file"));
  return m;
}

core::Result<Material> read_pem(std::string_view text, std::string password) {
  Material m;
  m.certificates = read_certificates(text);
  auto bio = memory(text);
  m.key.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, give_password, &password)
                  : nullptr);
  ERR_clear_error();
  if (!m.key) {
    if (text.find("ENCRYPTED") != std::string_view::npos) {
      return fail(Error::invalid("password", password.empty()
                                                 ? "is needed for the encrypted private key"
                                                 : "does not open the private key"));
    }
    if (text.find("PRIVATE KEY-----") != std::string_view::npos) {
      return fail(Error::invalid("private_key", "cannot be read"));
    }
    if (m.certificates.empty()) {
      return fail(Error::invalid("certificate", "is neither PEM nor PKCS#12"));
    }
    return fail(Error::invalid("private_key", "is missing"));
  }
  if (m.certificates.empty()) return fail(Error::invalid("certificate", "is missing"));
  return m;
}

}  // namespace

core::Result<SealCertificate> read_seal_certificate(std::string_view pem_or_p12,
                                                    std::string_view password,
                                                    core::TimePoint now) {
  std::string pass(password);
  auto material = pem_or_p12.find("-----BEGIN ") != std::string_view::npos
                      ? read_pem(pem_or_p12, pass)
                      : read_pkcs12(pem_or_p12, pass);
  if (!material) return fail(std::move(material.error()));
  auto& key = material->key;
  if (auto rule = key_rule(key.get()); !rule.empty()) {
    return fail(Error::invalid("private_key", rule));
  }
  auto own =
      std::find_if(material->certificates.begin(), material->certificates.end(),
                   [&](const Cert& c) { return X509_check_private_key(c.get(), key.get()) == 1; });
  ERR_clear_error();
  if (own == material->certificates.end()) {
    return fail(Error::invalid("private_key", "does not belong to the certificate"));
  }
  X509* cert = own->get();
  std::time_t at = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  if (X509_cmp_time(X509_get0_notBefore(cert), &at) != -1) {
    return fail(Error::invalid(
        "certificate", "is not valid yet (from " + day_of(X509_get0_notBefore(cert)) + ")"));
  }
  if (X509_cmp_time(X509_get0_notAfter(cert), &at) != 1) {
    return fail(
        Error::invalid("certificate", "has expired (on " + day_of(X509_get0_notAfter(cert)) + ")"));
  }
  if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(cert) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
    return fail(Error::invalid("certificate",
                               "must allow digitalSignature or nonRepudiation in its key usage"));
  }
  SealCertificate out;
  out.private_key_pem = pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  out.certificate_pem = certificate_pem(cert);
  for (const auto& c : material->certificates) {
    if (c.get() != cert) out.chain_pem += certificate_pem(c.get());
  }
  return out;
}

SealCertificate generate_seal_certificate(std::string_view authority_name, core::TimePoint now) {
  // three years and a day, so that a leap day does not end it early
  auto pair =
      core::pki::generate_key_pair(authority_name, {.organization = std::string(authority_name),
                                                    .valid_from = now,
                                                    .valid_for = std::chrono::days(3 * 365 + 1),
                                                    .document_signing = true});
  return {std::move(pair.private_key_pem), std::move(pair.certificate_pem), {}};
}

namespace {

// The DER of the signed attributes as they are signed (RFC 5652, 5.4): a SET OF in DER
// order. OpenSSL writes the SignerInfo with the same order, so what is signed is what is
// sent.
std::string signed_attributes_der(CMS_SignerInfo* si) {
  std::vector<std::string> parts;
  for (int i = 0; i < CMS_signed_get_attr_count(si); ++i) {
    unsigned char* der = nullptr;
    int len = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &der);
    if (len <= 0) throw Failure("seal: cannot encode a signed attribute");
    parts.emplace_back(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
  }
  std::sort(parts.begin(), parts.end());
  std::string body;
  for (const auto& p : parts) body += p;
  std::string out = "\x31";
  if (body.size() < 0x80) {
    out += static_cast<char>(body.size());
  } else {
    std::string length;
    for (auto n = body.size(); n > 0; n >>= 8)
      length.insert(length.begin(), static_cast<char>(n & 0xff));
    out += static_cast<char>(0x80 | length.size());
    out += length;
  }
  return out + body;
}

// The detached CMS SignedData over `first` and `second` (the file without /Contents).
// OpenSSL 3.0 adds a signing-time attribute whenever it signs the attributes itself, which
// PAdES forbids (the time is /M), so the attributes are signed here.
std::string cms_signature(const SealCertificate& seal, std::string_view first,
                          std::string_view second) {
  auto key_bio = memory(seal.private_key_pem);
  Key key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr,
          EVP_PKEY_free);
  auto own = read_certificates(seal.certificate_pem);
  if (!key || own.empty()) throw Failure("seal: the seal certificate cannot be read");
  auto chain = read_certificates(seal.chain_pem);

  constexpr unsigned kFlags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | CMS_PARTIAL;
  Cms cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, kFlags), CMS_ContentInfo_free);
  // CMS_CADES adds signing-certificate-v2 (ESS, RFC 5035) with the certificate's SHA-256
  CMS_SignerInfo* si = cms ? CMS_add1_signer(cms.get(), own.front().get(), key.get(), EVP_sha256(),
                                             kFlags | CMS_CADES)
                           : nullptr;
  if (!si) throw Failure("seal: the key cannot sign");
  for (const auto& c : chain) {
    if (CMS_add1_cert(cms.get(), c.get()) != 1) throw Failure("seal: cannot add the chain");
  }

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(md.get(), first.data(), first.size()) != 1 ||
      EVP_DigestUpdate(md.get(), second.data(), second.size()) != 1 ||
      EVP_DigestFinal_ex(md.get(), digest, &digest_len) != 1) {
    throw Failure("seal: cannot hash the document");
  }
  if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                  OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
      CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, digest,
                                  static_cast<int>(digest_len)) != 1) {
    throw Failure("seal: cannot add the signed attributes");
  }

  auto attributes = signed_attributes_der(si);
  std::size_t len = 0;
  std::string signature;
  if (EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(attributes.data()),
                     attributes.size()) != 1) {
    throw Failure("seal: the key cannot sign");
  }
  signature.resize(len);
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(attributes.data()),
                     attributes.size()) != 1) {
    throw Failure("seal: the key cannot sign");
  }
  signature.resize(len);
  if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), signature.data(),
                      static_cast<int>(signature.size())) != 1) {
    throw Failure("seal: cannot set the signature");
  }

  unsigned char* der = nullptr;
  int der_len = i2d_CMS_ContentInfo(cms.get(), &der);
  if (der_len <= 0) throw Failure("seal: cannot encode the signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);
  return out;
}

// The DER size of the certificates, to reserve room for the signature before it exists.
std::size_t certificates_size(const SealCertificate& seal) {
  std::size_t size = 0;
  for (const auto* text : {&seal.certificate_pem, &seal.chain_pem}) {
    for (const auto& c : read_certificates(*text))
      size += static_cast<std::size_t>(i2d_X509(c.get(), nullptr));
  }
  return size;
}

// A PDF read by qpdf, with the objects the update writes again.
class Pdf {
 public:
  explicit Pdf(std::string_view bytes) : handle_(qpdf_init()), q_(handle_.get()) {
    qpdf_set_suppress_warnings(q_, QPDF_TRUE);
    if (qpdf_read_memory(q_, "notice.pdf", bytes.data(), bytes.size(), nullptr) & QPDF_ERRORS) {
      fail("cannot be read");
    }
    if (qpdf_is_encrypted(q_) == QPDF_TRUE) fail("is encrypted");
    check();
  }

  // qpdf repairs a damaged file with a warning; an update on top of a repaired file would
  // point at a cross-reference table that readers cannot use.
  void check() {
    if (qpdf_more_warnings(q_) == QPDF_TRUE) fail("is damaged");
    if (qpdf_has_error(q_) == QPDF_TRUE) fail("cannot be read");
  }

  qpdf_oh trailer() { return qpdf_get_trailer(q_); }
  qpdf_oh root() { return qpdf_get_root(q_); }
  qpdf_oh first_page() {
    if (qpdf_get_num_pages(q_) < 1) fail("has no page");
    return qpdf_get_page_n(q_, 0);
  }
  qpdf_oh key(qpdf_oh dict, const char* k) { return qpdf_oh_get_key(q_, dict, k); }
  bool has(qpdf_oh dict, const char* k) { return qpdf_oh_has_key(q_, dict, k) == QPDF_TRUE; }
  void set(qpdf_oh dict, const char* k, qpdf_oh value) { qpdf_oh_replace_key(q_, dict, k, value); }
  bool dictionary(qpdf_oh oh) { return qpdf_oh_is_dictionary(q_, oh) == QPDF_TRUE; }
  bool array(qpdf_oh oh) { return qpdf_oh_is_array(q_, oh) == QPDF_TRUE; }
  bool integer(qpdf_oh oh) { return qpdf_oh_is_integer(q_, oh) == QPDF_TRUE; }
  bool indirect(qpdf_oh oh) { return qpdf_oh_is_indirect(q_, oh) == QPDF_TRUE; }
  long long number(qpdf_oh oh) { return qpdf_oh_get_int_value(q_, oh); }
  int size(qpdf_oh array) { return qpdf_oh_get_array_n_items(q_, array); }
  qpdf_oh item(qpdf_oh array, int i) { return qpdf_oh_get_array_item(q_, array, i); }
  void append(qpdf_oh array, qpdf_oh value) { qpdf_oh_append_item(q_, array, value); }
  void put(qpdf_oh array, int i, qpdf_oh value) { qpdf_oh_set_array_item(q_, array, i, value); }
  std::string text_of(qpdf_oh oh) {
    return qpdf_oh_is_string(q_, oh) == QPDF_TRUE ? qpdf_oh_get_utf8_value(q_, oh) : "";
  }
  std::pair<int, int> id(qpdf_oh oh) {
    return {qpdf_oh_get_object_id(q_, oh), qpdf_oh_get_generation(q_, oh)};
  }
  // The object as PDF syntax: an indirect object's own body, references inside as references.
  std::string body(qpdf_oh oh) { return qpdf_oh_unparse_resolved(q_, oh); }
  std::string unparse(qpdf_oh oh) { return qpdf_oh_unparse(q_, oh); }

  qpdf_oh parse(const std::string& syntax) { return qpdf_oh_parse(q_, syntax.c_str()); }
  qpdf_oh integer_object(long long n) { return qpdf_oh_new_integer(q_, n); }
  qpdf_oh text(const std::string& utf8) { return qpdf_oh_new_unicode_string(q_, utf8.c_str()); }
  qpdf_oh new_array() { return qpdf_oh_new_array(q_); }
  qpdf_oh new_dictionary() { return qpdf_oh_new_dictionary(q_); }
  // A new object of the update: it gets the next free object number.
  qpdf_oh make_indirect(qpdf_oh oh) { return qpdf_make_indirect_object(q_, oh); }

 private:
  [[noreturn]] void fail(const char* what) {
    std::string why = qpdf_has_error(q_) ? qpdf_get_error_full_text(q_, qpdf_get_error(q_)) : "";
    throw Failure(fmt::format("seal: the PDF {}{}{}", what, why.empty() ? "" : ": ", why));
  }
  // owns the handle from the first line of the constructor on, so a refused file is freed too
  struct Cleanup {
    void operator()(qpdf_data q) const { qpdf_cleanup(&q); }
  };
  std::unique_ptr<std::remove_pointer_t<qpdf_data>, Cleanup> handle_;
  qpdf_data q_;
};

// The indirect objects an update writes again: each change is recorded on the object that
// holds it (the value itself when it is indirect, else the nearest indirect holder).
class Changes {
 public:
  explicit Changes(Pdf& pdf) : pdf_(pdf) {}
  // `value` changed; `holder` is the indirect object it sits in when it is direct.
  qpdf_oh changed(qpdf_oh value, qpdf_oh holder) {
    qpdf_oh owner = pdf_.indirect(value) ? value : holder;
    if (!pdf_.indirect(owner)) throw Failure("seal: a changed object has no indirect holder");
    objects_[pdf_.id(owner)] = owner;
    return owner;
  }
  const std::map<std::pair<int, int>, qpdf_oh>& objects() const { return objects_; }

 private:
  Pdf& pdf_;
  std::map<std::pair<int, int>, qpdf_oh> objects_;
};

// The greatest key of a number tree (ISO 32000-1, 7.9.7), -1 when it is empty.
long long greatest_key(Pdf& pdf, qpdf_oh node, int depth = 0) {
  if (depth > 32 || !pdf.dictionary(node)) return -1;
  long long greatest = -1;
  if (pdf.has(node, "/Nums")) {
    auto nums = pdf.key(node, "/Nums");
    for (int i = 0; pdf.array(nums) && i + 1 < pdf.size(nums); i += 2) {
      auto k = pdf.item(nums, i);
      if (pdf.integer(k)) greatest = std::max(greatest, pdf.number(k));
    }
  }
  if (pdf.has(node, "/Kids")) {
    auto kids = pdf.key(node, "/Kids");
    for (int i = 0; pdf.array(kids) && i < pdf.size(kids); ++i)
      greatest = std::max(greatest, greatest_key(pdf, pdf.item(kids, i), depth + 1));
  }
  return greatest;
}

// Tags the widget (PDF/UA-1, 7.18.4): a Form element with an object reference to it,
// under the document's top element, and the widget's entry in the parent tree.
void tag_widget(Pdf& pdf, Changes& changes, qpdf_oh root, qpdf_oh page, qpdf_oh widget) {
  auto tree = pdf.key(root, "/StructTreeRoot");
  auto tree_holder = changes.changed(tree, root);

  // the parent: the one top element (Document) when there is one, else the tree root
  auto top = pdf.key(tree, "/K");
  if (pdf.array(top) && pdf.size(top) == 1) top = pdf.item(top, 0);
  auto parent = pdf.dictionary(top) && pdf.has(top, "/S") ? top : tree;
  auto parent_holder = changes.changed(parent, tree_holder);

  auto element = pdf.new_dictionary();
  pdf.set(element, "/Type", pdf.parse("/StructElem"));
  pdf.set(element, "/S", pdf.parse("/Form"));
  pdf.set(element, "/P", parent);
  pdf.set(element, "/Pg", page);
  auto reference = pdf.new_dictionary();
  pdf.set(reference, "/Type", pdf.parse("/OBJR"));
  pdf.set(reference, "/Obj", widget);
  pdf.set(reference, "/Pg", page);
  pdf.set(element, "/K", reference);
  element = pdf.make_indirect(element);
  changes.changed(element, element);

  auto kids = pdf.key(parent, "/K");
  if (pdf.array(kids)) {
    pdf.append(kids, element);
    changes.changed(kids, parent_holder);
  } else {
    auto list = pdf.new_array();
    if (pdf.has(parent, "/K")) pdf.append(list, kids);
    pdf.append(list, element);
    pdf.set(parent, "/K", list);
  }

  // the widget's key in the parent tree
  auto parent_tree = pdf.key(tree, "/ParentTree");
  long long next = pdf.integer(pdf.key(tree, "/ParentTreeNextKey"))
                       ? pdf.number(pdf.key(tree, "/ParentTreeNextKey"))
                       : 0;
  next = std::max(next, greatest_key(pdf, parent_tree) + 1);
  pdf.set(widget, "/StructParent", pdf.integer_object(next));
  pdf.set(tree, "/ParentTreeNextKey", pdf.integer_object(next + 1));
  if (!pdf.dictionary(parent_tree)) {
    parent_tree = pdf.make_indirect(pdf.new_dictionary());
    pdf.set(parent_tree, "/Nums", pdf.new_array());
    pdf.set(tree, "/ParentTree", parent_tree);
  }
  // the new key is the greatest: it goes at the end of the rightmost leaf, and the upper
  // limit of every node on the way there grows to it
  auto node = parent_tree;
  auto holder = changes.changed(node, tree_holder);
  for (int depth = 0; pdf.has(node, "/Kids"); ++depth) {
    auto kids_of = pdf.key(node, "/Kids");
    if (depth > 32 || !pdf.array(kids_of) || pdf.size(kids_of) == 0) {
      throw Failure("seal: the PDF's parent tree is malformed");
    }
    node = pdf.item(kids_of, pdf.size(kids_of) - 1);
    holder = changes.changed(node, holder);
    auto limits = pdf.key(node, "/Limits");
    if (pdf.array(limits) && pdf.size(limits) == 2) {
      pdf.put(limits, 1, pdf.integer_object(next));
      changes.changed(limits, holder);
    }
  }
  auto nums = pdf.key(node, "/Nums");
  if (pdf.array(nums)) {
    pdf.append(nums, pdf.integer_object(next));
    pdf.append(nums, element);
    changes.changed(nums, holder);
  } else {
    nums = pdf.new_array();
    pdf.append(nums, pdf.integer_object(next));
    pdf.append(nums, element);
    pdf.set(node, "/Nums", nums);
  }
}

// A field name no other top-level field has: "Siegel", "Siegel 2", …
std::string field_name(Pdf& pdf, qpdf_oh fields) {
  std::set<std::string> taken;
  for (int i = 0; pdf.array(fields) && i < pdf.size(fields); ++i) {
    auto f = pdf.item(fields, i);
    if (pdf.dictionary(f)) taken.insert(pdf.text_of(pdf.key(f, "/T")));
  }
  std::string name = "Siegel";
  for (int n = 2; taken.contains(name); ++n) name = fmt::format("Siegel {}", n);
  return name;
}

std::string pdf_date(core::TimePoint t) {
  auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  auto day = std::chrono::floor<std::chrono::days>(seconds);
  std::chrono::year_month_day ymd(day);
  std::chrono::hh_mm_ss hms(seconds - day);
  return fmt::format("(D:{:04}{:02}{:02}{:02}{:02}{:02}Z)", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

// Where the previous cross-reference section starts, and whether it is a stream.
struct Previous {
  long long offset = 0;
  bool stream = false;
};

Previous previous_section(std::string_view pdf) {
  auto at = pdf.rfind("startxref");
  if (at == std::string_view::npos) throw Failure("seal: the PDF has no startxref");
  at += 9;
  while (at < pdf.size() && std::isspace(static_cast<unsigned char>(pdf[at]))) ++at;
  long long offset = 0;
  auto digits = at;
  while (at < pdf.size() && std::isdigit(static_cast<unsigned char>(pdf[at])))
    offset = offset * 10 + (pdf[at++] - '0');
  if (at == digits || offset <= 0 || static_cast<std::size_t>(offset) >= pdf.size())
    throw Failure("seal: the PDF's startxref is not an offset in the file");
  return {offset, !pdf.substr(static_cast<std::size_t>(offset)).starts_with("xref")};
}

constexpr std::string_view kByteRangeSlot = "0 0000000000 0000000000 0000000000";

}  // namespace

std::string seal_pdf(std::string_view input, const SealCertificate& cert, const SealInfo& info) {
  Pdf pdf(input);
  auto previous = previous_section(input);
  Changes changes(pdf);
  auto trailer = pdf.trailer();
  auto root = pdf.root();
  auto page = pdf.first_page();

  // the signature dictionary is written below by hand; here it takes its object number
  auto signature = pdf.make_indirect(pdf.new_dictionary());
  auto signer = info.signer.empty()
                    ? core::pki::subject_common_name(cert.certificate_pem).value_or("")
                    : info.signer;

  // the field and its widget in one dictionary, invisible (no area), printed and locked
  auto widget = pdf.new_dictionary();
  pdf.set(widget, "/Type", pdf.parse("/Annot"));
  pdf.set(widget, "/Subtype", pdf.parse("/Widget"));
  pdf.set(widget, "/FT", pdf.parse("/Sig"));
  pdf.set(widget, "/Rect", pdf.parse("[0 0 0 0]"));
  pdf.set(widget, "/F", pdf.integer_object(4 | 128));
  pdf.set(widget, "/TU", pdf.text("Elektronisches Siegel" + (signer.empty() ? "" : ": " + signer)));
  pdf.set(widget, "/V", signature);
  pdf.set(widget, "/P", page);
  widget = pdf.make_indirect(widget);

  // the form: the field in /Fields, and /SigFlags "signatures exist, append only"
  if (!pdf.dictionary(pdf.key(root, "/AcroForm"))) pdf.set(root, "/AcroForm", pdf.new_dictionary());
  auto form = pdf.key(root, "/AcroForm");
  auto form_holder = changes.changed(form, root);
  auto fields = pdf.key(form, "/Fields");
  pdf.set(widget, "/T", pdf.text(field_name(pdf, fields)));
  if (pdf.array(fields)) {
    pdf.append(fields, widget);
    changes.changed(fields, form_holder);
  } else {
    fields = pdf.new_array();
    pdf.append(fields, widget);
    pdf.set(form, "/Fields", fields);
  }
  long long flags =
      pdf.integer(pdf.key(form, "/SigFlags")) ? pdf.number(pdf.key(form, "/SigFlags")) : 0;
  pdf.set(form, "/SigFlags", pdf.integer_object(flags | 3));

  // the page: the widget among its annotations, tab order by structure (PDF/UA-1, 7.18.3)
  auto annotations = pdf.key(page, "/Annots");
  changes.changed(page, page);
  if (pdf.array(annotations)) {
    pdf.append(annotations, widget);
    changes.changed(annotations, page);
  } else {
    annotations = pdf.new_array();
    pdf.append(annotations, widget);
    pdf.set(page, "/Annots", annotations);
  }
  pdf.set(page, "/Tabs", pdf.parse("/S"));

  if (pdf.dictionary(pdf.key(root, "/StructTreeRoot")))
    tag_widget(pdf, changes, root, page, widget);
  changes.changed(widget, widget);
  pdf.check();

  // the update: changed objects, then the signature dictionary, then the cross-reference
  std::string out(input);
  if (!out.ends_with('\n')) out += '\n';
  std::map<int, std::pair<std::size_t, int>> offsets;  // object number → offset, generation
  auto write = [&](std::pair<int, int> id, const std::string& body) {
    offsets[id.first] = {out.size(), id.second};
    out += fmt::format("{} {} obj\n{}\nendobj\n", id.first, id.second, body);
  };
  int greatest = 0;
  for (const auto& [id, oh] : changes.objects()) {
    write(id, pdf.body(oh));
    greatest = std::max(greatest, id.first);
  }
  // the CMS is as large as the certificates plus signed attributes and signature, which
  // stay well under 4 KiB even for RSA 8192; its hex form takes twice the room
  std::size_t reserve = 2 * (certificates_size(cert) + 4096);
  auto signature_id = pdf.id(signature);
  greatest = std::max(greatest, signature_id.first);
  std::string dict = fmt::format(
      "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [{}] "
      "/Contents <{}> /M {}",
      kByteRangeSlot, std::string(reserve, '0'), pdf_date(info.at));
  if (!signer.empty()) dict += " /Name " + pdf.unparse(pdf.text(signer));
  if (!info.reason.empty()) dict += " /Reason " + pdf.unparse(pdf.text(info.reason));
  if (!info.location.empty()) dict += " /Location " + pdf.unparse(pdf.text(info.location));
  dict += " >>";
  auto signature_at = out.size();
  write(signature_id, dict);

  // the trailer keeps the document's identity: root, information and /ID
  std::string keep = fmt::format("/Root {}", pdf.unparse(root));
  for (const char* k : {"/Info", "/ID"}) {
    if (pdf.has(trailer, k)) keep += fmt::format(" {} {}", k, pdf.unparse(pdf.key(trailer, k)));
  }
  auto xref_at = out.size();
  if (!previous.stream) {
    int size = std::max(static_cast<int>(pdf.number(pdf.key(trailer, "/Size"))), greatest + 1);
    out += "xref\n";
    for (const auto& [number, at] : offsets)
      out += fmt::format("{} 1\n{:010} {:05} n\r\n", number, at.first, at.second);
    out += fmt::format("trailer\n<< /Size {} {} /Prev {} >>\n", size, keep, previous.offset);
  } else {
    // after a cross-reference stream, the update's cross-reference is a stream too
    int own = greatest + 1;
    offsets[own] = {xref_at, 0};
    int size = std::max(static_cast<int>(pdf.number(pdf.key(trailer, "/Size"))), own + 1);
    std::string index, rows;
    for (const auto& [number, at] : offsets) {
      index += fmt::format(" {} 1", number);
      rows += '\x01';
      for (int shift = 56; shift >= 0; shift -= 8)
        rows += static_cast<char>((at.first >> shift) & 0xff);
      rows += static_cast<char>((at.second >> 8) & 0xff);
      rows += static_cast<char>(at.second & 0xff);
    }
    out += fmt::format(
        "{} 0 obj\n<< /Type /XRef /Size {} /W [1 8 2] /Index [{} ] {} /Prev {} /Length {} >>\n"
        "stream\n{}\nendstream\nendobj\n",
        own, size, index, keep, previous.offset, rows.size(), rows);
  }
  out += fmt::format("startxref\n{}\n%%EOF\n", xref_at);

  // the signed ranges: everything but the hex string of /Contents (with its brackets)
  auto contents_at = out.find("/Contents <", signature_at) + 10;
  auto contents_end = contents_at + reserve + 2;
  auto byte_range = fmt::format("0 {} {} {}", contents_at, contents_end, out.size() - contents_end);
  if (byte_range.size() > kByteRangeSlot.size()) throw Failure("seal: the PDF is too large");
  byte_range.resize(kByteRangeSlot.size(), ' ');
  out.replace(out.find(kByteRangeSlot, signature_at), kByteRangeSlot.size(), byte_range);

  auto cms = cms_signature(cert, std::string_view(out).substr(0, contents_at),
                           std::string_view(out).substr(contents_end));
  if (2 * cms.size() > reserve) throw Failure("seal: the signature is larger than its room");
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (std::size_t i = 0; i < cms.size(); ++i) {
    auto byte = static_cast<unsigned char>(cms[i]);
    out[contents_at + 1 + 2 * i] = kHex[byte >> 4];
    out[contents_at + 2 + 2 * i] = kHex[byte & 0x0f];
  }
  return out;
}

}  // namespace mvsp::cases
