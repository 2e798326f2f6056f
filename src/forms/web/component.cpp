#include <fmt/format.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/catalog/component.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/metrics.hpp>
#include <mvsp/web/ports.hpp>
#include <mvsp/web/sessions.hpp>

#include "pages.hpp"

namespace mvsp::forms {
namespace {

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "forms"; }
  std::vector<std::string_view> needs() const override { return {"identity", "catalog"}; }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }

  void build(web::Platform& p) override {
    auto& catalog = p.services.need<catalog::Catalog>();
    forms_ = std::make_unique<Forms>(p.db, p.ports.clock, p.audit, catalog);
    p.services.offer(*forms_);
    // an online service points only to a form version that is published
    catalog.check_forms_with([this](std::string_view key, int version) {
      return forms_->published(key, version).has_value();
    });
    p.metrics.add_source([this](std::string& out) {
      out += fmt::format(
          "# HELP mvsp_forms_undecodable_rows_total Form versions left out because their stored "
          "definition no longer reads.\n"
          "# TYPE mvsp_forms_undecodable_rows_total counter\n"
          "mvsp_forms_undecodable_rows_total {}\n",
          forms_->undecodable_rows());
    });
  }

  void routes(web::Platform& p) override {
    if (!p.runs(name())) return;
    auto& catalog = p.services.need<catalog::Catalog>();
    auto& staff = p.services.need<catalog::StaffRoles>();
    PageOptions options{.clock = &p.ports.clock,
                        .editor =
                            [&catalog, &staff](const web::Request& req) {
                              return catalog::session_editor(req, staff, catalog);
                            },
                        .prefill = p.services.find<Prefill>()};
    register_preview_pages(p.router, p.pages, *forms_, options);
    register_editor_pages(p.router, p.pages, *forms_, catalog, options);
  }

  // The demo forms, published by the state's editorial office; a form whose latest
  // published version has the same definition is left as it is. The demo catalog's online
  // services point to their first versions (data/demo-catalog.json in catalog).
  void demo(web::Platform&, web::Demo& demo) override {
    catalog::Editor system{.actor = "system:demo", .state_wide = true, .tenant_ids = {}};
    int loaded = 0;
    auto all = demo_forms();
    for (const auto& json : all) {
      auto form = parse_form(json);
      if (!form)
        throw core::Failure("demo form does not read: " + form.error().fields.front().field);
      auto current = forms_->published(form->key);
      if (current && to_json(current->form) == to_json(*form)) continue;
      auto saved = forms_->save_draft(system, "", json);
      if (!saved) throw core::Failure("demo form " + form->key + ": " + saved.error().message);
      if (!forms_->publish(system, form->key))
        throw core::Failure("demo form " + form->key + " not published");
      ++loaded;
    }
    demo.loaded.push_back(
        fmt::format("forms: {} demo forms ({} new or changed)", all.size(), loaded));
  }

 private:
  std::unique_ptr<Forms> forms_;
};

}  // namespace

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::forms
