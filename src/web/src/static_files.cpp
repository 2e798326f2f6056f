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

// A name we serve: printable ASCII, not hidden, not "." or "..".
bool plain_segment(std::string_view seg) {
  if (seg.empty() || seg.front() == '.') return false;
  for (unsigned char c : seg) {
    if (c <= 0x20 || c >= 0x7f || c == '\\' || c == ':') return false;
  }
  return true;
}

// Whether `path` is `root` or lies below it, compared part by part.
bool inside(const std::filesystem::path& root, const std::filesystem::path& path) {
  auto r = root.begin();
  auto p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (p == path.end() || *r != *p) return false;
  }
  return true;
}

}  // namespace

StaticFiles::StaticFiles(std::filesystem::path root, StaticLimits limits) : limits_(limits) {
  std::error_code ec;
  auto canonical = std::filesystem::canonical(root, ec);
  root_ = ec ? std::filesystem::absolute(root).lexically_normal() : canonical;
}

std::optional<std::filesystem::path> StaticFiles::resolve(std::string_view relative) const {
  // Only relative names of plain segments ("kern/kern.css"): no leading or double slash,
  // no "." or "..", no hidden files, nothing a decoder may have turned into a separator.
  if (relative.empty() || relative.size() > 512) return std::nullopt;
  std::string_view rest = relative;
  while (true) {
    auto slash = rest.find('/');
    if (!plain_segment(rest.substr(0, slash))) return std::nullopt;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  // Then what the file system makes of it (symbolic links included) must stay inside.
  std::error_code ec;
  auto full = std::filesystem::canonical(root_ / std::filesystem::path(relative), ec);
  if (ec || !inside(root_, full) || !std::filesystem::is_regular_file(full, ec)) {
    return std::nullopt;
  }
  return full;
}

std::shared_ptr<const StaticFiles::File> StaticFiles::load(const std::string& relative) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(relative); it != cache_.end()) return it->second;
  }
  auto full = resolve(relative);
  if (!full) return nullptr;
  std::ifstream in(*full, std::ios::binary);
  if (!in) return nullptr;
  std::stringstream ss;
  ss << in.rdbuf();
  auto file = std::make_shared<File>();
  file->content = ss.str();
  file->etag = fmt::format("\"{}\"", core::crypto::sha256_hex(file->content).substr(0, 20));
  file->type = content_type(*full);
  if (file->content.size() <= limits_.cached_file_bytes) remember(relative, file);
  return file;
}

void StaticFiles::remember(const std::string& relative, std::shared_ptr<const File> file) {
  std::lock_guard lock(mutex_);
  if (cache_.contains(relative)) return;
  cached_bytes_ += file->content.size();
  cache_.emplace(relative, std::move(file));
  order_.push_back(relative);
  while (cached_bytes_ > limits_.cache_bytes && !order_.empty()) {
    auto oldest = cache_.find(order_.front());
    cached_bytes_ -= oldest->second->content.size();
    cache_.erase(oldest);
    order_.pop_front();
  }
}

std::size_t StaticFiles::cached_bytes() {
  std::lock_guard lock(mutex_);
  return cached_bytes_;
}

std::optional<Response> StaticFiles::serve(const Request& req) {
  if (req.method != Method::get && req.method != Method::head) return std::nullopt;
  constexpr std::string_view kPrefix = "/static/";
  if (!req.path.starts_with(kPrefix)) return std::nullopt;
  auto file = load(req.path.substr(kPrefix.size()));
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
