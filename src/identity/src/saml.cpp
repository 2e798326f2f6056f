// SAML 2.0 with libxml2 and xmlsec (OpenSSL): documents are parsed without DTDs or network
// access, signatures are checked against the configured certificate only, and data is read
// only from the element the signature covers (no signature wrapping).
#include "saml.hpp"

#include <Poco/Exception.h>
#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <mvsp/core/crypto.hpp>
#include <sstream>

namespace mvsp::identity::saml {
using core::Error;
using core::fail;

namespace {

constexpr const char* kProtocolNs = "urn:oasis:names:tc:SAML:2.0:protocol";
constexpr const char* kAssertionNs = "urn:oasis:names:tc:SAML:2.0:assertion";
constexpr const char* kMetadataNs = "urn:oasis:names:tc:SAML:2.0:metadata";
constexpr const char* kAkdbNs = "https://www.akdb.de/request/2018/09";
constexpr const char* kXmlEncNs = "http://www.w3.org/2001/04/xmlenc#";
constexpr const char* kSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success";
constexpr const char* kRequester = "urn:oasis:names:tc:SAML:2.0:status:Requester";
constexpr const char* kAuthnFailed = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
constexpr const char* kNoAuthnContext = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
constexpr const char* kCancelMessage = "Authentication was canceled by the user.";
constexpr const char* kBearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
constexpr const char* kPostBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

// Ends xmlsec's and libxml2's global set-up once per process; errors are returned, not printed.
void init_xmlsec() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(nullptr) < 0 ||
        xmlSecCryptoInit() < 0) {
      throw core::Failure("xmlsec could not be initialised");
    }
    xmlSecErrorsDefaultCallbackEnableOutput(0);
  });
}

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;
struct KeyFree {
  void operator()(xmlSecKey* k) const { xmlSecKeyDestroy(k); }
};
using Key = std::unique_ptr<xmlSecKey, KeyFree>;
struct DsigFree {
  void operator()(xmlSecDSigCtx* c) const { xmlSecDSigCtxDestroy(c); }
};
using Dsig = std::unique_ptr<xmlSecDSigCtx, DsigFree>;
struct MngrFree {
  void operator()(xmlSecKeysMngr* m) const { xmlSecKeysMngrDestroy(m); }
};
using Mngr = std::unique_ptr<xmlSecKeysMngr, MngrFree>;
struct EncFree {
  void operator()(xmlSecEncCtx* c) const { xmlSecEncCtxDestroy(c); }
};
using Enc = std::unique_ptr<xmlSecEncCtx, EncFree>;

const xmlChar* x(const char* s) {
  return reinterpret_cast<const xmlChar*>(s);
}

// No DTD, no entities, no network: a SAML message has none of these. Whitespace stays as
// it is, since signatures cover it.
Doc parse(std::string_view text) {
  init_xmlsec();
  if (text.size() > 1024 * 1024) return nullptr;
  Doc doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "saml.xml", nullptr,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc || doc->intSubset || doc->extSubset || !xmlDocGetRootElement(doc.get())) return nullptr;
  return doc;
}

std::string serialize(xmlDoc* doc) {
  xmlChar* out = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(doc, &out, &size, "UTF-8");
  std::string s(reinterpret_cast<char*>(out), static_cast<std::size_t>(size));
  xmlFree(out);
  return s;
}

bool is(const xmlNode* n, const char* ns, const char* name) {
  return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, x(ns)) &&
         xmlStrEqual(n->name, x(name));
}

xmlNode* child(xmlNode* parent, const char* ns, const char* name) {
  for (auto* c = parent ? parent->children : nullptr; c; c = c->next) {
    if (is(c, ns, name)) return c;
  }
  return nullptr;
}

std::vector<xmlNode*> children(xmlNode* parent, const char* ns, const char* name) {
  std::vector<xmlNode*> out;
  for (auto* c = parent ? parent->children : nullptr; c; c = c->next) {
    if (is(c, ns, name)) out.push_back(c);
  }
  return out;
}

void descendants(xmlNode* node, const char* ns, const char* name, std::vector<xmlNode*>& out) {
  for (auto* c = node ? node->children : nullptr; c; c = c->next) {
    if (is(c, ns, name)) out.push_back(c);
    descendants(c, ns, name, out);
  }
}

std::string attr(const xmlNode* n, const char* name) {
  if (!n) return {};
  xmlChar* v = xmlGetProp(n, x(name));
  if (!v) return {};
  std::string s(reinterpret_cast<char*>(v));
  xmlFree(v);
  return s;
}

std::string text_of(const xmlNode* n) {
  if (!n) return {};
  xmlChar* v = xmlNodeGetContent(n);
  if (!v) return {};
  std::string s(reinterpret_cast<char*>(v));
  xmlFree(v);
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::optional<int> stork_level(std::string_view text) {
  if (!text.starts_with(kStorkPrefix) || text.size() != kStorkPrefix.size() + 1)
    return std::nullopt;
  char d = text.back();
  if (d < '1' || d > '4') return std::nullopt;
  return d - '0';
}

// Registers every ID attribute so that "#id" references resolve; false on a duplicate id,
// which is how some wrapping attacks start.
bool register_ids(xmlDoc* doc, xmlNode* node) {
  for (auto* n = node; n; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    if (xmlAttr* a = xmlHasProp(n, x("ID")); a) {
      xmlChar* value = xmlNodeListGetString(doc, a->children, 1);
      bool ok = value && xmlGetID(doc, value) == nullptr;
      if (ok) xmlAddID(nullptr, doc, value, a);
      xmlFree(value);
      if (!ok) return false;
    }
    if (!register_ids(doc, n->children)) return false;
  }
  return true;
}

// A key from PEM text (a private key, or the public key of a certificate). Decoding PEM is
// the dearest step of reading a response (OpenSSL 3's decoders), and the same few keys of
// the configuration come every time, so each is decoded once and handed out as a
// duplicate (which shares the OpenSSL key by reference).
Key load_key(const std::string& pem, xmlSecKeyDataFormat format) {
  constexpr std::size_t kMaxKeys = 64;  // configured keys are a handful; tests make more
  // Never destroyed: a server thread may still read a key while the program exits.
  static auto& mutex = *new std::mutex;
  static auto& keys = *new std::map<std::pair<int, std::string>, Key, std::less<>>;
  std::lock_guard lock(mutex);
  auto found = keys.find(std::pair{static_cast<int>(format), pem});
  if (found == keys.end()) {
    Key key(xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(pem.data()),
                                         static_cast<xmlSecSize>(pem.size()), format, nullptr,
                                         nullptr, nullptr));
    if (!key) return nullptr;
    if (keys.size() >= kMaxKeys) keys.clear();
    found = keys.emplace(std::pair{static_cast<int>(format), pem}, std::move(key)).first;
  }
  return Key(xmlSecKeyDuplicate(found->second.get()));
}

// Checks the enveloped signature that is a direct child of `element` and covers exactly
// that element: one reference, to its ID, with the usual transforms only.
bool signature_covers(xmlNode* element, const std::string& certificate_pem) {
  auto* sig = xmlSecFindChild(element, xmlSecNodeSignature, xmlSecDSigNs);
  if (!sig) return false;
  auto id = attr(element, "ID");
  if (id.empty()) return false;
  auto key = load_key(certificate_pem, xmlSecKeyDataFormatCertPem);
  if (!key) return false;
  Dsig ctx(xmlSecDSigCtxCreate(nullptr));
  if (!ctx) return false;
  ctx->signKey = key.release();
  ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
  for (auto t : {xmlSecTransformEnvelopedId, xmlSecTransformExclC14NId,
                 xmlSecTransformExclC14NWithCommentsId, xmlSecTransformInclC14NId,
                 xmlSecTransformSha256Id, xmlSecTransformSha384Id, xmlSecTransformSha512Id}) {
    xmlSecDSigCtxEnableReferenceTransform(ctx.get(), t);
  }
  for (auto t :
       {xmlSecTransformExclC14NId, xmlSecTransformInclC14NId, xmlSecTransformRsaSha256Id,
        xmlSecTransformRsaSha384Id, xmlSecTransformRsaSha512Id, xmlSecTransformEcdsaSha256Id,
        xmlSecTransformEcdsaSha384Id, xmlSecTransformEcdsaSha512Id}) {
    xmlSecDSigCtxEnableSignatureTransform(ctx.get(), t);
  }
  if (xmlSecDSigCtxVerify(ctx.get(), sig) < 0 || ctx->status != xmlSecDSigStatusSucceeded) {
    return false;
  }
  if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) return false;
  auto* ref =
      static_cast<xmlSecDSigReferenceCtxPtr>(xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0));
  return ref && ref->uri && xmlStrEqual(ref->uri, x(("#" + id).c_str()));
}

// Signs `element` (enveloped, exclusive c14n, RSA-SHA256) with the signature placed after
// its Issuer, where the SAML schema wants it.
void sign(xmlDoc* doc, xmlNode* element, const KeyPair& key_pair) {
  auto id = attr(element, "ID");
  xmlNode* sig = xmlSecTmplSignatureCreate(doc, xmlSecTransformExclC14NId,
                                           xmlSecTransformRsaSha256Id, nullptr);
  auto* issuer = child(element, kAssertionNs, "Issuer");
  if (issuer) {
    xmlAddNextSibling(issuer, sig);
  } else if (element->children) {
    xmlAddPrevSibling(element->children, sig);
  } else {
    xmlAddChild(element, sig);
  }
  auto* ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, nullptr,
                                              x(("#" + id).c_str()), nullptr);
  xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId);
  xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId);
  auto* key_info = xmlSecTmplSignatureEnsureKeyInfo(sig, nullptr);
  xmlSecTmplKeyInfoAddX509Data(key_info);
  Key key(xmlSecCryptoAppKeyLoadMemory(
      reinterpret_cast<const xmlSecByte*>(key_pair.private_key_pem.data()),
      static_cast<xmlSecSize>(key_pair.private_key_pem.size()), xmlSecKeyDataFormatPem, nullptr,
      nullptr, nullptr));
  if (!key ||
      xmlSecCryptoAppKeyCertLoadMemory(
          key.get(), reinterpret_cast<const xmlSecByte*>(key_pair.certificate_pem.data()),
          static_cast<xmlSecSize>(key_pair.certificate_pem.size()), xmlSecKeyDataFormatPem) < 0) {
    throw core::Failure("the SAML signing key cannot be loaded");
  }
  register_ids(doc, xmlDocGetRootElement(doc));
  Dsig ctx(xmlSecDSigCtxCreate(nullptr));
  ctx->signKey = key.release();
  if (xmlSecDSigCtxSign(ctx.get(), sig) < 0) throw core::Failure("SAML signing failed");
}

// A keys manager holding one key (PEM private key, or the public key of a PEM certificate),
// used under its lock. Making one loads the system's CA bundle (xmlsec's default manager has
// an X.509 store), which took most of the time of reading an encrypted response, so each is
// made once per key.
struct SharedKeys {
  std::mutex mutex;
  Mngr mngr;
};

std::shared_ptr<SharedKeys> keys_with(const std::string& pem, xmlSecKeyDataFormat format) {
  constexpr std::size_t kMaxManagers = 16;  // one or two configured keys; tests make more
  static auto& mutex = *new std::mutex;     // never destroyed, as in load_key
  static auto& made =
      *new std::map<std::pair<int, std::string>, std::shared_ptr<SharedKeys>, std::less<>>;
  std::lock_guard lock(mutex);
  auto found = made.find(std::pair{static_cast<int>(format), pem});
  if (found != made.end()) return found->second;
  auto keys = std::make_shared<SharedKeys>();
  keys->mngr.reset(xmlSecKeysMngrCreate());
  if (!keys->mngr || xmlSecCryptoAppDefaultKeysMngrInit(keys->mngr.get()) < 0) return nullptr;
  auto key = load_key(pem, format);
  if (!key || xmlSecCryptoAppDefaultKeysMngrAdoptKey(keys->mngr.get(), key.get()) < 0) {
    return nullptr;
  }
  (void)key.release();  // the manager owns it now
  // A manager in use stays alive with its user.
  if (made.size() >= kMaxManagers) made.clear();
  made.emplace(std::pair{static_cast<int>(format), pem}, keys);
  return keys;
}

// Replaces the assertion by an EncryptedAssertion for the holder of `certificate_pem`:
// AES-256-GCM for the content, its key wrapped with RSA-OAEP.
void encrypt_assertion(xmlDoc* doc, xmlNode* assertion, const std::string& certificate_pem) {
  auto keys = keys_with(certificate_pem, xmlSecKeyDataFormatCertPem);
  if (!keys) throw core::Failure("the encryption certificate cannot be read");
  std::lock_guard lock(keys->mutex);
  xmlNode* data = xmlSecTmplEncDataCreate(doc, xmlSecTransformAes256GcmId, nullptr,
                                          xmlSecTypeEncElement, nullptr, nullptr);
  xmlSecTmplEncDataEnsureCipherValue(data);
  xmlNode* key_info = xmlSecTmplEncDataEnsureKeyInfo(data, nullptr);
  xmlNode* encrypted_key = xmlSecTmplKeyInfoAddEncryptedKey(key_info, xmlSecTransformRsaOaepId,
                                                            nullptr, nullptr, nullptr);
  xmlSecTmplEncDataEnsureCipherValue(encrypted_key);
  // The prefix of the response (the assertion's own declaration goes with the assertion).
  xmlNs* ns = xmlSearchNsByHref(doc, assertion->parent, x(kAssertionNs));
  xmlNode* wrapper = xmlNewDocNode(doc, ns, x("EncryptedAssertion"), nullptr);
  xmlAddPrevSibling(assertion, wrapper);
  xmlUnlinkNode(assertion);
  xmlAddChild(wrapper, assertion);
  Enc ctx(xmlSecEncCtxCreate(keys->mngr.get()));
  ctx->encKey = xmlSecKeyGenerate(xmlSecKeyDataAesId, 256, xmlSecKeyDataTypeSession);
  if (!ctx->encKey || xmlSecEncCtxXmlEncrypt(ctx.get(), data, assertion) < 0) {
    xmlFreeNode(data);
    throw core::Failure("SAML encryption failed");
  }
}

// Decrypts an EncryptedAssertion in place; the Assertion then stands where it stood.
// Only RSA-OAEP key transport and AES are accepted: RSA 1.5 invites padding oracles.
xmlNode* decrypt_assertion(xmlNode* encrypted, const std::string& key_pem, std::string& why) {
  if (key_pem.empty()) {
    why = "the assertion is encrypted, but no key is there to decrypt it";
    return nullptr;
  }
  static const std::vector<std::string> kAllowed = {
      "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
      "http://www.w3.org/2009/xmlenc11#rsa-oaep",
      "http://www.w3.org/2009/xmlenc11#aes128-gcm",
      "http://www.w3.org/2009/xmlenc11#aes256-gcm",
      "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
      "http://www.w3.org/2001/04/xmlenc#aes256-cbc"};
  std::vector<xmlNode*> methods;
  descendants(encrypted, kXmlEncNs, "EncryptionMethod", methods);
  for (auto* m : methods) {
    if (std::find(kAllowed.begin(), kAllowed.end(), attr(m, "Algorithm")) == kAllowed.end()) {
      why = "the assertion is encrypted with a method we do not accept: " + attr(m, "Algorithm");
      return nullptr;
    }
  }
  auto* data = child(encrypted, kXmlEncNs, "EncryptedData");
  auto keys = keys_with(key_pem, xmlSecKeyDataFormatPem);
  if (!data || !keys) {
    why = "the encrypted assertion cannot be read";
    return nullptr;
  }
  std::lock_guard lock(keys->mutex);
  Enc ctx(xmlSecEncCtxCreate(keys->mngr.get()));
  if (!ctx || xmlSecEncCtxDecrypt(ctx.get(), data) < 0 || !ctx->resultReplaced) {
    why = "the assertion cannot be decrypted with our key";
    return nullptr;
  }
  std::vector<xmlNode*> inside;
  for (auto* c = encrypted->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) inside.push_back(c);
  }
  if (inside.size() != 1 || !is(inside[0], kAssertionNs, "Assertion")) {
    why = "the encrypted assertion holds something else";
    return nullptr;
  }
  auto* assertion = inside[0];
  xmlUnlinkNode(assertion);
  xmlReplaceNode(encrypted, assertion);
  xmlFreeNode(encrypted);
  return assertion;
}

std::string sign_document(const std::string& xml, const std::vector<std::string>& ids,
                          const KeyPair& key) {
  auto doc = parse(xml);
  if (!doc) throw core::Failure("internal SAML document is not well-formed");
  // Inner elements first, so that the outer signature covers the inner one.
  for (const auto& id : ids) {
    xmlAttr* a = xmlGetID(doc.get(), x(id.c_str()));
    if (!a) {
      register_ids(doc.get(), xmlDocGetRootElement(doc.get()));
      a = xmlGetID(doc.get(), x(id.c_str()));
    }
    if (!a) throw core::Failure("internal SAML element id missing");
    sign(doc.get(), a->parent, key);
  }
  return serialize(doc.get());
}

}  // namespace

std::string base64(std::string_view bytes) {
  return core::crypto::base64(bytes);
}

std::string base64_decode(std::string_view text) {
  return core::crypto::base64_decode(text).value_or("");
}

std::string format_instant(core::TimePoint t) {
  return core::format_utc_seconds(t);
}

std::optional<core::TimePoint> parse_instant(std::string_view text) {
  // YYYY-MM-DDThh:mm:ss[.fff…](Z|±hh:mm)
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
       s = num(17, 2);
  // Year 0000 does not exist in xs:dateTime.
  if (!y || *y == 0 || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::chrono::milliseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    int scale = 100;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, scale /= 10) {
      fraction += std::chrono::milliseconds((text[pos] - '0') * scale);
    }
  }
  std::chrono::minutes offset{0};
  auto zone = text.substr(pos);
  if (zone == "Z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    auto oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (!oh || !om) return std::nullopt;
    offset = std::chrono::minutes(*oh * 60 + *om) * (zone[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(*y), std::chrono::month(*mo),
                                  std::chrono::day(*d)};
  if (!ymd.ok()) return std::nullopt;
  auto tp = std::chrono::sys_days(ymd) + std::chrono::hours(*h) + std::chrono::minutes(*mi) +
            std::chrono::seconds(*s) + fraction - offset;
  // In UTC too within years 1 to 9999, so that every instant read can be written back.
  auto utc_year = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(tp)).year();
  if (utc_year < std::chrono::year(1) || utc_year > std::chrono::year(9999)) return std::nullopt;
  return core::TimePoint(
      std::chrono::duration_cast<core::TimePoint::duration>(tp.time_since_epoch()));
}

std::string certificate_from_metadata(std::string_view metadata, std::string_view use) {
  auto doc = parse(metadata);
  auto* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  std::vector<xmlNode*> descriptors;
  descendants(root, kMetadataNs, "KeyDescriptor", descriptors);
  for (auto* d : descriptors) {
    auto u = attr(d, "use");
    if (!u.empty() && u != use) continue;
    std::vector<xmlNode*> certs;
    descendants(d, "http://www.w3.org/2000/09/xmldsig#", "X509Certificate", certs);
    if (certs.empty()) continue;
    std::string b64;
    for (char c : text_of(certs[0])) {
      if (!std::isspace(static_cast<unsigned char>(c))) b64 += c;
    }
    std::string pem = "-----BEGIN CERTIFICATE-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
    return pem + "-----END CERTIFICATE-----\n";
  }
  return {};
}

std::string certificate_base64(const std::string& certificate_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return {};
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return {};
  std::string out = base64(std::string_view(reinterpret_cast<char*>(der), len));
  OPENSSL_free(der);
  return out;
}

std::string authn_request(const AuthnRequestSpec& spec, const KeyPair& key) {
  std::string attributes;
  for (const auto& a : spec.attributes) {
    attributes += fmt::format(R"(<akdb:RequestedAttribute Name="{}" RequiredAttribute="{}"/>)",
                              escape(a.name), a.required ? "true" : "false");
  }
  auto xml =
      fmt::format(R"(<samlp:AuthnRequest xmlns:samlp="{}" xmlns:saml="{}" ID="{}" Version="2.0" )"
                  R"(IssueInstant="{}" Destination="{}" AssertionConsumerServiceURL="{}" )"
                  R"(ProtocolBinding="{}" AttributeConsumingServiceIndex="0" ForceAuthn="false">)"
                  R"(<saml:Issuer>{}</saml:Issuer>)"
                  R"(<samlp:Extensions><akdb:AuthenticationRequest xmlns:akdb="{}" Version="2">)"
                  R"(<akdb:RequestedAttributes>{}</akdb:RequestedAttributes>)"
                  R"(</akdb:AuthenticationRequest></samlp:Extensions>)"
                  R"(<samlp:NameIDPolicy AllowCreate="true" )"
                  R"(Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"/>)"
                  R"(<samlp:RequestedAuthnContext Comparison="minimum">)"
                  R"(<saml:AuthnContextClassRef>{}{}</saml:AuthnContextClassRef>)"
                  R"(</samlp:RequestedAuthnContext></samlp:AuthnRequest>)",
                  kProtocolNs, kAssertionNs, escape(spec.id), format_instant(spec.issue_instant),
                  escape(spec.destination), escape(spec.acs_url), kPostBinding, escape(spec.issuer),
                  kAkdbNs, attributes, kStorkPrefix, spec.minimum_level);
  return sign_document(xml, {spec.id}, key);
}

core::Result<ParsedAuthnRequest> parse_authn_request(std::string_view xml) {
  auto doc = parse(xml);
  auto* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  if (!is(root, kProtocolNs, "AuthnRequest")) {
    return fail(Error::invalid("SAMLRequest", "is not a SAML AuthnRequest"));
  }
  ParsedAuthnRequest r;
  r.id = attr(root, "ID");
  r.acs_url = attr(root, "AssertionConsumerServiceURL");
  r.issuer = text_of(child(root, kAssertionNs, "Issuer"));
  if (r.id.empty() || r.acs_url.empty() || r.issuer.empty()) {
    return fail(Error::invalid("SAMLRequest", "needs ID, AssertionConsumerServiceURL and Issuer"));
  }
  if (auto* ctx = child(root, kProtocolNs, "RequestedAuthnContext")) {
    for (auto* ref : children(ctx, kAssertionNs, "AuthnContextClassRef")) {
      if (auto l = stork_level(text_of(ref)); l && (!r.minimum_level || *l < *r.minimum_level)) {
        r.minimum_level = l;
      }
    }
  }
  std::vector<xmlNode*> requested;
  descendants(child(root, kProtocolNs, "Extensions"), kAkdbNs, "RequestedAttribute", requested);
  for (auto* a : requested) {
    r.attributes.push_back({attr(a, "Name"), attr(a, "RequiredAttribute") == "true"});
  }
  return r;
}

bool root_signed_by(std::string_view xml, const std::string& certificate_pem) {
  auto doc = parse(xml);
  auto* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  return root && register_ids(doc.get(), root) && signature_covers(root, certificate_pem);
}

std::string peek_in_response_to(std::string_view xml) {
  auto doc = parse(xml);
  auto* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  return is(root, kProtocolNs, "Response") ? attr(root, "InResponseTo") : std::string();
}

ResponseResult read_response(std::string_view xml, const Expectations& expect) {
  ResponseResult out;
  auto refuse = [&](std::string reason) {
    out.assertion.reset();
    out.failure.reason = std::move(reason);
    return out;
  };
  auto doc = parse(xml);
  auto* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  if (!is(root, kProtocolNs, "Response")) return refuse("not a SAML Response");
  out.failure.in_response_to = attr(root, "InResponseTo");
  if (out.failure.in_response_to.empty()) return refuse("the response answers no request");
  if (auto dest = attr(root, "Destination"); !dest.empty() && dest != expect.acs_url) {
    return refuse("the response is meant for another destination");
  }
  if (auto* issuer = child(root, kAssertionNs, "Issuer");
      issuer && text_of(issuer) != expect.idp_entity_id) {
    return refuse("the response comes from another issuer");
  }
  auto* status = child(root, kProtocolNs, "Status");
  auto* code = child(status, kProtocolNs, "StatusCode");
  if (!code) return refuse("the response has no status");
  if (attr(code, "Value") != kSuccess) {
    auto second = attr(child(code, kProtocolNs, "StatusCode"), "Value");
    auto message = text_of(child(status, kProtocolNs, "StatusMessage"));
    out.failure.cancelled = second == kAuthnFailed && message == kCancelMessage;
    return refuse(fmt::format("the identity provider answered {} {} {}", attr(code, "Value"),
                              second, message));
  }
  if (!register_ids(doc.get(), root)) return refuse("the response repeats an ID");
  // Exactly one assertion (plain or encrypted), a direct child of the response: nothing
  // hidden elsewhere.
  std::vector<xmlNode*> all;
  descendants(root, kAssertionNs, "Assertion", all);
  descendants(root, kAssertionNs, "EncryptedAssertion", all);
  if (all.size() != 1 || all[0]->parent != root) return refuse("the response needs one assertion");
  // The response's own signature covers what was sent, so it is checked before decrypting.
  bool response_signed = signature_covers(root, expect.idp_certificate_pem);
  auto* assertion = all[0];
  if (is(assertion, kAssertionNs, "EncryptedAssertion")) {
    std::string why;
    assertion = decrypt_assertion(assertion, expect.sp_private_key_pem, why);
    if (!assertion) return refuse(why);
    std::vector<xmlNode*> nested;
    descendants(assertion, kAssertionNs, "Assertion", nested);
    if (!nested.empty() || xmlHasProp(assertion, x("ID")) == nullptr ||
        xmlGetID(doc.get(), x(attr(assertion, "ID").c_str())) != nullptr) {
      return refuse("the decrypted assertion is not a single assertion with its own ID");
    }
    xmlAttr* id = xmlHasProp(assertion, x("ID"));
    xmlChar* value = xmlNodeListGetString(doc.get(), id->children, 1);
    xmlAddID(nullptr, doc.get(), value, id);
    xmlFree(value);
    if (!register_ids(doc.get(), assertion->children)) return refuse("the assertion repeats an ID");
  }
  if (!response_signed && !signature_covers(assertion, expect.idp_certificate_pem)) {
    return refuse("the signature is missing or does not verify");
  }
  if (text_of(child(assertion, kAssertionNs, "Issuer")) != expect.idp_entity_id) {
    return refuse("the assertion comes from another issuer");
  }
  auto now = expect.now;
  auto before = [&](const std::string& instant, core::TimePoint t) {
    auto p = parse_instant(instant);
    return p && *p < t;
  };
  auto* conditions = child(assertion, kAssertionNs, "Conditions");
  if (!conditions) return refuse("the assertion has no conditions");
  if (auto nb = attr(conditions, "NotBefore"); !nb.empty() && !before(nb, now + expect.skew)) {
    return refuse("the assertion is not valid yet");
  }
  if (auto noa = attr(conditions, "NotOnOrAfter"); !noa.empty() && before(noa, now - expect.skew)) {
    return refuse("the assertion has expired");
  }
  bool audience_ok = false;
  for (auto* restriction : children(conditions, kAssertionNs, "AudienceRestriction")) {
    for (auto* a : children(restriction, kAssertionNs, "Audience")) {
      if (text_of(a) == expect.sp_entity_id) audience_ok = true;
    }
  }
  if (!audience_ok) return refuse("the assertion is meant for another audience");
  auto* subject = child(assertion, kAssertionNs, "Subject");
  Assertion a;
  a.in_response_to = out.failure.in_response_to;
  a.name_id = text_of(child(subject, kAssertionNs, "NameID"));
  bool confirmed = false;
  for (auto* sc : children(subject, kAssertionNs, "SubjectConfirmation")) {
    auto* data = child(sc, kAssertionNs, "SubjectConfirmationData");
    if (attr(sc, "Method") == kBearer && data && attr(data, "Recipient") == expect.acs_url &&
        attr(data, "InResponseTo") == a.in_response_to && !attr(data, "NotOnOrAfter").empty() &&
        !before(attr(data, "NotOnOrAfter"), now)) {
      confirmed = true;
    }
  }
  if (!confirmed) return refuse("the subject confirmation does not fit this request");
  // The lowest STORK level the assertion states is the level reached.
  std::optional<int> level;
  auto take = [&](const std::string& v) {
    if (auto l = stork_level(v); l && (!level || *l < *level)) level = l;
  };
  for (auto* statement : children(assertion, kAssertionNs, "AuthnStatement")) {
    take(text_of(child(child(statement, kAssertionNs, "AuthnContext"), kAssertionNs,
                       "AuthnContextClassRef")));
  }
  for (auto* statement : children(assertion, kAssertionNs, "AttributeStatement")) {
    for (auto* at : children(statement, kAssertionNs, "Attribute")) {
      auto name = attr(at, "Name");
      // A stray space after "urn:oid:" is a known simulator bug; names are compared without.
      if (name.starts_with("urn:oid: ")) name.erase(8, 1);
      a.attributes[name] = text_of(child(at, kAssertionNs, "AttributeValue"));
    }
  }
  if (auto it = a.attributes.find(oid::kQaaLevel); it != a.attributes.end()) take(it->second);
  if (!level) return refuse("the assertion states no STORK-QAA level");
  a.level = *level;
  if (a.name_id.empty() && a.attributes.count(oid::kBpk2)) a.name_id = a.attributes[oid::kBpk2];
  if (a.name_id.empty()) return refuse("the assertion names no subject");
  out.assertion = std::move(a);
  return out;
}

std::string response(const ResponseSpec& spec, const KeyPair& key) {
  auto now = format_instant(spec.now);
  auto head = fmt::format(
      R"(<samlp:Response xmlns:samlp="{}" xmlns:saml="{}" ID="{}" InResponseTo="{}" )"
      R"(IssueInstant="{}" Destination="{}" Version="2.0"><saml:Issuer>{}</saml:Issuer>)",
      kProtocolNs, kAssertionNs, escape(spec.id), escape(spec.in_response_to), now,
      escape(spec.destination), escape(spec.issuer));
  if (!spec.failure.empty()) {
    bool cancel = spec.failure == "cancel";
    return head + fmt::format(
                      R"(<samlp:Status><samlp:StatusCode Value="{}"><samlp:StatusCode Value="{}"/>)"
                      R"(</samlp:StatusCode><samlp:StatusMessage>{}</samlp:StatusMessage>)"
                      R"(</samlp:Status></samlp:Response>)",
                      kRequester, cancel ? kAuthnFailed : kNoAuthnContext,
                      cancel ? kCancelMessage : "An error has occurred.");
  }
  std::string attributes;
  for (const auto& a : spec.attributes) {
    attributes += fmt::format(
        R"(<saml:Attribute FriendlyName="{}" Name="{}" )"
        R"(NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" akdb:TrustLevel="{}">)"
        R"(<saml:AttributeValue xsi:type="xs:string">{}</saml:AttributeValue></saml:Attribute>)",
        escape(a.friendly_name), escape(a.name), escape(a.trust_level), escape(a.value));
  }
  auto until = format_instant(spec.now + std::chrono::minutes(5));
  auto xml =
      head +
      fmt::format(
          R"(<samlp:Status><samlp:StatusCode Value="{}"/></samlp:Status>)"
          R"(<saml:Assertion xmlns:saml="{}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" )"
          R"(xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:akdb="{}" ID="{}" )"
          R"(IssueInstant="{}" Version="2.0"><saml:Issuer>{}</saml:Issuer>)"
          R"(<saml:Subject><saml:NameID SPNameQualifier="{}" )"
          R"(Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">{}</saml:NameID>)"
          R"(<saml:SubjectConfirmation Method="{}"><saml:SubjectConfirmationData )"
          R"(NotOnOrAfter="{}" Recipient="{}" InResponseTo="{}"/></saml:SubjectConfirmation>)"
          R"(</saml:Subject><saml:Conditions NotBefore="{}" NotOnOrAfter="{}">)"
          R"(<saml:AudienceRestriction><saml:Audience>{}</saml:Audience>)"
          R"(</saml:AudienceRestriction></saml:Conditions>)"
          R"(<saml:AuthnStatement AuthnInstant="{}" SessionIndex="{}"><saml:AuthnContext>)"
          R"(<saml:AuthnContextClassRef>{}{}</saml:AuthnContextClassRef></saml:AuthnContext>)"
          R"(</saml:AuthnStatement><saml:AttributeStatement>{}</saml:AttributeStatement>)"
          R"(</saml:Assertion></samlp:Response>)",
          kSuccess, kAssertionNs, kAkdbNs, escape(spec.assertion_id), now, escape(spec.issuer),
          escape(spec.audience), escape(spec.name_id), kBearer, until, escape(spec.destination),
          escape(spec.in_response_to), format_instant(spec.now - std::chrono::minutes(1)), until,
          escape(spec.audience), now, escape(spec.assertion_id), kStorkPrefix, spec.level,
          attributes);
  if (spec.encrypt_for_certificate_pem.empty()) {
    return sign_document(xml, {spec.assertion_id, spec.id}, key);
  }
  // Signed, then encrypted for the service provider, then the response signed.
  auto signed_assertion = sign_document(xml, {spec.assertion_id}, key);
  auto doc = parse(signed_assertion);
  auto* root = xmlDocGetRootElement(doc.get());
  encrypt_assertion(doc.get(), child(root, kAssertionNs, "Assertion"),
                    spec.encrypt_for_certificate_pem);
  return sign_document(serialize(doc.get()), {spec.id}, key);
}

std::string sp_metadata(const std::string& entity_id, const std::string& acs_url,
                        const std::string& certificate_pem) {
  return fmt::format(
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      "\n"
      R"(<md:EntityDescriptor xmlns:md="{}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" )"
      R"(entityID="{}"><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" )"
      R"(protocolSupportEnumeration="{}"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>)"
      R"(<ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>)"
      R"(<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data>)"
      R"(<ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>)"
      R"(<md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>)"
      R"(</md:KeyDescriptor><md:AssertionConsumerService Binding="{}" Location="{}" index="0" isDefault="true"/>)"
      R"(</md:SPSSODescriptor></md:EntityDescriptor>)"
      "\n",
      kMetadataNs, escape(entity_id), kProtocolNs, certificate_base64(certificate_pem),
      certificate_base64(certificate_pem), kPostBinding, escape(acs_url));
}

std::string idp_metadata(const std::string& entity_id, const std::string& sso_url,
                         const std::string& certificate_pem) {
  return fmt::format(
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      "\n"
      R"(<md:EntityDescriptor xmlns:md="{}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" )"
      R"(entityID="{}"><md:IDPSSODescriptor WantAuthnRequestsSigned="true" )"
      R"(protocolSupportEnumeration="{}"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>)"
      R"(<ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>)"
      R"(<md:SingleSignOnService Binding="{}" Location="{}"/>)"
      R"(</md:IDPSSODescriptor></md:EntityDescriptor>)"
      "\n",
      kMetadataNs, escape(entity_id), kProtocolNs, certificate_base64(certificate_pem),
      kPostBinding, escape(sso_url));
}

}  // namespace mvsp::identity::saml
