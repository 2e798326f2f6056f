#pragma once
// Private to core: the two drivers behind db::Database::open.

#include <memory>
#include <mvsp/core/db.hpp>
#include <string>

namespace mvsp::core::db {

std::unique_ptr<Database> open_sqlite(const std::string& path, const PoolOptions& options);
std::unique_ptr<Database> open_postgresql(const std::string& url, const PoolOptions& options);

// Turns the portable parameter marks `?` into PostgreSQL's `$1, $2, …`, leaving quoted text alone.
std::string numbered_parameters(std::string_view sql);

}  // namespace mvsp::core::db
