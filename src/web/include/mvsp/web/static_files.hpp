#pragma once
// Files under /static/ from one directory, with ETag and Last-Modified (304 on a match),
// byte ranges (206, 416) and pre-compressed variants ("x.css.br", "x.css.gz" beside "x.css",
// sent to clients that accept them). Only regular files inside the directory are served
// (after symbolic links are resolved); every other path is "not here". Small files are kept
// in memory within a bound and sent from there without a copy; larger ones are streamed
// from the disk.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <mvsp/web/http.hpp>
#include <optional>
#include <string>

namespace mvsp::web {

struct StaticLimits {
  std::size_t cache_bytes = 32 * 1024 * 1024;   // all cached files together
  std::size_t cached_file_bytes = 1024 * 1024;  // larger files are read on each request
};

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root, StaticLimits limits = {});
  // Whether serve() may read the disk, or answers only from what it holds in memory.
  enum Reach { any, only_held };
  // The response for a GET/HEAD of "/static/…", or nothing when no such file exists (or,
  // with only_held, when the file is not held in memory).
  std::optional<Response> serve(const Request& req, Reach reach = any);
  const std::filesystem::path& root() const { return root_; }
  // The file that "/static/<relative>" names, or nothing when it names none inside the root.
  std::optional<std::filesystem::path> resolve(std::string_view relative) const;
  // What the cache holds now, in bytes (never more than the limit).
  std::size_t cached_bytes();

 private:
  // One representation of a file: as it is, or one of its pre-compressed variants.
  struct Variant {
    std::filesystem::path path;
    std::uint64_t size = 0;
    std::string etag;
    std::shared_ptr<const std::string> content;  // for small files
  };
  struct File {
    std::string type;
    std::string last_modified;
    Variant identity;
    std::optional<Variant> br;
    std::optional<Variant> gzip;
    std::size_t held_bytes() const;
  };
  std::optional<Variant> variant(const std::filesystem::path& path, std::string_view suffix);
  std::shared_ptr<const File> load(const std::string& relative);
  void remember(const std::string& relative, std::shared_ptr<const File> file);

  std::filesystem::path root_;  // canonical
  StaticLimits limits_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const File>> cache_;
  std::deque<std::string> order_;  // oldest first, for eviction
  std::size_t cached_bytes_ = 0;
};

}  // namespace mvsp::web
