#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/web/static_files.hpp>

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
  if (ext == ".map") return "application/json";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".webp") return "image/webp";
  if (ext == ".pdf") return "application/pdf";
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

using core::trim;

// Whether an Accept-Encoding value accepts `coding` (by name or "*", with a q above 0).
bool accepts(std::string_view header, std::string_view coding) {
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    auto semicolon = item.find(';');
    auto name = trim(item.substr(0, semicolon));
    bool named = name.size() == coding.size() &&
                 std::equal(name.begin(), name.end(), coding.begin(), [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) == b;
                 });
    if (!named && name != "*") continue;
    if (semicolon == std::string_view::npos) return true;
    auto param = trim(item.substr(semicolon + 1));
    if (!param.starts_with("q=") && !param.starts_with("Q=")) return true;
    auto q = trim(param.substr(2));
    // q=0, q=0.0, q=0.00, q=0.000 refuse; any other value accepts.
    return q.find_first_not_of("0.") != std::string_view::npos;
  }
  return false;
}

// Whether an If-None-Match value names `etag` (weak comparison, RFC 9110 13.1.2) or is "*".
bool etag_matches(std::string_view header, std::string_view etag) {
  if (trim(header) == "*") return true;
  while (!header.empty()) {
    auto comma = header.find(',');
    auto tag = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::stoull(std::string(s));
}

// One byte range of a Range header (RFC 9110 14.1.2) as offset and length; a length of 0
// when it cannot be satisfied; nothing when the header is not one range of bytes we read
// (several ranges, other units, bad syntax), which means "send the whole file".
std::optional<std::pair<std::uint64_t, std::uint64_t>> byte_range(std::string_view header,
                                                                  std::uint64_t size) {
  header = trim(header);
  if (!header.starts_with("bytes=")) return std::nullopt;
  auto spec = trim(header.substr(6));
  auto dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    return std::nullopt;
  }
  auto first = trim(spec.substr(0, dash));
  auto last = trim(spec.substr(dash + 1));
  if (first.empty()) {  // the last N bytes
    auto n = number(last);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return std::pair<std::uint64_t, std::uint64_t>{0, 0};
    auto take = std::min(*n, size);
    return std::pair{size - take, take};
  }
  auto start = number(first);
  if (!start) return std::nullopt;
  std::uint64_t end = size == 0 ? 0 : size - 1;
  if (!last.empty()) {
    auto e = number(last);
    if (!e || *e < *start) return std::nullopt;
    end = std::min(*e, end);
  }
  if (*start >= size) return std::pair<std::uint64_t, std::uint64_t>{0, 0};
  return std::pair{*start, end - *start + 1};
}

}  // namespace

StaticFiles::StaticFiles(std::filesystem::path root, StaticLimits limits) : limits_(limits) {
  std::error_code ec;
  auto canonical = std::filesystem::canonical(root, ec);
  root_ = ec ? std::filesystem::absolute(root).lexically_normal() : canonical;
  // Every page links its style sheet from here: say so at start, not as 404s later.
  if (!std::filesystem::is_directory(root_, ec)) {
    core::log::warn("static.missing", {{"path", root_.string()},
                                       {"hint",
                                        "no static files: build the target static_assets, or set "
                                        "[server] static_dir"}});
  }
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

std::size_t StaticFiles::File::held_bytes() const {
  std::size_t n = 0;
  for (const auto* v : {&identity, br ? &*br : nullptr, gzip ? &*gzip : nullptr}) {
    if (v && v->content) n += v->content->size();
  }
  return n;
}

std::optional<StaticFiles::Variant> StaticFiles::variant(const std::filesystem::path& path,
                                                         std::string_view suffix) {
  auto full = path;
  full += suffix;
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  // A variant lies beside its file inside the root; a link out of it is not followed.
  std::error_code ec;
  auto canonical = std::filesystem::canonical(full, ec);
  if (ec || !inside(root_, canonical)) return std::nullopt;
  Variant v;
  v.path = canonical;
  v.size = static_cast<std::uint64_t>(st.st_size);
  v.etag = fmt::format("\"{:x}-{:x}{}\"", st.st_size,
                       st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec, suffix);
  if (v.size <= limits_.cached_file_bytes) {
    std::ifstream in(canonical, std::ios::binary);
    if (!in) return std::nullopt;
    std::string content(v.size, '\0');
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    if (static_cast<std::uint64_t>(in.gcount()) != v.size)
      return std::nullopt;  // changed meanwhile
    v.content = std::make_shared<const std::string>(std::move(content));
  }
  return v;
}

std::shared_ptr<const StaticFiles::File> StaticFiles::load(const std::string& relative) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(relative); it != cache_.end()) return it->second;
  }
  auto full = resolve(relative);
  if (!full) return nullptr;
  auto identity = variant(*full, "");
  if (!identity) return nullptr;
  auto file = std::make_shared<File>();
  file->type = content_type(*full);
  file->identity = std::move(*identity);
  file->br = variant(*full, ".br");
  file->gzip = variant(*full, ".gz");
  struct stat st {};
  if (::stat(full->c_str(), &st) == 0) file->last_modified = http_date(st.st_mtime);
  // Kept when everything of it is in memory; a large file is looked at again each time.
  bool small = file->identity.content && (!file->br || file->br->content) &&
               (!file->gzip || file->gzip->content);
  if (small) remember(relative, file);
  return file;
}

void StaticFiles::remember(const std::string& relative, std::shared_ptr<const File> file) {
  std::lock_guard lock(mutex_);
  if (cache_.contains(relative)) return;
  cached_bytes_ += file->held_bytes();
  cache_.emplace(relative, std::move(file));
  order_.push_back(relative);
  while (cached_bytes_ > limits_.cache_bytes && !order_.empty()) {
    auto oldest = cache_.find(order_.front());
    cached_bytes_ -= oldest->second->held_bytes();
    cache_.erase(oldest);
    order_.pop_front();
  }
}

std::size_t StaticFiles::cached_bytes() {
  std::lock_guard lock(mutex_);
  return cached_bytes_;
}

std::optional<Response> StaticFiles::serve(const Request& req, Reach reach) {
  if (req.method != Method::get && req.method != Method::head) return std::nullopt;
  constexpr std::string_view kPrefix = "/static/";
  if (!req.path.starts_with(kPrefix)) return std::nullopt;
  auto relative = req.path.substr(kPrefix.size());
  std::shared_ptr<const File> file;
  if (reach == only_held) {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(relative); it != cache_.end()) file = it->second;
  } else {
    file = load(relative);
  }
  if (!file) return std::nullopt;

  const Variant* v = &file->identity;
  std::string_view encoding;
  auto accepted = req.header("accept-encoding").value_or("");
  if (file->br && accepts(accepted, "br")) {
    v = &*file->br;
    encoding = "br";
  } else if (file->gzip && accepts(accepted, "gzip")) {
    v = &*file->gzip;
    encoding = "gzip";
  }
  Response res;
  res.set_header("Content-Type", file->type);
  res.set_header("ETag", v->etag);
  if (!file->last_modified.empty()) res.set_header("Last-Modified", file->last_modified);
  res.set_header("Cache-Control", "public, max-age=86400");
  res.set_header("Accept-Ranges", "bytes");
  if (file->br || file->gzip) res.set_header("Vary", "Accept-Encoding");
  if (!encoding.empty()) res.set_header("Content-Encoding", std::string(encoding));

  // RFC 9110 13.2.2: If-None-Match first; If-Modified-Since only without it.
  if (auto tags = req.header("if-none-match")) {
    if (etag_matches(*tags, v->etag)) {
      res.status = 304;
      return res;
    }
  } else if (!file->last_modified.empty() &&
             req.header("if-modified-since") == file->last_modified) {
    res.status = 304;
    return res;
  }

  std::uint64_t offset = 0;
  std::uint64_t length = v->size;
  auto range = req.header("range");
  if (auto if_range = req.header("if-range");
      if_range && *if_range != v->etag && *if_range != file->last_modified) {
    range.reset();  // the client's part belongs to another version: the whole file
  }
  if (range) {
    auto wanted = byte_range(*range, v->size);
    if (wanted && wanted->second == 0) {
      res.status = 416;
      res.set_header("Content-Range", fmt::format("bytes */{}", v->size));
      return res;
    }
    if (wanted) {
      offset = wanted->first;
      length = wanted->second;
      res.status = 206;
      res.set_header("Content-Range",
                     fmt::format("bytes {}-{}/{}", offset, offset + length - 1, v->size));
    }
  }
  if (v->content) {
    if (res.status == 200) {
      res.shared_body = v->content;
    } else {
      res.body = v->content->substr(offset, length);
    }
    return res;
  }
  res.set_header("Content-Length", std::to_string(length));
  res.stream = [path = v->path, offset, length](std::ostream& out) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset));
    std::string buf(64 * 1024, '\0');
    std::uint64_t left = length;
    while (left > 0 && in) {
      in.read(buf.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size())));
      auto n = static_cast<std::uint64_t>(in.gcount());
      out.write(buf.data(), static_cast<std::streamsize>(n));
      left -= n;
      if (n == 0) break;
    }
    // A file cut short meanwhile: the server notices the missing bytes and ends the
    // connection, so the client sees an incomplete body rather than a wrong one.
  };
  return res;
}

}  // namespace mvsp::web
