// The payment provider SIMULATOR: XBezahldienste 1.0 with the mvsp extensions and a hosted
// payment page, on a small HTTP server. Never for production (see the header).
#include <mvsp/payments/simulator.hpp>
// (its own header first)

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/web/client.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/small_server.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "xbezahldienste_wire.hpp"

namespace mvsp::payments {
namespace {

using PaymentMode = PaymentSimulator::PaymentMode;
using NotificationMode = PaymentSimulator::NotificationMode;
using Object = Poco::JSON::Object;

constexpr const char* kNotice = "SIMULATOR – keine echte Zahlung";
// The two cards the page knows. Any other number is refused, so that nobody types a real
// card into a simulator.
constexpr std::string_view kCardPays = "4242424242424242";
constexpr std::string_view kCardDeclined = "4000000000000002";
constexpr const char* kDeclined = "Zahlung abgelehnt";
constexpr const char* kTimedOut = "Zeitüberschreitung";

const char* mode_name(PaymentMode m) {
  switch (m) {
    case PaymentMode::decline:
      return "decline";
    case PaymentMode::cancel:
      return "cancel";
    case PaymentMode::timeout:
      return "timeout";
    case PaymentMode::slow:
      return "slow";
    case PaymentMode::unreachable:
      return "unreachable";
    default:
      return "normal";
  }
}

const char* mode_name(NotificationMode m) {
  switch (m) {
    case NotificationMode::none:
      return "none";
    case NotificationMode::duplicate:
      return "duplicate";
    case NotificationMode::out_of_order:
      return "out_of_order";
    default:
      return "normal";
  }
}

std::optional<PaymentMode> parse_payment_mode(std::string_view s) {
  for (auto m : {PaymentMode::normal, PaymentMode::decline, PaymentMode::cancel,
                 PaymentMode::timeout, PaymentMode::slow, PaymentMode::unreachable}) {
    if (s == mode_name(m)) return m;
  }
  return std::nullopt;
}

std::optional<NotificationMode> parse_notification_mode(std::string_view s) {
  for (auto m : {NotificationMode::normal, NotificationMode::none, NotificationMode::duplicate,
                 NotificationMode::out_of_order}) {
    if (s == mode_name(m)) return m;
  }
  return std::nullopt;
}

const char* payment_mode_label(PaymentMode m) {
  switch (m) {
    case PaymentMode::decline:
      return "decline – jede Zahlung wird abgelehnt (FAILED)";
    case PaymentMode::cancel:
      return "cancel – jede Zahlung endet abgebrochen (CANCELED)";
    case PaymentMode::timeout:
      return "timeout – die Sitzung des Zahlenden läuft ab (FAILED)";
    case PaymentMode::slow:
      return "slow – die Schnittstelle antwortet verzögert";
    case PaymentMode::unreachable:
      return "unreachable – die Schnittstelle antwortet mit 503";
    default:
      return "normal – wie der Zahlende wählt";
  }
}

const char* notification_mode_label(NotificationMode m) {
  switch (m) {
    case NotificationMode::none:
      return "none – keine Benachrichtigung";
    case NotificationMode::duplicate:
      return "duplicate – jede Benachrichtigung doppelt";
    case NotificationMode::out_of_order:
      return "out_of_order – danach eine veraltete (INITIAL)";
    default:
      return "normal – eine signierte Benachrichtigung";
  }
}

std::string stringify(const Poco::Dynamic::Var& v) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(v, out);
  return out.str();
}

Object::Ptr parse_object(const std::string& body) {
  try {
    auto value = Poco::JSON::Parser().parse(body);
    if (value.type() == typeid(Object::Ptr)) return value.extract<Object::Ptr>();
  } catch (const Poco::Exception&) {
  } catch (const std::exception&) {
  }
  return nullptr;
}

// "1.234,56 €": how the page shows an amount.
std::string euros(std::int64_t cents) {
  auto whole = std::to_string(cents / 100);
  std::string grouped;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += '.';
    grouped += whole[i];
  }
  return fmt::format("{},{:02} €", grouped, cents % 100);
}

const char* http_title(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    default:
      return "Service Unavailable";
  }
}

web::Response json_answer(const Object& o, int status = 200) {
  return web::Response::json(stringify(o), status);
}

// A refusal as XBezahldienste writes it (application/problem+json).
web::Response problem(int status, std::string_view functional_code, std::string_view detail) {
  Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("type", "about:blank");
  o.set("status", status);
  o.set("title", http_title(status));
  o.set("detail", std::string(detail));
  o.set("functionalCode", std::string(functional_code));
  o.set("simulator", kNotice);
  auto res = web::Response::json(stringify(o), status);
  res.set_header("Content-Type", "application/problem+json");
  return res;
}

bool is_http_url(const std::string& url) {
  if (url.empty() || url.size() > 2082) return false;
  if (!url.starts_with("http://") && !url.starts_with("https://")) return false;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

// What a real provider checks of one field; the problems collected in German, as a
// provider's `detail` would say them.
class Checks {
 public:
  explicit Checks(Object::Ptr o) : o_(std::move(o)) {}

  // A string of `min`-`max` code points whose every code point passes `allowed`.
  template <typename Allowed>
  std::optional<std::string> text(const std::string& path, const std::string& key, bool required,
                                  std::size_t min, std::size_t max, Allowed allowed) {
    if (!o_->has(key) || o_->get(key).isEmpty()) {
      if (required) problems.push_back(path + key + " fehlt");
      return std::nullopt;
    }
    auto v = o_->get(key);
    if (!v.isString()) {
      problems.push_back(path + key + " ist kein Text");
      return std::nullopt;
    }
    auto s = v.extract<std::string>();
    auto n = xbez::code_points(s);
    bool ok = core::valid_utf8(s) && n >= min && n <= max;
    for (std::size_t pos = 0; ok && pos < s.size();) {
      auto [cp, len] = xbez::code_point_at(s, pos);
      ok = allowed(cp);
      pos += len;
    }
    if (!ok) {
      problems.push_back(fmt::format("{}{} hat nicht das verlangte Format ({} bis {} Zeichen)",
                                     path, key, min, max));
      return std::nullopt;
    }
    return s;
  }

  // A number of at most two decimals within [0, max] (in cents).
  std::optional<std::int64_t> amount(const std::string& path, const std::string& key,
                                     bool required) {
    if (!o_->has(key)) {
      if (required) problems.push_back(path + key + " fehlt");
      return std::nullopt;
    }
    auto v = o_->get(key);
    std::optional<std::int64_t> cents;
    if (v.isNumeric()) cents = xbez::amount_cents(v.convert<double>());
    if (!cents || *cents > xbez::kMaxAmountCents) {
      problems.push_back(path + key +
                         " ist kein Betrag von 0 bis 999999 mit höchstens zwei "
                         "Nachkommastellen");
      return std::nullopt;
    }
    return cents;
  }

  std::optional<double> number(const std::string& path, const std::string& key, double min,
                               double max) {
    if (!o_->has(key)) return std::nullopt;
    auto v = o_->get(key);
    if (!v.isNumeric() || v.convert<double>() < min || v.convert<double>() > max) {
      problems.push_back(fmt::format("{}{} liegt nicht zwischen {} und {}", path, key, min, max));
      return std::nullopt;
    }
    return v.convert<double>();
  }

  std::vector<std::string> problems;

 private:
  Object::Ptr o_;
};

bool word(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool space(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool id_char(char32_t c) {
  return word(c) || c == '-';
}
bool purpose_char(char32_t c) {
  return word(c) || space(c) || c == '-';
}
bool description_char(char32_t c) {
  return word(c) || space(c) || c == '-' || c == ',' || c == '.' || (c >= 0xC0 && c <= 0x17F);
}
bool any_char(char32_t c) {
  return c != 0xFFFFFFFF;
}

// ISO 13616: letters as numbers, the first four characters moved to the end, mod 97 is 1.
bool valid_iban(const std::string& iban) {
  if (iban.size() < 15 || iban.size() > 34) return false;
  std::string moved = iban.substr(4) + iban.substr(0, 4);
  int rest = 0;
  for (char c : moved) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'A' && c <= 'Z') {
      v = c - 'A' + 10;
    } else {
      return false;
    }
    rest = (v >= 10 ? rest * 100 + v : rest * 10 + v) % 97;
  }
  return rest == 1;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

struct Refund {
  std::string id;
  std::int64_t cents = 0;
  std::string reference;
  core::TimePoint at;
};

struct Transaction {
  std::string id;
  std::string originator;
  std::string endpoint;
  std::string request_id;
  Object::Ptr request;  // the PaymentRequest as received
  std::int64_t cents = 0;
  std::string purpose;
  std::string description;
  std::string redirect_url;
  core::TimePoint created_at;
  std::string status = "INITIAL";
  std::string detail;
  std::string method;
  std::string method_detail;
  std::string reference;
  std::optional<core::TimePoint> paid_at;
  std::vector<Refund> refunds;

  std::int64_t refunded() const {
    std::int64_t sum = 0;
    for (const auto& r : refunds) sum += r.cents;
    return sum;
  }
};

// What the payer sent on the page.
struct PageInput {
  std::string method;  // CREDITCARD, PAYPAL, SEPA
  std::string card;    // as typed, to show again
  std::string card_digits;
  std::string iban;
  std::map<std::string, std::string> errors;  // field id -> message
};

}  // namespace

struct PaymentSimulator::Impl {
  Impl(PaymentSimulatorOptions o, const web::Ports& ports)
      : options(std::move(o)),
        clock(ports.clock),
        ids(ports.ids),
        fetch(ports.http(std::chrono::seconds(3))) {}

  PaymentSimulatorOptions options;
  const core::Clock& clock;
  core::IdGenerator& ids;
  web::HttpFetch fetch;
  std::unique_ptr<web::SmallServer> server;
  std::thread pusher;

  mutable std::mutex mutex;
  // Wakes the push thread, slow answers (on stop) and wait_for_pushes.
  mutable std::condition_variable changed;
  bool stopping = false;
  std::map<std::string, Transaction> transactions;
  std::vector<std::string> order;                 // transaction ids as created
  std::map<std::string, std::string> by_request;  // originator/endpoint/requestId -> id
  PaymentMode payment_mode = PaymentMode::normal;
  NotificationMode notification_mode = NotificationMode::normal;
  std::chrono::milliseconds slow_delay{3000};
  std::deque<std::string> pushes;  // bodies waiting to be sent
  bool pushing = false;            // one is on its way
  std::size_t requests = 0;
  std::size_t pushes_sent = 0;
  std::size_t pushes_failed = 0;

  std::string base_url() const {
    return fmt::format("http://{}:{}", options.host, server ? server->port() : 0);
  }

  // ---- state changes (mutex held) ----------------------------------------------------

  std::string push_body(const Transaction& t, bool stale) const {
    Object o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("originatorId", t.originator);
    o.set("endPointId", t.endpoint);
    o.set("transactionId", t.id);
    if (stale) {
      o.set("status", "INITIAL");
      return stringify(o);
    }
    o.set("status", t.status);
    if (!t.detail.empty()) o.set("statusDetail", t.detail);
    if (!t.method.empty()) o.set("paymentMethod", t.method);
    if (!t.reference.empty()) o.set("transactionReference", t.reference);
    if (t.paid_at) o.set("transactionTimestamp", core::format_utc(*t.paid_at));
    return stringify(o);
  }

  void finish(Transaction& t, const std::string& status, const std::string& detail,
              const std::string& method = {}, const std::string& method_detail = {}) {
    t.status = status;
    t.detail = detail;
    if (status == "PAYED") {
      t.method = method;
      t.method_detail = method_detail;
      t.paid_at = clock.now();
      // Assigned once the payer authorised the payment, as the spec says.
      t.reference = ids.public_id("SIM");
    }
    if (options.notify_url.empty() || notification_mode == NotificationMode::none) return;
    auto body = push_body(t, false);
    pushes.push_back(body);
    if (notification_mode == NotificationMode::duplicate) pushes.push_back(body);
    if (notification_mode == NotificationMode::out_of_order) pushes.push_back(push_body(t, true));
    changed.notify_all();
  }

  // The provider's own timeout of the payer's session, on the injected clock.
  void expire_if_due(Transaction& t) {
    if (t.status == "INITIAL" && clock.now() - t.created_at >= options.session_timeout) {
      finish(t, "FAILED", kTimedOut);
    }
  }

  Transaction* find(const std::string& originator, const std::string& endpoint,
                    const std::string& id) {
    auto it = transactions.find(id);
    if (it == transactions.end() || it->second.originator != originator ||
        it->second.endpoint != endpoint) {
      return nullptr;
    }
    expire_if_due(it->second);
    return &it->second;
  }

  std::string transaction_url(const Transaction& t) const {
    return fmt::format("{}/paymenttransaction/{}/{}/{}", base_url(), t.originator, t.endpoint,
                       t.id);
  }

  Object::Ptr payment_information(const Transaction& t) const {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("transactionUrl", transaction_url(t));
    // Only while the payer may still pay, as the spec says.
    if (t.status == "INITIAL") o->set("transactionRedirectUrl", base_url() + "/pay/" + t.id);
    o->set("transactionId", t.id);
    if (!t.reference.empty()) o->set("transactionReference", t.reference);
    if (t.paid_at) o->set("transactionTimestamp", core::format_utc(*t.paid_at));
    if (!t.method.empty()) o->set("paymentMethod", t.method);
    if (!t.method_detail.empty()) o->set("paymentMethodDetail", t.method_detail);
    o->set("status", t.status);
    if (!t.detail.empty()) o->set("statusDetail", t.detail);
    return o;
  }

  web::Response transaction_answer(const Transaction& t) const {
    Object o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("paymentRequest", t.request);
    o.set("paymentInformation", payment_information(t));
    o.set("simulator", kNotice);
    return json_answer(o);
  }

  // ---- the API -----------------------------------------------------------------------

  // What every API request goes through: the counter, the mode, the credentials. Nothing
  // when the request may go on.
  std::optional<web::Response> gate(const web::Request& req) {
    {
      std::unique_lock lock(mutex);
      ++requests;
      if (payment_mode == PaymentMode::unreachable) {
        return problem(503, "UNSPECIFIED", "SIMULATOR: der Bezahldienst ist nicht erreichbar");
      }
      if (payment_mode == PaymentMode::slow) {
        // Interruptible, so that stop() does not wait for it.
        changed.wait_for(lock, slow_delay, [&] { return stopping; });
        if (stopping) return problem(503, "UNSPECIFIED", "SIMULATOR: wird beendet");
      }
    }
    if (!options.basic_user.empty()) {
      auto expected =
          "Basic " + core::crypto::base64(options.basic_user + ":" + options.basic_password);
      auto given = req.header("authorization").value_or("");
      if (!core::crypto::equal_constant_time(given, expected)) {
        return problem(403, "FORBIDDEN", "Anmeldedaten fehlen oder sind falsch");
      }
    }
    return std::nullopt;
  }

  web::Response create(const web::Request& req, const std::string& originator,
                       const std::string& endpoint) {
    auto json = parse_object(req.body);
    if (!json) return problem(400, "VALIDATION_ERROR", "Der Inhalt ist kein JSON-Objekt");
    Checks c(json);
    auto request_id = c.text("", "requestId", true, 1, xbez::kMaxId, id_char);
    auto timestamp = c.text("", "requestTimestamp", true, 1, 64, any_char);
    if (timestamp && !xbez::parse_timestamp(*timestamp)) {
      c.problems.push_back("requestTimestamp ist keine Zeitangabe nach RFC 3339");
    }
    auto currency = c.text("", "currency", true, 3, 3, word);
    if (currency && *currency != "EUR") {
      c.problems.push_back("currency: nur EUR wird unterstützt");
    }
    auto total = c.amount("", "grosAmount", true);
    if (total && *total == 0) c.problems.push_back("grosAmount muss größer als 0 sein");
    auto purpose = c.text("", "purpose", false, 1, 27, purpose_char);
    auto description = c.text("", "description", false, 1, 250, description_char);
    auto redirect = c.text("", "redirectUrl", true, 1, 2082, any_char);
    if (redirect && !is_http_url(*redirect)) {
      c.problems.push_back("redirectUrl ist keine http(s)-Adresse");
    }
    if (json->has("requestor") && !json->getObject("requestor")) {
      c.problems.push_back("requestor ist kein Objekt");
    }
    std::int64_t items_sum = 0;
    auto items = json->getArray("items");
    if (!items || items->size() < 1 || items->size() > 99) {
      c.problems.push_back("items: 1 bis 99 Positionen");
    } else {
      for (std::size_t i = 0; i < items->size(); ++i) {
        auto path = fmt::format("items[{}].", i);
        auto item = items->getObject(static_cast<unsigned>(i));
        if (!item) {
          c.problems.push_back(path + " ist kein Objekt");
          continue;
        }
        Checks ic(item);
        (void)ic.text(path, "id", true, 1, xbez::kMaxId, id_char);
        (void)ic.text(path, "reference", false, 0, 36, any_char);
        (void)ic.text(path, "description", false, 0, 250, any_char);
        (void)ic.number(path, "taxRate", 0, 100);
        (void)ic.number(path, "quantity", 1, 999999);
        auto net = ic.amount(path, "totalNetAmount", false);
        auto tax = ic.amount(path, "totalTaxAmount", false);
        (void)ic.amount(path, "singleNetAmount", false);
        (void)ic.amount(path, "singleTaxAmount", false);
        items_sum += net.value_or(0) + tax.value_or(0);
        if (item->has("bookingData")) {
          auto booking = item->getObject("bookingData");
          if (!booking) {
            ic.problems.push_back(path + "bookingData ist kein Objekt");
          } else {
            for (const auto& [key, value] : *booking) {
              if (!value.isString() || xbez::code_points(value.extract<std::string>()) > 250) {
                ic.problems.push_back(path + "bookingData." + key +
                                      " ist kein Text von höchstens 250 Zeichen");
              }
            }
          }
        }
        c.problems.insert(c.problems.end(), ic.problems.begin(), ic.problems.end());
      }
    }
    if (!c.problems.empty()) {
      std::string detail;
      for (const auto& p : c.problems) detail += (detail.empty() ? "" : "; ") + p;
      return problem(400, "VALIDATION_ERROR", detail);
    }
    if (items_sum != *total) {
      return problem(400, "CALCULATION_ERROR",
                     fmt::format("grosAmount {} ist nicht die Summe der Positionen {}",
                                 xbez::format_amount(*total), xbez::format_amount(items_sum)));
    }
    std::lock_guard lock(mutex);
    auto key = originator + "/" + endpoint + "/" + *request_id;
    if (by_request.contains(key)) {
      return problem(409, "PAYMENT_EXISTS",
                     "Zu dieser requestId gibt es bereits eine Zahlungstransaktion");
    }
    Transaction t;
    t.id = ids.key();
    t.originator = originator;
    t.endpoint = endpoint;
    t.request_id = *request_id;
    t.request = json;
    t.cents = *total;
    t.purpose = purpose.value_or("");
    t.description = description.value_or("");
    t.redirect_url = *redirect;
    t.created_at = clock.now();
    by_request[key] = t.id;
    order.push_back(t.id);
    auto& stored = transactions[t.id] = std::move(t);
    return transaction_answer(stored);
  }

  web::Response read(const std::string& originator, const std::string& endpoint,
                     const std::string& id) {
    std::lock_guard lock(mutex);
    auto* t = find(originator, endpoint, id);
    if (!t) return problem(404, "UNSPECIFIED", "Diese Zahlungstransaktion gibt es nicht");
    return transaction_answer(*t);
  }

  // Extension: the online service ends an unfinished transaction.
  web::Response cancel(const std::string& originator, const std::string& endpoint,
                       const std::string& id) {
    std::lock_guard lock(mutex);
    auto* t = find(originator, endpoint, id);
    if (!t) return problem(404, "UNSPECIFIED", "Diese Zahlungstransaktion gibt es nicht");
    if (t->status == "PAYED") {
      return problem(409, "TRANSACTION_PAYED", "Die Zahlung ist bereits erfolgt");
    }
    if (t->status == "INITIAL") finish(*t, "CANCELED", "Vom Onlinedienst abgebrochen");
    return transaction_answer(*t);
  }

  // Extension: pays back part of a paid transaction, once per refundId.
  web::Response refund(const web::Request& req, const std::string& originator,
                       const std::string& endpoint, const std::string& id) {
    auto json = parse_object(req.body);
    if (!json) return problem(400, "VALIDATION_ERROR", "Der Inhalt ist kein JSON-Objekt");
    Checks c(json);
    auto refund_id = c.text("", "refundId", true, 1, xbez::kMaxId, id_char);
    auto cents = c.amount("", "amount", true);
    if (cents && *cents == 0) c.problems.push_back("amount muss größer als 0 sein");
    if (!c.problems.empty()) return problem(400, "VALIDATION_ERROR", c.problems.front());
    std::lock_guard lock(mutex);
    auto* t = find(originator, endpoint, id);
    if (!t) return problem(404, "UNSPECIFIED", "Diese Zahlungstransaktion gibt es nicht");
    for (const auto& r : t->refunds) {
      if (r.id != *refund_id) continue;
      if (r.cents != *cents) {
        return problem(409, "REFUND_EXISTS",
                       "Zu dieser refundId gibt es bereits eine Erstattung mit anderem Betrag");
      }
      return refund_answer(r, 200);
    }
    if (t->status != "PAYED") {
      return problem(409, "REFUND_NOT_POSSIBLE",
                     "Nur eine bezahlte Transaktion kann erstattet "
                     "werden");
    }
    if (*cents > t->cents - t->refunded()) {
      return problem(409, "REFUND_EXCEEDS_PAYMENT",
                     fmt::format("Es sind nur noch {} erstattbar",
                                 xbez::format_amount(t->cents - t->refunded())));
    }
    t->refunds.push_back({*refund_id, *cents, ids.public_id("SIMR"), clock.now()});
    return refund_answer(t->refunds.back(), 201);
  }

  static web::Response refund_answer(const Refund& r, int status) {
    Object o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("refundId", r.id);
    o.set("status", "SUCCEEDED");
    o.set("reference", r.reference);
    o.set("amount", static_cast<double>(r.cents) / 100.0);
    o.set("simulator", kNotice);
    return json_answer(o, status);
  }

  web::Response service_status(const std::string& originator, const std::string& endpoint) {
    Object o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("originatorId", originator);
    o.set("endPointId", endpoint);
    o.set("status", "AVAILABLE");
    o.set("simulator", kNotice);
    return json_answer(o);
  }

  std::optional<web::Response> api(const web::Request& req, const std::vector<std::string>& p) {
    bool transaction_path = !p.empty() && p[0] == "paymenttransaction";
    bool status_path = p.size() == 3 && p[0] == "status" && req.method == web::Method::get;
    if (!transaction_path && !status_path) return std::nullopt;
    if (auto refused = gate(req)) return refused;
    for (std::size_t i = 1; i < p.size() && i < 4; ++i) {
      if (!xbez::is_protocol_id(p[i], i == 3 ? xbez::kMaxTransactionId : xbez::kMaxId)) {
        return problem(400, "NO_VALID_ORIGINATOR_OR_ENDPOINT",
                       "originatorId, endPointId oder transactionId hat nicht das verlangte "
                       "Format");
      }
    }
    if (status_path) return service_status(p[1], p[2]);
    auto m = req.method;
    if (p.size() == 3 && m == web::Method::post) return create(req, p[1], p[2]);
    if (p.size() == 4 && m == web::Method::get) return read(p[1], p[2], p[3]);
    if (p.size() == 4 && m == web::Method::del) return cancel(p[1], p[2], p[3]);
    if (p.size() == 5 && p[4] == "refunds" && m == web::Method::post) {
      return refund(req, p[1], p[2], p[3]);
    }
    return problem(404, "UNSPECIFIED", "Diese Schnittstelle gibt es nicht");
  }

  // ---- pages -------------------------------------------------------------------------

  static web::Response page(const std::string& title, const std::string& body, int status = 200) {
    auto html = fmt::format(
        "<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>{0} – Bezahldienst-SIMULATOR</title><style>"
        "body{{margin:0;font-family:system-ui,sans-serif;line-height:1.5;color:#0b0c0c;"
        "background:#fff}}"
        ".banner{{background:#ffdd00;color:#0b0c0c;padding:.75rem 1rem;"
        "border-bottom:4px solid #0b0c0c}}.banner p{{margin:0}}"
        "main{{max-width:42rem;margin:0 auto;padding:1rem}}"
        "footer{{max-width:42rem;margin:0 auto;padding:1rem;border-top:1px solid #505a5f}}"
        "fieldset{{border:1px solid #505a5f;margin:0 0 1rem;padding:.5rem 1rem}}"
        "legend{{font-weight:bold;padding:0 .25rem}}"
        "input[type=text],input[type=number]{{font-size:1rem;padding:.4rem;"
        "border:2px solid #0b0c0c;width:100%;max-width:22rem;box-sizing:border-box}}"
        "button{{font-size:1rem;padding:.5rem 1rem;margin:0 .5rem .5rem 0;cursor:pointer;"
        "border:2px solid #00703c;background:#00703c;color:#fff}}"
        "button.secondary{{background:#f3f2f1;color:#0b0c0c;border-color:#0b0c0c}}"
        ":focus{{outline:3px solid #0b0c0c;outline-offset:2px}}"
        "a{{color:#1d70b8}}.hint{{color:#484949;margin:.25rem 0}}"
        ".error{{color:#b10e1e;font-weight:bold;margin:.25rem 0}}"
        ".summary{{border:4px solid #b10e1e;padding:.5rem 1rem;margin-bottom:1rem}}"
        "table{{border-collapse:collapse}}th,td{{border:1px solid #505a5f;padding:.25rem .5rem;"
        "text-align:left}}dt{{font-weight:bold}}dd{{margin:0 0 .5rem}}"
        "</style></head><body><header class=\"banner\"><p><strong>{1}</strong>. Dieser Dienst "
        "ahmt einen Bezahldienst (XBezahldienste) für Entwicklung und Tests nach; es wird kein "
        "Geld bewegt. Geben Sie keine echten Karten- oder Kontodaten ein.</p></header>"
        "<main><h1>{0}</h1>{2}</main><footer><p>{1}</p></footer></body></html>",
        core::escape_markup(title), kNotice, body);
    auto res = web::Response::html(std::move(html), status);
    // No scripts at all; the form may post here and is then sent on to the online service.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                   "frame-ancestors 'none'");
    res.set_header("Cache-Control", "no-store");
    return res;
  }

  static std::string summary_of(const Transaction& t) {
    std::string rows = fmt::format("<dt>Betrag</dt><dd>{}</dd>", euros(t.cents));
    if (!t.purpose.empty()) {
      rows += fmt::format("<dt>Verwendungszweck</dt><dd>{}</dd>", core::escape_markup(t.purpose));
    }
    if (!t.description.empty()) {
      rows += fmt::format("<dt>Beschreibung</dt><dd>{}</dd>", core::escape_markup(t.description));
    }
    return "<dl>" + rows + "</dl>";
  }

  static web::Response payment_form(const Transaction& t, const PageInput& in) {
    std::string body;
    auto described = [&](const std::string& field, const std::string& hint) {
      return in.errors.contains(field) ? hint + " " + field + "-error" : hint;
    };
    auto error_line = [&](const std::string& field) {
      auto it = in.errors.find(field);
      return it == in.errors.end()
                 ? std::string()
                 : fmt::format("<p class=\"error\" id=\"{}-error\">Fehler: {}</p>", field,
                               core::escape_markup(it->second));
    };
    if (!in.errors.empty()) {
      std::string items;
      for (const auto& [field, message] : in.errors) {
        items +=
            fmt::format("<li><a href=\"#{}\">{}</a></li>", field, core::escape_markup(message));
      }
      body += fmt::format(
          "<div class=\"summary\" role=\"alert\" aria-labelledby=\"summary-title\">"
          "<h2 id=\"summary-title\">Bitte prüfen Sie Ihre Angaben</h2><ul>{}</ul></div>",
          items);
    }
    body += summary_of(t);
    std::string methods;
    for (auto [value, label] :
         {std::pair{"CREDITCARD", "Kreditkarte"}, std::pair{"PAYPAL", "PayPal"},
          std::pair{"SEPA", "Lastschrift (SEPA)"}}) {
      // The first radio carries the id the error summary links to.
      std::string id =
          value == std::string_view("CREDITCARD") ? "method" : fmt::format("method-{}", value);
      methods += fmt::format(
          "<p><input type=\"radio\" name=\"method\" id=\"{0}\" value=\"{1}\"{2}{3}> "
          "<label for=\"{0}\">{4}</label></p>",
          id, value, in.method == value ? " checked" : "",
          in.errors.contains("method") && id == "method" ? " aria-describedby=\"method-error\""
                                                         : "",
          label);
    }
    // autocomplete=off: the browser is not to offer a real card or account here.
    body += fmt::format(
        "<form method=\"post\" action=\"/pay/{0}\" novalidate>"
        "<fieldset><legend>Zahlungsart</legend>{1}{2}</fieldset>"
        "<fieldset><legend>Kreditkarte</legend>"
        "<p class=\"hint\" id=\"card_number-hint\">Nur Testkarten: 4242 4242 4242 4242 wird "
        "bezahlt, 4000 0000 0000 0002 wird abgelehnt.</p>{3}"
        "<p><label for=\"card_number\">Kartennummer</label><br>"
        "<input type=\"text\" id=\"card_number\" name=\"card_number\" inputmode=\"numeric\" "
        "autocomplete=\"off\" value=\"{4}\" aria-describedby=\"{5}\"></p></fieldset>"
        "<fieldset><legend>Lastschrift (SEPA)</legend>"
        "<p class=\"hint\" id=\"iban-hint\">Zum Beispiel die Test-IBAN DE89 3704 0044 0532 0130 "
        "00.</p>{6}"
        "<p><label for=\"iban\">IBAN</label><br>"
        "<input type=\"text\" id=\"iban\" name=\"iban\" autocomplete=\"off\" value=\"{7}\" "
        "aria-describedby=\"{8}\"></p></fieldset>"
        "<p><button type=\"submit\" name=\"action\" value=\"pay\">Jetzt bezahlen</button>"
        "<button type=\"submit\" name=\"action\" value=\"cancel\" class=\"secondary\">"
        "Abbrechen</button></p></form>",
        t.id, error_line("method"), methods, error_line("card_number"),
        core::escape_markup(in.card), described("card_number", "card_number-hint"),
        error_line("iban"), core::escape_markup(in.iban), described("iban", "iban-hint"));
    return page("Bezahlen", body, in.errors.empty() ? 200 : 422);
  }

  static web::Response result_page(const Transaction& t) {
    const char* title = t.status == "PAYED"      ? "Zahlung erfolgreich"
                        : t.status == "CANCELED" ? "Zahlung abgebrochen"
                                                 : "Zahlung fehlgeschlagen";
    std::string body = summary_of(t);
    body += fmt::format("<p>Status: {}{}</p>", t.status,
                        t.detail.empty() ? "" : " – " + core::escape_markup(t.detail));
    body += fmt::format("<p><a href=\"{}\">Zurück zum Onlinedienst</a></p>",
                        core::escape_markup(t.redirect_url));
    return page(title, body);
  }

  static web::Response not_found_page() {
    return page("Nicht gefunden", "<p>Diese Zahlung gibt es hier nicht.</p>", 404);
  }

  web::Response show(const std::string& id) {
    std::lock_guard lock(mutex);
    auto it = transactions.find(id);
    if (it == transactions.end()) return not_found_page();
    expire_if_due(it->second);
    if (it->second.status != "INITIAL") return result_page(it->second);
    return payment_form(it->second, {});
  }

  static PageInput read_input(const web::Request& req) {
    PageInput in;
    in.method = req.form("method").value_or("");
    in.card = std::string(core::trim(req.form("card_number").value_or("")));
    in.iban = std::string(core::trim(req.form("iban").value_or("")));
    auto compact = [](const std::string& s) {
      std::string out;
      for (char c : s) {
        if (c != ' ') out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
      }
      return out;
    };
    in.card_digits = compact(in.card);
    if (in.method == "CREDITCARD") {
      if (in.card_digits != kCardPays && in.card_digits != kCardDeclined) {
        in.errors["card_number"] =
            "Geben Sie eine der Testkarten ein: 4242 4242 4242 4242 oder 4000 0000 0000 0002.";
      }
    } else if (in.method == "SEPA") {
      if (!valid_iban(compact(in.iban))) {
        in.errors["iban"] =
            "Geben Sie eine gültige IBAN ein, zum Beispiel DE89 3704 0044 0532 "
            "0130 00.";
      }
    } else if (in.method != "PAYPAL") {
      in.method.clear();
      in.errors["method"] = "Wählen Sie eine Zahlungsart.";
    }
    return in;
  }

  web::Response submit(const web::Request& req, const std::string& id) {
    std::lock_guard lock(mutex);
    auto it = transactions.find(id);
    if (it == transactions.end()) return not_found_page();
    auto& t = it->second;
    expire_if_due(t);
    if (t.status != "INITIAL") return result_page(t);
    if (req.form("action").value_or("") == "cancel") {
      finish(t, "CANCELED", "Vom Zahlenden abgebrochen");
    } else if (payment_mode == PaymentMode::timeout) {
      finish(t, "FAILED", kTimedOut);
    } else if (payment_mode == PaymentMode::cancel) {
      finish(t, "CANCELED", "Vom Zahlenden abgebrochen");
    } else {
      auto in = read_input(req);
      if (!in.errors.empty()) return payment_form(t, in);
      if (payment_mode == PaymentMode::decline ||
          (in.method == "CREDITCARD" && in.card_digits == kCardDeclined)) {
        finish(t, "FAILED", kDeclined);
      } else if (in.method == "SEPA") {
        finish(t, "PAYED", "", "OTHER", "SEPA-Lastschrift (SIMULATOR)");
      } else {
        finish(t, "PAYED", "", in.method,
               in.method == "CREDITCARD" ? "Testkarte (SIMULATOR)" : "PayPal (SIMULATOR)");
      }
    }
    // The way back says nothing about the outcome: the online service asks the API.
    return web::Response::redirect(t.redirect_url);
  }

  // ---- control -----------------------------------------------------------------------

  Object state_json() const {
    Object o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("simulator", kNotice);
    o.set("payments", mode_name(payment_mode));
    o.set("notifications", mode_name(notification_mode));
    o.set("delayMs", static_cast<Poco::Int64>(slow_delay.count()));
    o.set("requests", static_cast<Poco::UInt64>(requests));
    o.set("pushesSent", static_cast<Poco::UInt64>(pushes_sent));
    o.set("pushesFailed", static_cast<Poco::UInt64>(pushes_failed));
    o.set("pushesQueued", static_cast<Poco::UInt64>(pushes.size()));
    return o;
  }

  web::Response list() {
    std::lock_guard lock(mutex);
    Poco::JSON::Array arr;
    for (const auto& id : order) {
      auto& t = transactions.at(id);
      expire_if_due(t);
      auto info = payment_information(t);
      info->set("originatorId", t.originator);
      info->set("endPointId", t.endpoint);
      info->set("requestId", t.request_id);
      info->set("amount", xbez::format_amount(t.cents));
      info->set("refunded", xbez::format_amount(t.refunded()));
      Poco::JSON::Array refunds;
      for (const auto& r : t.refunds) {
        Object ro(Poco::JSON_PRESERVE_KEY_ORDER);
        ro.set("refundId", r.id);
        ro.set("amount", xbez::format_amount(r.cents));
        ro.set("reference", r.reference);
        refunds.add(ro);
      }
      info->set("refunds", refunds);
      arr.add(info);
    }
    auto o = state_json();
    o.set("transactions", arr);
    return json_answer(o);
  }

  web::Response control_page() const {
    std::lock_guard lock(mutex);
    std::string payments;
    for (auto m : {PaymentMode::normal, PaymentMode::decline, PaymentMode::cancel,
                   PaymentMode::timeout, PaymentMode::slow, PaymentMode::unreachable}) {
      payments += fmt::format(
          "<p><input type=\"radio\" name=\"payments\" id=\"payments-{0}\" value=\"{0}\"{1}> "
          "<label for=\"payments-{0}\">{2}</label></p>",
          mode_name(m), m == payment_mode ? " checked" : "", payment_mode_label(m));
    }
    std::string notifications;
    for (auto m : {NotificationMode::normal, NotificationMode::none, NotificationMode::duplicate,
                   NotificationMode::out_of_order}) {
      notifications += fmt::format(
          "<p><input type=\"radio\" name=\"notifications\" id=\"notifications-{0}\" "
          "value=\"{0}\"{1}> <label for=\"notifications-{0}\">{2}</label></p>",
          mode_name(m), m == notification_mode ? " checked" : "", notification_mode_label(m));
    }
    std::string rows;
    for (const auto& id : order) {
      const auto& t = transactions.at(id);
      rows += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
          t.status == "INITIAL" ? fmt::format("<a href=\"/pay/{0}\">{0}</a>", t.id) : t.id,
          euros(t.cents), t.status, core::escape_markup(t.detail), t.method);
    }
    auto body = fmt::format(
        "<form method=\"post\" action=\"/control\">"
        "<fieldset><legend>Zahlungen</legend>{}</fieldset>"
        "<p><label for=\"delay_ms\">Verzögerung bei slow (Millisekunden)</label><br>"
        "<input type=\"number\" id=\"delay_ms\" name=\"delay_ms\" min=\"0\" max=\"600000\" "
        "value=\"{}\"></p>"
        "<fieldset><legend>Benachrichtigungen</legend>{}</fieldset>"
        "<p><button type=\"submit\">Übernehmen</button></p></form>"
        "<h2>Zähler</h2><p>Anfragen an die Schnittstelle: {}; Benachrichtigungen gesendet: {}, "
        "davon nicht angenommen: {}. <a href=\"/transactions\">Alles als JSON</a></p>"
        "<h2>Transaktionen ({})</h2><table><thead><tr><th scope=\"col\">Transaktion</th>"
        "<th scope=\"col\">Betrag</th><th scope=\"col\">Status</th><th scope=\"col\">Detail</th>"
        "<th scope=\"col\">Zahlungsart</th></tr></thead><tbody>{}</tbody></table>",
        payments, slow_delay.count(), notifications, requests, pushes_sent, pushes_failed,
        order.size(), rows);
    return page("Steuerung", body);
  }

  web::Response control(const web::Request& req) {
    bool json = req.header("content-type").value_or("").starts_with("application/json");
    std::optional<std::string> payments;
    std::optional<std::string> notifications;
    std::optional<std::string> delay_text;
    std::optional<std::int64_t> delay_number;
    if (json) {
      auto o = parse_object(req.body);
      if (!o) return problem(400, "VALIDATION_ERROR", "Der Inhalt ist kein JSON-Objekt");
      if (o->has("payments")) payments = o->optValue<std::string>("payments", "");
      if (o->has("notifications")) notifications = o->optValue<std::string>("notifications", "");
      if (o->has("delayMs")) {
        auto v = o->get("delayMs");
        delay_number = v.isInteger() ? v.convert<std::int64_t>() : -1;
      }
    } else {
      payments = req.form("payments");
      notifications = req.form("notifications");
      delay_text = req.form("delay_ms");
    }
    if (delay_text && !delay_text->empty()) {
      std::int64_t n = -1;
      auto [end, ec] =
          std::from_chars(delay_text->data(), delay_text->data() + delay_text->size(), n);
      if (ec != std::errc() || end != delay_text->data() + delay_text->size()) n = -1;
      delay_number = n;
    }
    auto payment_mode_value = payments ? parse_payment_mode(*payments) : std::nullopt;
    auto notification_mode_value =
        notifications ? parse_notification_mode(*notifications) : std::nullopt;
    if ((payments && !payment_mode_value) || (notifications && !notification_mode_value) ||
        (delay_number && (*delay_number < 0 || *delay_number > 600000))) {
      return json ? problem(400, "VALIDATION_ERROR",
                            "payments, notifications oder delayMs hat keinen gültigen Wert")
                  : page("Ungültige Eingabe",
                         "<p>Ein Wert ist ungültig. <a href=\"/control\">Zurück</a></p>", 400);
    }
    {
      std::lock_guard lock(mutex);
      if (payment_mode_value) payment_mode = *payment_mode_value;
      if (notification_mode_value) notification_mode = *notification_mode_value;
      if (delay_number) slow_delay = std::chrono::milliseconds(*delay_number);
    }
    if (!json) return web::Response::redirect("/control");
    std::lock_guard lock(mutex);
    return json_answer(state_json());
  }

  web::Response answer(const web::Request& req) {
    auto parts = split_path(req.path);
    if (auto res = api(req, parts)) return *res;
    bool post = req.method == web::Method::post;
    bool get = req.method == web::Method::get || req.method == web::Method::head;
    if (parts.size() == 2 && parts[0] == "pay") {
      if (get) return show(parts[1]);
      if (post) return submit(req, parts[1]);
    }
    if (req.path == "/transactions" && get) return list();
    if ((req.path == "/" || req.path == "/control") && get) {
      if (req.header("accept").value_or("").starts_with("application/json")) {
        std::lock_guard lock(mutex);
        return json_answer(state_json());
      }
      return control_page();
    }
    if (req.path == "/control" && post) return control(req);
    return not_found_page();
  }

  // ---- pushes ------------------------------------------------------------------------

  void push_loop() {
    std::unique_lock lock(mutex);
    while (true) {
      changed.wait(lock, [&] { return stopping || !pushes.empty(); });
      if (stopping) return;
      auto body = std::move(pushes.front());
      pushes.pop_front();
      pushing = true;
      lock.unlock();
      auto timestamp = std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
      auto answer =
          fetch("POST", options.notify_url,
                {{"Content-Type", "application/json"},
                 {"X-Payment-Timestamp", timestamp},
                 {"X-Payment-Signature",
                  xbez::notification_signature(options.notification_secret, timestamp, body)}},
                body);
      bool accepted = answer && answer->status >= 200 && answer->status < 300;
      if (!accepted) {
        core::log::warn("simulator.push_failed", {{"reason", answer ? std::to_string(answer->status)
                                                                    : answer.error().message}});
      }
      lock.lock();
      ++pushes_sent;
      if (!accepted) ++pushes_failed;
      pushing = false;
      changed.notify_all();
    }
  }
};

PaymentSimulator::PaymentSimulator(PaymentSimulatorOptions options, const web::Ports& ports)
    : impl_(std::make_unique<Impl>(std::move(options), ports)) {}

PaymentSimulator::~PaymentSimulator() {
  stop();
}

void PaymentSimulator::start() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = false;
  }
  impl_->server = std::make_unique<web::SmallServer>(
      impl_->options.host, impl_->options.port,
      [impl = impl_.get()](const web::Request& req) { return impl->answer(req); });
  impl_->server->start();
  impl_->pusher = std::thread([impl = impl_.get()] { impl->push_loop(); });
}

void PaymentSimulator::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    impl_->pushes.clear();
  }
  // First wake what waits (slow answers hold the server's handlers, which stop() awaits).
  impl_->changed.notify_all();
  if (impl_->server) impl_->server->stop();
  if (impl_->pusher.joinable()) impl_->pusher.join();
}

int PaymentSimulator::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

std::string PaymentSimulator::base_url() const {
  return impl_->base_url();
}

void PaymentSimulator::set_mode(PaymentMode mode, std::chrono::milliseconds slow_delay) {
  std::lock_guard lock(impl_->mutex);
  impl_->payment_mode = mode;
  impl_->slow_delay = slow_delay;
}

void PaymentSimulator::set_mode(NotificationMode mode) {
  std::lock_guard lock(impl_->mutex);
  impl_->notification_mode = mode;
}

std::size_t PaymentSimulator::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t PaymentSimulator::pushes_sent() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->pushes_sent;
}

std::size_t PaymentSimulator::pushes_failed() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->pushes_failed;
}

bool PaymentSimulator::wait_for_pushes(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(
      lock, timeout, [&] { return impl_->stopping || (impl_->pushes.empty() && !impl_->pushing); });
}

}  // namespace mvsp::payments
