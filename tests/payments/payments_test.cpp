// Payment orders on SQLite and PostgreSQL: the state table, Kassenzeichen, validation,
// idempotency, the provider's journey with a provider double, notifications that come
// twice or out of order, expiry, reconciliation, refunds, tenant isolation and the daily
// booking file.
#include <gtest/gtest.h>

#include <mvsp/core/audit.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/payments/payments.hpp>
#include <set>

#include "support.hpp"

namespace mvsp::payments {
namespace {

using namespace std::chrono_literals;

// A provider double: transactions in memory, told by the test what happened.
class FakeProvider final : public Provider {
 public:
  const std::string& name() const override { return name_; }
  core::Result<ProviderPayment> create(const ProviderRequest& r) override {
    ++creates;
    if (down) return core::fail(core::Error::unavailable("down"));
    last_request = r;
    auto id = "tx-" + std::to_string(transactions.size() + 1);
    transactions[id] = {};
    return ProviderPayment{id, "https://pay.example/" + id};
  }
  core::Result<ProviderStatus> status(const std::string& id) override {
    ++status_calls;
    if (down) return core::fail(core::Error::unavailable("down"));
    auto it = transactions.find(id);
    if (it == transactions.end()) return core::fail(core::Error::not_found("no"));
    return it->second;
  }
  core::Status cancel(const std::string& id) override {
    if (down) return core::fail(core::Error::unavailable("down"));
    cancelled.insert(id);
    if (transactions[id].state == ProviderState::paid) {
      return core::fail(core::Error::conflict("paid"));
    }
    transactions[id].state = ProviderState::cancelled;
    return {};
  }
  core::Result<ProviderRefund> refund(const std::string&, const std::string& refund_id,
                                      std::int64_t amount) override {
    refunds.emplace_back(refund_id, amount);
    if (refuse_refunds) return core::fail(core::Error::invalid("amount", "refused"));
    return ProviderRefund{RefundState::success, "R-" + refund_id, ""};
  }
  core::Result<Notification> read_notification(
      const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
      core::TimePoint) override {
    bool signed_ok = false;
    for (const auto& [k, v] : headers) signed_ok |= k == "x-test-signature" && v == "ok";
    if (!signed_ok) return core::fail(core::Error::unauthenticated("bad signature"));
    // body: "<transaction> <state>"
    auto space = body.find(' ');
    Notification n{body.substr(0, space), {}};
    auto state = body.substr(space + 1);
    n.status.state = state == "paid"        ? ProviderState::paid
                     : state == "cancelled" ? ProviderState::cancelled
                     : state == "failed"    ? ProviderState::failed
                                            : ProviderState::pending;
    if (n.status.state == ProviderState::paid) n.status.method = "CREDITCARD";
    return n;
  }

  std::string name_ = "fake";
  std::map<std::string, ProviderStatus> transactions;
  std::set<std::string> cancelled;
  std::vector<std::pair<std::string, std::int64_t>> refunds;
  std::optional<ProviderRequest> last_request;
  bool down = false;
  bool refuse_refunds = false;
  int creates = 0;
  int status_calls = 0;
};

class PaymentsTest : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    database_->migrate(clock_);
    jobs_ = std::make_unique<core::JobQueue>(db(), clock_, ids_);
    audit_ = std::make_unique<core::AuditLog>(clock_);
    payments_ = std::make_unique<Payments>(
        db(), clock_, ids_, *jobs_, *audit_,
        PaymentsOptions{.public_url = "http://mvsp.test",
                        .master_key = std::string(32, 'k'),
                        .fetch = [this](const std::string&, const std::string& url,
                                        const std::vector<std::pair<std::string, std::string>>&,
                                        const std::string& body) -> core::Result<web::HttpAnswer> {
                          callbacks.emplace_back(url, body);
                          return web::HttpAnswer{200, ""};
                        }});
    auto p = std::make_unique<FakeProvider>();
    provider_ = p.get();
    payments_->add_provider(std::move(p));
    ASSERT_TRUE(payments_->save_account(account("schwerin", "t-schwerin"), "test"));
    ASSERT_TRUE(payments_->save_account(account("wismar", "t-wismar"), "test"));
  }

  static Account account(const std::string& id, const std::string& tenant) {
    return {.authority_id = id,
            .tenant_id = tenant,
            .authority_name = "Stadt " + id,
            .payee = "Stadtkasse " + id,
            .iban = "DE02 1203 0000 0000 2020 51",
            .bic = "BYLADEM1001",
            .budget_position = "1.1.2.01",
            .booking_account = "43210000",
            .kassenzeichen = {"5{YY}{N:6}{P}", "luhn"},
            .provider = "fake",
            .endpoint_id = "13004000",
            .invoice = true,
            .invoice_days = 14};
  }

  static NewOrder order(std::int64_t cents = 3000, const std::string& authority = "schwerin") {
    return {.authority_id = authority,
            .amount_cents = cents,
            .purpose = "Bewohnerparkausweis",
            .reference = "MV-35CA3-4HFYVHOK",
            .return_url = "https://dienst.example/fertig",
            .payer = {.name = "Mustermann", .first_name = "Erika"}};
  }

  Order create(std::int64_t cents = 3000, const std::string& key = "") {
    auto c = payments_->create(client_, order(cents),
                               key.empty() ? "key-" + std::to_string(++keys_) : key);
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c->order;
  }

  Order started() {
    auto o = create();
    auto url = payments_->start(o.id, "http://mvsp.test/zahlung/" + o.id + "/zurueck");
    EXPECT_TRUE(url);
    return *payments_->get(o.id);
  }

  core::Status push(const Order& o, const std::string& state) {
    return payments_->notify("fake", {{"x-test-signature", "ok"}},
                             o.provider_transaction + " " + state);
  }

  std::vector<std::string> events(const Order& o) {
    std::vector<std::string> out;
    for (const auto& e : payments_->journal(o.id)) out.push_back(e.event + ":" + e.to_state);
    return out;
  }

  int run_jobs() {
    core::JobRunner runner(*jobs_, db(), {.threads = 1, .name = "test"});
    payments_->register_jobs(runner);
    return runner.run_due();
  }

  test::ManualClock clock_;
  test::SequenceIds ids_;
  std::unique_ptr<core::JobQueue> jobs_;
  std::unique_ptr<core::AuditLog> audit_;
  std::unique_ptr<Payments> payments_;
  FakeProvider* provider_ = nullptr;
  Origin client_{"client-1", "t-schwerin"};
  int keys_ = 0;
  std::vector<std::pair<std::string, std::string>> callbacks;
};

// ---- rules without a database -------------------------------------------------------

TEST(PaymentStates, EveryMoveOfTheTable) {
  using S = State;
  // from -> the states it may move to; every other pair is refused.
  std::map<S, std::set<S>> allowed = {
      {S::created, {S::started, S::invoiced, S::cancelled_by_service, S::expired}},
      {S::started,
       {S::submitted, S::paid, S::declined, S::provider_error, S::cancelled_by_payer,
        S::cancelled_by_service, S::expired}},
      {S::submitted,
       {S::paid, S::declined, S::provider_error, S::cancelled_by_payer, S::cancelled_by_service,
        S::expired}},
      {S::invoiced, {S::paid, S::cancelled_by_service}},
  };
  for (const auto& from : states()) {
    for (const auto& to : states()) {
      bool expected = allowed[from.state].contains(to.state);
      EXPECT_EQ(may_move(from.state, to.state), expected) << from.name << " -> " << to.name;
    }
  }
}

TEST(PaymentStates, PublicStatusesAndFinishedFlags) {
  std::map<std::string, std::string> status;
  for (const auto& s : states()) {
    status[std::string(s.name)] = std::string(s.status) + (s.finished ? "!" : "");
    EXPECT_EQ(parse_state(s.name), s.state);
    EXPECT_EQ(&info(s.state), &s);
  }
  EXPECT_EQ(status["created"], "created");
  EXPECT_EQ(status["started"], "started");
  EXPECT_EQ(status["submitted"], "submitted");
  EXPECT_EQ(status["invoiced"], "submitted");
  EXPECT_EQ(status["paid"], "success!");
  EXPECT_EQ(status["declined"], "failed!");
  EXPECT_EQ(status["provider_error"], "failed!");
  EXPECT_EQ(status["cancelled_by_payer"], "cancelled!");
  EXPECT_EQ(status["cancelled_by_service"], "cancelled!");
  EXPECT_EQ(status["expired"], "expired!");
  EXPECT_FALSE(parse_state("success"));
}

TEST(Kassenzeichen, CheckDigits) {
  // Luhn's classic example: 7992739871 has the check digit 3.
  EXPECT_EQ(check_digit("7992739871", "luhn"), '3');
  EXPECT_EQ(check_digit("0", "luhn"), '0');
  // Modulus 11, weights 2..7 from the right: 261533 -> 9 (3·2 + 3·3 + 5·4 + 1·5 + 6·6 +
  // 2·7 = 90, 11 - 90 % 11 = 9).
  EXPECT_EQ(check_digit("261533", "mod11"), '9');
  // A remainder of 1 gives 10, written as 0.
  EXPECT_EQ(check_digit("6", "mod11"), '0');
}

TEST(Kassenzeichen, FromThePattern) {
  KassenzeichenRule rule{"5{YY}{N:6}{P}", "luhn"};
  auto kz = kassenzeichen(rule, 2026, 42);
  ASSERT_TRUE(kz);
  EXPECT_EQ(kz->substr(0, 9), "526000042");
  EXPECT_EQ(kz->size(), 10u);
  EXPECT_EQ(kz->back(), check_digit("526000042", "luhn"));
  EXPECT_TRUE(valid_kassenzeichen(rule, *kz));
  auto typo = *kz;
  typo[4] = typo[4] == '0' ? '1' : '0';
  EXPECT_FALSE(valid_kassenzeichen(rule, typo));
  auto letters = kassenzeichen({"SN-{YYYY}-{N:4}{P}", "mod11"}, 2026, 7);
  ASSERT_TRUE(letters);
  EXPECT_EQ(letters->substr(0, 12), "SN-2026-0007");
  // The running number has six digits: the millionth does not fit.
  auto full = kassenzeichen(rule, 2026, 1'000'000);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().fields.at(0).field, "kassenzeichen.pattern");
}

TEST(Kassenzeichen, BadPatternsAreNamed) {
  for (const auto& [pattern, expected] : std::vector<std::pair<std::string, std::string>>{
           {"{YY}{P}", "exactly one running number"},
           {"{N:6}{N:2}", "exactly one running number"},
           {"{N:0}", "{N:k} needs k"},
           {"{N:13}", "{N:k} needs k"},
           {"{N:4}{P}{YY}", "at the end"},
           {"{N:4}{Q}", "not {Q}"},
           {"ab{N:4}", "may hold only"},
           {"{N:4", "without }"},
           {"{YYYY}{N:12}ABCDEFGHIJKL{P}", "longer than 27"},
           {"K{N:6}{P}", "needs the year"},
       }) {
    auto s = check_rule({pattern, "luhn"});
    ASSERT_FALSE(s) << pattern;
    EXPECT_EQ(s.error().fields.at(0).field, "kassenzeichen.pattern") << pattern;
    EXPECT_NE(s.error().fields.at(0).message.find(expected), std::string::npos)
        << pattern << ": " << s.error().fields.at(0).message;
  }
  auto method = check_rule({"{YY}{N:4}", "sum"});
  ASSERT_FALSE(method);
  EXPECT_EQ(method.error().fields.at(0).field, "kassenzeichen.check");
}

TEST(Fees, FixedAndPerUnit) {
  EXPECT_EQ(compute_fee({.fixed_cents = 1300}, {}).value(), 1300);
  FeeRule dogs{
      .fixed_cents = 0, .per_unit_cents = 9000, .unit_field = "hunde.anzahl", .max_units = 5};
  EXPECT_EQ(compute_fee(dogs, {{"hunde.anzahl", "2"}}).value(), 18000);
  EXPECT_EQ(compute_fee(dogs, {{"hunde.anzahl", " 0 "}}).value(), 0);
  for (const auto& bad : {"", "-1", "6", "2.5", "zwei", "1e2"}) {
    auto f = compute_fee(dogs, {{"hunde.anzahl", bad}});
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.error().fields.at(0).field, "hunde.anzahl");
  }
  EXPECT_FALSE(compute_fee(dogs, {}));
  EXPECT_EQ(describe_fee(dogs, 2),
            R"({"fixedCents":0,"perUnitCents":9000,"unitField":"hunde.anzahl","units":2})");
}

TEST(Accounts, EveryFieldIsChecked) {
  Account a{.authority_id = "x",
            .tenant_id = "t",
            .payee = "",
            .iban = "DE02120300000000202052",  // one digit off
            .bic = "BYLA",
            .budget_position = "",
            .booking_account = "a\nb",
            .kassenzeichen = {"{YY}", "luhn"},
            .provider = "p",
            .endpoint_id = "../x",
            .invoice = true,
            .invoice_days = 0};
  auto s = check_account(a);
  ASSERT_FALSE(s);
  std::set<std::string> fields;
  for (const auto& f : s.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields,
            (std::set<std::string>{"payee", "iban", "bic", "budgetPosition", "bookingAccount",
                                   "kassenzeichen.pattern", "endpointId", "invoiceDays"}));
  a = {.authority_id = "x",
       .tenant_id = "t",
       .payee = "Stadtkasse",
       .iban = "de02 1203 0000 0000 2020 51",
       .budget_position = "1",
       .booking_account = "2"};
  EXPECT_TRUE(check_account(a));
  EXPECT_EQ(normalise_iban(a.iban), "DE02120300000000202051");
}

// ---- orders -------------------------------------------------------------------------

TEST_P(PaymentsTest, CreatesWithKassenzeichenAndJournal) {
  auto a = create();
  auto b = create();
  EXPECT_EQ(a.state, State::created);
  EXPECT_EQ(a.amount_cents, 3000);
  EXPECT_EQ(a.tenant_id, "t-schwerin");
  EXPECT_EQ(a.iban, "DE02120300000000202051");
  EXPECT_EQ(a.budget_position, "1.1.2.01");
  EXPECT_NE(a.kassenzeichen, b.kassenzeichen);
  KassenzeichenRule rule{"5{YY}{N:6}{P}", "luhn"};
  EXPECT_TRUE(valid_kassenzeichen(rule, a.kassenzeichen));
  EXPECT_EQ(a.kassenzeichen.substr(3, 6), "000001");
  EXPECT_EQ(b.kassenzeichen.substr(3, 6), "000002");
  // Another authority paying into the same account (IBAN) continues the count, so a
  // transfer's Kassenzeichen names one order; one with its own account counts on its own.
  auto w = payments_->create({"client-2", "t-wismar"}, order(500, "wismar"), "k");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->order.kassenzeichen.substr(3, 6), "000003");
  auto own = account("gadebusch", "t-wismar");
  own.iban = "DE89370400440532013000";
  ASSERT_TRUE(payments_->save_account(own, "test"));
  auto g = payments_->create({"client-2", "t-wismar"}, order(500, "gadebusch"), "k2");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->order.kassenzeichen.substr(3, 6), "000001");
  // Schwerin's account moves to another IBAN with the same pattern: the numbers already
  // issued for the authority are passed over, never issued twice.
  auto moved = account("schwerin", "t-schwerin");
  moved.iban = "DE75512108001245126199";
  ASSERT_TRUE(payments_->save_account(moved, "test"));
  auto after = payments_->create(client_, order(), "k3");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_NE(after->order.kassenzeichen, a.kassenzeichen);
  EXPECT_NE(after->order.kassenzeichen, b.kassenzeichen);
  EXPECT_EQ(events(a), std::vector<std::string>{"created:created"});
  EXPECT_EQ(a.expires_at - a.created_at, std::chrono::minutes(90));
}

TEST_P(PaymentsTest, BadInputIsNamedAndNothingIsWritten) {
  NewOrder bad{.authority_id = "wismar",  // another tenant's authority
               .amount_cents = 0,
               .purpose = "  ",
               .reference = "a\r\nb",
               .return_url = "javascript:alert(1)",
               .language = "fr",
               .payer = {.name = std::string(251, 'x'), .country = "Deutschland"}};
  auto c = payments_->create(client_, bad, "");
  ASSERT_FALSE(c);
  std::set<std::string> fields;
  for (const auto& f : c.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields,
            (std::set<std::string>{"Idempotency-Key", "authority", "amount", "purpose", "reference",
                                   "returnUrl", "language", "payer.name", "payer.country"}));
  for (const auto& url :
       {"http://", "https:///x", "https://a b", "//evil.example", "https://x\\y"}) {
    auto o = order();
    o.return_url = url;
    auto r = payments_->create(client_, o, "k");
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().fields.at(0).field, "returnUrl");
  }
  auto too_much = payments_->create(client_, order(100'000'000), "k");
  ASSERT_FALSE(too_much);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM payment_orders")->integer(0), 0);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM payment_journal")->integer(0), 0);
}

TEST_P(PaymentsTest, IdempotencyKeyWithinTheWindow) {
  auto first = payments_->create(client_, order(), "same");
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->replayed);
  EXPECT_FALSE(first->pay_token.empty());
  auto again = payments_->create(client_, order(), "same");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->order.id, first->order.id);
  auto other = payments_->create(client_, order(3100), "same");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, core::ErrorCode::conflict);
  // Another client may use the same key for its own order.
  auto elsewhere = payments_->create({"client-9", "t-schwerin"}, order(), "same");
  ASSERT_TRUE(elsewhere);
  EXPECT_NE(elsewhere->order.id, first->order.id);
  // After 24 hours the key starts a new order.
  clock_.advance(24h + 1s);
  auto later = payments_->create(client_, order(), "same");
  ASSERT_TRUE(later);
  EXPECT_FALSE(later->replayed);
  EXPECT_NE(later->order.id, first->order.id);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM payment_orders")->integer(0), 3);
}

TEST_P(PaymentsTest, PayTokenWorksOnce) {
  auto c = payments_->create(client_, order(), "k");
  ASSERT_TRUE(c);
  EXPECT_FALSE(payments_->redeem_pay_token(c->order.id, "wrong"));
  EXPECT_FALSE(payments_->redeem_pay_token(c->order.id, ""));
  EXPECT_TRUE(payments_->redeem_pay_token(c->order.id, c->pay_token));
  EXPECT_FALSE(payments_->redeem_pay_token(c->order.id, c->pay_token));
}

TEST_P(PaymentsTest, ReturnAsksTheProviderNeverTheRedirect) {
  auto o = started();
  EXPECT_EQ(o.state, State::started);
  EXPECT_EQ(o.provider_transaction, "tx-1");
  EXPECT_EQ(provider_->last_request->purpose, o.kassenzeichen);
  EXPECT_EQ(provider_->last_request->amount_cents, 3000);
  EXPECT_EQ(provider_->last_request->booking_data.at("Haushaltsstelle"), "1.1.2.01");
  // Back from the provider, which has no outcome yet: "still being checked".
  auto back = payments_->returned(o.id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->state, State::submitted);
  provider_->transactions["tx-1"] = {
      .state = ProviderState::paid, .method = "PAYPAL", .reference = "PP-77"};
  back = payments_->returned(o.id);
  EXPECT_EQ(back->state, State::paid);
  EXPECT_EQ(back->method, "PAYPAL");
  EXPECT_EQ(back->provider_reference, "PP-77");
  EXPECT_TRUE(back->paid_at);
  EXPECT_EQ(events(o), (std::vector<std::string>{"created:created", "state:started",
                                                 "state:submitted", "state:paid"}));
  // Starting again after the end is refused.
  auto again = payments_->start(o.id, "http://mvsp.test/x");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(provider_->creates, 1);
}

TEST_P(PaymentsTest, StartingTwiceSendsToTheSamePage) {
  auto o = create();
  auto first = payments_->start(o.id, "http://mvsp.test/r");
  auto second = payments_->start(o.id, "http://mvsp.test/r");
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(provider_->creates, 1);
}

TEST_P(PaymentsTest, ProviderDownLeavesTheOrderAsItWas) {
  auto o = create();
  provider_->down = true;
  auto url = payments_->start(o.id, "http://mvsp.test/r");
  ASSERT_FALSE(url);
  EXPECT_EQ(url.error().code, core::ErrorCode::unavailable);
  EXPECT_EQ(payments_->get(o.id)->state, State::created);
  EXPECT_EQ(events(o), std::vector<std::string>{"created:created"});
}

TEST_P(PaymentsTest, DuplicateAndOutOfOrderNotificationsChangeNothingTwice) {
  auto o = started();
  ASSERT_TRUE(push(o, "paid"));
  ASSERT_TRUE(push(o, "paid"));
  ASSERT_TRUE(push(o, "pending"));    // a stale "INITIAL" after the end
  ASSERT_TRUE(push(o, "cancelled"));  // and a late cancel
  auto now = payments_->get(o.id);
  EXPECT_EQ(now->state, State::paid);
  EXPECT_EQ(events(o),
            (std::vector<std::string>{"created:created", "state:started", "state:paid"}));
  // Unsigned or unknown: refused, nothing changes.
  auto unsigned_push = payments_->notify("fake", {}, o.provider_transaction + " cancelled");
  ASSERT_FALSE(unsigned_push);
  EXPECT_EQ(unsigned_push.error().code, core::ErrorCode::unauthenticated);
  EXPECT_EQ(payments_->notify("nobody", {{"x-test-signature", "ok"}}, "tx-1 paid").error().code,
            core::ErrorCode::not_found);
  EXPECT_EQ(payments_->notify("fake", {{"x-test-signature", "ok"}}, "tx-99 paid").error().code,
            core::ErrorCode::not_found);
}

TEST_P(PaymentsTest, CallbackAtTheFinalStateOnlyAndSigned) {
  auto secret = payments_->configure_client("client-1", "https://dienst.example/cb");
  ASSERT_TRUE(secret);
  auto o = started();
  ASSERT_TRUE(push(o, "paid"));
  ASSERT_TRUE(push(o, "paid"));
  run_jobs();
  ASSERT_EQ(callbacks.size(), 1u);
  EXPECT_EQ(callbacks[0].first, "https://dienst.example/cb");
  EXPECT_NE(callbacks[0].second.find(R"("status":"success")"), std::string::npos);
  EXPECT_NE(callbacks[0].second.find(R"("finished":true)"), std::string::npos);
  // A client without an address gets no job at all.
  ASSERT_TRUE(payments_->configure_client("client-1", ""));
  auto quiet = started();
  ASSERT_TRUE(push(quiet, "failed"));
  EXPECT_EQ(run_jobs(), 0);
  EXPECT_EQ(payments_->get(quiet.id)->state, State::declined);
  EXPECT_FALSE(payments_->configure_client("client-1", "ftp://x"));
}

TEST_P(PaymentsTest, ExpiresAfterNinetyMinutesAndCancelsAtTheProvider) {
  auto fresh = create();
  auto away = started();
  clock_.advance(89min);
  EXPECT_EQ(payments_->expire_due(), 0);
  clock_.advance(2min);
  EXPECT_EQ(payments_->expire_due(), 2);
  EXPECT_EQ(payments_->get(fresh.id)->state, State::expired);
  EXPECT_EQ(payments_->get(away.id)->state, State::expired);
  EXPECT_TRUE(provider_->cancelled.contains(away.provider_transaction));
  EXPECT_EQ(payments_->expire_due(), 0);
}

TEST_P(PaymentsTest, ExpiryAsksFirstAndKeepsAPayment) {
  auto o = started();
  provider_->transactions[o.provider_transaction].state = ProviderState::paid;
  clock_.advance(91min);
  EXPECT_EQ(payments_->expire_due(), 0);
  EXPECT_EQ(payments_->get(o.id)->state, State::paid);
  EXPECT_FALSE(provider_->cancelled.contains(o.provider_transaction));
}

TEST_P(PaymentsTest, APaymentAfterExpiryIsKeptAndMarkedLate) {
  auto o = started();
  clock_.advance(91min);
  provider_->down = true;  // expiry cannot ask: the order expires, its transaction stays open
  EXPECT_EQ(payments_->expire_due(), 1);
  EXPECT_TRUE(payments_->get(o.id)->provider_open);
  provider_->down = false;
  // The provider answers again: reconciliation learns that the money is there.
  provider_->transactions[o.provider_transaction] = {.state = ProviderState::paid,
                                                     .method = "CREDITCARD"};
  clock_.advance(3min);
  EXPECT_EQ(payments_->reconcile(), 1);
  EXPECT_EQ(payments_->get(o.id)->state, State::paid);
  EXPECT_FALSE(payments_->get(o.id)->provider_open);
  ASSERT_TRUE(push(o, "paid"));  // and the provider's late push changes nothing more
  auto now = payments_->get(o.id);
  EXPECT_EQ(now->state, State::paid);
  auto journal = payments_->journal(o.id);
  EXPECT_NE(journal.back().detail.find(R"("late":true)"), std::string::npos);
}

TEST_P(PaymentsTest, ReconciliationCatchesALostNotification) {
  auto o = started();
  ASSERT_TRUE(payments_->returned(o.id));  // submitted
  provider_->transactions[o.provider_transaction] = {.state = ProviderState::paid,
                                                     .method = "CREDITCARD"};
  // Too young to pull yet.
  EXPECT_EQ(payments_->reconcile(), 0);
  clock_.advance(3min);
  EXPECT_EQ(payments_->reconcile(), 1);
  EXPECT_EQ(payments_->get(o.id)->state, State::paid);
  EXPECT_EQ(payments_->journal(o.id).back().actor, "reconciliation");
  EXPECT_EQ(payments_->reconcile(), 0);
}

TEST_P(PaymentsTest, RefundsNeverExceedWhatWasPaid) {
  auto o = started();
  ASSERT_TRUE(push(o, "paid"));
  auto above = payments_->refund("t-schwerin", o.id, 3001, "zu viel", "account:kasse");
  ASSERT_FALSE(above);
  EXPECT_EQ(above.error().fields.at(0).field, "amount");
  auto part = payments_->refund("t-schwerin", o.id, 1000, "Teilrücknahme", "account:kasse");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, RefundStatus::submitted);
  EXPECT_EQ(part->route, "provider");
  auto rest_too_much = payments_->refund("t-schwerin", o.id, 2001, "Rest", "account:kasse");
  ASSERT_FALSE(rest_too_much);
  ASSERT_TRUE(payments_->refund("t-schwerin", o.id, 2000, "Rest", "account:kasse"));
  EXPECT_FALSE(payments_->refund("t-schwerin", o.id, 1, "noch mehr", "account:kasse"));
  EXPECT_EQ(run_jobs(), 2);
  ASSERT_EQ(provider_->refunds.size(), 2u);
  for (const auto& r : payments_->refunds(o.id)) EXPECT_EQ(r.status, RefundStatus::success);
  EXPECT_EQ(payments_->get(o.id)->refunded_cents, 3000);
  auto empty = payments_->refund("t-schwerin", o.id, 0, "", "account:kasse");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().fields.size(), 2u);
}

TEST_P(PaymentsTest, ARefusedRefundFreesTheAmountAgain) {
  auto o = started();
  ASSERT_TRUE(push(o, "paid"));
  provider_->refuse_refunds = true;
  ASSERT_TRUE(payments_->refund("t-schwerin", o.id, 3000, "Storno", "account:kasse"));
  run_jobs();
  EXPECT_EQ(payments_->refunds(o.id).at(0).status, RefundStatus::failed);
  EXPECT_EQ(payments_->get(o.id)->refunded_cents, 0);
  provider_->refuse_refunds = false;
  ASSERT_TRUE(payments_->refund("t-schwerin", o.id, 3000, "Storno", "account:kasse"));
}

TEST_P(PaymentsTest, UnpaidOrdersCannotBeRefunded) {
  auto o = create();
  auto r = payments_->refund("t-schwerin", o.id, 100, "x", "account:kasse");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::conflict);
}

TEST_P(PaymentsTest, InvoiceThenPaidByStaff) {
  auto o = create();
  auto invoiced = payments_->invoice(o.id);
  ASSERT_TRUE(invoiced);
  EXPECT_EQ(invoiced->state, State::invoiced);
  EXPECT_EQ(invoiced->method, "invoice");
  EXPECT_EQ(*invoiced->invoice_due,
            core::format_day(core::berlin_day(clock_.now()) + std::chrono::days(14)));
  // Invoices do not expire after 90 minutes.
  clock_.advance(3h);
  EXPECT_EQ(payments_->expire_due(), 0);
  EXPECT_FALSE(payments_->start(o.id, "http://mvsp.test/r"));
  auto paid = payments_->mark_paid("t-schwerin", o.id, "account:kasse");
  ASSERT_TRUE(paid);
  EXPECT_EQ(paid->state, State::paid);
  EXPECT_FALSE(payments_->mark_paid("t-schwerin", o.id, "account:kasse"));
  // Paid by transfer: the cash office pays back, at once in the books.
  auto r = payments_->refund("t-schwerin", o.id, 500, "Teilerstattung", "account:kasse");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->route, "cash_office");
  EXPECT_EQ(r->status, RefundStatus::success);
  EXPECT_EQ(run_jobs(), 0);
}

TEST_P(PaymentsTest, OtherTenantsSeeNothing) {
  auto o = started();
  EXPECT_EQ(payments_->find("t-wismar", o.id).error().code, core::ErrorCode::not_found);
  EXPECT_EQ(payments_->cancel("t-wismar", o.id, "x").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(payments_->mark_paid("t-wismar", o.id, "x").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(payments_->refund("t-wismar", o.id, 1, "x", "x").error().code,
            core::ErrorCode::not_found);
  EXPECT_TRUE(payments_->by_reference("t-wismar", o.reference).empty());
  EXPECT_EQ(payments_->by_reference("t-schwerin", o.reference).size(), 1u);
  EXPECT_TRUE(payments_->search({.tenant_ids = {"t-wismar"}, .text = o.kassenzeichen}).empty());
  EXPECT_EQ(payments_->search({.tenant_ids = {"t-schwerin"}, .text = o.kassenzeichen}).size(), 1u);
  EXPECT_EQ(payments_->search({.tenant_ids = {"t-schwerin"}, .text = "musterm"}).size(), 1u);
  EXPECT_TRUE(payments_->search({.tenant_ids = {"t-schwerin"}, .text = "%"}).empty());
}

TEST_P(PaymentsTest, CancelEndsAtTheProviderFirst) {
  auto o = started();
  auto c = payments_->cancel("t-schwerin", o.id, "client:client-1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, State::cancelled_by_service);
  EXPECT_TRUE(provider_->cancelled.contains(o.provider_transaction));
  auto paid = started();
  provider_->transactions[paid.provider_transaction].state = ProviderState::paid;
  auto refused = payments_->cancel("t-schwerin", paid.id, "client:client-1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(payments_->get(paid.id)->state, State::paid);
}

TEST_P(PaymentsTest, TheDailyExportAddsUp) {
  auto a = started();
  auto b = started();
  auto c = create();
  ASSERT_TRUE(payments_->invoice(c.id));
  ASSERT_TRUE(push(a, "paid"));
  ASSERT_TRUE(push(b, "paid"));
  ASSERT_TRUE(payments_->mark_paid("t-schwerin", c.id, "account:kasse"));
  ASSERT_TRUE(payments_->refund("t-schwerin", a.id, 1250, "Teilerstattung", "account:kasse"));
  run_jobs();
  auto day = core::format_day(core::berlin_day(clock_.now()));
  auto e = payments_->daily_export("schwerin", day);
  ASSERT_EQ(e.bookings.size(), 4u);
  EXPECT_EQ(e.payments_cents, 9000);
  EXPECT_EQ(e.refunds_cents, -1250);
  EXPECT_EQ(e.total_cents, 7750);
  std::int64_t sum = 0;
  for (const auto& b : e.bookings) sum += b.amount_cents;
  EXPECT_EQ(sum, e.total_cents);
  // Per provider: what the provider settles (two payments less the refund) and the transfer.
  EXPECT_EQ(e.by_provider.at("fake"), 6000 - 1250);
  EXPECT_EQ(e.by_provider.at("invoice"), 3000);
  auto csv = e.csv();
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_NE(csv.find(";-12.50;EUR;"), std::string::npos);
  EXPECT_NE(csv.find(a.kassenzeichen), std::string::npos);
  EXPECT_NE(e.json().find(R"("totalCents":7750)"), std::string::npos);
  EXPECT_TRUE(payments_->daily_export("wismar", day).bookings.empty());
  // The scheduled job writes the day once it is over, and keeps it.
  EXPECT_FALSE(payments_->stored_export("schwerin", day));
  EXPECT_EQ(payments_->write_daily_exports(), 14);  // 7 days x 2 authorities
  clock_.advance(24h);
  EXPECT_EQ(payments_->write_daily_exports(), 2);
  auto stored = payments_->stored_export("schwerin", day);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->first, csv);
  EXPECT_EQ(payments_->write_daily_exports(), 0);
}

TEST_P(PaymentsTest, CsvCellsCannotBecomeFormulas) {
  auto o = order();
  o.purpose = "=HYPERLINK(\"http://evil\";\"x\")";
  auto c = payments_->create(client_, o, "f");
  ASSERT_TRUE(c);
  ASSERT_TRUE(payments_->invoice(c->order.id));
  ASSERT_TRUE(payments_->mark_paid("t-schwerin", c->order.id, "account:kasse"));
  auto csv =
      payments_->daily_export("schwerin", core::format_day(core::berlin_day(clock_.now()))).csv();
  EXPECT_NE(csv.find(R"csv("'=HYPERLINK(""http://evil"";""x"")")csv"), std::string::npos) << csv;
  o.purpose = "\t=1+1";
  EXPECT_FALSE(payments_->create(client_, o, "g")) << "no tab in a purpose";
}

// A camt.053.001.08 statement of the payee's account with one credit per
// (Kassenzeichen, amount) and a debit.
std::string statement(const std::vector<std::pair<std::string, std::string>>& credits,
                      const std::string& iban = "DE02120300000000202051") {
  std::string entries;
  int n = 0;
  for (const auto& [remittance, amount] : credits) {
    auto i = std::to_string(++n);
    entries += "<Ntry><Amt Ccy=\"EUR\">" + amount +
               "</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-12-02"
               "</Dt></BookgDt><AcctSvcrRef>REF-" +
               i + "</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>E2E-" + i +
               "</EndToEndId></Refs><RltdPties><Dbtr><Pty><Nm>Erika Mustermann</Nm></Pty></Dbtr>"
               "</RltdPties><RmtInf><Ustrd>" +
               remittance + "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>";
  }
  entries +=
      "<Ntry><Amt Ccy=\"EUR\">30.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
      "<BookgDt><Dt>2026-12-02</Dt></BookgDt><AcctSvcrRef>OUT-1</AcctSvcrRef></Ntry>";
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document "
         "xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt><GrpHdr><MsgId>"
         "M1</MsgId><CreDtTm>2026-12-03T05:30:00+01:00</CreDtTm></GrpHdr><Stmt><Id>S1</Id>"
         "<CreDtTm>2026-12-03T05:30:00+01:00</CreDtTm><Acct><Id><IBAN>" +
         iban + "</IBAN></Id></Acct>" + entries + "</Stmt></BkToCstmrStmt></Document>";
}

TEST_P(PaymentsTest, ABankStatementMarksInvoicesPaidOnce) {
  auto a = create();
  auto b = create();
  auto c = create();
  for (const auto& o : {a, b, c}) ASSERT_TRUE(payments_->invoice(o.id));
  auto xml = statement({{"Bewohnerparkausweis " + a.kassenzeichen, "30.00"},
                        {"KZ " + b.kassenzeichen + " Parken", "29.99"},  // too little
                        {"ohne Kassenzeichen", "30.00"}});
  auto read = payments_->import_statement({"t-schwerin"}, xml, "account:kasse");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->entries, 4);
  EXPECT_EQ(read->matched, 1);
  EXPECT_EQ(read->unmatched.size(), 2u);
  EXPECT_EQ(payments_->get(a.id)->state, State::paid);
  EXPECT_EQ(payments_->get(a.id)->provider_reference, "REF-1");
  EXPECT_EQ(payments_->get(b.id)->state, State::invoiced);
  // The same statement again changes nothing twice.
  auto again = payments_->import_statement({"t-schwerin"}, xml, "account:kasse");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->matched, 0);
  EXPECT_EQ(again->already_paid, 1);
  EXPECT_EQ(payments_->journal(a.id).size(), 3u);
  // Another tenant's staff cannot mark Schwerin's invoices; nor can another account's
  // statement.
  auto foreign = payments_->import_statement({"t-wismar"}, statement({{c.kassenzeichen, "30.00"}}),
                                             "account:wismar");
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->matched, 0);
  auto other_iban = payments_->import_statement(
      {"t-schwerin"}, statement({{c.kassenzeichen, "30.00"}}, "DE89370400440532013000"),
      "account:kasse");
  ASSERT_TRUE(other_iban);
  EXPECT_EQ(other_iban->matched, 0);
  EXPECT_EQ(payments_->get(c.id)->state, State::invoiced);
  auto bad = payments_->import_statement({"t-schwerin"}, "<x/>", "account:kasse");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::ErrorCode::invalid_input);
  // The day's booking file has the transfer.
  auto e = payments_->daily_export("schwerin", core::format_day(core::berlin_day(clock_.now())));
  ASSERT_EQ(e.bookings.size(), 1u);
  EXPECT_EQ(e.bookings[0].provider, "invoice");
  EXPECT_EQ(e.bookings[0].provider_reference, "REF-1");
}

INSTANTIATE_TEST_SUITE_P(Backends, PaymentsTest, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::payments
