#pragma once
// Files under /static/ from a directory, with ETag, 304 and caching headers. Files are
// read once and kept in memory (the assets are small).

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <mvsp/web/http.hpp>
#include <optional>
#include <string>

namespace mvsp::web {

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root) : root_(std::move(root)) {}
  // The response for a GET/HEAD of "/static/…", or nothing when no such file exists.
  std::optional<Response> serve(const Request& req);
  const std::filesystem::path& root() const { return root_; }

 private:
  struct File {
    std::string content;
    std::string etag;
    std::string type;
  };
  std::shared_ptr<const File> load(const std::string& relative);

  std::filesystem::path root_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const File>> cache_;
};

}  // namespace mvsp::web
