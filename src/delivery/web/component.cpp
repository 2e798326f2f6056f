#include <fmt/format.h>

#include <mvsp/core/blob_sweep.hpp>
#include <mvsp/core/config.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/pki.hpp>
#include <mvsp/delivery/api.hpp>
#include <mvsp/delivery/component.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/machine_clients.hpp>
#include <mvsp/web/metrics.hpp>
#include <mvsp/web/ports.hpp>

namespace mvsp::delivery {
namespace {

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "delivery"; }
  std::vector<std::string_view> needs() const override { return {"identity", "mailbox"}; }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }
  void configure(core::Config& config) override { settings_ = read_settings(config); }
  bool takes_machine_clients() const override { return true; }

  void build(web::Platform& p) override {
    auto options = settings_.options;
    options.public_url = p.public_url;
    options.master_key = p.master_key;
    options.data_dir = p.data_dir;
    options.texts = &p.texts;
    options.fetch = p.ports.http(std::chrono::seconds(10));
    delivery_ = std::make_unique<Delivery>(p.db, p.ports.clock, p.ports.ids, p.jobs, p.audit,
                                           p.services.need<Senders>(), std::move(options));
    delivery_->add_adapter(
        make_mvsp_adapter(p.services.need<mailbox::Mailbox>(), Delivery::kMailboxEventJob));
    for (const auto& m : settings_.mailboxes) {
      auto pair = m.author_key_pem.empty()
                      ? core::pki::load_or_create_key_pair(p.data_dir / "delivery-keys", m.type,
                                                           "mvsp Postfachdienst")
                      : core::pki::KeyPair{m.author_key_pem, m.author_certificate_pem};
      delivery_->add_adapter(
          make_zbp_adapter({.type = m.type,
                            .endpoint = m.endpoint,
                            .author_key_pem = pair.private_key_pem,
                            .author_certificate_pem = pair.certificate_pem,
                            .service = settings_.service,
                            .bearer_token = m.bearer_token,
                            .clock = &p.ports.clock,
                            .fetch = p.ports.http(std::chrono::seconds(m.timeout_seconds))}));
    }
    p.services.offer(*delivery_);
    p.metrics.add_source([this](std::string& out) {
      out +=
          "# HELP mvsp_delivery_notices Notices of the delivery service by status.\n"
          "# TYPE mvsp_delivery_notices gauge\n";
      for (const auto& [status, n] : delivery_->counts()) {
        out += fmt::format("mvsp_delivery_notices{{status=\"{}\"}} {}\n", status, n);
      }
    });
  }

  void routes(web::Platform& p) override {
    if (!p.runs(name())) return;
    auto& clients = p.services.need<web::MachineClients>();
    register_api(p.router, *delivery_,
                 {.authenticate = [&clients](const web::Request& req) -> std::optional<Caller> {
                   auto client = clients.authenticate(req);
                   if (!client) return std::nullopt;
                   return Caller{client->client_id, client->tenant_id, client->scopes};
                 }});
  }

  void jobs(web::Platform& p) override {
    if (!p.runs(name())) return;
    delivery_->register_jobs(p.runner);
    p.runner.every("delivery.delete_expired_documents", p.sweep_every, [this](core::JobContext&) {
      if (auto n = delivery_->delete_expired_documents(); n > 0) {
        core::log::info("delivery.documents_deleted", {{"notices", std::to_string(n)}});
      }
      delivery_->forget_past_quota_days();
      return core::JobOutcome::ok();
    });
    p.runner.every(
        "delivery.remove_unnamed_documents", core::kUnnamedBlobSweepPeriod,
        [this](core::JobContext&) {
          if (auto n = delivery_->remove_unnamed_documents(); n > 0) {
            core::log::info("delivery.unnamed_documents_removed", {{"count", std::to_string(n)}});
          }
          return core::JobOutcome::ok();
        });
  }

 private:
  Settings settings_;
  std::unique_ptr<Delivery> delivery_;
};

}  // namespace

Settings read_settings(core::Config& config) {
  Settings s;
  auto& o = s.options;
  auto delivery = config.section("delivery");
  o.retry_window =
      std::chrono::hours(delivery.integer("retry_hours", o.retry_window.count(), 1, 24 * 30));
  o.first_retry = std::chrono::seconds(delivery.integer(
      "first_retry_seconds",
      std::chrono::duration_cast<std::chrono::seconds>(o.first_retry).count(), 1, 3600));
  o.max_retry_delay = std::chrono::minutes(delivery.integer(
      "max_retry_minutes",
      std::chrono::duration_cast<std::chrono::minutes>(o.max_retry_delay).count(), 1, 24 * 60));
  o.keep_documents = std::chrono::hours(
      24 * delivery.integer("keep_documents_days", o.keep_documents.count() / 24, 0, 3650));
  o.max_document_bytes =
      static_cast<std::size_t>(delivery.integer(
          "max_document_mb", static_cast<std::int64_t>(o.max_document_bytes >> 20), 1, 1024))
      << 20;
  o.limits.rate_per_second = static_cast<double>(delivery.integer(
      "rate_per_second", static_cast<std::int64_t>(o.limits.rate_per_second), 1, 100000));
  o.limits.burst = static_cast<int>(delivery.integer("burst", o.limits.burst, 1, 100000));
  o.limits.daily_quota =
      static_cast<int>(delivery.integer("daily_quota", o.limits.daily_quota, 0, 100000000));
  s.service = delivery.string("service", s.service);
  for (const auto& type : config.subsections("delivery")) {
    auto key = "delivery." + type;
    auto sec = config.section(key);
    if (type != "bundid" && type != "muk") {
      sec.reject("endpoint",
                 fmt::format("[{}]: mailbox types with an endpoint are bundid and muk", key));
      continue;
    }
    ExternalMailbox m{.type = type};
    m.endpoint = sec.string("endpoint", "");
    while (m.endpoint.ends_with('/')) m.endpoint.pop_back();
    if (!m.endpoint.starts_with("https://") && !m.endpoint.starts_with("http://")) {
      sec.reject("endpoint", fmt::format("{}.endpoint must be an http(s) URL", key));
    }
    if (sec.string("author_key", "").empty() != sec.string("author_certificate", "").empty()) {
      sec.reject("author_key", fmt::format("{0}.author_key and {0}.author_certificate go together "
                                           "(neither: a generated pair in the data directory)",
                                           key));
    }
    m.author_key_pem = sec.pem_file("author_key");
    m.author_certificate_pem = sec.pem_file("author_certificate", "CERTIFICATE");
    m.bearer_token = sec.string("bearer_token", "");
    m.timeout_seconds = static_cast<int>(sec.integer("timeout_seconds", m.timeout_seconds, 1, 600));
    s.mailboxes.push_back(m);
  }
  return s;
}

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::delivery
