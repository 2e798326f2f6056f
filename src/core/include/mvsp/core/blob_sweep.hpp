#pragma once
// Removing documents that no row names any more. Blobs are content-addressed, so rows
// share them, and a blob is written before the row that names it. Each removal therefore
// asks the rows again under the blob's lock, which every transaction that writes a
// naming row holds shared (and writes the blob again if it has gone meanwhile).

#include <functional>
#include <mvsp/core/clock.hpp>
#include <string>
#include <string_view>

namespace mvsp::core {

class BlobStore;
namespace db {
class Connection;
class Database;
}  // namespace db

// How long a blob may wait for the row that names it before a sweep takes it for one
// whose row never came.
inline constexpr std::chrono::hours kUnnamedBlobGrace{1};

// Whether a row names blob `id`, asked inside the removal's transaction.
using NamesBlob = std::function<bool(db::Connection& tx, const std::string& id)>;

// Removes blob `id` unless a row names it; under the lock `lock_prefix` + id. True when
// it was removed.
bool remove_unless_named(db::Database& db, BlobStore& store, std::string_view lock_prefix,
                         const std::string& id, const NamesBlob& names);

// The sweep: every blob written before `before` that no row names (its row never came:
// the transaction failed or was refused), and unfinished writes from before then. Returns
// how many blobs it removed.
int remove_unnamed_blobs(db::Database& db, BlobStore& store, std::string_view lock_prefix,
                         TimePoint before, const NamesBlob& names);

}  // namespace mvsp::core
