// POST /api/v1/notices (multipart: metadata + documents, Idempotency-Key),
// GET /api/v1/notices/{id}, …/events, …/evidence; the evidence key; and the retrieval
// confirmation an external mailbox calls.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/core/crypto.hpp>
#include <mvsp/delivery/api.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/multipart.hpp>
#include <mvsp/web/router.hpp>
#include <sstream>
#include <variant>

namespace mvsp::delivery {
namespace {

using web::Request;
using web::Response;
using Json = Poco::JSON::Object;

Response json_response(const Json& o, int status = 200) {
  std::ostringstream out;
  o.stringify(out);
  auto res = Response::json(out.str(), status);
  res.set_header("Cache-Control", "no-store");
  return res;
}

void set_time(Json& o, const char* key, const std::optional<core::TimePoint>& t) {
  if (t) o.set(key, core::format_utc(*t));
}

Json notice_json(const Notice& n) {
  Json o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("id", n.id);
  o.set("status", n.status);
  if (!n.reason.empty()) o.set("reason", n.reason);
  o.set("postalFallbackRequired", n.postal_fallback_required);
  o.set("recipient", n.recipient);
  o.set("mailboxType", n.mailbox_type);
  o.set("subject", n.subject);
  o.set("reference", n.reference);
  o.set("requiredTrustLevel", n.required_level);
  o.set("attempts", n.attempts);
  o.set("acceptedAt", core::format_utc(n.accepted_at));
  o.set("updatedAt", core::format_utc(n.updated_at));
  set_time(o, "nextAttemptAt", n.next_attempt_at);
  if (n.stored_at) {
    Json receipt(Poco::JSON_PRESERVE_KEY_ORDER);
    receipt.set("messageId", n.receipt_message_id);
    receipt.set("storedAt", core::format_utc(*n.stored_at));
    if (!n.deemed_announced_on.empty()) receipt.set("deemedAnnouncedOn", n.deemed_announced_on);
    o.set("receipt", receipt);
  }
  set_time(o, "storedAt", n.stored_at);
  set_time(o, "retrievedAt", n.retrieved_at);
  set_time(o, "documentsDeletedAt", n.documents_deleted_at);
  Poco::JSON::Array docs;
  for (const auto& d : n.documents) {
    Json doc(Poco::JSON_PRESERVE_KEY_ORDER);
    doc.set("filename", d.filename);
    doc.set("size", static_cast<Poco::Int64>(d.size));
    doc.set("sha256", d.sha256);
    docs.add(doc);
  }
  o.set("documents", docs);
  return o;
}

struct Api {
  Delivery& delivery;
  ApiOptions options;

  // The client behind the request with `scope`, or the answer that refuses it.
  std::variant<Client, Response> client(const Request& req, const char* scope) {
    auto caller = options.authenticate ? options.authenticate(req) : std::nullopt;
    if (!caller) {
      return web::problem(
          req, core::Error::unauthenticated("A bearer token of a machine client is needed."));
    }
    if (std::find(caller->scopes.begin(), caller->scopes.end(), scope) == caller->scopes.end()) {
      auto res = web::problem(
          req, core::Error::forbidden(fmt::format("The token lacks the scope {}.", scope)));
      // RFC 6750 3.1: the challenge names the scope the token lacks.
      res.set_header("WWW-Authenticate",
                     fmt::format("Bearer error=\"insufficient_scope\", scope=\"{}\"", scope));
      return res;
    }
    if (caller->tenant_id.empty()) {
      return web::problem(req,
                          core::Error::forbidden("The client belongs to no tenant (authority)."));
    }
    return Client{caller->client_id, caller->tenant_id};
  }

  Response post(Request& req) {
    auto c = client(req, "notices:write");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto parts = web::parse_multipart(req);
    if (!parts) return web::problem(req, parts.error());
    NewNotice in;
    core::Error error{core::ErrorCode::invalid_input, "The notice is not valid.", {}, {}};
    int metadata = 0;
    for (auto& p : *parts) {
      if (p.name == "metadata") {
        ++metadata;
        try {
          auto m = Poco::JSON::Parser().parse(p.body).extract<Json::Ptr>();
          if (!m) throw Poco::Exception("not an object");
          auto text = [&](const char* key, std::string& out) {
            if (!m->has(key)) return;
            if (!m->get(key).isString()) {
              error.and_field(fmt::format("metadata.{}", key), "must be a string");
              return;
            }
            out = m->getValue<std::string>(key);
          };
          text("recipient", in.recipient);
          text("subject", in.subject);
          text("body", in.body);
          text("requiredTrustLevel", in.required_level);
          text("reference", in.reference);
          std::vector<std::string> names;
          m->getNames(names);
          for (const auto& n : names) {
            if (n != "recipient" && n != "subject" && n != "body" && n != "requiredTrustLevel" &&
                n != "reference") {
              error.and_field("metadata." + n, "is not a known field");
            }
          }
        } catch (const std::exception&) {
          error.and_field("metadata", "must be a JSON object");
        }
      } else if (p.name == "document") {
        auto type = p.content_type.substr(0, p.content_type.find(';'));
        if (type != "application/pdf") {
          error.and_field(fmt::format("document[{}]", in.documents.size()),
                          "must be sent as application/pdf");
        }
        in.documents.push_back({p.filename, "application/pdf", std::move(p.body)});
      } else {
        error.and_field(p.name.empty() ? "body" : p.name,
                        "is not a known part (metadata, document)");
      }
    }
    if (metadata != 1) error.and_field("metadata", "exactly one metadata part is required");
    if (!error.fields.empty()) return web::problem(req, error);
    auto accepted =
        delivery.accept(std::get<Client>(c), in, req.header("idempotency-key").value_or(""));
    if (!accepted) return web::problem(req, accepted.error());
    auto res = json_response(notice_json(accepted->notice), 201);
    res.set_header("Location", "/api/v1/notices/" + accepted->notice.id);
    if (accepted->replayed) res.set_header("Idempotent-Replayed", "true");
    return res;
  }

  Response get(Request& req) {
    auto c = client(req, "notices:read");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto n = delivery.find(std::get<Client>(c), req.param("id"));
    if (!n) return web::problem(req, n.error());
    return json_response(notice_json(*n));
  }

  Response events(Request& req) {
    auto c = client(req, "notices:read");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto list = delivery.events(std::get<Client>(c), req.param("id"));
    if (!list) return web::problem(req, list.error());
    Json o(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Array arr;
    for (const auto& e : *list) {
      Json item(Poco::JSON_PRESERVE_KEY_ORDER);
      item.set("seq", e.seq);
      item.set("at", core::format_utc(e.at));
      item.set("step", e.step);
      item.set("status", e.status);
      item.set("detail", Poco::JSON::Parser().parse(e.detail));
      item.set("hash", e.hash);
      arr.add(item);
    }
    o.set("noticeId", req.param("id"));
    o.set("count", static_cast<int>(list->size()));
    o.set("events", arr);
    return json_response(o);
  }

  Response evidence(Request& req) {
    auto c = client(req, "notices:read");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto file = delivery.evidence(std::get<Client>(c), req.param("id"));
    if (!file) return web::problem(req, file.error());
    auto res = Response::json(*file);
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Disposition",
                   fmt::format("attachment; filename=\"nachweis-{}.json\"", req.param("id")));
    return res;
  }

  Response evidence_key(Request&) {
    Json o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("alg", "Ed25519");
    o.set("keyId", delivery.evidence_key_id());
    o.set("publicKey", core::crypto::base64(delivery.evidence_public_key()));
    return json_response(o);
  }

  Response retrieval(Request& req) {
    auto done = delivery.confirm_retrieval(req.param("id"), req.query_param("token").value_or(""));
    if (!done) return web::problem(req, done.error());
    Response res;
    res.status = 204;
    return res;
  }
};

}  // namespace

void register_api(web::Router& router, Delivery& delivery, ApiOptions options) {
  auto api = std::make_shared<Api>(Api{delivery, std::move(options)});
  // The bearer token is checked before the (up to many megabytes of) documents are read.
  router.post(
      "/api/v1/notices", [api](Request& req) { return api->post(req); },
      [api](const Request& req) -> std::optional<Response> {
        auto c = api->client(req, "notices:write");
        if (auto* refused = std::get_if<Response>(&c)) return std::move(*refused);
        return std::nullopt;
      });
  router.get("/api/v1/notices/{id}", [api](Request& req) { return api->get(req); });
  router.get("/api/v1/notices/{id}/events", [api](Request& req) { return api->events(req); });
  router.get("/api/v1/notices/{id}/evidence", [api](Request& req) { return api->evidence(req); });
  router.post("/api/v1/notices/{id}/retrieval",
              [api](Request& req) { return api->retrieval(req); });
  router.get("/api/v1/delivery/evidence-key",
             [api](Request& req) { return api->evidence_key(req); });
}

}  // namespace mvsp::delivery
