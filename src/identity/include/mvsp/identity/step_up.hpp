#pragma once
// The trust level of a signed-in session, and the way up when a page or a client needs
// more: a second factor for `substantial`, the eID at an upstream provider for `high`.

#include <chrono>
#include <mvsp/core/clock.hpp>
#include <mvsp/identity/accounts.hpp>
#include <optional>
#include <string>

namespace mvsp::web {
struct Session;
}

namespace mvsp::identity {

// The trust a session holds, kept under keys only these functions read and write: the
// level its login reached (`base`) and the level it was raised to since (`level`).
struct SessionTrust {
  TrustLevel base = TrustLevel::basic;
  TrustLevel level = TrustLevel::basic;
};
SessionTrust trust_of(const web::Session& session);
// A new login at `level` (also one that still waits for its second factor).
void set_login_level(web::Session& session, TrustLevel level);
// A raise to `level` (second factor, eID); never lowers, and keeps the login's base.
void raise_level(web::Session& session, TrustLevel level);

// The session's level; a raised level counts only for `step_up` after it was reached.
TrustLevel session_level(const web::Session& session, core::TimePoint now,
                         std::chrono::minutes step_up);

// Where to send a signed-in person whose session is below `required`, so that they come
// back to `next` (a local path) at that level; nothing when it cannot be reached here
// (`high` without an upstream eID provider, or the account is gone). Marks the session
// for the second-factor step when that is the way.
std::optional<std::string> step_up_location(Accounts& accounts, web::Session& session,
                                            TrustLevel required, bool has_upstream,
                                            const std::string& next);

}  // namespace mvsp::identity
