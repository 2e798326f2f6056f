// The TOML configuration: core::Config (toml++), the platform's sections app::load_settings
// reads (server, database, secrets, mail, jobs, log, session, site) and every component's
// (identity with identity.upstream.NAME, mailbox, delivery with delivery.bundid/muk), from a
// file as `mvsp --config` reads it. Invariants:
// a syntax error or bad value is an error that names a key or line, never an exception; a
// loaded configuration satisfies the rules load_settings promises.
#include <fstream>
#include <mvsp/core/config.hpp>
#include <mvsp/delivery/component.hpp>
#include <mvsp/identity/component.hpp>

#include "fuzz_support.hpp"
#include "settings.hpp"

namespace {
std::filesystem::path* g_file = nullptr;

std::optional<std::string> no_environment(const char*) {
  return std::nullopt;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mvsp::fuzz::quiet_logs();
  g_file = new std::filesystem::path(mvsp::fuzz::temp_dir("config") / "mvsp.toml");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using mvsp::fuzz::check;
  auto text = mvsp::fuzz::text(data, size);

  auto parsed = mvsp::core::Config::parse(text, "fuzz.toml");
  if (!parsed) {
    check(!parsed.error().message.empty(), "a syntax error says what is wrong");
  } else {
    // Nobody read anything: every key is unknown, and check() lists them without throwing.
    (void)parsed->check();
  }

  std::ofstream(*g_file, std::ios::binary | std::ios::trunc) << text;
  mvsp::app::CommandLine cli;
  cli.options["--config"] = {g_file->string()};
  auto settings = mvsp::app::load_settings(cli, no_environment);
  if (!settings) {
    for (const auto& f : settings.error().fields) {
      check(!f.message.empty(), "each configuration error has a message", f.field);
    }
    return 0;
  }
  const auto& s = *settings;
  check(s.public_url.starts_with("http://") || s.public_url.starts_with("https://"),
        "a loaded public_url is http(s)");
  check(!s.public_url.ends_with('/'), "public_url has no trailing slash");
  check(s.http.threads >= 2 && s.http.threads <= 4096, "server.threads within its bounds");
  check(s.pool_size >= 1 && s.pool_size <= 256, "database.pool_size within its bounds");
  check(s.http.max_body_bytes >= 1024, "server.max_body_bytes within its bounds");
  check(s.database.starts_with("sqlite:") || s.database.starts_with("postgresql://") ||
            s.database.starts_with("postgres://"),
        "database.url is sqlite: or postgresql://");
  check(s.master_key_hex.empty() || s.master_key_hex.size() == 64,
        "secrets.master_key is 32 bytes");
  (void)s.host();
  (void)s.port();
  // The components read the same text as the App will; what load_settings accepted they
  // read without a problem.
  auto again = mvsp::core::Config::parse(s.config_text, "fuzz.toml");
  check(again.has_value(), "accepted text parses again");
  if (!again) return 0;
  for (const auto& u : mvsp::identity::read_settings(*again).upstreams) {
    check(u.protocol == "saml" || u.protocol == "oidc", "an upstream is saml or oidc", u.name);
  }
  for (const auto& m : mvsp::delivery::read_settings(*again).mailboxes) {
    check(m.type == "bundid" || m.type == "muk", "external mailboxes are bundid or muk");
    check(m.endpoint.starts_with("http://") || m.endpoint.starts_with("https://"),
          "a mailbox endpoint is http(s)");
  }
  check(again->check(false).has_value(), "accepted values read again without a problem");
  return 0;
}
