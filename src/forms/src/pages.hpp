#pragma once
// Private to forms: its pages. The preview lets anyone walk through a published form as
// a citizen would (until the application journey exists) and an editor through a draft;
// the editor's pages build, import, compare and publish forms.

#include <functional>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/forms/filling.hpp>
#include <optional>

namespace mvsp::web {
class Router;
class Pages;
struct Request;
struct Session;
}  // namespace mvsp::web

namespace mvsp::forms {

class Forms;
class Prefill;

struct PageOptions {
  const core::Clock* clock = nullptr;
  // The editor behind a request, or nullopt.
  std::function<std::optional<catalog::Editor>(const web::Request&)> editor;
  Prefill* prefill = nullptr;  // may be null: nothing is prefilled
};

void register_preview_pages(web::Router& router, const web::Pages& pages, Forms& forms,
                            PageOptions options);
void register_editor_pages(web::Router& router, const web::Pages& pages, Forms& forms,
                           catalog::Catalog& catalog, PageOptions options);

}  // namespace mvsp::forms
