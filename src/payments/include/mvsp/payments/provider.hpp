#pragma once
// The port to payment providers (Zahlungsdienstleister): one adapter per provider behind
// this small interface (as Open Forms' payments/contrib does). The adapters are
// XBezahldienste (ePayBL, pmPayment, epay21: make_xbezahldienste_provider) and, for tests
// and the demo, the same adapter pointed at `mvsp simulate payment`. Pay-later by invoice
// needs no provider: payments handles it itself.

#include <cstdint>
#include <map>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/web/client.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mvsp::payments {

// The payer as the provider's page may show it (XBezahldienste `requestor`).
struct Payer {
  std::string name;        // family name, or the organisation's name
  std::string first_name;  // empty for an organisation
  bool organisation = false;
  std::string email;
  std::string street;
  std::string house_number;
  std::string postcode;
  std::string city;
  std::string country = "DE";
};

// What a provider is asked to collect.
struct ProviderRequest {
  std::string request_id;  // our order id: 1-36 characters of [A-Za-z0-9_-]
  core::TimePoint requested_at;
  std::int64_t amount_cents = 0;
  std::string purpose;      // booking text, at most 27 characters (the Kassenzeichen)
  std::string description;  // shown on the provider's page, at most 250 characters
  std::string return_url;   // where the payer's browser comes back to
  std::string endpoint_id;  // the authority at the provider (XBezahldienste endPointId)
  std::map<std::string, std::string> booking_data;  // Haushaltsstelle, Buchungsstelle, …
  Payer payer;
};

struct ProviderPayment {
  // What names the transaction in later calls and in pushes (Notification): the adapter's
  // choice, at most 81 characters of [A-Za-z0-9_.-]. XBezahldienste needs the endPointId
  // again besides the provider's transactionId: "{endPointId}.{transactionId}".
  std::string transaction_id;
  std::string redirect_url;  // the provider's payment page for the payer
};

// The provider's view of a transaction.
enum class ProviderState { pending, paid, cancelled, failed };

struct ProviderStatus {
  ProviderState state = ProviderState::pending;
  std::string method;     // CREDITCARD, PAYPAL, PAYDIRECT, GIROPAY, OTHER (once paid)
  std::string reference;  // the provider's payment reference (transactionReference)
  std::string detail;     // statusDetail: a short text for staff, at most 99 characters
  std::optional<core::TimePoint> paid_at;
};

enum class RefundState { submitted, success, failed };

struct ProviderRefund {
  RefundState state = RefundState::submitted;
  std::string reference;  // the provider's id of the refund
  std::string detail;
};

// A provider's push about one transaction, once its signature has been checked.
struct Notification {
  std::string transaction_id;
  ProviderStatus status;
};

// One provider. Errors: `unavailable` when the provider cannot be reached or answers
// with a server error (worth trying again), `invalid_input` when it refuses the request,
// `not_found` for an unknown transaction, `conflict` when the operation is not offered
// (a provider without refunds or cancellation).
class Provider {
 public:
  virtual ~Provider() = default;
  // Its name in the configuration ([payments.providers.NAME]) and in the journal.
  virtual const std::string& name() const = 0;
  virtual core::Result<ProviderPayment> create(const ProviderRequest& request) = 0;
  virtual core::Result<ProviderStatus> status(const std::string& transaction_id) = 0;
  // Ends an unfinished transaction at the provider (the order expired or was cancelled).
  virtual core::Status cancel(const std::string& transaction_id) = 0;
  // Pays back part or all of a paid transaction; `refund_id` is ours and makes a repeated
  // request the same refund.
  virtual core::Result<ProviderRefund> refund(const std::string& transaction_id,
                                              const std::string& refund_id,
                                              std::int64_t amount_cents) = 0;
  // Checks the signature of a push (headers with lower-case names) and reads it;
  // unauthenticated when the signature is missing, wrong or too old.
  virtual core::Result<Notification> read_notification(
      const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
      core::TimePoint now) = 0;
};

// An XBezahldienste 1.0 payment service (../docs/payments.md): POST and GET
// /paymenttransaction/{originator}/{endpoint}[/{transaction}], with HTTP Basic or a bearer
// token. XBezahldienste 1.0 has no cancellation, refund or push; the mvsp extensions
// (`extensions`, which the simulator speaks) add them: DELETE on the transaction,
// POST …/{transaction}/refunds, and HMAC-SHA256-signed pushes (X-Payment-Timestamp,
// X-Payment-Signature: v1=hex(HMAC(secret, timestamp + "." + body)); the body names
// originatorId, endPointId and transactionId). Without them, cancel and refund answer
// `conflict` and read_notification `unauthenticated`. A malformed originator_id or base_url
// stops the start (core::Failure).
struct XBezahldiensteOptions {
  std::string name;      // as configured
  std::string base_url;  // without a trailing slash
  std::string originator_id;
  std::string basic_user;  // HTTP Basic when set
  std::string basic_password;
  std::string bearer_token;  // else a bearer token when set
  bool extensions = false;
  std::string notification_secret;  // the pushes' HMAC key (extensions)
  std::chrono::seconds notification_window{300};
  web::HttpFetch fetch;
};

std::unique_ptr<Provider> make_xbezahldienste_provider(XBezahldiensteOptions options);

}  // namespace mvsp::payments
