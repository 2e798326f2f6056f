#include <mvsp/core/blob_sweep.hpp>
#include <mvsp/core/config.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/identity/accounts.hpp>
#include <mvsp/identity/component.hpp>
#include <mvsp/identity/model.hpp>
#include <mvsp/identity/organisations.hpp>
#include <mvsp/mailbox/component.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/mailbox/pages.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/ports.hpp>

namespace mvsp::mailbox {
namespace {

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "mailbox"; }
  std::vector<std::string_view> needs() const override { return {"identity"}; }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }
  void configure(core::Config& config) override { read_settings(config, options_); }

  void build(web::Platform& p) override {
    options_.public_url = p.public_url;
    mailbox_ = std::make_unique<Mailbox>(p.db, p.ports.clock, p.ports.ids, p.jobs, p.audit, p.blobs,
                                         p.services.need<Owners>(), p.texts, options_);
    p.services.offer(*mailbox_);
  }

  // What the mailbox keeps of a deleted account or organisation goes with it.
  std::vector<Subscription> subscriptions() const override {
    return {{std::string(identity::kAccountDeleted), std::string(Mailbox::kEraseOwnerJob)},
            {std::string(identity::kOrganisationDeleted), std::string(Mailbox::kEraseOwnerJob)}};
  }

  void routes(web::Platform& p) override {
    if (!p.runs(name())) return;
    const auto& settings = p.services.need<identity::Settings>();
    register_pages(p.router, p.pages, *mailbox_, p.services.need<identity::Organisations>(),
                   p.services.need<identity::Accounts>(),
                   {.clock = &p.ports.clock,
                    .step_up_lifetime = settings.step_up_lifetime,
                    .has_upstream = !settings.upstreams.empty()});
  }

  // Where only the delivery service runs, its notices still arrive in the mailbox: the
  // mailbox's jobs run wherever it is built.
  // The overdue reminders and the sweep of unnamed documents only where the mailbox runs.
  void jobs(web::Platform& p) override {
    mailbox_->register_jobs(p.runner);
    if (!p.runs(name())) return;
    p.runner.every("mailbox.report_overdue", p.sweep_every, [this](core::JobContext&) {
      if (auto n = mailbox_->report_overdue(); n > 0) {
        core::log::info("mailbox.overdue_reported", {{"count", std::to_string(n)}});
      }
      return core::JobOutcome::ok();
    });
    p.runner.every(
        "mailbox.remove_unnamed_documents", core::kUnnamedBlobSweepPeriod,
        [this](core::JobContext&) {
          if (auto n = mailbox_->remove_unnamed_documents(); n > 0) {
            core::log::info("mailbox.unnamed_documents_removed", {{"count", std::to_string(n)}});
          }
          return core::JobOutcome::ok();
        });
  }

 private:
  MailboxOptions options_;
  std::unique_ptr<Mailbox> mailbox_;
};

}  // namespace

void read_settings(core::Config& config, MailboxOptions& options) {
  auto section = config.section("mailbox");
  options.deemed_after_days =
      static_cast<int>(section.integer("deemed_after_days", options.deemed_after_days, 0, 60));
  options.retrieval_period_days = static_cast<int>(
      section.integer("retrieval_period_days", options.retrieval_period_days, 1, 365));
}

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::mailbox
