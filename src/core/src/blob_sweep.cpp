#include <mvsp/core/blob_sweep.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/log.hpp>

namespace mvsp::core {

bool remove_unless_named(db::Database& db, BlobStore& store, std::string_view lock_prefix,
                         const std::string& id, const NamesBlob& names) {
  return db.transaction([&](db::Tx& tx) {
    tx.lock_exclusive(std::string(lock_prefix) + id);
    if (names(tx, id)) return false;
    store.remove(id);
    return true;
  });
}

int remove_unnamed_blobs(db::Database& db, BlobStore& store, std::string_view lock_prefix,
                         TimePoint before, const NamesBlob& names) {
  int removed = 0;
  for (const auto& id : store.written_before(before)) {
    if (remove_unless_named(db, store, lock_prefix, id, names)) ++removed;
  }
  if (int unfinished = store.remove_unfinished_before(before); unfinished > 0) {
    log::info("blobs.unfinished_removed", {{"files", std::to_string(unfinished)}});
  }
  return removed;
}

}  // namespace mvsp::core
