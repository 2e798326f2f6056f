#include <mvsp/identity/retention.hpp>

#include "internals.hpp"

namespace mvsp::identity {
using namespace internal;  // identity's own helpers (internals.hpp)

RetentionReport Retention::sweep() {
  auto& d = *impl_;
  RetentionReport out;
  auto now = d.now();
  constexpr std::int64_t kDayMs = 86'400'000;
  d.db.transaction([&](core::db::Tx& tx) {
    // What was single use or short-lived, a day after it ended (so that a late click still
    // finds "expired" in the logs of that day, not a gap).
    for (const char* sql : {"DELETE FROM email_tokens WHERE expires_at < ?",
                            "DELETE FROM organisation_invitations WHERE expires_at < ?",
                            "DELETE FROM staff_invitations WHERE expires_at < ?",
                            "DELETE FROM upstream_requests WHERE expires_at < ?",
                            "DELETE FROM oidc_assertions WHERE expires_at < ?"}) {
      out.expired_rows += tx.execute(sql, now - kDayMs);
    }
    // OpenID tokens by family (one origin: a code and its rotated refresh tokens), once
    // the family's last token ended: a rotated token shown again must still find its
    // family to end it (theft detection), and so must a code shown again.
    out.expired_rows += tx.execute(
        "DELETE FROM oidc_codes WHERE expires_at < ? AND code_hash NOT IN "
        "(SELECT origin FROM oidc_tokens WHERE expires_at >= ?)",
        now - kDayMs, now - kDayMs);
    out.expired_rows += tx.execute(
        "DELETE FROM oidc_tokens WHERE origin IN (SELECT origin FROM oidc_tokens GROUP BY origin "
        "HAVING MAX(expires_at) < ?)",
        now - kDayMs);
    // A throttle that blocks nothing and saw no attempt for a day counts from zero anyway.
    out.expired_rows += tx.execute(
        "DELETE FROM login_throttle WHERE blocked_until < ? AND updated_at < ?", now, now - kDayMs);
  });
  auto lifetime =
      std::chrono::duration_cast<std::chrono::milliseconds>(d.options.unconfirmed_account_lifetime)
          .count();
  // Only a citizen's registration that was never finished: no confirmation, never signed
  // in (password login does not wait for the confirmation), no role, membership or upstream
  // identity. Staff made without --verified and accounts in use stay.
  for (const auto& r : d.db.query(
           "SELECT a.id FROM accounts a WHERE a.kind = 'citizen' AND a.email_verified_at IS NULL "
           "AND a.created_at < ? "
           "AND NOT EXISTS (SELECT 1 FROM account_roles x WHERE x.account_id = a.id) "
           "AND NOT EXISTS (SELECT 1 FROM organisation_members x WHERE x.account_id = a.id) "
           "AND NOT EXISTS (SELECT 1 FROM identity_links x WHERE x.account_id = a.id) "
           "AND NOT EXISTS (SELECT 1 FROM audit_log x WHERE x.object_type = 'account' AND "
           "x.object_id = a.id AND x.action = 'account.password_verified') LIMIT 500",
           now - lifetime)) {
    // Still unconfirmed, and held so: the update locks the row (PostgreSQL), so a
    // confirmation at this moment waits and then finds nothing, or wins and is kept.
    bool erased = d.db.transaction([&](core::db::Tx& tx) {
      if (tx.execute("UPDATE accounts SET updated_at = updated_at WHERE id = ? AND "
                     "email_verified_at IS NULL",
                     r.text(0)) != 1) {
        return false;
      }
      d.erase_account(tx, r.text(0), "account.unconfirmed_deleted");
      return true;
    });
    if (erased) ++out.unconfirmed_accounts;
  }
  return out;
}

}  // namespace mvsp::identity
