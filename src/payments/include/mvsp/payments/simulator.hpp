#pragma once
// SIMULATOR of an XBezahldienste 1.0 payment service (Bezahldienst) for development and
// tests, NEVER FOR PRODUCTION: no money moves, and it takes only test cards. It speaks the
// protocol that make_xbezahldienste_provider speaks, with the mvsp extensions
// (cancellation, refunds, signed pushes; docs/payments.md), and serves a hosted payment
// page ("Paypage") where a tester pays by card, PayPal or direct debit, or cancels. It can
// be told to decline, cancel or time out every payment, to answer slowly or not at all,
// and to push notifications once, never, twice or out of order. Every page and JSON
// answer says that it is a simulator.

#include <chrono>
#include <cstddef>
#include <memory>
#include <mvsp/web/ports.hpp>
#include <string>

namespace mvsp::payments {

struct PaymentSimulatorOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  // The API asks for HTTP Basic with these when the user is set.
  std::string basic_user;
  std::string basic_password;
  // Pushes go to this URL, signed with the secret; none when it is empty.
  std::string notify_url;
  std::string notification_secret;
  // How long a payer may stay on the page before the transaction ends FAILED
  // ("Zeitüberschreitung"); measured on the injected clock.
  std::chrono::minutes session_timeout{30};
};

class PaymentSimulator {
 public:
  // How payments end: as the payer chooses (normal), always FAILED "Zahlung abgelehnt"
  // (decline), always CANCELED (cancel), always FAILED "Zeitüberschreitung" (timeout); or
  // the API answers only after a delay (slow) or with 503 (unreachable).
  enum class PaymentMode { normal, decline, cancel, timeout, slow, unreachable };
  // How pushes go out: one per final state (normal), none, each twice (duplicate), or
  // each followed by a stale INITIAL push (out_of_order).
  enum class NotificationMode { normal, none, duplicate, out_of_order };

  PaymentSimulator(PaymentSimulatorOptions options, const web::Ports& ports);
  ~PaymentSimulator();
  PaymentSimulator(const PaymentSimulator&) = delete;
  PaymentSimulator& operator=(const PaymentSimulator&) = delete;

  void start();
  // Ends waiting slow answers and the push thread at once; pushes not yet sent are dropped.
  void stop();
  int port() const;
  std::string base_url() const;  // "http://host:port", the API's base URL

  void set_mode(PaymentMode mode, std::chrono::milliseconds slow_delay = std::chrono::seconds(3));
  void set_mode(NotificationMode mode);

  // API requests received (answered or not), pushes sent (whatever the answer), and pushes
  // the receiver did not accept with a 2xx (not retried).
  std::size_t requests() const;
  std::size_t pushes_sent() const;
  std::size_t pushes_failed() const;
  // Waits until every push queued so far has been sent; false when `timeout` ran out.
  bool wait_for_pushes(std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::payments
