// multipart/form-data bodies (web::parse_multipart, POCO's MultipartReader underneath).
// The first input line is the Content-Type header, the rest the body. A part's body is
// always a piece of the request body (the reader decodes no transfer encoding), and a
// body built by web::build_multipart from plain parts reads back as those parts.
#include <mvsp/web/http.hpp>
#include <mvsp/web/multipart.hpp>

#include "fuzz_support.hpp"

namespace {

bool plain(const std::string& s) {
  for (unsigned char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  auto [type, body] = mvsp::fuzz::split_first_line(mvsp::fuzz::text(data, size));
  mvsp::web::Request req;
  req.method = mvsp::web::Method::post;
  req.headers.emplace_back("content-type", std::string(type));
  req.body = std::string(body);
  constexpr std::size_t kMaxParts = 8;
  auto parts = mvsp::web::parse_multipart(req, kMaxParts);
  if (!parts) {
    // A body that is not multipart/form-data at all is refused as a whole (415); any
    // other refusal names the field.
    const auto& e = parts.error();
    check(e.code == mvsp::core::ErrorCode::unsupported_media_type || !e.fields.empty(),
          "a refused body names the field");
    return 0;
  }
  check(parts->size() <= kMaxParts, "at most max_parts parts");
  for (const auto& p : *parts) {
    check(req.body.find(p.body) != std::string::npos, "a part's body is a piece of the input",
          mvsp::fuzz::printable(p.body));
  }

  // Round trip of the parts with plain names (build_multipart quotes nothing); a body
  // needs at least one part (RFC 2046).
  std::vector<mvsp::web::Part> simple;
  for (const auto& p : *parts) {
    if (plain(p.name) && plain(p.filename) && !p.name.empty()) {
      simple.push_back({p.name, p.filename, "application/octet-stream", p.body});
    }
  }
  if (simple.empty()) return 0;
  auto built = mvsp::web::build_multipart(simple);
  mvsp::web::Request again;
  again.headers.emplace_back("content-type", built.content_type);
  again.body = built.body;
  auto reread = mvsp::web::parse_multipart(again, kMaxParts);
  check(reread && reread->size() == simple.size(), "a built body reads back");
  for (std::size_t i = 0; i < simple.size(); ++i) {
    const auto& a = simple[i];
    const auto& b = (*reread)[i];
    check(a.name == b.name && a.filename == b.filename && a.body == b.body,
          "a built part reads back unchanged", a.name);
  }
  return 0;
}
