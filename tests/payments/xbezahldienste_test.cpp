// The XBezahldienste adapter against the payment SIMULATOR over real loopback HTTP, on an
// injected clock: creating, paying on the page, reading the status, the error mapping, the
// mvsp extensions (cancellation, refunds, signed pushes) and the simulator's modes.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <mvsp/core/crypto.hpp>
#include <mvsp/payments/provider.hpp>
#include <mvsp/payments/simulator.hpp>
#include <mvsp/web/small_server.hpp>
#include <thread>

#include "http_client.hpp"
#include "support.hpp"
#include "xbezahldienste_wire.hpp"

namespace mvsp::payments {
namespace {

using namespace std::chrono_literals;
using core::ErrorCode;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kSecret = "push-secret-for-tests";
constexpr const char* kUser = "onlinedienst";
constexpr const char* kPassword = "geheim";
constexpr const char* kReturn = "https://service.example/zahlung/zurueck?order=o-1";

// Every push that reached the online service's side, as it arrived.
class NotifySink {
 public:
  NotifySink()
      : server_("127.0.0.1", 0, [this](const web::Request& req) {
          std::lock_guard lock(mutex_);
          pushes_.push_back({req.headers, req.body});
          return web::Response::text("", 204);
        }) {
    server_.start();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + "/zahlung/benachrichtigung";
  }
  struct Push {
    Headers headers;
    std::string body;
  };
  std::vector<Push> pushes() {
    std::lock_guard lock(mutex_);
    return pushes_;
  }

 private:
  std::mutex mutex_;
  std::vector<Push> pushes_;
  web::SmallServer server_;
};

// The real transport with a record of what the adapter asked.
struct Recorded {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;
};

class XBezahldiensteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::crypto::init();
    simulator_.start();
  }

  // The transport the adapter gets: network_http, recorded, optionally rewriting the body
  // (to send what our adapter never would).
  web::HttpFetch transport(std::chrono::seconds timeout = 5s) {
    auto real = app::network_http(timeout);
    return [this, real](const std::string& method, const std::string& url, const Headers& headers,
                        const std::string& body) {
      std::string sent = rewrite_ ? rewrite_(body) : body;
      {
        std::lock_guard lock(mutex_);
        recorded_.push_back({method, url, headers, sent});
      }
      return real(method, url, headers, sent);
    };
  }

  XBezahldiensteOptions options(std::chrono::seconds timeout = 5s) {
    return {.name = "epay-test",
            .base_url = simulator_.base_url(),
            .originator_id = "mvsp-test",
            .basic_user = kUser,
            .basic_password = kPassword,
            .extensions = true,
            .notification_secret = kSecret,
            .fetch = transport(timeout)};
  }

  std::unique_ptr<Provider> provider(std::chrono::seconds timeout = 5s) {
    return make_xbezahldienste_provider(options(timeout));
  }

  ProviderRequest request(std::string id = "order-1", std::int64_t cents = 3000) {
    ProviderRequest r;
    r.request_id = std::move(id);
    r.requested_at = clock_.now();
    r.amount_cents = cents;
    r.purpose = "5260000012";
    r.description = "Hundesteuer 2026, Schwerin";
    r.return_url = kReturn;
    r.endpoint_id = "13004000";
    r.booking_data = {{"Haushaltsstelle", "1.1.1.01"}, {"Buchungsstelle", "6100.4000"}};
    r.payer = {.name = "Mustermann",
               .first_name = "Erika",
               .email = "erika@example.org",
               .street = "Am Markt",
               .house_number = "1a",
               .postcode = "19055",
               .city = "Schwerin"};
    return r;
  }

  std::vector<Recorded> recorded() {
    std::lock_guard lock(mutex_);
    return recorded_;
  }

  // The payer's browser on the simulator's page: the path of the page, then a POST.
  static std::string page_path(const std::string& redirect_url) {
    auto host_end = redirect_url.find('/', std::string("http://").size());
    return redirect_url.substr(host_end);
  }
  test::HttpResponse pay(const ProviderPayment& payment,
                         const std::vector<std::pair<std::string, std::string>>& fields) {
    return test::HttpClient(simulator_.port()).post_form(page_path(payment.redirect_url), fields);
  }
  test::HttpResponse pay_by_card(const ProviderPayment& payment,
                                 const std::string& card = "4242+4242+4242+4242") {
    return pay(payment, {{"method", "CREDITCARD"}, {"card_number", card}, {"action", "pay"}});
  }

  Poco::JSON::Object::Ptr transactions() {
    auto res = test::HttpClient(simulator_.port()).get("/transactions");
    return Poco::JSON::Parser().parse(res.body).extract<Poco::JSON::Object::Ptr>();
  }

  test::ManualClock clock_;
  test::SequenceIds ids_;
  NotifySink sink_;
  PaymentSimulator simulator_{{.basic_user = kUser,
                               .basic_password = kPassword,
                               .notify_url = sink_.url(),
                               .notification_secret = kSecret},
                              {.clock = clock_, .ids = ids_, .http = app::network_http}};
  std::mutex mutex_;
  std::vector<Recorded> recorded_;
  std::function<std::string(const std::string&)> rewrite_;
};

// ---- the request on the wire -------------------------------------------------------

TEST_F(XBezahldiensteTest, ThePaymentRequestIsWrittenAsTheSpecSays) {
  clock_.advance(123ms);
  auto r = request("order-7", 1999);
  r.purpose = "Gebühr/Hund: Nr. 5260000012 für 2026";  // not the allowed characters, too long
  r.description = "Hundesteuer für Bello (2026) – 19,99 €";
  r.payer.postcode = "D-19055 ";
  auto payment = provider()->create(r);
  ASSERT_TRUE(payment) << payment.error().message;

  auto calls = recorded();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].method, "POST");
  EXPECT_EQ(calls[0].url, simulator_.base_url() + "/paymenttransaction/mvsp-test/13004000");
  auto auth = std::find_if(calls[0].headers.begin(), calls[0].headers.end(),
                           [](const auto& h) { return h.first == "Authorization"; });
  ASSERT_NE(auth, calls[0].headers.end());
  EXPECT_EQ(auth->second, "Basic " + core::crypto::base64("onlinedienst:geheim"));

  const auto& body = calls[0].body;
  // Amounts are numbers with two decimals, written from cents.
  EXPECT_NE(body.find("\"grosAmount\":19.99,"), std::string::npos) << body;
  EXPECT_NE(body.find("\"totalNetAmount\":19.99,"), std::string::npos) << body;
  auto o = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(o->getValue<std::string>("requestId"), "order-7");
  EXPECT_EQ(o->getValue<std::string>("requestTimestamp"), core::format_utc(clock_.now()));
  EXPECT_TRUE(o->getValue<std::string>("requestTimestamp").ends_with(".123Z"));
  EXPECT_EQ(o->getValue<std::string>("currency"), "EUR");
  EXPECT_EQ(o->getValue<std::string>("purpose"), "Gebuehr Hund Nr 5260000012");
  EXPECT_EQ(o->getValue<std::string>("description"), "Hundesteuer für Bello 2026 19,99");
  EXPECT_EQ(o->getValue<std::string>("redirectUrl"), kReturn);
  auto items = o->getArray("items");
  ASSERT_EQ(items->size(), 1u);
  auto item = items->getObject(0);
  EXPECT_EQ(item->getValue<std::string>("id"), "order-7");
  EXPECT_EQ(item->getValue<int>("quantity"), 1);
  EXPECT_EQ(item->getValue<double>("taxRate"), 0.0);
  EXPECT_EQ(item->getObject("bookingData")->getValue<std::string>("Haushaltsstelle"), "1.1.1.01");
  auto requestor = o->getObject("requestor");
  EXPECT_EQ(requestor->getValue<std::string>("name"), "Mustermann");
  EXPECT_EQ(requestor->getValue<std::string>("firstName"), "Erika");
  EXPECT_FALSE(requestor->getValue<bool>("isOrganization"));
  EXPECT_FALSE(requestor->has("email")) << "the protocol has no field for it";
  EXPECT_EQ(requestor->getObject("address")->getValue<std::string>("postalCode"), "19055");

  // The simulator, which checks like a provider, took it.
  EXPECT_EQ(transactions()->getArray("transactions")->size(), 1u);
}

TEST(XBezahldiensteWire, AmountsAndTimestamps) {
  EXPECT_EQ(xbez::format_amount(0), "0.00");
  EXPECT_EQ(xbez::format_amount(5), "0.05");
  EXPECT_EQ(xbez::format_amount(3000), "30.00");
  EXPECT_EQ(xbez::format_amount(99'999'900), "999999.00");
  EXPECT_EQ(xbez::amount_cents(30.1), 3010);
  EXPECT_EQ(xbez::amount_cents(0.29), 29);
  EXPECT_EQ(xbez::amount_cents(30.001), std::nullopt);
  EXPECT_EQ(xbez::amount_cents(-1), std::nullopt);
  EXPECT_EQ(xbez::parse_timestamp("2026-11-24T06:13:24.123Z"), core::from_millis(1795500804123));
  EXPECT_EQ(xbez::parse_timestamp("2026-11-24T07:13:24.1+01:00"), core::from_millis(1795500804100));
  EXPECT_EQ(xbez::parse_timestamp("2026-11-24T06:13:24"), core::from_millis(1795500804000));
  EXPECT_EQ(xbez::parse_timestamp("2026-02-30T06:13:24Z"), std::nullopt);
  EXPECT_EQ(xbez::parse_timestamp("2026-11-24T06:13:24Zjunk"), std::nullopt);
  EXPECT_TRUE(xbez::is_protocol_id("a-Z_09", 36));
  EXPECT_FALSE(xbez::is_protocol_id("", 36));
  EXPECT_FALSE(xbez::is_protocol_id(std::string(37, 'a'), 36));
  EXPECT_FALSE(xbez::is_protocol_id("a.b", 36));
}

// ---- paying on the page ------------------------------------------------------------

TEST_F(XBezahldiensteTest, APayerPaysByCardOnThePageAndTheStatusSaysPaid) {
  auto p = provider();
  auto payment = p->create(request());
  ASSERT_TRUE(payment) << payment.error().message;
  EXPECT_TRUE(payment->transaction_id.starts_with("13004000."));
  EXPECT_TRUE(payment->redirect_url.starts_with(simulator_.base_url() + "/pay/"));

  auto page = test::HttpClient(simulator_.port()).get(page_path(payment->redirect_url));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<html lang=\"de\">"), std::string::npos);
  EXPECT_NE(page.body.find("SIMULATOR – keine echte Zahlung"), std::string::npos);
  EXPECT_NE(page.body.find("30,00 €"), std::string::npos);
  EXPECT_NE(page.body.find("Hundesteuer 2026, Schwerin"), std::string::npos);
  EXPECT_NE(page.body.find("<legend>Zahlungsart</legend>"), std::string::npos);
  EXPECT_NE(page.body.find("<label for=\"card_number\">"), std::string::npos);
  EXPECT_NE(page.body.find("Jetzt bezahlen"), std::string::npos);
  EXPECT_NE(page.body.find("Abbrechen"), std::string::npos);
  EXPECT_EQ(page.body.find("<script"), std::string::npos) << "works without JavaScript";

  auto before = p->status(payment->transaction_id);
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->state, ProviderState::pending);

  clock_.advance(2min);
  auto paid = pay_by_card(*payment);
  EXPECT_EQ(paid.status, 303);
  EXPECT_EQ(paid.header("location"), kReturn) << "the way back says nothing about the outcome";

  auto status = p->status(payment->transaction_id);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->state, ProviderState::paid);
  EXPECT_EQ(status->method, "CREDITCARD");
  EXPECT_FALSE(status->reference.empty());
  ASSERT_TRUE(status->paid_at);
  EXPECT_EQ(*status->paid_at, clock_.now());

  // A finished page shows its result, not the form again; paying twice changes nothing.
  auto again = test::HttpClient(simulator_.port()).get(page_path(payment->redirect_url));
  EXPECT_NE(again.body.find("Zahlung erfolgreich"), std::string::npos);
  EXPECT_EQ(again.body.find("Jetzt bezahlen"), std::string::npos);
  EXPECT_EQ(pay_by_card(*payment, "4000000000000002").status, 200);
  EXPECT_EQ(p->status(payment->transaction_id)->state, ProviderState::paid);
}

struct PageCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> fields;
  ProviderState state;
  const char* method;
  const char* detail;
};

class PageOutcomes : public XBezahldiensteTest, public ::testing::WithParamInterface<PageCase> {};

TEST_P(PageOutcomes, EndAsThePayerChose) {
  const auto& c = GetParam();
  auto p = provider();
  auto payment = p->create(request());
  ASSERT_TRUE(payment);
  EXPECT_EQ(pay(*payment, c.fields).status, 303);
  auto status = p->status(payment->transaction_id);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->state, c.state);
  EXPECT_EQ(status->method, c.method);
  EXPECT_EQ(status->detail, c.detail);
}

INSTANTIATE_TEST_SUITE_P(
    Page, PageOutcomes,
    ::testing::Values(
        PageCase{"declined_card",
                 {{"method", "CREDITCARD"}, {"card_number", "4000000000000002"}, {"action", "pay"}},
                 ProviderState::failed,
                 "",
                 "Zahlung abgelehnt"},
        PageCase{
            "paypal", {{"method", "PAYPAL"}, {"action", "pay"}}, ProviderState::paid, "PAYPAL", ""},
        PageCase{"direct_debit",
                 {{"method", "SEPA"}, {"iban", "DE89+3704+0044+0532+0130+00"}, {"action", "pay"}},
                 ProviderState::paid,
                 "OTHER",
                 ""},
        PageCase{"cancelled_by_payer",
                 {{"method", "CREDITCARD"}, {"action", "cancel"}},
                 ProviderState::cancelled,
                 "",
                 "Vom Zahlenden abgebrochen"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(XBezahldiensteTest, ThePageRefusesUnknownCardsAndBadIbansWithoutEndingThePayment) {
  auto p = provider();
  auto payment = p->create(request());
  ASSERT_TRUE(payment);
  auto card = pay_by_card(*payment, "5555555555554444");
  EXPECT_EQ(card.status, 422);
  EXPECT_NE(card.body.find("id=\"card_number-error\""), std::string::npos);
  EXPECT_NE(card.body.find("aria-describedby=\"card_number-hint card_number-error\""),
            std::string::npos);
  auto iban =
      pay(*payment, {{"method", "SEPA"}, {"iban", "DE00370400440532013000"}, {"action", "pay"}});
  EXPECT_EQ(iban.status, 422);
  EXPECT_NE(iban.body.find("id=\"iban-error\""), std::string::npos);
  auto none = pay(*payment, {{"action", "pay"}});
  EXPECT_EQ(none.status, 422);
  EXPECT_NE(none.body.find("href=\"#method\""), std::string::npos);
  EXPECT_EQ(p->status(payment->transaction_id)->state, ProviderState::pending);
}

// ---- the simulator's modes ---------------------------------------------------------

struct ModeCase {
  const char* name;
  PaymentSimulator::PaymentMode mode;
  ProviderState state;
  const char* detail;
};

class PaymentModes : public XBezahldiensteTest, public ::testing::WithParamInterface<ModeCase> {};

TEST_P(PaymentModes, EndEveryPaymentTheirWay) {
  const auto& c = GetParam();
  auto p = provider();
  auto payment = p->create(request());
  ASSERT_TRUE(payment);
  simulator_.set_mode(c.mode);
  EXPECT_EQ(pay_by_card(*payment).status, 303);
  auto status = p->status(payment->transaction_id);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(status->state, c.state);
  EXPECT_EQ(status->detail, c.detail);
  EXPECT_TRUE(status->method.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Modes, PaymentModes,
    ::testing::Values(ModeCase{"decline", PaymentSimulator::PaymentMode::decline,
                               ProviderState::failed, "Zahlung abgelehnt"},
                      ModeCase{"cancel", PaymentSimulator::PaymentMode::cancel,
                               ProviderState::cancelled, "Vom Zahlenden abgebrochen"},
                      ModeCase{"timeout", PaymentSimulator::PaymentMode::timeout,
                               ProviderState::failed, "Zeitüberschreitung"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(XBezahldiensteTest, AnAbandonedPageTimesOutOnTheProvidersClock) {
  auto p = provider();
  auto payment = p->create(request());
  ASSERT_TRUE(payment);
  clock_.advance(29min);
  EXPECT_EQ(p->status(payment->transaction_id)->state, ProviderState::pending);
  clock_.advance(1min);
  auto status = p->status(payment->transaction_id);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, ProviderState::failed);
  EXPECT_EQ(status->detail, "Zeitüberschreitung");
  EXPECT_EQ(pay_by_card(*payment).status, 200) << "too late: the page shows the result";
}

TEST_F(XBezahldiensteTest, ASlowProviderIsUnavailableToAClientThatWaitsLess) {
  auto p = provider(1s);
  simulator_.set_mode(PaymentSimulator::PaymentMode::slow, 2500ms);
  auto started = std::chrono::steady_clock::now();
  auto payment = p->create(request());
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(payment);
  EXPECT_EQ(payment.error().code, ErrorCode::unavailable);
  EXPECT_LT(waited, 2400ms) << "the client gave up, not the simulator";

  // Within the client's patience it goes through.
  simulator_.set_mode(PaymentSimulator::PaymentMode::slow, 100ms);
  EXPECT_TRUE(p->create(request("order-2")));
}

TEST_F(XBezahldiensteTest, StopEndsASlowAnswerAtOnce) {
  simulator_.set_mode(PaymentSimulator::PaymentMode::slow, 60s);
  auto p = provider(30s);
  std::atomic<bool> answered{false};
  std::thread waiting([&] {
    (void)p->create(request());
    answered = true;
  });
  while (simulator_.requests() == 0) std::this_thread::sleep_for(5ms);
  auto started = std::chrono::steady_clock::now();
  simulator_.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  waiting.join();
  EXPECT_TRUE(answered);
}

TEST_F(XBezahldiensteTest, AnUnreachableProviderIsUnavailable) {
  auto p = provider();
  auto payment = p->create(request());
  ASSERT_TRUE(payment);
  simulator_.set_mode(PaymentSimulator::PaymentMode::unreachable);
  auto created = p->create(request("order-2"));
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::unavailable);
  auto status = p->status(payment->transaction_id);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::unavailable);

  // Nobody listening at all is the same to the caller.
  auto gone = options();
  gone.base_url = "http://127.0.0.1:1";
  auto nothing = make_xbezahldienste_provider(gone)->create(request("order-3"));
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.error().code, ErrorCode::unavailable);
}

TEST_F(XBezahldiensteTest, TheControlPageAndItsJsonSetTheModes) {
  test::HttpClient browser(simulator_.port());
  auto page = browser.get("/control");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("SIMULATOR – keine echte Zahlung"), std::string::npos);
  EXPECT_NE(page.body.find("<legend>Benachrichtigungen</legend>"), std::string::npos);
  auto form = browser.post_form("/control", {{"payments", "decline"}, {"notifications", "none"}});
  EXPECT_EQ(form.status, 303);
  auto p = provider();
  auto payment = p->create(request());
  ASSERT_TRUE(payment);
  pay_by_card(*payment);
  EXPECT_EQ(p->status(payment->transaction_id)->state, ProviderState::failed);
  ASSERT_TRUE(simulator_.wait_for_pushes(5s));
  EXPECT_EQ(sink_.pushes().size(), 0u);

  auto json = browser.request("POST", "/control", R"({"payments":"unreachable"})",
                              {{"Content-Type", "application/json"}});
  EXPECT_EQ(json.status, 200);
  EXPECT_NE(json.body.find("\"payments\":\"unreachable\""), std::string::npos);
  EXPECT_NE(json.body.find("\"simulator\""), std::string::npos);
  EXPECT_EQ(p->status(payment->transaction_id).error().code, ErrorCode::unavailable);
  EXPECT_EQ(browser
                .request("POST", "/control", R"({"payments":"sometimes"})",
                         {{"Content-Type", "application/json"}})
                .status,
            400);

  auto list = transactions();
  EXPECT_EQ(list->getValue<std::string>("simulator"), "SIMULATOR – keine echte Zahlung");
  EXPECT_EQ(list->getValue<int>("requests"), 3);
}

// ---- refusals ----------------------------------------------------------------------

TEST_F(XBezahldiensteTest, ARepeatedRequestIdIsRefusedAsPaymentExists) {
  auto p = provider();
  ASSERT_TRUE(p->create(request()));
  auto again = p->create(request());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::invalid_input);
  EXPECT_NE(again.error().message.find("PAYMENT_EXISTS"), std::string::npos)
      << again.error().message;
  EXPECT_NE(again.error().message.find("requestId"), std::string::npos) << "and the detail";
}

TEST_F(XBezahldiensteTest, WhatAProviderRefusesIsInvalidInputWithItsCode) {
  auto p = provider();
  struct Case {
    std::string from;
    std::string to;
    std::string code;
  };
  for (const auto& c : std::vector<Case>{
           {"\"grosAmount\":30.00", "\"grosAmount\":31.00", "CALCULATION_ERROR"},
           {"\"currency\":\"EUR\"", "\"currency\":\"USD\"", "VALIDATION_ERROR"},
           {"\"purpose\":\"5260000012\"", "\"purpose\":\"52600/00012\"", "VALIDATION_ERROR"},
           {"\"quantity\":1", "\"quantity\":0", "VALIDATION_ERROR"},
       }) {
    rewrite_ = [c](const std::string& body) {
      auto at = body.find(c.from);
      return at == std::string::npos ? body
                                     : body.substr(0, at) + c.to + body.substr(at + c.from.size());
    };
    auto created = p->create(request("order-" + c.code));
    ASSERT_FALSE(created) << c.to;
    EXPECT_EQ(created.error().code, ErrorCode::invalid_input) << c.to;
    EXPECT_NE(created.error().message.find(c.code), std::string::npos) << created.error().message;
  }
  EXPECT_EQ(transactions()->getArray("transactions")->size(), 0u);
}

TEST_F(XBezahldiensteTest, WrongCredentialsAreRefused) {
  auto o = options();
  o.basic_password = "falsch";
  auto created = make_xbezahldienste_provider(o)->create(request());
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message.find("FORBIDDEN"), std::string::npos);

  // Without a Basic user, a bearer token goes instead.
  o.basic_user.clear();
  o.bearer_token = "token-123";
  (void)make_xbezahldienste_provider(o)->create(request());
  auto last = recorded().back();
  auto auth = std::find_if(last.headers.begin(), last.headers.end(),
                           [](const auto& h) { return h.first == "Authorization"; });
  ASSERT_NE(auth, last.headers.end());
  EXPECT_EQ(auth->second, "Bearer token-123");
}

TEST_F(XBezahldiensteTest, AnUnknownTransactionIsNotFound) {
  auto status = provider()->status("13004000.nosuchtransaction");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::not_found);
}

TEST_F(XBezahldiensteTest, IdsThatCouldChangeTheUrlAreRefusedBeforeAnyRequest) {
  auto p = provider();
  for (const std::string& id : std::vector<std::string>{
           "13004000./../13004001/x", "13004000.a%2Fb", "13004000.a/b", "13004000.", ".abc", "abc",
           "13004000.a.b", "13004000.a?b=c", "13004000.a#b", "13004000.ä",
           "13004000." + std::string(45, 'a'), "../x.abc"}) {
    auto status = p->status(id);
    ASSERT_FALSE(status) << id;
    EXPECT_EQ(status.error().code, ErrorCode::invalid_input) << id;
    EXPECT_FALSE(p->cancel(id)) << id;
    EXPECT_FALSE(p->refund(id, "r-1", 100)) << id;
  }
  auto r = request();
  r.endpoint_id = "13004000/../x";
  EXPECT_EQ(p->create(r).error().code, ErrorCode::invalid_input);
  r = request("order/../1");
  EXPECT_EQ(p->create(r).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(p->refund("13004000.abc", "r/1", 100).error().code, ErrorCode::invalid_input);
  EXPECT_TRUE(recorded().empty());
  EXPECT_EQ(simulator_.requests(), 0u);

  auto o = options();
  o.originator_id = "mvsp/../admin";
  EXPECT_THROW((void)make_xbezahldienste_provider(o), core::Failure);
}

// What a provider might answer, and what the adapter makes of it (no simulator needed).
struct AnswerCase {
  const char* name;
  int status;
  std::string body;
  ErrorCode code;
  std::string says;  // what the message must repeat of the provider's answer
};

class Answers : public ::testing::TestWithParam<AnswerCase> {};

TEST_P(Answers, AreMappedToOurErrors) {
  const auto& c = GetParam();
  auto fetch = [c](const std::string&, const std::string&, const Headers&,
                   const std::string&) -> core::Result<web::HttpAnswer> {
    return web::HttpAnswer{c.status, c.body};
  };
  auto p = make_xbezahldienste_provider(
      {.name = "x", .base_url = "https://pay.example", .originator_id = "o", .fetch = fetch});
  ProviderRequest r{.request_id = "r",
                    .amount_cents = 100,
                    .return_url = "https://s.example/",
                    .endpoint_id = "e"};
  auto created = p->create(r);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, c.code) << created.error().message;
  EXPECT_NE(created.error().message.find(c.says), std::string::npos) << created.error().message;
}

std::vector<AnswerCase> answer_cases() {
  auto info = [](const std::string& members) {
    return R"({"paymentInformation":{)" + members + "}}";
  };
  return {
      {"server_error", 500, "", ErrorCode::unavailable, "HTTP 500"},
      {"bad_gateway", 502, "<html>", ErrorCode::unavailable},
      {"malformed_json", 200, R"({"paymentInformation":)", ErrorCode::unavailable},
      {"no_transaction_id", 200, info(R"("transactionRedirectUrl":"https://pay.example/p")"),
       ErrorCode::unavailable},
      {"script_redirect", 200,
       info(R"x("transactionId":"t1","transactionRedirectUrl":"javascript:alert(1)")x"),
       ErrorCode::unavailable},
      {"id_with_slash", 200,
       info(R"("transactionId":"t/1","transactionRedirectUrl":"https://pay.example/p")"),
       ErrorCode::unavailable},
      {"problem", 400,
       R"({"status":400,"functionalCode":"BOOKING_DATA_MISSING","detail":"Haushaltsstelle"})",
       ErrorCode::invalid_input, "BOOKING_DATA_MISSING: Haushaltsstelle"},
      {"too_many", 429, "", ErrorCode::unavailable},
  };
}

INSTANTIATE_TEST_SUITE_P(Create, Answers, ::testing::ValuesIn(answer_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(XBezahldiensteAnswers, TheStatusIsReadAndAnUnknownOneIsUnavailable) {
  std::string body;
  int code = 200;
  auto p = make_xbezahldienste_provider(
      {.name = "x",
       .base_url = "https://pay.example/",
       .originator_id = "o",
       .fetch = [&](const std::string&, const std::string& url, const Headers&,
                    const std::string&) -> core::Result<web::HttpAnswer> {
         EXPECT_EQ(url, "https://pay.example/paymenttransaction/o/e/t1");
         return web::HttpAnswer{code, body};
       }});
  body = R"({"paymentInformation":{"transactionId":"t1","status":"PAYED","paymentMethod":"GIROPAY",
    "transactionReference":"KZ-1","transactionTimestamp":"2026-11-24T06:13:24.123Z",
    "statusDetail":")" +
         std::string(120, 'x') + R"("}})";
  auto paid = p->status("e.t1");
  ASSERT_TRUE(paid) << paid.error().message;
  EXPECT_EQ(paid->state, ProviderState::paid);
  EXPECT_EQ(paid->method, "GIROPAY");
  EXPECT_EQ(paid->reference, "KZ-1");
  EXPECT_EQ(paid->paid_at, core::from_millis(1795500804123));
  EXPECT_EQ(paid->detail.size(), 99u);
  body = R"({"paymentInformation":{"transactionId":"t1","status":"PAID"}})";
  EXPECT_EQ(p->status("e.t1").error().code, ErrorCode::unavailable);
  body = R"({"paymentInformation":{"transactionId":"t2","status":"PAYED"}})";
  EXPECT_EQ(p->status("e.t1").error().code, ErrorCode::unavailable) << "another transaction";
  body = R"({"status":404,"functionalCode":"UNSPECIFIED"})";
  code = 404;
  EXPECT_EQ(p->status("e.t1").error().code, ErrorCode::not_found);
}

// ---- the extensions ----------------------------------------------------------------

TEST_F(XBezahldiensteTest, RefundsNeverExceedWhatWasPaidAndARepeatedIdIsOneRefund) {
  auto p = provider();
  auto payment = p->create(request());
  ASSERT_TRUE(payment);
  auto early = p->refund(payment->transaction_id, "refund-0", 1000);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ErrorCode::conflict) << "nothing paid yet";
  pay_by_card(*payment);

  auto first = p->refund(payment->transaction_id, "refund-1", 1000);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->state, RefundState::success);
  EXPECT_FALSE(first->reference.empty());
  auto repeated = p->refund(payment->transaction_id, "refund-1", 1000);
  ASSERT_TRUE(repeated);
  EXPECT_EQ(repeated->reference, first->reference);

  auto too_much = p->refund(payment->transaction_id, "refund-2", 2001);
  ASSERT_FALSE(too_much);
  EXPECT_EQ(too_much.error().code, ErrorCode::conflict);
  EXPECT_NE(too_much.error().message.find("REFUND_EXCEEDS_PAYMENT"), std::string::npos);
  auto other_amount = p->refund(payment->transaction_id, "refund-1", 500);
  ASSERT_FALSE(other_amount);
  EXPECT_EQ(other_amount.error().code, ErrorCode::conflict);

  auto rest = p->refund(payment->transaction_id, "refund-3", 2000);
  ASSERT_TRUE(rest) << rest.error().message;
  EXPECT_EQ(p->refund(payment->transaction_id, "refund-4", 1).error().code, ErrorCode::conflict);

  auto listed = transactions()->getArray("transactions")->getObject(0);
  EXPECT_EQ(listed->getValue<std::string>("refunded"), "30.00");
  EXPECT_EQ(listed->getArray("refunds")->size(), 2u);

  auto body = recorded().back().body;
  EXPECT_EQ(body, R"({"refundId":"refund-4","amount":0.01})");
}

TEST_F(XBezahldiensteTest, CancellingEndsAnOpenTransactionButNotAPaidOne) {
  auto p = provider();
  auto open = p->create(request("order-1"));
  ASSERT_TRUE(open);
  ASSERT_TRUE(p->cancel(open->transaction_id));
  EXPECT_EQ(p->status(open->transaction_id)->state, ProviderState::cancelled);
  EXPECT_TRUE(p->cancel(open->transaction_id)) << "cancelling twice is no error";
  EXPECT_EQ(recorded()[1].method, "DELETE");

  auto paid = p->create(request("order-2"));
  ASSERT_TRUE(paid);
  pay_by_card(*paid);
  auto refused = p->cancel(paid->transaction_id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_EQ(refused.error().message, "the transaction is already paid");
  EXPECT_EQ(p->status(paid->transaction_id)->state, ProviderState::paid);
}

TEST_F(XBezahldiensteTest, WithoutTheExtensionsThereIsNoCancellationRefundOrPush) {
  auto o = options();
  o.extensions = false;
  auto p = make_xbezahldienste_provider(o);
  EXPECT_EQ(p->cancel("13004000.abc").error().code, ErrorCode::conflict);
  EXPECT_EQ(p->refund("13004000.abc", "r-1", 100).error().code, ErrorCode::conflict);
  auto body = std::string(R"({"transactionId":"abc","status":"PAYED"})");
  auto ts = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count());
  EXPECT_EQ(p->read_notification(
                 {{"x-payment-timestamp", ts},
                  {"x-payment-signature", xbez::notification_signature(kSecret, ts, body)}},
                 body, clock_.now())
                .error()
                .code,
            ErrorCode::unauthenticated);
  EXPECT_TRUE(recorded().empty());
}

// ---- pushes ------------------------------------------------------------------------

class Pushes : public XBezahldiensteTest {
 protected:
  // Creates and pays one transaction; returns its id once every push went out.
  std::string pay_one() {
    auto payment = provider()->create(request());
    EXPECT_TRUE(payment);
    clock_.advance(1min);
    pay_by_card(*payment);
    EXPECT_TRUE(simulator_.wait_for_pushes(5s));
    return payment->transaction_id;
  }
  core::Result<Notification> read(const NotifySink::Push& push, core::TimePoint now) {
    return provider()->read_notification(push.headers, push.body, now);
  }
  static std::string header(const NotifySink::Push& push, const std::string& name) {
    for (const auto& [k, v] : push.headers) {
      if (k == name) return v;
    }
    return {};
  }
};

TEST_F(Pushes, ASignedPushIsReadAndEveryForgeryIsRefused) {
  auto id = pay_one();
  auto pushes = sink_.pushes();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(simulator_.pushes_sent(), 1u);
  const auto& push = pushes[0];
  // The signature as documented, computed here without the shared helper.
  auto ts = header(push, "x-payment-timestamp");
  EXPECT_EQ(ts, std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                   clock_.now().time_since_epoch())
                                   .count()));
  EXPECT_EQ(header(push, "x-payment-signature"),
            "v1=" + core::crypto::to_hex(core::crypto::hmac_sha256(kSecret, ts + "." + push.body)));

  auto n = read(push, clock_.now());
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->transaction_id, id);
  EXPECT_EQ(n->status.state, ProviderState::paid);
  EXPECT_EQ(n->status.method, "CREDITCARD");
  EXPECT_FALSE(n->status.reference.empty());
  EXPECT_EQ(n->status.paid_at, clock_.now());
  EXPECT_TRUE(read(push, clock_.now() + 299s)) << "within the window";

  auto refused = [&](const NotifySink::Push& forged, core::TimePoint now,
                     std::unique_ptr<Provider> p) {
    auto r = p->read_notification(forged.headers, forged.body, now);
    return !r && r.error().code == ErrorCode::unauthenticated;
  };
  auto other = options();
  other.notification_secret = "another-secret";
  EXPECT_TRUE(refused(push, clock_.now(), make_xbezahldienste_provider(other))) << "wrong secret";
  auto altered = push;
  altered.body.replace(altered.body.find("PAYED"), 5, "FAILD");
  EXPECT_TRUE(refused(altered, clock_.now(), provider())) << "altered body";
  EXPECT_TRUE(refused(push, clock_.now() + 301s, provider())) << "too old";
  EXPECT_TRUE(refused(push, clock_.now() - 301s, provider())) << "from the future";
  for (const char* missing : {"x-payment-signature", "x-payment-timestamp"}) {
    auto without = push;
    std::erase_if(without.headers, [&](const auto& h) { return h.first == missing; });
    EXPECT_TRUE(refused(without, clock_.now(), provider())) << missing;
  }
  auto shifted = push;  // the timestamp moved, the signature kept
  for (auto& [k, v] : shifted.headers) {
    if (k == "x-payment-timestamp") v = std::to_string(std::stoll(v) + 1);
  }
  EXPECT_TRUE(refused(shifted, clock_.now(), provider())) << "signed timestamp changed";
  auto garbled = push;
  for (auto& [k, v] : garbled.headers) {
    if (k == "x-payment-signature") v = "v1=zz";
  }
  EXPECT_TRUE(refused(garbled, clock_.now(), provider())) << "not hex";
}

TEST_F(Pushes, DuplicateModeSendsTheSamePushTwice) {
  simulator_.set_mode(PaymentSimulator::NotificationMode::duplicate);
  auto id = pay_one();
  auto pushes = sink_.pushes();
  ASSERT_EQ(pushes.size(), 2u);
  EXPECT_EQ(pushes[0].body, pushes[1].body);
  for (const auto& push : pushes) {
    auto n = read(push, clock_.now());
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(n->transaction_id, id);
    EXPECT_EQ(n->status.state, ProviderState::paid);
  }
}

TEST_F(Pushes, OutOfOrderModeSendsAStaleInitialAfterTheFinalState) {
  simulator_.set_mode(PaymentSimulator::NotificationMode::out_of_order);
  auto id = pay_one();
  auto pushes = sink_.pushes();
  ASSERT_EQ(pushes.size(), 2u);
  auto final_push = read(pushes[0], clock_.now());
  auto stale = read(pushes[1], clock_.now());
  ASSERT_TRUE(final_push && stale);
  EXPECT_EQ(final_push->status.state, ProviderState::paid);
  EXPECT_EQ(stale->transaction_id, id);
  EXPECT_EQ(stale->status.state, ProviderState::pending);
  EXPECT_EQ(simulator_.pushes_sent(), 2u);
}

TEST_F(Pushes, NoneModeSendsNothingAndACancellationIsPushedToo) {
  simulator_.set_mode(PaymentSimulator::NotificationMode::none);
  pay_one();
  EXPECT_TRUE(sink_.pushes().empty());
  EXPECT_EQ(simulator_.pushes_sent(), 0u);

  simulator_.set_mode(PaymentSimulator::NotificationMode::normal);
  auto p = provider();
  auto payment = p->create(request("order-2"));
  ASSERT_TRUE(payment);
  ASSERT_TRUE(p->cancel(payment->transaction_id));
  ASSERT_TRUE(simulator_.wait_for_pushes(5s));
  auto pushes = sink_.pushes();
  ASSERT_EQ(pushes.size(), 1u);
  auto n = read(pushes[0], clock_.now());
  ASSERT_TRUE(n);
  EXPECT_EQ(n->status.state, ProviderState::cancelled);
}

}  // namespace
}  // namespace mvsp::payments
