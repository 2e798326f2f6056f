#include "app.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mvsp/applications/component.hpp>
#include <mvsp/cases/component.hpp>
#include <mvsp/catalog/component.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/blobs.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/config.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/mail.hpp>
#include <mvsp/core/migrations.hpp>
#include <mvsp/core/virus_scan.hpp>
#include <mvsp/delivery/component.hpp>
#include <mvsp/finder/component.hpp>
#include <mvsp/forms/component.hpp>
#include <mvsp/identity/component.hpp>
#include <mvsp/mailbox/component.hpp>
#include <mvsp/payments/component.hpp>
#include <mvsp/web/component.hpp>
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
#include <set>
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

std::vector<std::unique_ptr<web::Component>> all_components() {
  std::vector<std::unique_ptr<web::Component>> list;
  list.push_back(identity::make_component());
  list.push_back(catalog::make_component());
  list.push_back(finder::make_component());
  list.push_back(mailbox::make_component());
  list.push_back(delivery::make_component());
  list.push_back(forms::make_component());
  list.push_back(payments::make_component());
  // after payments: the applications journey hands a paid submission over to it
  list.push_back(cases::make_component());
  list.push_back(applications::make_component());
  return list;
}

std::vector<std::string> component_names() {
  std::vector<std::string> names;
  for (const auto& c : all_components()) names.emplace_back(c->name());
  return names;
}

std::vector<core::Migration> all_migrations() {
  std::vector<core::Migration> all = core::migrations_from("core", core::embedded_resources());
  for (auto& m : core::migrations_from("web", web::embedded_resources())) all.push_back(m);
  for (const auto& c : all_components()) {
    for (auto& m : core::migrations_from(std::string(c->name()), c->resources())) {
      all.push_back(m);
    }
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
  explicit Impl(const web::Ports& p) : ports(p) {}

  Settings settings;
  web::Ports ports;
  std::unique_ptr<core::db::Database> db;
  std::vector<core::Migration> migrations = all_migrations();
  std::unique_ptr<core::JobQueue> jobs;
  std::unique_ptr<core::JobRunner> runner;
  std::unique_ptr<core::AuditLog> audit;
  std::unique_ptr<core::BlobStore> blobs;
  std::string master_key;
  std::unique_ptr<core::Mailer> mailer;
  std::unique_ptr<core::VirusScanner> scanner;

  web::Templates templates;
  web::Catalog texts;
  web::Router router;
  web::Metrics metrics;
  std::unique_ptr<web::Pages> pages;
  std::unique_ptr<web::SessionStore> sessions;
  std::unique_ptr<web::StaticFiles> static_files;
  std::unique_ptr<web::Site> site;
  std::unique_ptr<web::HttpServer> server;

  web::Services services;
  std::unique_ptr<web::Platform> platform;
  // The built components, in the order of all_components().
  std::vector<std::unique_ptr<web::Component>> components;
};

namespace {

// The components this instance runs and, before each, the ones it needs; in list order.
std::vector<std::unique_ptr<web::Component>> components_to_build(const Settings& s) {
  auto all = all_components();
  std::set<std::string, std::less<>> wanted;
  for (const auto& c : all) {
    if (s.runs(c->name())) wanted.emplace(c->name());
  }
  // Needs point to earlier components, so one pass from the end closes the set.
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (!wanted.contains((*it)->name())) continue;
    for (auto need : (*it)->needs()) wanted.emplace(need);
  }
  std::vector<std::unique_ptr<web::Component>> chosen;
  for (auto& c : all) {
    if (wanted.contains(c->name())) chosen.push_back(std::move(c));
  }
  return chosen;
}

}  // namespace

void tune_allocator() {
  mallopt(M_TRIM_THRESHOLD, 4 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

App::App(Settings settings, const web::Ports& ports) : impl_(std::make_unique<Impl>(ports)) {
  auto& d = *impl_;
  d.settings = std::move(settings);
  const auto& s = d.settings;
  d.components = components_to_build(s);
  // Each component reads its sections; load_settings checked the whole file already, this
  // catches settings made in code (tests).
  {
    auto config = core::Config::parse(
        s.config_text, s.config_file ? s.config_file->string() : std::string("configuration"));
    if (!config) throw core::Failure(config.error().message);
    for (auto& c : d.components) c->configure(*config);
    if (auto checked = config->check(false); !checked) {
      auto message = checked.error().message;
      for (const auto& f : checked.error().fields) message += "; " + f.message;
      throw core::Failure(message);
    }
  }

  core::crypto::init();
  fs::create_directories(s.data_dir);
  if (s.database.starts_with("sqlite:")) {
    auto path = fs::path(s.database.substr(7));
    if (path.has_parent_path()) fs::create_directories(path.parent_path());
  }
  d.db = core::db::Database::open(s.database, {.size = s.pool_size, .busy_timeout_ms = 5000});
  core::migrate(*d.db, d.migrations, d.ports.clock);

  d.jobs = std::make_unique<core::JobQueue>(*d.db, d.ports.clock, d.ports.ids);
  d.runner = std::make_unique<core::JobRunner>(
      *d.jobs, *d.db,
      core::WorkerOptions{.threads = s.job_workers,
                          .lease = std::chrono::seconds(s.job_lease_seconds),
                          .idle_poll = std::chrono::milliseconds(500),
                          .name = worker_name()});
  core::register_probe_job(*d.runner, d.ports.clock, worker_name());
  d.audit = std::make_unique<core::AuditLog>(d.ports.clock);
  d.master_key = master_key(s);
  d.blobs = std::make_unique<core::BlobStore>(s.data_dir / "blobs", d.master_key);
  d.mailer = std::make_unique<core::SmtpMailer>(core::SmtpOptions{.host = s.smtp_host,
                                                                  .port = s.smtp_port,
                                                                  .from = s.mail_from,
                                                                  .username = s.smtp_username,
                                                                  .password = s.smtp_password});
  core::register_mail_job(*d.runner, *d.mailer);
  d.scanner = core::make_clamd_scanner({.host = s.clamav_host,
                                        .port = s.clamav_port,
                                        .timeout = std::chrono::seconds(s.clamav_timeout_seconds)});

  d.templates.add("web", web::embedded_resources());
  d.texts.add(web::embedded_resources());
  for (const auto& c : d.components) {
    d.templates.add(std::string(c->name()), c->resources());
    d.texts.add(c->resources());
  }
  d.pages = std::make_unique<web::Pages>(d.templates, d.texts);
  // On https the session cookie carries the __Host- prefix: the browser takes it only
  // with Secure, Path=/ and no Domain, so no subdomain can plant or widen it.
  bool https = s.public_url.starts_with("https://");
  d.sessions = std::make_unique<web::SessionStore>(
      *d.db, d.ports.clock,
      web::SessionOptions{.idle = std::chrono::minutes(s.session_idle_minutes),
                          .absolute = std::chrono::hours(s.session_absolute_hours),
                          .cookie_name = https ? "__Host-mvsp_session" : "mvsp_session",
                          .secure_cookie = https});
  // The platform's own periodic work; each component schedules its own in jobs().
  d.runner->every("core.purge_jobs", s.sweep_every, [this](core::JobContext&) {
    auto& d = *impl_;
    auto now = d.ports.clock.now();
    auto days = [](int n) { return std::chrono::hours(24) * n; };
    if (auto n = d.jobs->purge(now - days(d.settings.jobs_keep_done_days),
                               now - days(d.settings.jobs_keep_dead_days));
        n > 0) {
      core::log::info("jobs.purged", {{"count", std::to_string(n)}});
    }
    return core::JobOutcome::ok();
  });
  d.runner->every("web.purge_sessions", s.sweep_every, [this](core::JobContext&) {
    if (auto n = impl_->sessions->purge_expired(); n > 0) {
      core::log::info("sessions.purged", {{"count", std::to_string(n)}});
    }
    return core::JobOutcome::ok();
  });
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
  d.metrics.add_source([this](std::string& out) {
    out += "# HELP mvsp_jobs Background jobs by state.\n# TYPE mvsp_jobs gauge\n";
    for (const auto& [state, n] : impl_->jobs->counts()) {
      out += fmt::format("mvsp_jobs{{state=\"{}\"}} {}\n", core::job_state_name(state), n);
    }
  });

  bool machine_clients = false;
  for (const auto& c : d.components) {
    machine_clients = machine_clients || (s.runs(c->name()) && c->takes_machine_clients());
  }
  d.platform = std::make_unique<web::Platform>(
      web::Platform{.ports = d.ports,
                    .db = *d.db,
                    .jobs = *d.jobs,
                    .runner = *d.runner,
                    .audit = *d.audit,
                    .blobs = *d.blobs,
                    .mailer = *d.mailer,
                    .router = d.router,
                    .pages = *d.pages,
                    .sessions = *d.sessions,
                    .texts = d.texts,
                    .metrics = d.metrics,
                    .services = d.services,
                    .public_url = s.public_url,
                    .master_key = d.master_key,
                    .data_dir = s.data_dir,
                    .https = https,
                    .runs = [this](std::string_view name) { return impl_->settings.runs(name); },
                    .machine_clients = machine_clients,
                    .sweep_every = s.sweep_every,
                    .scanner = d.scanner.get()});
  // Every component's subscriptions, also of those not built here: an account deleted on
  // an instance that runs only identity still queues the mailbox's erasure.
  for (const auto& c : all_components()) {
    for (const auto& [event, kind] : c->subscriptions()) d.jobs->subscribe(event, kind);
  }
  offer_bridges(d.services);
  for (auto& c : d.components) c->build(*d.platform);
  for (auto& c : d.components) c->routes(*d.platform);
  for (auto& c : d.components) c->jobs(*d.platform);

  d.site = std::make_unique<web::Site>(d.router, *d.pages, *d.sessions, d.metrics, *d.static_files,
                                       d.ports.ids,
                                       web::SiteOptions{.public_url = s.public_url,
                                                        .max_body_bytes = s.http.max_body_bytes,
                                                        .trusted_proxies = s.http.trusted_proxies});
}

App::~App() {
  stop();
}

web::Router& App::router() {
  return impl_->router;
}

void App::start() {
  auto& d = *impl_;
  auto options = d.settings.http;
  options.host = d.settings.host();
  options.port = d.settings.port();
  d.server = std::make_unique<web::HttpServer>(*d.site, std::move(options));
  d.server->start();
  d.runner->start();
  for (auto& c : d.components) c->start();
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
  for (auto it = d.components.rbegin(); it != d.components.rend(); ++it) (*it)->stop();
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
const web::Catalog& App::texts() const {
  return impl_->texts;
}

const core::Clock& App::clock() const {
  return impl_->ports.clock;
}
web::Services& App::services() {
  return impl_->services;
}

std::vector<std::string> App::load_demo_data(bool vorgaenge) {
  auto& d = *impl_;
  web::Demo demo;
  demo.vorgaenge = vorgaenge;
  for (auto& c : d.components) c->demo(*d.platform, demo);
  return demo.loaded;
}

}  // namespace mvsp::app
