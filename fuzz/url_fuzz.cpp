// URL decoding as the server applies it to every request line (web::url_decode on the path,
// with '+' as space in query and form values) and its inverse, web::url_encode.
#include <mvsp/web/http.hpp>

#include "fuzz_support.hpp"

namespace {

bool only_url_safe(const std::string& s) {
  for (unsigned char c : s) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~' || c == '%';
    if (!plain) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  auto input = mvsp::fuzz::text(data, size);

  // The path of a request line, decoded the way the server does it.
  auto q = input.find('?');
  auto path = mvsp::web::url_decode(input.substr(0, q), false);
  check(path.size() <= q || q == std::string_view::npos, "a decoded path never grows");

  for (bool form : {false, true}) {
    auto decoded = mvsp::web::url_decode(input, form);
    check(decoded.size() <= input.size(), "url_decode never grows");
    // Without escapes (and without '+' in forms) decoding changes nothing.
    if (input.find('%') == std::string_view::npos &&
        (!form || input.find('+') == std::string_view::npos)) {
      check(decoded == input, "url_decode keeps text without escapes");
    }
    // Each escape shortens by two, so the length tells how many were decoded.
    check((input.size() - decoded.size()) % 2 == 0, "url_decode removes two bytes per escape");
  }

  auto encoded = mvsp::web::url_encode(input);
  check(only_url_safe(encoded), "url_encode writes only unreserved characters and escapes");
  check(encoded.size() <= 3 * input.size(), "url_encode at most triples");
  check(mvsp::web::url_decode(encoded, false) == input, "url_decode(url_encode(x)) == x");
  check(mvsp::web::url_decode(encoded, true) == input, "form decoding of url_encode(x) == x");
  return 0;
}
