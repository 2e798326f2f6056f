#include <fmt/format.h>
#include <toml++/toml.h>

#include <kainjow/mustache.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/web/templates.hpp>

namespace mvsp::web {
namespace mustache = kainjow::mustache;
namespace {

mustache::data to_data(const View& view) {
  return std::visit(
      [](const auto& n) -> mustache::data {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return mustache::data(false);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return mustache::data(n);
        } else if constexpr (std::is_same_v<T, bool>) {
          return mustache::data(n);
        } else if constexpr (std::is_same_v<T, View::Object>) {
          mustache::data obj{mustache::data::type::object};
          for (const auto& [k, v] : n) obj.set(k, to_data(v));
          return obj;
        } else {
          mustache::data list{mustache::data::type::list};
          for (const auto& item : n) list.push_back(to_data(item));
          return list;
        }
      },
      view.node());
}

void flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  for (const auto& [k, node] : table) {
    auto key = prefix.empty() ? std::string(k.str()) : fmt::format("{}.{}", prefix, k.str());
    if (const auto* sub = node.as_table()) {
      flatten(*sub, key, out);
    } else if (const auto* s = node.as_string()) {
      out[key] = s->get();
    } else {
      throw core::Failure(fmt::format("message {} must be text", key));
    }
  }
}

View nest(const std::map<std::string, std::string>& texts) {
  // Builds {"shell": {"skip_link": …}} from "shell.skip_link".
  struct Tree {
    std::map<std::string, Tree> children;
    std::string text;
  };
  Tree root;
  for (const auto& [key, text] : texts) {
    Tree* t = &root;
    std::size_t start = 0;
    for (;;) {
      auto dot = key.find('.', start);
      t = &t->children[key.substr(start, dot - start)];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    t->text = text;
  }
  std::function<View(const Tree&)> build = [&](const Tree& t) {
    View v;
    for (const auto& [k, child] : t.children) {
      if (child.children.empty()) {
        v.set(k, child.text);
      } else {
        v.set(k, build(child));
      }
    }
    return v;
  };
  return build(root);
}

}  // namespace

void Catalog::add(std::span<const core::Resource> resources) {
  for (const auto& r : resources) {
    if (!r.path.starts_with("messages/") || !r.path.ends_with(".toml")) continue;
    auto locale = std::string(r.path.substr(9, r.path.size() - 9 - 5));
    toml::table table;
    try {
      table = toml::parse(r.content, r.path);
    } catch (const toml::parse_error& e) {
      throw core::Failure(fmt::format("{}: {}", r.path, e.description()));
    }
    auto& texts = texts_[locale];
    std::map<std::string, std::string> flat;
    flatten(table, "", flat);
    for (auto& [k, v] : flat) {
      if (!texts.emplace(k, v).second) {
        throw core::Failure(fmt::format("message {} is defined twice for {}", k, locale));
      }
    }
    views_[locale] = nest(texts);
  }
}

std::string Catalog::text(std::string_view locale, std::string_view key) const {
  for (auto loc : {locale, kDefaultLocale}) {
    auto l = texts_.find(loc);
    if (l == texts_.end()) continue;
    auto t = l->second.find(std::string(key));
    if (t != l->second.end()) return t->second;
  }
  return std::string(key);
}

const View& Catalog::view(std::string_view locale) const {
  auto it = views_.find(locale);
  if (it == views_.end()) it = views_.find(kDefaultLocale);
  if (it == views_.end()) throw core::Failure("no message catalog for the default locale");
  return it->second;
}

bool Catalog::supports(std::string_view locale) const {
  return texts_.contains(locale);
}

std::vector<std::string> Catalog::missing(std::string_view locale) const {
  std::vector<std::string> out;
  auto def = texts_.find(kDefaultLocale);
  auto loc = texts_.find(locale);
  if (def == texts_.end()) return out;
  for (const auto& [k, _] : def->second) {
    if (loc == texts_.end() || !loc->second.contains(k)) out.push_back(k);
  }
  return out;
}

void Templates::add(std::string_view component, std::span<const core::Resource> resources) {
  for (const auto& r : resources) {
    if (!r.path.starts_with("templates/") || !r.path.ends_with(".mustache")) continue;
    auto name = fmt::format("{}/{}", component, r.path.substr(10, r.path.size() - 10 - 9));
    mustache::mustache probe{std::string(r.content)};
    if (!probe.is_valid()) {
      throw core::Failure(fmt::format("template {}: {}", name, probe.error_message()));
    }
    sources_[name] = std::string(r.content);
  }
}

bool Templates::has(std::string_view name) const {
  return sources_.contains(name);
}

std::string Templates::render(std::string_view name, const View& model,
                              std::string_view page) const {
  auto it = sources_.find(name);
  if (it == sources_.end()) throw core::Failure(fmt::format("no template {}", name));
  auto page_it = sources_.find(page);
  if (!page.empty() && page_it == sources_.end()) {
    throw core::Failure(fmt::format("no template {}", page));
  }
  mustache::data data = to_data(model);
  if (!data.is_object()) data = mustache::data{mustache::data::type::object};
  for (const auto& [n, source] : sources_) data.set(n, mustache::data(source));
  if (!page.empty()) data.set("page", mustache::data(page_it->second));
  mustache::mustache tmpl{it->second};
  auto out = tmpl.render(data);
  if (!tmpl.is_valid()) {
    throw core::Failure(fmt::format("template {}: {}", name, tmpl.error_message()));
  }
  return out;
}

}  // namespace mvsp::web
