#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/mail.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/templates.hpp>
#include <regex>

#include "secrets.hpp"

namespace mvsp::identity {
namespace crypto = core::crypto;
using core::Error;
using core::fail;

namespace {

constexpr std::string_view kAccountColumns =
    "id, kind, email, email_verified_at, locale, salutation, given_name, family_name, "
    "birth_name, doctoral_degree, artistic_name, birth_date, birth_place, street, postcode, "
    "city, country, totp_secret, created_at";
constexpr std::int64_t kTotpStepMs = 30'000;
// A new password has 12 to 128 characters (ASVS 2.1.1, 2.1.2), counted as Unicode code
// points, so six umlauts are six characters and not twelve.
constexpr std::size_t kMinPassword = 12;
constexpr std::size_t kMaxPassword = 128;
// What a login hashes at most: 128 characters of four bytes each (and the 256 bytes that
// were allowed before).
constexpr std::size_t kMaxPasswordBytes = 512;

std::size_t characters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char ch) {
    return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  }));
}

bool valid_new_password(std::string_view password) {
  auto n = characters(password);
  return n >= kMinPassword && n <= kMaxPassword && password.size() <= kMaxPasswordBytes;
}
constexpr std::size_t kMaxText = 200;
constexpr int kRecoveryCodes = 10;
constexpr std::size_t kRecoveryDigits = 20;

// One key of a throttle: attempts counted under `key`; after `free` attempts each further
// one waits twice as long as the one before (1 s, 2 s, 4 s …) up to `cap`.
struct ThrottleKey {
  std::string key;
  std::int64_t free;
  std::chrono::seconds cap;
};

// Requests that cost an argon2 hash or send a mail (registration, reset, invitation), per
// client: generous for people, expensive for scripts. Mails to one address are bounded by
// their idempotency key (one per window), not by a throttle on the address, so that nobody
// can keep the owner of an address from resetting or registering. Invitations (by staff)
// are also limited per address invited.
constexpr std::int64_t kFreeRequestsPerClient = 10;
constexpr std::int64_t kFreeRequestsPerTarget = 3;
constexpr std::chrono::seconds kMaxRequestDelayPerClient{15 * 60};
constexpr std::chrono::seconds kMaxRequestDelayPerTarget{60 * 60};

// The network a client address counts for: an IPv4 address as it is, an IPv6 address by
// its /64 (one host or household holds a whole /64 and can pick any address in it).
std::string client_network(std::string_view address) {
  in6_addr v6{};
  std::string text(address);
  if (text.find(':') == std::string::npos || inet_pton(AF_INET6, text.c_str(), &v6) != 1) {
    return text;
  }
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {  // an IPv4 client on a dual-stack socket
    return fmt::format("{}.{}.{}.{}", v6.s6_addr[12], v6.s6_addr[13], v6.s6_addr[14],
                       v6.s6_addr[15]);
  }
  std::string out;
  for (int i = 0; i < 8; i += 2) {
    out += fmt::format("{:02x}{:02x}:", v6.s6_addr[i], v6.s6_addr[i + 1]);
  }
  return out + ":/64";
}

core::Error too_many(std::int64_t wait_ms) {
  return Error::rate_limited("Too many attempts.", std::chrono::seconds((wait_ms + 999) / 1000));
}

std::string digits_of(std::string_view code) {
  std::string out;
  for (char ch : code) {
    if (ch >= '0' && ch <= '9') out += ch;
  }
  return out;
}

Account read_account(const core::db::Row& r) {
  Account a;
  a.id = r.text(0);
  a.kind = r.text(1);
  a.email = r.text(2);
  a.email_verified = !r.is_null(3);
  a.locale = r.text(4);
  a.profile = {r.text(5),  r.text(6),  r.text(7),  r.text(8),  r.text(9),  r.text(10),
               r.text(11), r.text(12), r.text(13), r.text(14), r.text(15), r.text(16)};
  a.totp_enabled = !r.is_null(17);
  a.created_at = core::from_millis(r.integer(18));
  return a;
}

std::string normalize_email(std::string_view email) {
  auto begin = email.find_first_not_of(" \t");
  auto end = email.find_last_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  std::string out(email.substr(begin, end - begin + 1));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_email(const std::string& email) {
  static const std::regex kShape(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
  return email.size() <= 254 && std::regex_match(email, kShape);
}

bool valid_date(const std::string& d) {
  static const std::regex kShape(R"(^(\d{4})-(\d{2})-(\d{2})$)");
  std::smatch m;
  if (!std::regex_match(d, m, kShape)) return false;
  int year = std::stoi(m[1]), month = std::stoi(m[2]), day = std::stoi(m[3]);
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  return ymd.ok() && year >= 1900;
}

}  // namespace

std::string_view level_name(TrustLevel level) {
  switch (level) {
    case TrustLevel::basic:
      return "basic";
    case TrustLevel::low:
      return "low";
    case TrustLevel::substantial:
      return "substantial";
    case TrustLevel::high:
      return "high";
  }
  return "basic";
}

std::optional<TrustLevel> parse_level(std::string_view name) {
  for (auto l : {TrustLevel::basic, TrustLevel::low, TrustLevel::substantial, TrustLevel::high}) {
    if (level_name(l) == name) return l;
  }
  return std::nullopt;
}

const std::vector<std::string>& staff_roles() {
  static const std::vector<std::string> kRoles = {"editor", "clerk", "authority_admin", "operator"};
  return kRoles;
}

namespace {

// What the OpenID provider gave for the account (codes, access and refresh tokens) ends with
// the password that signed the person in, and with the account itself; in the caller's
// transaction, so no token outlives the change. Returns how many there were.
std::int64_t revoke_oidc_grants(core::db::Connection& tx, const std::string& account_id) {
  return tx.execute("DELETE FROM oidc_codes WHERE account_id = ?", account_id) +
         tx.execute("DELETE FROM oidc_tokens WHERE account_id = ?", account_id);
}

}  // namespace

struct Identity::Impl {
  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::JobQueue& jobs;
  core::AuditLog& audit;
  const web::Catalog& catalog;
  IdentityOptions options;
  std::string totp_key;
  std::string device_key;
  std::string recovery_key;

  std::int64_t now() const { return core::to_millis(clock.now()); }

  std::string text(std::string_view locale, std::string_view key) const {
    return catalog.text(locale, fmt::format("identity.{}", key));
  }

  std::optional<Account> by_email(core::db::Connection& c, const std::string& email) {
    auto row =
        c.query_one(fmt::format("SELECT {} FROM accounts WHERE email = ?", kAccountColumns), email);
    if (!row) return std::nullopt;
    return read_account(*row);
  }

  // A new password typed twice (reset link, staff invitation).
  core::Status check_new_password(const std::string& password, const std::string& repeat,
                                  std::string_view locale, std::string_view email = {}) const {
    Error invalid{core::ErrorCode::invalid_input, text(locale, "errors.summary"), {}, {}};
    if (!valid_new_password(password)) {
      invalid.and_field("password", text(locale, "errors.password_length"));
    } else if (!email.empty() && normalize_email(password) == email) {
      invalid.and_field("password", text(locale, "errors.password_is_email"));
    }
    if (password != repeat) {
      invalid.and_field("password_repeat", text(locale, "errors.password_repeat"));
    }
    if (!invalid.fields.empty()) return fail(std::move(invalid));
    return {};
  }

  // A single-use link token for `purpose`, kept as a hash.
  std::string issue_token(core::db::Connection& tx, const std::string& account_id,
                          std::string_view purpose) {
    auto token = crypto::random_token(32);
    auto lifetime = std::chrono::duration_cast<std::chrono::milliseconds>(options.token_lifetime);
    tx.execute(
        "INSERT INTO email_tokens (token_hash, account_id, purpose, expires_at) "
        "VALUES (?, ?, ?, ?)",
        crypto::sha256_hex(token), account_id, purpose, now() + lifetime.count());
    return token;
  }

  // A new account with an empty profile; false when the e-mail address is taken.
  bool insert_account(core::db::Connection& tx, const std::string& id, std::string_view kind,
                      const std::string& email, bool verified, const std::string& password_hash,
                      const std::string& locale, const std::string& given_name,
                      const std::string& family_name) {
    std::optional<std::int64_t> verified_at;
    if (verified) verified_at = now();
    return tx.execute(
               "INSERT INTO accounts (id, kind, email, email_verified_at, password_hash, locale, "
               "salutation, given_name, family_name, birth_name, doctoral_degree, artistic_name, "
               "birth_date, birth_place, street, postcode, city, country, totp_last_step, "
               "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, '', '', '', '', '', "
               "'', '', '', 'DE', 0, ?, ?) ON CONFLICT (email) DO NOTHING",
               id, std::string(kind), email, verified_at, password_hash, locale, given_name,
               family_name, now(), now()) == 1;
  }

  // `upstream_person`: for an account made through an upstream login, the person it
  // identified; the mail names them, so that nobody confirms a stranger's account (its
  // upstream identity signs in to it once the address is confirmed).
  void send_confirmation(core::db::Connection& tx, const Account& a,
                         const std::string& upstream_person = {}) {
    auto link = fmt::format("{}/konto/bestaetigen?token={}", options.public_url,
                            issue_token(tx, a.id, "confirm"));
    auto body = text(a.locale,
                     upstream_person.empty() ? "mail.confirm_body" : "mail.confirm_federated_body");
    body.replace(body.find("{link}"), 6, link);
    if (auto at = body.find("{name}"); at != std::string::npos) {
      body.replace(at, 6, upstream_person);
    }
    core::queue_mail(jobs, tx, {a.email, text(a.locale, "mail.confirm_subject"), body});
  }

  // Reserves one attempt under every key, in one transaction: refused with the longest
  // wait when any key is still blocked; otherwise each key counts the attempt as failed in
  // advance and sets its next delay. Parallel requests queue on the lock (PostgreSQL
  // advisory lock, SQLite's single writer), so each is counted before any password or
  // code is checked. A success settles (clears) the keys afterwards.
  std::int64_t reserve(std::vector<ThrottleKey> keys) {
    std::sort(keys.begin(), keys.end(),
              [](const ThrottleKey& a, const ThrottleKey& b) { return a.key < b.key; });
    return db.transaction([&](core::db::Tx& tx) {
      struct Next {
        std::int64_t failures;
        std::int64_t blocked_until;
      };
      std::vector<Next> next;
      std::int64_t wait = 0;
      for (const auto& k : keys) {
        tx.lock_exclusive("throttle:" + k.key);
        auto row = tx.query_one(
            "SELECT failures, blocked_until, updated_at FROM login_throttle WHERE throttle_key = ?",
            k.key);
        if (row) wait = std::max<std::int64_t>(wait, row->integer(1) - now());
        std::int64_t failures = 1;
        // An hour without attempts starts the count afresh.
        if (row && now() - row->integer(2) < 3'600'000) failures = row->integer(0) + 1;
        std::int64_t delay_ms = 0;
        if (failures > k.free) {
          auto exponent = std::min<std::int64_t>(failures - k.free - 1, 30);
          delay_ms = std::min<std::int64_t>(std::int64_t{1000} << exponent, k.cap.count() * 1000);
        }
        next.push_back({failures, now() + delay_ms});
      }
      if (wait > 0) return wait;
      for (std::size_t i = 0; i < keys.size(); ++i) {
        tx.execute(
            "INSERT INTO login_throttle (throttle_key, failures, blocked_until, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (throttle_key) DO UPDATE SET "
            "failures = excluded.failures, blocked_until = excluded.blocked_until, "
            "updated_at = excluded.updated_at",
            keys[i].key, next[i].failures, next[i].blocked_until, now());
      }
      return std::int64_t{0};
    });
  }

  // The delay a failure just reserved under `key` set, in seconds (for the audit log).
  std::int64_t delay_after(core::db::Connection& c, const std::string& key) {
    auto row = c.query_one("SELECT blocked_until FROM login_throttle WHERE throttle_key = ?", key);
    return row ? std::max<std::int64_t>(0, (row->integer(0) - now() + 999) / 1000) : 0;
  }

  // Per client address; IPv6 clients per /64 (one household or host holds a whole /64).
  // Generous, as a household shares one address; see settle_success.
  ThrottleKey address_key(std::string_view source_address) const {
    return {"addr:" + client_network(source_address), options.free_failures_per_address,
            options.max_delay_per_address};
  }
  ThrottleKey login_key(const std::string& email) const {
    return {"login:" + crypto::sha256_hex(email), options.free_failures,
            options.max_delay_per_login};
  }
  ThrottleKey code_key(const std::string& account_id) const {
    return {"totp:" + account_id, options.free_failures, options.max_delay_per_code};
  }
  // Requests of `purpose` ("register", "reset", "invite") per client.
  ThrottleKey request_key(std::string_view purpose, std::string_view client) const {
    return {fmt::format("{}:addr:{}", purpose, client_network(client)), kFreeRequestsPerClient,
            kMaxRequestDelayPerClient};
  }
  // … and per address typed, for what staff do (invitations).
  ThrottleKey target_key(std::string_view purpose, const std::string& email) const {
    return {fmt::format("{}:to:{}", purpose, crypto::sha256_hex(email)), kFreeRequestsPerTarget,
            kMaxRequestDelayPerTarget};
  }
  // The idempotency key of a mail to `email` about `purpose`: one such mail per five
  // minutes, however often it is asked for.
  std::string mail_window(std::string_view purpose, const std::string& email) {
    return fmt::format("{}:{}:{}", purpose, crypto::sha256_hex(email), now() / 300'000);
  }

  // A right password: the account's count ends, and the attempt reserved on the client's
  // address is given back (it was counted as failed in advance). The client's count is
  // never cleared, so a sprayer gains nothing by signing in to an account of their own,
  // and people who share one address (an office, carrier NAT) are not charged for logins.
  void settle_success(core::db::Connection& tx, std::string_view source_address,
                      const std::string& email) {
    tx.execute("DELETE FROM login_throttle WHERE throttle_key = ?", login_key(email).key);
    tx.execute(
        "UPDATE login_throttle SET failures = failures - 1 WHERE throttle_key = ? AND failures > 0",
        address_key(source_address).key);
  }

  // The password of a signed-in person, asked again before a change of the second factor;
  // throttled like a login (per client and per account).
  core::Status reauthenticate(const Account& account, std::string_view password,
                              std::string_view source_address) {
    if (auto w = reserve({address_key(source_address), login_key(account.email)}); w > 0) {
      return fail(too_many(w));
    }
    auto row = db.query_one("SELECT password_hash FROM accounts WHERE id = ?", account.id);
    bool ok = row && password.size() <= kMaxPasswordBytes &&
              secrets::verify_password(row->text(0), password);
    db.transaction([&](core::db::Tx& tx) {
      if (ok) {
        settle_success(tx, source_address, account.email);
      } else {
        audit_event(tx, "account:" + account.id, "account.password_failed", account.id);
      }
    });
    if (!ok) return fail(Error::invalid("password", text(account.locale, "errors.password_wrong")));
    return {};
  }

  // Everything identity keeps of the account, in the caller's transaction; audited as
  // `action` with the account's id only.
  void erase_account(core::db::Connection& tx, const std::string& id, std::string_view action) {
    auto row = tx.query_one("SELECT email FROM accounts WHERE id = ?", id);
    if (!row) return;
    tx.execute("DELETE FROM account_roles WHERE account_id = ?", id);
    tx.execute("DELETE FROM identity_links WHERE account_id = ?", id);
    tx.execute("DELETE FROM email_tokens WHERE account_id = ?", id);
    tx.execute("DELETE FROM recovery_codes WHERE account_id = ?", id);
    tx.execute("DELETE FROM login_throttle WHERE throttle_key = ? OR throttle_key = ?",
               "login:" + crypto::sha256_hex(row->text(0)), "totp:" + id);
    auto revoked = revoke_oidc_grants(tx, id);
    tx.execute("DELETE FROM accounts WHERE id = ?", id);
    audit_event(tx, "account:" + id, std::string(action), id,
                fmt::format(R"({{"oidcGrantsRevoked":{}}})", revoked));
  }

  std::string recovery_hash(const std::string& account_id, const std::string& digits) const {
    return crypto::to_hex(crypto::hmac_sha256(recovery_key, account_id + ":" + digits));
  }

  // Ten new recovery codes for the account; the old ones end.
  RecoveryCodes replace_recovery_codes(core::db::Connection& tx, const std::string& account_id) {
    tx.execute("DELETE FROM recovery_codes WHERE account_id = ?", account_id);
    RecoveryCodes out;
    while (out.codes.size() < static_cast<std::size_t>(kRecoveryCodes)) {
      std::string digits;
      while (digits.size() < kRecoveryDigits) {
        for (unsigned char b : crypto::random_bytes(32)) {
          // 250 = 25 × 10: no digit is more likely than another.
          if (b < 250 && digits.size() < kRecoveryDigits) digits += static_cast<char>('0' + b % 10);
        }
      }
      tx.execute(
          "INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES (?, ?, ?) "
          "ON CONFLICT (account_id, code_hash) DO NOTHING",
          account_id, recovery_hash(account_id, digits), now());
      out.codes.push_back(fmt::format("{}-{}-{}-{}", digits.substr(0, 5), digits.substr(5, 5),
                                      digits.substr(10, 5), digits.substr(15, 5)));
    }
    return out;
  }

  // Checks a TOTP code or a recovery code of the account's factor, reserved in the throttle
  // first. `field` names the form field for the error.
  core::Status check_code(const std::string& id, std::string_view code, const std::string& field) {
    auto key = code_key(id);
    if (auto w = reserve({key}); w > 0) return fail(too_many(w));
    struct Outcome {
      bool set_up = false;
      bool accepted = false;
      std::string locale;
    };
    // The failure is audited too, so the transaction commits either way.
    auto outcome = db.transaction([&](core::db::Tx& tx) {
      tx.lock_exclusive("totp:" + id);
      Outcome o;
      auto row =
          tx.query_one("SELECT totp_secret, totp_last_step, locale FROM accounts WHERE id = ?", id);
      if (!row || row->is_null(0)) return o;
      o.set_up = true;
      o.locale = row->text(2);
      auto digits = digits_of(code);
      std::string action = "account.totp_verified";
      if (digits.size() == kRecoveryDigits) {
        // Each recovery code once: the update that marks it used decides.
        o.accepted = tx.execute(
                         "UPDATE recovery_codes SET used_at = ? WHERE account_id = ? AND "
                         "code_hash = ? AND used_at IS NULL",
                         now(), id, recovery_hash(id, digits)) == 1;
        action = "account.recovery_code_used";
      } else {
        auto secret = secrets::open(totp_key, row->text(0));
        if (!secret) throw core::Failure("a TOTP secret does not open with the master key");
        auto step = secrets::totp_match(*secret, digits, now() / kTotpStepMs);
        // A code counts once: an observed code cannot be replayed.
        o.accepted = step && *step > row->integer(1);
        if (o.accepted)
          tx.execute("UPDATE accounts SET totp_last_step = ? WHERE id = ?", *step, id);
      }
      if (o.accepted) {
        tx.execute("DELETE FROM login_throttle WHERE throttle_key = ?", key.key);
        audit_event(tx, "account:" + id, action, id);
      } else {
        audit_event(tx, "account:" + id, "account.totp_failed", id,
                    fmt::format(R"({{"delay_seconds":{}}})", delay_after(tx, key.key)));
      }
      return o;
    });
    if (!outcome.set_up) return fail(Error::forbidden("no second factor set up"));
    if (!outcome.accepted) return fail(Error::invalid(field, text(outcome.locale, "errors.totp")));
    return {};
  }

  void mail_owner(core::db::Connection& tx, const Account& a, std::string_view what,
                  std::string idempotency_key = {}) {
    core::queue_mail(jobs, tx,
                     {a.email, text(a.locale, fmt::format("mail.{}_subject", what)),
                      text(a.locale, fmt::format("mail.{}_body", what))},
                     std::move(idempotency_key));
  }

  std::string device_cookie(const std::string& account_id) {
    auto expires = now() + std::int64_t{365} * 24 * 3'600'000;
    auto payload = fmt::format("{}.{}.{}", account_id, expires, crypto::random_token(9));
    return payload + "." + crypto::base64url(crypto::hmac_sha256(device_key, payload));
  }

  bool device_trusted(const std::string& cookie, const std::string& account_id) {
    auto dot = cookie.rfind('.');
    if (dot == std::string::npos) return false;
    auto payload = cookie.substr(0, dot);
    auto mac = crypto::base64url(crypto::hmac_sha256(device_key, payload));
    if (!crypto::equal_constant_time(mac, cookie.substr(dot + 1))) return false;
    auto first = payload.find('.');
    auto second = payload.find('.', first + 1);
    if (payload.substr(0, first) != account_id) return false;
    return std::stoll(payload.substr(first + 1, second - first - 1)) > now();
  }

  void audit_event(core::db::Connection& tx, std::string actor, std::string action,
                   const std::string& account_id, std::string detail = "{}") {
    audit.append(tx, {.actor = std::move(actor),
                      .action = std::move(action),
                      .object_type = "account",
                      .object_id = account_id,
                      .detail = std::move(detail)});
  }
};

Identity::Identity(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                   core::JobQueue& jobs, core::AuditLog& audit, const web::Catalog& catalog,
                   IdentityOptions options)
    : impl_(std::make_shared<Impl>(
          Impl{db, clock, ids, jobs, audit, catalog, std::move(options), {}, {}, {}})) {
  if (impl_->options.key.size() != 32) throw core::Failure("identity needs a 32-byte key");
  impl_->totp_key = crypto::derive_key(impl_->options.key, "mvspiden", 1);
  impl_->device_key = crypto::derive_key(impl_->options.key, "mvspiden", 2);
  impl_->recovery_key = crypto::derive_key(impl_->options.key, "mvspiden", 3);
}

core::Result<Tenant> Identity::create_tenant(std::string_view name, std::string_view actor) {
  std::string n(name);
  if (n.empty() || n.size() > kMaxText) {
    return fail(Error::invalid("name", "A tenant needs a name of 1 to 200 characters."));
  }
  return impl_->db.transaction([&](core::db::Tx& tx) -> core::Result<Tenant> {
    Tenant t{impl_->ids.key(), n};
    if (tx.execute("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (name) DO NOTHING",
                   t.id, t.name, impl_->now()) == 0) {
      return fail(Error::conflict(fmt::format("A tenant named \"{}\" exists already.", n)));
    }
    impl_->audit.append(tx, {.actor = std::string(actor),
                             .action = "tenant.created",
                             .object_type = "tenant",
                             .object_id = t.id});
    return t;
  });
}

core::Result<Account> Identity::create_account(const NewAccount& input, std::string_view actor) {
  auto email = normalize_email(input.email);
  Error invalid{core::ErrorCode::invalid_input, "The account data is not valid.", {}, {}};
  if (!valid_email(email)) invalid.and_field("email", "must be an e-mail address");
  if (!valid_new_password(input.password)) {
    invalid.and_field("password", "must have 12 to 128 characters");
  }
  if (input.role.empty() != input.tenant_id.empty()) {
    invalid.and_field("role", "a role needs a tenant and a tenant needs a role");
  }
  if (!input.role.empty() &&
      std::find(staff_roles().begin(), staff_roles().end(), input.role) == staff_roles().end()) {
    invalid.and_field("role", "must be one of editor, clerk, authority_admin, operator");
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  auto hash = secrets::hash_password(input.password);
  return impl_->db.transaction([&](core::db::Tx& tx) -> core::Result<Account> {
    if (!input.tenant_id.empty() &&
        !tx.query_one("SELECT 1 FROM tenants WHERE id = ?", input.tenant_id)) {
      return fail(Error::invalid("tenant", "no such tenant"));
    }
    auto id = impl_->ids.key();
    if (!impl_->insert_account(tx, id, input.role.empty() ? "citizen" : "staff", email,
                               input.verified, hash, input.locale, input.given_name,
                               input.family_name)) {
      return fail(Error::conflict("An account with this e-mail address exists already."));
    }
    if (!input.role.empty()) {
      tx.execute("INSERT INTO account_roles (account_id, tenant_id, role) VALUES (?, ?, ?)", id,
                 input.tenant_id, input.role);
    }
    impl_->audit_event(tx, std::string(actor), "account.created", id,
                       input.role.empty() ? "{}"
                                          : fmt::format(R"({{"role":"{}","tenant":"{}"}})",
                                                        input.role, input.tenant_id));
    return *impl_->by_email(tx, email);
  });
}

core::Status Identity::register_citizen(const Registration& input) {
  auto email = normalize_email(input.email);
  const auto& loc = input.locale;
  Error invalid{core::ErrorCode::invalid_input, impl_->text(loc, "errors.summary"), {}, {}};
  if (!valid_email(email)) invalid.and_field("email", impl_->text(loc, "errors.email"));
  if (!valid_new_password(input.password)) {
    invalid.and_field("password", impl_->text(loc, "errors.password_length"));
  } else if (normalize_email(input.password) == email) {
    invalid.and_field("password", impl_->text(loc, "errors.password_is_email"));
  }
  if (input.password != input.password_repeat) {
    invalid.and_field("password_repeat", impl_->text(loc, "errors.password_repeat"));
  }
  if (input.given_name.empty() || input.given_name.size() > kMaxText) {
    invalid.and_field("given_name", impl_->text(loc, "errors.given_name"));
  }
  if (input.family_name.empty() || input.family_name.size() > kMaxText) {
    invalid.and_field("family_name", impl_->text(loc, "errors.family_name"));
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  // Before argon2 and the mail: a script cannot turn registrations into CPU or mail floods.
  if (auto w = impl_->reserve({impl_->request_key("register", input.source_address)}); w > 0) {
    return fail(too_many(w));
  }

  auto hash = secrets::hash_password(input.password);
  impl_->db.transaction([&](core::db::Tx& tx) {
    if (auto existing = impl_->by_email(tx, email)) {
      core::queue_mail(impl_->jobs, tx,
                       {email, impl_->text(existing->locale, "mail.taken_subject"),
                        impl_->text(existing->locale, "mail.taken_body")},
                       impl_->mail_window("taken", email));
      impl_->audit_event(tx, "anonymous", "account.registration_repeated", existing->id);
      return;
    }
    auto id = impl_->ids.key();
    if (!impl_->insert_account(tx, id, "citizen", email, false, hash, input.locale,
                               input.given_name, input.family_name)) {
      // Registered a moment ago by a parallel request: the owner gets the note, as above.
      core::queue_mail(impl_->jobs, tx,
                       {email, impl_->text(input.locale, "mail.taken_subject"),
                        impl_->text(input.locale, "mail.taken_body")},
                       impl_->mail_window("taken", email));
      return;
    }
    impl_->audit_event(tx, "account:" + id, "account.registered", id);
    impl_->send_confirmation(tx, *impl_->by_email(tx, email));
  });
  return {};
}

core::Result<Account> Identity::confirm_email(std::string_view token) {
  return impl_->db.transaction([&](core::db::Tx& tx) -> core::Result<Account> {
    auto row = tx.query_one(
        "SELECT account_id, expires_at, used_at FROM email_tokens "
        "WHERE token_hash = ? AND purpose = 'confirm'",
        crypto::sha256_hex(token));
    if (!row || !row->is_null(2) || row->integer(1) < impl_->now()) {
      return fail(Error::not_found("This confirmation link is not valid (any more)."));
    }
    auto id = row->text(0);
    tx.execute("UPDATE email_tokens SET used_at = ? WHERE token_hash = ?", impl_->now(),
               crypto::sha256_hex(token));
    tx.execute(
        "UPDATE accounts SET email_verified_at = ?, updated_at = ? "
        "WHERE id = ? AND email_verified_at IS NULL",
        impl_->now(), impl_->now(), id);
    impl_->audit_event(tx, "account:" + id, "account.email_confirmed", id);
    auto acc =
        tx.query_one(fmt::format("SELECT {} FROM accounts WHERE id = ?", kAccountColumns), id);
    return read_account(*acc);
  });
}

core::Result<LoginResult> Identity::login(const LoginAttempt& attempt) {
  auto& d = *impl_;
  auto email = normalize_email(attempt.email);
  auto account = d.by_email(*d.db.acquire(), email);
  bool trusted = account && d.device_trusted(attempt.device_cookie, account->id);
  // Keyed by the name typed, so that known and unknown addresses behave alike.
  std::vector<ThrottleKey> keys = {d.address_key(attempt.source_address)};
  if (!trusted) keys.push_back(d.login_key(email));
  if (auto w = d.reserve(keys); w > 0) return fail(too_many(w));
  std::optional<std::string> hash;
  if (account) {
    auto row = d.db.query_one("SELECT password_hash FROM accounts WHERE id = ?", account->id);
    hash = row->text(0);
  }
  // Exactly one argon2 run whatever the case (no account, too long, wrong, right), so the
  // time taken tells nothing about whether the address has an account.
  bool ok = false;
  if (hash && attempt.password.size() <= kMaxPasswordBytes) {
    ok = secrets::verify_password(*hash, attempt.password);
  } else {
    secrets::burn_password_time(attempt.password.substr(0, kMaxPasswordBytes));
  }
  if (!ok) {
    // The failure was counted when the attempt was reserved.
    if (account) {
      d.db.transaction([&](core::db::Tx& tx) {
        d.audit_event(tx, "anonymous", "account.login_failed", account->id);
      });
    }
    return fail(Error::unauthenticated("wrong e-mail address or password"));
  }
  d.db.transaction([&](core::db::Tx& tx) {
    d.settle_success(tx, attempt.source_address, email);
    d.audit_event(tx, "account:" + account->id, "account.password_verified", account->id);
  });
  return LoginResult{*account, account->totp_enabled, d.device_cookie(account->id)};
}

core::Status Identity::request_password_reset(std::string_view email_input, std::string_view locale,
                                              std::string_view source_address) {
  auto email = normalize_email(email_input);
  if (!valid_email(email)) {
    return fail(Error::invalid("email", impl_->text(locale, "errors.email")));
  }
  auto& d = *impl_;
  if (auto w = d.reserve({d.request_key("reset", source_address)}); w > 0) {
    return fail(too_many(w));
  }
  d.db.transaction([&](core::db::Tx& tx) {
    auto account = d.by_email(tx, email);
    if (!account) return;
    // One mail per five minutes: a flood of requests does not flood the mailbox, and no
    // link is made that no mail carries.
    auto window = fmt::format("reset:{}:{}", account->id, d.now() / 300'000);
    if (tx.query_one("SELECT 1 FROM jobs WHERE idempotency_key = ?", window)) return;
    auto token = d.issue_token(tx, account->id, "reset");
    auto lifetime = std::chrono::duration_cast<std::chrono::milliseconds>(d.options.reset_lifetime);
    tx.execute("UPDATE email_tokens SET expires_at = ? WHERE token_hash = ?",
               d.now() + lifetime.count(), crypto::sha256_hex(token));
    auto body = d.text(account->locale, "mail.reset_body");
    body.replace(body.find("{link}"), 6,
                 fmt::format("{}/passwort-neu?token={}", d.options.public_url, token));
    core::queue_mail(d.jobs, tx, {email, d.text(account->locale, "mail.reset_subject"), body},
                     window);
    d.audit_event(tx, "anonymous", "account.password_reset_requested", account->id);
  });
  return {};
}

namespace {}  // namespace

core::Result<Account> Identity::reset_password(const PasswordReset& input) {
  auto& d = *impl_;
  const auto& loc = input.locale;
  if (auto ok = d.check_new_password(input.password, input.password_repeat, loc); !ok) {
    return fail(ok.error());
  }
  auto token_hash = crypto::sha256_hex(input.token);
  auto valid_token = [&](core::db::Connection& c) {
    auto row = c.query_one(
        "SELECT account_id, expires_at, used_at FROM email_tokens "
        "WHERE token_hash = ? AND purpose = 'reset'",
        token_hash);
    return row && row->is_null(2) && row->integer(1) >= d.now();
  };
  // A made-up link costs no argon2 hash.
  if (!valid_token(*d.db.acquire()))
    return fail(Error::not_found(d.text(loc, "reset.invalid_text")));
  auto hash = secrets::hash_password(input.password);
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Account> {
    auto row = tx.query_one("SELECT account_id FROM email_tokens WHERE token_hash = ?", token_hash);
    // Used by a parallel request in the meantime: the update decides.
    if (!row || tx.execute("UPDATE email_tokens SET used_at = ? WHERE token_hash = ? AND "
                           "used_at IS NULL AND expires_at >= ?",
                           d.now(), token_hash, d.now()) != 1) {
      return fail(Error::not_found(d.text(loc, "reset.invalid_text")));
    }
    auto id = row->text(0);
    // An address proven only now: whatever was linked to the account before it was proven
    // (an upstream identity from the new-account page, which anyone can give any address)
    // is not the owner's doing and goes.
    std::int64_t unlinked = 0;
    if (tx.query_one("SELECT 1 FROM accounts WHERE id = ? AND email_verified_at IS NULL", id)) {
      unlinked = tx.execute("DELETE FROM identity_links WHERE account_id = ?", id);
    }
    // Every other reset link of the account ends with this one.
    tx.execute(
        "UPDATE email_tokens SET used_at = ? WHERE account_id = ? AND purpose = 'reset' AND "
        "used_at IS NULL",
        d.now(), id);
    // The link came by mail, so the address is proven as well.
    tx.execute(
        "UPDATE accounts SET password_hash = ?, email_verified_at = COALESCE(email_verified_at, "
        "?), "
        "updated_at = ? WHERE id = ?",
        hash, d.now(), d.now(), id);
    auto account =
        tx.query_one(fmt::format("SELECT {} FROM accounts WHERE id = ?", kAccountColumns), id);
    auto a = read_account(*account);
    tx.execute("DELETE FROM login_throttle WHERE throttle_key = ?",
               "login:" + crypto::sha256_hex(a.email));
    auto revoked = revoke_oidc_grants(tx, id);
    // The owner learns of it, also when it was not them (someone who reads their mail).
    d.mail_owner(tx, a, "password_reset");
    d.audit_event(
        tx, "account:" + id, "account.password_reset", id,
        fmt::format(R"({{"oidcGrantsRevoked":{},"upstreamLinksRemoved":{}}})", revoked, unlinked));
    return a;
  });
}

std::vector<Activity> Identity::activity(std::string_view account_id, int limit) {
  std::vector<Activity> out;
  for (auto& r : impl_->audit.entries_for(impl_->db, "account", account_id, limit)) {
    auto action = r.action;
    if (action.starts_with("account.")) action.erase(0, 8);
    out.push_back({r.at, std::move(action)});
  }
  return out;
}

core::Status Identity::delete_account(const AccountDeletion& request) {
  auto& d = *impl_;
  auto account = find(request.account_id);
  if (!account) return fail(account.error());
  const auto& loc = account->locale;
  Error invalid{core::ErrorCode::invalid_input, d.text(loc, "errors.summary"), {}, {}};
  if (request.password.empty())
    invalid.and_field("password", d.text(loc, "errors.password_missing"));
  if (account->totp_enabled && digits_of(request.current_code).empty()) {
    invalid.and_field("current_code", d.text(loc, "errors.current_code_missing"));
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  // Throttled like a login: a stolen session cannot guess the password or the code here,
  // nor make the server hash without limit.
  if (auto ok = d.reauthenticate(*account, request.password, request.source_address); !ok) {
    return ok;
  }
  if (account->totp_enabled) {
    if (auto ok = d.check_code(account->id, request.current_code, "current_code"); !ok) return ok;
  }
  return delete_account_reauthenticated(account->id);
}

core::Status Identity::delete_account_reauthenticated(std::string_view account_id) {
  auto& d = *impl_;
  std::string id(account_id);
  auto row = d.db.query_one("SELECT email FROM accounts WHERE id = ?", id);
  if (!row) return fail(Error::not_found("no such account"));
  d.db.transaction([&](core::db::Tx& tx) { d.erase_account(tx, id, "account.deleted"); });
  return {};
}

namespace {

bool is_staff_role(const std::string& role) {
  return std::find(staff_roles().begin(), staff_roles().end(), role) != staff_roles().end();
}

}  // namespace

bool Identity::is_operator(std::string_view account_id) {
  return impl_->db
      .query_one("SELECT 1 FROM account_roles WHERE account_id = ? AND role = 'operator'",
                 std::string(account_id))
      .has_value();
}

std::vector<std::pair<std::string, std::string>> Identity::roles_of(std::string_view account_id) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : impl_->db.query("SELECT tenant_id, role FROM account_roles WHERE account_id "
                                       "= ? ORDER BY tenant_id, role",
                                       std::string(account_id))) {
    out.emplace_back(r.text(0), r.text(1));
  }
  return out;
}

std::vector<std::string> Identity::tenant_contacts(std::string_view tenant_id) {
  std::vector<std::string> out;
  for (const auto& r :
       impl_->db.query("SELECT a.email FROM account_roles r JOIN accounts a ON a.id = r.account_id "
                       "WHERE r.tenant_id = ? AND r.role = 'authority_admin' ORDER BY a.email",
                       std::string(tenant_id))) {
    out.push_back(r.text(0));
  }
  return out;
}

std::optional<Tenant> Identity::tenant(std::string_view id) {
  auto r = impl_->db.query_one("SELECT id, name FROM tenants WHERE id = ?", std::string(id));
  if (!r) return std::nullopt;
  return Tenant{r->text(0), r->text(1)};
}

std::vector<Tenant> Identity::tenants() {
  std::vector<Tenant> out;
  for (const auto& r : impl_->db.query("SELECT id, name FROM tenants ORDER BY name")) {
    out.push_back({r.text(0), r.text(1)});
  }
  return out;
}

std::vector<Tenant> Identity::administered_tenants(std::string_view actor) {
  std::vector<Tenant> out;
  for (const auto& r : impl_->db.query(
           "SELECT t.id, t.name FROM tenants t JOIN account_roles r ON r.tenant_id = t.id "
           "WHERE r.account_id = ? AND r.role = 'authority_admin' ORDER BY t.name",
           std::string(actor))) {
    out.push_back({r.text(0), r.text(1)});
  }
  return out;
}

namespace {

core::Status check_admin(core::db::Connection& c, std::string_view actor, std::string_view tenant) {
  if (!c.query_one("SELECT 1 FROM account_roles WHERE account_id = ? AND tenant_id = ? AND "
                   "role = 'authority_admin'",
                   std::string(actor), std::string(tenant))) {
    return fail(Error::forbidden("only the authority's admins manage its staff"));
  }
  return {};
}

std::optional<StaffMember> read_member(core::db::Connection& c, std::string_view tenant,
                                       std::string_view member) {
  auto roles =
      c.query("SELECT role FROM account_roles WHERE tenant_id = ? AND account_id = ? ORDER BY role",
              std::string(tenant), std::string(member));
  if (roles.empty()) return std::nullopt;
  auto a = c.query_one("SELECT id, email, given_name, family_name FROM accounts WHERE id = ?",
                       std::string(member));
  if (!a) return std::nullopt;
  StaffMember m{a->text(0), a->text(1), a->text(2) + " " + a->text(3), {}};
  for (const auto& r : roles) m.roles.push_back(r.text(0));
  return m;
}

}  // namespace

core::Result<std::vector<StaffMember>> Identity::list_staff(std::string_view actor,
                                                            std::string_view tenant_id) {
  auto conn = impl_->db.acquire();
  if (auto ok = check_admin(*conn, actor, tenant_id); !ok) return fail(ok.error());
  std::vector<StaffMember> out;
  for (const auto& r : conn->query(
           "SELECT DISTINCT a.id, a.family_name, a.given_name FROM accounts a JOIN account_roles r "
           "ON r.account_id = a.id WHERE r.tenant_id = ? ORDER BY a.family_name, a.given_name, "
           "a.id",
           std::string(tenant_id))) {
    out.push_back(*read_member(*conn, tenant_id, r.text(0)));
  }
  return out;
}

core::Result<StaffMember> Identity::staff_member(std::string_view actor, std::string_view tenant_id,
                                                 std::string_view member_id) {
  auto conn = impl_->db.acquire();
  if (auto ok = check_admin(*conn, actor, tenant_id); !ok) return fail(ok.error());
  auto m = read_member(*conn, tenant_id, member_id);
  if (!m) return fail(Error::not_found("no such member of this authority's staff"));
  return *m;
}

core::Status Identity::invite_staff(std::string_view actor, std::string_view tenant_id,
                                    const NewStaff& input) {
  auto& d = *impl_;
  const auto& loc = input.locale;
  auto email = normalize_email(input.email);
  Error invalid{core::ErrorCode::invalid_input, d.text(loc, "errors.summary"), {}, {}};
  if (!valid_email(email)) invalid.and_field("email", d.text(loc, "errors.email"));
  if (input.given_name.empty() || input.given_name.size() > kMaxText) {
    invalid.and_field("given_name", d.text(loc, "errors.given_name"));
  }
  if (input.family_name.empty() || input.family_name.size() > kMaxText) {
    invalid.and_field("family_name", d.text(loc, "errors.family_name"));
  }
  if (!is_staff_role(input.role) || input.role == "operator") {
    invalid.and_field("role", d.text(loc, "errors.role"));
  }
  if (auto ok = check_admin(*d.db.acquire(), actor, tenant_id); !ok) return ok;
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  // Before the mail: no admin session turns invitations into a flood.
  if (auto w =
          d.reserve({d.request_key("invite", input.source_address), d.target_key("invite", email)});
      w > 0) {
    return fail(too_many(w));
  }
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (auto ok = check_admin(tx, actor, tenant_id); !ok) return ok;
    auto tenant = tx.query_one("SELECT name FROM tenants WHERE id = ?", std::string(tenant_id));
    tx.execute("DELETE FROM staff_invitations WHERE expires_at < ?", d.now());
    // One invitation per address and authority: the newest counts.
    tx.execute("DELETE FROM staff_invitations WHERE tenant_id = ? AND email = ?",
               std::string(tenant_id), email);
    auto id = d.ids.key();
    auto token = crypto::random_token(32);
    auto lifetime =
        std::chrono::duration_cast<std::chrono::milliseconds>(d.options.invitation_lifetime);
    tx.execute(
        "INSERT INTO staff_invitations (id, token_hash, tenant_id, email, given_name, "
        "family_name, role, locale, invited_by, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        id, crypto::sha256_hex(token), std::string(tenant_id), email, input.given_name,
        input.family_name, input.role, loc, std::string(actor), d.now(),
        d.now() + lifetime.count());
    // The same mail for every address: whether it has an account shows only to its owner,
    // on the page the link opens.
    auto body = d.text(loc, "mail.invite_body");
    body.replace(body.find("{tenant}"), 8, tenant->text(0));
    body.replace(body.find("{role}"), 6, d.text(loc, "roles." + input.role));
    body.replace(body.find("{link}"), 6,
                 fmt::format("{}/verwaltung/einladung?token={}", d.options.public_url, token));
    core::queue_mail(d.jobs, tx, {email, d.text(loc, "mail.invite_subject"), body});
    d.audit.append(
        tx, {.actor = "account:" + std::string(actor),
             .action = "staff.invited",
             .object_type = "staff_invitation",
             .object_id = id,
             .detail = fmt::format(R"({{"tenant":"{}","role":"{}"}})", tenant_id, input.role)});
    return {};
  });
}

namespace {

// An invitation counts only while the admin who sent it is still an admin of the
// authority: one about to be removed cannot leave a way back in behind.
constexpr std::string_view kInviterStillAdmin =
    "EXISTS (SELECT 1 FROM account_roles r WHERE r.account_id = i.invited_by AND "
    "r.tenant_id = i.tenant_id AND r.role = 'authority_admin')";

}  // namespace

core::Result<std::vector<StaffInvitation>> Identity::staff_invitations(std::string_view actor,
                                                                       std::string_view tenant_id) {
  auto& d = *impl_;
  auto conn = d.db.acquire();
  if (auto ok = check_admin(*conn, actor, tenant_id); !ok) return fail(ok.error());
  std::vector<StaffInvitation> out;
  for (const auto& r :
       conn->query("SELECT i.id, i.email, i.given_name, i.family_name, i.role, i.expires_at "
                   "FROM staff_invitations i WHERE i.tenant_id = ? AND i.expires_at >= ? AND " +
                       std::string(kInviterStillAdmin) + " ORDER BY i.created_at, i.id",
                   std::string(tenant_id), d.now())) {
    out.push_back({r.text(0), r.text(1), r.text(2) + " " + r.text(3), r.text(4),
                   core::from_millis(r.integer(5))});
  }
  return out;
}

core::Status Identity::withdraw_staff_invitation(std::string_view actor, std::string_view tenant_id,
                                                 std::string_view invitation_id) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (auto ok = check_admin(tx, actor, tenant_id); !ok) return ok;
    if (tx.execute("DELETE FROM staff_invitations WHERE id = ? AND tenant_id = ?",
                   std::string(invitation_id), std::string(tenant_id)) != 1) {
      return fail(Error::not_found("no such invitation of this authority"));
    }
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "staff.invitation_withdrawn",
                        .object_type = "staff_invitation",
                        .object_id = std::string(invitation_id)});
    return {};
  });
}

namespace {

struct PendingStaffInvitation {
  std::string id;
  std::string tenant_id;
  std::string tenant_name;
  std::string email;
  std::string given_name;
  std::string family_name;
  std::string role;
};

std::optional<PendingStaffInvitation> pending_invitation(core::db::Connection& c,
                                                         const std::string& token_hash,
                                                         std::int64_t now) {
  auto r = c.query_one(
      "SELECT i.id, i.tenant_id, t.name, i.email, i.given_name, i.family_name, i.role "
      "FROM staff_invitations i JOIN tenants t ON t.id = i.tenant_id "
      "WHERE i.token_hash = ? AND i.expires_at >= ? AND " +
          std::string(kInviterStillAdmin),
      token_hash, now);
  if (!r) return std::nullopt;
  return PendingStaffInvitation{r->text(0), r->text(1), r->text(2), r->text(3),
                                r->text(4), r->text(5), r->text(6)};
}

}  // namespace

core::Result<StaffInvitationCheck> Identity::check_staff_invitation(std::string_view token,
                                                                    std::string_view actor,
                                                                    std::string_view locale) {
  auto& d = *impl_;
  auto conn = d.db.acquire();
  auto pending = pending_invitation(*conn, crypto::sha256_hex(token), d.now());
  if (!pending) return fail(Error::not_found(d.text(locale, "staff_invitation.invalid")));
  StaffInvitationCheck out{StaffInvitationCheck::Next::set_password, pending->tenant_name,
                           pending->role, pending->email};
  // An unconfirmed citizen registration of the address (anyone can make one) does not
  // block the invitation; accepting it proves the mailbox and replaces that registration.
  if (auto account = d.by_email(*conn, pending->email);
      account && (account->kind == "staff" || account->email_verified)) {
    if (account->kind != "staff") {
      out.next = StaffInvitationCheck::Next::citizen_address;
    } else {
      out.next = account->id == actor ? StaffInvitationCheck::Next::accept
                                      : StaffInvitationCheck::Next::sign_in;
    }
  }
  return out;
}

core::Result<StaffJoined> Identity::accept_staff_invitation(
    const StaffInvitationAcceptance& input) {
  auto& d = *impl_;
  const auto& loc = input.locale;
  auto check = check_staff_invitation(input.token, input.actor, loc);
  if (!check) return fail(check.error());
  using Next = StaffInvitationCheck::Next;
  if (check->next == Next::citizen_address) {
    return fail(Error::forbidden(d.text(loc, "staff_invitation.citizen_address")));
  }
  if (check->next == Next::sign_in) {
    return fail(Error::forbidden(d.text(loc, "staff_invitation.other_account")));
  }
  std::string hash;
  if (check->next == Next::set_password) {
    if (auto ok = d.check_new_password(input.password, input.password_repeat, loc, check->email);
        !ok) {
      return fail(ok.error());
    }
    hash = secrets::hash_password(input.password);
  }
  auto token_hash = crypto::sha256_hex(input.token);
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<StaffJoined> {
    auto pending = pending_invitation(tx, token_hash, d.now());
    // Accepted by a parallel request in the meantime: the delete decides.
    if (!pending || tx.execute("DELETE FROM staff_invitations WHERE id = ?", pending->id) != 1) {
      return fail(Error::not_found(d.text(loc, "staff_invitation.invalid")));
    }
    auto account = d.by_email(tx, pending->email);
    std::string replaced;
    if (check->next == Next::set_password) {
      if (account && account->kind == "citizen" && !account->email_verified) {
        d.erase_account(tx, account->id, "account.unconfirmed_replaced");
        replaced = account->id;
        account.reset();
      }
      // An account made for this address in the meantime takes the other way.
      if (account ||
          !d.insert_account(tx, d.ids.key(), "staff", pending->email, true, hash, std::string(loc),
                            pending->given_name, pending->family_name)) {
        return fail(Error::conflict(d.text(loc, "staff_invitation.changed")));
      }
      account = d.by_email(tx, pending->email);
    } else if (!account || account->id != input.actor || account->kind != "staff") {
      return fail(Error::forbidden(d.text(loc, "staff_invitation.other_account")));
    }
    tx.execute(
        "INSERT INTO account_roles (account_id, tenant_id, role) VALUES (?, ?, ?) "
        "ON CONFLICT (account_id, tenant_id, role) DO NOTHING",
        account->id, pending->tenant_id, pending->role);
    d.audit_event(tx, "account:" + account->id, "staff.joined", account->id,
                  fmt::format(R"({{"tenant":"{}","role":"{}","invitation":"{}"}})",
                              pending->tenant_id, pending->role, pending->id));
    return StaffJoined{*account, replaced};
  });
}

core::Status Identity::set_staff_roles(std::string_view actor, std::string_view tenant_id,
                                       std::string_view member_id,
                                       const std::vector<std::string>& roles,
                                       std::string_view locale) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (auto ok = check_admin(tx, actor, tenant_id); !ok) return ok;
    if (!read_member(tx, tenant_id, member_id)) {
      return fail(Error::not_found("no such member of this authority's staff"));
    }
    if (roles.empty()) return fail(Error::invalid("roles", d.text(locale, "errors.no_role")));
    for (const auto& r : roles) {
      if (!is_staff_role(r) || r == "operator") {
        return fail(Error::invalid("roles", d.text(locale, "errors.role")));
      }
    }
    bool keeps_admin = std::find(roles.begin(), roles.end(), "authority_admin") != roles.end();
    if (actor == member_id && !keeps_admin) {
      return fail(Error::invalid("roles", d.text(locale, "errors.own_admin")));
    }
    tx.execute("DELETE FROM account_roles WHERE account_id = ? AND tenant_id = ?",
               std::string(member_id), std::string(tenant_id));
    for (const auto& r : roles) {
      tx.execute(
          "INSERT INTO account_roles (account_id, tenant_id, role) VALUES (?, ?, ?) "
          "ON CONFLICT (account_id, tenant_id, role) DO NOTHING",
          std::string(member_id), std::string(tenant_id), r);
    }
    std::string list;
    for (const auto& r : roles) list += (list.empty() ? "\"" : ",\"") + r + "\"";
    d.audit_event(tx, "account:" + std::string(actor), "staff.roles_changed",
                  std::string(member_id),
                  fmt::format(R"({{"tenant":"{}","roles":[{}]}})", tenant_id, list));
    return {};
  });
}

core::Status Identity::remove_staff(std::string_view actor, std::string_view tenant_id,
                                    std::string_view member_id, std::string_view locale) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (auto ok = check_admin(tx, actor, tenant_id); !ok) return ok;
    if (!read_member(tx, tenant_id, member_id)) {
      return fail(Error::not_found("no such member of this authority's staff"));
    }
    if (actor == member_id)
      return fail(Error::invalid("member", d.text(locale, "errors.own_admin")));
    tx.execute("DELETE FROM account_roles WHERE account_id = ? AND tenant_id = ?",
               std::string(member_id), std::string(tenant_id));
    d.audit_event(tx, "account:" + std::string(actor), "staff.removed", std::string(member_id),
                  fmt::format(R"({{"tenant":"{}"}})", tenant_id));
    return {};
  });
}

namespace {

std::optional<std::string> member_role(core::db::Connection& c, std::string_view org,
                                       std::string_view account) {
  auto r = c.query_one(
      "SELECT role FROM organisation_members WHERE organisation_id = ? AND account_id = ?",
      std::string(org), std::string(account));
  if (!r) return std::nullopt;
  return r->text(0);
}

}  // namespace

core::Result<Organisation> Identity::create_organisation(std::string_view actor,
                                                         std::string_view name,
                                                         std::string_view locale) {
  auto& d = *impl_;
  std::string n(name);
  while (!n.empty() && n.back() == ' ') n.pop_back();
  if (n.empty() || n.size() > kMaxText) {
    return fail(Error::invalid("name", d.text(locale, "errors.organisation_name")));
  }
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<Organisation> {
    Organisation o{d.ids.key(), n, "admin"};
    tx.execute("INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)", o.id, o.name,
               d.now());
    tx.execute(
        "INSERT INTO organisation_members (organisation_id, account_id, role) VALUES (?, ?, "
        "'admin')",
        o.id, std::string(actor));
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "organisation.created",
                        .object_type = "organisation",
                        .object_id = o.id});
    return o;
  });
}

std::optional<MailboxOwner> Identity::mailbox_owner(std::string_view id) {
  auto& d = *impl_;
  std::string key(id);
  if (auto a = d.db.query_one(
          "SELECT given_name, family_name, email, email_verified_at FROM accounts WHERE id = ?",
          key)) {
    MailboxOwner o{.id = key, .name = fmt::format("{} {}", a->text(0), a->text(1))};
    if (!a->is_null(3)) o.emails.push_back(a->text(2));
    return o;
  }
  auto org = d.db.query_one("SELECT name FROM organisations WHERE id = ?", key);
  if (!org) return std::nullopt;
  MailboxOwner o{.id = key, .organisation = true, .name = org->text(0)};
  for (const auto& r : d.db.query(
           "SELECT a.email FROM organisation_members m JOIN accounts a ON a.id = m.account_id "
           "WHERE m.organisation_id = ? AND a.email_verified_at IS NOT NULL ORDER BY a.email",
           key)) {
    o.emails.push_back(r.text(0));
  }
  return o;
}

std::vector<Organisation> Identity::organisations_of(std::string_view account_id) {
  std::vector<Organisation> out;
  for (const auto& r : impl_->db.query(
           "SELECT o.id, o.name, m.role FROM organisations o JOIN organisation_members m "
           "ON m.organisation_id = o.id WHERE m.account_id = ? ORDER BY o.name, o.id",
           std::string(account_id))) {
    out.push_back({r.text(0), r.text(1), r.text(2)});
  }
  return out;
}

core::Result<Organisation> Identity::organisation(std::string_view actor, std::string_view id) {
  auto conn = impl_->db.acquire();
  auto role = member_role(*conn, id, actor);
  if (!role) return fail(Error::not_found("no such organisation"));
  auto r = conn->query_one("SELECT name FROM organisations WHERE id = ?", std::string(id));
  return Organisation{std::string(id), r->text(0), *role};
}

core::Result<std::vector<OrganisationMember>> Identity::organisation_members(std::string_view actor,
                                                                             std::string_view id) {
  auto conn = impl_->db.acquire();
  if (!member_role(*conn, id, actor)) return fail(Error::not_found("no such organisation"));
  std::vector<OrganisationMember> out;
  for (const auto& r : conn->query(
           "SELECT a.id, a.given_name, a.family_name, a.email, m.role FROM organisation_members m "
           "JOIN accounts a ON a.id = m.account_id WHERE m.organisation_id = ? "
           "ORDER BY a.family_name, a.given_name, a.id",
           std::string(id))) {
    out.push_back({r.text(0), r.text(1) + " " + r.text(2), r.text(3), r.text(4)});
  }
  return out;
}

core::Status Identity::invite_to_organisation(std::string_view actor, std::string_view id,
                                              std::string_view email_input, std::string_view role,
                                              std::string_view locale) {
  auto& d = *impl_;
  auto email = normalize_email(email_input);
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    auto own = member_role(tx, id, actor);
    if (!own) return fail(Error::not_found("no such organisation"));
    if (*own != "admin") return fail(Error::forbidden("only the organisation's admins invite"));
    Error invalid{core::ErrorCode::invalid_input, d.text(locale, "errors.summary"), {}, {}};
    if (!valid_email(email)) invalid.and_field("email", d.text(locale, "errors.email"));
    if (role != "admin" && role != "member")
      invalid.and_field("role", d.text(locale, "errors.organisation_role"));
    if (!invalid.fields.empty()) return fail(std::move(invalid));
    auto token = crypto::random_token(32);
    tx.execute(
        "INSERT INTO organisation_invitations (token_hash, organisation_id, email, role, "
        "expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        crypto::sha256_hex(token), std::string(id), email, std::string(role),
        d.now() +
            std::chrono::duration_cast<std::chrono::milliseconds>(d.options.invitation_lifetime)
                .count());
    auto org = tx.query_one("SELECT name FROM organisations WHERE id = ?", std::string(id));
    auto body = d.text(locale, "mail.organisation_body");
    body.replace(body.find("{organisation}"), 14, org->text(0));
    body.replace(body.find("{link}"), 6,
                 fmt::format("{}/organisation/einladung?token={}", d.options.public_url, token));
    core::queue_mail(d.jobs, tx, {email, d.text(locale, "mail.organisation_subject"), body});
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "organisation.invited",
                        .object_type = "organisation",
                        .object_id = std::string(id),
                        .detail = fmt::format(R"({{"role":"{}"}})", role)});
    return {};
  });
}

core::Result<Organisation> Identity::check_invitation(std::string_view actor,
                                                      std::string_view token,
                                                      std::string_view locale) {
  auto& d = *impl_;
  auto row = d.db.query_one(
      "SELECT i.organisation_id, i.email, i.role, i.expires_at, i.used_at, o.name "
      "FROM organisation_invitations i JOIN organisations o ON o.id = i.organisation_id "
      "WHERE i.token_hash = ?",
      crypto::sha256_hex(token));
  if (!row || !row->is_null(4) || row->integer(3) < d.now()) {
    return fail(Error::not_found(d.text(locale, "organisations.invalid_invitation")));
  }
  auto account = find(actor);
  if (!account || account->email != row->text(1)) {
    return fail(Error::forbidden(d.text(locale, "organisations.other_address")));
  }
  return Organisation{row->text(0), row->text(5), row->text(2)};
}

core::Result<Organisation> Identity::accept_invitation(std::string_view actor,
                                                       std::string_view token,
                                                       std::string_view locale) {
  auto org = check_invitation(actor, token, locale);
  if (!org) return org;
  auto& d = *impl_;
  d.db.transaction([&](core::db::Tx& tx) {
    tx.execute("UPDATE organisation_invitations SET used_at = ? WHERE token_hash = ?", d.now(),
               crypto::sha256_hex(token));
    // Accepting again (or as admin) never lowers a role already held.
    if (!member_role(tx, org->id, actor)) {
      tx.execute(
          "INSERT INTO organisation_members (organisation_id, account_id, role) VALUES (?, ?, ?)",
          org->id, std::string(actor), org->role);
    }
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "organisation.joined",
                        .object_type = "organisation",
                        .object_id = org->id});
  });
  return organisation(actor, org->id);
}

core::Status Identity::remove_from_organisation(std::string_view actor, std::string_view id,
                                                std::string_view member, std::string_view locale) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    tx.lock_exclusive("organisation:" + std::string(id));
    auto own = member_role(tx, id, actor);
    if (!own) return fail(Error::not_found("no such organisation"));
    if (actor != member && *own != "admin")
      return fail(Error::forbidden("only admins remove others"));
    auto theirs = member_role(tx, id, member);
    if (!theirs) return fail(Error::not_found("no such member"));
    auto admins = tx.query_one(
        "SELECT COUNT(*) FROM organisation_members WHERE organisation_id = ? AND role = 'admin'",
        std::string(id));
    if (*theirs == "admin" && admins->integer(0) <= 1) {
      return fail(Error::invalid("member", d.text(locale, "errors.last_admin")));
    }
    tx.execute("DELETE FROM organisation_members WHERE organisation_id = ? AND account_id = ?",
               std::string(id), std::string(member));
    d.audit.append(tx, {.actor = "account:" + std::string(actor),
                        .action = "organisation.member_removed",
                        .object_type = "organisation",
                        .object_id = std::string(id)});
    return {};
  });
}

core::Result<std::optional<Account>> Identity::create_federated_account(
    const Profile& profile, std::string_view email_input, std::string_view locale_input,
    std::string_view source_address) {
  auto& d = *impl_;
  auto email = normalize_email(email_input);
  std::string locale(locale_input);
  if (!valid_email(email)) {
    return fail(Error::invalid("email", d.text(locale, "errors.email")));
  }
  if (auto w = d.reserve({d.request_key("register", source_address)}); w > 0) {
    return fail(too_many(w));
  }
  auto unknown_password = secrets::hash_password(crypto::random_token(32));
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<std::optional<Account>> {
    auto id = d.ids.key();
    if (!d.insert_account(tx, id, "citizen", email, false, unknown_password, locale,
                          profile.given_name, profile.family_name)) {
      // The same answer as for a new address; the owner is told instead.
      if (auto existing = d.by_email(tx, email)) {
        d.mail_owner(tx, *existing, "federated_taken", d.mail_window("taken", email));
        d.audit_event(tx, "anonymous", "account.registration_repeated", existing->id);
      }
      return std::optional<Account>();
    }
    const auto& p = profile;
    tx.execute(
        "UPDATE accounts SET salutation = ?, birth_name = ?, doctoral_degree = ?, "
        "artistic_name = ?, birth_date = ?, birth_place = ?, street = ?, postcode = ?, city = ?, "
        "country = ? WHERE id = ?",
        p.salutation, p.birth_name, p.doctoral_degree, p.artistic_name, p.birth_date, p.birth_place,
        p.street, p.postcode, p.city, p.country.empty() ? "DE" : p.country, id);
    d.audit_event(tx, "account:" + id, "account.registered_federated", id);
    auto account = *d.by_email(tx, email);
    d.send_confirmation(tx, account, fmt::format("{} {}", p.given_name, p.family_name));
    return std::optional<Account>(account);
  });
}

core::Result<Account> Identity::find(std::string_view id) {
  auto row = impl_->db.query_one(
      fmt::format("SELECT {} FROM accounts WHERE id = ?", kAccountColumns), std::string(id));
  if (!row) return fail(Error::not_found("no such account"));
  return read_account(*row);
}

void Identity::tell_upstream_linked(std::string_view account_id) {
  auto& d = *impl_;
  auto account = find(account_id);
  if (!account) return;
  d.db.transaction([&](core::db::Tx& tx) { d.mail_owner(tx, *account, "upstream_linked"); });
}

core::Result<Account> Identity::update_profile(std::string_view id, const Profile& p) {
  auto account = find(id);
  if (!account) return account;
  const auto& loc = account->locale;
  Error invalid{core::ErrorCode::invalid_input, impl_->text(loc, "errors.summary"), {}, {}};
  auto check_length = [&](std::string_view field, const std::string& value) {
    if (value.size() > kMaxText)
      invalid.and_field(std::string(field), impl_->text(loc, "errors.too_long"));
  };
  check_length("salutation", p.salutation);
  check_length("birth_name", p.birth_name);
  check_length("doctoral_degree", p.doctoral_degree);
  check_length("artistic_name", p.artistic_name);
  check_length("birth_place", p.birth_place);
  check_length("street", p.street);
  check_length("city", p.city);
  if (p.given_name.empty() || p.given_name.size() > kMaxText) {
    invalid.and_field("given_name", impl_->text(loc, "errors.given_name"));
  }
  if (p.family_name.empty() || p.family_name.size() > kMaxText) {
    invalid.and_field("family_name", impl_->text(loc, "errors.family_name"));
  }
  if (!p.birth_date.empty() && !valid_date(p.birth_date)) {
    invalid.and_field("birth_date", impl_->text(loc, "errors.birth_date"));
  }
  static const std::regex kCountry("^[A-Z]{2}$");
  if (!std::regex_match(p.country, kCountry)) {
    invalid.and_field("country", impl_->text(loc, "errors.country"));
  }
  static const std::regex kGermanPostcode(R"(^\d{5}$)");
  if (p.country == "DE" && !p.postcode.empty() && !std::regex_match(p.postcode, kGermanPostcode)) {
    invalid.and_field("postcode", impl_->text(loc, "errors.postcode"));
  } else {
    check_length("postcode", p.postcode);
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  impl_->db.transaction([&](core::db::Tx& tx) {
    tx.execute(
        "UPDATE accounts SET salutation = ?, given_name = ?, family_name = ?, birth_name = ?, "
        "doctoral_degree = ?, artistic_name = ?, birth_date = ?, birth_place = ?, street = ?, "
        "postcode = ?, city = ?, country = ?, updated_at = ? WHERE id = ?",
        p.salutation, p.given_name, p.family_name, p.birth_name, p.doctoral_degree, p.artistic_name,
        p.birth_date, p.birth_place, p.street, p.postcode, p.city, p.country, impl_->now(),
        std::string(id));
    impl_->audit_event(tx, "account:" + std::string(id), "account.profile_changed",
                       std::string(id));
  });
  return find(id);
}

TotpEnrollment Identity::begin_totp(const Account& account) {
  auto secret = secrets::base32_encode(crypto::random_bytes(20));
  auto issuer = web::url_encode(impl_->options.site_name);
  auto uri =
      fmt::format("otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
                  issuer, web::url_encode(account.email), secret, issuer);
  return {secret, uri};
}

core::Result<RecoveryCodes> Identity::enable_totp(const SecondFactorChange& change) {
  auto& d = *impl_;
  auto account = find(change.account_id);
  if (!account) return fail(account.error());
  const auto& loc = account->locale;
  auto raw = secrets::base32_decode(change.secret);
  if (!raw || raw->size() != 20) return fail(Error::invalid("secret", "not a TOTP secret"));
  // Cheap checks first: the new code and what is missing, before any secret is tried.
  Error invalid{core::ErrorCode::invalid_input, d.text(loc, "errors.summary"), {}, {}};
  if (change.password.empty())
    invalid.and_field("password", d.text(loc, "errors.password_missing"));
  if (account->totp_enabled && digits_of(change.current_code).empty()) {
    invalid.and_field("current_code", d.text(loc, "errors.current_code_missing"));
  }
  auto step = secrets::totp_match(*raw, digits_of(change.code), d.now() / kTotpStepMs);
  if (!step) invalid.and_field("code", d.text(loc, "errors.totp"));
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  if (auto ok = d.reauthenticate(*account, change.password, change.source_address); !ok) {
    return fail(ok.error());
  }
  if (account->totp_enabled) {
    if (auto ok = d.check_code(account->id, change.current_code, "current_code"); !ok) {
      return fail(ok.error());
    }
  }
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<RecoveryCodes> {
    tx.lock_exclusive("totp:" + account->id);
    tx.execute(
        "UPDATE accounts SET totp_secret = ?, totp_last_step = ?, updated_at = ? WHERE id = ?",
        secrets::seal(d.totp_key, *raw), *step, d.now(), account->id);
    auto codes = d.replace_recovery_codes(tx, account->id);
    auto what = account->totp_enabled ? "totp_replaced" : "totp_enabled";
    // Grants a stolen session may have handed to relying parties end with the change.
    auto revoked = revoke_oidc_grants(tx, account->id);
    d.audit_event(tx, "account:" + account->id, fmt::format("account.{}", what), account->id,
                  fmt::format(R"({{"oidcGrantsRevoked":{}}})", revoked));
    d.mail_owner(tx, *account, what);
    return codes;
  });
}

core::Status Identity::remove_totp(const SecondFactorChange& change) {
  auto& d = *impl_;
  auto account = find(change.account_id);
  if (!account) return fail(account.error());
  const auto& loc = account->locale;
  if (!account->totp_enabled) return fail(Error::not_found("no second factor set up"));
  Error invalid{core::ErrorCode::invalid_input, d.text(loc, "errors.summary"), {}, {}};
  if (change.password.empty())
    invalid.and_field("password", d.text(loc, "errors.password_missing"));
  if (digits_of(change.current_code).empty()) {
    invalid.and_field("current_code", d.text(loc, "errors.current_code_missing"));
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  if (auto ok = d.reauthenticate(*account, change.password, change.source_address); !ok) return ok;
  if (auto ok = d.check_code(account->id, change.current_code, "current_code"); !ok) return ok;
  d.db.transaction([&](core::db::Tx& tx) {
    tx.lock_exclusive("totp:" + account->id);
    tx.execute("UPDATE accounts SET totp_secret = NULL, updated_at = ? WHERE id = ?", d.now(),
               account->id);
    tx.execute("DELETE FROM recovery_codes WHERE account_id = ?", account->id);
    auto revoked = revoke_oidc_grants(tx, account->id);
    d.audit_event(tx, "account:" + account->id, "account.totp_removed", account->id,
                  fmt::format(R"({{"oidcGrantsRevoked":{}}})", revoked));
    d.mail_owner(tx, *account, "totp_removed");
  });
  return {};
}

core::Status Identity::verify_totp(std::string_view account_id, std::string_view code) {
  return impl_->check_code(std::string(account_id), code, "code");
}

core::Result<Account> Identity::reauthenticate(const Reauthentication& input) {
  auto verified = login({.email = input.email,
                         .password = input.password,
                         .source_address = input.source_address,
                         .device_cookie = input.device_cookie});
  if (!verified) return fail(verified.error());
  if (verified->account.totp_enabled) {
    std::string code = input.code;
    std::erase(code, ' ');
    if (auto ok = verify_totp(verified->account.id, code); !ok) return fail(ok.error());
  }
  return verified->account;
}

}  // namespace mvsp::identity
