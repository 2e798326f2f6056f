#pragma once
// Password login with throttling per client, per login name and device cookies; proving
// again that a person holds an account (password and second factor).
#include <memory>
#include <mvsp/identity/model.hpp>
#include <string_view>

namespace mvsp::identity {

class Logins {
 public:
  explicit Logins(std::shared_ptr<internal::Internals> internals) : impl_(std::move(internals)) {}

  // Password check with throttling per source address and per login name: the same
  // answer for an unknown address and a wrong password; rate_limited while a delay runs.
  // The attempt is reserved (counted) in the database before the password is hashed, so
  // parallel guesses are each counted; a success clears the count.
  // A browser that logged in before (valid device cookie) is not held by the per-login
  // delay, so an attacker cannot lock the owner out.
  core::Result<LoginResult> login(const LoginAttempt& attempt);
  // Proves that the person holds the account now: its password and, where one is set up,
  // its second factor (TOTP or recovery code), with the throttles of a login. For changes
  // that add a lasting way in, such as linking an upstream identity. unauthenticated when
  // address or password is wrong (not saying which); invalid_input "code" for the code.
  core::Result<Account> reauthenticate(const Reauthentication& input);

 private:
  std::shared_ptr<internal::Internals> impl_;
};

}  // namespace mvsp::identity
