#include <fmt/format.h>

#include <mvsp/catalog/api.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/catalog/component.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/machine_clients.hpp>
#include <mvsp/web/metrics.hpp>
#include <mvsp/web/ports.hpp>
#include <mvsp/web/sessions.hpp>

namespace mvsp::catalog {
namespace {

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "catalog"; }
  std::vector<std::string_view> needs() const override { return {"identity"}; }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }
  bool takes_machine_clients() const override { return true; }

  void build(web::Platform& p) override {
    catalog_ = std::make_unique<Catalog>(p.db, p.ports.clock, p.ports.ids, p.audit);
    p.services.offer(*catalog_);
    p.metrics.add_source([this](std::string& out) {
      out += fmt::format(
          "# HELP mvsp_catalog_undecodable_rows_total Catalog rows left out of answers because "
          "their stored data no longer decodes.\n"
          "# TYPE mvsp_catalog_undecodable_rows_total counter\n"
          "mvsp_catalog_undecodable_rows_total {}\n",
          catalog_->undecodable_rows());
    });
  }

  void routes(web::Platform& p) override {
    if (!p.runs(name())) return;
    auto& clients = p.services.need<web::MachineClients>();
    register_api(p.router, *catalog_,
                 {.public_url = p.public_url,
                  .editor = [&clients](const web::Request& req) -> std::optional<Editor> {
                    auto client = clients.authenticate(req);
                    if (!client) return std::nullopt;
                    return client_editor(client->client_id, client->tenant_id, client->scopes);
                  }});
    auto& staff = p.services.need<StaffRoles>();
    register_editor_pages(p.router, p.pages, *catalog_,
                          {.editor = [this, &staff](const web::Request& req) {
                            return session_editor(req, staff, *catalog_);
                          }});
  }

  // Real services and places, authorities with plausible contacts. An import replaces
  // entries with the same keys, so loading again changes nothing.
  void demo(web::Platform&, web::Demo& demo) override {
    // Its authorities of Schwerin and Wismar, and the Munitionsbergungsdienst, belong to the
    // demo tenants that identity's demo made.
    auto schwerin = demo.names.find("tenant:schwerin");
    auto wismar = demo.names.find("tenant:wismar");
    auto mbd = demo.names.find("tenant:mbd");
    if (schwerin == demo.names.end() || wismar == demo.names.end() || mbd == demo.names.end()) {
      throw core::Failure("demo catalog: no demo tenants");
    }
    auto json = core::fill_placeholders(demo_catalog_json(), {{"tenant:schwerin", schwerin->second},
                                                              {"tenant:wismar", wismar->second},
                                                              {"tenant:mbd", mbd->second}});
    auto imported =
        catalog_->import_json({.actor = "system:demo", .state_wide = true, .tenant_ids = {}}, json);
    if (!imported) {
      auto message = imported.error().message;
      for (const auto& f : imported.error().fields) message += "; " + f.field + ": " + f.message;
      throw core::Failure("demo catalog: " + message);
    }
    demo.loaded.push_back(fmt::format("catalog: {} services, {} authorities, {} online services",
                                      catalog_->services().size(), catalog_->authorities().size(),
                                      catalog_->online_services().size()));
  }

 private:
  std::unique_ptr<Catalog> catalog_;
};

}  // namespace

std::optional<Editor> session_editor(const web::Request& req, StaffRoles& staff, Catalog& catalog) {
  if (!req.session || req.session->account_id.empty()) return std::nullopt;
  const auto& id = req.session->account_id;
  return staff_editor(id, staff.roles_of(id), catalog.authorities());
}

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::catalog
