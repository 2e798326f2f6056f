#pragma once
// Mustache templates (kainjow) and message catalogs. Templates escape every value; the
// only unescaped output allowed is marked `{{{raw_…}}}` with a comment saying why, and
// the layout includes the page as a partial, so page HTML is never passed as a value.

#include <map>
#include <memory>
#include <mvsp/core/resources.hpp>
#include <mvsp/web/view.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::web {

// UI text per locale, from each component's messages/<locale>.toml.
class Catalog {
 public:
  static constexpr std::string_view kDefaultLocale = "de";

  void add(std::span<const core::Resource> resources);
  // The text for key "section.name"; falls back to German, then to the key itself.
  std::string text(std::string_view locale, std::string_view key) const;
  bool supports(std::string_view locale) const;
  // Keys the default locale has and `locale` lacks.
  std::vector<std::string> missing(std::string_view locale) const;

 private:
  friend class Templates;
  // Every locale's texts as one nested object {"t": …} for the renderer, built when texts
  // are added and shared by every render ({{t.shell.skip_link}}).
  struct Compiled;
  std::map<std::string, std::map<std::string, std::string>, std::less<>> texts_;
  std::shared_ptr<Compiled> compiled_;
};

class Templates {
 public:
  // Adds a component's templates/*.mustache as "<component>/<name>".
  void add(std::string_view component, std::span<const core::Resource> resources);
  bool has(std::string_view name) const;
  // Renders template `name` with `model`; every other template is available as a partial
  // by its name, and template `page` also as the partial "page" (the layout includes it).
  // With `texts`, the texts of `locale` (or German) are there as `t`. Throws core::Failure
  // on a template error.
  std::string render(std::string_view name, const View& model, std::string_view page = {},
                     const Catalog* texts = nullptr, std::string_view locale = {}) const;

 private:
  // The templates' sources and each (template, page) pair parsed once, with its partials
  // written in; built anew when templates are added and shared by every render.
  struct Compiled;
  std::shared_ptr<Compiled> compiled_;
};

}  // namespace mvsp::web
