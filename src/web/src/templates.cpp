#include <fmt/format.h>
#include <toml++/toml.h>

#include <kainjow/mustache.hpp>
#include <mutex>
#include <mvsp/core/error.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/web/templates.hpp>
#include <optional>
#include <shared_mutex>
#include <utility>

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
          // an empty text is false in a section, as in the JavaScript implementations: it
          // renders as nothing, and {{#x}} skips it
          return n.empty() ? mustache::data(false) : mustache::data(n);
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

namespace {

using Sources = std::map<std::string, std::string, std::less<>>;

// `source` with every partial tag replaced by that template's source, and "page" by the
// page's; tag by tag as kainjow reads them (a comment or a triple mustache is no partial).
// Partials come only from the templates, never from the model, so no value is ever read as
// template source. An unknown partial is left out, as kainjow does.
void write_partials(const Sources& sources, std::string_view source, std::string_view page,
                    int depth, std::string& out) {
  constexpr int kMaxDepth = 8;
  if (depth > kMaxDepth) {
    throw core::Failure(fmt::format("templates include each other deeper than {}", kMaxDepth));
  }
  std::size_t pos = 0;
  for (;;) {
    auto open = source.find("{{", pos);
    if (open == std::string_view::npos) break;
    bool triple = source.substr(open + 2, 1) == "{";
    auto close = source.find(triple ? "}}}" : "}}", open + 2);
    if (close == std::string_view::npos) break;  // a tag left open: the parser reports it
    auto end = close + (triple ? 3 : 2);
    auto content = core::trim(source.substr(open + 2, close - open - 2));
    if (triple || !content.starts_with('>')) {
      out.append(source.substr(pos, end - pos));
    } else {
      out.append(source.substr(pos, open - pos));
      auto name = core::trim(content.substr(1));
      if (name == "page") name = page;
      if (auto it = sources.find(name); !name.empty() && it != sources.end()) {
        write_partials(sources, it->second, page, depth + 1, out);
      }
    }
    pos = end;
  }
  out.append(source.substr(pos));
}

// Values come from the model and the texts; partials are already written into the program,
// and none is ever looked up in the values.
class ValuesOnly final : public mustache::context<std::string> {
 public:
  const mustache::data* get_partial(const std::string&) const override { return nullptr; }
};

}  // namespace

// kainjow parses a template on every render and a partial every time it is included, which
// was most of the time of a page. So each (template, page) pair is parsed once, with its
// partials written into it, and kept here.
struct Templates::Compiled {
  Sources sources;
  std::shared_mutex mutex;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<mustache::mustache>, std::less<>>
      programs;  // by (template, page)

  // The parsed program of template `name` with `page` as the partial "page".
  std::shared_ptr<mustache::mustache> program(std::string_view name, std::string_view page);
};

std::shared_ptr<mustache::mustache> Templates::Compiled::program(std::string_view name,
                                                                 std::string_view page) {
  auto key = std::pair{std::string(name), std::string(page)};
  {
    std::shared_lock lock(mutex);
    if (auto it = programs.find(key); it != programs.end()) return it->second;
  }
  auto it = sources.find(name);
  if (it == sources.end()) throw core::Failure(fmt::format("no template {}", name));
  if (!page.empty() && !sources.contains(page)) {
    throw core::Failure(fmt::format("no template {}", page));
  }
  std::string source;
  write_partials(sources, it->second, page, 0, source);
  auto parsed = std::make_shared<mustache::mustache>(source);
  if (!parsed->is_valid()) {
    throw core::Failure(fmt::format("template {}: {}", name, parsed->error_message()));
  }
  std::unique_lock lock(mutex);
  return programs.emplace(std::move(key), parsed).first->second;
}

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
  // Checked whole before anything changes: a refused set leaves the templates as they were.
  auto sources = compiled_ ? compiled_->sources : Sources{};
  for (const auto& r : resources) {
    if (!r.path.starts_with("templates/") || !r.path.ends_with(".mustache")) continue;
    auto name = fmt::format("{}/{}", component, r.path.substr(10, r.path.size() - 10 - 9));
    mustache::mustache probe{std::string(r.content)};
    if (!probe.is_valid()) {
      throw core::Failure(fmt::format("template {}: {}", name, probe.error_message()));
    }
    // Partials are written in by their tags; other delimiters would hide them.
    if (r.content.find("{{=") != std::string_view::npos) {
      throw core::Failure(fmt::format("template {}: delimiters cannot be changed", name));
    }
    sources[name] = std::string(r.content);
  }
  std::string scratch;
  for (const auto& [name, source] : sources) {
    scratch.clear();
    write_partials(sources, source, {}, 0, scratch);  // throws on templates in a loop
  }
  auto compiled = std::make_shared<Compiled>();
  compiled->sources = std::move(sources);
  compiled_ = std::move(compiled);
}

bool Templates::has(std::string_view name) const {
  return compiled_ && compiled_->sources.contains(name);
}

std::string Templates::render(std::string_view name, const View& model, std::string_view page,
                              const Catalog* texts, std::string_view locale) const {
  if (!compiled_) throw core::Failure(fmt::format("no template {}", name));
  // Held for the render: templates and texts are added at start-up, but a render never
  // depends on that.
  auto compiled = compiled_;
  auto compiled_texts = texts ? texts->compiled_ : nullptr;
  auto parsed = compiled->program(name, page);
  ValuesOnly ctx;
  mustache::data data = to_data(model);
  if (!data.is_object()) data = mustache::data{mustache::data::type::object};
  ctx.push(&data);
  if (compiled_texts) {
    const auto& layers = compiled_texts->layers;
    auto l = layers.find(locale);
    if (l == layers.end()) l = layers.find(Catalog::kDefaultLocale);
    if (l != layers.end()) ctx.push(&l->second);
  }
  // One parsed program serves concurrent renders: without lambdas and partials kainjow's
  // render only reads it (it writes its error only there), and all state is in `ctx`. So a
  // View must never carry a lambda, and partials stay written in.
  auto out = parsed->render(ctx);
  if (!parsed->is_valid()) {
    throw core::Failure(fmt::format("template {}: {}", name, parsed->error_message()));
  }
  return out;
}

}  // namespace mvsp::web
