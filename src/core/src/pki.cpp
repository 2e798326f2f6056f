// RSA keys, self-signed certificates and signatures on OpenSSL's EVP API.
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <mvsp/core/error.hpp>
#include <mvsp/core/pki.hpp>
#include <sstream>

namespace mvsp::core::pki {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

Bio memory(std::string_view pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
}

Cert read_certificate(const std::string& pem) {
  auto bio = memory(pem);
  return Cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, X509_free);
}

const EVP_MD* md(Digest d) {
  return d == Digest::sha512 ? EVP_sha512() : EVP_sha256();
}

}  // namespace

namespace {

// A fresh RSA key and its self-signed certificate; `from` is notBefore, or an hour before
// the machine's time when absent (the older callers take no clock).
KeyPair self_signed(std::string_view common_name, const CertificateOptions& options,
                    std::optional<TimePoint> from) {
  Key pkey(EVP_RSA_gen(3072), EVP_PKEY_free);
  Cert cert(X509_new(), X509_free);
  if (!pkey || !cert) throw Failure("cannot create a key pair");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  auto days = static_cast<int>(options.valid_for.count());
  if (from) {
    std::time_t start = std::chrono::floor<std::chrono::seconds>(*from).time_since_epoch().count();
    X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &start);
    X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &start);
  } else {
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr);
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  auto add_entry = [&](const char* field, std::string_view value) {
    std::string v(value);
    X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1, 0);
  };
  add_entry("CN", common_name);
  if (!options.organization.empty()) add_entry("O", options.organization);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), pkey.get());
  if (options.document_signing) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_key_usage, "critical,digitalSignature,nonRepudiation"},
                              std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                              std::pair{NID_subject_key_identifier, "hash"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      if (!ext || X509_add_ext(cert.get(), ext, -1) != 1) {
        X509_EXTENSION_free(ext);
        throw Failure("cannot add a certificate extension");
      }
      X509_EXTENSION_free(ext);
    }
  }
  if (X509_sign(cert.get(), pkey.get(), EVP_sha256()) <= 0) {
    throw Failure("cannot sign the certificate");
  }
  auto pem = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    write(bio.get());
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
  };
  return {pem([&](BIO* b) {
            PEM_write_bio_PrivateKey(b, pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
          }),
          pem([&](BIO* b) { PEM_write_bio_X509(b, cert.get()); })};
}

}  // namespace

KeyPair generate_key_pair(std::string_view common_name) {
  return self_signed(common_name, {}, std::nullopt);
}

KeyPair generate_key_pair(std::string_view common_name, const CertificateOptions& options) {
  return self_signed(common_name, options, options.valid_from);
}

KeyPair load_or_create_key_pair(const std::filesystem::path& dir, std::string_view stem,
                                std::string_view common_name) {
  auto key_path = dir / (std::string(stem) + ".key");
  auto cert_path = dir / (std::string(stem) + ".crt");
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  if (std::filesystem::exists(key_path) && std::filesystem::exists(cert_path)) {
    return {read(key_path), read(cert_path)};
  }
  std::filesystem::create_directories(dir);
  auto pair = generate_key_pair(common_name);
  {
    auto old = umask(077);
    std::ofstream(key_path) << pair.private_key_pem;
    umask(old);
  }
  std::ofstream(cert_path) << pair.certificate_pem;
  return pair;
}

std::string rsa_sign(const std::string& private_key_pem, std::string_view data, Digest digest) {
  auto bio = memory(private_key_pem);
  Key key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr,
          EVP_PKEY_free);
  if (!key) throw Failure("the signing key is not a PEM private key");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, md(digest), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    throw Failure("cannot sign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    throw Failure("cannot sign");
  }
  sig.resize(len);
  return sig;
}

bool rsa_verify(const std::string& certificate_pem, std::string_view data,
                std::string_view signature, Digest digest) {
  auto cert = read_certificate(certificate_pem);
  if (!cert) return false;
  Key key(X509_get_pubkey(cert.get()), EVP_PKEY_free);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, md(digest), nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

std::optional<std::string> subject_common_name(const std::string& certificate_pem) {
  auto cert = read_certificate(certificate_pem);
  if (!cert) return std::nullopt;
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn) <=
      0) {
    return std::nullopt;
  }
  return std::string(cn);
}

std::optional<TimePoint> certificate_not_after(const std::string& certificate_pem) {
  auto cert = read_certificate(certificate_pem);
  if (!cert) return std::nullopt;
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) return std::nullopt;
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::from_time_t(timegm(&tm)));
}

}  // namespace mvsp::core::pki
