// The static path: web::StaticFiles::serve through its public API, on a temporary root
// with files inside, hidden files, and files outside it (a sibling folder whose name
// starts like the root's, the folder above). The input is the raw request path; it is
// decoded as the server does. Whatever resolver StaticFiles uses, nothing outside the root
// and no hidden file may ever be served.
#include <filesystem>
#include <fstream>
#include <map>
#include <mvsp/web/static_files.hpp>

#include "fuzz_support.hpp"

namespace {
namespace fs = std::filesystem;

struct Fixture {
  fs::path root;
  std::map<std::string, std::string> inside;  // content -> relative path (each unique)
  std::unique_ptr<mvsp::web::StaticFiles> files;
};
Fixture* g_fixture = nullptr;

void write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mvsp::fuzz::quiet_logs();
  auto base = mvsp::fuzz::temp_dir("static");
  g_fixture = new Fixture{base / "static", {}, nullptr};
  auto& f = *g_fixture;
  for (const char* rel : {"app.css", "app.js", "img/logo.svg", "kern/kern.min.css",
                          "kern/fonts/fira-sans/FiraSans-Regular.woff2", "a b.txt", "%41.txt"}) {
    auto content = std::string("inside the root: ") + rel;
    write(f.root / rel, content);
    f.inside[content] = rel;
  }
  // Never to be served.
  write(f.root / ".env", "HIDDEN: .env");
  write(f.root / "kern" / ".htpasswd", "HIDDEN: kern/.htpasswd");
  write(f.root / ".git" / "config", "HIDDEN: .git/config");
  write(base / "secret.txt", "OUTSIDE: secret.txt");
  write(base / "static-private" / "app.css", "OUTSIDE: static-private/app.css");
  f.files = std::make_unique<mvsp::web::StaticFiles>(f.root);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  auto uri = mvsp::fuzz::text(data, size);
  for (auto method : {mvsp::web::Method::get, mvsp::web::Method::head}) {
    mvsp::web::Request req;
    req.method = method;
    req.path = mvsp::web::url_decode(uri.substr(0, uri.find('?')), false);
    auto res = g_fixture->files->serve(req);
    if (!res) continue;
    check(req.path.starts_with("/static/"), "only paths under /static/ are served", req.path);
    if (res->status == 304) continue;
    check(res->status == 200, "a static file is 200 or 304");
    // Small files come from the cache, shared (content()); the fixture has no large ones.
    std::string body(res->content());
    auto it = g_fixture->inside.find(body);
    check(it != g_fixture->inside.end(),
          "nothing outside the root and no hidden file is ever served",
          req.path + " gave: " + body.substr(0, 80));
  }
  // A request with the file's ETag gets 304 and no body.
  mvsp::web::Request req;
  req.path = mvsp::web::url_decode(uri.substr(0, uri.find('?')), false);
  if (auto first = g_fixture->files->serve(req); first && first->status == 200) {
    req.headers.emplace_back("if-none-match", first->header("etag").value_or(""));
    auto again = g_fixture->files->serve(req);
    check(again && again->status == 304 && again->content().empty() && !again->stream,
          "a matching ETag gives 304");
  }
  return 0;
}
