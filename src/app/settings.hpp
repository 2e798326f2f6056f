#pragma once
// Everything mvsp is started with: command-line options, MVSP_* environment variables
// and the TOML file, in that order of precedence, checked before anything starts.

#include <filesystem>
#include <map>
#include <mvsp/core/error.hpp>
#include <mvsp/web/server.hpp>
#include <mvsp/web/shell.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mvsp::app {

struct Settings {
  // Options with a command-line flag and an environment variable.
  std::string listen = "127.0.0.1:8080";
  std::string database = "sqlite:var/mvsp.db";
  std::filesystem::path data_dir = "var";
  std::string public_url;  // default: "http://" + listen
  std::optional<std::filesystem::path> config_file;

  // [server]
  // The HTTP engine's limits and trusted proxies (their X-Forwarded-For names the client);
  // host and port come from `listen` when the server starts.
  web::ServerOptions http;
  std::filesystem::path static_dir;  // default: "static" next to the binary
  std::string metrics_token;
  // [database]
  int pool_size = 8;
  // [secrets]
  std::string master_key_hex;  // default: generated into <data_dir>/master.key
  // [mail]
  std::string smtp_host = "127.0.0.1";
  int smtp_port = 25;
  std::string mail_from = "Serviceportal <noreply@localhost>";
  std::string smtp_username;
  std::string smtp_password;
  // [clamav]: the clamd every upload is scanned with
  std::string clamav_host = "127.0.0.1";
  int clamav_port = 3310;
  int clamav_timeout_seconds = 30;
  // [jobs]
  int job_workers = 2;
  int job_lease_seconds = 60;
  int jobs_keep_done_days = 14;  // then a finished job row is deleted
  int jobs_keep_dead_days = 90;  // a dead one is kept longer, for a person to look at
  // How often the periodic work runs (purges, retention, reminders), once across instances.
  std::chrono::minutes sweep_every{10};
  // [log]
  std::string log_level = "info";
  std::string log_format = "text";
  // [session]
  int session_idle_minutes = 30;
  int session_absolute_hours = 12;
  // [server] components: which components this instance runs; nullopt: all of them. A CLI
  // command names the ones it uses (none for `jobs`).
  std::optional<std::vector<std::string>> components;
  // [site]
  web::SiteOperator site_operator;
  // The configuration file's text: each component reads and checks its own sections from
  // it (load_settings checks them all before anything starts). Tests append sections.
  std::string config_text;

  // Whether this instance runs `component` (its routes and jobs).
  bool runs(std::string_view component) const;
  std::string host() const;
  int port() const;
};

// Parsed command line: the command words ("serve", "config check") and the options.
struct CommandLine {
  std::vector<std::string> words;
  std::map<std::string, std::vector<std::string>> options;  // "--listen" -> values
  std::vector<std::string> flags;                           // "--verified"
};

// Options that take a value; everything else starting with "--" is a flag.
core::Result<CommandLine> parse_command_line(int argc, char** argv);

// Builds the settings from the command line, the environment (`env` looks a name up)
// and the config file. invalid_input lists every problem, each naming its key.
core::Result<Settings> load_settings(const CommandLine& cli,
                                     std::optional<std::string> (*env)(const char*));

std::optional<std::string> process_env(const char* name);

}  // namespace mvsp::app
