// Payment orders: creation with a Kassenzeichen, the provider's journey, the state machine
// applied to what providers say (never to a redirect alone), expiry, reconciliation,
// invoices, refunds, bank statements and the daily booking file. Every change of an order
// is a compare-and-set on its state, journaled and audited in the same transaction, so
// that a duplicate or late message changes nothing twice.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/client.hpp>
#include <set>
#include <sstream>

#include "camt.hpp"
#include "invoice.hpp"

namespace mvsp::payments {

using core::Error;
using core::fail;
using Json = Poco::JSON::Object;

namespace {

constexpr std::int64_t kMaxAmount = 99'999'900;  // 999,999 EUR (XBezahldienste's grosAmount)
constexpr std::size_t kMaxKey = 255;
constexpr const char* kCallbackJob = "payments.callback";
constexpr const char* kRefundJob = "payments.refund";

constexpr const char* kOrderColumns =
    "id, tenant_id, client_id, authority_id, kassenzeichen, amount_cents, purpose, reference, "
    "return_url, language, fee, payer, state, method, provider, provider_transaction, "
    "provider_reference, detail, payee, iban, bic, budget_position, booking_account, created_at, "
    "updated_at, expires_at, paid_at, invoice_due, refunded_cents, provider_redirect, "
    "provider_open";

std::string stringify(const Json& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

std::string payer_json(const Payer& p) {
  Json o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("name", p.name);
  o.set("firstName", p.first_name);
  o.set("organisation", p.organisation);
  o.set("email", p.email);
  o.set("street", p.street);
  o.set("houseNumber", p.house_number);
  o.set("postcode", p.postcode);
  o.set("city", p.city);
  o.set("country", p.country);
  return stringify(o);
}

Payer read_payer(const std::string& text) {
  Payer p;
  try {
    auto o = Poco::JSON::Parser().parse(text).extract<Json::Ptr>();
    p.name = o->optValue<std::string>("name", "");
    p.first_name = o->optValue<std::string>("firstName", "");
    p.organisation = o->optValue<bool>("organisation", false);
    p.email = o->optValue<std::string>("email", "");
    p.street = o->optValue<std::string>("street", "");
    p.house_number = o->optValue<std::string>("houseNumber", "");
    p.postcode = o->optValue<std::string>("postcode", "");
    p.city = o->optValue<std::string>("city", "");
    p.country = o->optValue<std::string>("country", "DE");
  } catch (const std::exception& e) {
    core::log::warn("payments.payer_unreadable", {{"error", e.what()}});
  }
  return p;
}

Order read_order(const core::db::Row& r) {
  Order o;
  o.id = r.text(0);
  o.tenant_id = r.text(1);
  o.client_id = r.text(2);
  o.authority_id = r.text(3);
  o.kassenzeichen = r.text(4);
  o.amount_cents = r.integer(5);
  o.purpose = r.text(6);
  o.reference = r.text(7);
  o.return_url = r.text(8);
  o.language = r.text(9);
  o.fee = r.text(10);
  o.payer = read_payer(r.text(11));
  auto state = parse_state(r.text(12));
  if (!state) throw core::Failure("payment order " + o.id + " has an unknown state " + r.text(12));
  o.state = *state;
  o.method = r.text(13);
  o.provider = r.text(14);
  o.provider_transaction = r.text(15);
  o.provider_reference = r.text(16);
  o.detail = r.text(17);
  o.payee = r.text(18);
  o.iban = r.text(19);
  o.bic = r.text(20);
  o.budget_position = r.text(21);
  o.booking_account = r.text(22);
  o.created_at = core::from_millis(r.integer(23));
  o.updated_at = core::from_millis(r.integer(24));
  o.expires_at = core::from_millis(r.integer(25));
  if (auto t = r.optional_integer(26)) o.paid_at = core::from_millis(*t);
  o.invoice_due = r.optional_text(27);
  o.refunded_cents = r.integer(28);
  o.provider_redirect = r.text(29);
  o.provider_open = r.integer(30) != 0;
  return o;
}

Account read_account(const core::db::Row& r) {
  Account a;
  a.authority_id = r.text(0);
  a.tenant_id = r.text(1);
  a.authority_name = r.text(2);
  a.payee = r.text(3);
  a.iban = r.text(4);
  a.bic = r.text(5);
  a.budget_position = r.text(6);
  a.booking_account = r.text(7);
  a.kassenzeichen = {r.text(8), r.text(9)};
  a.provider = r.text(10);
  a.endpoint_id = r.text(11);
  a.invoice = r.integer(12) != 0;
  a.invoice_days = static_cast<int>(r.integer(13));
  return a;
}

constexpr const char* kAccountColumns =
    "authority_id, tenant_id, authority_name, payee, iban, bic, budget_position, "
    "booking_account, kz_pattern, kz_check, provider, endpoint_id, invoice, invoice_days";

// One line of text that pages, PDFs, bank transfers and CSV files all take: UTF-8 without
// control characters (tab included), C1 controls, line and paragraph separators, or
// direction overrides and invisible marks that would make a text read otherwise.
bool one_line(std::string_view s, std::size_t max) {
  if (s.size() > max || !core::valid_utf8(s)) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) {
      return false;  // U+0080 to U+009F
    }
    if (c == 0xe2 && i + 2 < s.size()) {
      auto b = static_cast<unsigned char>(s[i + 1]);
      auto d = static_cast<unsigned char>(s[i + 2]);
      // U+200B-U+200F, U+2028-U+202E, U+2060-U+206F
      if (b == 0x80 && ((d >= 0x8b && d <= 0x8f) || (d >= 0xa8 && d <= 0xae))) return false;
      if (b == 0x81 && d >= 0xa0 && d <= 0xaf) return false;
    }
  }
  return true;
}

// An absolute http(s) URL without spaces or control characters: where a machine client
// sends its payer back to, or its callbacks go.
bool plain_url(std::string_view url) {
  if (!(url.starts_with("https://") || url.starts_with("http://")) || url.size() > 2000) {
    return false;
  }
  auto host = url.substr(url.find("//") + 2);
  if (host.empty() || host.front() == '/') return false;
  return std::all_of(url.begin(), url.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '\\';
  });
}

std::string money(std::int64_t cents) {
  return fmt::format("{}{}.{:02}", cents < 0 ? "-" : "", std::abs(cents) / 100,
                     std::abs(cents) % 100);
}

}  // namespace

struct Payments::Impl {
  Impl(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
       core::JobQueue& jobs, core::AuditLog& audit, PaymentsOptions options)
      : db(db), clock(clock), ids(ids), jobs(jobs), audit(audit), options(std::move(options)) {
    sealing_key = core::crypto::derive_key(this->options.master_key, "mvsppaym", 1);
  }

  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::JobQueue& jobs;
  core::AuditLog& audit;
  PaymentsOptions options;
  std::string sealing_key;
  std::map<std::string, std::unique_ptr<Provider>, std::less<>> providers;

  std::optional<Order> load(core::db::Connection& c, std::string_view id) {
    auto r = c.query_one(fmt::format("SELECT {} FROM payment_orders WHERE id = ?", kOrderColumns),
                         std::string(id));
    if (!r) return std::nullopt;
    return read_order(*r);
  }
  std::optional<Order> load(std::string_view id) { return load(*db.acquire(), id); }

  // What changes with a move, besides the state.
  struct Change {
    std::string event = "state";
    std::string actor;
    Json detail{Poco::JSON_PRESERVE_KEY_ORDER};
    std::optional<std::string> method;
    std::optional<std::string> provider_reference;
    std::optional<std::string> provider_detail;
    std::optional<core::TimePoint> paid_at;
    std::optional<std::string> invoice_due;
  };

  void journal(core::db::Connection& tx, const Order& o, const std::string& event, State from,
               State to, std::int64_t amount, const std::string& actor, const std::string& detail) {
    auto now = clock.now();
    tx.execute(
        "INSERT INTO payment_journal (order_id, seq, authority_id, day, at, event, from_state, "
        "to_state, amount_cents, actor, detail) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, "
        "?, ?, ?, ?, ? FROM payment_journal WHERE order_id = ?",
        o.id, o.authority_id, core::format_day(core::berlin_day(now)), core::to_millis(now), event,
        std::string(info(from).name), std::string(info(to).name), amount, actor, detail, o.id);
  }

  // Moves the order from the state it was read in to `to`; false when another request
  // moved it first (then nothing is written) or the table forbids the move.
  bool move(core::db::Connection& tx, const Order& o, State to, const Change& c) {
    bool late_payment =
        to == State::paid && (o.state == State::expired || o.state == State::cancelled_by_service);
    if (!may_move(o.state, to) && !late_payment) return false;
    auto now = clock.now();
    // Booked on the day we learn of it (Europe/Berlin): a day's booking file, once written,
    // never misses a payment whose provider time lies on that day.
    std::optional<std::string> paid_day;
    if (c.paid_at) paid_day = core::format_day(core::berlin_day(now));
    auto changed = tx.execute(
        "UPDATE payment_orders SET state = ?, updated_at = ?, method = COALESCE(?, method), "
        "provider_reference = COALESCE(?, provider_reference), detail = COALESCE(?, detail), "
        "paid_at = COALESCE(?, paid_at), paid_day = COALESCE(?, paid_day), "
        "invoice_due = COALESCE(?, invoice_due) WHERE id = ? AND state = ?",
        std::string(info(to).name), core::to_millis(now), c.method, c.provider_reference,
        c.provider_detail, c.paid_at ? std::optional(core::to_millis(*c.paid_at)) : std::nullopt,
        paid_day, c.invoice_due, o.id, std::string(info(o.state).name));
    if (changed != 1) return false;
    auto detail = c.detail;
    if (late_payment) detail.set("late", true);
    journal(tx, o, c.event, o.state, to, to == State::paid ? o.amount_cents : 0, c.actor,
            stringify(detail));
    audit.append(tx, {.actor = c.actor,
                      .action = "payment." + std::string(info(to).name),
                      .object_type = "payment",
                      .object_id = o.id,
                      .detail = fmt::format(R"({{"from":"{}","status":"{}"}})", info(o.state).name,
                                            info(to).status)});
    if (info(to).finished) queue_callback(tx, o, to);
    return true;
  }

  // The machine client that made the order hears of each final state, if it gave an address.
  void queue_callback(core::db::Connection& tx, const Order& o, State to) {
    if (o.client_id.empty()) return;
    auto client = tx.query_one(
        "SELECT callback_url FROM payment_clients WHERE client_id = ? AND callback_url <> ''",
        o.client_id);
    if (!client) return;
    jobs.enqueue(tx,
                 {.kind = kCallbackJob,
                  .payload = fmt::format(R"({{"orderId":"{}","state":"{}"}})", o.id, info(to).name),
                  .idempotency_key = fmt::format("{}:{}:{}", kCallbackJob, o.id, info(to).name),
                  .max_attempts = 12});
  }

  // Applies the provider's word on the order's transaction. `payer_back`: the payer's
  // browser came back, so an unfinished transaction is now "submitted".
  Order apply(Order o, const ProviderStatus& s, const std::string& actor, bool payer_back) {
    std::optional<State> to;
    Change c;
    c.actor = actor;
    switch (s.state) {
      case ProviderState::paid:
        to = State::paid;
        c.method = s.method.empty() ? "OTHER" : s.method;
        c.provider_reference = s.reference;
        c.paid_at = s.paid_at.value_or(clock.now());
        break;
      case ProviderState::cancelled:
        to = State::cancelled_by_payer;
        break;
      case ProviderState::failed:
        to = State::declined;
        break;
      case ProviderState::pending:
        if (payer_back && o.state == State::started) to = State::submitted;
        break;
    }
    if (s.state != ProviderState::pending && o.provider_open) {
      // The provider's transaction has ended: nothing more to ask it.
      db.execute("UPDATE payment_orders SET provider_open = 0 WHERE id = ?", o.id);
      o.provider_open = false;
    }
    if (!s.detail.empty()) c.provider_detail = s.detail.substr(0, 99);
    c.detail.set("provider", o.provider);
    if (!s.detail.empty()) c.detail.set("statusDetail", s.detail.substr(0, 99));
    if (!to) return o;
    // A lost race re-reads and tries again: the other request may have moved the order to
    // a state from which this move is still right (started -> submitted -> paid).
    for (int attempt = 0; attempt < 3; ++attempt) {
      bool moved = db.transaction([&](core::db::Tx& tx) { return move(tx, o, *to, c); });
      auto fresh = load(o.id);
      if (!fresh) throw core::Failure("payment order " + o.id + " vanished");
      if (moved || fresh->state == o.state) return *fresh;
      o = *fresh;
    }
    return o;
  }

  // Ends the transaction at the provider after the order ended here (expired, cancelled):
  // the provider's "cancelled" is then our own doing and changes nothing. A provider that
  // has taken the money meanwhile makes the order paid (late); one that cannot be reached
  // or cannot cancel keeps the transaction open for reconciliation.
  void end_at_provider(const Order& o) {
    auto* provider = provider_of(o);
    if (!provider || o.provider_transaction.empty()) return;
    auto ended = provider->cancel(o.provider_transaction);
    if (ended) {
      db.execute("UPDATE payment_orders SET provider_open = 0 WHERE id = ?", o.id);
      return;
    }
    if (ended.error().code != core::ErrorCode::conflict) return;
    if (auto s = provider->status(o.provider_transaction); s) {
      if (auto fresh = load(o.id)) apply(*fresh, *s, "provider:" + provider->name(), false);
    }
  }

  Provider* provider_of(const Order& o) {
    auto it = providers.find(o.provider);
    return it == providers.end() ? nullptr : it->second.get();
  }

  core::JobOutcome callback(const std::string& order_id, const std::string& state);
  core::JobOutcome refund_job(const std::string& refund_id);
};

Payments::Payments(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                   core::JobQueue& jobs, core::AuditLog& audit, PaymentsOptions options)
    : impl_(std::make_unique<Impl>(db, clock, ids, jobs, audit, std::move(options))) {}

Payments::~Payments() = default;

void Payments::add_provider(std::unique_ptr<Provider> provider) {
  auto name = provider->name();
  impl_->providers[name] = std::move(provider);
}

Provider* Payments::provider(std::string_view name) {
  auto it = impl_->providers.find(name);
  return it == impl_->providers.end() ? nullptr : it->second.get();
}

std::vector<std::string> Payments::provider_names() const {
  std::vector<std::string> out;
  for (const auto& [name, p] : impl_->providers) out.push_back(name);
  return out;
}

// ---- accounts -----------------------------------------------------------------------

core::Status Payments::save_account(const Account& in, std::string_view actor) {
  auto& d = *impl_;
  Account a = in;
  a.iban = normalise_iban(a.iban);
  if (auto ok = check_account(a); !ok) return ok;
  if (!a.provider.empty() && !d.providers.contains(a.provider)) {
    std::string known;
    for (const auto& [name, p] : d.providers) known += (known.empty() ? "" : ", ") + name;
    return fail(Error::invalid(
        "provider", known.empty() ? "no payment provider is configured ([payments.providers])"
                                  : "must be one of the configured providers: " + known));
  }
  if (a.authority_id.empty() || a.tenant_id.empty()) {
    throw core::Failure("a payment account needs its authority and tenant");
  }
  if (a.provider.empty()) a.endpoint_id.clear();  // it means nothing without a provider
  // Where the money goes is worth a trace: the IBAN before and after (its last four).
  auto before = account(a.authority_id);
  auto tail = [](const std::string& iban) {
    return iban.size() > 4 ? iban.substr(iban.size() - 4) : iban;
  };
  Json detail(Poco::JSON_PRESERVE_KEY_ORDER);
  detail.set("provider", a.provider);
  detail.set("invoice", a.invoice);
  detail.set("ibanEndsWith", tail(a.iban));
  if (before && before->iban != a.iban) detail.set("ibanBeforeEndsWith", tail(before->iban));
  if (before && before->payee != a.payee) detail.set("payeeChanged", true);
  d.db.transaction([&](core::db::Tx& tx) {
    tx.execute("DELETE FROM payment_accounts WHERE authority_id = ?", a.authority_id);
    tx.execute(fmt::format("INSERT INTO payment_accounts ({}, updated_at) VALUES ({}, ?)",
                           kAccountColumns, core::db::parameter_list(14)),
               a.authority_id, a.tenant_id, a.authority_name, a.payee, a.iban, a.bic,
               a.budget_position, a.booking_account, a.kassenzeichen.pattern, a.kassenzeichen.check,
               a.provider, a.endpoint_id, a.invoice ? 1 : 0, a.invoice_days,
               core::to_millis(d.clock.now()));
    d.audit.append(tx, {.actor = std::string(actor),
                        .action = "payment.account_saved",
                        .object_type = "authority",
                        .object_id = a.authority_id,
                        .detail = stringify(detail)});
  });
  return {};
}

std::optional<Account> Payments::account(std::string_view authority_id) {
  auto r = impl_->db.query_one(
      fmt::format("SELECT {} FROM payment_accounts WHERE authority_id = ?", kAccountColumns),
      std::string(authority_id));
  if (!r) return std::nullopt;
  return read_account(*r);
}

std::vector<Account> Payments::accounts(const std::vector<std::string>& tenant_ids) {
  std::vector<Account> out;
  if (tenant_ids.empty()) return out;
  auto rows = impl_->db.acquire()->query_values(
      fmt::format("SELECT {} FROM payment_accounts WHERE tenant_id IN ({}) ORDER BY "
                  "authority_name",
                  kAccountColumns, core::db::parameter_list(tenant_ids.size())),
      std::vector<core::db::Value>(tenant_ids.begin(), tenant_ids.end()));
  for (const auto& r : rows) out.push_back(read_account(r));
  return out;
}

// ---- orders -------------------------------------------------------------------------

core::Result<Created> Payments::create(const Origin& origin, const NewOrder& in,
                                       const std::string& idempotency_key) {
  auto& d = *impl_;
  Error error{core::ErrorCode::invalid_input, "The payment is not valid.", {}, {}};
  if (!origin.client_id.empty() && (idempotency_key.empty() || idempotency_key.size() > kMaxKey ||
                                    !core::is_single_line(idempotency_key))) {
    error.and_field("Idempotency-Key", "is required (1 to 255 characters, one line)");
  }
  auto account = in.authority_id.empty() ? std::nullopt : this->account(in.authority_id);
  if (in.authority_id.empty()) {
    error.and_field("authority", "is required");
  } else if (!account || (!origin.tenant_id.empty() && account->tenant_id != origin.tenant_id)) {
    // Another tenant's authority is not named: it looks like one without an account.
    error.and_field("authority", "has no payment account of this tenant");
  }
  if (in.amount_cents < 1 || in.amount_cents > kMaxAmount) {
    error.and_field("amount", fmt::format("must be from 1 to {} cents", kMaxAmount));
  }
  if (core::trim(in.purpose).empty() || !one_line(in.purpose, 250)) {
    error.and_field("purpose", "is required: one line of at most 250 characters");
  }
  if (!one_line(in.reference, 100)) {
    error.and_field("reference", "must be one line of at most 100 characters");
  }
  if (!plain_url(in.return_url)) {
    error.and_field("returnUrl", "must be an absolute http(s) URL without spaces");
  }
  if (in.language != "de" && in.language != "en") error.and_field("language", "must be de or en");
  const auto& p = in.payer;
  for (auto [field, value, max] : {std::tuple{"payer.name", &p.name, 250},
                                   {"payer.firstName", &p.first_name, 250},
                                   {"payer.email", &p.email, 254},
                                   {"payer.street", &p.street, 250},
                                   {"payer.houseNumber", &p.house_number, 20},
                                   {"payer.postcode", &p.postcode, 10},
                                   {"payer.city", &p.city, 250}}) {
    if (!one_line(*value, static_cast<std::size_t>(max))) {
      error.and_field(field, fmt::format("must be one line of at most {} characters", max));
    }
  }
  if (p.country.size() != 2 || !std::all_of(p.country.begin(), p.country.end(),
                                            [](char c) { return c >= 'A' && c <= 'Z'; })) {
    error.and_field("payer.country", "must be an ISO 3166-1 alpha-2 code such as DE");
  }
  if (!error.fields.empty()) return fail(error);

  auto fee = describe_fee(in.fee_rule, in.fee_units);
  auto request_hash = core::crypto::sha256_hex(
      fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}", in.authority_id, in.amount_cents, in.purpose,
                  in.reference, in.return_url, in.language, fee, payer_json(in.payer)));
  auto now = d.clock.now();
  auto window_start = core::to_millis(now - d.options.idempotency_window);
  auto replay = [&]() -> std::optional<core::Result<Created>> {
    if (idempotency_key.empty()) return std::nullopt;
    auto r = d.db.query_one(
        "SELECT id, request_hash FROM payment_orders WHERE client_id = ? AND idempotency_key = ? "
        "AND created_at >= ?",
        origin.client_id, idempotency_key, window_start);
    if (!r) return std::nullopt;
    if (r->text(1) != request_hash) {
      return fail(Error::conflict(
          "The Idempotency-Key was used before with another request; use a new key."));
    }
    auto o = d.load(r->text(0));
    if (!o) throw core::Failure("a replayed payment order vanished");
    // The client may have lost the first answer: while the payer can still pay, a fresh
    // link (the earlier one stops working).
    std::string token;
    if (o->state == State::created || o->state == State::started) {
      token = core::crypto::random_token(32);
      d.db.execute("UPDATE payment_orders SET pay_token_hash = ? WHERE id = ?",
                   core::crypto::sha256_hex(token), o->id);
    }
    return Created{*o, true, token};
  };
  if (auto earlier = replay()) return *earlier;

  auto id = d.ids.key();
  auto token = core::crypto::random_token(32);
  auto day = core::berlin_day(now);
  int year = static_cast<int>(std::chrono::year_month_day(day).year());
  auto created = d.db.transaction([&](core::db::Tx& tx) -> core::Result<bool> {
    if (!idempotency_key.empty()) {
      // A key older than the window may be used again: the old order lets go of it.
      tx.execute(
          "UPDATE payment_orders SET idempotency_key = NULL WHERE client_id = ? AND "
          "idempotency_key = ? AND created_at < ?",
          origin.client_id, idempotency_key, window_start);
    }
    // Counted per tenant and payee account: the tenant's authorities paying into one cash
    // office's account share the numbers, so a transfer's Kassenzeichen names one order,
    // and no other tenant can use them up. A number already taken (the account or the
    // pattern changed since) is passed over.
    auto sequence = account->tenant_id + ":" + account->iban;
    tx.execute(
        "INSERT INTO payment_sequences (account, year, last) VALUES (?, ?, 0) "
        "ON CONFLICT (account, year) DO NOTHING",
        sequence, year);
    core::Result<std::string> kz = fail(Error::invalid("kassenzeichen.pattern", "no number"));
    for (int tries = 0; tries < 1000; ++tries) {
      tx.execute("UPDATE payment_sequences SET last = last + 1 WHERE account = ? AND year = ?",
                 sequence, year);
      auto n = tx.query_one("SELECT last FROM payment_sequences WHERE account = ? AND year = ?",
                            sequence, year);
      kz = kassenzeichen(account->kassenzeichen, year, n->integer(0));
      if (!kz) return fail(kz.error());
      if (!tx.query_one("SELECT 1 FROM payment_orders WHERE kassenzeichen = ? AND "
                        "(authority_id = ? OR iban = ?)",
                        *kz, account->authority_id, account->iban)) {
        break;
      }
      if (tries == 999) {
        return fail(Error::invalid("kassenzeichen.pattern",
                                   "gives only numbers that are taken; change the pattern"));
      }
    }
    if (tx.execute(
            fmt::format(
                "INSERT INTO payment_orders (id, tenant_id, client_id, authority_id, "
                "kassenzeichen, amount_cents, purpose, reference, return_url, language, fee, "
                "payer, payer_name, state, method, provider, provider_transaction, "
                "provider_redirect, provider_open, provider_reference, detail, payee, iban, bic, "
                "budget_position, booking_account, created_at, created_day, updated_at, "
                "expires_at, refunded_cents, idempotency_key, request_hash, pay_token_hash) "
                "VALUES ({}) ON CONFLICT (client_id, idempotency_key) DO NOTHING",
                core::db::parameter_list(34)),
            id, account->tenant_id, origin.client_id, account->authority_id, *kz, in.amount_cents,
            in.purpose, in.reference, in.return_url, in.language, fee, payer_json(in.payer),
            core::fold_case(fmt::format("{} {}", in.payer.first_name, in.payer.name)),
            std::string(info(State::created).name), std::string(), account->provider, std::string(),
            std::string(), std::int64_t{0}, std::string(), std::string(), account->payee,
            account->iban, account->bic, account->budget_position, account->booking_account,
            core::to_millis(now), core::format_day(day), core::to_millis(now),
            core::to_millis(now + d.options.expire_after), std::int64_t{0},
            idempotency_key.empty() ? std::optional<std::string>() : idempotency_key, request_hash,
            core::crypto::sha256_hex(token)) != 1) {
      return false;
    }
    Order o;
    o.id = id;
    o.authority_id = account->authority_id;
    Json detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("kassenzeichen", *kz);
    detail.set("fee", fee);
    if (!in.reference.empty()) detail.set("reference", in.reference);
    auto actor = origin.client_id.empty() ? std::string("system") : "client:" + origin.client_id;
    d.journal(tx, o, "created", State::created, State::created, in.amount_cents, actor,
              stringify(detail));
    d.audit.append(tx, {.actor = actor,
                        .action = "payment.created",
                        .object_type = "payment",
                        .object_id = id,
                        .detail = fmt::format(R"({{"authority":"{}","amountCents":{}}})",
                                              account->authority_id, in.amount_cents)});
    return true;
  });
  if (!created) return fail(created.error());
  if (!*created) {
    // The same key at the same moment from a second request: the first one counts.
    if (auto earlier = replay()) return *earlier;
    throw core::Failure("a payment order conflicted on insert, but no earlier one has its key");
  }
  auto o = d.load(id);
  if (!o) throw core::Failure("a new payment order vanished");
  return Created{*o, false, token};
}

core::Result<Order> Payments::find(std::string_view tenant_id, std::string_view id) {
  auto o = impl_->load(id);
  if (!o || o->tenant_id != tenant_id) return fail(Error::not_found("no such payment"));
  return *o;
}

std::optional<Order> Payments::get(std::string_view id) {
  return impl_->load(id);
}

std::vector<Order> Payments::by_reference(std::string_view tenant_id, std::string_view reference) {
  std::vector<Order> out;
  for (const auto& r : impl_->db.query(
           fmt::format("SELECT {} FROM payment_orders WHERE tenant_id = ? AND reference = ? "
                       "ORDER BY created_at, id LIMIT 100",
                       kOrderColumns),
           std::string(tenant_id), std::string(reference))) {
    out.push_back(read_order(r));
  }
  return out;
}

std::vector<Order> Payments::search(const OrderQuery& q) {
  std::vector<Order> out;
  if (q.tenant_ids.empty()) return out;
  std::string sql = fmt::format("SELECT {} FROM payment_orders WHERE tenant_id IN ({})",
                                kOrderColumns, core::db::parameter_list(q.tenant_ids.size()));
  std::vector<core::db::Value> params(q.tenant_ids.begin(), q.tenant_ids.end());
  if (!q.authority_id.empty()) {
    sql += " AND authority_id = ?";
    params.emplace_back(q.authority_id);
  }
  if (!q.day.empty()) {
    sql += " AND created_day = ?";
    params.emplace_back(q.day);
  }
  auto text = std::string(core::trim(q.text));
  if (!text.empty()) {
    std::string like;
    for (char c : core::fold_case(text)) {
      if (c == '%' || c == '_' || c == '\\') like += '\\';
      like += c;
    }
    sql += " AND (kassenzeichen = ? OR reference = ? OR payer_name LIKE ? ESCAPE '\\')";
    params.emplace_back(text);
    params.emplace_back(text);
    params.emplace_back("%" + like + "%");
  }
  sql += fmt::format(" ORDER BY created_at DESC, id LIMIT {}", std::clamp(q.limit, 1, 500));
  for (const auto& r : impl_->db.acquire()->query_values(sql, params)) {
    out.push_back(read_order(r));
  }
  return out;
}

namespace {

JournalEntry read_entry(const core::db::Row& r) {
  return {.seq = r.integer(0),
          .order_id = r.text(1),
          .at = core::from_millis(r.integer(2)),
          .event = r.text(3),
          .from_state = r.text(4),
          .to_state = r.text(5),
          .amount_cents = r.integer(6),
          .actor = r.text(7),
          .detail = r.text(8)};
}

constexpr const char* kJournalColumns =
    "seq, order_id, at, event, from_state, to_state, amount_cents, actor, detail";

}  // namespace

std::vector<JournalEntry> Payments::journal(std::string_view order_id) {
  std::vector<JournalEntry> out;
  for (const auto& r :
       impl_->db.query(fmt::format("SELECT {} FROM payment_journal WHERE order_id = ? ORDER BY seq",
                                   kJournalColumns),
                       std::string(order_id))) {
    out.push_back(read_entry(r));
  }
  return out;
}

std::vector<JournalEntry> Payments::journal_of_day(std::string_view authority_id,
                                                   std::string_view day) {
  std::vector<JournalEntry> out;
  for (const auto& r : impl_->db.query(
           fmt::format("SELECT {} FROM payment_journal WHERE authority_id = ? AND day = ? "
                       "ORDER BY at, order_id, seq",
                       kJournalColumns),
           std::string(authority_id), std::string(day))) {
    out.push_back(read_entry(r));
  }
  return out;
}

std::vector<Refund> Payments::refunds(std::string_view order_id) {
  std::vector<Refund> out;
  for (const auto& r : impl_->db.query(
           "SELECT id, order_id, amount_cents, reason, status, route, provider_reference, actor, "
           "created_at, updated_at FROM payment_refunds WHERE order_id = ? ORDER BY created_at, id",
           std::string(order_id))) {
    Refund f{.id = r.text(0),
             .order_id = r.text(1),
             .amount_cents = r.integer(2),
             .reason = r.text(3),
             .route = r.text(5),
             .provider_reference = r.text(6),
             .actor = r.text(7),
             .created_at = core::from_millis(r.integer(8)),
             .updated_at = core::from_millis(r.integer(9))};
    f.status = r.text(4) == "success"  ? RefundStatus::success
               : r.text(4) == "failed" ? RefundStatus::failed
                                       : RefundStatus::submitted;
    out.push_back(f);
  }
  return out;
}

bool Payments::redeem_pay_token(std::string_view order_id, std::string_view token) {
  if (token.empty()) return false;
  // Single use: the first request that shows the token clears it.
  return impl_->db.execute(
             "UPDATE payment_orders SET pay_token_hash = '' WHERE id = ? AND pay_token_hash = ? "
             "AND pay_token_hash <> ''",
             std::string(order_id), core::crypto::sha256_hex(token)) == 1;
}

// ---- the payer's journey ------------------------------------------------------------

core::Result<std::string> Payments::start(std::string_view order_id,
                                          const std::string& return_url) {
  auto& d = *impl_;
  auto o = d.load(order_id);
  if (!o) return fail(Error::not_found("no such payment"));
  if (o->state == State::started && !o->provider_redirect.empty()) {
    return o->provider_redirect;
  }
  if (o->state != State::created) {
    return fail(Error::conflict("This payment cannot be started again."));
  }
  auto* provider = d.provider_of(*o);
  auto account = this->account(o->authority_id);
  if (!provider || !account) {
    return fail(Error::conflict("Online payment is not offered for this payment."));
  }
  ProviderRequest request{.request_id = o->id,
                          .requested_at = d.clock.now(),
                          .amount_cents = o->amount_cents,
                          .purpose = o->kassenzeichen,
                          .description = o->purpose.substr(0, 250),
                          .return_url = return_url,
                          .endpoint_id = account->endpoint_id,
                          .booking_data = {{"Kassenzeichen", o->kassenzeichen},
                                           {"Haushaltsstelle", o->budget_position},
                                           {"Buchungsstelle", o->booking_account}},
                          .payer = o->payer};
  auto made = provider->create(request);
  if (!made) {
    // Another request started it meanwhile (the provider knows the request id): follow it.
    if (auto fresh = d.load(order_id); fresh && fresh->state == State::started) {
      return fresh->provider_redirect;
    }
    core::log::warn(
        "payments.provider_refused",
        {{"order", o->id}, {"provider", provider->name()}, {"error", made.error().message}});
    if (made.error().code == core::ErrorCode::unavailable) {
      return fail(Error::unavailable("The payment provider cannot be reached; please try again.",
                                     made.error().message));
    }
    return fail(Error::conflict(
        "The payment provider refused this payment; please contact the authority."));
  }
  Impl::Change c;
  c.actor = "payer";
  c.detail.set("provider", provider->name());
  c.detail.set("transaction", made->transaction_id);
  bool moved = d.db.transaction([&](core::db::Tx& tx) {
    if (tx.execute("UPDATE payment_orders SET provider = ?, provider_transaction = ?, "
                   "provider_redirect = ?, provider_open = 1 WHERE id = ? AND state = ?",
                   provider->name(), made->transaction_id, made->redirect_url, o->id,
                   std::string(info(State::created).name)) != 1) {
      return false;
    }
    return d.move(tx, *o, State::started, c);
  });
  if (!moved) {
    (void)provider->cancel(made->transaction_id);  // best effort: nobody is sent there
    auto fresh = d.load(order_id);
    if (fresh && fresh->state == State::started) return fresh->provider_redirect;
    return fail(Error::conflict("This payment cannot be started again."));
  }
  return made->redirect_url;
}

core::Result<Order> Payments::invoice(std::string_view order_id) {
  auto& d = *impl_;
  auto o = d.load(order_id);
  if (!o) return fail(Error::not_found("no such payment"));
  if (o->state == State::invoiced) return *o;
  auto account = this->account(o->authority_id);
  if (!account || !account->invoice) {
    return fail(Error::conflict("Payment by invoice is not offered for this payment."));
  }
  if (o->state != State::created) {
    return fail(Error::conflict("This payment cannot be paid by invoice any more."));
  }
  Impl::Change c;
  c.event = "invoice";
  c.actor = "payer";
  c.method = "invoice";
  auto due = core::berlin_day(d.clock.now()) + std::chrono::days(account->invoice_days);
  c.invoice_due = core::format_day(due);
  c.detail.set("due", *c.invoice_due);
  d.db.transaction([&](core::db::Tx& tx) { return d.move(tx, *o, State::invoiced, c); });
  auto fresh = d.load(order_id);
  if (!fresh || fresh->state != State::invoiced) {
    return fail(Error::conflict("This payment cannot be paid by invoice any more."));
  }
  return *fresh;
}

namespace {}  // namespace

core::Result<std::string> Payments::invoice_pdf(std::string_view order_id) {
  auto& d = *impl_;
  auto o = d.load(order_id);
  if (!o) return fail(Error::not_found("no such payment"));
  if (o->method != "invoice" || !o->invoice_due) {
    return fail(Error::not_found("this payment has no invoice"));
  }
  auto account = this->account(o->authority_id);
  invoice::Document doc;
  doc.authority = account ? account->authority_name : o->payee;
  doc.payer = core::trim(fmt::format("{} {}", o->payer.first_name, o->payer.name));
  if (!o->payer.street.empty()) {
    doc.payer_address.push_back(
        std::string(core::trim(fmt::format("{} {}", o->payer.street, o->payer.house_number))));
  }
  if (!o->payer.city.empty()) {
    doc.payer_address.push_back(
        std::string(core::trim(fmt::format("{} {}", o->payer.postcode, o->payer.city))));
  }
  doc.kassenzeichen = o->kassenzeichen;
  doc.issued_on = core::format_day_de(core::format_day(core::berlin_day(o->updated_at)));
  doc.due_on = core::format_day_de(*o->invoice_due);
  doc.purpose = o->purpose;
  doc.reference = o->reference;
  // Banks carry 140 characters of remittance: the Kassenzeichen first, as cash offices
  // match transfers by it.
  auto remittance = fmt::format("{} {}", o->kassenzeichen, o->purpose);
  while (remittance.size() > 140) remittance.pop_back();
  if (!core::valid_utf8(remittance)) remittance = core::repair_utf8(remittance);
  doc.transfer = {.bic = o->bic,
                  .payee = o->payee,
                  .iban = o->iban,
                  .amount_cents = o->amount_cents,
                  .remittance = remittance};
  return invoice::render(doc);
}

core::Result<Order> Payments::returned(std::string_view order_id) {
  auto& d = *impl_;
  auto o = d.load(order_id);
  if (!o) return fail(Error::not_found("no such payment"));
  auto* provider = d.provider_of(*o);
  // A finished order is asked too while its transaction may still be paid (expired here,
  // at a provider that cannot cancel).
  if ((info(o->state).finished && !o->provider_open) || o->provider_transaction.empty() ||
      !provider) {
    return *o;
  }
  auto status = provider->status(o->provider_transaction);
  if (!status) {
    // The provider does not answer now: the payer sees "still being checked" and
    // reconciliation asks again later.
    core::log::warn("payments.status_unknown",
                    {{"order", o->id}, {"error", status.error().message}});
    if (o->state == State::started) {
      ProviderStatus pending;
      return d.apply(*o, pending, "payer", true);
    }
    return *o;
  }
  return d.apply(*o, *status, "provider:" + provider->name(), true);
}

core::Status Payments::notify(std::string_view provider_name,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body) {
  auto& d = *impl_;
  auto* provider = this->provider(provider_name);
  if (!provider) return fail(Error::not_found("no such payment provider"));
  auto n = provider->read_notification(headers, body, d.clock.now());
  if (!n) return fail(n.error());
  auto r = d.db.query_one(
      fmt::format("SELECT {} FROM payment_orders WHERE provider = ? AND provider_transaction = ?",
                  kOrderColumns),
      provider->name(), n->transaction_id);
  if (!r) return fail(Error::not_found("no payment has this transaction"));
  d.apply(read_order(*r), n->status, "provider:" + provider->name(), false);
  return {};
}

core::Result<Order> Payments::cancel(std::string_view tenant_id, std::string_view id,
                                     std::string_view actor) {
  auto& d = *impl_;
  auto o = find(tenant_id, id);
  if (!o) return o;
  auto finished = [] {
    return fail(Error::conflict("The payment has finished and cannot be cancelled."));
  };
  if (info(o->state).finished) return finished();
  // The provider may have taken the money meanwhile: its word decides.
  if (auto* provider = d.provider_of(*o); provider && !o->provider_transaction.empty()) {
    auto s = provider->status(o->provider_transaction);
    if (!s && s.error().code != core::ErrorCode::not_found) {
      return fail(Error::unavailable("The payment provider cannot be reached.", s.error().message));
    }
    if (s) o = d.apply(*o, *s, "provider:" + provider->name(), false);
    if (info(o->state).finished) return finished();
  }
  Impl::Change c;
  c.actor = std::string(actor);
  if (!d.db.transaction(
          [&](core::db::Tx& tx) { return d.move(tx, *o, State::cancelled_by_service, c); })) {
    return fail(Error::conflict("The payment changed meanwhile; look at it again."));
  }
  d.end_at_provider(*o);
  auto fresh = d.load(id);
  if (fresh->state == State::paid) return finished();  // paid at the last moment
  return *fresh;
}

core::Result<Order> Payments::mark_paid(std::string_view tenant_id, std::string_view id,
                                        std::string_view actor) {
  auto& d = *impl_;
  auto o = find(tenant_id, id);
  if (!o) return o;
  if (o->state != State::invoiced) {
    return fail(
        Error::conflict("Only a payment by invoice that is still open can be marked paid."));
  }
  Impl::Change c;
  c.actor = std::string(actor);
  c.paid_at = d.clock.now();
  c.detail.set("by", "staff");
  if (!d.db.transaction([&](core::db::Tx& tx) { return d.move(tx, *o, State::paid, c); })) {
    return fail(Error::conflict("The payment changed meanwhile; look at it again."));
  }
  return *d.load(id);
}

core::Result<Refund> Payments::refund(std::string_view tenant_id, std::string_view id,
                                      std::int64_t amount_cents, const std::string& reason,
                                      std::string_view actor) {
  auto& d = *impl_;
  auto o = find(tenant_id, id);
  if (!o) return fail(o.error());
  Error error{core::ErrorCode::invalid_input, "The refund is not valid.", {}, {}};
  if (amount_cents < 1) error.and_field("amount", "must be at least 0,01 €");
  if (core::trim(reason).empty() || !one_line(reason, 250)) {
    error.and_field("reason", "is required: one line of at most 250 characters");
  }
  if (!error.fields.empty()) return fail(error);
  if (o->state != State::paid) return fail(Error::conflict("Only a paid payment can be refunded."));
  // Paid through a provider: the provider pays back. Paid by transfer: the cash office.
  bool by_provider = o->method != "invoice" && !o->provider_transaction.empty();
  auto refund_id = d.ids.key();
  auto now = d.clock.now();
  auto status = by_provider ? RefundStatus::submitted : RefundStatus::success;
  auto ok = d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    // Counted in one statement: parallel refunds cannot together exceed what was paid.
    if (tx.execute("UPDATE payment_orders SET refunded_cents = refunded_cents + ?, updated_at = ? "
                   "WHERE id = ? AND state = ? AND refunded_cents + ? <= amount_cents",
                   amount_cents, core::to_millis(now), o->id, std::string(info(State::paid).name),
                   amount_cents) != 1) {
      return fail(Error::invalid(
          "amount", fmt::format("must not exceed what was paid and not yet refunded ({} €)",
                                money(o->amount_cents - o->refunded_cents))));
    }
    tx.execute(
        "INSERT INTO payment_refunds (id, order_id, amount_cents, reason, status, route, "
        "provider_reference, actor, created_at, updated_at, booked_day) VALUES (?, ?, ?, ?, ?, ?, "
        "'', ?, ?, ?, ?)",
        refund_id, o->id, amount_cents, reason, std::string(refund_status_name(status)),
        std::string(by_provider ? "provider" : "cash_office"), std::string(actor),
        core::to_millis(now), core::to_millis(now),
        by_provider ? std::optional<std::string>()
                    : std::optional(core::format_day(core::berlin_day(now))));
    Json detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("refund", refund_id);
    detail.set("route", by_provider ? "provider" : "cash_office");
    detail.set("status", std::string(refund_status_name(status)));
    d.journal(tx, *o, "refund", o->state, o->state, -amount_cents, std::string(actor),
              stringify(detail));
    d.audit.append(tx, {.actor = std::string(actor),
                        .action = "payment.refund_submitted",
                        .object_type = "payment",
                        .object_id = o->id,
                        .detail = fmt::format(R"({{"refund":"{}","amountCents":{}}})", refund_id,
                                              amount_cents)});
    if (by_provider) {
      d.jobs.enqueue(tx, {.kind = kRefundJob,
                          .payload = fmt::format(R"({{"refundId":"{}"}})", refund_id),
                          .idempotency_key = std::string(kRefundJob) + ":" + refund_id,
                          .max_attempts = 12});
    }
    return {};
  });
  if (!ok) return fail(ok.error());
  for (auto& f : refunds(o->id)) {
    if (f.id == refund_id) return f;
  }
  throw core::Failure("a new refund vanished");
}

core::JobOutcome Payments::Impl::refund_job(const std::string& refund_id) {
  auto r = db.query_one(
      "SELECT r.order_id, r.amount_cents, r.status, o.provider, o.provider_transaction "
      "FROM payment_refunds r JOIN payment_orders o ON o.id = r.order_id WHERE r.id = ?",
      refund_id);
  if (!r || r->text(2) != "submitted") return core::JobOutcome::ok();
  auto it = providers.find(r->text(3));
  if (it == providers.end()) {
    return core::JobOutcome::retry("the provider " + r->text(3) + " is not configured");
  }
  auto answer = it->second->refund(r->text(4), refund_id, r->integer(1));
  if (!answer) {
    if (answer.error().code == core::ErrorCode::unavailable) {
      return core::JobOutcome::retry(answer.error().message);
    }
    answer = ProviderRefund{RefundState::failed, "", answer.error().message};
  }
  if (answer->state == RefundState::submitted) {
    return core::JobOutcome::retry("the provider has not finished the refund yet");
  }
  bool success = answer->state == RefundState::success;
  auto now = clock.now();
  db.transaction([&](core::db::Tx& tx) {
    if (tx.execute("UPDATE payment_refunds SET status = ?, provider_reference = ?, updated_at = ?, "
                   "booked_day = ? WHERE id = ? AND status = 'submitted'",
                   std::string(success ? "success" : "failed"), answer->reference,
                   core::to_millis(now),
                   success ? std::optional(core::format_day(core::berlin_day(now)))
                           : std::optional<std::string>(),
                   refund_id) != 1) {
      return;
    }
    if (!success) {
      // What failed to go back is refundable again.
      tx.execute("UPDATE payment_orders SET refunded_cents = refunded_cents - ? WHERE id = ?",
                 r->integer(1), r->text(0));
    }
    auto o = load(tx, r->text(0));
    Json detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("refund", refund_id);
    detail.set("status", success ? "success" : "failed");
    if (!answer->detail.empty()) detail.set("detail", answer->detail.substr(0, 250));
    journal(tx, *o, success ? "refund_success" : "refund_failed", o->state, o->state,
            success ? 0 : r->integer(1), "provider:" + it->first, stringify(detail));
    audit.append(tx, {.actor = "provider:" + it->first,
                      .action = success ? "payment.refund_succeeded" : "payment.refund_failed",
                      .object_type = "payment",
                      .object_id = o->id,
                      .detail = fmt::format(R"({{"refund":"{}"}})", refund_id)});
  });
  return core::JobOutcome::ok();
}

// ---- bank statements ----------------------------------------------------------------

core::Result<StatementResult> Payments::import_statement(const std::vector<std::string>& tenant_ids,
                                                         const std::string& xml,
                                                         std::string_view actor) {
  auto& d = *impl_;
  auto statements = camt::read_camt053(xml);
  if (!statements) return fail(statements.error());
  for (const auto& st : *statements) {
    // Without the account's IBAN a line could be money paid to anyone.
    if (st.iban.empty()) {
      return fail(Error::invalid("statement", "names no account (Acct/Id/IBAN)"));
    }
  }
  StatementResult result;
  for (const auto& s : *statements) {
    for (const auto& t : s.transactions) {
      ++result.entries;
      if (!t.credit || t.currency != "EUR") continue;
      auto text = core::fold_case(t.creditor_reference + " " + t.remittance);
      // Candidates: the words of the remittance (a Kassenzeichen is one word of A-Z 0-9 -).
      std::set<std::string> words;
      std::string word;
      for (char c : text + " ") {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
          word += c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
        } else {
          if (word.size() >= 4 && word.size() <= 27) words.insert(word);
          word.clear();
        }
      }
      // Candidates: orders of the person's tenants with a Kassenzeichen of the remittance,
      // paid into this statement's account, for exactly this amount.
      std::vector<Order> open;
      bool paid_before = false;
      for (const auto& w : words) {
        for (const auto& r :
             d.db.query(fmt::format("SELECT {} FROM payment_orders WHERE kassenzeichen = ?",
                                    kOrderColumns),
                        w)) {
          auto o = read_order(r);
          if (std::find(tenant_ids.begin(), tenant_ids.end(), o.tenant_id) == tenant_ids.end() ||
              normalise_iban(o.iban) != normalise_iban(s.iban) ||
              o.amount_cents != t.amount_cents) {
            continue;
          }
          if (o.state == State::invoiced) open.push_back(o);
          if (o.state == State::paid) paid_before = true;
        }
      }
      auto line = fmt::format("{} {} € {} ({})", t.booking_date, money(t.amount_cents),
                              t.remittance.substr(0, 140), t.debtor_name.substr(0, 70));
      auto hash = core::crypto::sha256_hex(
          fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}", s.iban, t.bank_reference, t.end_to_end_id,
                      t.amount_cents, t.booking_date, t.value_date, t.remittance));
      bool seen = d.db.query_one("SELECT 1 FROM payment_statement_lines WHERE line_hash = ?", hash)
                      .has_value();
      if (seen) {
        ++result.already_paid;
        continue;
      }
      if (open.size() != 1) {
        // None, or more than one that it could be: a person decides. A second transfer for
        // a paid invoice is money to pay back.
        result.unmatched.push_back(open.size() > 1 ? line + " – mehrdeutig"
                                   : paid_before   ? line + " – bereits bezahlt"
                                                   : line);
        continue;
      }
      const auto& match = open.front();
      bool applied = d.db.transaction([&](core::db::Tx& tx) {
        if (tx.execute("INSERT INTO payment_statement_lines (line_hash, order_id, imported_at) "
                       "VALUES (?, ?, ?) ON CONFLICT (line_hash) DO NOTHING",
                       hash, match.id, core::to_millis(d.clock.now())) != 1) {
          return false;
        }
        Impl::Change c;
        c.actor = std::string(actor);
        c.paid_at = d.clock.now();
        c.provider_reference = t.bank_reference.substr(0, 100);
        c.detail.set("statement", s.id);
        c.detail.set("bookingDate", t.booking_date);
        // Paid meanwhile (by staff): nothing is recorded, the line stays for a person.
        return d.move(tx, match, State::paid, c);
      });
      if (applied) {
        ++result.matched;
      } else {
        result.unmatched.push_back(line + " – bereits bezahlt");
      }
    }
  }
  d.db.transaction([&](core::db::Tx& tx) {
    d.audit.append(
        tx, {.actor = std::string(actor),
             .action = "payment.statement_imported",
             .object_type = "statement",
             .object_id = statements->empty() ? "" : statements->front().id,
             .detail = fmt::format(R"({{"entries":{},"matched":{},"unmatched":{}}})",
                                   result.entries, result.matched, result.unmatched.size())});
  });
  return result;
}

// ---- the cash office's booking file -------------------------------------------------

DailyExport Payments::daily_export(std::string_view authority_id, std::string_view day) {
  auto& d = *impl_;
  DailyExport out;
  out.authority_id = authority_id;
  out.day = day;
  auto book = [&](Booking b) {
    (b.amount_cents >= 0 ? out.payments_cents : out.refunds_cents) += b.amount_cents;
    out.total_cents += b.amount_cents;
    out.by_provider[b.provider] += b.amount_cents;
    out.bookings.push_back(std::move(b));
  };
  for (const auto& r : d.db.query(
           fmt::format("SELECT {} FROM payment_orders WHERE authority_id = ? AND paid_day = ? AND "
                       "state = 'paid'",
                       kOrderColumns),
           std::string(authority_id), std::string(day))) {
    auto o = read_order(r);
    book({.kind = "payment",
          .order_id = o.id,
          .kassenzeichen = o.kassenzeichen,
          .amount_cents = o.amount_cents,
          .booked_at = core::format_utc(o.paid_at.value_or(o.updated_at)),
          .method = o.method,
          .provider = o.method == "invoice" ? "invoice" : o.provider,
          .provider_reference = o.provider_reference,
          .payee = o.payee,
          .iban = o.iban,
          .budget_position = o.budget_position,
          .booking_account = o.booking_account,
          .purpose = o.purpose,
          .reference = o.reference});
  }
  for (const auto& r : d.db.query(
           "SELECT r.id, r.amount_cents, r.updated_at, r.route, r.provider_reference, r.order_id "
           "FROM payment_refunds r JOIN payment_orders o ON o.id = r.order_id "
           "WHERE o.authority_id = ? AND r.booked_day = ? AND r.status = 'success'",
           std::string(authority_id), std::string(day))) {
    auto found = d.load(r.text(5));
    if (!found) throw core::Failure("the order of refund " + r.text(0) + " vanished");
    const auto& o = *found;
    book({.kind = "refund",
          .order_id = o.id,
          .refund_id = r.text(0),
          .kassenzeichen = o.kassenzeichen,
          .amount_cents = -r.integer(1),
          .booked_at = core::format_utc(core::from_millis(r.integer(2))),
          .method = o.method,
          .provider = r.text(3) == "cash_office" ? "cash_office" : o.provider,
          .provider_reference = r.text(4),
          .payee = o.payee,
          .iban = o.iban,
          .budget_position = o.budget_position,
          .booking_account = o.booking_account,
          .purpose = o.purpose,
          .reference = o.reference});
  }
  std::sort(out.bookings.begin(), out.bookings.end(), [](const Booking& a, const Booking& b) {
    return std::tie(a.booked_at, a.order_id, a.refund_id) <
           std::tie(b.booked_at, b.order_id, b.refund_id);
  });
  return out;
}

namespace {

// A text field of the CSV file, always quoted (a spreadsheet set to "," as separator sees
// one cell too); one that a spreadsheet would take for a formula (= + - @, tab or CR at
// the start) is prefixed with '.
std::string csv_field(std::string_view s) {
  std::string v(s);
  if (!v.empty() && std::string_view("=+-@\t\r").find(v[0]) != std::string_view::npos) {
    v.insert(v.begin(), '\'');
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string DailyExport::csv() const {
  std::string out =
      "kind;booked_at;kassenzeichen;amount;currency;budget_position;booking_account;payee;iban;"
      "method;provider;provider_reference;order_id;refund_id;reference;purpose\r\n";
  for (const auto& b : bookings) {
    out += fmt::format("{};{};{};{};{};{};{};{};{};{};{};{};{};{};{};{}\r\n", b.kind, b.booked_at,
                       csv_field(b.kassenzeichen), money(b.amount_cents), b.currency,
                       csv_field(b.budget_position), csv_field(b.booking_account),
                       csv_field(b.payee), b.iban, csv_field(b.method), csv_field(b.provider),
                       csv_field(b.provider_reference), b.order_id, b.refund_id,
                       csv_field(b.reference), csv_field(b.purpose));
  }
  return out;
}

std::string DailyExport::json() const {
  Json o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("format", "mvsp-payments-export/1");
  o.set("authority", authority_id);
  o.set("day", day);
  o.set("currency", "EUR");
  o.set("count", static_cast<Poco::Int64>(bookings.size()));
  o.set("paymentsCents", static_cast<Poco::Int64>(payments_cents));
  o.set("refundsCents", static_cast<Poco::Int64>(refunds_cents));
  o.set("totalCents", static_cast<Poco::Int64>(total_cents));
  Json providers(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [name, cents] : by_provider) {
    providers.set(name.empty() ? "none" : name, static_cast<Poco::Int64>(cents));
  }
  o.set("byProvider", providers);
  Poco::JSON::Array lines;
  for (const auto& b : bookings) {
    Json l(Poco::JSON_PRESERVE_KEY_ORDER);
    l.set("kind", b.kind);
    l.set("bookedAt", b.booked_at);
    l.set("kassenzeichen", b.kassenzeichen);
    l.set("amountCents", static_cast<Poco::Int64>(b.amount_cents));
    l.set("budgetPosition", b.budget_position);
    l.set("bookingAccount", b.booking_account);
    l.set("payee", b.payee);
    l.set("iban", b.iban);
    l.set("method", b.method);
    l.set("provider", b.provider);
    l.set("providerReference", b.provider_reference);
    l.set("orderId", b.order_id);
    if (!b.refund_id.empty()) l.set("refundId", b.refund_id);
    l.set("reference", b.reference);
    l.set("purpose", b.purpose);
    lines.add(l);
  }
  o.set("bookings", lines);
  return stringify(o);
}

int Payments::write_daily_exports() {
  auto& d = *impl_;
  int written = 0;
  auto today = core::berlin_day(d.clock.now());
  auto accounts = d.db.query("SELECT authority_id FROM payment_accounts");
  // The last week's days, so that a day missed while no instance ran is written later.
  for (int back = 7; back >= 1; --back) {
    auto day = core::format_day(today - std::chrono::days(back));
    for (const auto& a : accounts) {
      auto authority = a.text(0);
      if (d.db.query_one("SELECT 1 FROM payment_exports WHERE authority_id = ? AND day = ?",
                         authority, day)) {
        continue;
      }
      auto e = daily_export(authority, day);
      written += static_cast<int>(d.db.execute(
          "INSERT INTO payment_exports (authority_id, day, bookings, total_cents, csv, json, "
          "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (authority_id, day) DO NOTHING",
          authority, day, static_cast<std::int64_t>(e.bookings.size()), e.total_cents, e.csv(),
          e.json(), core::to_millis(d.clock.now())));
    }
  }
  return written;
}

std::optional<std::pair<std::string, std::string>> Payments::stored_export(
    std::string_view authority_id, std::string_view day) {
  auto r = impl_->db.query_one(
      "SELECT csv, json FROM payment_exports WHERE authority_id = ? AND "
      "day = ?",
      std::string(authority_id), std::string(day));
  if (!r) return std::nullopt;
  return std::pair{r->text(0), r->text(1)};
}

// ---- periodic work ------------------------------------------------------------------

int Payments::expire_due() {
  auto& d = *impl_;
  int n = 0;
  for (const auto& r :
       d.db.query(fmt::format("SELECT {} FROM payment_orders WHERE state IN ('created', 'started', "
                              "'submitted') AND expires_at <= ? ORDER BY expires_at LIMIT 500",
                              kOrderColumns),
                  core::to_millis(d.clock.now()))) {
    auto o = read_order(r);
    auto* provider = d.provider_of(o);
    if (provider && !o.provider_transaction.empty()) {
      // The provider may have the money although nobody told us: ask before ending it.
      auto s = provider->status(o.provider_transaction);
      if (!s && s.error().code == core::ErrorCode::not_found) {
        s = ProviderStatus{.state = ProviderState::failed, .detail = "unknown at the provider"};
      }
      // A provider that does not answer: the order expires here all the same, and its
      // transaction stays open, so reconciliation asks until the provider answers (money
      // found there then makes the order paid, late).
      if (s) {
        o = d.apply(o, *s, "provider:" + provider->name(), false);
        if (info(o.state).finished) continue;
      }
    }
    Impl::Change c;
    c.actor = "system";
    c.detail.set("expiresAt", core::format_utc(o.expires_at));
    if (d.db.transaction([&](core::db::Tx& tx) { return d.move(tx, o, State::expired, c); })) {
      ++n;
      d.end_at_provider(o);
    }
  }
  return n;
}

int Payments::reconcile() {
  auto& d = *impl_;
  int n = 0;
  auto now = d.clock.now();
  // Every order whose provider transaction is open: unfinished ones, and ones that ended
  // here while the provider could not end them (a payment there still counts, as late).
  // A week after the order was made the provider has surely ended it by its own timeout.
  for (const auto& r : d.db.query(
           fmt::format("SELECT {} FROM payment_orders WHERE provider_open = 1 AND updated_at <= ? "
                       "AND created_at >= ? ORDER BY updated_at LIMIT 500",
                       kOrderColumns),
           core::to_millis(now - d.options.reconcile_after),
           core::to_millis(now - std::chrono::days(7)))) {
    auto o = read_order(r);
    auto* provider = d.provider_of(o);
    if (!provider) continue;
    auto s = provider->status(o.provider_transaction);
    if (!s && s.error().code == core::ErrorCode::not_found) {
      s = ProviderStatus{.state = ProviderState::failed, .detail = "unknown at the provider"};
    }
    if (!s) {
      // Asked again one period later: orders the provider cannot answer for now go to the
      // back of the queue, so that they never hold up the others.
      d.db.execute("UPDATE payment_orders SET updated_at = ? WHERE id = ? AND updated_at = ?",
                   core::to_millis(now), o.id, core::to_millis(o.updated_at));
      continue;
    }
    auto after = d.apply(o, *s, "reconciliation", false);
    if (after.state != o.state) ++n;
    if (s->state == ProviderState::pending) {
      // Asked again one period later, not at every sweep.
      d.db.execute("UPDATE payment_orders SET updated_at = ? WHERE id = ? AND updated_at = ?",
                   core::to_millis(now), o.id, core::to_millis(after.updated_at));
    }
  }
  return n;
}

// ---- machine clients ----------------------------------------------------------------

core::Result<std::string> Payments::configure_client(const std::string& client_id,
                                                     const std::string& callback_url) {
  auto& d = *impl_;
  if (!callback_url.empty() && !plain_url(callback_url)) {
    return fail(Error::invalid("callback_url", "must be an absolute http(s) URL"));
  }
  auto secret = callback_url.empty() ? std::string() : core::crypto::random_token(32);
  d.db.transaction([&](core::db::Tx& tx) {
    tx.execute("DELETE FROM payment_clients WHERE client_id = ?", client_id);
    tx.execute(
        "INSERT INTO payment_clients (client_id, callback_url, callback_secret, updated_at) "
        "VALUES (?, ?, ?, ?)",
        client_id, callback_url,
        secret.empty() ? std::string() : core::crypto::seal(d.sealing_key, secret),
        core::to_millis(d.clock.now()));
    d.audit.append(tx, {.actor = "operator:cli",
                        .action = "payment.client_configured",
                        .object_type = "client",
                        .object_id = client_id});
  });
  return secret;
}

core::JobOutcome Payments::Impl::callback(const std::string& order_id, const std::string& state) {
  auto o = load(order_id);
  auto c = o ? db.query_one(
                   "SELECT callback_url, callback_secret FROM payment_clients WHERE client_id = ?",
                   o->client_id)
             : std::nullopt;
  if (!o || !c || c->text(0).empty()) return core::JobOutcome::ok();
  auto secret = core::crypto::open(sealing_key, c->text(1));
  if (!secret) return core::JobOutcome::permanent("the callback secret cannot be opened");
  auto s = parse_state(state).value_or(o->state);
  Json body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("paymentId", o->id);
  body.set("kassenzeichen", o->kassenzeichen);
  body.set("reference", o->reference);
  body.set("amount", static_cast<Poco::Int64>(o->amount_cents));
  body.set("status", std::string(info(s).status));
  body.set("finished", info(s).finished);
  body.set("currentStatus", std::string(info(o->state).status));
  body.set("at", core::format_utc(o->updated_at));
  if (auto sent =
          web::post_signed(options.fetch, c->text(0), *secret, stringify(body), clock.now());
      !sent) {
    return core::JobOutcome::retry(sent.error().message);
  }
  return core::JobOutcome::ok();
}

std::map<std::string, std::int64_t> Payments::counts() {
  std::map<std::string, std::int64_t> out;
  for (const auto& s : states()) out[std::string(s.status)] += 0;
  for (const auto& r :
       impl_->db.query("SELECT state, COUNT(*) FROM payment_orders GROUP BY state")) {
    if (auto s = parse_state(r.text(0))) out[std::string(info(*s).status)] += r.integer(1);
  }
  return out;
}

void Payments::register_jobs(core::JobRunner& runner) {
  auto* d = impl_.get();
  auto field = [](const core::Job& job, const char* key) {
    auto p = Poco::JSON::Parser().parse(job.payload).extract<Json::Ptr>();
    return p->getValue<std::string>(key);
  };
  runner.handle(kCallbackJob, [d, field](core::JobContext& ctx) {
    return d->callback(field(ctx.job, "orderId"), field(ctx.job, "state"));
  });
  runner.handle(kRefundJob, [d, field](core::JobContext& ctx) {
    return d->refund_job(field(ctx.job, "refundId"));
  });
}

}  // namespace mvsp::payments
