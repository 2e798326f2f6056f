#include <mvsp/cases/component.hpp>
// (own header first)
#include <fmt/format.h>

#include <algorithm>
#include <mvsp/cases/cases.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/catalog/component.hpp>
#include <mvsp/core/blob_sweep.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/ports.hpp>

#include "routes.hpp"

namespace mvsp::cases {
namespace {

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "cases"; }
  std::vector<std::string_view> needs() const override { return {"identity", "catalog"}; }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }

  // Its own blob store: the platform's is the mailbox's, whose sweep removes every blob
  // that no mailbox row names.
  void build(web::Platform& p) override {
    blobs_ = std::make_unique<core::BlobStore>(p.data_dir / "cases", p.master_key);
    cases_ = std::make_unique<Cases>(p.db, p.ports.clock, p.ports.ids, p.jobs, p.audit, *blobs_);
    p.services.offer(*cases_);
  }

  void routes(web::Platform& p) override {
    if (!p.runs(name())) return;
    auto& staff = p.services.need<catalog::StaffRoles>();
    auto& catalog = p.services.need<catalog::Catalog>();
    register_staff_pages(
        p.router, p.pages, *cases_,
        {.roles_of = [&staff](const std::string& account) { return staff.roles_of(account); },
         .authorities_of =
             [&catalog](const std::vector<std::string>& ids) {
               std::vector<std::pair<std::string, std::string>> out;
               for (const auto& a : catalog.authorities()) {
                 if (std::find(ids.begin(), ids.end(), a.tenant_id) != ids.end()) {
                   out.emplace_back(a.id, a.name);
                 }
               }
               std::ranges::sort(out, {}, &std::pair<std::string, std::string>::second);
               return out;
             }});
  }

  void jobs(web::Platform& p) override {
    if (!p.runs(name())) return;
    p.runner.every(
        "cases.remove_unnamed_documents", core::kUnnamedBlobSweepPeriod, [this](core::JobContext&) {
          if (auto n = cases_->remove_unnamed_documents(); n > 0) {
            core::log::info("cases.unnamed_documents_removed", {{"count", std::to_string(n)}});
          }
          return core::JobOutcome::ok();
        });
  }

 private:
  std::unique_ptr<core::BlobStore> blobs_;
  std::unique_ptr<Cases> cases_;
};

}  // namespace

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::cases
