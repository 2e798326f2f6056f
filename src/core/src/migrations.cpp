#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/migrations.hpp>

namespace mvsp::core {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
    " checksum TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (component, version))";

void ensure_table(db::Database& db) {
  auto conn = db.acquire();
  conn->begin();
  try {
    conn->lock_exclusive("schema_migrations");
    conn->execute_script(kCreateTable);
    conn->commit();
  } catch (...) {
    conn->rollback();
    throw;
  }
}

}  // namespace

std::vector<Migration> migrations_from(std::string_view component,
                                       std::span<const Resource> resources) {
  std::vector<Migration> out;
  for (const auto& r : resources) {
    if (!r.path.starts_with("sql/") || !r.path.ends_with(".sql")) continue;
    std::string_view file = r.path.substr(4, r.path.size() - 8);
    std::size_t digits = 0;
    while (digits < file.size() && std::isdigit(static_cast<unsigned char>(file[digits]))) ++digits;
    if (digits == 0 || digits >= file.size() || file[digits] != '_') {
      throw Failure(fmt::format("migration {} must be named NNNN_name.sql", r.path));
    }
    Migration m;
    m.component = std::string(component);
    m.version = std::stoi(std::string(file.substr(0, digits)));
    m.name = std::string(file.substr(digits + 1));
    if (auto dot = m.name.find('.'); dot != std::string::npos) {
      m.dialect = m.name.substr(dot + 1);
      m.name.resize(dot);
      if (m.dialect != "postgresql" && m.dialect != "sqlite") {
        throw Failure(fmt::format("migration {} names no database (postgresql, sqlite)", r.path));
      }
    }
    m.sql = r.content;
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw Failure(fmt::format("two migrations of {} have version {}", component, out[i].version));
    }
  }
  return out;
}

MigrationReport migrate(db::Database& db, std::span<const Migration> migrations,
                        const Clock& clock) {
  ensure_table(db);
  MigrationReport report;
  for (const auto& m : migrations) {
    // a migration of one database is another one than the same SQL for both
    auto checksum = crypto::sha256_hex(m.dialect.empty() ? std::string(m.sql)
                                                         : m.dialect + "\n" + std::string(m.sql));
    bool applied = db.transaction([&](db::Tx& tx) {
      // One instance at a time, so that several starting together do not race.
      tx.lock_exclusive("schema_migrations");
      auto row = tx.query_one(
          "SELECT checksum, name FROM schema_migrations WHERE component = ? AND version = ?",
          m.component, m.version);
      if (row && row->text(1) != m.name) {
        throw Failure(fmt::format(
            "migration {}/{:04d} was applied as {} and is {} now: a version is never reused",
            m.component, m.version, row->text(1), m.name));
      }
      if (row) {
        if (row->text(0) != checksum) {
          throw Failure(fmt::format(
              "migration {}/{:04d}_{} was changed after it was applied; write a new migration "
              "instead",
              m.component, m.version, m.name));
        }
        return false;
      }
      auto here = tx.dialect() == db::Dialect::postgresql ? "postgresql" : "sqlite";
      if (m.dialect.empty() || m.dialect == here) tx.execute_script(m.sql);
      tx.execute(
          "INSERT INTO schema_migrations (component, version, name, checksum, applied_at) "
          "VALUES (?, ?, ?, ?, ?)",
          m.component, m.version, m.name, checksum, to_millis(clock.now()));
      return true;
    });
    if (applied) {
      auto name = fmt::format("{}/{:04d}_{}", m.component, m.version, m.name);
      log::info("migration.applied", {{"migration", name}});
      report.applied.push_back(std::move(name));
    }
  }
  return report;
}

std::size_t pending_migrations(db::Database& db, std::span<const Migration> migrations) {
  std::size_t pending = 0;
  auto conn = db.acquire();
  for (const auto& m : migrations) {
    try {
      if (!conn->query_one("SELECT 1 FROM schema_migrations WHERE component = ? AND version = ?",
                           m.component, m.version)) {
        ++pending;
      }
    } catch (const Failure&) {
      return migrations.size();  // no schema_migrations table yet
    }
  }
  return pending;
}

}  // namespace mvsp::core
