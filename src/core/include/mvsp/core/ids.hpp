#pragma once
// Internal keys (opaque, random) and public ids (readable, checksummed).

#include <optional>
#include <string>
#include <string_view>

namespace mvsp::core {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // An opaque internal key: 26 characters of lower-case Crockford base32 (130 random bits).
  virtual std::string key() = 0;
  // A readable public id such as "MV-35CA3-4HFYVHOK": prefix, 12 random Crockford base32
  // symbols and one check symbol, grouped 5-8.
  virtual std::string public_id(std::string_view prefix) = 0;
};

// Ids from the operating system's cryptographic random source.
class RandomIdGenerator final : public IdGenerator {
 public:
  std::string key() override;
  std::string public_id(std::string_view prefix) override;
};

// Builds a public id from 12 payload symbols (used by generators and tests).
std::string make_public_id(std::string_view prefix, std::string_view payload12);

// Reads a public id as a person may type it: case-insensitive, with or without hyphens,
// "O" for "0" and "I"/"L" for "1". Returns the canonical form, or nothing when the
// shape or the check symbol is wrong.
std::optional<std::string> parse_public_id(std::string_view prefix, std::string_view input);

}  // namespace mvsp::core
