#pragma once
// The typed configuration file (TOML). Each component reads its own section; a key that
// no component reads, or a value of the wrong type or out of range, is collected as an
// error naming the key, and check() stops the start with all of them.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mvsp/core/error.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::core {

class ConfigSection;

class Config {
 public:
  Config();  // empty: every value takes its default
  ~Config();
  Config(Config&&) noexcept;
  Config& operator=(Config&&) noexcept;

  // invalid_input naming the line on a syntax error.
  static Result<Config> parse(std::string_view text, std::string_view source);
  static Result<Config> load(const std::filesystem::path& path);

  // A section by its dotted name ("server", "identity.upstream.bundid").
  ConfigSection section(std::string_view name);
  // The names of the sections inside section `name` ([identity.upstream.NAME]).
  std::vector<std::string> subsections(std::string_view name);

  // Every bad value read so far, and (with `unread_keys`) every key nobody read; each
  // FieldError's field is the dotted key ("server.threads").
  Status check(bool unread_keys = true) const;

 private:
  friend class ConfigSection;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class ConfigSection {
 public:
  std::string string(std::string_view key, std::string fallback);
  std::optional<std::string> optional_string(std::string_view key);
  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max);
  bool boolean(std::string_view key, bool fallback);
  // One of `allowed`; an error naming the allowed values otherwise.
  std::string choice(std::string_view key, std::string fallback,
                     const std::vector<std::string>& allowed);
  // A table of string values (key = "value" lines), sorted by key.
  std::vector<std::pair<std::string, std::string>> string_pairs(std::string_view key);
  // The content of the PEM file whose path the key holds ("" when the key is not set); an
  // error naming the key when the file cannot be read or holds no "-----BEGIN <label>".
  std::string pem_file(std::string_view key, std::string_view label = "");
  // Records a rule this section's reader checked itself.
  void reject(std::string_view key, std::string message);

 private:
  friend class Config;
  ConfigSection(Config::Impl& impl, std::string name) : impl_(impl), name_(std::move(name)) {}
  Config::Impl& impl_;
  std::string name_;
};

}  // namespace mvsp::core
