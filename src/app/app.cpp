#include "app.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mvsp/catalog/api.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/mail.hpp>
#include <mvsp/core/migrations.hpp>
#include <mvsp/core/pki.hpp>
#include <mvsp/delivery/api.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/finder/finder.hpp>
#include <mvsp/finder/pages.hpp>
#include <mvsp/identity/federation.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/mailbox/pages.hpp>
#include <mvsp/web/metrics.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/resources.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/server.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/shell.hpp>
#include <mvsp/web/site.hpp>
#include <mvsp/web/static_files.hpp>
#include <mvsp/web/templates.hpp>
#include <thread>

#include "bridges.hpp"
#include "http_client.hpp"

namespace mvsp::app {
namespace fs = std::filesystem;
namespace {

std::filesystem::path default_static_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "static";
  // build/mvsp -> build/static; tests in build/tests/… look two levels up as well.
  for (auto dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
       dir = dir.parent_path()) {
    if (fs::exists(dir / "static" / "kern" / "kern.min.css")) return dir / "static";
  }
  return exe.parent_path() / "static";
}

// The master key from the configuration, or one generated once into the data directory.
// Documents, TOTP secrets and device cookies are protected with keys derived from it.
std::string master_key(const Settings& s) {
  std::string key;
  if (!s.master_key_hex.empty()) {
    core::crypto::from_hex(s.master_key_hex, key);
    return key;
  }
  auto path = s.data_dir / "master.key";
  if (fs::exists(path)) {
    std::ifstream in(path);
    std::string hex;
    in >> hex;
    if (!core::crypto::from_hex(hex, key) || key.size() != 32) {
      throw core::Failure(fmt::format("{} does not hold 64 hexadecimal characters", path.string()));
    }
    return key;
  }
  key = core::crypto::random_bytes(32);
  {
    std::ofstream out(path);
    out << core::crypto::to_hex(key) << '\n';
  }
  ::chmod(path.c_str(), S_IRUSR | S_IWUSR);
  core::log::warn(
      "secrets.master_key_generated",
      {{"path", path.string()}, {"hint", "back this file up; every instance needs the same key"}});
  return key;
}

std::string worker_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return fmt::format("{}:{}", host, ::getpid());
}

}  // namespace

// A machine client writes the catalog with scope catalog:admin (the state's editorial
// office) or catalog:write (the authorities of its tenant).
std::optional<catalog::Editor> api_editor(identity::Provider& oidc, const web::Request& req) {
  auto auth = req.header("authorization").value_or("");
  if (!auth.starts_with("Bearer ")) return std::nullopt;
  auto grant = oidc.check_machine_token(auth.substr(7));
  if (!grant) return std::nullopt;
  auto has = [&](const char* scope) {
    return std::find(grant->scopes.begin(), grant->scopes.end(), scope) != grant->scopes.end();
  };
  if (!has("catalog:admin") && !has("catalog:write")) return std::nullopt;
  catalog::Editor e{.actor = "client:" + grant->client_id, .state_wide = has("catalog:admin")};
  if (!grant->tenant_id.empty()) e.tenant_ids.push_back(grant->tenant_id);
  return e;
}

// A machine client of the delivery service: its tenant and scopes from the bearer token.
std::optional<delivery::Caller> api_caller(identity::Provider& oidc, const web::Request& req) {
  auto auth = req.header("authorization").value_or("");
  if (!auth.starts_with("Bearer ")) return std::nullopt;
  auto grant = oidc.check_machine_token(auth.substr(7));
  if (!grant) return std::nullopt;
  return delivery::Caller{grant->client_id, grant->tenant_id, grant->scopes};
}

// Staff with the role `editor` edit their tenant's authorities; editors of a tenant that
// runs a state-level authority (region "13"), and operators, edit the state's catalog.
std::optional<catalog::Editor> session_editor(identity::Identity& identity,
                                              catalog::Catalog& catalog, const web::Request& req) {
  if (!req.session || req.session->account_id.empty()) return std::nullopt;
  const auto& id = req.session->account_id;
  catalog::Editor e{.actor = "account:" + id};
  bool editor = false;
  for (const auto& [tenant, role] : identity.staff.roles_of(id)) {
    if (role == "editor") {
      e.tenant_ids.push_back(tenant);
      editor = true;
    } else if (role == "operator") {
      e.state_wide = editor = true;
    }
  }
  if (!editor) return std::nullopt;
  for (const auto& a : catalog.authorities()) {
    if (a.region == catalog::kStateKey &&
        std::find(e.tenant_ids.begin(), e.tenant_ids.end(), a.tenant_id) != e.tenant_ids.end()) {
      e.state_wide = true;
    }
  }
  return e;
}

std::vector<core::Migration> all_migrations() {
  std::vector<core::Migration> all;
  for (auto& m : core::migrations_from("core", core::embedded_resources())) all.push_back(m);
  for (auto& m : core::migrations_from("web", web::embedded_resources())) all.push_back(m);
  for (auto& m : core::migrations_from("identity", identity::embedded_resources())) {
    all.push_back(m);
  }
  for (auto& m : core::migrations_from("catalog", catalog::embedded_resources())) {
    all.push_back(m);
  }
  for (auto& m : core::migrations_from("mailbox", mailbox::embedded_resources())) {
    all.push_back(m);
  }
  for (auto& m : core::migrations_from("delivery", delivery::embedded_resources())) {
    all.push_back(m);
  }
  return all;
}

const web::Ports& system_ports() {
  static const core::SystemClock kClock;
  static core::RandomIdGenerator ids;
  static const web::Ports kPorts{.clock = kClock, .ids = ids, .http = network_http};
  return kPorts;
}

struct App::Impl {
  explicit Impl(const web::Ports& p) : clock(p.clock), ids(p.ids), http(p.http) {}

  Settings settings;
  const core::Clock& clock;
  core::IdGenerator& ids;
  web::HttpFetchFactory http;
  std::unique_ptr<core::db::Database> db;
  std::vector<core::Migration> migrations = all_migrations();
  std::unique_ptr<core::JobQueue> jobs;
  std::unique_ptr<core::JobRunner> runner;
  std::unique_ptr<core::AuditLog> audit;
  std::unique_ptr<core::BlobStore> blobs;
  std::string master_key;
  std::unique_ptr<core::Mailer> mailer;

  web::Templates templates;
  web::Catalog catalog;
  web::Router router;
  web::Metrics metrics;
  std::unique_ptr<web::Pages> pages;
  std::unique_ptr<web::SessionStore> sessions;
  std::unique_ptr<web::StaticFiles> static_files;
  std::unique_ptr<web::Site> site;
  std::unique_ptr<web::HttpServer> server;

  std::unique_ptr<identity::Identity> identity;
  std::unique_ptr<identity::Provider> oidc;
  std::unique_ptr<identity::Federation> federation;
  std::unique_ptr<catalog::Catalog> service_catalog;
  std::unique_ptr<finder::Finder> finder;
  std::unique_ptr<MailboxOwners> mailbox_owners;
  std::unique_ptr<TenantSenders> senders;
  std::unique_ptr<mailbox::Mailbox> mailbox;
  std::unique_ptr<delivery::Delivery> delivery;
  // The index keeper: rebuilds the search index when the catalog's revision moves.
  std::thread index_keeper;
  std::mutex index_mutex;
  std::string indexed_revision;
  bool index_dirty = false;

  std::thread maintenance;
  std::mutex maintenance_mutex;
  std::condition_variable maintenance_wake;
  bool stopping = false;
};

App::App(Settings settings, const web::Ports& ports) : impl_(std::make_unique<Impl>(ports)) {
  auto& d = *impl_;
  d.settings = std::move(settings);
  const auto& s = d.settings;
  core::crypto::init();
  fs::create_directories(s.data_dir);
  if (s.database.starts_with("sqlite:")) {
    auto path = fs::path(s.database.substr(7));
    if (path.has_parent_path()) fs::create_directories(path.parent_path());
  }
  d.db = core::db::Database::open(s.database, {.size = s.pool_size, .busy_timeout_ms = 5000});
  core::migrate(*d.db, d.migrations, d.clock);

  d.jobs = std::make_unique<core::JobQueue>(*d.db, d.clock, d.ids);
  d.runner = std::make_unique<core::JobRunner>(
      *d.jobs, *d.db,
      core::WorkerOptions{.threads = s.job_workers,
                          .lease = std::chrono::seconds(s.job_lease_seconds),
                          .idle_poll = std::chrono::milliseconds(500),
                          .name = worker_name()});
  core::register_probe_job(*d.runner, d.clock, worker_name());
  d.audit = std::make_unique<core::AuditLog>(d.clock);
  d.master_key = master_key(s);
  d.blobs = std::make_unique<core::BlobStore>(s.data_dir / "blobs", d.master_key);
  d.mailer = std::make_unique<core::SmtpMailer>(core::SmtpOptions{.host = s.smtp_host,
                                                                  .port = s.smtp_port,
                                                                  .from = s.mail_from,
                                                                  .username = s.smtp_username,
                                                                  .password = s.smtp_password});
  core::register_mail_job(*d.runner, *d.mailer);

  d.templates.add("web", web::embedded_resources());
  d.catalog.add(web::embedded_resources());
  d.templates.add("identity", identity::embedded_resources());
  d.catalog.add(identity::embedded_resources());
  d.templates.add("catalog", catalog::embedded_resources());
  d.catalog.add(catalog::embedded_resources());
  d.templates.add("finder", finder::embedded_resources());
  d.catalog.add(finder::embedded_resources());
  d.templates.add("mailbox", mailbox::embedded_resources());
  d.catalog.add(mailbox::embedded_resources());
  d.catalog.add(delivery::embedded_resources());
  d.pages = std::make_unique<web::Pages>(d.templates, d.catalog);
  // On https the session cookie carries the __Host- prefix: the browser takes it only
  // with Secure, Path=/ and no Domain, so no subdomain can plant or widen it.
  bool https = s.public_url.starts_with("https://");
  d.sessions = std::make_unique<web::SessionStore>(
      *d.db, d.clock,
      web::SessionOptions{.idle = std::chrono::minutes(s.session_idle_minutes),
                          .absolute = std::chrono::hours(s.session_absolute_hours),
                          .cookie_name = https ? "__Host-mvsp_session" : "mvsp_session",
                          .secure_cookie = https});
  d.static_files = std::make_unique<web::StaticFiles>(s.static_dir.empty() ? default_static_dir()
                                                                           : s.static_dir);

  web::register_shell(d.router, *d.pages, d.metrics,
                      {.site_operator = s.site_operator,
                       .ready =
                           [this] {
                             return impl_->db->ping() &&
                                    core::pending_migrations(*impl_->db, impl_->migrations) == 0;
                           },
                       .metrics_token = s.metrics_token,
                       .search = s.runs("finder")});
  d.identity = std::make_unique<identity::Identity>(
      *d.db, d.clock, d.ids, *d.jobs, *d.audit, d.catalog,
      identity::IdentityOptions{
          .public_url = s.public_url,
          .key = d.master_key,
          .unconfirmed_account_lifetime = std::chrono::days(s.unconfirmed_account_days)});
  d.oidc = std::make_unique<identity::Provider>(
      *d.db, d.clock, d.ids, *d.audit, *d.identity,
      identity::ProviderOptions{.issuer = s.public_url, .key = d.master_key});
  d.oidc->ensure_keys();
  if (!s.upstreams.empty()) {
    d.federation = std::make_unique<identity::Federation>(
        *d.db, d.clock, d.ids, *d.audit, *d.identity,
        identity::FederationOptions{.public_url = s.public_url,
                                    .key = d.master_key,
                                    .key_dir = s.data_dir / "saml",
                                    .upstreams = s.upstreams},
        d.http(std::chrono::seconds(10)));
  }
  if (s.runs("identity")) {
    identity::register_pages(d.router, *d.pages, *d.sessions, *d.identity,
                             {.clock = &d.clock,
                              .secure_cookies = https,
                              .oidc = d.oidc.get(),
                              .federation = d.federation.get()});
  }
  // Machine clients get their tokens here, also where the delivery service runs alone.
  if (s.runs("identity") || s.runs("delivery")) {
    identity::register_oidc_endpoints(
        d.router, *d.pages, *d.sessions, *d.oidc,
        {.identity = d.identity.get(),
         .federation = d.federation.get(),
         .clock = &d.clock,
         .step_up_lifetime = std::chrono::minutes(s.step_up_minutes)});
  }
  // The mailbox's store serves the delivery service's own adapter wherever it runs; its
  // pages only where the component runs.
  d.mailbox_owners = std::make_unique<MailboxOwners>(d.identity->organisations);
  d.mailbox = std::make_unique<mailbox::Mailbox>(
      *d.db, d.clock, d.ids, *d.jobs, *d.audit, *d.blobs, *d.mailbox_owners, d.catalog,
      mailbox::MailboxOptions{.public_url = s.public_url,
                              .deemed_after_days = s.deemed_after_days,
                              .retrieval_period_days = s.retrieval_period_days});
  d.mailbox->register_jobs(*d.runner, *d.mailer);
  // What the mailbox keeps of a deleted account or organisation goes with it.
  for (auto event : {identity::kAccountDeleted, identity::kOrganisationDeleted}) {
    d.jobs->subscribe(std::string(event), std::string(mailbox::Mailbox::kEraseOwnerJob));
  }
  if (s.runs("mailbox")) {
    mailbox::register_pages(d.router, *d.pages, *d.mailbox, d.identity->organisations,
                            d.identity->accounts,
                            {.clock = &d.clock,
                             .step_up_lifetime = std::chrono::minutes(s.step_up_minutes),
                             .has_upstream = d.federation != nullptr});
  }
  d.senders = std::make_unique<TenantSenders>(d.identity->staff);
  d.delivery = std::make_unique<delivery::Delivery>(
      *d.db, d.clock, d.ids, *d.jobs, *d.audit, *d.senders,
      delivery::DeliveryOptions{
          .public_url = s.public_url,
          .master_key = d.master_key,
          .data_dir = s.data_dir,
          .retry_window = std::chrono::hours(s.delivery_retry_hours),
          .first_retry = std::chrono::seconds(s.delivery_first_retry_seconds),
          .max_retry_delay = std::chrono::minutes(s.delivery_max_retry_minutes),
          .keep_documents = std::chrono::hours(24 * s.delivery_keep_documents_days),
          .max_document_bytes = static_cast<std::size_t>(s.delivery_max_document_mb) << 20,
          .limits = {.rate_per_second = static_cast<double>(s.delivery_rate_per_second),
                     .burst = s.delivery_burst,
                     .daily_quota = s.delivery_daily_quota},
          .texts = &d.catalog,
          .fetch = d.http(std::chrono::seconds(10))});
  d.delivery->add_adapter(
      delivery::make_mvsp_adapter(*d.mailbox, delivery::Delivery::kMailboxEventJob));
  for (const auto& m : s.external_mailboxes) {
    auto pair = m.author_key_pem.empty()
                    ? core::pki::load_or_create_key_pair(s.data_dir / "delivery-keys", m.type,
                                                         "mvsp Postfachdienst")
                    : core::pki::KeyPair{m.author_key_pem, m.author_certificate_pem};
    d.delivery->add_adapter(
        delivery::make_zbp_adapter({.type = m.type,
                                    .endpoint = m.endpoint,
                                    .author_key_pem = pair.private_key_pem,
                                    .author_certificate_pem = pair.certificate_pem,
                                    .service = s.delivery_service,
                                    .bearer_token = m.bearer_token,
                                    .clock = &d.clock,
                                    .fetch = d.http(std::chrono::seconds(m.timeout_seconds))}));
  }
  if (s.runs("delivery")) {
    delivery::register_api(d.router, *d.delivery, {.authenticate = [this](const web::Request& req) {
                             return api_caller(*impl_->oidc, req);
                           }});
    d.delivery->register_jobs(*d.runner, [this](const std::string& to, const std::string& subject,
                                                const std::string& body) {
      return impl_->mailer->send({.to = to, .subject = subject, .body = body});
    });
  }
  d.service_catalog = std::make_unique<catalog::Catalog>(*d.db, d.clock, d.ids, *d.audit);
  if (s.runs("catalog")) {
    catalog::register_api(d.router, *d.service_catalog,
                          {.public_url = s.public_url, .editor = [this](const web::Request& req) {
                             return api_editor(*impl_->oidc, req);
                           }});
  }
  // Each instance keeps its own search index in a directory of its own.
  d.finder = std::make_unique<finder::Finder>(*d.service_catalog,
                                              s.data_dir / "index" / fmt::format("{}", ::getpid()));
  d.indexed_revision = d.service_catalog->revision();
  d.service_catalog->on_change([this] {
    std::lock_guard lock(impl_->maintenance_mutex);
    impl_->index_dirty = true;
    impl_->maintenance_wake.notify_all();
  });
  if (s.runs("catalog")) {
    catalog::register_editor_pages(
        d.router, *d.pages, *d.service_catalog, {.editor = [this](const web::Request& req) {
          return session_editor(*impl_->identity, *impl_->service_catalog, req);
        }});
  }
  if (s.runs("finder")) {
    finder::register_api(d.router, *d.finder, *d.service_catalog);
    finder::register_pages(d.router, *d.pages, *d.service_catalog, *d.finder);
  }
  d.metrics.add_source([this](std::string& out) {
    out += "# HELP mvsp_jobs Background jobs by state.\n# TYPE mvsp_jobs gauge\n";
    for (const auto& [state, n] : impl_->jobs->counts()) {
      out += fmt::format("mvsp_jobs{{state=\"{}\"}} {}\n", core::job_state_name(state), n);
    }
    out +=
        "# HELP mvsp_delivery_notices Notices of the delivery service by status.\n"
        "# TYPE mvsp_delivery_notices gauge\n";
    for (const auto& [status, n] : impl_->delivery->counts()) {
      out += fmt::format("mvsp_delivery_notices{{status=\"{}\"}} {}\n", status, n);
    }
    out += fmt::format(
        "# HELP mvsp_catalog_undecodable_rows_total Catalog rows left out of answers because "
        "their stored data no longer decodes.\n"
        "# TYPE mvsp_catalog_undecodable_rows_total counter\n"
        "mvsp_catalog_undecodable_rows_total {}\n",
        impl_->service_catalog->undecodable_rows());
  });
  d.site = std::make_unique<web::Site>(d.router, *d.pages, *d.sessions, d.metrics, *d.static_files,
                                       d.ids,
                                       web::SiteOptions{.public_url = s.public_url,
                                                        .max_body_bytes = s.max_body_bytes,
                                                        .trusted_proxies = s.trusted_proxies});
}

App::~App() {
  stop();
}

web::Router& App::router() {
  return impl_->router;
}

void App::start() {
  auto& d = *impl_;
  d.server = std::make_unique<web::HttpServer>(
      *d.site, web::ServerOptions{.host = d.settings.host(),
                                  .port = d.settings.port(),
                                  .threads = d.settings.threads,
                                  .max_queued = d.settings.max_queued,
                                  .keep_alive_seconds = d.settings.keep_alive_seconds,
                                  .max_keep_alive_requests = 100,
                                  .max_body_bytes = d.settings.max_body_bytes});
  d.server->start();
  d.runner->start();
  d.stopping = false;
  if (d.settings.runs("finder")) {
    refresh_index();
    d.index_keeper = std::thread([this] {
      auto& d = *impl_;
      std::unique_lock lock(d.maintenance_mutex);
      while (!d.stopping) {
        // Woken by a change here; every 30 seconds it looks for changes made elsewhere.
        d.maintenance_wake.wait_for(lock, std::chrono::seconds(30),
                                    [&] { return d.stopping || d.index_dirty; });
        if (d.stopping) break;
        d.index_dirty = false;
        lock.unlock();
        try {
          refresh_index();
        } catch (const std::exception& e) {
          core::log::error("finder.refresh_failed", {{"error", e.what()}});
        }
        lock.lock();
      }
    });
  }
  d.maintenance = std::thread([this] {
    auto& d = *impl_;
    std::unique_lock lock(d.maintenance_mutex);
    while (
        !d.maintenance_wake.wait_for(lock, std::chrono::minutes(10), [&] { return d.stopping; })) {
      try {
        auto purged = d.sessions->purge_expired();
        if (purged > 0) core::log::info("sessions.purged", {{"count", std::to_string(purged)}});
        run_sweeps();
      } catch (const std::exception& e) {
        core::log::error("maintenance.failed", {{"error", e.what()}});
      }
    }
  });
}

void App::run_sweeps() {
  auto& d = *impl_;
  // Each on its own: one that fails (a deadlock, a full disk) does not keep the others from
  // running.
  auto sweep = [](std::string_view name, const std::function<void()>& run) {
    try {
      run();
    } catch (const std::exception& e) {
      core::log::error("maintenance.sweep_failed",
                       {{"sweep", std::string(name)}, {"error", e.what()}});
    }
  };
  sweep("jobs", [&] {
    auto now = d.clock.now();
    auto days = [](int n) { return std::chrono::hours(24) * n; };
    if (auto n = d.jobs->purge(now - days(d.settings.jobs_keep_done_days),
                               now - days(d.settings.jobs_keep_dead_days));
        n > 0) {
      core::log::info("jobs.purged", {{"count", std::to_string(n)}});
    }
  });
  if (d.settings.runs("identity")) {
    sweep("identity", [&] {
      auto swept = d.identity->retention.sweep();
      if (swept.expired_rows > 0 || swept.unconfirmed_accounts > 0) {
        core::log::info("identity.swept",
                        {{"expired_rows", std::to_string(swept.expired_rows)},
                         {"unconfirmed_accounts", std::to_string(swept.unconfirmed_accounts)}});
      }
    });
  }
  if (d.settings.runs("mailbox")) {
    sweep("mailbox", [&] {
      if (auto n = d.mailbox->report_overdue(); n > 0) {
        core::log::info("mailbox.overdue_reported", {{"count", std::to_string(n)}});
      }
    });
  }
  if (d.settings.runs("delivery")) {
    sweep("delivery", [&] {
      if (auto n = d.delivery->delete_expired_documents(); n > 0) {
        core::log::info("delivery.documents_deleted", {{"notices", std::to_string(n)}});
      }
    });
  }
}

void App::refresh_index() {
  auto& d = *impl_;
  std::lock_guard lock(d.index_mutex);
  auto revision = d.service_catalog->revision();
  if (revision == d.indexed_revision) return;
  d.finder->rebuild();
  d.indexed_revision = revision;
}

finder::Finder& App::finder() {
  return *impl_->finder;
}

int App::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

void App::stop() {
  auto& d = *impl_;
  if (d.server) {
    d.server->stop();
    d.server.reset();
  }
  d.runner->stop();
  // Both background threads wait on the same condition.
  {
    std::lock_guard lock(d.maintenance_mutex);
    d.stopping = true;
  }
  d.maintenance_wake.notify_all();
  for (auto* t : {&d.maintenance, &d.index_keeper}) {
    if (t->joinable()) t->join();
  }
}

const Settings& App::settings() const {
  return impl_->settings;
}
core::db::Database& App::database() {
  return *impl_->db;
}
core::JobQueue& App::jobs() {
  return *impl_->jobs;
}
core::JobRunner& App::job_runner() {
  return *impl_->runner;
}
core::AuditLog& App::audit() {
  return *impl_->audit;
}
core::BlobStore& App::blobs() {
  return *impl_->blobs;
}
const core::Clock& App::clock() const {
  return impl_->clock;
}
identity::Identity& App::identity() {
  return *impl_->identity;
}
catalog::Catalog& App::catalog() {
  return *impl_->service_catalog;
}
identity::Provider& App::oidc() {
  return *impl_->oidc;
}
mailbox::Mailbox& App::mailbox() {
  return *impl_->mailbox;
}
delivery::Delivery& App::delivery() {
  return *impl_->delivery;
}

std::vector<std::string> load_demo_data(App& app) {
  // Each component's demo data; every loader may run again without harm.
  std::vector<std::string> loaded;
  auto& identity = app.identity();
  constexpr const char* kTenant = "Landeshauptstadt Schwerin (Demo)";
  std::string tenant_id;
  for (const auto& t : identity.staff.tenants()) {
    if (t.name == kTenant) tenant_id = t.id;
  }
  if (tenant_id.empty()) {
    auto tenant = identity.staff.create_tenant(kTenant, "system:demo");
    if (!tenant) throw core::Failure("demo tenant: " + tenant.error().message);
    tenant_id = tenant->id;
  }
  struct DemoAccount {
    const char* email;
    const char* given;
    const char* family;
    const char* role;
  };
  for (const auto& a :
       {DemoAccount{"erika.mustermann@example.org", "Erika", "Mustermann", ""},
        DemoAccount{"verwaltung@example.org", "Volker", "Verwaltung", "authority_admin"},
        DemoAccount{"redaktion@example.org", "Rieke", "Redaktion", "editor"},
        DemoAccount{"betrieb@example.org", "Olga", "Betrieb", "operator"}}) {
    auto created =
        identity.accounts.create_account({.email = a.email,
                                          .password = "Demo-Passwort-2026",
                                          .given_name = a.given,
                                          .family_name = a.family,
                                          .verified = true,
                                          .role = a.role,
                                          .tenant_id = *a.role ? tenant_id : std::string()},
                                         "system:demo");
    if (!created && created.error().code != core::ErrorCode::conflict) {
      throw core::Failure(std::string("demo account ") + a.email + ": " + created.error().message);
    }
    loaded.push_back(fmt::format("identity: {} {}{}", *a.role ? a.role : "citizen", a.email,
                                 created ? "" : " (already there)"));
  }
  // The demo catalog: real services and places, authorities with plausible contacts. An
  // import replaces entries with the same keys, so loading again changes nothing.
  auto catalog_json = std::string(catalog::demo_catalog_json());
  for (auto pos = catalog_json.find("{tenant:schwerin}"); pos != std::string::npos;
       pos = catalog_json.find("{tenant:schwerin}", pos)) {
    catalog_json.replace(pos, 17, tenant_id);
  }
  auto imported = app.catalog().import_json(
      {.actor = "system:demo", .state_wide = true, .tenant_ids = {}}, catalog_json);
  if (!imported) {
    auto message = imported.error().message;
    for (const auto& f : imported.error().fields) message += "; " + f.field + ": " + f.message;
    throw core::Failure("demo catalog: " + message);
  }
  loaded.push_back(fmt::format("catalog: {} services, {} authorities, {} online services",
                               app.catalog().services().size(), app.catalog().authorities().size(),
                               app.catalog().online_services().size()));
  return loaded;
}

}  // namespace mvsp::app
