#include <mvsp/identity/step_up.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/sessions.hpp>

namespace mvsp::identity {

namespace {

constexpr const char* kBase = "base_level";
constexpr const char* kLevel = "level";

std::optional<TrustLevel> stored(const web::Session& s, const char* key) {
  auto it = s.data.find(key);
  return it == s.data.end() ? std::nullopt : parse_level(it->second);
}

}  // namespace

SessionTrust trust_of(const web::Session& s) {
  auto level = stored(s, kLevel).value_or(TrustLevel::basic);
  return {stored(s, kBase).value_or(level), level};
}

void set_login_level(web::Session& s, TrustLevel level) {
  s.data[kBase] = std::string(level_name(level));
  s.data[kLevel] = std::string(level_name(level));
  s.dirty = true;
}

void raise_level(web::Session& s, TrustLevel level) {
  auto current = stored(s, kLevel);
  // Without a recorded login level, the login counts as what the session had, or low.
  if (!stored(s, kBase)) s.data[kBase] = std::string(level_name(current.value_or(TrustLevel::low)));
  if (!current || level > *current) s.data[kLevel] = std::string(level_name(level));
  s.dirty = true;
}

TrustLevel session_level(const web::Session& s, core::TimePoint now, std::chrono::minutes step_up) {
  auto trust = trust_of(s);
  // The level was raised when the session got its id (rotation on every raise).
  if (trust.level > trust.base && now - s.created_at > step_up) return trust.base;
  return trust.level;
}

std::optional<std::string> step_up_location(Accounts& accounts, web::Session& session,
                                            TrustLevel required, bool has_upstream,
                                            const std::string& next) {
  if (required > TrustLevel::substantial) {
    // `high` needs an electronic ID, which only an upstream provider confirms.
    if (!has_upstream) return std::nullopt;
    return "/anmelden/extern?level=high&next=" + web::url_encode(next);
  }
  auto account = accounts.find(session.account_id);
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
