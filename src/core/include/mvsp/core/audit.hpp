#pragma once
// The append-only, hash-chained audit log: each entry carries the hash of the one before,
// so that verify() finds any entry altered or removed after the fact.

#include <cstdint>
#include <mvsp/core/clock.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::core {
namespace db {
class Database;
class Connection;
}  // namespace db

struct AuditEntry {
  std::string actor;        // "account:…", "client:…", "system", "operator:cli"
  std::string action;       // "notice.delivered", "session.login"
  std::string object_type;  // "notice"
  std::string object_id;
  std::string detail;  // JSON object, no secrets
};

struct AuditRecord {
  std::int64_t seq = 0;
  TimePoint at;
  std::string actor;
  std::string action;
  std::string detail;
};

struct AuditVerification {
  bool ok = true;
  std::int64_t entries = 0;
  std::optional<std::int64_t> first_bad_seq;  // the first entry that does not verify
  std::string problem;                        // what is wrong with it
};

class AuditLog {
 public:
  explicit AuditLog(const Clock& clock) : clock_(clock) {}

  // Appends inside the caller's transaction, so the change and its record commit
  // together. Returns the entry's sequence number.
  std::int64_t append(db::Connection& tx, const AuditEntry& entry);

  // The newest entries about one object, newest first (for a person's own history).
  std::vector<AuditRecord> entries_for(db::Database& db, std::string_view object_type,
                                       std::string_view object_id, int limit) const;

  // Walks the whole chain.
  AuditVerification verify(db::Database& db) const;

 private:
  const Clock& clock_;
};

}  // namespace mvsp::core
