#include <fmt/format.h>

#include <mvsp/core/clock.hpp>
#include <mvsp/core/config.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/identity/component.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/level.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/machine_clients.hpp>
#include <mvsp/web/ports.hpp>
#include <mvsp/web/sessions.hpp>
#include <regex>

namespace mvsp::identity {
namespace {

// One [identity.upstream.NAME] section; only the keys of its protocol are known.
UpstreamConfig read_upstream(core::Config& config, const std::string& name) {
  auto key = "identity.upstream." + name;
  auto sec = config.section(key);
  UpstreamConfig u;
  u.name = name;
  static const std::regex kName("^[a-z0-9][a-z0-9-]{0,31}$");
  if (!std::regex_match(name, kName) || name == "neu" || name == "abschluss" ||
      name == "verbinden") {
    sec.reject("", fmt::format("{}: the name must be 1 to 32 lower-case letters, digits or "
                               "hyphens, and not neu, abschluss or verbinden",
                               key));
  }
  u.protocol = sec.choice("protocol", "", {"saml", "oidc"});
  u.label = sec.string("label", name);
  auto url = [&](const char* k) {
    auto v = sec.string(k, "");
    if (!v.starts_with("https://") && !v.starts_with("http://")) {
      sec.reject(k, fmt::format("{}.{} must be an http(s) URL", key, k));
    }
    return v;
  };
  auto required = [&](const char* k) {
    auto v = sec.string(k, "");
    if (v.empty()) sec.reject(k, fmt::format("{}.{} is required", key, k));
    return v;
  };
  if (u.protocol == "saml") {
    u.sso_url = url("sso_url");
    u.idp_entity_id = required("idp_entity_id");
    if (!required("idp_certificate").empty()) {
      u.idp_certificate_pem = sec.pem_file("idp_certificate", "CERTIFICATE");
    }
  } else if (u.protocol == "oidc") {
    u.issuer = url("issuer");
    while (u.issuer.ends_with('/')) u.issuer.pop_back();
    u.client_id = required("client_id");
    u.client_secret = required("client_secret");
    u.scope = sec.string("scope", u.scope);
    u.acr_levels = sec.string_pairs("acr_levels");
    for (const auto& [acr, level] : u.acr_levels) {
      if (!parse_level(level)) {
        sec.reject("acr_levels", fmt::format("{}.acr_levels.{} must be basic, low, substantial "
                                             "or high",
                                             key, acr));
      }
    }
  } else {
    sec.reject("protocol", fmt::format("{}.protocol is required: saml or oidc", key));
  }
  return u;
}

// The machine clients of the APIs, from our own access tokens.
class BearerClients final : public web::MachineClients {
 public:
  explicit BearerClients(Provider& oidc) : oidc_(oidc) {}
  std::optional<web::MachineClient> authenticate(const web::Request& request) override {
    auto auth = request.header("authorization").value_or("");
    if (!auth.starts_with("Bearer ")) return std::nullopt;
    auto grant = oidc_.check_machine_token(std::string_view(auth).substr(7));
    if (!grant) return std::nullopt;
    return web::MachineClient{grant->client_id, grant->tenant_id, grant->scopes};
  }

 private:
  Provider& oidc_;
};

class Component final : public web::Component {
 public:
  std::string_view name() const override { return "identity"; }
  std::span<const core::Resource> resources() const override { return embedded_resources(); }
  void configure(core::Config& config) override { settings_ = read_settings(config); }

  void build(web::Platform& p) override {
    const auto& clock = p.ports.clock;
    identity_ = std::make_unique<Identity>(
        p.db, clock, p.ports.ids, p.jobs, p.audit, p.texts,
        IdentityOptions{.public_url = p.public_url,
                        .key = p.master_key,
                        .unconfirmed_account_lifetime = settings_.unconfirmed_account_lifetime});
    oidc_ =
        std::make_unique<Provider>(p.db, clock, p.ports.ids, p.audit, *identity_,
                                   ProviderOptions{.issuer = p.public_url, .key = p.master_key});
    oidc_->ensure_keys();
    if (!settings_.upstreams.empty()) {
      federation_ =
          std::make_unique<Federation>(p.db, clock, p.ports.ids, p.audit, *identity_,
                                       FederationOptions{.public_url = p.public_url,
                                                         .key = p.master_key,
                                                         .key_dir = p.data_dir / "saml",
                                                         .upstreams = settings_.upstreams},
                                       p.ports.http(std::chrono::seconds(10)));
      p.services.offer(*federation_);
    }
    clients_ = std::make_unique<BearerClients>(*oidc_);
    p.services.offer(*identity_);
    // Each part on its own as well, for components that use one part.
    p.services.offer(identity_->accounts);
    p.services.offer(identity_->staff);
    p.services.offer(identity_->organisations);
    p.services.offer(*oidc_);
    p.services.offer<web::MachineClients>(*clients_);
    p.services.offer(settings_);
  }

  void routes(web::Platform& p) override {
    if (p.runs(name())) {
      register_pages(p.router, p.pages, p.sessions, *identity_,
                     {.clock = &p.ports.clock,
                      .secure_cookies = p.https,
                      .oidc = oidc_.get(),
                      .federation = federation_.get()});
    }
    // Machine clients get their tokens here, also where only an API that takes them runs
    // (the delivery service alone): there only the token endpoint with discovery and JWKS,
    // no browser login.
    if (p.runs(name()) || p.machine_clients) {
      register_oidc_endpoints(p.router, p.pages, p.sessions, *oidc_,
                              {.identity = identity_.get(),
                               .federation = federation_.get(),
                               .clock = &p.ports.clock,
                               .step_up_lifetime = settings_.step_up_lifetime,
                               .machine_only = !p.runs(name())});
    }
  }

  void jobs(web::Platform& p) override {
    if (!p.runs(name())) return;
    p.runner.every("identity.retention", p.sweep_every, [this](core::JobContext&) {
      auto swept = identity_->retention.sweep();
      if (swept.expired_rows > 0 || swept.unconfirmed_accounts > 0) {
        core::log::info("identity.swept",
                        {{"expired_rows", std::to_string(swept.expired_rows)},
                         {"unconfirmed_accounts", std::to_string(swept.unconfirmed_accounts)}});
      }
      return core::JobOutcome::ok();
    });
  }

  // Three demo tenants (Schwerin, Wismar and the Munitionsbergungsdienst) and one account
  // of each kind, all with the same password; the catalog's demo gives each tenant its
  // offices.
  void demo(web::Platform&, web::Demo& demo) override {
    auto tenant_of = [&](const char* key, const char* name) {
      std::string tenant_id;
      for (const auto& t : identity_->staff.tenants()) {
        if (t.name == name) tenant_id = t.id;
      }
      if (tenant_id.empty()) {
        auto tenant = identity_->staff.create_tenant(name, "system:demo");
        if (!tenant) throw core::Failure("demo tenant: " + tenant.error().message);
        tenant_id = tenant->id;
      }
      demo.names[key] = tenant_id;
      demo.loaded.push_back(
          fmt::format("identity: demo tenant \"{}\" with the id {}", name, tenant_id));
      return tenant_id;
    };
    auto schwerin = tenant_of("tenant:schwerin", "Landeshauptstadt Schwerin (Demo)");
    auto wismar = tenant_of("tenant:wismar", "Hansestadt Wismar (Demo)");
    // the state office whose Kampfmittel-Auskunft is decided without a clerk
    tenant_of("tenant:mbd", "Munitionsbergungsdienst M-V (Demo)");
    struct DemoAccount {
      const char* email;
      const char* given;
      const char* family;
      const char* role;
      const std::string* tenant;
    };
    for (const auto& a :
         {DemoAccount{"erika.mustermann@example.org", "Erika", "Mustermann", "", nullptr},
          DemoAccount{"verwaltung@example.org", "Volker", "Verwaltung", "authority_admin",
                      &schwerin},
          DemoAccount{"redaktion@example.org", "Rieke", "Redaktion", "editor", &schwerin},
          DemoAccount{"kasse@example.org", "Karl", "Kasse", "cashier", &schwerin},
          DemoAccount{"sachbearbeitung.wismar@example.org", "Svenja", "Sachbearbeitung", "clerk",
                      &wismar},
          DemoAccount{"verwaltung.wismar@example.org", "Wiebke", "Verwaltung", "authority_admin",
                      &wismar},
          DemoAccount{"betrieb@example.org", "Olga", "Betrieb", "operator", &schwerin}}) {
      auto created =
          identity_->accounts.create_account({.email = a.email,
                                              .password = "Demo-Passwort-2026",
                                              .given_name = a.given,
                                              .family_name = a.family,
                                              .verified = true,
                                              .role = a.role,
                                              .tenant_id = a.tenant ? *a.tenant : std::string()},
                                             "system:demo");
      if (!created && created.error().code != core::ErrorCode::conflict) {
        throw core::Failure(std::string("demo account ") + a.email + ": " +
                            created.error().message);
      }
      if (auto account = identity_->accounts.find_by_email(a.email)) {
        demo.names[std::string("account:") + a.email] = account->id;
      }
      demo.loaded.push_back(fmt::format("identity: {} {}{}", *a.role ? a.role : "citizen", a.email,
                                        created ? "" : " (already there)"));
    }
  }

 private:
  Settings settings_;
  std::unique_ptr<Identity> identity_;
  std::unique_ptr<Provider> oidc_;
  std::unique_ptr<Federation> federation_;
  std::unique_ptr<BearerClients> clients_;
};

}  // namespace

Settings read_settings(core::Config& config) {
  Settings s;
  auto section = config.section("identity");
  s.step_up_lifetime = std::chrono::minutes(
      section.integer("step_up_minutes", s.step_up_lifetime.count(), 1, 24 * 60));
  s.unconfirmed_account_lifetime = std::chrono::days(
      section.integer("unconfirmed_account_days", s.unconfirmed_account_lifetime.count(), 2, 3650));
  for (const auto& name : config.subsections("identity.upstream")) {
    s.upstreams.push_back(read_upstream(config, name));
  }
  return s;
}

std::unique_ptr<web::Component> make_component() {
  return std::make_unique<Component>();
}

}  // namespace mvsp::identity
