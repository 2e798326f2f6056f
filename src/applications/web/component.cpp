#include <fmt/format.h>

#include <mvsp/applications/applications.hpp>
#include <mvsp/applications/component.hpp>
#include <mvsp/cases/cases.hpp>
#include <mvsp/cases/casework.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/blob_sweep.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/config.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/forms/component.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/identity/component.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/machine_clients.hpp>
#include <mvsp/web/ports.hpp>

#include "routes.hpp"

namespace mvsp::applications {
namespace {

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "applications"; }
  std::vector<std::string_view> needs() const override {
    return {"identity", "catalog", "forms", "payments", "mailbox", "cases"};
  }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }
  bool takes_machine_clients() const override { return true; }
  std::vector<Subscription> subscriptions() const override {
    return {{std::string(cases::kCaseStateChanged), std::string(kFollowCaseJob)},
            {std::string(cases::kCaseRequestReminder), std::string(kRequestReminderJob)},
            {std::string(cases::kCaseMessage), std::string(kMessageJob)},
            {std::string(cases::kCaseForwarded), std::string(kForwardedJob)}};
  }

  void configure(core::Config& config) override {
    auto section = config.section("applications");
    options_.guest_starts_per_address = static_cast<int>(
        section.integer("guest_starts_per_address", options_.guest_starts_per_address, 1, 1000));
    options_.guest_starts_per_client = static_cast<int>(
        section.integer("guest_starts_per_client", options_.guest_starts_per_client, 1, 100000));
  }

  void build(web::Platform& p) override {
    options_.public_url = p.public_url;
    options_.master_key = p.master_key;
    // its own store: the documents are its own, swept against its own rows
    blobs_ = std::make_unique<core::BlobStore>(p.data_dir / "applications", p.master_key);
    auto& accounts = p.services.need<identity::Accounts>();
    Parts parts{.catalog = p.services.need<catalog::Catalog>(),
                .forms = p.services.need<forms::Forms>(),
                .payments = p.services.need<payments::Payments>(),
                .cases = p.services.need<cases::Cases>(),
                .casework = p.services.need<cases::Casework>(),
                .mailbox = p.services.need<mailbox::Mailbox>(),
                .scanner = p.scanner,
                .texts = p.texts,
                .account_contact = [&accounts](const std::string& id)
                    -> std::optional<std::pair<std::string, std::string>> {
                  auto a = accounts.find(id);
                  if (!a) return std::nullopt;
                  auto name = a->profile.given_name + " " + a->profile.family_name;
                  if (name == " ") name.clear();
                  return std::pair{name, a->email};
                },
                .owner_addresses =
                    [&owners = p.services.need<mailbox::Owners>()](const std::string& id) {
                      return owners.notify_addresses(id).value_or(std::vector<std::string>{});
                    }};
    apps_ = std::make_unique<Applications>(p.db, p.ports.clock, p.ports.ids, p.jobs, p.audit,
                                           *blobs_, std::move(parts), options_);
    p.services.offer(*apps_);
  }

  void routes(web::Platform& p) override {
    if (!p.runs(name())) return;
    const auto& settings = p.services.need<identity::Settings>();
    register_pages(p.router, p.pages, *apps_,
                   {.clock = &p.ports.clock,
                    .step_up_lifetime = settings.step_up_lifetime,
                    .has_upstream = !settings.upstreams.empty(),
                    .organisations = &p.services.need<identity::Organisations>(),
                    .accounts = &p.services.need<identity::Accounts>(),
                    .sessions = &p.sessions,
                    .catalog = &p.services.need<catalog::Catalog>(),
                    .forms = &p.services.need<forms::Forms>(),
                    .prefill = p.services.find<forms::Prefill>(),
                    .mailbox = &p.services.need<mailbox::Mailbox>()});
    register_api(p.router, *apps_, p.services.need<identity::Provider>(),
                 p.services.need<web::MachineClients>());
  }

  void demo(web::Platform& p, web::Demo& demo) override {
    if (!demo.vorgaenge) return;
    auto name = [&](const std::string& key) {
      auto it = demo.names.find(key);
      if (it == demo.names.end()) throw core::Failure("demo Vorgänge: no " + key);
      return it->second;
    };
    auto line = load_demo_vorgaenge({.apps = *apps_,
                                     .work = p.services.need<cases::Casework>(),
                                     .payments = p.services.need<payments::Payments>(),
                                     .clock = p.ports.clock,
                                     .run_jobs = [&p] { p.runner.run_due(); },
                                     .citizen = name("account:erika.mustermann@example.org"),
                                     .clerk = name("account:sachbearbeitung.wismar@example.org"),
                                     .tenant = name("tenant:wismar"),
                                     .information_tenant = name("tenant:mbd")});
    for (const auto& l : line) demo.loaded.push_back("applications: " + l);
  }

  // The hand-over and the notices run wherever the component is built; the periodic work
  // only where it runs.
  void jobs(web::Platform& p) override {
    apps_->register_jobs(p.runner);
    if (!p.runs(name())) return;
    p.runner.every("applications.sweep", p.sweep_every, [this](core::JobContext&) {
      auto reminded = apps_->remind_drafts();
      auto expired = apps_->expire_drafts();
      auto deleted = apps_->apply_retention();
      if (reminded + expired + deleted > 0) {
        core::log::info("applications.swept", {{"reminded", std::to_string(reminded)},
                                               {"expired", std::to_string(expired)},
                                               {"retention", std::to_string(deleted)}});
      }
      return core::JobOutcome::ok();
    });
    p.runner.every("applications.remove_unnamed_documents", core::kUnnamedBlobSweepPeriod,
                   [this](core::JobContext&) {
                     if (auto n = apps_->remove_unnamed_documents(); n > 0) {
                       core::log::info("applications.unnamed_documents_removed",
                                       {{"count", std::to_string(n)}});
                     }
                     return core::JobOutcome::ok();
                   });
  }

 private:
  ApplicationsOptions options_;
  std::unique_ptr<core::BlobStore> blobs_;
  std::unique_ptr<Applications> apps_;
};

}  // namespace

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::applications
