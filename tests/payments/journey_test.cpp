// Payments with the real XBezahldienste adapter against the payment SIMULATOR, on both
// databases, with an injected clock: expiry cancels at the simulator too; the simulator's
// signed pushes, sent once, twice or out of order, change an order once; a lost push is
// caught by reconciliation; a refund goes through the provider.
#include <gtest/gtest.h>

#include <mutex>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/payments/simulator.hpp>
#include <mvsp/web/small_server.hpp>

#include "http_client.hpp"
#include "support.hpp"

namespace mvsp::payments {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "journey-notification-secret";

class Journey : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped()) return;
    core::crypto::init();
    database_->migrate(clock_);
    // The platform's push endpoint, as the route calls it: every push to Payments::notify.
    sink_ = std::make_unique<web::SmallServer>("127.0.0.1", 0, [this](const web::Request& req) {
      auto done = payments_->notify("sim", req.headers, req.body);
      std::lock_guard lock(mutex_);
      (done ? accepted_ : refused_)++;
      return web::Response::text("", done ? 204 : 401);
    });
    sink_->start();
    simulator_ = std::make_unique<PaymentSimulator>(
        PaymentSimulatorOptions{
            .notify_url = "http://127.0.0.1:" + std::to_string(sink_->port()) + "/push",
            .notification_secret = kSecret,
            .session_timeout = std::chrono::minutes(24 * 60)},
        ports_);
    simulator_->start();
    jobs_ = std::make_unique<core::JobQueue>(db(), clock_, ids_);
    audit_ = std::make_unique<core::AuditLog>(clock_);
    payments_ = std::make_unique<Payments>(
        db(), clock_, ids_, *jobs_, *audit_,
        PaymentsOptions{.master_key = std::string(32, 'k'), .fetch = app::network_http(5s)});
    payments_->add_provider(make_xbezahldienste_provider({.name = "sim",
                                                          .base_url = simulator_->base_url(),
                                                          .originator_id = "mvsp-test",
                                                          .extensions = true,
                                                          .notification_secret = kSecret,
                                                          .fetch = app::network_http(5s)}));
    ASSERT_TRUE(payments_->save_account({.authority_id = "sn",
                                         .tenant_id = "t",
                                         .authority_name = "Stadt",
                                         .payee = "Stadtkasse",
                                         .iban = "DE02120300000000202051",
                                         .budget_position = "1.1.2.01",
                                         .booking_account = "43210000",
                                         .kassenzeichen = {"{YY}{N:6}{P}", "luhn"},
                                         .provider = "sim",
                                         .endpoint_id = "13004000"},
                                        "test"));
  }

  void TearDown() override {
    if (simulator_) simulator_->stop();
    if (sink_) sink_->stop();
  }

  Order started() {
    auto c = payments_->create({"client", "t"},
                               {.authority_id = "sn",
                                .amount_cents = 3000,
                                .purpose = "Bewohnerparkausweis",
                                .return_url = "https://dienst.example/fertig",
                                .payer = {.name = "Mustermann"}},
                               "k" + std::to_string(++keys_));
    EXPECT_TRUE(c);
    auto url = payments_->start(c->order.id, "http://127.0.0.1:1/zahlung/zurueck");
    EXPECT_TRUE(url) << (url ? "" : url.error().message);
    page_ = *url;
    return *payments_->get(c->order.id);
  }

  // The payer pays by card on the simulator's page.
  void pay() {
    auto path = page_.substr(page_.find('/', std::string("http://").size()));
    auto res = test::HttpClient(simulator_->port())
                   .post_form(path, {{"method", "CREDITCARD"},
                                     {"card_number", "4242+4242+4242+4242"},
                                     {"action", "pay"}});
    EXPECT_EQ(res.status, 303) << res.body;
    ASSERT_TRUE(simulator_->wait_for_pushes(5s));
  }

  std::size_t state_changes(const Order& o) {
    std::size_t n = 0;
    for (const auto& e : payments_->journal(o.id)) n += e.event == "state" ? 1 : 0;
    return n;
  }

  test::ManualClock clock_;
  test::SequenceIds ids_;
  web::Ports ports_{.clock = clock_, .ids = ids_, .http = app::network_http};
  std::unique_ptr<web::SmallServer> sink_;
  std::unique_ptr<PaymentSimulator> simulator_;
  std::unique_ptr<core::JobQueue> jobs_;
  std::unique_ptr<core::AuditLog> audit_;
  std::unique_ptr<Payments> payments_;
  std::string page_;
  int keys_ = 0;
  std::mutex mutex_;
  int accepted_ = 0;
  int refused_ = 0;
};

TEST_P(Journey, ExpiryAfterNinetyMinutesCancelsAtTheSimulator) {
  auto o = started();
  clock_.advance(89min);
  EXPECT_EQ(payments_->expire_due(), 0);
  clock_.advance(2min);
  EXPECT_EQ(payments_->expire_due(), 1);
  EXPECT_EQ(payments_->get(o.id)->state, State::expired);
  auto at_simulator = payments_->provider("sim")->status(o.provider_transaction);
  ASSERT_TRUE(at_simulator);
  EXPECT_EQ(at_simulator->state, ProviderState::cancelled);
  // The simulator pushed its cancellation; it changes nothing any more.
  ASSERT_TRUE(simulator_->wait_for_pushes(5s));
  EXPECT_EQ(payments_->get(o.id)->state, State::expired);
}

TEST_P(Journey, DuplicatePushesChangeTheOrderOnce) {
  simulator_->set_mode(PaymentSimulator::NotificationMode::duplicate);
  auto o = started();
  pay();
  EXPECT_EQ(simulator_->pushes_sent(), 2u);
  EXPECT_EQ(payments_->get(o.id)->state, State::paid);
  EXPECT_EQ(payments_->get(o.id)->method, "CREDITCARD");
  EXPECT_EQ(state_changes(o), 2u);  // started, paid
  std::lock_guard lock(mutex_);
  EXPECT_EQ(accepted_, 2);
  EXPECT_EQ(refused_, 0);
}

TEST_P(Journey, AStaleInitialPushAfterTheEndChangesNothing) {
  simulator_->set_mode(PaymentSimulator::NotificationMode::out_of_order);
  auto o = started();
  pay();
  EXPECT_EQ(simulator_->pushes_sent(), 2u);
  EXPECT_EQ(payments_->get(o.id)->state, State::paid);
  EXPECT_EQ(state_changes(o), 2u);
}

TEST_P(Journey, ALostPushIsCaughtByReconciliation) {
  simulator_->set_mode(PaymentSimulator::NotificationMode::none);
  auto o = started();
  pay();
  EXPECT_EQ(payments_->get(o.id)->state, State::started);
  clock_.advance(3min);
  EXPECT_EQ(payments_->reconcile(), 1);
  EXPECT_EQ(payments_->get(o.id)->state, State::paid);
}

TEST_P(Journey, ADeclinedCardAndARefundThroughTheProvider) {
  simulator_->set_mode(PaymentSimulator::PaymentMode::decline);
  auto declined = started();
  pay();
  EXPECT_EQ(payments_->get(declined.id)->state, State::declined);
  simulator_->set_mode(PaymentSimulator::PaymentMode::normal);
  auto o = started();
  pay();
  ASSERT_EQ(payments_->get(o.id)->state, State::paid);
  ASSERT_TRUE(payments_->refund("t", o.id, 1000, "Teilerstattung", "account:kasse"));
  core::JobRunner runner(*jobs_, db(), {.threads = 1, .name = "test"});
  payments_->register_jobs(runner);
  runner.run_due();
  auto refunds = payments_->refunds(o.id);
  ASSERT_EQ(refunds.size(), 1u);
  EXPECT_EQ(refunds[0].status, RefundStatus::success);
  EXPECT_FALSE(refunds[0].provider_reference.empty());
  // More than the rest is refused here, before the provider is asked.
  EXPECT_FALSE(payments_->refund("t", o.id, 2001, "zu viel", "account:kasse"));
}

INSTANTIATE_TEST_SUITE_P(Backends, Journey, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::payments
