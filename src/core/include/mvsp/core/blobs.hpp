#pragma once
// Documents at rest: files under the data directory, content-addressed, encrypted with
// libsodium's secretstream (XChaCha20-Poly1305) in 64 KiB chunks, streamed both ways.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::core {

struct BlobRef {
  std::string id;  // 64 hex characters: keyed hash of the plain content
  std::int64_t size = 0;
};

class BlobStore {
 public:
  // `key` is the 32-byte master key; the store derives its own keys from it. Creates
  // `root` when missing.
  BlobStore(std::filesystem::path root, std::string_view key);
  ~BlobStore();

  // Streams content in; call write() any number of times, then commit(). A writer dropped
  // without commit() leaves nothing behind.
  class Writer {
   public:
    ~Writer();
    Writer(Writer&&) noexcept;
    void write(std::string_view chunk);
    BlobRef commit();

   private:
    friend class BlobStore;
    struct State;
    explicit Writer(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
  };

  Writer writer();
  BlobRef put(std::istream& in);
  BlobRef put(std::string_view content);

  // Streams the plain content to `out`; not_found when absent, unavailable when the file
  // fails authentication (tampered, or another key).
  Status read(std::string_view id, std::ostream& out) const;
  // The whole content in memory, in one pass, checked before it is returned: for a
  // document that goes on into another store, not for streaming.
  Result<std::string> read_all(std::string_view id) const;
  bool exists(std::string_view id) const;
  void remove(std::string_view id);

  // For a sweep of what no row names any more: the ids of the blobs written before
  // `before` (content stored again later keeps its first time), and the removal of
  // unfinished writes (a crash mid-write) from before then; returns how many those were.
  std::vector<std::string> written_before(TimePoint before) const;
  int remove_unfinished_before(TimePoint before);

 private:
  std::filesystem::path path_of(std::string_view id) const;
  std::filesystem::path root_;
  std::string key_;     // encryption key
  std::string id_key_;  // key of the content hash, derived from `key_`
};

}  // namespace mvsp::core
