#pragma once
// Removing documents that no row names any more. Blobs are content-addressed, so rows
// share them, and a blob is written before the row that names it. Each removal therefore
// asks the rows again under the blob's lock, which every transaction that writes a
// naming row holds shared (and writes the blob again if it has gone meanwhile).

#include <chrono>
#include <functional>
#include <mvsp/core/clock.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::core {

class BlobStore;
namespace db {
class Connection;
class Database;
}  // namespace db

// How long a blob may wait for the row that names it before a sweep takes it for one
// whose row never came.
inline constexpr std::chrono::hours kUnnamedBlobGrace{1};
// How often the sweep walks a store (every file of it): such blobs are rare.
inline constexpr std::chrono::hours kUnnamedBlobSweepPeriod{24};

// Which of `ids` a row names (at most a few hundred at a time), asked on the connection
// given: in bulk, or inside the removal's transaction for one.
using NamedAmong =
    std::function<std::vector<std::string>(db::Connection& c, std::span<const std::string> ids)>;

// Removes blob `id` unless a row names it; under the lock `lock_prefix` + id. True when
// it was removed.
bool remove_unless_named(db::Database& db, BlobStore& store, std::string_view lock_prefix,
                         const std::string& id, const NamedAmong& named);

// The sweep: every blob written before `before` that no row names (its row never came:
// the transaction failed or was refused), and unfinished writes from before then. Returns
// how many blobs it removed. It removes nothing, and logs an error, when more than half of
// the blobs it looked at (and more than a few) are named by no row: that is a data
// directory used with another database, not failed writes.
int remove_unnamed_blobs(db::Database& db, BlobStore& store, std::string_view lock_prefix,
                         TimePoint before, const NamedAmong& named);

}  // namespace mvsp::core
