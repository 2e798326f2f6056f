#include "app_harness.hpp"

#include <fstream>
#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/finder/finder.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/metrics.hpp>
#include <mvsp/web/pages.hpp>
#include <mvsp/web/resources.hpp>
#include <mvsp/web/router.hpp>
#include <mvsp/web/sessions.hpp>
#include <mvsp/web/site.hpp>
#include <mvsp/web/static_files.hpp>
#include <mvsp/web/templates.hpp>
#include <sstream>
#include <variant>
#include <vector>

#include "app.hpp"

namespace mvsp::fuzz {
namespace fs = std::filesystem;
namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

struct AppHarness::Impl {
  fs::path dir = temp_dir("app");
  std::unique_ptr<app::App> app;
  web::Templates templates;
  web::Catalog texts;
  std::unique_ptr<web::Pages> pages;
  std::unique_ptr<web::SessionStore> sessions;
  web::Metrics metrics;
  std::unique_ptr<web::StaticFiles> static_files;
  core::RandomIdGenerator ids;
  std::unique_ptr<web::Site> site;
  std::vector<std::pair<std::string, std::string>> placeholders;
  std::string account_id;
};

AppHarness::AppHarness() : impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  quiet_logs();
  app::Settings s;
  s.database = "sqlite:" + (d.dir / "fuzz.db").string();
  s.data_dir = d.dir / "data";
  s.public_url = "http://127.0.0.1:8080";
  s.master_key_hex = std::string(64, 'a');
  s.static_dir = d.dir / "static";
  s.job_workers = 0;
  s.pool_size = 2;
  // Bounds that fuzzing would otherwise reach at once and then test nothing else.
  s.config_text +=
      "[delivery]\nrate_per_second = 100000\nburst = 100000\ndaily_quota = 100000000\n";
  fs::create_directories(s.static_dir);
  d.app = std::make_unique<app::App>(s);
  auto& a = *d.app;

  // The same templates and texts App builds for its own site.
  d.templates.add("web", web::embedded_resources());
  d.texts.add(web::embedded_resources());
  d.templates.add("identity", identity::embedded_resources());
  d.texts.add(identity::embedded_resources());
  d.templates.add("catalog", catalog::embedded_resources());
  d.texts.add(catalog::embedded_resources());
  d.templates.add("finder", finder::embedded_resources());
  d.texts.add(finder::embedded_resources());
  d.templates.add("mailbox", mailbox::embedded_resources());
  d.texts.add(mailbox::embedded_resources());
  d.texts.add(delivery::embedded_resources());
  d.pages = std::make_unique<web::Pages>(d.templates, d.texts);
  d.sessions = std::make_unique<web::SessionStore>(a.database(), a.clock(), web::SessionOptions{});
  d.static_files = std::make_unique<web::StaticFiles>(s.static_dir);
  d.site =
      std::make_unique<web::Site>(a.router(), *d.pages, *d.sessions, d.metrics, *d.static_files,
                                  d.ids, web::SiteOptions{.public_url = s.public_url});

  auto& oidc = a.get<mvsp::identity::Provider>();
  auto tenant = a.get<identity::Identity>().staff.create_tenant("Fuzz-Behörde", "fuzz");
  check(tenant.has_value(), "harness: create the tenant");
  auto confidential = oidc.create_client({.name = "Fuzz RP",
                                          .redirect_uris = {"https://rp.example/callback"},
                                          .post_logout_uris = {"https://rp.example/bye"}},
                                         "fuzz");
  auto pub = oidc.create_client(
      {.name = "Fuzz SPA", .redirect_uris = {"https://rp.example/callback"}, .is_public = true},
      "fuzz");
  auto jwt = oidc.create_client(
      {.name = "Fuzz JWT",
       .redirect_uris = {"https://rp.example/callback"},
       .public_key_pem = read_file(source_dir() / "keys" / "jwt-client.pub.pem")},
      "fuzz");
  auto machine = oidc.create_client({.name = "Fuzz Fachverfahren",
                                     .scopes = {"notices:write", "notices:read", "catalog:admin"},
                                     .grants = {"client_credentials"},
                                     .tenant_id = tenant->id},
                                    "fuzz");
  check(confidential && pub && jwt && machine, "harness: create the OIDC clients");
  auto token = [&](const std::string& scope) {
    auto r = oidc.token({{"grant_type", "client_credentials"},
                         {"scope", scope},
                         {"client_id", machine->client.client_id},
                         {"client_secret", machine->client_secret}},
                        "");
    auto* ok = std::get_if<identity::TokenResponse>(&r);
    check(ok != nullptr, "harness: a client_credentials token");
    return ok->access_token;
  };
  auto account =
      a.get<identity::Identity>().accounts.create_account({.email = "erika@example.org",
                                                           .password = "Fuzz-Passwort-1234",
                                                           .given_name = "Erika",
                                                           .family_name = "Mustermann",
                                                           .verified = true},
                                                          "fuzz");
  check(account.has_value(), "harness: create the account");
  d.account_id = account->id;
  // An ID token through the code flow, for id_token_hint.
  auto authorization = oidc.check_authorization({{"response_type", "code"},
                                                 {"client_id", confidential->client.client_id},
                                                 {"redirect_uri", "https://rp.example/callback"},
                                                 {"scope", "openid"},
                                                 {"nonce", "fuzz"}});
  auto* request = std::get_if<identity::AuthorizationRequest>(&authorization);
  check(request != nullptr, "harness: an authorization request");
  auto code = oidc.issue_code(*request, d.account_id, identity::TrustLevel::low, a.clock().now());
  auto tokens = oidc.token({{"grant_type", "authorization_code"},
                            {"code", code},
                            {"redirect_uri", "https://rp.example/callback"},
                            {"client_id", confidential->client.client_id},
                            {"client_secret", confidential->client_secret}},
                           "");
  auto* id_token = std::get_if<identity::TokenResponse>(&tokens);
  check(id_token != nullptr && !id_token->id_token.empty(), "harness: an ID token");
  d.placeholders = {{"@ID_TOKEN@", id_token->id_token},
                    {"@ACCOUNT_ID@", d.account_id},
                    {"@CLIENT_ID@", confidential->client.client_id},
                    {"@CLIENT_SECRET@", confidential->client_secret},
                    {"@PUBLIC_CLIENT_ID@", pub->client.client_id},
                    {"@JWT_CLIENT_ID@", jwt->client.client_id},
                    {"@MACHINE_CLIENT_ID@", machine->client.client_id},
                    {"@MACHINE_CLIENT_SECRET@", machine->client_secret},
                    {"@MACHINE_BASIC@", core::crypto::base64(machine->client.client_id + ":" +
                                                             machine->client_secret)},
                    {"@NOTICES_TOKEN@", token("notices:write notices:read")},
                    {"@CATALOG_TOKEN@", token("catalog:admin")}};
}

AppHarness::~AppHarness() = default;

app::App& AppHarness::app() {
  return *impl_->app;
}

web::Request AppHarness::request(web::Method method, std::string path, std::string query) {
  web::Request req;
  req.method = method;
  req.path = std::move(path);
  req.query = std::move(query);
  req.remote_address = "127.0.0.1";
  return req;
}

web::Response AppHarness::handle(web::Request req) {
  auto res = impl_->site->handle(req);
  check(res.status != 500, "no request ends in 500 (an exception escaped a handler)",
        std::string(web::method_name(req.method)) + " " + req.path);
  check(res.status >= 200 && res.status < 600, "a response has an HTTP status");
  return res;
}

std::string AppHarness::sign_in() {
  auto session = impl_->sessions->create();
  session.account_id = impl_->account_id;
  impl_->sessions->save(session);
  return session.token;
}

void AppHarness::end_session(const std::string& token) {
  if (auto session = impl_->sessions->load(token)) impl_->sessions->destroy(*session);
}

std::string AppHarness::expand(std::string_view input) const {
  std::string out(input);
  if (out.find('@') == std::string::npos) return out;
  for (const auto& [name, value] : impl_->placeholders) {
    for (auto pos = out.find(name); pos != std::string::npos;
         pos = out.find(name, pos + value.size())) {
      out.replace(pos, name.size(), value);
    }
  }
  return out;
}

AppHarness& harness() {
  static auto* instance = new AppHarness();  // never destroyed: inputs run until exit
  return *instance;
}

}  // namespace mvsp::fuzz
