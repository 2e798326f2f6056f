// The ZBP message_v6 envelope (shared/reference/interop/zbp/FACTS.md) and the adapter
// that posts it, with the documents, to a BundID or MUK mailbox endpoint.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <chrono>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/pki.hpp>
#include <mvsp/delivery/adapters.hpp>
#include <mvsp/web/client.hpp>
#include <mvsp/web/multipart.hpp>
#include <regex>
#include <sstream>

namespace mvsp::delivery {
namespace {

using core::Error;
using core::fail;

std::string stringify(const Poco::JSON::Object& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

bool is_uuid(std::string_view s) {
  static const std::regex kUuid(
      "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
      "[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  return std::regex_match(s.begin(), s.end(), kUuid);
}

std::string author_token(const ZbpOptions& options, core::TimePoint now) {
  auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Poco::JSON::Object header(Poco::JSON_PRESERVE_KEY_ORDER);
  header.set("typ", "JWT");
  header.set("alg", "RS512");
  Poco::JSON::Object claims(Poco::JSON_PRESERVE_KEY_ORDER);
  claims.set("iat", iat);
  claims.set("exp", iat + 1800);
  claims.set("signer", core::pki::subject_common_name(options.author_certificate_pem).value_or(""));
  Poco::JSON::Array roles;
  roles.add("THIRD_PARTY");
  claims.set("roles", roles);
  auto input =
      core::crypto::base64url(stringify(header)) + "." + core::crypto::base64url(stringify(claims));
  return input + "." +
         core::crypto::base64url(
             core::pki::rsa_sign(options.author_key_pem, input, core::pki::Digest::sha512));
}

class ZbpAdapter final : public MailboxAdapter {
 public:
  explicit ZbpAdapter(ZbpOptions options) : options_(std::move(options)) {
    if (!options_.clock || !options_.fetch) {
      throw core::Failure("the ZBP adapter needs a clock and a transport");
    }
  }

  std::string type() const override { return options_.type; }
  bool valid_address(std::string_view address) const override { return is_uuid(address); }

  DeliveryResult deliver(const OutgoingNotice& notice) override {
    std::vector<web::Part> parts;
    parts.push_back(
        {"message", "", "application/json", zbp_envelope(notice, options_, options_.clock->now())});
    for (const auto& d : notice.documents) {
      parts.push_back({"attachment", d.filename, d.media_type, d.content});
    }
    auto body = web::build_multipart(parts);
    std::vector<std::pair<std::string, std::string>> headers{
        {"Content-Type", body.content_type},
        {"Accept", "application/json"},
        // The same notice is the same message: a receiver stores it once.
        {"Idempotency-Key", notice.id}};
    if (!options_.bearer_token.empty()) {
      headers.emplace_back("Authorization", "Bearer " + options_.bearer_token);
    }
    auto answer = options_.fetch("POST", options_.endpoint + "/messages", headers, body.body);
    if (!answer) {
      return std::unexpected(DeliveryFailure{false, "unreachable", answer.error().message});
    }
    std::string error_code;
    Poco::JSON::Object::Ptr json;
    try {
      json = Poco::JSON::Parser().parse(answer->body).extract<Poco::JSON::Object::Ptr>();
      if (json && json->has("error")) error_code = json->getValue<std::string>("error");
    } catch (const Poco::Exception&) {
      json = nullptr;
    }
    auto status = answer->status;
    auto detail = fmt::format("HTTP {} {}", status, error_code);
    if (status == 200 || status == 201) {
      if (!json || !json->has("messageId")) {
        return std::unexpected(
            DeliveryFailure{false, "bad_receipt", detail + " without messageId"});
      }
      DeliveryReceipt r{json->getValue<std::string>("messageId"), options_.clock->now(), ""};
      return r;
    }
    // The account or mailbox is gone, or the message is refused as it is: no retry helps.
    if (status == 404 || status == 410) {
      return std::unexpected(
          DeliveryFailure{true, error_code.empty() ? "mailbox_not_found" : error_code, detail});
    }
    if (status == 400 || status == 413 || status == 415 || status == 422) {
      return std::unexpected(DeliveryFailure{true, "rejected", detail});
    }
    return std::unexpected(DeliveryFailure{false, "unavailable", detail});
  }

 private:
  ZbpOptions options_;
};

}  // namespace

int stork_level(identity::TrustLevel level) {
  return static_cast<int>(level) + 1;
}

std::string zbp_envelope(const OutgoingNotice& notice, const ZbpOptions& options,
                         core::TimePoint now) {
  // The payload, in the field order of message_v6; optional fields only when set.
  Poco::JSON::Object m(Poco::JSON_PRESERVE_KEY_ORDER);
  m.set("stork_qaa_level", stork_level(notice.required_level));
  m.set("mailboxUuid", notice.address);
  m.set("sender", notice.sender.substr(0, 255));
  m.set("title", notice.subject.substr(0, 1024));
  m.set("content", notice.body.empty() ? notice.subject : notice.body);
  m.set("service", options.service.substr(0, 255));
  if (!notice.retrieval_confirmation_url.empty()) {
    m.set("retrievalConfirmationAddress", notice.retrieval_confirmation_url.substr(0, 320));
  }
  if (!notice.reference.empty()) m.set("reference", notice.reference.substr(0, 255));
  Poco::JSON::Array attachments;
  for (const auto& d : notice.documents) {
    Poco::JSON::Object a(Poco::JSON_PRESERVE_KEY_ORDER);
    a.set("filename", d.filename);
    a.set("sha512sum", d.sha512);
    a.set("contentLength", static_cast<Poco::Int64>(d.content.size()));
    attachments.add(a);
  }
  if (!notice.documents.empty()) m.set("attachments", attachments);
  auto content = stringify(m);
  Poco::JSON::Object envelope(Poco::JSON_PRESERVE_KEY_ORDER);
  envelope.set("content", content);
  // Despite its name: the RSA signature over the content, not a digest.
  envelope.set("sha512sum", core::crypto::base64(core::pki::rsa_sign(
                                options.author_key_pem, content, core::pki::Digest::sha512)));
  envelope.set("authorToken", author_token(options, now));
  envelope.set("authorCertificate", options.author_certificate_pem);
  return stringify(envelope);
}

core::Result<ZbpMessage> open_zbp_envelope(std::string_view json, core::TimePoint now) {
  Poco::JSON::Object::Ptr envelope;
  try {
    envelope = Poco::JSON::Parser().parse(std::string(json)).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    return fail(Error::invalid("message", "is not a JSON object"));
  }
  if (!envelope) return fail(Error::invalid("message", "is not a JSON object"));
  for (const char* k : {"content", "sha512sum", "authorToken", "authorCertificate"}) {
    if (!envelope->has(k) || !envelope->get(k).isString()) {
      return fail(Error::invalid(k, "is required as a string"));
    }
  }
  auto content = envelope->getValue<std::string>("content");
  auto cert = envelope->getValue<std::string>("authorCertificate");
  auto signer = core::pki::subject_common_name(cert);
  if (!signer)
    return fail(Error::invalid("authorCertificate", "must be a PEM certificate with a CN"));
  auto signature = core::crypto::base64_decode(envelope->getValue<std::string>("sha512sum"));
  if (!signature || !core::pki::rsa_verify(cert, content, *signature, core::pki::Digest::sha512)) {
    return fail(Error::invalid("sha512sum", "is not a valid RSA-SHA512 signature of content"));
  }
  // The author token: RS512 by the same key, not expired, naming the same signer.
  auto token = envelope->getValue<std::string>("authorToken");
  auto dot1 = token.find('.');
  auto dot2 = token.rfind('.');
  if (dot1 == std::string::npos || dot2 == dot1) {
    return fail(Error::invalid("authorToken", "must be a compact JWS"));
  }
  auto header = core::crypto::base64_decode(token.substr(0, dot1), true);
  auto claims_text = core::crypto::base64_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), true);
  auto token_sig = core::crypto::base64_decode(token.substr(dot2 + 1), true);
  if (!header || !claims_text || !token_sig || header->find("\"RS512\"") == std::string::npos ||
      !core::pki::rsa_verify(cert, token.substr(0, dot2), *token_sig, core::pki::Digest::sha512)) {
    return fail(Error::invalid("authorToken", "must be signed RS512 by the author's key"));
  }
  ZbpMessage msg;
  msg.signer = *signer;
  try {
    auto claims = Poco::JSON::Parser().parse(*claims_text).extract<Poco::JSON::Object::Ptr>();
    auto exp = claims->getValue<Poco::Int64>("exp");
    auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (exp < now_s) return fail(Error::invalid("authorToken", "has expired"));
    if (claims->optValue<std::string>("signer", "") != *signer) {
      return fail(Error::invalid("authorToken", "names another signer than the certificate"));
    }
    auto m = Poco::JSON::Parser().parse(content).extract<Poco::JSON::Object::Ptr>();
    auto required = [&](const char* k, std::size_t max) -> core::Status {
      if (!m->has(k) || !m->get(k).isString()) return fail(Error::invalid(k, "is required"));
      auto v = m->getValue<std::string>(k);
      if (v.empty() || v.size() > max) {
        return fail(Error::invalid(k, fmt::format("must have 1 to {} characters", max)));
      }
      return {};
    };
    for (auto [k, max] :
         std::initializer_list<std::pair<const char*, std::size_t>>{{"mailboxUuid", 36},
                                                                    {"sender", 255},
                                                                    {"title", 1024},
                                                                    {"content", 1000000},
                                                                    {"service", 255}}) {
      if (auto ok = required(k, max); !ok) return fail(ok.error());
    }
    msg.stork_qaa_level = m->optValue<int>("stork_qaa_level", 0);
    if (msg.stork_qaa_level < 1 || msg.stork_qaa_level > 4) {
      return fail(Error::invalid("stork_qaa_level", "must be 1 to 4"));
    }
    msg.mailbox_uuid = m->getValue<std::string>("mailboxUuid");
    if (!is_uuid(msg.mailbox_uuid)) return fail(Error::invalid("mailboxUuid", "must be a UUID"));
    msg.sender = m->getValue<std::string>("sender");
    msg.title = m->getValue<std::string>("title");
    msg.content = m->getValue<std::string>("content");
    msg.service = m->getValue<std::string>("service");
    msg.reference = m->optValue<std::string>("reference", "");
    msg.retrieval_confirmation_address =
        m->optValue<std::string>("retrievalConfirmationAddress", "");
    if (auto list = m->getArray("attachments")) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        auto a = list->getObject(static_cast<unsigned>(i));
        if (!a) return fail(Error::invalid(fmt::format("attachments[{}]", i), "must be an object"));
        msg.attachments.push_back({a->optValue<std::string>("filename", ""),
                                   a->optValue<std::string>("sha512sum", ""),
                                   a->optValue<Poco::Int64>("contentLength", -1)});
      }
    }
  } catch (const Poco::Exception& e) {
    return fail(Error::invalid("content", "is not a message_v6 object"));
  }
  return msg;
}

std::unique_ptr<MailboxAdapter> make_zbp_adapter(ZbpOptions options) {
  return std::make_unique<ZbpAdapter>(std::move(options));
}

}  // namespace mvsp::delivery
