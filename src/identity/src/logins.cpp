#include <mvsp/identity/logins.hpp>

#include "internals.hpp"

namespace mvsp::identity {
using namespace internal;  // identity's own helpers (internals.hpp)

core::Result<LoginResult> Logins::login(const LoginAttempt& attempt) {
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

core::Result<Account> Logins::reauthenticate(const Reauthentication& input) {
  auto verified = login({.email = input.email,
                         .password = input.password,
                         .source_address = input.source_address,
                         .device_cookie = input.device_cookie});
  if (!verified) return fail(verified.error());
  if (verified->account.totp_enabled) {
    std::string code = input.code;
    std::erase(code, ' ');
    if (auto ok = impl_->check_code(verified->account.id, code, "code"); !ok)
      return fail(ok.error());
  }
  return verified->account;
}

}  // namespace mvsp::identity
