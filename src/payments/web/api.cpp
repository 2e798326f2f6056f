// POST /api/v1/payments (Idempotency-Key), GET /api/v1/payments/{id},
// GET /api/v1/payments?reference=…, POST /api/v1/payments/{id}/cancel.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <mvsp/payments/payments.hpp>
#include <mvsp/web/errors.hpp>
#include <mvsp/web/machine_clients.hpp>
#include <mvsp/web/router.hpp>
#include <sstream>
#include <variant>

#include "routes.hpp"

namespace mvsp::payments {
namespace {

using web::Request;
using web::Response;
using Json = Poco::JSON::Object;

constexpr std::size_t kMaxBody = 64 * 1024;

Response json_response(const Json& o, int status = 200) {
  std::ostringstream out;
  o.stringify(out);
  auto res = Response::json(out.str(), status);
  res.set_header("Cache-Control", "no-store");
  return res;
}

struct Api {
  Payments& payments;
  web::MachineClients& clients;
  std::string public_url;

  Json order_json(const Order& o, const std::string& token = {}) {
    Json j(Poco::JSON_PRESERVE_KEY_ORDER);
    j.set("paymentId", o.id);
    j.set("kassenzeichen", o.kassenzeichen);
    j.set("amount", static_cast<Poco::Int64>(o.amount_cents));
    j.set("currency", "EUR");
    j.set("purpose", o.purpose);
    j.set("reference", o.reference);
    j.set("authority", o.authority_id);
    Json state(Poco::JSON_PRESERVE_KEY_ORDER);
    state.set("status", std::string(info(o.state).status));
    state.set("finished", info(o.state).finished);
    j.set("state", state);
    if (!o.method.empty()) j.set("method", o.method);
    if (!o.provider_reference.empty()) j.set("providerReference", o.provider_reference);
    j.set("createdAt", core::format_utc(o.created_at));
    if (o.method != "invoice") j.set("expiresAt", core::format_utc(o.expires_at));
    if (o.paid_at) j.set("paidAt", core::format_utc(*o.paid_at));
    if (o.invoice_due) j.set("invoiceDue", *o.invoice_due);
    Json refunds(Poco::JSON_PRESERVE_KEY_ORDER);
    refunds.set("refunded", static_cast<Poco::Int64>(o.refunded_cents));
    refunds.set("available", static_cast<Poco::Int64>(
                                 o.state == State::paid ? o.amount_cents - o.refunded_cents : 0));
    j.set("refundSummary", refunds);
    j.set("returnUrl", o.return_url);
    Json links(Poco::JSON_PRESERVE_KEY_ORDER);
    Json self(Poco::JSON_PRESERVE_KEY_ORDER);
    self.set("href", public_url + "/api/v1/payments/" + o.id);
    self.set("method", "GET");
    links.set("self", self);
    if (!token.empty()) {
      Json next(Poco::JSON_PRESERVE_KEY_ORDER);
      next.set("href", fmt::format("{}/zahlung/{}?token={}", public_url, o.id, token));
      next.set("method", "GET");
      links.set("next_url", next);
    }
    j.set("_links", links);
    return j;
  }

  Response create(Request& req) {
    auto c = web::tenant_client(req, clients, "payments:write");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto& client = std::get<web::MachineClient>(c);
    auto type = req.header("content-type").value_or("");
    if (!type.starts_with("application/json")) {
      return web::problem(
          req, core::Error::unsupported_media_type("The body must be application/json."));
    }
    if (req.body.size() > kMaxBody) {
      return web::problem(req, core::Error::invalid("body", "must be at most 64 KiB"));
    }
    NewOrder in;
    core::Error error{core::ErrorCode::invalid_input, "The payment is not valid.", {}, {}};
    try {
      auto parsed = Poco::JSON::Parser().parse(req.body);
      auto o = parsed.extract<Json::Ptr>();
      if (!o) throw Poco::Exception("not an object");
      auto text = [&](const Json::Ptr& obj, const std::string& prefix, const char* key,
                      std::string& out) {
        if (!obj->has(key)) return;
        if (!obj->get(key).isString()) {
          error.and_field(prefix + key, "must be a string");
          return;
        }
        out = obj->getValue<std::string>(key);
      };
      auto known = [&](const Json::Ptr& obj, const std::string& prefix,
                       std::initializer_list<const char*> keys) {
        std::vector<std::string> names;
        obj->getNames(names);
        for (const auto& n : names) {
          if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return n == k; })) {
            error.and_field(prefix + n, "is not a known field");
          }
        }
      };
      known(o, "",
            {"authority", "amount", "purpose", "reference", "returnUrl", "language", "payer"});
      text(o, "", "authority", in.authority_id);
      text(o, "", "purpose", in.purpose);
      text(o, "", "reference", in.reference);
      text(o, "", "returnUrl", in.return_url);
      text(o, "", "language", in.language);
      if (!o->has("amount")) {
        error.and_field("amount", "is required (an integer number of cents)");
      } else {
        auto v = o->get("amount");
        if (v.isBoolean() || !v.isInteger()) {
          error.and_field("amount", "must be an integer number of cents");
        } else {
          in.amount_cents = v.convert<Poco::Int64>();
        }
      }
      if (o->has("payer")) {
        auto p = o->getObject("payer");
        if (!p) {
          error.and_field("payer", "must be an object");
        } else {
          known(p, "payer.",
                {"name", "firstName", "organisation", "email", "street", "houseNumber", "postcode",
                 "city", "country"});
          text(p, "payer.", "name", in.payer.name);
          text(p, "payer.", "firstName", in.payer.first_name);
          text(p, "payer.", "email", in.payer.email);
          text(p, "payer.", "street", in.payer.street);
          text(p, "payer.", "houseNumber", in.payer.house_number);
          text(p, "payer.", "postcode", in.payer.postcode);
          text(p, "payer.", "city", in.payer.city);
          text(p, "payer.", "country", in.payer.country);
          if (p->has("organisation")) {
            if (!p->get("organisation").isBoolean()) {
              error.and_field("payer.organisation", "must be true or false");
            } else {
              in.payer.organisation = p->getValue<bool>("organisation");
            }
          }
        }
      }
    } catch (const std::exception&) {
      return web::problem(req, core::Error::invalid("body", "must be a JSON object"));
    }
    if (!error.fields.empty()) return web::problem(req, error);
    in.fee_rule.fixed_cents = in.amount_cents;
    auto created = payments.create({client.client_id, client.tenant_id}, in,
                                   req.header("idempotency-key").value_or(""));
    if (!created) return web::problem(req, created.error());
    auto res = json_response(order_json(created->order, created->pay_token),
                             created->replayed ? 200 : 201);
    res.set_header("Location", public_url + "/api/v1/payments/" + created->order.id);
    if (created->replayed) res.set_header("Idempotent-Replayed", "true");
    return res;
  }

  Response read(Request& req) {
    auto c = web::tenant_client(req, clients, "payments:read");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto o = payments.find(std::get<web::MachineClient>(c).tenant_id, req.param("id"));
    if (!o) return web::problem(req, o.error());
    return json_response(order_json(*o));
  }

  Response list(Request& req) {
    auto c = web::tenant_client(req, clients, "payments:read");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto reference = req.query_param("reference");
    if (!reference || reference->empty()) {
      return web::problem(req, core::Error::invalid("reference", "is required"));
    }
    Poco::JSON::Array items;
    for (const auto& o :
         payments.by_reference(std::get<web::MachineClient>(c).tenant_id, *reference)) {
      items.add(order_json(o));
    }
    Json out(Poco::JSON_PRESERVE_KEY_ORDER);
    out.set("payments", items);
    return json_response(out);
  }

  Response cancel(Request& req) {
    auto c = web::tenant_client(req, clients, "payments:write");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    auto& client = std::get<web::MachineClient>(c);
    auto o = payments.cancel(client.tenant_id, req.param("id"), "client:" + client.client_id);
    if (!o) return web::problem(req, o.error());
    return json_response(order_json(*o));
  }
};

}  // namespace

void register_api(web::Router& router, Payments& payments, web::MachineClients& clients,
                  std::string public_url) {
  auto api = std::make_shared<Api>(Api{payments, clients, std::move(public_url)});
  // A caller without the token is refused on the head, before the body is read.
  auto head = [&clients](const Request& req) -> std::optional<Response> {
    auto c = web::tenant_client(req, clients, "payments:write");
    if (auto* r = std::get_if<Response>(&c)) return *r;
    return std::nullopt;
  };
  router.post(
      "/api/v1/payments", [api](Request& req) { return api->create(req); }, head);
  router.get("/api/v1/payments", [api](Request& req) { return api->list(req); });
  router.get("/api/v1/payments/{id}", [api](Request& req) { return api->read(req); });
  router.post(
      "/api/v1/payments/{id}/cancel", [api](Request& req) { return api->cancel(req); }, head);
}

}  // namespace mvsp::payments
