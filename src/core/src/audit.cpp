#include <fmt/format.h>

#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/log.hpp>

namespace mvsp::core {
namespace {

struct Stored {
  std::int64_t seq;
  std::int64_t at;
  std::string actor, action, object_type, object_id, detail, correlation_id;
};

// Length-prefixed fields, so that no two different entries hash the same input.
std::string entry_hash(const std::string& prev_hash, const Stored& e) {
  std::string input;
  auto add = [&](std::string_view field) {
    input += std::to_string(field.size());
    input += ':';
    input += field;
    input += ';';
  };
  add(prev_hash);
  add(std::to_string(e.seq));
  add(std::to_string(e.at));
  add(e.actor);
  add(e.action);
  add(e.object_type);
  add(e.object_id);
  add(e.detail);
  add(e.correlation_id);
  return crypto::sha256_hex(input);
}

}  // namespace

std::int64_t AuditLog::append(db::Connection& tx, const AuditEntry& entry) {
  // Taking the next number locks the head's row until commit (PostgreSQL; SQLite's write
  // transactions are serial), so appends take turns; one statement, not a separate lock
  // and read, because every auditing transaction waits here.
  auto head = tx.query_one("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash");
  if (!head) throw Failure("audit_head is missing; run mvsp migrate");
  Stored e{head->integer(0),
           to_millis(clock_.now()),
           entry.actor,
           entry.action,
           entry.object_type,
           entry.object_id,
           entry.detail.empty() ? "{}" : entry.detail,
           log::correlation_id()};
  const std::string& prev = head->text(1);
  auto hash = entry_hash(prev, e);
  tx.execute_later(
      "INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, detail, "
      "correlation_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      e.seq, e.at, e.actor, e.action, e.object_type, e.object_id, e.detail, e.correlation_id, prev,
      hash);
  tx.execute_later("UPDATE audit_head SET hash = ? WHERE id = 1", hash);
  return e.seq;
}

std::vector<AuditRecord> AuditLog::entries_for(db::Database& db, std::string_view object_type,
                                               std::string_view object_id, int limit) const {
  std::vector<AuditRecord> out;
  for (const auto& r : db.query("SELECT seq, at, actor, action, detail FROM audit_log "
                                "WHERE object_type = ? AND object_id = ? ORDER BY seq DESC LIMIT ?",
                                object_type, object_id, limit)) {
    out.push_back({r.integer(0), from_millis(r.integer(1)), r.text(2), r.text(3), r.text(4)});
  }
  return out;
}

AuditVerification AuditLog::verify(db::Database& db) const {
  AuditVerification result;
  std::int64_t expected_seq = 1;
  std::string prev_hash;
  constexpr int kBatch = 1000;
  auto bad = [&](std::int64_t seq, std::string problem) {
    result.ok = false;
    result.first_bad_seq = seq;
    result.problem = std::move(problem);
    return result;
  };
  for (;;) {
    auto rows = db.query(
        "SELECT seq, at, actor, action, object_type, object_id, detail, correlation_id, "
        "prev_hash, hash FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?",
        expected_seq, kBatch);
    for (const auto& r : rows) {
      Stored e{r.integer(0), r.integer(1), r.text(2), r.text(3),
               r.text(4),    r.text(5),    r.text(6), r.text(7)};
      if (e.seq != expected_seq) {
        return bad(expected_seq, fmt::format("entry {} is missing", expected_seq));
      }
      if (r.text(8) != prev_hash) {
        return bad(e.seq, fmt::format("entry {} does not link to the entry before it", e.seq));
      }
      if (entry_hash(prev_hash, e) != r.text(9)) {
        return bad(e.seq, fmt::format("entry {} was altered", e.seq));
      }
      prev_hash = r.text(9);
      ++expected_seq;
      ++result.entries;
    }
    if (static_cast<int>(rows.size()) < kBatch) break;
  }
  auto head = db.query_one("SELECT seq, hash FROM audit_head WHERE id = 1");
  if (!head) return bad(expected_seq, "the chain's head record is missing");
  if (head->integer(0) != expected_seq - 1 || head->text(1) != prev_hash) {
    return bad(expected_seq,
               fmt::format("entries from {} to {} are missing", expected_seq, head->integer(0)));
  }
  return result;
}

}  // namespace mvsp::core
