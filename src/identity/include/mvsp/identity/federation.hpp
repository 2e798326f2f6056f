#pragma once
// Upstream identity providers (federation): a person logs in, or raises the trust level,
// through another provider — BundID-style SAML 2.0 (the eID reaches `high`) or any OpenID
// Connect provider (its `acr` mapped to our levels) — and that identity is linked to a
// citizen account.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/web/client.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mvsp::identity {

// One [identity.upstream.NAME] section.
struct UpstreamConfig {
  std::string name;      // in URLs: /anmelden/extern/NAME
  std::string protocol;  // "saml" or "oidc"
  std::string label;     // on the button: "BundID", "Nutzerkonto Bund"
  // saml
  std::string sso_url;
  std::string idp_entity_id;
  std::string idp_certificate_pem;
  // oidc
  std::string issuer;
  std::string client_id;
  std::string client_secret;
  std::string scope = "openid profile email";
  // acr values of this provider beyond the STORK and eIDAS forms, mapped to our levels.
  std::vector<std::pair<std::string, std::string>> acr_levels;
};

struct FederationOptions {
  std::string public_url;
  std::string key;                // 32 bytes, derived from the master key
  std::filesystem::path key_dir;  // the SAML service provider's key pair lives here
  std::vector<UpstreamConfig> upstreams;
  std::chrono::minutes request_lifetime{15};
};

// What the browser does next: follow `redirect_url`, or post `post_fields` to `post_url`.
struct UpstreamStart {
  std::string request_id;
  std::string browser_secret;  // for the cookie that ties the answer to this browser
  std::string redirect_url;
  std::string post_url;
  std::vector<std::pair<std::string, std::string>> post_fields;
};

// A person as the upstream provider vouched for them.
struct UpstreamIdentity {
  std::string upstream;
  std::string subject;  // stable at that provider (bPK2, or the OpenID `sub`)
  TrustLevel level = TrustLevel::basic;
  std::string method;  // how they identified: eID, ELSTER, …
  std::string email;
  Profile profile;
};

// The identity as JSON and back (sealed while a login waits; in the session while the
// person decides between a new account and linking an existing one).
std::string identity_to_json(const UpstreamIdentity& identity);
std::optional<UpstreamIdentity> identity_from_json(std::string_view json);

struct UpstreamOutcome {
  std::string request_id;
  std::string started_by;  // the account signed in when the login started, or empty
  std::string next;
  TrustLevel minimum = TrustLevel::basic;
  std::string linked_account;  // the account this identity is linked to, if any
  UpstreamIdentity identity;
};

struct IdentityLink {
  std::string upstream;
  std::string label;
  TrustLevel level = TrustLevel::basic;
  core::TimePoint linked_at;
  core::TimePoint last_used_at;
};

// Loads the OpenID upstream's documents through the transport the composition root gives.
using web::HttpAnswer;
using web::HttpFetch;

class Federation {
 public:
  Federation(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
             core::AuditLog& audit, Identity& identity, FederationOptions options, HttpFetch fetch);

  const std::vector<UpstreamConfig>& upstreams() const;
  const UpstreamConfig* find(std::string_view name) const;

  // Starts a login at `upstream` asking for at least `minimum`; `account_id` is who is
  // signed in (empty if nobody), `next` a local path to return to.
  core::Result<UpstreamStart> begin(std::string_view upstream, TrustLevel minimum,
                                    std::string_view next, std::string_view account_id);
  // The SAML assertion consumer: checks the response and keeps its outcome for the
  // request it answers. Returns that request's id.
  core::Result<std::string> saml_response(std::string_view saml_response_base64);
  // The OpenID redirect: exchanges the code, checks the ID token. Returns the request id.
  core::Result<std::string> oidc_callback(const std::map<std::string, std::string>& params);
  // In the browser that started it (its secret from the cookie): the outcome, once.
  core::Result<UpstreamOutcome> finish(std::string_view request_id,
                                       std::string_view browser_secret);

  // Links the identity to the account; conflict when it is linked elsewhere or the
  // account has another identity at that provider; forbidden when the account's address
  // is not confirmed (anyone can register any address), except for the account the
  // new-account page just made for this identity (`new_account`).
  core::Status link(std::string_view account_id, const UpstreamIdentity& identity,
                    bool new_account = false);
  // Records a login through a linked identity.
  void used(std::string_view account_id, const UpstreamIdentity& identity);
  std::vector<IdentityLink> links_of(std::string_view account_id);
  core::Status unlink(std::string_view account_id, std::string_view upstream);

  // Our SAML service provider: entity id, assertion consumer URL and metadata.
  std::string sp_entity_id() const;
  std::string acs_url() const;
  std::string sp_metadata() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mvsp::identity
