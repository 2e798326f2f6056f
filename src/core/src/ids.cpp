#include <array>
#include <cctype>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/ids.hpp>

namespace mvsp::core {
namespace {

// Crockford base32: no I, L, O, U, so ids survive being read aloud and retyped.
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int symbol_value(char c) {
  c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (c == 'O') c = '0';
  if (c == 'I' || c == 'L') c = '1';
  auto pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Luhn mod 32: catches every single-symbol error and most adjacent transpositions.
char check_symbol(std::string_view payload) {
  int factor = 2;
  int sum = 0;
  for (auto it = payload.rbegin(); it != payload.rend(); ++it) {
    int addend = factor * symbol_value(*it);
    factor = factor == 2 ? 1 : 2;
    sum += addend / 32 + addend % 32;
  }
  return kAlphabet[(32 - sum % 32) % 32];
}

std::string random_symbols(std::size_t n) {
  auto bytes = crypto::random_bytes(n);
  std::string out(n, '0');
  for (std::size_t i = 0; i < n; ++i) out[i] = kAlphabet[static_cast<unsigned char>(bytes[i]) % 32];
  return out;
}

}  // namespace

std::string RandomIdGenerator::key() {
  auto s = random_symbols(26);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string RandomIdGenerator::public_id(std::string_view prefix) {
  return make_public_id(prefix, random_symbols(12));
}

std::string make_public_id(std::string_view prefix, std::string_view payload12) {
  std::string payload(payload12);
  payload.push_back(check_symbol(payload12));
  std::string out(prefix);
  out += '-';
  out += payload.substr(0, 5);
  out += '-';
  out += payload.substr(5);
  return out;
}

std::optional<std::string> parse_public_id(std::string_view prefix, std::string_view input) {
  std::string symbols;
  for (char c : input) {
    if (c == '-' || c == ' ') continue;
    symbols.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  std::string upper_prefix;
  for (char c : prefix) upper_prefix.push_back(static_cast<char>(std::toupper(c)));
  if (!symbols.starts_with(upper_prefix)) return std::nullopt;
  symbols.erase(0, upper_prefix.size());
  if (symbols.size() != 13) return std::nullopt;
  std::string canonical;
  for (char c : symbols) {
    int v = symbol_value(c);
    if (v < 0) return std::nullopt;
    canonical.push_back(kAlphabet[v]);
  }
  std::string_view payload(canonical.data(), 12);
  if (check_symbol(payload) != canonical[12]) return std::nullopt;
  return make_public_id(prefix, payload);
}

}  // namespace mvsp::core
