#pragma once
// Server-side sessions in the database. The cookie carries a random token; the table
// keeps only its hash. Sessions end after an idle time and after an absolute time.

#include <chrono>
#include <map>
#include <mvsp/core/clock.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mvsp::core::db {
class Database;
class Connection;
}  // namespace mvsp::core::db

namespace mvsp::web {

struct Session {
  std::string token;  // the cookie value; never stored, never logged
  std::string csrf_token;
  std::string account_id;  // empty while anonymous
  // Between the password and the second factor: the account signing in. Revoking an
  // account's sessions ends these too.
  std::string pending_account_id;
  std::map<std::string, std::string> data;
  core::TimePoint created_at;
  core::TimePoint last_seen_at;
  bool is_new = false;  // the cookie must be sent
  bool dirty = false;   // data changed: save at the end of the request
};

struct SessionOptions {
  std::chrono::minutes idle{30};
  std::chrono::hours absolute{12};
  std::string cookie_name = "mvsp_session";
  bool secure_cookie = false;  // set when the public URL is https
};

// A session as its owner sees it in the list of their sessions.
struct SessionInfo {
  std::string id;  // a public handle (a prefix of the token hash), never the token
  core::TimePoint created_at;
  core::TimePoint last_seen_at;
};

class SessionStore {
 public:
  SessionStore(core::db::Database& db, const core::Clock& clock, SessionOptions options);

  std::optional<Session> load(const std::string& token);
  Session create();
  void save(Session& session);
  // Gives the session a new token (and CSRF token) and drops the old one, keeping its
  // data: for the same person's change of privilege (second factor, step-up). False, and
  // nothing stored, when the old session was ended meanwhile (revoked by a password reset
  // or a change of the second factor while this request ran): it must not come back.
  [[nodiscard]] bool rotate(Session& session);
  // The same at a login: the session starts over with nothing of whoever used it before
  // (account, level, organisation, pending steps). The caller signs the new person in.
  // The language is a cookie of its own and stays.
  void begin_login(Session& session);
  void destroy(const Session& session);
  // The public handle of a session, as in SessionInfo::id.
  static std::string handle(const Session& session);
  std::vector<SessionInfo> list_for_account(const std::string& account_id);
  // Ends one of the account's sessions by its handle; false when there is none.
  bool revoke(const std::string& account_id, const std::string& handle);
  // Ends every session of the account (password reset, account deletion).
  std::int64_t revoke_all(const std::string& account_id);
  // Ends every session of the account but `keep` (a change of the second factor: a stolen
  // session elsewhere must not outlive it).
  std::int64_t revoke_others(const std::string& account_id, const Session& keep);

  // Deletes expired sessions; returns how many.
  std::int64_t purge_expired();

  std::string cookie(const Session& session) const;
  // The Set-Cookie value that removes the session cookie from the browser.
  std::string expired_cookie() const;
  const SessionOptions& options() const { return options_; }

 private:
  static void insert(core::db::Connection& c, const Session& s);

  core::db::Database& db_;
  const core::Clock& clock_;
  SessionOptions options_;
};

}  // namespace mvsp::web
