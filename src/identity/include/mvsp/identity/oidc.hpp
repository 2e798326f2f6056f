#pragma once
// The OpenID Connect provider (MV-Nutzerkonto IDP): client registry, signing keys with
// rotation, the authorization code flow with PKCE, refresh tokens that rotate, client
// credentials for machines, userinfo, and RP-initiated logout. Endpoint handlers are in
// register_oidc_endpoints; this class holds the rules, which tests call directly.

#include <chrono>
#include <map>
#include <memory>
#include <mvsp/core/error.hpp>
#include <mvsp/identity/identity.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mvsp::identity {

// Maps acr values in both forms used in Germany (STORK-QAA-Level-1…4, eIDAS LoA URIs)
// and our own level names to a TrustLevel.
std::optional<TrustLevel> level_of_acr(std::string_view acr);
// The acr value we put in ID tokens for a level (eIDAS URIs; "basic" for basic).
std::string acr_of_level(TrustLevel level);

struct NewClient {
  std::string name;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> post_logout_uris;
  std::vector<std::string> scopes;  // default: openid profile email address
  std::vector<std::string> grants;  // default: authorization_code refresh_token
  bool is_public = false;           // a public client has no secret and must use PKCE
  std::string tenant_id;
  // PEM of an RSA or P-256 public key: the client authenticates with private_key_jwt
  // (a signed assertion) instead of a secret.
  std::string public_key_pem;
};

struct Client {
  std::string client_id;
  std::string name;
  bool is_public = false;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> post_logout_uris;
  std::vector<std::string> scopes;
  std::vector<std::string> grants;
  std::string tenant_id;
};

struct CreatedClient {
  Client client;
  std::string client_secret;  // shown once; only its hash is kept
};

// A checked authorization request.
struct AuthorizationRequest {
  Client client;
  std::string redirect_uri;
  std::string state;
  std::string nonce;
  std::string scope;           // the granted scopes, space-separated
  std::string code_challenge;  // S256
  std::string prompt;          // "", "none" or "login"
  std::optional<std::chrono::seconds> max_age;
  std::optional<TrustLevel> required_level;
  std::string ui_locales;
  std::string login_hint;
};

// An error that goes back to the client's redirect_uri (RFC 6749 4.1.2.1), or — when the
// client or redirect_uri itself is bad — is shown to the person without a redirect.
struct AuthorizationError {
  std::string error;  // "invalid_request", "login_required", …
  std::string description;
  bool redirect = true;
  std::string redirect_uri;  // the checked one, when redirect is true
  std::string state;
};

struct TokenResponse {
  std::string access_token;
  std::string refresh_token;
  std::string id_token;
  std::string scope;
  std::int64_t expires_in = 0;
};

// A token endpoint error (RFC 6749 5.2): "invalid_client" answers 401, the rest 400.
struct TokenError {
  std::string error;
  std::string description;
};

// What a valid access token stands for.
struct TokenGrant {
  std::string client_id;
  std::string tenant_id;   // the client's tenant (machine clients act for it)
  std::string account_id;  // empty for client credentials
  std::vector<std::string> scopes;
  TrustLevel level = TrustLevel::basic;
};

// An RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), checked.
struct LogoutRequest {
  std::string client_id;  // named by id_token_hint or client_id (both must agree); or empty
  std::string client_name;
  std::string hinted_subject;  // whom a valid id_token_hint names; empty without one
  // post_logout_redirect_uri when it is exactly one registered for the client, else empty:
  // then there is no redirect.
  std::string redirect_uri;
  std::string state;

  // Whether the session of `account_id` may end without asking: nobody is signed in, or
  // the hint names that very person. A bare link could be forged (logout CSRF), and an
  // attacker's own ID token is a valid hint as well.
  bool ends_without_asking(std::string_view account_id) const {
    return account_id.empty() || (!hinted_subject.empty() && hinted_subject == account_id);
  }
};

struct ProviderOptions {
  std::string issuer;  // the public URL
  std::string key;     // 32 bytes (the master key); the provider derives its own
  std::chrono::seconds code_lifetime{60};
  std::chrono::seconds access_token_lifetime{600};
  std::chrono::seconds id_token_lifetime{3600};
  std::chrono::hours refresh_token_lifetime{24 * 30};
};

class Provider {
 public:
  Provider(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
           core::AuditLog& audit, Identity& identity, ProviderOptions options);
  ~Provider();

  const ProviderOptions& options() const;
  core::Result<CreatedClient> create_client(const NewClient& input, std::string_view actor);
  std::optional<Client> find_client(std::string_view client_id);
  std::vector<Client> clients();

  // Makes sure an active RS256 and ES256 key exist (at start).
  void ensure_keys();
  // New signing keys; the old ones stay in the JWKS until tokens signed with them expire.
  void rotate_keys();
  std::string discovery_json() const;
  std::string jwks_json();

  std::variant<AuthorizationRequest, AuthorizationError> check_authorization(
      const std::map<std::string, std::string>& params);
  // A single-use code for the signed-in account.
  std::string issue_code(const AuthorizationRequest& request, const std::string& account_id,
                         TrustLevel level, core::TimePoint auth_time);

  // client_secret_basic (`authorization` header), client_secret_post, private_key_jwt
  // (RFC 7523 assertion, each jti once) or none (public).
  std::variant<TokenResponse, TokenError> token(const std::map<std::string, std::string>& form,
                                                const std::string& authorization);
  std::optional<TokenGrant> check_access_token(std::string_view token);
  // The same for the APIs of back-office systems: only a token a machine got with its
  // client credentials; a person's token from the code flow never, whatever its scopes.
  std::optional<TokenGrant> check_machine_token(std::string_view token);
  // The userinfo claims for a grant, as JSON.
  std::string userinfo_json(const TokenGrant& grant);
  // Who an ID token of ours was issued to and for whom, if its signature holds (an expired
  // token is still a valid hint: RP-initiated logout, id_token_hint).
  struct IdTokenHint {
    std::string client_id;
    std::string subject;
  };
  std::optional<IdTokenHint> read_id_token_hint(std::string_view id_token);
  // Checks the parameters of /oidc/logout (query or the confirmation form).
  LogoutRequest check_logout(const std::map<std::string, std::string>& params);
  // Records in the audit log that the account signed out through a client's logout.
  void logged_out(const LogoutRequest& request, std::string_view account_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Federation;

struct OidcPageOptions {
  Identity* identity = nullptr;
  Federation* federation = nullptr;           // where `high` is reached (the eID upstream)
  const core::Clock* clock = nullptr;         // required
  std::chrono::minutes step_up_lifetime{30};  // a raised level counts this long
  // Only what machine clients use (discovery, JWKS, the token endpoint): an instance that
  // runs an API but no login pages.
  bool machine_only = false;
};

// /.well-known/openid-configuration, /oidc/jwks, /oidc/authorize, /oidc/logout,
// /api/v1/oidc/token, /api/v1/oidc/userinfo.
void register_oidc_endpoints(web::Router& router, const web::Pages& pages,
                             web::SessionStore& sessions, Provider& provider,
                             OidcPageOptions options);

}  // namespace mvsp::identity
