#pragma once
// Ordered schema migrations per component, recorded in `schema_migrations`.

#include <mvsp/core/resources.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::core {
class Clock;
namespace db {
class Database;
}

struct Migration {
  std::string component;
  int version = 0;       // from the file name "sql/0003_add_index.sql"
  std::string name;      // "add_index"
  std::string_view sql;  // portable SQL, several statements allowed
  // "postgresql" or "sqlite" for a file named "NNNN_name.postgresql.sql" (a setting only one
  // database has, such as a column's statistics target); "" for both. On the other database
  // it is recorded as applied without running, so that every instance has the same versions.
  std::string dialect;
};

// The migrations among a component's embedded resources, ordered by version. Throws
// core::Failure when two files share a version, a name does not start with digits or names
// another database.
std::vector<Migration> migrations_from(std::string_view component,
                                       std::span<const Resource> resources);

struct MigrationReport {
  std::vector<std::string> applied;  // "core/0001_core", in the order applied
};

// Applies every migration not yet recorded, each in its own transaction together with its
// record; safe when several instances start at once. Throws core::Failure when an applied
// migration's text has changed since (its checksum differs).
MigrationReport migrate(db::Database& db, std::span<const Migration> migrations,
                        const Clock& clock);

// How many of `migrations` are not applied yet (for /readyz).
std::size_t pending_migrations(db::Database& db, std::span<const Migration> migrations);

}  // namespace mvsp::core
