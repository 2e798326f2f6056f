// mvsp: the service platform in one program. See `mvsp help`.

#include <Poco/JSON/Object.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mvsp/cases/casework.hpp>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/migrations.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/delivery/simulator.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/pdf.hpp>
#include <mvsp/forms/xdatenfelder.hpp>
#include <mvsp/identity/eid_simulator.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/payments/payments.hpp>
#include <mvsp/payments/simulator.hpp>
#include <sstream>
#include <tuple>

#include "app.hpp"
#include "settings.hpp"

namespace {

using mvsp::app::App;
using mvsp::app::CommandLine;
using mvsp::app::Settings;
namespace core = mvsp::core;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kUsage = R"(mvsp — Serviceplattform für die öffentliche Verwaltung

Usage: mvsp COMMAND [OPTIONS]

Commands:
  serve             run the platform (HTTP server and job workers)
  migrate           apply pending database migrations and exit
  demo              load demo data (idempotent)
  config check      check the configuration and print the effective settings
  audit verify      verify the audit log's hash chain
  jobs dead         list jobs that ended dead, with their last error
  jobs retry ID     put a dead job back in the queue
  jobs probe        enqueue probe jobs (--count N, --sleep-ms N, --fail TEXT)
  tenant create     create a tenant (an authority): --name N; prints JSON with its id
  user create       create an account: --email E --password P [--name "Vorname Nachname"]
                    [--verified] [--role R --tenant T]; prints JSON with id and mailbox
  client create     register an OpenID Connect / OAuth2 client: --name N [--redirect-uri URI]…
                    [--post-logout-uri URI]… [--public] [--scope S]… [--tenant T]
                    [--grant authorization_code|refresh_token|client_credentials]…
                    [--public-key PEM-FILE] (private_key_jwt instead of a secret);
                    prints JSON with client_id and, for confidential clients, client_secret
  keys rotate       new token signing keys; old ones stay published until their tokens expire
  catalog export    print the whole catalog as JSON (format mvsp-catalog/1)
  catalog import F  import a catalog JSON file F; all or nothing, every problem named
  forms import F    import a FIM XDatenfelder file F (2.0 or 3.0.0) as the draft of a form
                    of the state; prints a JSON report (form, counts, what was not carried
                    over and why); code lists are read from genericode files in F's folder
  forms pdf         write the PDF (PDF/UA) of a published form: --form KEY [--version N]
                    [--answers FILE.json] [--reference R] --out FILE.pdf; without answers
                    the empty form to fill by hand
  simulate eid      run the eID SIMULATOR (a BundID-style SAML identity provider with test
                    persons, for development and tests only) on --listen (default
                    127.0.0.1:8090); prints JSON with entity_id, sso_url and certificate
  simulate mailbox  run the mailbox SIMULATOR of --type bundid (default, on 127.0.0.1:8091)
                    or muk (127.0.0.1:8092): stores signed message_v6 messages and can be
                    switched to unreachable, slow or "account deleted"; prints JSON with endpoint
  simulate payment  run the payment SIMULATOR (an XBezahldienste payment service with a payment
                    page and test cards, no real money) on --listen (default 127.0.0.1:8093):
                    [--notify-url URL --secret S] (signed pushes) [--user U --password P] (HTTP
                    Basic on its API); prints JSON with base_url
  delivery client ID  settings of a machine client of the delivery service: [--callback-url URL]
                    [--rate N] [--burst N] [--daily-quota N]; prints JSON with callback_secret
  mailbox erase-orphans  erase the messages of accounts and organisations that no longer
                    exist (once after upgrading from a version before the deletion event)
  payments client ID  callbacks of a machine client of the payment API: --callback-url URL
                    (none: no callbacks); prints JSON with callback_secret
  payments account AUTHORITY  an authority's payment account: --tenant T [--name N] --payee P
                    --iban I [--bic B] --budget-position H --booking-account B
                    [--pattern "{YY}{N:8}{P}"] [--check luhn|mod11] [--provider NAME
                    --endpoint ID] [--no-invoice] [--invoice-days N] (docs/payments.md)
  cases list        the latest Vorgänge: [--authority ID] [--limit N] (default 100) [--json]
  cases export-efile REFERENCE  write the xdomea 3.0.0 container (ZIP) of the Vorgang with
                    that reference number into --out DIR
  delivery verify F check an evidence file of a notice (its hash chain and signature) with this
                    installation's key or --public-key-file (from /api/v1/delivery/evidence-key)
  version           print the version

Options (each also as environment variable):
  --listen HOST:PORT      MVSP_LISTEN      (default 127.0.0.1:8080)
  --database URL          MVSP_DATABASE    sqlite:PATH or postgresql://… (default sqlite:var/mvsp.db)
  --data-dir DIR          MVSP_DATA_DIR    (default var)
  --config FILE           MVSP_CONFIG      TOML file, see docs/operations.md
  --public-url URL        MVSP_PUBLIC_URL  (default http:// + listen address)
  --components LIST       MVSP_COMPONENTS  with serve: which components run, comma-separated
                                           (identity,catalog,finder,mailbox,delivery,forms,payments,
                                           cases; default all)
)";

// The settings for a command that builds only the components it uses (and what they need).
Settings only(Settings s, std::vector<std::string> components) {
  s.components = std::move(components);
  return s;
}

std::string json_string(const std::string& s) {
  std::ostringstream out;
  Poco::JSON::Stringifier::formatString(s, out);
  return out.str();
}

void configure_logging(const Settings& s) {
  core::log::Level level = core::log::Level::info;
  core::log::parse_level(s.log_level, level);
  core::log::configure(level,
                       s.log_format == "json" ? core::log::Format::json : core::log::Format::text);
}

// SIGINT and SIGTERM go to sigwait in the calling thread, not to whichever thread happens
// to run; call before starting threads.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int serve(const Settings& settings) {
  auto signals = block_stop_signals();

  App app(settings);
  app.start();
  core::log::info("server.started", {{"listen", fmt::format("{}:{}", settings.host(), app.port())},
                                     {"public_url", settings.public_url},
                                     {"database", core::db::redact_url(settings.database)}});
  std::printf("mvsp listening on http://%s:%d\n", settings.host().c_str(), app.port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  core::log::info("server.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  app.stop();
  core::log::info("server.stopped");
  return 0;
}

// A simulator's own address: `fallback` unless --listen (or MVSP_LISTEN) names one.
std::pair<std::string, int> simulator_address(const Settings& settings, const CommandLine& cli,
                                              const char* fallback) {
  Settings at = settings;
  if (!cli.options.contains("--listen") && !mvsp::app::process_env("MVSP_LISTEN")) {
    at.listen = fallback;
  }
  return {at.host(), at.port()};
}

int simulate_eid(const Settings& settings, const CommandLine& cli) {
  auto signals = block_stop_signals();
  auto [host, port] = simulator_address(settings, cli, "127.0.0.1:8090");
  mvsp::identity::EidSimulator simulator(
      {.host = host, .port = port, .key_dir = settings.data_dir / "eid-simulator"},
      mvsp::app::system_ports());
  simulator.start();
  std::printf("{\"simulator\":\"eid\",\"entity_id\":%s,\"sso_url\":%s,\"certificate\":%s}\n",
              json_string(simulator.entity_id()).c_str(), json_string(simulator.sso_url()).c_str(),
              json_string(simulator.certificate_path().string()).c_str());
  std::fflush(stdout);
  core::log::info("simulator.started", {{"kind", "eid"}, {"url", simulator.base_url()}});
  int sig = 0;
  sigwait(&signals, &sig);
  simulator.stop();
  return 0;
}

int simulate_mailbox(const Settings& settings, const CommandLine& cli) {
  auto type = cli.options.contains("--type") ? cli.options.at("--type").back() : "bundid";
  if (type != "bundid" && type != "muk") {
    std::fprintf(stderr, "mvsp: --type must be bundid or muk\n");
    return kExitUsage;
  }
  auto signals = block_stop_signals();
  auto [host, port] =
      simulator_address(settings, cli, type == "muk" ? "127.0.0.1:8092" : "127.0.0.1:8091");
  mvsp::delivery::MailboxSimulator simulator({.type = type, .host = host, .port = port},
                                             mvsp::app::system_ports());
  simulator.start();
  std::printf("{\"simulator\":\"mailbox\",\"type\":\"%s\",\"endpoint\":%s}\n", type.c_str(),
              json_string(simulator.base_url()).c_str());
  std::fflush(stdout);
  core::log::info("simulator.started",
                  {{"kind", "mailbox:" + type}, {"url", simulator.base_url()}});
  int sig = 0;
  sigwait(&signals, &sig);
  simulator.stop();
  return 0;
}

int simulate_payment(const Settings& settings, const CommandLine& cli) {
  auto option = [&](const char* name) {
    return cli.options.contains(name) ? cli.options.at(name).back() : std::string();
  };
  mvsp::payments::PaymentSimulatorOptions options{.basic_user = option("--user"),
                                                  .basic_password = option("--password"),
                                                  .notify_url = option("--notify-url"),
                                                  .notification_secret = option("--secret")};
  if (!options.notify_url.empty() && options.notification_secret.empty()) {
    std::fprintf(stderr, "mvsp: --notify-url needs --secret (pushes are signed)\n");
    return kExitUsage;
  }
  if (options.basic_user.empty() != options.basic_password.empty()) {
    std::fprintf(stderr, "mvsp: --user and --password go together\n");
    return kExitUsage;
  }
  auto signals = block_stop_signals();
  std::tie(options.host, options.port) = simulator_address(settings, cli, "127.0.0.1:8093");
  mvsp::payments::PaymentSimulator simulator(std::move(options), mvsp::app::system_ports());
  simulator.start();
  std::printf("{\"simulator\":\"payment\",\"base_url\":%s,\"control_url\":%s}\n",
              json_string(simulator.base_url()).c_str(),
              json_string(simulator.base_url() + "/control").c_str());
  std::fflush(stdout);
  core::log::info("simulator.started", {{"kind", "payment"}, {"url", simulator.base_url()}});
  int sig = 0;
  sigwait(&signals, &sig);
  simulator.stop();
  return 0;
}

int migrate(const Settings& settings) {
  core::SystemClock clock;
  // As serve does: the directory of a new SQLite database is made.
  if (settings.database.starts_with("sqlite:")) {
    auto path = std::filesystem::path(settings.database.substr(7));
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  }
  auto db = core::db::Database::open(settings.database);
  auto report = core::migrate(*db, mvsp::app::all_migrations(), clock);
  if (report.applied.empty()) {
    std::puts("database is up to date");
  } else {
    for (const auto& m : report.applied) std::printf("applied %s\n", m.c_str());
  }
  return 0;
}

int audit_verify(const Settings& settings) {
  core::SystemClock clock;
  auto db = core::db::Database::open(settings.database);
  auto result = core::AuditLog(clock).verify(*db);
  if (result.ok) {
    std::printf("audit log intact: %lld entries verified\n",
                static_cast<long long>(result.entries));
    return 0;
  }
  std::printf("audit log BROKEN at entry %lld: %s\n",
              static_cast<long long>(result.first_bad_seq.value_or(0)), result.problem.c_str());
  return kExitFailure;
}

int config_check(const Settings& s) {
  std::printf("configuration ok%s\n",
              s.config_file ? fmt::format(" ({})", s.config_file->string()).c_str() : "");
  std::printf("  listen       %s\n  public_url   %s\n  database     %s\n  data_dir     %s\n",
              s.listen.c_str(), s.public_url.c_str(), core::db::redact_url(s.database).c_str(),
              s.data_dir.c_str());
  std::printf("  threads      %d\n  job_workers  %d\n  log          %s/%s\n", s.http.threads,
              s.job_workers, s.log_level.c_str(), s.log_format.c_str());
  return 0;
}

int jobs_command(const Settings& settings, const CommandLine& cli) {
  std::string sub = cli.words.size() > 1 ? cli.words[1] : "";
  App app(only(settings, {}));
  if (sub == "dead") {
    auto dead = app.jobs().dead(100);
    if (dead.empty()) std::puts("no dead jobs");
    for (const auto& row : dead) {
      std::printf("%s  %s  attempts=%d  %s\n", row.job.id.c_str(), row.job.kind.c_str(),
                  row.job.attempts, row.last_error.c_str());
    }
    return 0;
  }
  if (sub == "retry" && cli.words.size() == 3) {
    if (!app.jobs().requeue_dead(cli.words[2])) {
      std::fprintf(stderr,
                   "no dead job %s that can run again (a mail's content is wiped when it ends)\n",
                   cli.words[2].c_str());
      return kExitFailure;
    }
    std::printf("job %s queued again\n", cli.words[2].c_str());
    return 0;
  }
  if (sub == "probe") {
    auto opt = [&](const char* name, const char* fallback) {
      auto it = cli.options.find(name);
      return it == cli.options.end() ? std::string(fallback) : it->second.back();
    };
    int count = std::stoi(opt("--count", "1"));
    int sleep_ms = std::stoi(opt("--sleep-ms", "0"));
    std::string failure = opt("--fail", "");
    std::string payload = fmt::format("{{\"sleep_ms\":{}{}}}", sleep_ms,
                                      failure.empty() ? "" : ",\"fail\":\"" + failure + "\"");
    constexpr int kBatch = 1000;
    for (int done = 0; done < count; done += kBatch) {
      app.database().transaction([&](core::db::Tx& tx) {
        for (int i = done; i < std::min(count, done + kBatch); ++i) {
          app.jobs().enqueue(tx, {.kind = "core.probe", .payload = payload, .max_attempts = 3});
        }
      });
    }
    std::printf("%d probe jobs queued\n", count);
    return 0;
  }
  std::fputs("usage: mvsp jobs dead | jobs retry ID | jobs probe [--count N]\n", stderr);
  return kExitUsage;
}

std::string option(const CommandLine& cli, const char* name) {
  auto it = cli.options.find(name);
  return it == cli.options.end() ? std::string() : it->second.back();
}

bool has_flag(const CommandLine& cli, std::string_view flag) {
  return std::find(cli.flags.begin(), cli.flags.end(), flag) != cli.flags.end();
}

// Prints the error's fields, one per line, and returns the exit code for it.
int report(const core::Error& e) {
  std::fprintf(stderr, "mvsp: %s\n", e.message.c_str());
  for (const auto& f : e.fields)
    std::fprintf(stderr, "  %s: %s\n", f.field.c_str(), f.message.c_str());
  return e.code == core::ErrorCode::invalid_input ? kExitUsage : kExitFailure;
}

// The latest Vorgänge, as a table or as JSON (one object per Vorgang).
int cases_list(const Settings& settings, const CommandLine& cli) {
  int limit = 100;
  if (auto v = option(cli, "--limit"); !v.empty()) {
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
    if (ec != std::errc{} || end != v.data() + v.size() || limit < 1 || limit > 10000)
      return report(core::Error::invalid("--limit", "a whole number from 1 to 10000"));
  }
  App app(only(settings, {"cases"}));
  auto list = app.get<mvsp::cases::Casework>().latest(option(cli, "--authority"), limit);
  if (has_flag(cli, "--json")) {
    std::string out = "[";
    for (const auto& k : list) {
      if (out.size() > 1) out += ",\n ";
      out += core::json_object({{"id", k.id},
                                {"reference", k.reference},
                                {"aktenzeichen", k.aktenzeichen},
                                {"state", k.state},
                                {"tenantId", k.tenant_id},
                                {"authorityId", k.authority_id},
                                {"onlineServiceId", k.online_service_id},
                                {"title", k.title},
                                {"applicant", k.applicant.name},
                                {"receivedAt", core::format_utc_seconds(k.received_at)},
                                {"deadline", k.deadline_on},
                                {"assignee", k.assignee_name},
                                {"source", k.source}});
    }
    std::puts((out + "]").c_str());
    return 0;
  }
  for (const auto& k : list) {
    std::printf("%-20s %-20s %-16s %-24s %s\n", k.reference.c_str(), k.state.c_str(),
                core::format_berlin(k.received_at).c_str(), k.authority_id.c_str(),
                k.title.c_str());
  }
  std::printf("%zu Vorgänge\n", list.size());
  return 0;
}

// The xdomea container of one Vorgang, written into a directory.
int cases_export_efile(const Settings& settings, const CommandLine& cli,
                       const std::string& reference) {
  auto dir = option(cli, "--out");
  if (dir.empty())
    return report(core::Error::invalid("--out", "cases export-efile needs --out DIR"));
  if (!std::filesystem::is_directory(dir))
    return report(core::Error::invalid("--out", dir + " is not a directory"));
  App app(only(settings, {"cases"}));
  auto& work = app.get<mvsp::cases::Casework>();
  auto k = work.by_reference(reference);
  if (!k)
    return report(core::Error::invalid("REFERENCE", "no Vorgang with reference " + reference));
  auto container = work.efile_container(k->id, app.clock().now());
  if (!container) return report(container.error());
  // every document of the Vorgang: readable by the owner and the group only, and nothing
  // already there is replaced
  auto path = std::filesystem::path(dir) / container->zip_name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    return report(errno == EEXIST
                      ? core::Error::invalid("--out", path.string() + " is there already")
                      : core::Error::unavailable("cannot write " + path.string()));
  }
  std::string_view rest = container->zip;
  while (!rest.empty()) {
    auto n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  bool written = rest.empty() && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    std::filesystem::remove(path);
    return report(core::Error::unavailable("cannot write " + path.string()));
  }
  try {
    work.record_export(k->id, "operator:cli", *container);
  } catch (const std::exception&) {
    // no export without its record: the operator runs it again
    std::filesystem::remove(path);
    throw;
  }
  std::printf("%s: %zu bytes, xdomea %s, ProzessID %s\n", path.c_str(), container->zip.size(),
              container->message_type.c_str(), container->process_id.c_str());
  return 0;
}

// The PDF of a published form, filled with the answers of a file (Answers as JSON) or empty.
int forms_pdf(const Settings& settings, const CommandLine& cli) {
  auto key = option(cli, "--form");
  auto out = option(cli, "--out");
  if (key.empty()) return report(core::Error::invalid("--form", "forms pdf needs --form KEY"));
  if (out.empty()) return report(core::Error::invalid("--out", "forms pdf needs --out FILE.pdf"));
  int version = 0;
  if (auto v = option(cli, "--version"); !v.empty()) {
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
    if (ec != std::errc{} || end != v.data() + v.size() || version < 1)
      return report(core::Error::invalid("--version", "a version is a whole number from 1"));
  }
  mvsp::forms::Answers answers;
  if (auto file = option(cli, "--answers"); !file.empty()) {
    std::ifstream in(file);
    if (!in) return report(core::Error::invalid("--answers", "cannot read " + file));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto read = mvsp::forms::answers_from_json(text);
    if (!read)
      return report(core::Error::invalid("--answers", file + " is not a JSON object of texts"));
    answers = std::move(*read);
  }
  App app(only(settings, {"forms"}));
  auto form = app.get<mvsp::forms::Forms>().published(key, version);
  if (!form) {
    return report(core::Error::invalid(
        "--form", version ? fmt::format("no version {} of form {} is published", version, key)
                          : fmt::format("no published form {}", key)));
  }
  mvsp::forms::Filling filling(form->form, app.texts(), {.now = app.clock().now()});
  if (!answers.empty()) {
    if (auto done = filling.finish(answers); !done) return report(done.error());
  }
  auto document = mvsp::forms::pdf_document(form->form, form->version, filling, answers,
                                            option(cli, "--reference"));
  auto pdf = mvsp::forms::render_pdf(document);
  std::ofstream file(out, std::ios::binary);
  file.write(pdf.data(), static_cast<std::streamsize>(pdf.size()));
  if (!file.flush()) return report(core::Error::unavailable("cannot write " + out));
  std::printf("%s: %zu bytes, form %s version %d\n", out.c_str(), pdf.size(), key.c_str(),
              form->version);
  return 0;
}

int delivery_client(const Settings& settings, const CommandLine& cli, const std::string& client) {
  auto opt = [&](const char* name) -> std::optional<std::string> {
    auto it = cli.options.find(name);
    if (it == cli.options.end()) return std::nullopt;
    return it->second.back();
  };
  mvsp::delivery::Delivery::ClientSettings s;
  s.callback_url = opt("--callback-url").value_or("");
  try {
    if (auto v = opt("--rate")) s.rate_per_second = std::stod(*v);
    if (auto v = opt("--burst")) s.burst = std::stoi(*v);
    if (auto v = opt("--daily-quota")) s.daily_quota = std::stoi(*v);
  } catch (const std::exception&) {
    std::fprintf(stderr, "mvsp: --rate, --burst and --daily-quota take numbers\n");
    return kExitUsage;
  }
  App app(only(settings, {"delivery"}));
  auto secret = app.get<mvsp::delivery::Delivery>().configure_client(client, s);
  if (!secret) return report(secret.error());
  std::printf("{\"client_id\":%s,\"callback_url\":%s,\"callback_secret\":%s}\n",
              json_string(client).c_str(), json_string(s.callback_url).c_str(),
              json_string(*secret).c_str());
  return 0;
}

int payments_client(const Settings& settings, const CommandLine& cli, const std::string& client) {
  auto url = cli.options.contains("--callback-url") ? cli.options.at("--callback-url").back()
                                                    : std::string();
  App app(only(settings, {"payments"}));
  auto secret = app.get<mvsp::payments::Payments>().configure_client(client, url);
  if (!secret) return report(secret.error());
  std::printf("{\"client_id\":%s,\"callback_url\":%s,\"callback_secret\":%s}\n",
              json_string(client).c_str(), json_string(url).c_str(), json_string(*secret).c_str());
  return 0;
}

// `payments account AUTHORITY`: the authority's booking data and how it takes payments.
int payments_account(const Settings& settings, const CommandLine& cli,
                     const std::string& authority) {
  auto opt = [&](const char* name, std::string fallback = {}) {
    auto it = cli.options.find(name);
    return it == cli.options.end() ? fallback : it->second.back();
  };
  mvsp::payments::Account a{
      .authority_id = authority,
      .tenant_id = opt("--tenant"),
      .authority_name = opt("--name", authority),
      .payee = opt("--payee"),
      .iban = opt("--iban"),
      .bic = opt("--bic"),
      .budget_position = opt("--budget-position"),
      .booking_account = opt("--booking-account"),
      .kassenzeichen = {opt("--pattern", "{YY}{N:8}{P}"), opt("--check", "luhn")},
      .provider = opt("--provider"),
      .endpoint_id = opt("--endpoint"),
      .invoice = !cli.options.contains("--no-invoice")};
  try {
    a.invoice_days = std::stoi(opt("--invoice-days", "14"));
  } catch (const std::exception&) {
    return report(core::Error::invalid("--invoice-days", "takes a number of days"));
  }
  if (a.tenant_id.empty()) return report(core::Error::invalid("--tenant", "is required"));
  App app(only(settings, {"payments"}));
  auto& payments = app.get<mvsp::payments::Payments>();
  if (auto saved = payments.save_account(a, "operator:cli"); !saved) return report(saved.error());
  auto stored = payments.account(authority);
  std::printf("{\"authority\":%s,\"iban\":%s,\"provider\":%s,\"invoice\":%s}\n",
              json_string(authority).c_str(), json_string(stored->iban).c_str(),
              json_string(stored->provider).c_str(), stored->invoice ? "true" : "false");
  return 0;
}

int delivery_verify(const Settings& settings, const CommandLine& cli, const std::string& file) {
  std::ifstream in(file);
  if (!in) return report(core::Error::invalid("FILE", "cannot read " + file));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::string key;
  if (auto it = cli.options.find("--public-key-file"); it != cli.options.end()) {
    std::ifstream k(it->second.back());
    std::string b64;
    k >> b64;
    auto raw = core::crypto::base64_decode(b64);
    if (!raw) return report(core::Error::invalid("--public-key-file", "must hold base64"));
    key = *raw;
  } else {
    App app(only(settings, {"delivery"}));
    key = app.get<mvsp::delivery::Delivery>().evidence_public_key();
  }
  auto check = mvsp::delivery::Delivery::verify_evidence(text, key);
  if (!check.ok) {
    std::printf("evidence for notice %s does NOT verify: %s\n", check.notice_id.c_str(),
                check.problem.c_str());
    return kExitFailure;
  }
  std::printf("evidence for notice %s verified: %d records, chain and signature intact\n",
              check.notice_id.c_str(), check.records);
  return 0;
}

int tenant_create(const Settings& settings, const CommandLine& cli) {
  App app(only(settings, {"identity"}));
  auto tenant = app.get<mvsp::identity::Identity>().staff.create_tenant(option(cli, "--name"),
                                                                        "operator:cli");
  if (!tenant) return report(tenant.error());
  std::printf("{\"id\":\"%s\",\"name\":%s}\n", tenant->id.c_str(),
              json_string(tenant->name).c_str());
  return 0;
}

int user_create(const Settings& settings, const CommandLine& cli) {
  App app(only(settings, {"identity"}));
  auto name = option(cli, "--name");
  auto space = name.rfind(' ');
  mvsp::identity::NewAccount input{
      .email = option(cli, "--email"),
      .password = option(cli, "--password"),
      .given_name = space == std::string::npos ? name : name.substr(0, space),
      .family_name = space == std::string::npos ? std::string() : name.substr(space + 1),
      .verified = has_flag(cli, "--verified"),
      .role = option(cli, "--role"),
      .tenant_id = option(cli, "--tenant")};
  auto account = app.get<mvsp::identity::Identity>().accounts.create_account(input, "operator:cli");
  if (!account) return report(account.error());
  std::printf("{\"id\":\"%s\",\"mailbox\":\"%s\",\"email\":%s}\n", account->id.c_str(),
              account->mailbox().c_str(), json_string(account->email).c_str());
  return 0;
}

std::vector<std::string> options(const CommandLine& cli, const char* name) {
  auto it = cli.options.find(name);
  return it == cli.options.end() ? std::vector<std::string>{} : it->second;
}

int client_create(const Settings& settings, const CommandLine& cli) {
  std::string public_key;
  if (auto path = option(cli, "--public-key"); !path.empty()) {
    std::ifstream in(path);
    if (!in) return report(core::Error::invalid("--public-key", "cannot read " + path));
    public_key.assign(std::istreambuf_iterator<char>(in), {});
  }
  App app(only(settings, {"identity"}));
  auto created = app.get<mvsp::identity::Provider>().create_client(
      {.name = option(cli, "--name"),
       .redirect_uris = options(cli, "--redirect-uri"),
       .post_logout_uris = options(cli, "--post-logout-uri"),
       .scopes = options(cli, "--scope"),
       .grants = options(cli, "--grant"),
       .is_public = has_flag(cli, "--public"),
       .tenant_id = option(cli, "--tenant"),
       .public_key_pem = public_key},
      "operator:cli");
  if (!created) return report(created.error());
  if (created->client_secret.empty()) {
    std::printf("{\"client_id\":\"%s\"}\n", created->client.client_id.c_str());
  } else {
    std::printf("{\"client_id\":\"%s\",\"client_secret\":\"%s\"}\n",
                created->client.client_id.c_str(), created->client_secret.c_str());
  }
  return 0;
}

int run(int argc, char** argv) {
  auto cli = mvsp::app::parse_command_line(argc, argv);
  if (!cli) {
    std::fprintf(stderr, "mvsp: %s\n", cli.error().message.c_str());
    return kExitUsage;
  }
  const auto& words = cli->words;
  std::string command = words.empty() ? "help" : words[0];
  // `mvsp COMMAND --help` too: a command never starts with --help among its options (it
  // once started a simulator).
  if (command == "help" || command == "--help" || has_flag(*cli, "--help")) {
    std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
    return 0;
  }
  if (command == "version") {
    std::printf("mvsp %s\n", MVSP_VERSION);
    return 0;
  }
  auto settings = mvsp::app::load_settings(*cli, &mvsp::app::process_env);
  if (!settings) {
    std::fprintf(stderr, "mvsp: %s\n", settings.error().message.c_str());
    for (const auto& f : settings.error().fields) {
      std::fprintf(stderr, "  %s: %s\n", f.field.c_str(), f.message.c_str());
    }
    return kExitUsage;
  }
  configure_logging(*settings);
  std::string sub = words.size() > 1 ? words[1] : "";
  // Commands of two words ("config check") and "jobs retry ID" take one more; nothing else does.
  std::size_t allowed =
      (command == "jobs" && sub == "retry") || (command == "catalog" && sub == "import") ||
              (command == "forms" && sub == "import") ||
              (command == "cases" && sub == "export-efile") || command == "delivery" ||
              command == "payments"
          ? 3
      : (command == "config" || command == "audit" || command == "jobs" || command == "tenant" ||
         command == "user" || command == "client" || command == "keys" || command == "simulate" ||
         command == "catalog" || command == "mailbox" || command == "forms" || command == "cases")
          ? 2
          : 1;
  if (words.size() > allowed) {
    std::fprintf(stderr, "mvsp: unexpected argument \"%s\"; see mvsp help\n",
                 words[allowed].c_str());
    return kExitUsage;
  }
  // A command that reads or looks after an installation does not make a new, empty one
  // where there is none (run in the wrong directory, it once reported an empty catalog and
  // made a new master key). Those that set one up (serve, migrate, demo, and creating the
  // first tenant, user, client or catalog) may.
  bool looks_after =
      (command == "catalog" && sub == "export") || command == "jobs" || command == "audit" ||
      command == "keys" || command == "mailbox" || command == "cases" ||
      (command == "forms" && sub == "pdf") ||
      (command == "delivery" && !(sub == "verify" && cli->options.contains("--public-key-file"))) ||
      (command == "payments" && sub == "client");
  if (looks_after && settings->database.starts_with("sqlite:") &&
      !std::filesystem::exists(settings->database.substr(7))) {
    std::fprintf(stderr,
                 "mvsp: there is no database at %s; run mvsp where the installation is, give "
                 "--database and --data-dir, or set one up with mvsp migrate\n",
                 settings->database.substr(7).c_str());
    return kExitFailure;
  }
  if (command == "serve") return serve(*settings);
  if (command == "migrate") return migrate(*settings);
  if (command == "config" && sub == "check") return config_check(*settings);
  if (command == "audit" && sub == "verify") return audit_verify(*settings);
  if (command == "jobs") return jobs_command(*settings, *cli);
  if (command == "tenant" && sub == "create") return tenant_create(*settings, *cli);
  if (command == "user" && sub == "create") return user_create(*settings, *cli);
  if (command == "client" && sub == "create") return client_create(*settings, *cli);
  if (command == "simulate" && sub == "eid") return simulate_eid(*settings, *cli);
  if (command == "simulate" && sub == "mailbox") return simulate_mailbox(*settings, *cli);
  if (command == "simulate" && sub == "payment") return simulate_payment(*settings, *cli);
  if (command == "delivery" && sub == "client" && words.size() == 3) {
    return delivery_client(*settings, *cli, words[2]);
  }
  if (command == "payments" && sub == "client" && words.size() == 3) {
    return payments_client(*settings, *cli, words[2]);
  }
  if (command == "payments" && sub == "account" && words.size() == 3) {
    return payments_account(*settings, *cli, words[2]);
  }
  if (command == "delivery" && sub == "verify" && words.size() == 3) {
    return delivery_verify(*settings, *cli, words[2]);
  }
  if (command == "catalog" && sub == "export") {
    App app(only(*settings, {"catalog"}));
    std::puts(app.get<mvsp::catalog::Catalog>().export_json().c_str());
    return 0;
  }
  if (command == "catalog" && sub == "import") {
    if (words.size() < 3)
      return report(core::Error::invalid("FILE", "catalog import needs a file"));
    std::ifstream in(words[2]);
    if (!in) return report(core::Error::invalid("FILE", "cannot read " + words[2]));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    App app(only(*settings, {"catalog"}));
    auto done = app.get<mvsp::catalog::Catalog>().import_json(
        {.actor = "operator:cli", .state_wide = true, .tenant_ids = {}}, text);
    if (!done) return report(done.error());
    std::printf("catalog imported: %zu services, %zu authorities\n",
                app.get<mvsp::catalog::Catalog>().services().size(),
                app.get<mvsp::catalog::Catalog>().authorities().size());
    return 0;
  }
  if (command == "forms" && sub == "pdf") return forms_pdf(*settings, *cli);
  if (command == "cases" && sub == "list") return cases_list(*settings, *cli);
  if (command == "cases" && sub == "export-efile") {
    if (words.size() < 3)
      return report(core::Error::invalid("REFERENCE", "cases export-efile needs a reference"));
    return cases_export_efile(*settings, *cli, words[2]);
  }
  if (command == "forms" && sub == "import") {
    if (words.size() < 3) return report(core::Error::invalid("FILE", "forms import needs a file"));
    auto text = mvsp::forms::read_xdatenfelder_file(words[2]);
    if (!text)
      return report(
          core::Error::invalid("FILE", "cannot read " + words[2] + " (a file of at most 32 MiB)"));
    auto folder = std::filesystem::absolute(words[2]).parent_path();
    auto imported = mvsp::forms::import_xdatenfelder(*text, mvsp::forms::code_lists_in(folder));
    if (!imported) return report(imported.error());
    App app(only(*settings, {"forms"}));
    auto saved = app.get<mvsp::forms::Forms>().save_draft(
        {.actor = "operator:cli", .state_wide = true, .tenant_ids = {}}, "",
        mvsp::forms::to_json(imported->form));
    if (!saved) return report(saved.error());
    std::puts(mvsp::forms::report_json(imported->report).c_str());
    return 0;
  }
  if (command == "mailbox" && sub == "erase-orphans") {
    App app(only(*settings, {"mailbox"}));
    auto owners = app.get<mvsp::mailbox::Mailbox>().erase_orphans();
    std::printf("mailboxes of %d owners that no longer exist erased\n", owners);
    return 0;
  }
  if (command == "keys" && sub == "rotate") {
    App app(only(*settings, {"identity"}));
    app.get<mvsp::identity::Provider>().rotate_keys();
    std::puts("new signing keys are active; the old ones stay published until their tokens expire");
    return 0;
  }
  if (command == "demo") {
    App app(only(*settings, mvsp::app::component_names()));
    auto loaded = app.load_demo_data(true);
    std::printf("demo data loaded\n");
    for (const auto& l : loaded) std::printf("  %s\n", l.c_str());
    return 0;
  }
  std::fprintf(stderr, "mvsp: unknown command \"%s\"; see mvsp help\n", command.c_str());
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  mvsp::app::tune_allocator();
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    core::log::error("mvsp.failed", {{"error", e.what()}});
    std::fprintf(stderr, "mvsp: %s\n", e.what());
    return kExitFailure;
  }
}
