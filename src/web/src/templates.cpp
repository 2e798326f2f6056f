#include <fmt/format.h>
#include <toml++/toml.h>

#include <kainjow/mustache.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/web/templates.hpp>
#include <optional>

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

// {"t": {"shell": {"skip_link": …}}} from "shell.skip_link".
mustache::data nest(const std::map<std::string, std::string>& texts) {
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
  std::function<mustache::data(const Tree&)> build = [&](const Tree& t) {
    mustache::data obj{mustache::data::type::object};
    for (const auto& [k, child] : t.children) {
      obj.set(k, child.children.empty() ? mustache::data(child.text) : build(child));
    }
    return obj;
  };
  mustache::data layer{mustache::data::type::object};
  layer.set("t", build(root));
  return layer;
}

}  // namespace

struct Catalog::Compiled {
  std::map<std::string, mustache::data, std::less<>> layers;  // by locale
};

struct Templates::Compiled {
  mustache::data partials{mustache::data::type::object};
};

namespace {

// Values come from the model (and the texts above it, so that no model shadows `t`);
// partials only from the templates themselves and the page, never from the model, so no
// value is ever rendered as template source.
class PageContext final : public mustache::context<std::string> {
 public:
  PageContext(const mustache::data& partials, std::string page)
      : partials_(partials), page_(std::move(page)) {}
  const mustache::data* get_partial(const std::string& name) const override {
    if (name == "page") return page_.empty() ? nullptr : partials_.get(page_);
    return partials_.get(name);
  }

 private:
  const mustache::data& partials_;
  std::string page_;  // the template the layout includes as "page"
};

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
  }
  // Built anew, not changed in place: a render that holds the old one keeps it whole.
  auto compiled = std::make_shared<Compiled>();
  for (const auto& [locale, texts] : texts_) compiled->layers.emplace(locale, nest(texts));
  compiled_ = std::move(compiled);
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
  auto compiled = std::make_shared<Compiled>();
  for (const auto& [n, source] : sources_) compiled->partials.set(n, mustache::data(source));
  compiled_ = std::move(compiled);
}

bool Templates::has(std::string_view name) const {
  return sources_.contains(name);
}

std::string Templates::render(std::string_view name, const View& model, std::string_view page,
                              const Catalog* texts, std::string_view locale) const {
  auto it = sources_.find(name);
  if (it == sources_.end()) throw core::Failure(fmt::format("no template {}", name));
  if (!page.empty() && !sources_.contains(page)) {
    throw core::Failure(fmt::format("no template {}", page));
  }
  // Held for the render: templates and texts are added at start-up, but a render never
  // depends on that.
  auto compiled = compiled_;
  auto compiled_texts = texts ? texts->compiled_ : nullptr;
  PageContext ctx(compiled->partials, std::string(page));
  mustache::data data = to_data(model);
  if (!data.is_object()) data = mustache::data{mustache::data::type::object};
  ctx.push(&data);
  if (compiled_texts) {
    const auto& layers = compiled_texts->layers;
    auto l = layers.find(locale);
    if (l == layers.end()) l = layers.find(Catalog::kDefaultLocale);
    if (l != layers.end()) ctx.push(&l->second);
  }
  mustache::mustache tmpl{it->second};
  auto out = tmpl.render(ctx);
  if (!tmpl.is_valid()) {
    throw core::Failure(fmt::format("template {}: {}", name, tmpl.error_message()));
  }
  return out;
}

}  // namespace mvsp::web
