// The XBezahldienste 1.0 adapter (shared/reference/interop/xbezahldienste/FACTS.md) with
// the mvsp extensions for cancellation, refunds and signed pushes (docs/payments.md).
#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/payments/provider.hpp>

#include "xbezahldienste_wire.hpp"

namespace mvsp::payments {
namespace {

using core::Error;
using core::fail;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kMaxPurpose = 27;
constexpr std::size_t kMaxDescription = 250;
constexpr std::size_t kMaxText = 250;
constexpr std::size_t kMaxUrl = 2082;
constexpr std::size_t kMaxStatusDetail = 99;
constexpr std::size_t kMaxReference = 36;
// What of a provider's refusal goes into our message: its code and the start of its detail.
constexpr std::size_t kMaxQuotedDetail = 300;

// ---- text ----------------------------------------------------------------------------

// At most `max` code points of valid UTF-8.
std::string truncate_text(std::string_view s, std::size_t max) {
  std::size_t pos = 0;
  std::size_t count = 0;
  while (pos < s.size() && count < max) {
    pos += xbez::code_point_at(s, pos).second;
    ++count;
  }
  return std::string(s.substr(0, pos));
}

bool is_word_char(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Runs of spaces become one, and none at either end.
std::string squeeze_spaces(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The booking text in the spec's `^[\w\d\s-]+$` (ASCII): German letters spelled out, every
// other character a space, at most 27 characters. Banks print it on statements, so it
// must survive every system on the way.
std::string purpose_text(std::string_view s) {
  std::string out;
  for (std::size_t pos = 0; pos < s.size();) {
    auto [cp, len] = xbez::code_point_at(s, pos);
    pos += len;
    switch (cp) {
      case U'ä':
        out += "ae";
        break;
      case U'ö':
        out += "oe";
        break;
      case U'ü':
        out += "ue";
        break;
      case U'Ä':
        out += "Ae";
        break;
      case U'Ö':
        out += "Oe";
        break;
      case U'Ü':
        out += "Ue";
        break;
      case U'ß':
        out += "ss";
        break;
      default:
        out += is_word_char(cp) || cp == '-' ? static_cast<char>(cp) : ' ';
    }
  }
  return squeeze_spaces(squeeze_spaces(out).substr(0, kMaxPurpose));
}

// The description in the spec's `^[\w\d\s-,\.\u00C0-\u017F]+$`: Latin letters with their
// accents stay, anything else becomes a space; at most 250 characters.
std::string description_text(std::string_view text) {
  // Overlong and other ill-formed sequences become U+FFFD first, which the rule refuses.
  auto valid = core::repair_utf8(text);
  std::string_view s = valid;
  std::string out;
  for (std::size_t pos = 0; pos < s.size();) {
    auto [cp, len] = xbez::code_point_at(s, pos);
    if (is_word_char(cp) || cp == '-' || cp == ',' || cp == '.' || (cp >= 0xC0 && cp <= 0x17F)) {
      out.append(s.substr(pos, len));
    } else {
      out += ' ';
    }
    pos += len;
  }
  return squeeze_spaces(truncate_text(squeeze_spaces(out), kMaxDescription));
}

// A JSON string; UTF-8 passes through (the caller made it valid).
std::string quote(std::string_view s) {
  std::string out;
  core::append_json_string(out, s);
  return out;
}

// A JSON object written member by member, so that amounts keep their two decimals (a JSON
// library would write a double).
class JsonObject {
 public:
  JsonObject& raw(std::string_view key, std::string_view json) {
    if (!text_.empty()) text_ += ',';
    text_ += quote(key);
    text_ += ':';
    text_ += json;
    return *this;
  }
  JsonObject& str(std::string_view key, std::string_view value) { return raw(key, quote(value)); }
  // Only when there is something to say: the provider's page shows what it gets.
  JsonObject& str_if(std::string_view key, std::string_view value) {
    return value.empty() ? *this : str(key, value);
  }
  std::string text() const { return "{" + text_ + "}"; }

 private:
  std::string text_;
};

bool is_http_url(std::string_view url) {
  if (url.size() > kMaxUrl) return false;
  std::string lower = core::fold_case(url.substr(0, 8));
  std::size_t host;
  if (lower.starts_with("https://")) {
    host = 8;
  } else if (lower.starts_with("http://")) {
    host = 7;
  } else {
    return false;
  }
  if (host >= url.size() || url[host] == '/') return false;
  return std::none_of(url.begin(), url.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b <= 0x20 || b == 0x7F || c == '\\';
  });
}

// ---- answers -------------------------------------------------------------------------

Poco::JSON::Object::Ptr parse_object(const std::string& body) {
  try {
    auto value = Poco::JSON::Parser().parse(body);
    if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
      return value.extract<Poco::JSON::Object::Ptr>();
    }
  } catch (const Poco::Exception&) {
  } catch (const std::exception&) {
  }
  return nullptr;
}

std::string string_member(const Poco::JSON::Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key)) return {};
  auto v = o->get(key);
  if (!v.isString()) return {};
  return v.extract<std::string>();
}

std::string excerpt(const std::string& body) {
  return truncate_text(core::repair_utf8(body), 500);
}

enum class Meaning { create, read, change };

// A provider's refusal or failure, as our taxonomy says it. Server errors and timeouts are
// worth another try; a 4xx is about this request (its functionalCode and detail go into
// the message so staff can act on them).
Error answer_error(const web::HttpAnswer& answer, std::string_view what, Meaning meaning) {
  auto problem = parse_object(answer.body);
  auto code = string_member(problem, "functionalCode");
  auto detail =
      truncate_text(core::repair_utf8(string_member(problem, "detail")), kMaxQuotedDetail);
  std::string said = code.empty() ? fmt::format("HTTP {}", answer.status) : code;
  if (!detail.empty()) said += ": " + detail;
  auto internal = fmt::format("HTTP {}: {}", answer.status, excerpt(answer.body));
  auto message = fmt::format("the payment provider refused {} ({})", what, said);
  int s = answer.status;
  if (s >= 500 || s == 408 || s == 429 || s < 400) {
    return Error::unavailable(
        fmt::format("the payment provider could not answer {} ({})", what, said), internal);
  }
  if (s == 404 && meaning != Meaning::create) {
    Error e = Error::not_found(fmt::format("the payment provider does not know {}", what));
    e.detail = internal;
    return e;
  }
  if (s == 409 && meaning == Meaning::change) {
    Error e = Error::conflict(message);
    e.detail = internal;
    return e;
  }
  Error e = Error::invalid("provider", message);
  e.detail = internal;
  return e;
}

Error unusable(std::string_view what, const web::HttpAnswer& answer) {
  return Error::unavailable(fmt::format("the payment provider's answer to {} cannot be used", what),
                            fmt::format("HTTP {}: {}", answer.status, excerpt(answer.body)));
}

std::optional<ProviderState> parse_state(std::string_view s) {
  if (s == "INITIAL") return ProviderState::pending;
  if (s == "PAYED") return ProviderState::paid;
  if (s == "CANCELED") return ProviderState::cancelled;
  if (s == "FAILED") return ProviderState::failed;
  return std::nullopt;
}

std::string known_method(const std::string& m) {
  for (const char* known : {"GIROPAY", "PAYDIRECT", "CREDITCARD", "PAYPAL", "OTHER"}) {
    if (m == known) return m;
  }
  return m.empty() ? std::string() : std::string("OTHER");
}

// The provider's status fields (of a PaymentInformation or a push) as ours.
std::optional<ProviderStatus> read_status(const Poco::JSON::Object::Ptr& info) {
  auto state = parse_state(string_member(info, "status"));
  if (!state) return std::nullopt;
  ProviderStatus status;
  status.state = *state;
  status.detail =
      truncate_text(core::repair_utf8(string_member(info, "statusDetail")), kMaxStatusDetail);
  if (*state == ProviderState::paid) {
    status.method = known_method(string_member(info, "paymentMethod"));
    status.reference = truncate_text(core::repair_utf8(string_member(info, "transactionReference")),
                                     kMaxReference);
    status.paid_at = xbez::parse_timestamp(string_member(info, "transactionTimestamp"));
  }
  return status;
}

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (core::fold_case(k) == name) return v;
  }
  return std::nullopt;
}

// ---- the adapter ---------------------------------------------------------------------

class XBezahldiensteProvider final : public Provider {
 public:
  explicit XBezahldiensteProvider(XBezahldiensteOptions options) : options_(std::move(options)) {
    while (options_.base_url.ends_with('/')) options_.base_url.pop_back();
    if (!options_.fetch) throw core::Failure("the XBezahldienste adapter needs a transport");
    if (!is_http_url(options_.base_url)) {
      throw core::Failure(
          fmt::format("payment provider {}: base_url must be an http(s) URL", options_.name));
    }
    if (!xbez::is_protocol_id(options_.originator_id, xbez::kMaxId)) {
      throw core::Failure(fmt::format(
          "payment provider {}: originator_id must be 1-36 characters of A-Z, a-z, 0-9, _ and -",
          options_.name));
    }
  }

  const std::string& name() const override { return options_.name; }

  core::Result<ProviderPayment> create(const ProviderRequest& request) override {
    if (!xbez::is_protocol_id(request.endpoint_id, xbez::kMaxId)) {
      return fail(Error::invalid("endpoint_id", "1-36 characters of A-Z, a-z, 0-9, _ and -"));
    }
    if (!xbez::is_protocol_id(request.request_id, xbez::kMaxId)) {
      return fail(Error::invalid("request_id", "1-36 characters of A-Z, a-z, 0-9, _ and -"));
    }
    if (request.amount_cents <= 0 || request.amount_cents > xbez::kMaxAmountCents) {
      return fail(Error::invalid("amount_cents", "more than 0 and at most 999999 euros"));
    }
    if (!is_http_url(request.return_url)) {
      return fail(Error::invalid("return_url", "an http(s) URL of at most 2082 characters"));
    }
    JsonObject booking;
    for (const auto& [key, value] : request.booking_data) {
      // Booking data reach the cash office as they are: cut short they would book wrongly.
      if (key.empty() || key.size() > kMaxText || !core::valid_utf8(key) ||
          !core::valid_utf8(value) || truncate_text(value, kMaxText).size() != value.size()) {
        return fail(Error::invalid("booking_data." + key, "at most 250 characters of UTF-8"));
      }
      booking.str(key, value);
    }
    auto body = request_body(request, booking);
    auto answer = send("POST", collection_url(request.endpoint_id), body, "the payment request");
    if (!answer) return fail(answer.error());
    if (answer->status != 200 && answer->status != 201) {
      return fail(answer_error(*answer, "the payment request", Meaning::create));
    }
    auto json = parse_object(answer->body);
    auto info = json ? json->getObject("paymentInformation") : nullptr;
    ProviderPayment payment{string_member(info, "transactionId"),
                            string_member(info, "transactionRedirectUrl")};
    if (!xbez::is_protocol_id(payment.transaction_id, xbez::kMaxTransactionId) ||
        !is_http_url(payment.redirect_url)) {
      return fail(unusable("the payment request", *answer));
    }
    payment.transaction_id = handle(request.endpoint_id, payment.transaction_id);
    return payment;
  }

  core::Result<ProviderStatus> status(const std::string& transaction_id) override {
    auto url = transaction_url(transaction_id);
    if (!url) return fail(url.error());
    auto answer = send("GET", *url, "", "the transaction");
    if (!answer) return fail(answer.error());
    if (answer->status != 200) {
      return fail(answer_error(*answer, "the transaction", Meaning::read));
    }
    auto json = parse_object(answer->body);
    // GET answers {paymentRequest, paymentInformation}; a bare PaymentInformation is read too.
    auto info =
        json && json->has("paymentInformation") ? json->getObject("paymentInformation") : json;
    auto echoed = string_member(info, "transactionId");
    if (!echoed.empty() && !transaction_id.ends_with("." + echoed)) {
      return fail(unusable("the transaction", *answer));
    }
    auto status = read_status(info);
    if (!status) return fail(unusable("the transaction", *answer));
    return *status;
  }

  core::Status cancel(const std::string& transaction_id) override {
    if (!options_.extensions) {
      return fail(Error::conflict("this payment provider cannot cancel a transaction"));
    }
    auto url = transaction_url(transaction_id);
    if (!url) return fail(url.error());
    auto answer = send("DELETE", *url, "", "the cancellation");
    if (!answer) return fail(answer.error());
    if (answer->status == 200 || answer->status == 204) return {};
    if (answer->status == 409) {
      Error e = Error::conflict("the transaction is already paid");
      e.detail = fmt::format("HTTP 409: {}", excerpt(answer->body));
      return fail(std::move(e));
    }
    return fail(answer_error(*answer, "the cancellation", Meaning::change));
  }

  core::Result<ProviderRefund> refund(const std::string& transaction_id,
                                      const std::string& refund_id,
                                      std::int64_t amount_cents) override {
    if (!options_.extensions) {
      return fail(Error::conflict("this payment provider cannot refund"));
    }
    if (!xbez::is_protocol_id(refund_id, xbez::kMaxId)) {
      return fail(Error::invalid("refund_id", "1-36 characters of A-Z, a-z, 0-9, _ and -"));
    }
    if (amount_cents <= 0 || amount_cents > xbez::kMaxAmountCents) {
      return fail(Error::invalid("amount_cents", "more than 0 and at most 999999 euros"));
    }
    auto url = transaction_url(transaction_id);
    if (!url) return fail(url.error());
    auto body = JsonObject()
                    .str("refundId", refund_id)
                    .raw("amount", xbez::format_amount(amount_cents))
                    .text();
    auto answer = send("POST", *url + "/refunds", body, "the refund");
    if (!answer) return fail(answer.error());
    if (answer->status != 200 && answer->status != 201) {
      return fail(answer_error(*answer, "the refund", Meaning::change));
    }
    auto json = parse_object(answer->body);
    auto state = string_member(json, "status");
    ProviderRefund refund;
    if (state == "SUCCEEDED") {
      refund.state = RefundState::success;
    } else if (state == "PENDING") {
      refund.state = RefundState::submitted;
    } else if (state == "FAILED") {
      refund.state = RefundState::failed;
    } else {
      return fail(unusable("the refund", *answer));
    }
    if (string_member(json, "refundId") != refund_id) return fail(unusable("the refund", *answer));
    refund.reference =
        truncate_text(core::repair_utf8(string_member(json, "reference")), kMaxReference);
    refund.detail =
        truncate_text(core::repair_utf8(string_member(json, "statusDetail")), kMaxStatusDetail);
    return refund;
  }

  core::Result<Notification> read_notification(const Headers& headers, const std::string& body,
                                               core::TimePoint now) override {
    if (!options_.extensions || options_.notification_secret.empty()) {
      return fail(Error::unauthenticated("this payment provider sends no signed pushes"));
    }
    auto timestamp = find_header(headers, xbez::kTimestampHeader);
    auto signature = find_header(headers, xbez::kSignatureHeader);
    if (!timestamp || !signature) {
      return fail(Error::unauthenticated("the push carries no signature"));
    }
    std::int64_t seconds = 0;
    auto [end, ec] =
        std::from_chars(timestamp->data(), timestamp->data() + timestamp->size(), seconds);
    if (ec != std::errc() || end != timestamp->data() + timestamp->size() || timestamp->empty()) {
      return fail(Error::unauthenticated("the push's timestamp is not a number"));
    }
    auto expected = xbez::notification_signature(options_.notification_secret, *timestamp, body);
    if (!core::crypto::equal_constant_time(expected, core::fold_case(core::trim(*signature)))) {
      return fail(Error::unauthenticated("the push's signature is wrong"));
    }
    // Checked after the signature, so a replayed push cannot be told apart by the answer.
    auto age =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() - seconds;
    if (age > options_.notification_window.count() || -age > options_.notification_window.count()) {
      return fail(Error::unauthenticated("the push is too old"));
    }
    auto json = parse_object(body);
    auto transaction_id = string_member(json, "transactionId");
    auto endpoint_id = string_member(json, "endPointId");
    if (!xbez::is_protocol_id(transaction_id, xbez::kMaxTransactionId)) {
      return fail(Error::invalid("transactionId", "missing or not an XBezahldienste id"));
    }
    if (!xbez::is_protocol_id(endpoint_id, xbez::kMaxId)) {
      return fail(Error::invalid("endPointId", "missing or not an XBezahldienste id"));
    }
    if (string_member(json, "originatorId") != options_.originator_id) {
      return fail(Error::invalid("originatorId", "not this installation's originatorId"));
    }
    Notification n;
    n.transaction_id = handle(endpoint_id, transaction_id);
    auto status = read_status(json);
    if (!status) return fail(Error::invalid("status", "not a status of XBezahldienste"));
    n.status = std::move(*status);
    return n;
  }

 private:
  std::string request_body(const ProviderRequest& request, const JsonObject& booking) const {
    auto purpose = purpose_text(request.purpose);
    if (purpose.empty()) purpose = request.request_id.substr(0, kMaxPurpose);
    auto description = description_text(request.description);
    if (description.empty()) description = purpose;
    auto amount = xbez::format_amount(request.amount_cents);
    auto item = JsonObject()
                    .str("id", request.request_id)
                    .str("reference", purpose)
                    .str("description", description)
                    .raw("taxRate", "0")
                    .raw("quantity", "1")
                    .raw("totalNetAmount", amount)
                    .raw("totalTaxAmount", "0.00")
                    .raw("singleNetAmount", amount)
                    .raw("singleTaxAmount", "0.00")
                    .raw("bookingData", booking.text());
    return JsonObject()
        .str("requestId", request.request_id)
        .str("requestTimestamp", core::format_utc(request.requested_at))
        .str("currency", "EUR")
        .raw("grosAmount", amount)
        .str("purpose", purpose)
        .str("description", description)
        .str("redirectUrl", request.return_url)
        .raw("items", "[" + item.text() + "]")
        .raw("requestor", requestor(request.payer))
        .text();
  }

  static std::string requestor(const Payer& p) {
    auto text = [](const std::string& s, std::size_t max) {
      return truncate_text(core::repair_utf8(s), max);
    };
    std::string postcode;
    for (char c : p.postcode) {
      if (c >= '0' && c <= '9' && postcode.size() < 5) postcode += c;
    }
    JsonObject address;
    address.str_if("street", text(p.street, kMaxText))
        .str_if("houseNumber", text(p.house_number, 20))
        .str_if("postalCode", postcode)
        .str_if("city", text(p.city, kMaxText));
    if (p.country.size() == 2 && std::all_of(p.country.begin(), p.country.end(),
                                             [](char c) { return c >= 'A' && c <= 'Z'; })) {
      address.str("country", p.country);
    }
    JsonObject o;
    o.str_if("name", text(p.name, kMaxText))
        .raw("isOrganization", p.organisation ? "true" : "false");
    if (p.organisation) {
      o.str_if("organizationName", text(p.name, kMaxText));
    } else {
      o.str_if("firstName", text(p.first_name, kMaxText));
    }
    return o.raw("address", address.text()).text();
  }

  std::string collection_url(const std::string& endpoint_id) const {
    return fmt::format("{}/paymenttransaction/{}/{}", options_.base_url, options_.originator_id,
                       endpoint_id);
  }

  // The port's transaction id: a transaction's URL needs its endPointId besides the
  // provider's transactionId, and the port passes only one string, so it carries both
  // ("{endPointId}.{transactionId}"; '.' is in neither id's alphabet).
  static std::string handle(const std::string& endpoint_id, const std::string& transaction_id) {
    return endpoint_id + "." + transaction_id;
  }

  core::Result<std::string> transaction_url(const std::string& handle) const {
    auto dot = handle.find('.');
    if (dot == std::string::npos || !xbez::is_protocol_id(handle.substr(0, dot), xbez::kMaxId) ||
        !xbez::is_protocol_id(handle.substr(dot + 1), xbez::kMaxTransactionId)) {
      return fail(
          Error::invalid("transaction_id", "{endPointId}.{transactionId} as create() returned it"));
    }
    return collection_url(handle.substr(0, dot)) + "/" + handle.substr(dot + 1);
  }

  core::Result<web::HttpAnswer> send(const std::string& method, const std::string& url,
                                     const std::string& body, std::string_view what) const {
    Headers headers{{"Accept", "application/json"}};
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    if (!options_.basic_user.empty()) {
      headers.emplace_back(
          "Authorization",
          "Basic " + core::crypto::base64(options_.basic_user + ":" + options_.basic_password));
    } else if (!options_.bearer_token.empty()) {
      headers.emplace_back("Authorization", "Bearer " + options_.bearer_token);
    }
    auto answer = options_.fetch(method, url, headers, body);
    if (!answer) {
      return fail(
          Error::unavailable(fmt::format("the payment provider cannot be reached for {}", what),
                             answer.error().message));
    }
    return answer;
  }

  XBezahldiensteOptions options_;
};

}  // namespace

std::unique_ptr<Provider> make_xbezahldienste_provider(XBezahldiensteOptions options) {
  return std::make_unique<XBezahldiensteProvider>(std::move(options));
}

}  // namespace mvsp::payments
