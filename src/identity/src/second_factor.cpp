#include <mvsp/identity/second_factor.hpp>
#include <mvsp/web/http.hpp>

#include "internals.hpp"

namespace mvsp::identity {
using namespace internal;  // identity's own helpers (internals.hpp)

TotpEnrollment SecondFactor::begin_totp(const Account& account) {
  auto secret = secrets::base32_encode(crypto::random_bytes(20));
  auto issuer = web::url_encode(impl_->options.site_name);
  auto uri =
      fmt::format("otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
                  issuer, web::url_encode(account.email), secret, issuer);
  return {secret, uri};
}

core::Result<RecoveryCodes> SecondFactor::enable_totp(const SecondFactorChange& change) {
  auto& d = *impl_;
  auto account = impl_->account(change.account_id);
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

core::Status SecondFactor::remove_totp(const SecondFactorChange& change) {
  auto& d = *impl_;
  auto account = impl_->account(change.account_id);
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

core::Status SecondFactor::verify_totp(std::string_view account_id, std::string_view code) {
  return impl_->check_code(std::string(account_id), code, "code");
}

}  // namespace mvsp::identity
