#pragma once
// Documents at rest: files under the data directory, content-addressed, encrypted with
// libsodium's secretstream (XChaCha20-Poly1305) in 64 KiB chunks, streamed both ways.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <mvsp/core/error.hpp>
#include <string>
#include <string_view>

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
  bool exists(std::string_view id) const;
  void remove(std::string_view id);

 private:
  std::filesystem::path path_of(std::string_view id) const;
  std::filesystem::path root_;
  std::string key_;     // encryption key
  std::string id_key_;  // key of the content hash, derived from `key_`
};

}  // namespace mvsp::core
