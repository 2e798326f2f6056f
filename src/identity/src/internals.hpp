#pragma once
// What identity's parts (accounts, logins, second factor, staff, organisations) share:
// the database and ports, the derived keys, throttles, tokens and mails. Private to
// src/identity; each part holds it through a shared pointer made by identity::Identity.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/mail.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/identity/model.hpp>
#include <mvsp/web/templates.hpp>
#include <regex>

#include "secrets.hpp"

// In their own namespace, so that no helper here meets a name of another file of
// identity (the parts' sources use them with `using namespace internal`).
namespace mvsp::identity::internal {
namespace crypto = core::crypto;
using core::Error;
using core::fail;

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

inline std::size_t characters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char ch) {
    return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  }));
}

inline bool valid_new_password(std::string_view password) {
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
inline std::string client_network(std::string_view address) {
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

inline core::Error too_many(std::int64_t wait_ms) {
  return Error::rate_limited("Too many attempts.", std::chrono::seconds((wait_ms + 999) / 1000));
}

inline std::string digits_of(std::string_view code) {
  std::string out;
  for (char ch : code) {
    if (ch >= '0' && ch <= '9') out += ch;
  }
  return out;
}

inline Account read_account(const core::db::Row& r) {
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

inline std::string normalize_email(std::string_view email) {
  auto begin = email.find_first_not_of(" \t");
  auto end = email.find_last_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  std::string out(email.substr(begin, end - begin + 1));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

inline bool valid_email(const std::string& email) {
  static const std::regex kShape(R"(^[^@\s]+@[^@\s]+\.[^@\s]+$)");
  return email.size() <= 254 && std::regex_match(email, kShape);
}

inline bool valid_date(const std::string& d) {
  static const std::regex kShape(R"(^(\d{4})-(\d{2})-(\d{2})$)");
  std::smatch m;
  if (!std::regex_match(d, m, kShape)) return false;
  int year = std::stoi(m[1]), month = std::stoi(m[2]), day = std::stoi(m[3]);
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  return ymd.ok() && year >= 1900;
}

// What the OpenID provider gave for the account (codes, access and refresh tokens) ends with
// the password that signed the person in, and with the account itself; in the caller's
// transaction, so no token outlives the change. Returns how many there were.
inline std::int64_t revoke_oidc_grants(core::db::Connection& tx, const std::string& account_id) {
  return tx.execute("DELETE FROM oidc_codes WHERE account_id = ?", account_id) +
         tx.execute("DELETE FROM oidc_tokens WHERE account_id = ?", account_id);
}

struct Internals {
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

  core::Result<Account> account(std::string_view id) {
    auto row = db.query_one(fmt::format("SELECT {} FROM accounts WHERE id = ?", kAccountColumns),
                            std::string(id));
    if (!row) return fail(Error::not_found("no such account"));
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
    auto body = core::fill_placeholders(
        text(a.locale,
             upstream_person.empty() ? "mail.confirm_body" : "mail.confirm_federated_body"),
        {{"link", link}, {"name", upstream_person}});
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
    // Invitations to the address, and memberships; an organisation nobody is left in goes
    // with its last member.
    tx.execute("DELETE FROM organisation_invitations WHERE email = ?", row->text(0));
    tx.execute("DELETE FROM staff_invitations WHERE email = ?", row->text(0));
    std::vector<std::string> organisations;
    for (const auto& m : tx.query("SELECT organisation_id FROM organisation_members WHERE "
                                  "account_id = ? ORDER BY organisation_id",
                                  id)) {
      organisations.push_back(m.text(0));
    }
    // As every change of members does, so that two last members leaving at once do not
    // each see the other and leave an empty organisation behind.
    for (const auto& org : organisations) tx.lock_exclusive("organisation:" + org);
    tx.execute("DELETE FROM organisation_members WHERE account_id = ?", id);
    for (const auto& org : organisations) {
      if (tx.query_one("SELECT 1 FROM organisation_members WHERE organisation_id = ?", org)) {
        if (!tx.query_one("SELECT 1 FROM organisation_members WHERE organisation_id = ? AND "
                          "role = 'admin'",
                          org)) {
          succeed_admin(tx, org, id);
        }
        continue;
      }
      tx.execute("DELETE FROM organisation_invitations WHERE organisation_id = ?", org);
      tx.execute("DELETE FROM organisations WHERE id = ?", org);
      jobs.publish(tx, kOrganisationDeleted, fmt::format(R"({{"ownerId":"{}"}})", org));
    }
    tx.execute("DELETE FROM accounts WHERE id = ?", id);
    // Every component that keeps something of the person acts on this, in its own job.
    jobs.publish(tx, kAccountDeleted, fmt::format(R"({{"ownerId":"{}"}})", id));
    audit_event(tx, "account:" + id, std::string(action), id,
                fmt::format(R"({{"oidcGrantsRevoked":{}}})", revoked));
  }

  // The last admin's account `gone` was deleted: the member who joined first becomes admin,
  // so that someone can still invite, remove and answer for the organisation (removing the
  // last admin by hand is refused; a person's deletion is not). Told by mail; audited.
  void succeed_admin(core::db::Connection& tx, const std::string& org, const std::string& gone) {
    auto next = tx.query_one(
        "SELECT m.account_id, a.email, a.locale, o.name FROM organisation_members m "
        "JOIN accounts a ON a.id = m.account_id JOIN organisations o ON o.id = m.organisation_id "
        "WHERE m.organisation_id = ? ORDER BY m.joined_at, m.account_id LIMIT 1",
        org);
    if (!next) return;
    tx.execute(
        "UPDATE organisation_members SET role = 'admin' WHERE organisation_id = ? AND "
        "account_id = ?",
        org, next->text(0));
    audit.append(tx,
                 {.actor = "system",
                  .action = "organisation.admin_succeeded",
                  .object_type = "organisation",
                  .object_id = org,
                  .detail = fmt::format(R"({{"admin":"{}","after":"{}"}})", next->text(0), gone)});
    const auto& locale = next->text(2);
    auto link = options.public_url + "/konto/organisationen";
    auto body = core::fill_placeholders(text(locale, "mail.organisation_admin_body"),
                                        {{"organisation", next->text(3)}, {"link", link}});
    core::queue_mail(jobs, tx,
                     {next->text(1), text(locale, "mail.organisation_admin_subject"), body});
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

}  // namespace mvsp::identity::internal
