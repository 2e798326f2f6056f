#include "settings.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mvsp/core/config.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/web/component.hpp>
#include <set>

#include "app.hpp"

namespace mvsp::app {
namespace {

// Options that take a value (every other "--x" is a flag from kFlags).
const std::set<std::string, std::less<>> kValueOptions = {"--listen",
                                                          "--database",
                                                          "--data-dir",
                                                          "--config",
                                                          "--public-url",
                                                          "--count",
                                                          "--sleep-ms",
                                                          "--fail",
                                                          "--limit",
                                                          "--email",
                                                          "--password",
                                                          "--name",
                                                          "--role",
                                                          "--tenant",
                                                          "--redirect-uri",
                                                          "--post-logout-uri",
                                                          "--scope",
                                                          "--grant",
                                                          "--public-key",
                                                          "--components",
                                                          "--type",
                                                          "--callback-url",
                                                          "--rate",
                                                          "--burst",
                                                          "--daily-quota",
                                                          "--public-key-file",
                                                          "--form",
                                                          "--version",
                                                          "--answers",
                                                          "--out",
                                                          "--reference",
                                                          "--notify-url",
                                                          "--secret",
                                                          "--user",
                                                          "--payee",
                                                          "--iban",
                                                          "--bic",
                                                          "--budget-position",
                                                          "--booking-account",
                                                          "--pattern",
                                                          "--check",
                                                          "--provider",
                                                          "--endpoint",
                                                          "--invoice-days",
                                                          "--authority"};
const std::set<std::string, std::less<>> kFlags = {"--verified", "--help", "--public",
                                                   "--no-invoice", "--json"};

bool valid_listen(const std::string& v) {
  auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  auto port = v.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  return std::stoi(port) <= 65535;
}

}  // namespace

bool Settings::runs(std::string_view component) const {
  return !components ||
         std::find(components->begin(), components->end(), component) != components->end();
}

std::string Settings::host() const {
  auto h = listen.substr(0, listen.rfind(':'));
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h;
}

int Settings::port() const {
  return std::stoi(listen.substr(listen.rfind(':') + 1));
}

std::optional<std::string> process_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

core::Result<CommandLine> parse_command_line(int argc, char** argv) {
  CommandLine cli;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.starts_with("--")) {
      cli.words.push_back(arg);
      continue;
    }
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (!kValueOptions.contains(arg)) {
      if (!kFlags.contains(arg))
        return core::fail(core::Error::invalid(arg, "unknown option " + arg));
      if (has_value) return core::fail(core::Error::invalid(arg, arg + " takes no value"));
      cli.flags.push_back(arg);
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return core::fail(core::Error::invalid(arg, arg + " needs a value"));
      value = argv[++i];
    }
    cli.options[arg].push_back(value);
  }
  return cli;
}

core::Result<Settings> load_settings(const CommandLine& cli,
                                     std::optional<std::string> (*env)(const char*)) {
  Settings s;
  auto pick = [&](const char* flag, const char* var) -> std::optional<std::string> {
    if (auto it = cli.options.find(flag); it != cli.options.end()) return it->second.back();
    return env(var);
  };

  core::Config config;
  if (auto path = pick("--config", "MVSP_CONFIG")) {
    std::ifstream in(*path);
    if (!in) return core::fail(core::Error::invalid(*path, fmt::format("cannot read {}", *path)));
    s.config_text.assign(std::istreambuf_iterator<char>(in), {});
    auto parsed = core::Config::parse(s.config_text, *path);
    if (!parsed) return core::fail(parsed.error());
    config = std::move(*parsed);
    s.config_file = *path;
  }

  auto server = config.section("server");
  s.listen = pick("--listen", "MVSP_LISTEN").value_or(server.string("listen", s.listen));
  s.public_url = pick("--public-url", "MVSP_PUBLIC_URL").value_or(server.string("public_url", ""));
  auto whole = [&](const char* key, int& value, std::int64_t min, std::int64_t max) {
    value = static_cast<int>(server.integer(key, value, min, max));
  };
  auto bytes = [&](const char* key, std::size_t& value, std::int64_t min, std::int64_t max) {
    value =
        static_cast<std::size_t>(server.integer(key, static_cast<std::int64_t>(value), min, max));
  };
  whole("threads", s.http.threads, 2, 4096);
  whole("io_threads", s.http.io_threads, 0, 64);
  whole("max_queued", s.http.max_queued, 1, 1 << 20);
  whole("keep_alive_seconds", s.http.keep_alive_seconds, 1, 300);
  whole("head_timeout_seconds", s.http.head_timeout_seconds, 1, 300);
  bytes("min_body_bytes_per_second", s.http.min_body_bytes_per_second, 0, std::int64_t{1} << 30);
  whole("write_timeout_seconds", s.http.write_timeout_seconds, 1, 3600);
  whole("max_connections", s.http.max_connections, 16, 1 << 20);
  whole("max_connections_per_address", s.http.max_connections_per_address, 1, 1 << 20);
  bytes("max_head_bytes", s.http.max_head_bytes, 1024, 1 << 20);
  bytes("max_body_bytes", s.http.max_body_bytes, 1024, std::int64_t{1} << 32);
  s.static_dir = server.string("static_dir", "");
  s.metrics_token = server.string("metrics_token", "");
  if (auto proxies = server.optional_string("trusted_proxies")) {
    std::string_view rest = *proxies;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty()) s.http.trusted_proxies.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }

  auto database = config.section("database");
  s.database = pick("--database", "MVSP_DATABASE").value_or(database.string("url", s.database));
  s.pool_size = static_cast<int>(database.integer("pool_size", s.pool_size, 1, 256));

  auto storage = config.section("storage");
  s.data_dir = pick("--data-dir", "MVSP_DATA_DIR").value_or(storage.string("data_dir", "var"));

  auto secrets = config.section("secrets");
  s.master_key_hex = secrets.string("master_key", "");

  auto mail = config.section("mail");
  s.smtp_host = mail.string("smtp_host", s.smtp_host);
  s.smtp_port = static_cast<int>(mail.integer("smtp_port", s.smtp_port, 1, 65535));
  s.mail_from = mail.string("from", s.mail_from);
  s.smtp_username = mail.string("smtp_username", "");
  s.smtp_password = mail.string("smtp_password", "");

  auto clamav = config.section("clamav");
  s.clamav_host = clamav.string("host", s.clamav_host);
  if (s.clamav_host.empty()) clamav.reject("host", "clamav.host must name clamd's host");
  s.clamav_port = static_cast<int>(clamav.integer("port", s.clamav_port, 1, 65535));
  s.clamav_timeout_seconds =
      static_cast<int>(clamav.integer("timeout_seconds", s.clamav_timeout_seconds, 1, 3600));

  auto jobs = config.section("jobs");
  s.job_workers = static_cast<int>(jobs.integer("workers", s.job_workers, 0, 64));
  s.job_lease_seconds =
      static_cast<int>(jobs.integer("lease_seconds", s.job_lease_seconds, 1, 86400));
  s.jobs_keep_done_days =
      static_cast<int>(jobs.integer("keep_done_days", s.jobs_keep_done_days, 1, 3650));
  s.jobs_keep_dead_days =
      static_cast<int>(jobs.integer("keep_dead_days", s.jobs_keep_dead_days, 1, 3650));
  s.sweep_every =
      std::chrono::minutes(jobs.integer("sweep_minutes", s.sweep_every.count(), 1, 1440));

  auto log = config.section("log");
  s.log_level = log.choice("level", s.log_level, {"debug", "info", "warn", "error"});
  s.log_format = log.choice("format", s.log_format, {"text", "json"});

  auto session = config.section("session");
  s.session_idle_minutes =
      static_cast<int>(session.integer("idle_minutes", s.session_idle_minutes, 1, 24 * 60));
  s.session_absolute_hours =
      static_cast<int>(session.integer("absolute_hours", s.session_absolute_hours, 1, 24 * 30));

  auto site = config.section("site");
  s.site_operator.name = site.string("operator_name", "");
  s.site_operator.address = site.string("operator_address", "");
  s.site_operator.email = site.string("operator_email", "");
  s.site_operator.phone = site.string("operator_phone", "");

  auto components =
      pick("--components", "MVSP_COMPONENTS").value_or(server.string("components", "all"));
  auto known = component_names();
  if (components != "all") {
    s.components.emplace();
    std::string_view rest = components;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto item = std::string(rest.substr(0, comma));
      std::erase(item, ' ');
      if (!item.empty()) {
        if (std::find(known.begin(), known.end(), item) == known.end()) {
          server.reject("components",
                        fmt::format("server.components (--components, MVSP_COMPONENTS): unknown "
                                    "component \"{}\"; known are {}",
                                    item, fmt::join(known, ", ")));
        }
        s.components->push_back(item);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }

  // Rules across sources; each names the key a person would change.
  if (!valid_listen(s.listen)) {
    server.reject("listen", fmt::format("server.listen (--listen, MVSP_LISTEN) must be HOST:PORT, "
                                        "not \"{}\"",
                                        s.listen));
  }
  if (s.public_url.empty()) s.public_url = "http://" + s.listen;
  while (s.public_url.ends_with('/')) s.public_url.pop_back();
  if (!s.public_url.starts_with("http://") && !s.public_url.starts_with("https://")) {
    server.reject("public_url",
                  "server.public_url (--public-url, MVSP_PUBLIC_URL) must start with http:// or "
                  "https://");
  }
  if (!s.database.starts_with("sqlite:") && !s.database.starts_with("postgresql://") &&
      !s.database.starts_with("postgres://")) {
    database.reject("url",
                    "database.url (--database, MVSP_DATABASE) must be sqlite:PATH or "
                    "postgresql://…");
  }
  std::string key;
  if (!s.master_key_hex.empty() &&
      (!core::crypto::from_hex(s.master_key_hex, key) || key.size() != 32)) {
    secrets.reject("master_key", "secrets.master_key must be 64 hexadecimal characters (32 bytes)");
  }
  // Each component reads and checks its own sections.
  for (const auto& component : all_components()) component->configure(config);
  if (auto st = config.check(); !st) return core::fail(st.error());
  return s;
}

}  // namespace mvsp::app
