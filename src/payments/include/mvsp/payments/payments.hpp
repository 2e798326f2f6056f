#pragma once
// The payment platform (Zahlungsverkehrsplattform, ZVP): payment orders with a
// Kassenzeichen per authority, their states (GOV.UK Pay's public states over our internal
// ones), the journal of every change, providers behind mvsp/payments/provider.hpp, pay
// later by invoice (with a GiroCode), refunds, the bank statement import (CAMT.053) and the
// daily booking file for the cash office.

#include <cstdint>
#include <map>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/resources.hpp>
#include <mvsp/payments/provider.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::core {
class IdGenerator;
class JobQueue;
class JobRunner;
class AuditLog;
namespace db {
class Database;
}
}  // namespace mvsp::core

namespace mvsp::payments {

std::span<const core::Resource> embedded_resources();

// ---- states -------------------------------------------------------------------------

// Our own states; each maps onto one public state (the table in states.cpp).
enum class State {
  created,               // the order exists; the payer has not chosen how to pay
  started,               // the payer was sent to the provider's page
  submitted,             // the payer came back; the provider has not said the outcome yet
  invoiced,              // pay later: the invoice is out, the transfer not seen yet
  paid,                  // the money is ours (provider or bank statement)
  declined,              // the provider refused the payment
  provider_error,        // the provider ended it (fraud check, its own timeout)
  cancelled_by_payer,    // the payer cancelled on the provider's page
  cancelled_by_service,  // the online service or staff cancelled it
  expired,               // not paid in time (default 90 minutes after creation)
};

struct StateInfo {
  State state;
  std::string_view name;    // internal, in the database and the journal
  std::string_view status;  // public: created, started, submitted, success, failed,
                            // cancelled, expired
  bool finished;
};
const StateInfo& info(State state);
std::optional<State> parse_state(std::string_view name);
// May an order in `from` move to `to`? (Finished states move nowhere.)
bool may_move(State from, State to);
const std::vector<StateInfo>& states();

enum class RefundStatus { submitted, success, failed };
std::string_view refund_status_name(RefundStatus status);

// ---- Kassenzeichen ------------------------------------------------------------------

// A pattern of literal characters (A-Z, 0-9, '-') and fields: {YYYY} or {YY} (the year),
// {N:k} (the authority's running number of the year, k digits, 1-12) and {P} (the check
// digit over every digit before it). Example: "5{YY}{N:7}{P}" -> "5260000012" + check.
struct KassenzeichenRule {
  std::string pattern = "{YY}{N:8}{P}";
  std::string check = "luhn";  // luhn (Modulus 10, weights 2 1) or mod11 (weights 2-7)
};
core::Status check_rule(const KassenzeichenRule& rule);
// The Kassenzeichen for running number `n` of `year`; invalid_input when n has more digits
// than the pattern allows.
core::Result<std::string> kassenzeichen(const KassenzeichenRule& rule, int year, std::int64_t n);
// The check digit of a string of digits.
char check_digit(std::string_view digits, std::string_view method);
// Whether the check digit of a Kassenzeichen made by `rule` is right.
bool valid_kassenzeichen(const KassenzeichenRule& rule, std::string_view value);

// ---- fees ---------------------------------------------------------------------------

// An amount as people read it in Germany: 123456789 -> "1.234.567,89 €", -1250 -> "-12,50 €".
std::string format_euro(std::int64_t cents);

// How a fee is reckoned: fixed, or per unit counted in a form answer (per dog, per copy).
struct FeeRule {
  std::int64_t fixed_cents = 0;
  std::int64_t per_unit_cents = 0;
  std::string unit_field;  // the form answer's path that counts the units
  int max_units = 99;
};
// The amount for the answers (path -> text); invalid_input naming the field when the
// count is not a whole number from 0 to max_units.
core::Result<std::int64_t> compute_fee(const FeeRule& rule,
                                       const std::map<std::string, std::string>& answers);
// {"fixedCents":…,"perUnitCents":…,"unitField":…,"units":…}: stored with the order.
std::string describe_fee(const FeeRule& rule, std::int64_t units);

// ---- the authority's account ----------------------------------------------------------

// An authority's booking data at the cash office and how it takes payments.
struct Account {
  std::string authority_id;
  std::string tenant_id;  // whose staff see its orders
  std::string authority_name;
  std::string payee;  // account holder as the bank knows it
  std::string iban;
  std::string bic;
  std::string budget_position;  // Haushaltsstelle
  std::string booking_account;  // Buchungsstelle / Objektkonto
  KassenzeichenRule kassenzeichen;
  std::string provider;     // a configured provider's name; "" for invoice only
  std::string endpoint_id;  // the authority at the provider (e.g. its AGS)
  bool invoice = true;      // pay later by invoice allowed
  int invoice_days = 14;    // due date after issue
};

// IBAN: country code, check digits (ISO 13616, mod 97), at most 34 characters; spaces
// allowed. BIC: 8 or 11 characters. Every problem named by field.
core::Status check_account(const Account& account);
std::string normalise_iban(std::string_view iban);

// ---- orders -------------------------------------------------------------------------

// Who created an order: a machine client of a tenant (an external online service), or
// this platform's own applications journey.
struct Origin {
  std::string client_id;  // "" for the platform itself
  std::string tenant_id;
};

struct NewOrder {
  std::string authority_id;
  std::int64_t amount_cents = 0;  // 1 to 99,999,999 (XBezahldienste allows 999,999 EUR)
  std::string purpose;            // what is paid for, one line, at most 250 characters
  std::string reference;          // the Vorhaben or the online service's reference
  std::string return_url;         // where the payer goes when the payment ends
  std::string language = "de";
  FeeRule fee_rule;  // how the amount came about (fixed by default)
  std::int64_t fee_units = 0;
  Payer payer;
};

struct Order {
  std::string id;
  std::string tenant_id;
  std::string client_id;
  std::string authority_id;
  std::string kassenzeichen;
  std::int64_t amount_cents = 0;
  std::string purpose;
  std::string reference;
  std::string return_url;
  std::string language;
  std::string fee;  // describe_fee
  Payer payer;
  State state = State::created;
  std::string method;  // invoice, or what the provider reported (CREDITCARD, …)
  std::string provider;
  std::string provider_transaction;
  std::string provider_redirect;  // the provider's page while the payment is open
  std::string provider_reference;
  std::string detail;  // the provider's last statusDetail
  // Booking data as at creation.
  std::string payee;
  std::string iban;
  std::string bic;
  std::string budget_position;
  std::string booking_account;
  core::TimePoint created_at;
  core::TimePoint updated_at;
  core::TimePoint expires_at;
  std::optional<core::TimePoint> paid_at;
  std::optional<std::string> invoice_due;  // YYYY-MM-DD
  bool provider_open = false;              // the provider's transaction may still change (be paid)
  std::int64_t refunded_cents = 0;         // refunds submitted or done
};

struct Refund {
  std::string id;
  std::string order_id;
  std::int64_t amount_cents = 0;
  std::string reason;
  RefundStatus status = RefundStatus::submitted;
  std::string route;  // provider, or cash_office (paid back by the cash office)
  std::string provider_reference;
  std::string actor;
  core::TimePoint created_at;
  core::TimePoint updated_at;
};

struct JournalEntry {
  std::int64_t seq = 0;
  std::string order_id;
  core::TimePoint at;
  std::string event;  // created, state, refund, invoice, notification_ignored, …
  std::string from_state;
  std::string to_state;
  std::int64_t amount_cents = 0;
  std::string actor;
  std::string detail;  // JSON
};

struct Created {
  Order order;
  bool replayed = false;  // same Idempotency-Key and body: the first order
  std::string pay_token;  // for the payer's link (once; empty when replayed)
};

// A line of the daily booking file.
struct Booking {
  std::string kind;  // payment, refund
  std::string order_id;
  std::string refund_id;
  std::string kassenzeichen;
  std::int64_t amount_cents = 0;  // refunds negative
  std::string currency = "EUR";
  std::string booked_at;  // UTC ISO 8601
  std::string method;
  std::string provider;
  std::string provider_reference;
  std::string payee;
  std::string iban;
  std::string budget_position;
  std::string booking_account;
  std::string purpose;
  std::string reference;
};

struct DailyExport {
  std::string authority_id;
  std::string day;  // YYYY-MM-DD, Europe/Berlin
  std::vector<Booking> bookings;
  std::int64_t payments_cents = 0;
  std::int64_t refunds_cents = 0;
  std::int64_t total_cents = 0;
  std::map<std::string, std::int64_t> by_provider;  // net per provider (settlement check)
  std::string csv() const;
  std::string json() const;
};

// The outcome of reading a bank statement.
struct StatementResult {
  int entries = 0;
  int matched = 0;                     // invoices marked paid
  int already_paid = 0;                // seen before (the same statement twice changes nothing)
  std::vector<std::string> unmatched;  // entries naming no open invoice, as text for staff
};

struct PaymentsOptions {
  std::string public_url;
  std::string master_key;  // 32 bytes; the callback secrets are sealed with a key from it
  std::chrono::minutes expire_after{90};
  std::chrono::hours idempotency_window{24};
  std::chrono::seconds reconcile_after{std::chrono::minutes(2)};  // age before pulling
  web::HttpFetch fetch;  // callbacks to external online services
};

// What a staff search finds.
struct OrderQuery {
  std::vector<std::string> tenant_ids;  // the tenants the person may see
  std::string text;                     // Kassenzeichen, reference or payer's name
  std::string authority_id;
  std::string day;  // YYYY-MM-DD (Europe/Berlin) of creation
  int limit = 50;
};

class Payments {
 public:
  Payments(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
           core::JobQueue& jobs, core::AuditLog& audit, PaymentsOptions options);
  ~Payments();

  void add_provider(std::unique_ptr<Provider> provider);
  Provider* provider(std::string_view name);
  std::vector<std::string> provider_names() const;

  // Accounts: what `actor` (an authority admin, an operator, `mvsp demo`) sets.
  core::Status save_account(const Account& account, std::string_view actor);
  std::optional<Account> account(std::string_view authority_id);
  std::vector<Account> accounts(const std::vector<std::string>& tenant_ids);

  // Creates an order. With an idempotency key: the same key and body within the window
  // give the first order (replayed); another body under the key is a conflict.
  core::Result<Created> create(const Origin& origin, const NewOrder& order,
                               const std::string& idempotency_key);
  // The order of the tenant (not_found for any other).
  core::Result<Order> find(std::string_view tenant_id, std::string_view id);
  std::optional<Order> get(std::string_view id);  // no tenant check: the payer's own pages
  std::vector<Order> by_reference(std::string_view tenant_id, std::string_view reference);
  std::vector<Order> search(const OrderQuery& query);
  std::vector<JournalEntry> journal(std::string_view order_id);
  std::vector<JournalEntry> journal_of_day(std::string_view authority_id, std::string_view day);
  std::vector<Refund> refunds(std::string_view order_id);

  // The payer's single-use link token; true (and used up) when it fits the order.
  bool redeem_pay_token(std::string_view order_id, std::string_view token);

  // The payer chose the provider: the provider's page to send them to. `return_url` is
  // our page the provider sends them back to.
  core::Result<std::string> start(std::string_view order_id, const std::string& return_url);
  // The payer chose to pay later: the order is invoiced with a due date.
  core::Result<Order> invoice(std::string_view order_id);
  // The invoice as PDF (PDF/UA, with the GiroCode).
  core::Result<std::string> invoice_pdf(std::string_view order_id);
  // The payer is back from the provider: ask it (never trust the redirect) and apply.
  core::Result<Order> returned(std::string_view order_id);
  // A provider's push (POST /zahlung/benachrichtigung/{provider}); applied once.
  core::Status notify(std::string_view provider,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::string& body);
  // Cancels an unfinished order (the online service, staff).
  core::Result<Order> cancel(std::string_view tenant_id, std::string_view id,
                             std::string_view actor);
  // Marks an invoiced order paid (staff saw the transfer).
  core::Result<Order> mark_paid(std::string_view tenant_id, std::string_view id,
                                std::string_view actor);
  // A refund of a paid order, never more than what was paid and not yet refunded.
  core::Result<Refund> refund(std::string_view tenant_id, std::string_view id,
                              std::int64_t amount_cents, const std::string& reason,
                              std::string_view actor);
  // Reads a CAMT.053 statement and marks the invoices it pays.
  core::Result<StatementResult> import_statement(const std::vector<std::string>& tenant_ids,
                                                 const std::string& xml, std::string_view actor);

  // The booking file of an authority's day (Europe/Berlin), as it stands now.
  DailyExport daily_export(std::string_view authority_id, std::string_view day);
  // The file the scheduled job wrote for a past day: (CSV, JSON).
  std::optional<std::pair<std::string, std::string>> stored_export(std::string_view authority_id,
                                                                   std::string_view day);

  // Periodic work: expires what is overdue (cancelled at the provider too), pulls the
  // status of unfinished provider orders, writes yesterday's booking files. Each returns
  // how many it handled.
  int expire_due();
  int reconcile();
  int write_daily_exports();

  // Machine clients' callbacks (HMAC-SHA256 over timestamp "." body): the URL, and the
  // new secret (returned once).
  core::Result<std::string> configure_client(const std::string& client_id,
                                             const std::string& callback_url);

  std::map<std::string, std::int64_t> counts();  // orders per public status, for metrics
  void register_jobs(core::JobRunner& runner);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mvsp::payments
