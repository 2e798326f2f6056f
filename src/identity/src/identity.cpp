#include <mvsp/identity/identity.hpp>

#include "internals.hpp"

namespace mvsp::identity {
using namespace internal;  // identity's own helpers (internals.hpp)

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
  static const std::vector<std::string> kRoles = {"editor",  "clerk",           "lead",
                                                  "cashier", "authority_admin", "operator"};
  return kRoles;
}

namespace {

std::shared_ptr<Internals> make_internals(core::db::Database& db, const core::Clock& clock,
                                          core::IdGenerator& ids, core::JobQueue& jobs,
                                          core::AuditLog& audit, const web::Catalog& catalog,
                                          IdentityOptions options) {
  if (options.key.size() != 32) throw core::Failure("identity needs a 32-byte key");
  auto internals = std::make_shared<Internals>(
      Internals{db, clock, ids, jobs, audit, catalog, std::move(options), {}, {}, {}});
  internals->totp_key = crypto::derive_key(internals->options.key, "mvspiden", 1);
  internals->device_key = crypto::derive_key(internals->options.key, "mvspiden", 2);
  internals->recovery_key = crypto::derive_key(internals->options.key, "mvspiden", 3);
  return internals;
}

}  // namespace

Identity::Identity(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                   core::JobQueue& jobs, core::AuditLog& audit, const web::Catalog& catalog,
                   IdentityOptions options)
    : Identity(make_internals(db, clock, ids, jobs, audit, catalog, std::move(options))) {}

Identity::Identity(const std::shared_ptr<internal::Internals>& internals)
    : accounts(internals),
      logins(internals),
      second_factor(internals),
      staff(internals),
      organisations(internals),
      retention(internals) {}

}  // namespace mvsp::identity
