#include <mvsp/identity/step_up.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/sessions.hpp>

namespace mvsp::identity {

TrustLevel session_level(const web::Session& s, core::TimePoint now, std::chrono::minutes step_up) {
  auto get = [&](const char* k) {
    auto it = s.data.find(k);
    return it == s.data.end() ? std::string() : it->second;
  };
  auto level = parse_level(get("level")).value_or(TrustLevel::basic);
  auto base = parse_level(get("base_level")).value_or(TrustLevel::basic);
  // The level was raised when the session got its id (rotation on every raise).
  if (level > base && now - s.created_at > step_up) return base;
  return level;
}

std::optional<std::string> step_up_location(Identity& identity, web::Session& session,
                                            TrustLevel required, bool has_upstream,
                                            const std::string& next) {
  if (required > TrustLevel::substantial) {
    // `high` needs an electronic ID, which only an upstream provider confirms.
    if (!has_upstream) return std::nullopt;
    return "/anmelden/extern?level=high&next=" + web::url_encode(next);
  }
  auto account = identity.find(session.account_id);
  if (!account) return std::nullopt;
  if (account->totp_enabled) {
    session.pending_account_id = account->id;
    session.dirty = true;
    return "/anmelden/zweiter-faktor?next=" + web::url_encode(next);
  }
  // A password-only account sets up the second factor now.
  return "/konto/zwei-faktor?next=" + web::url_encode(next);
}

}  // namespace mvsp::identity
