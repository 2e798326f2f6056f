#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>
#include <mvsp/core/config.hpp>
#include <set>
#include <sstream>

namespace mvsp::core {

struct Config::Impl {
  toml::table table;
  std::set<std::string, std::less<>> read;
  std::vector<FieldError> errors;

  const toml::node* find(const std::string& section, std::string_view key) {
    const auto* sec = table.get(section);
    if (!sec || !sec->is_table()) return nullptr;
    read.insert(fmt::format("{}.{}", section, key));
    return sec->as_table()->get(key);
  }
  void error(const std::string& section, std::string_view key, std::string message) {
    errors.push_back({fmt::format("{}.{}", section, key), std::move(message)});
  }
};

Config::Config() : impl_(std::make_unique<Impl>()) {}
Config::~Config() = default;
Config::Config(Config&&) noexcept = default;
Config& Config::operator=(Config&&) noexcept = default;

Result<Config> Config::parse(std::string_view text, std::string_view source) {
  Config c;
  try {
    c.impl_->table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return fail(
        Error::invalid(std::string(source),
                       fmt::format("{}:{}: {}", source, e.source().begin.line, e.description())));
  }
  return c;
}

Result<Config> Config::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return fail(Error::invalid(path.string(), fmt::format("cannot read {}", path.string())));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path.string());
}

ConfigSection Config::section(std::string_view name) {
  std::string n(name);
  if (const auto* sec = impl_->table.get(n); sec && !sec->is_table()) {
    impl_->errors.push_back({n, fmt::format("{} must be a section ([{}])", n, n)});
  }
  impl_->read.insert(n);
  return ConfigSection(*impl_, n);
}

Status Config::check() const {
  Error all{ErrorCode::invalid_input, "the configuration is not valid", impl_->errors, {}};
  for (const auto& [key, node] : impl_->table) {
    std::string k(key.str());
    if (!node.is_table() || !impl_->read.contains(k)) {
      all.fields.push_back({k, fmt::format("unknown key {}", k)});
      continue;
    }
    for (const auto& [sub, _] : *node.as_table()) {
      auto full = fmt::format("{}.{}", k, sub.str());
      if (!impl_->read.contains(full)) {
        all.fields.push_back({full, fmt::format("unknown key {}", full)});
      }
    }
  }
  if (all.fields.empty()) return {};
  return fail(std::move(all));
}

std::string ConfigSection::string(std::string_view key, std::string fallback) {
  return optional_string(key).value_or(std::move(fallback));
}

std::optional<std::string> ConfigSection::optional_string(std::string_view key) {
  const auto* node = impl_.find(name_, key);
  if (!node) return std::nullopt;
  if (auto v = node->value<std::string>(); v && node->is_string()) return *v;
  impl_.error(name_, key, fmt::format("{}.{} must be a string", name_, key));
  return std::nullopt;
}

std::int64_t ConfigSection::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                    std::int64_t max) {
  const auto* node = impl_.find(name_, key);
  if (!node) return fallback;
  if (!node->is_integer()) {
    impl_.error(name_, key, fmt::format("{}.{} must be a whole number", name_, key));
    return fallback;
  }
  auto v = node->as_integer()->get();
  if (v < min || v > max) {
    impl_.error(name_, key,
                fmt::format("{}.{} must be between {} and {}, not {}", name_, key, min, max, v));
    return fallback;
  }
  return v;
}

bool ConfigSection::boolean(std::string_view key, bool fallback) {
  const auto* node = impl_.find(name_, key);
  if (!node) return fallback;
  if (!node->is_boolean()) {
    impl_.error(name_, key, fmt::format("{}.{} must be true or false", name_, key));
    return fallback;
  }
  return node->as_boolean()->get();
}

std::string ConfigSection::choice(std::string_view key, std::string fallback,
                                  const std::vector<std::string>& allowed) {
  auto v = optional_string(key);
  if (!v) return fallback;
  for (const auto& a : allowed) {
    if (a == *v) return *v;
  }
  impl_.error(name_, key,
              fmt::format("{}.{} must be one of: {}", name_, key, fmt::join(allowed, ", ")));
  return fallback;
}

void ConfigSection::reject(std::string_view key, std::string message) {
  impl_.error(name_, key, std::move(message));
}

}  // namespace mvsp::core
