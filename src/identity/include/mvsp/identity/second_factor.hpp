#pragma once
// TOTP as second factor, with recovery codes; codes throttled per account.
#include <memory>
#include <mvsp/identity/model.hpp>
#include <string_view>

namespace mvsp::identity {

class SecondFactor {
 public:
  explicit SecondFactor(std::shared_ptr<internal::Internals> internals)
      : impl_(std::move(internals)) {}

  TotpEnrollment begin_totp(const Account& account);
  // Turns TOTP on, or replaces the factor in place, when `code` matches the new secret,
  // the password is right and (when replacing) the current factor is proven. Returns new
  // recovery codes (the old ones end); the owner is told by mail; audited.
  core::Result<RecoveryCodes> enable_totp(const SecondFactorChange& change);
  // Turns the second factor off after password and current factor; tells the owner.
  core::Status remove_totp(const SecondFactorChange& change);
  // Checks a TOTP code or a recovery code (login, step-up); each is accepted once. Wrong
  // codes are throttled per account like passwords (rate_limited while a delay runs,
  // reserved before the code is checked) and audited.
  core::Status verify_totp(std::string_view account_id, std::string_view code);

 private:
  std::shared_ptr<internal::Internals> impl_;
};

}  // namespace mvsp::identity
