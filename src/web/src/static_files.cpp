#include <fmt/format.h>

#include <fstream>
#include <mvsp/core/crypto.hpp>
#include <mvsp/web/static_files.hpp>
#include <sstream>

namespace mvsp::web {
namespace {

std::string content_type(const std::filesystem::path& p) {
  auto ext = p.extension().string();
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".woff") return "font/woff";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".json") return "application/json";
  return "application/octet-stream";
}

}  // namespace

std::shared_ptr<const StaticFiles::File> StaticFiles::load(const std::string& relative) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(relative); it != cache_.end()) return it->second;
  }
  auto full = (root_ / relative).lexically_normal();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(full, ec)) return nullptr;
  std::ifstream in(full, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto file = std::make_shared<File>();
  file->content = ss.str();
  file->etag = fmt::format("\"{}\"", core::crypto::sha256_hex(file->content).substr(0, 20));
  file->type = content_type(full);
  std::lock_guard lock(mutex_);
  cache_[relative] = file;
  return file;
}

std::optional<Response> StaticFiles::serve(const Request& req) {
  if (req.method != Method::get && req.method != Method::head) return std::nullopt;
  constexpr std::string_view kPrefix = "/static/";
  if (!req.path.starts_with(kPrefix)) return std::nullopt;
  std::string relative = req.path.substr(kPrefix.size());
  // No way out of the root: no "..", no absolute parts, no hidden files.
  if (relative.empty() || relative.find("..") != std::string::npos ||
      relative.find("/.") != std::string::npos || relative.front() == '.' ||
      relative.find('\\') != std::string::npos || relative.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  auto file = load(relative);
  if (!file) return std::nullopt;
  Response res;
  res.set_header("Content-Type", file->type);
  res.set_header("ETag", file->etag);
  res.set_header("Cache-Control", "public, max-age=86400");
  if (req.header("if-none-match") == file->etag) {
    res.status = 304;
    return res;
  }
  res.body = file->content;
  return res;
}

}  // namespace mvsp::web
