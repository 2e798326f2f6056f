#include <algorithm>
#include <mvsp/core/blob_sweep.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/log.hpp>

namespace mvsp::core {

bool remove_unless_named(db::Database& db, BlobStore& store, std::string_view lock_prefix,
                         const std::string& id, const NamedAmong& named) {
  return db.transaction([&](db::Tx& tx) {
    tx.lock_exclusive(std::string(lock_prefix) + id);
    if (!named(tx, std::span(&id, 1)).empty()) return false;
    store.remove(id);
    return true;
  });
}

int remove_unnamed_blobs(db::Database& db, BlobStore& store, std::string_view lock_prefix,
                         TimePoint before, const NamedAmong& named) {
  constexpr std::size_t kChunk = 500;
  auto candidates = store.written_before(before);
  // First in bulk and without locks; only the ones no row names are asked again, each
  // under its lock, as they are removed.
  std::vector<std::string> unnamed;
  for (std::size_t at = 0; at < candidates.size(); at += kChunk) {
    std::span<const std::string> chunk(candidates.data() + at,
                                       std::min(kChunk, candidates.size() - at));
    auto found = named(*db.acquire(), chunk);
    std::ranges::sort(found);
    for (const auto& id : chunk) {
      if (!std::ranges::binary_search(found, id)) unnamed.push_back(id);
    }
  }
  if (unnamed.size() > 3 && unnamed.size() * 2 > candidates.size()) {
    log::error("blobs.sweep_refused",
               {{"unnamed", std::to_string(unnamed.size())},
                {"looked_at", std::to_string(candidates.size())},
                {"hint",
                 "most documents are named by no row: is this data directory used "
                 "with another database?"}});
    return 0;
  }
  int removed = 0;
  for (const auto& id : unnamed) {
    if (remove_unless_named(db, store, lock_prefix, id, named)) ++removed;
  }
  if (int unfinished = store.remove_unfinished_before(before); unfinished > 0) {
    log::info("blobs.unfinished_removed", {{"files", std::to_string(unfinished)}});
  }
  return removed;
}

}  // namespace mvsp::core
