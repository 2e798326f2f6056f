#include <fmt/format.h>

#include <algorithm>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/catalog/component.hpp>
#include <mvsp/core/config.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/payments/component.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/machine_clients.hpp>
#include <mvsp/web/metrics.hpp>
#include <mvsp/web/ports.hpp>

#include "routes.hpp"

namespace mvsp::payments {
namespace {

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "payments"; }
  std::vector<std::string_view> needs() const override { return {"identity", "catalog"}; }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }
  void configure(core::Config& config) override { settings_ = read_settings(config); }
  bool takes_machine_clients() const override { return true; }

  void build(web::Platform& p) override {
    auto options = settings_.options;
    options.public_url = p.public_url;
    options.master_key = p.master_key;
    options.fetch = p.ports.http(std::chrono::seconds(10));
    payments_ = std::make_unique<Payments>(p.db, p.ports.clock, p.ports.ids, p.jobs, p.audit,
                                           std::move(options));
    for (const auto& s : settings_.providers) {
      auto o = s.options;
      o.fetch = p.ports.http(std::chrono::seconds(s.timeout_seconds));
      payments_->add_provider(make_xbezahldienste_provider(std::move(o)));
    }
    p.services.offer(*payments_);
    p.metrics.add_source([this](std::string& out) {
      out +=
          "# HELP mvsp_payments_orders Payment orders by public status.\n"
          "# TYPE mvsp_payments_orders gauge\n";
      for (const auto& [status, n] : payments_->counts()) {
        out += fmt::format("mvsp_payments_orders{{status=\"{}\"}} {}\n", status, n);
      }
    });
  }

  void routes(web::Platform& p) override {
    if (!p.runs(name())) return;
    register_api(p.router, *payments_, p.services.need<web::MachineClients>(), p.public_url);
    auto& staff = p.services.need<catalog::StaffRoles>();
    PageOptions options{
        .public_url = p.public_url,
        .clock = &p.ports.clock,
        .roles_of = [&staff](const std::string& account) { return staff.roles_of(account); },
        .provider_origins = {},
        .authorities_of =
            [&catalog = p.services.need<catalog::Catalog>()](const std::vector<std::string>& ids) {
              std::vector<std::tuple<std::string, std::string, std::string>> out;
              for (const auto& a : catalog.authorities()) {
                if (std::find(ids.begin(), ids.end(), a.tenant_id) != ids.end()) {
                  out.emplace_back(a.id, a.name, a.tenant_id);
                }
              }
              return out;
            },
        .provider_names = payments_->provider_names()};
    for (const auto& s : settings_.providers) {
      options.provider_origins[s.options.name] = s.page_origin;
    }
    register_pages(p.router, p.pages, *payments_, options);
    register_staff_pages(p.router, p.pages, *payments_, options);
  }

  void jobs(web::Platform& p) override {
    if (!p.runs(name())) return;
    payments_->register_jobs(p.runner);
    p.runner.every("payments.sweep", settings_.sweep_every, [this](core::JobContext&) {
      auto expired = payments_->expire_due();
      auto reconciled = payments_->reconcile();
      if (expired + reconciled > 0) {
        core::log::info("payments.swept", {{"expired", std::to_string(expired)},
                                           {"reconciled", std::to_string(reconciled)}});
      }
      return core::JobOutcome::ok();
    });
    // Yesterday's booking files (and any day of the last week that has none yet).
    p.runner.every("payments.daily_export", std::chrono::hours(1), [this](core::JobContext&) {
      if (auto n = payments_->write_daily_exports(); n > 0) {
        core::log::info("payments.exports_written", {{"files", std::to_string(n)}});
      }
      return core::JobOutcome::ok();
    });
  }

  // Every demo authority takes payments: online through the first configured provider
  // (the simulator in data/demo/mvsp.toml) and by invoice, into a demo account.
  void demo(web::Platform& p, web::Demo& demo) override {
    auto& catalog = p.services.need<catalog::Catalog>();
    auto providers = payments_->provider_names();
    int n = 0;
    for (const auto& a : catalog.authorities()) {
      if (a.tenant_id.empty() || payments_->account(a.id)) continue;
      Account account{.authority_id = a.id,
                      .tenant_id = a.tenant_id,
                      .authority_name = a.name,
                      // The city's cash office takes the money of its offices.
                      .payee = a.name.substr(0, std::min<std::size_t>(a.name.find(','), 70)),
                      // A test IBAN (correct check digits, no real account).
                      .iban = "DE02120300000000202051",
                      .bic = "BYLADEM1001",
                      .budget_position = "1.1.2.01.432100",
                      .booking_account = "43210000",
                      .kassenzeichen = {"5{YY}{N:7}{P}", "luhn"},
                      .provider = providers.empty() ? std::string() : providers.front(),
                      .endpoint_id = a.region.substr(0, 36),
                      .invoice = true,
                      .invoice_days = 14};
      auto saved = payments_->save_account(account, "system:demo");
      if (!saved) {
        throw core::Failure("demo payment account of " + a.id + ": " +
                            (saved.error().fields.empty()
                                 ? saved.error().message
                                 : saved.error().fields.front().field + " " +
                                       saved.error().fields.front().message));
      }
      ++n;
    }
    std::string payable;
    for (const auto& a : payments_->accounts({demo.names["tenant:schwerin"]})) {
      payable += (payable.empty() ? "" : ", ") + a.authority_id;
    }
    demo.loaded.push_back(fmt::format(
        "payments: {} new demo payment accounts; payments for the authorities {}", n, payable));
  }

 private:
  Settings settings_;
  std::unique_ptr<Payments> payments_;
};

}  // namespace

Settings read_settings(core::Config& config) {
  Settings s;
  auto sec = config.section("payments");
  s.options.expire_after =
      std::chrono::minutes(sec.integer("expire_minutes", s.options.expire_after.count(), 5, 1440));
  s.options.reconcile_after = std::chrono::seconds(
      sec.integer("reconcile_after_seconds", s.options.reconcile_after.count(), 10, 86400));
  s.sweep_every =
      std::chrono::seconds(sec.integer("sweep_seconds", s.sweep_every.count(), 5, 3600));
  for (const auto& name : config.subsections("payments.providers")) {
    auto key = "payments.providers." + name;
    auto p = config.section(key);
    ProviderSettings ps;
    auto& o = ps.options;
    o.name = name;
    (void)p.choice("type", "xbezahldienste", {"xbezahldienste"});
    o.base_url = p.string("base_url", "");
    while (o.base_url.ends_with('/')) o.base_url.pop_back();
    if (!o.base_url.starts_with("https://") && !o.base_url.starts_with("http://")) {
      p.reject("base_url", fmt::format("{}.base_url must be an http(s) URL", key));
    }
    o.originator_id = p.string("originator_id", "");
    if (o.originator_id.empty() || o.originator_id.size() > 36) {
      p.reject("originator_id", fmt::format("{}.originator_id is required (1-36 characters)", key));
    }
    o.basic_user = p.string("user", "");
    o.basic_password = p.string("password", "");
    o.bearer_token = p.string("bearer_token", "");
    o.extensions = p.boolean("extensions", false);
    o.notification_secret = p.string("notification_secret", "");
    if (o.extensions && o.notification_secret.size() < 16) {
      p.reject(
          "notification_secret",
          fmt::format("{}.notification_secret needs at least 16 characters with extensions", key));
    }
    ps.timeout_seconds = static_cast<int>(p.integer("timeout_seconds", ps.timeout_seconds, 1, 120));
    // The provider's payment page may live elsewhere than its API.
    ps.page_origin = p.string("page_origin", "");
    if (ps.page_origin.empty() && o.base_url.starts_with("http")) {
      try {
        ps.page_origin = web::origin_of(o.base_url);
      } catch (const std::exception&) {
        p.reject("base_url", fmt::format("{}.base_url is not a URL", key));
      }
    } else if (!ps.page_origin.empty() && (!ps.page_origin.starts_with("https://") &&
                                           !ps.page_origin.starts_with("http://"))) {
      p.reject("page_origin", fmt::format("{}.page_origin must be an http(s) origin", key));
    }
    s.providers.push_back(std::move(ps));
  }
  return s;
}

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::payments
