#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/web/sessions.hpp>
#include <sstream>

namespace mvsp::web {
namespace crypto = core::crypto;
namespace {

std::string encode_data(const std::map<std::string, std::string>& data) {
  Poco::JSON::Object obj;
  // a value that is not UTF-8 would make the stored JSON unreadable (and PostgreSQL refuses
  // to store it): its broken bytes become U+FFFD
  for (const auto& [k, v] : data) obj.set(core::repair_utf8(k), core::repair_utf8(v));
  std::ostringstream out;
  obj.stringify(out);
  return out.str();
}

// Data that does not read (a value that was not UTF-8 when it was written) is dropped, with
// a log entry: the session goes on without it instead of failing every request it makes.
std::map<std::string, std::string> decode_data(const std::string& text) {
  std::map<std::string, std::string> out;
  try {
    Poco::JSON::Parser parser;
    auto obj = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
    for (const auto& [k, v] : *obj) out[k] = v.toString();
  } catch (const std::exception& e) {
    core::log::warn("session.data_undecodable", {{"error", e.what()}});
    out.clear();
  }
  return out;
}

// Recording every page view would turn each read into a write; a minute is precise enough
// for idle expiry.
constexpr std::int64_t kTouchEveryMs = 60'000;

}  // namespace

SessionStore::SessionStore(core::db::Database& db, const core::Clock& clock, SessionOptions options)
    : db_(db), clock_(clock), options_(std::move(options)) {}

std::optional<Session> SessionStore::load(const std::string& token) {
  if (token.size() < 32 || token.size() > 64) return std::nullopt;
  auto row = db_.query_one(
      "SELECT csrf_token, account_id, data, created_at, last_seen_at, pending_account_id "
      "FROM sessions "
      "WHERE token_hash = ?",
      crypto::sha256_hex(token));
  if (!row) return std::nullopt;
  auto now = core::to_millis(clock_.now());
  auto created = row->integer(3);
  auto seen = row->integer(4);
  auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.idle).count();
  auto abs_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.absolute).count();
  if (now - seen > idle_ms || now - created > abs_ms) {
    db_.execute("DELETE FROM sessions WHERE token_hash = ?", crypto::sha256_hex(token));
    return std::nullopt;
  }
  Session s;
  s.token = token;
  s.csrf_token = row->text(0);
  s.account_id = row->text(1);
  s.pending_account_id = row->text(5);
  s.data = decode_data(row->text(2));
  s.created_at = core::from_millis(created);
  s.last_seen_at = core::from_millis(seen);
  if (now - seen > kTouchEveryMs) {
    db_.execute("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", now,
                crypto::sha256_hex(token));
    s.last_seen_at = core::from_millis(now);
  }
  return s;
}

Session SessionStore::create() {
  Session s;
  s.token = crypto::random_token(32);
  s.csrf_token = crypto::random_token(32);
  s.created_at = s.last_seen_at = clock_.now();
  s.is_new = true;
  insert(*db_.acquire(), s);
  return s;
}

void SessionStore::save(Session& s) {
  db_.execute(
      "UPDATE sessions SET account_id = ?, pending_account_id = ?, data = ? WHERE token_hash = ?",
      s.account_id, s.pending_account_id, encode_data(s.data), crypto::sha256_hex(s.token));
  s.dirty = false;
}

bool SessionStore::rotate(Session& s) {
  auto old_hash = crypto::sha256_hex(s.token);
  s.token = crypto::random_token(32);
  s.csrf_token = crypto::random_token(32);
  s.created_at = s.last_seen_at = clock_.now();
  s.is_new = true;
  s.dirty = false;
  return db_.transaction([&](core::db::Tx& tx) {
    if (tx.execute("DELETE FROM sessions WHERE token_hash = ?", old_hash) != 1) return false;
    insert(tx, s);
    return true;
  });
}

void SessionStore::insert(core::db::Connection& c, const Session& s) {
  c.execute(
      "INSERT INTO sessions (token_hash, csrf_token, account_id, pending_account_id, data, "
      "created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      crypto::sha256_hex(s.token), s.csrf_token, s.account_id, s.pending_account_id,
      encode_data(s.data), core::to_millis(s.created_at), core::to_millis(s.last_seen_at));
}

void SessionStore::begin_login(Session& s) {
  // Everything in a session belonged to the person who used it: another person who signs
  // in through the same browser must not act for the previous one's organisation.
  s.account_id.clear();
  s.pending_account_id.clear();
  s.data.clear();
  // An anonymous session that expired meanwhile starts afresh; nothing of it is kept.
  if (!rotate(s)) insert(*db_.acquire(), s);
}

void SessionStore::destroy(const Session& s) {
  db_.execute("DELETE FROM sessions WHERE token_hash = ?", crypto::sha256_hex(s.token));
}

std::int64_t SessionStore::purge_expired() {
  auto now = core::to_millis(clock_.now());
  auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.idle).count();
  auto abs_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.absolute).count();
  return db_.execute("DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?", now - idle_ms,
                     now - abs_ms);
}

std::string SessionStore::handle(const Session& s) {
  return crypto::sha256_hex(s.token).substr(0, 16);
}

std::vector<SessionInfo> SessionStore::list_for_account(const std::string& account_id) {
  std::vector<SessionInfo> out;
  if (account_id.empty()) return out;
  for (const auto& r : db_.query("SELECT token_hash, created_at, last_seen_at FROM sessions "
                                 "WHERE account_id = ? ORDER BY last_seen_at DESC",
                                 account_id)) {
    out.push_back({r.text(0).substr(0, 16), core::from_millis(r.integer(1)),
                   core::from_millis(r.integer(2))});
  }
  return out;
}

bool SessionStore::revoke(const std::string& account_id, const std::string& handle) {
  if (account_id.empty() || handle.size() != 16 ||
      handle.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return false;
  }
  return db_.execute("DELETE FROM sessions WHERE account_id = ? AND token_hash LIKE ?", account_id,
                     handle + "%") > 0;
}

std::int64_t SessionStore::revoke_all(const std::string& account_id) {
  if (account_id.empty()) return 0;
  return db_.execute("DELETE FROM sessions WHERE account_id = ? OR pending_account_id = ?",
                     account_id, account_id);
}

std::int64_t SessionStore::revoke_others(const std::string& account_id, const Session& keep) {
  if (account_id.empty()) return 0;
  return db_.execute(
      "DELETE FROM sessions WHERE (account_id = ? OR pending_account_id = ?) AND token_hash <> ?",
      account_id, account_id, crypto::sha256_hex(keep.token));
}

std::string SessionStore::expired_cookie() const {
  return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}", options_.cookie_name,
                     options_.secure_cookie ? "; Secure" : "");
}

std::string SessionStore::cookie(const Session& s) const {
  return fmt::format("{}={}; Path=/; HttpOnly; SameSite=Lax{}", options_.cookie_name, s.token,
                     options_.secure_cookie ? "; Secure" : "");
}

}  // namespace mvsp::web
