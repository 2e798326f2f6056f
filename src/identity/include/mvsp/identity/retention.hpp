#pragma once
// Identity's retention sweep, run as the scheduled job `identity.retention`: what has
// expired goes (mailed links, invitations, half-finished upstream logins, OpenID codes, tokens and
// assertion ids, idle throttles), and so do accounts whose address was never confirmed within
// IdentityOptions::unconfirmed_account_lifetime, by the same deletion as any other account
// (account.deleted is published, so every component lets go of them).
#include <cstdint>
#include <memory>
#include <mvsp/identity/model.hpp>

namespace mvsp::identity {

struct RetentionReport {
  std::int64_t expired_rows = 0;
  std::int64_t unconfirmed_accounts = 0;
};

class Retention {
 public:
  explicit Retention(std::shared_ptr<internal::Internals> internals)
      : impl_(std::move(internals)) {}

  RetentionReport sweep();

 private:
  std::shared_ptr<internal::Internals> impl_;
};

}  // namespace mvsp::identity
