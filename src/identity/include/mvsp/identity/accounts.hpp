#pragma once
// Citizen and staff accounts: registration with e-mail confirmation, the profile,
// password reset, the own history, deletion (DSGVO Art. 17), accounts made through an
// upstream login.
#include <memory>
#include <mvsp/identity/model.hpp>
#include <string_view>

namespace mvsp::identity {

class Accounts {
 public:
  explicit Accounts(std::shared_ptr<internal::Internals> internals) : impl_(std::move(internals)) {}

  // For operators and scripts (`mvsp user create`).
  core::Result<Account> create_account(const NewAccount& input, std::string_view actor);
  // Self-registration. Sends the confirmation mail; when the address is taken, sends a
  // note to its owner instead, so the page never tells whether an address is registered.
  // Throttled per client and per address typed (rate_limited, with retry_after)
  // before the password is hashed or a mail is queued.
  core::Status register_citizen(const Registration& input);
  core::Result<Account> confirm_email(std::string_view token);
  // Sends a link to set a new password when the address has an account; the answer is the
  // same either way. At most one mail per account every 5 minutes; throttled per client
  // and per address typed.
  core::Status request_password_reset(std::string_view email, std::string_view locale,
                                      std::string_view source_address);
  // Sets the new password from a reset link (single use, 60 minutes); the link is checked
  // before the password is hashed. The caller ends the account's sessions.
  core::Result<Account> reset_password(const PasswordReset& input);
  // The account's own history, newest first.
  std::vector<Activity> activity(std::string_view account_id, int limit);
  // Deletes the account after checking its password and, when one is set up, its second
  // factor (DSGVO Art. 17): a stolen session alone deletes nothing. The audit log keeps
  // the account's id, never its personal data. The caller ends the account's sessions.
  core::Status delete_account(const AccountDeletion& request);
  // The same for a person the caller has just identified otherwise (a fresh login through
  // an upstream provider), e.g. an account made from the eID that has no known password.
  core::Status delete_account_reauthenticated(std::string_view account_id);
  // A citizen account for a person an upstream provider identified: the profile from
  // there, an unknown password (one can be set with "Passwort vergessen") and a
  // confirmation mail for `email`, which the person chose. When the address is taken,
  // nothing is created (an empty result) and its owner gets a note by mail instead; the
  // caller answers both alike, so the page never tells whether an address is registered.
  // Throttled per client like a registration, before argon2.
  core::Result<std::optional<Account>> create_federated_account(const Profile& profile,
                                                                std::string_view email,
                                                                std::string_view locale,
                                                                std::string_view source_address);
  core::Result<Account> find(std::string_view id);
  std::optional<Account> find_by_email(std::string_view email);
  // Tells the owner by mail that an upstream provider was linked to the account (if it
  // was not them, they know to unlink it and change the password).
  void tell_upstream_linked(std::string_view account_id);
  core::Result<Account> update_profile(std::string_view id, const Profile& profile);

 private:
  std::shared_ptr<internal::Internals> impl_;
};

}  // namespace mvsp::identity
