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

  // A section is a table at a dotted path: "server", "identity.upstream.bundid".
  const toml::node* section_node(const std::string& section) const {
    return table.at_path(section).node();
  }

  // A section and the sections around it count as read.
  void mark_section(const std::string& section) {
    for (auto dot = section.find('.'); dot != std::string::npos; dot = section.find('.', dot + 1)) {
      read.insert(section.substr(0, dot));
    }
    read.insert(section);
  }

  const toml::node* find(const std::string& section, std::string_view key) {
    const auto* sec = section_node(section);
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
  if (const auto* sec = impl_->section_node(n); sec && !sec->is_table()) {
    impl_->errors.push_back({n, fmt::format("{} must be a section ([{}])", n, n)});
  }
  impl_->mark_section(n);
  return ConfigSection(*impl_, n);
}

std::vector<std::string> Config::subsections(std::string_view name) {
  std::string n(name);
  impl_->mark_section(n);
  std::vector<std::string> out;
  const auto* sec = impl_->section_node(n);
  if (!sec || !sec->is_table()) return out;
  // The section's own keys ([delivery] retry_hours beside [delivery.bundid]) are its
  // reader's; one nobody reads is reported by check() as unknown.
  for (const auto& [key, node] : *sec->as_table()) {
    if (node.is_table()) out.emplace_back(key.str());
  }
  return out;
}

Status Config::check(bool unread_keys) const {
  Error all{ErrorCode::invalid_input, "the configuration is not valid", impl_->errors, {}};
  // Every key must have been read; a section that was read is checked key by key.
  auto walk = [&](auto& self, const toml::table& table, const std::string& prefix) -> void {
    for (const auto& [key, node] : table) {
      auto full = prefix.empty() ? std::string(key.str()) : fmt::format("{}.{}", prefix, key.str());
      if (!impl_->read.contains(full)) {
        all.fields.push_back({full, fmt::format("unknown key {}", full)});
      } else if (node.is_table()) {
        self(self, *node.as_table(), full);
      }
    }
  };
  if (unread_keys) walk(walk, impl_->table, "");
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

std::vector<std::pair<std::string, std::string>> ConfigSection::string_pairs(std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto* node = impl_.find(name_, key);
  if (!node) return out;
  if (!node->is_table()) {
    impl_.error(name_, key, fmt::format("{}.{} must be a table of strings", name_, key));
    return out;
  }
  for (const auto& [k, v] : *node->as_table()) {
    impl_.read.insert(fmt::format("{}.{}.{}", name_, key, k.str()));
    if (auto s = v.value<std::string>(); s && v.is_string()) {
      out.emplace_back(std::string(k.str()), *s);
    } else {
      impl_.error(name_, fmt::format("{}.{}", key, k.str()),
                  fmt::format("{}.{}.{} must be a string", name_, key, k.str()));
    }
  }
  return out;
}

std::string ConfigSection::pem_file(std::string_view key, std::string_view label) {
  auto path = string(key, "");
  if (path.empty()) return {};
  std::ifstream in(path);
  std::stringstream content;
  if (in) content << in.rdbuf();
  auto pem = content.str();
  if (pem.find(fmt::format("-----BEGIN {}", label)) == std::string::npos) {
    reject(key, fmt::format("{}.{}: {} is not a readable PEM file{}", name_, key, path,
                            label.empty() ? "" : fmt::format(" ({})", label)));
    return {};
  }
  return pem;
}

void ConfigSection::reject(std::string_view key, std::string message) {
  impl_.error(name_, key, std::move(message));
}

}  // namespace mvsp::core
