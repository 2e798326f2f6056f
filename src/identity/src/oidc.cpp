#include <Poco/Crypto/ECKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <mutex>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/web/http.hpp>
#include <sstream>

#include "jose.hpp"
#include "secrets.hpp"

namespace mvsp::identity {
namespace crypto = core::crypto;
using core::Error;
using core::fail;

namespace {

constexpr std::string_view kDefaultScopes = "openid profile email address";
constexpr std::string_view kDefaultGrants = "authorization_code refresh_token";

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string b64url_bytes(const std::vector<unsigned char>& v) {
  return crypto::base64url(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
}

// Standard base64 as in HTTP Basic credentials, with or without padding.
std::optional<std::string> base64_decode_padded(std::string_view in) {
  std::string s(in);
  while (s.size() % 4) s += '=';
  return crypto::base64_decode(s);
}

// Where a client may send people back (redirect and post-logout URIs): https, or http on
// the loopback interface only (RFC 8252 7.3). Decided on the parsed URI, so that neither a
// longer host (http://localhost.evil.example) nor user information
// (http://localhost@evil.example) passes for loopback; no fragment (RFC 6749 3.1.2).
bool acceptable_client_uri(const std::string& uri) {
  if (uri.empty() || uri.size() > 2000 || uri.find('#') != std::string::npos) return false;
  for (unsigned char ch : uri) {
    if (ch <= 0x20 || ch >= 0x7f || ch == '\\') return false;  // browsers read these freely
  }
  try {
    Poco::URI parsed(uri);
    auto host = Poco::toLower(parsed.getHost());
    if (host.empty() || !parsed.getUserInfo().empty()) return false;
    if (parsed.getScheme() == "https") return true;
    return parsed.getScheme() == "http" &&
           (host == "127.0.0.1" || host == "::1" || host == "localhost");
  } catch (const Poco::Exception&) {
    return false;
  }
}

constexpr std::string_view kClientUriRule =
    "must be https (http only for 127.0.0.1, [::1] or localhost), without user information "
    "or #";

struct LoadedKey {
  std::string kid;
  std::string alg;
  Poco::SharedPtr<Poco::Crypto::RSAKey> rsa;
  Poco::SharedPtr<Poco::Crypto::ECKey> ec;
};

}  // namespace

std::optional<TrustLevel> level_of_acr(std::string_view acr) {
  static const std::map<std::string, TrustLevel, std::less<>> kMap = {
      {"STORK-QAA-Level-1", TrustLevel::basic},
      {"STORK-QAA-Level-2", TrustLevel::low},
      {"STORK-QAA-Level-3", TrustLevel::substantial},
      {"STORK-QAA-Level-4", TrustLevel::high},
      {"http://eidas.europa.eu/LoA/low", TrustLevel::low},
      {"http://eidas.europa.eu/LoA/substantial", TrustLevel::substantial},
      {"http://eidas.europa.eu/LoA/high", TrustLevel::high},
      {"basic", TrustLevel::basic},
      {"low", TrustLevel::low},
      {"substantial", TrustLevel::substantial},
      {"high", TrustLevel::high}};
  auto it = kMap.find(acr);
  if (it == kMap.end()) return std::nullopt;
  return it->second;
}

std::string acr_of_level(TrustLevel level) {
  switch (level) {
    case TrustLevel::basic:
      return "basic";
    case TrustLevel::low:
      return "http://eidas.europa.eu/LoA/low";
    case TrustLevel::substantial:
      return "http://eidas.europa.eu/LoA/substantial";
    case TrustLevel::high:
      return "http://eidas.europa.eu/LoA/high";
  }
  return "basic";
}

struct Provider::Impl {
  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::AuditLog& audit;
  Identity& identity;
  ProviderOptions options;
  std::string key_seal;
  std::mutex keys_mutex;
  std::map<std::string, std::shared_ptr<LoadedKey>> keys;  // by kid

  std::int64_t now() const { return core::to_millis(clock.now()); }

  std::shared_ptr<LoadedKey> load(const std::string& kid) {
    {
      std::lock_guard lock(keys_mutex);
      if (auto it = keys.find(kid); it != keys.end()) return it->second;
    }
    auto row = db.query_one("SELECT alg, private_key FROM oidc_keys WHERE kid = ?", kid);
    if (!row) return nullptr;
    auto pem = secrets::open(key_seal, row->text(1));
    if (!pem) throw core::Failure("an OIDC signing key does not open with the master key");
    auto k = std::make_shared<LoadedKey>();
    k->kid = kid;
    k->alg = row->text(0);
    std::istringstream priv(*pem);
    if (k->alg == "RS256") {
      k->rsa = new Poco::Crypto::RSAKey(nullptr, &priv);
    } else {
      k->ec = new Poco::Crypto::ECKey(nullptr, &priv);
    }
    std::lock_guard lock(keys_mutex);
    keys[kid] = k;
    return k;
  }

  void create_key(core::db::Connection& tx, const std::string& alg) {
    auto kid = ids.key();
    std::ostringstream pub, priv;
    Poco::JSON::Object jwk;
    jwk.set("kid", kid);
    jwk.set("use", "sig");
    jwk.set("alg", alg);
    if (alg == "RS256") {
      Poco::Crypto::RSAKey key(Poco::Crypto::RSAKey::KL_2048, Poco::Crypto::RSAKey::EXP_LARGE);
      key.save(&pub, &priv);
      jwk.set("kty", "RSA");
      jwk.set("n", b64url_bytes(key.modulus()));
      jwk.set("e", b64url_bytes(key.encryptionExponent()));
    } else {
      Poco::Crypto::ECKey key("prime256v1");
      key.save(&pub, &priv);
      auto [x, y] = jose::ec_coordinates(pub.str());
      jwk.set("kty", "EC");
      jwk.set("crv", "P-256");
      jwk.set("x", x);
      jwk.set("y", y);
    }
    tx.execute(
        "INSERT INTO oidc_keys (kid, alg, private_key, public_jwk, created_at) VALUES (?, ?, ?, ?, "
        "?)",
        kid, alg, secrets::seal(key_seal, priv.str()), jose::stringify(jwk), now());
  }

  std::shared_ptr<LoadedKey> signing_key(const std::string& alg) {
    auto row = db.query_one(
        "SELECT kid FROM oidc_keys WHERE alg = ? AND retired_at IS NULL ORDER BY created_at DESC, "
        "kid "
        "LIMIT 1",
        alg);
    if (!row) throw core::Failure("no active " + alg + " signing key; run mvsp migrate or restart");
    return load(row->text(0));
  }

  std::string sign(Poco::JWT::Token& token, const std::string& alg) {
    auto key = signing_key(alg);
    token.header().set("kid", key->kid);
    token.setType("JWT");
    if (key->rsa) return Poco::JWT::Signer(key->rsa).sign(token, Poco::JWT::Signer::ALGO_RS256);
    return Poco::JWT::Signer(key->ec).sign(token, Poco::JWT::Signer::ALGO_ES256);
  }

  std::optional<Client> client(core::db::Connection& c, std::string_view id) {
    auto r = c.query_one(
        "SELECT client_id, name, is_public, redirect_uris, post_logout_uris, scopes, grants, "
        "tenant_id FROM oidc_clients WHERE client_id = ?",
        std::string(id));
    if (!r) return std::nullopt;
    return Client{r->text(0),
                  r->text(1),
                  r->integer(2) != 0,
                  split(r->text(3), '\n'),
                  split(r->text(4), '\n'),
                  split(r->text(5), ' '),
                  split(r->text(6), ' '),
                  r->text(7)};
  }

  // The client named by the request's credentials, or why not.
  std::variant<Client, TokenError> authenticate(const std::map<std::string, std::string>& form,
                                                const std::string& authorization) {
    std::string id, secret;
    bool basic = false;
    if (auto type = form.find("client_assertion_type"); type != form.end()) {
      if (type->second != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        return TokenError{"invalid_client", "unknown client_assertion_type"};
      }
      auto assertion = form.find("client_assertion");
      return authenticate_assertion(assertion == form.end() ? std::string() : assertion->second);
    }
    if (authorization.starts_with("Basic ")) {
      auto decoded = base64_decode_padded(std::string_view(authorization).substr(6));
      if (!decoded) return TokenError{"invalid_client", "malformed Basic credentials"};
      const std::string& pair = *decoded;
      auto colon = pair.find(':');
      if (colon == std::string::npos)
        return TokenError{"invalid_client", "malformed Basic credentials"};
      id = web::url_decode(pair.substr(0, colon), true);
      secret = web::url_decode(pair.substr(colon + 1), true);
      basic = true;
    } else {
      if (auto it = form.find("client_id"); it != form.end()) id = it->second;
      if (auto it = form.find("client_secret"); it != form.end()) secret = it->second;
    }
    if (id.empty()) return TokenError{"invalid_client", "client authentication is missing"};
    auto conn = db.acquire();
    auto c = client(*conn, id);
    auto row = conn->query_one("SELECT secret_hash FROM oidc_clients WHERE client_id = ?", id);
    if (!c) return TokenError{"invalid_client", "unknown client"};
    if (c->is_public) {
      if (basic || !secret.empty())
        return TokenError{"invalid_client", "a public client has no secret"};
      return *c;
    }
    if (row->text(0).empty())
      return TokenError{"invalid_client", "this client authenticates with private_key_jwt"};
    if (secret.empty() || !crypto::equal_constant_time(crypto::sha256_hex(secret), row->text(0))) {
      return TokenError{"invalid_client", "wrong client credentials"};
    }
    return *c;
  }

  // RFC 7523: a JWT signed with the client's key, iss = sub = client_id, aud = the token
  // endpoint (or the issuer), not expired, at most five minutes long, each jti once.
  std::variant<Client, TokenError> authenticate_assertion(const std::string& jwt) {
    auto refuse = [](std::string why) { return TokenError{"invalid_client", std::move(why)}; };
    auto first = jwt.find('.');
    auto second = jwt.find('.', first + 1);
    if (first == std::string::npos || second == std::string::npos)
      return refuse("malformed client_assertion");
    Poco::JSON::Object::Ptr claims;
    try {
      Poco::JSON::Parser parser;
      claims = parser
                   .parse(jose::base64url_decode(
                       std::string_view(jwt).substr(first + 1, second - first - 1)))
                   .extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
      return refuse("malformed client_assertion");
    }
    auto id = claims->optValue<std::string>("iss", "");
    auto conn = db.acquire();
    auto c = client(*conn, id);
    auto row = conn->query_one("SELECT public_key FROM oidc_clients WHERE client_id = ?", id);
    if (!c || row->text(0).empty()) return refuse("unknown client or no registered key");
    Poco::JWT::Token token;
    try {
      bool rsa = jose::key_kind(row->text(0)) == "RSA";
      std::istringstream pem2(row->text(0));
      auto signer = rsa ? Poco::JWT::Signer(Poco::SharedPtr<Poco::Crypto::RSAKey>(
                              new Poco::Crypto::RSAKey(&pem2)))
                        : Poco::JWT::Signer(
                              Poco::SharedPtr<Poco::Crypto::ECKey>(new Poco::Crypto::ECKey(&pem2)));
      signer.addAlgorithm(rsa ? Poco::JWT::Signer::ALGO_RS256 : Poco::JWT::Signer::ALGO_ES256);
      if (!signer.tryVerify(jwt, token))
        return refuse("client_assertion signature does not verify");
    } catch (const Poco::Exception&) {
      return refuse("client_assertion signature does not verify");
    }
    if (token.getSubject() != id) return refuse("client_assertion sub must be the client_id");
    auto audience = token.getAudience();
    auto endpoint = options.issuer + "/api/v1/oidc/token";
    if (!contains(audience, endpoint) && !contains(audience, options.issuer)) {
      return refuse("client_assertion aud must be the token endpoint");
    }
    auto exp = token.getExpiration().epochTime();
    auto now_s = now() / 1000;
    if (exp < now_s) return refuse("client_assertion expired");
    if (exp > now_s + 300) return refuse("client_assertion lives longer than five minutes");
    auto jti = token.getId();
    if (jti.empty()) return refuse("client_assertion needs a jti");
    // Each assertion counts once; expired ids can go.
    bool fresh = db.transaction([&](core::db::Tx& tx) {
      tx.execute("DELETE FROM oidc_assertions WHERE expires_at < ?", now());
      return tx.execute(
                 "INSERT INTO oidc_assertions (jti_hash, client_id, expires_at) VALUES (?, ?, ?) "
                 "ON CONFLICT (jti_hash) DO NOTHING",
                 crypto::sha256_hex(id + " " + jti), id, exp * 1000) == 1;
    });
    if (!fresh) return refuse("client_assertion was used before");
    return *c;
  }

  std::string store_token(core::db::Connection& tx, std::string_view kind,
                          const std::string& client_id, const std::string& account_id,
                          const std::string& scope, const std::string& acr, std::int64_t auth_time,
                          const std::string& origin, std::chrono::seconds lifetime) {
    auto token = crypto::random_token(32);
    tx.execute(
        "INSERT INTO oidc_tokens (token_hash, kind, client_id, account_id, scope, acr, auth_time, "
        "origin, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        crypto::sha256_hex(token), std::string(kind), client_id, account_id, scope, acr, auth_time,
        origin, now() + lifetime.count() * 1000, now());
    return token;
  }

  std::string id_token(const std::string& client_id, const std::string& account_id,
                       const std::string& nonce, const std::string& acr, std::int64_t auth_time) {
    Poco::JWT::Token t;
    t.setIssuer(options.issuer);
    t.setSubject(account_id);
    t.setAudience(client_id);
    auto secs = now() / 1000;
    t.setIssuedAt(Poco::Timestamp::fromEpochTime(secs));
    t.setExpiration(Poco::Timestamp::fromEpochTime(secs + options.id_token_lifetime.count()));
    t.payload().set("auth_time", auth_time / 1000);
    t.payload().set("acr", acr);
    t.payload().set("azp", client_id);
    if (!nonce.empty()) t.payload().set("nonce", nonce);
    return sign(t, "RS256");
  }

  TokenResponse issue(core::db::Connection& tx, const std::string& client_id,
                      const std::string& account_id, const std::string& scope,
                      const std::string& acr, std::int64_t auth_time, const std::string& origin,
                      const std::string& nonce, bool with_refresh) {
    TokenResponse r;
    r.access_token = store_token(tx, "access", client_id, account_id, scope, acr, auth_time, origin,
                                 options.access_token_lifetime);
    if (with_refresh) {
      r.refresh_token = store_token(
          tx, "refresh", client_id, account_id, scope, acr, auth_time, origin,
          std::chrono::duration_cast<std::chrono::seconds>(options.refresh_token_lifetime));
    }
    if (!account_id.empty() && contains(split(scope, ' '), "openid")) {
      r.id_token = id_token(client_id, account_id, nonce, acr, auth_time);
    }
    r.scope = scope;
    r.expires_in = options.access_token_lifetime.count();
    return r;
  }

  void revoke_origin(core::db::Connection& tx, const std::string& origin) {
    tx.execute("UPDATE oidc_tokens SET revoked_at = ? WHERE origin = ? AND revoked_at IS NULL",
               now(), origin);
  }
};

Provider::Provider(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                   core::AuditLog& audit, Identity& identity, ProviderOptions options)
    : impl_(new Impl{db, clock, ids, audit, identity, std::move(options), {}, {}, {}}) {
  if (impl_->options.key.size() != 32) throw core::Failure("the provider needs a 32-byte key");
  impl_->key_seal = crypto::derive_key(impl_->options.key, "mvspoidc", 1);
}

Provider::~Provider() = default;

const ProviderOptions& Provider::options() const {
  return impl_->options;
}

core::Result<CreatedClient> Provider::create_client(const NewClient& input,
                                                    std::string_view actor) {
  Error invalid{core::ErrorCode::invalid_input, "The client is not valid.", {}, {}};
  if (input.name.empty() || input.name.size() > 200)
    invalid.and_field("name", "needs 1 to 200 characters");
  auto grants = input.grants.empty() ? split(kDefaultGrants, ' ') : input.grants;
  for (const auto& g : grants) {
    if (g != "authorization_code" && g != "refresh_token" && g != "client_credentials") {
      invalid.and_field("grant", "must be authorization_code, refresh_token or client_credentials");
    }
  }
  if (contains(grants, "authorization_code") && input.redirect_uris.empty()) {
    invalid.and_field("redirect_uri", "the code flow needs at least one redirect URI");
  }
  for (const auto& uri : input.redirect_uris) {
    if (!acceptable_client_uri(uri)) invalid.and_field("redirect_uri", std::string(kClientUriRule));
  }
  for (const auto& uri : input.post_logout_uris) {
    if (!acceptable_client_uri(uri)) {
      invalid.and_field("post_logout_uri", std::string(kClientUriRule));
    }
  }
  if (input.is_public && contains(grants, "client_credentials")) {
    invalid.and_field("grant", "a public client cannot use client credentials");
  }
  if (!input.public_key_pem.empty()) {
    if (input.is_public) invalid.and_field("public_key", "a public client has no key");
    if (jose::key_kind(input.public_key_pem).empty()) {
      invalid.and_field("public_key",
                        "must be an RSA (2048 bits or more) or P-256 public key in PEM form");
    }
  }
  if (!invalid.fields.empty()) return fail(std::move(invalid));
  auto scopes = input.scopes.empty() ? split(kDefaultScopes, ' ') : input.scopes;
  CreatedClient out;
  out.client = Client{impl_->ids.key(),       input.name, input.is_public, input.redirect_uris,
                      input.post_logout_uris, scopes,     grants,          input.tenant_id};
  if (!input.is_public && input.public_key_pem.empty())
    out.client_secret = crypto::random_token(32);
  impl_->db.transaction([&](core::db::Tx& tx) {
    tx.execute(
        "INSERT INTO oidc_clients (client_id, name, secret_hash, is_public, redirect_uris, "
        "post_logout_uris, scopes, grants, tenant_id, created_at, public_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        out.client.client_id, input.name,
        out.client_secret.empty() ? std::string() : crypto::sha256_hex(out.client_secret),
        input.is_public, join(input.redirect_uris, '\n'), join(input.post_logout_uris, '\n'),
        join(scopes, ' '), join(grants, ' '), input.tenant_id, impl_->now(), input.public_key_pem);
    impl_->audit.append(tx, {.actor = std::string(actor),
                             .action = "oidc.client_created",
                             .object_type = "oidc_client",
                             .object_id = out.client.client_id});
  });
  return out;
}

std::optional<Client> Provider::find_client(std::string_view client_id) {
  return impl_->client(*impl_->db.acquire(), client_id);
}

std::vector<Client> Provider::clients() {
  std::vector<Client> out;
  auto conn = impl_->db.acquire();
  for (const auto& r : conn->query("SELECT client_id FROM oidc_clients ORDER BY name, client_id")) {
    out.push_back(*impl_->client(*conn, r.text(0)));
  }
  return out;
}

void Provider::ensure_keys() {
  impl_->db.transaction([&](core::db::Tx& tx) {
    tx.lock_exclusive("oidc_keys");
    for (std::string alg : {"RS256", "ES256"}) {
      if (!tx.query_one("SELECT 1 FROM oidc_keys WHERE alg = ? AND retired_at IS NULL", alg)) {
        impl_->create_key(tx, alg);
      }
    }
  });
}

void Provider::rotate_keys() {
  impl_->db.transaction([&](core::db::Tx& tx) {
    tx.lock_exclusive("oidc_keys");
    tx.execute("UPDATE oidc_keys SET retired_at = ? WHERE retired_at IS NULL", impl_->now());
    impl_->create_key(tx, "RS256");
    impl_->create_key(tx, "ES256");
    impl_->audit.append(tx, {.actor = "operator:cli",
                             .action = "oidc.keys_rotated",
                             .object_type = "oidc_keys",
                             .object_id = "-"});
  });
}

std::string Provider::discovery_json() const {
  const auto& iss = impl_->options.issuer;
  Poco::JSON::Object d;
  auto list = [](std::initializer_list<std::string_view> items) {
    Poco::JSON::Array a;
    for (auto i : items) a.add(std::string(i));
    return a;
  };
  d.set("issuer", iss);
  d.set("authorization_endpoint", iss + "/oidc/authorize");
  d.set("token_endpoint", iss + "/api/v1/oidc/token");
  d.set("userinfo_endpoint", iss + "/api/v1/oidc/userinfo");
  d.set("jwks_uri", iss + "/oidc/jwks");
  d.set("end_session_endpoint", iss + "/oidc/logout");
  d.set("response_types_supported", list({"code"}));
  d.set("response_modes_supported", list({"query"}));
  d.set("grant_types_supported",
        list({"authorization_code", "refresh_token", "client_credentials"}));
  d.set("subject_types_supported", list({"public"}));
  // ID tokens are signed with RS256 only (the key set also holds an ES256 key).
  d.set("id_token_signing_alg_values_supported", list({"RS256"}));
  d.set("scopes_supported", list({"openid", "profile", "email", "address"}));
  d.set("token_endpoint_auth_methods_supported",
        list({"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}));
  d.set("token_endpoint_auth_signing_alg_values_supported", list({"RS256", "ES256"}));
  d.set("code_challenge_methods_supported", list({"S256"}));
  d.set("claims_supported",
        list({"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "azp", "name",
              "given_name", "family_name", "birthdate", "email", "email_verified", "address"}));
  d.set("acr_values_supported",
        list({"STORK-QAA-Level-1", "STORK-QAA-Level-2", "STORK-QAA-Level-3", "STORK-QAA-Level-4",
              "http://eidas.europa.eu/LoA/low", "http://eidas.europa.eu/LoA/substantial",
              "http://eidas.europa.eu/LoA/high"}));
  d.set("prompt_values_supported", list({"none", "login"}));
  d.set("ui_locales_supported", list({"de", "en"}));
  d.set("claims_parameter_supported", false);
  d.set("request_parameter_supported", false);
  d.set("authorization_response_iss_parameter_supported", true);
  return jose::stringify(d);
}

std::string Provider::jwks_json() {
  // Retired keys stay published as long as tokens signed with them may be checked.
  auto keep_ms = (impl_->options.id_token_lifetime.count() + 3600) * 1000;
  Poco::JSON::Array keys;
  Poco::JSON::Parser parser;
  for (const auto& r : impl_->db.query(
           "SELECT public_jwk FROM oidc_keys WHERE retired_at IS NULL OR retired_at > ? "
           "ORDER BY created_at DESC, kid",
           impl_->now() - keep_ms)) {
    keys.add(parser.parse(r.text(0)).extract<Poco::JSON::Object::Ptr>());
  }
  Poco::JSON::Object out;
  out.set("keys", keys);
  return jose::stringify(out);
}

std::variant<AuthorizationRequest, AuthorizationError> Provider::check_authorization(
    const std::map<std::string, std::string>& params) {
  auto get = [&](const char* k) {
    auto it = params.find(k);
    return it == params.end() ? std::string() : it->second;
  };
  auto client = impl_->client(*impl_->db.acquire(), get("client_id"));
  if (!client) return AuthorizationError{"invalid_request", "unknown client_id", false};
  AuthorizationRequest r;
  r.client = *client;
  r.redirect_uri = get("redirect_uri");
  // An unregistered redirect_uri is never redirected to (it could be an attacker's).
  if (!contains(client->redirect_uris, r.redirect_uri)) {
    return AuthorizationError{"invalid_request", "redirect_uri is not registered for this client",
                              false};
  }
  r.state = get("state");
  // From here on, errors go back to the client's (registered) redirect_uri.
  auto redirect_error = [&](std::string error, std::string description) {
    return AuthorizationError{std::move(error), std::move(description), true, r.redirect_uri,
                              r.state};
  };
  r.nonce = get("nonce");
  r.prompt = get("prompt");
  r.ui_locales = get("ui_locales");
  r.login_hint = get("login_hint");
  if (get("response_type") != "code") {
    return redirect_error("unsupported_response_type", "only response_type=code is supported");
  }
  if (!contains(client->grants, "authorization_code")) {
    return redirect_error("unauthorized_client", "this client may not use the code flow");
  }
  auto requested = split(get("scope"), ' ');
  if (!contains(requested, "openid"))
    return redirect_error("invalid_scope", "scope must include openid");
  std::vector<std::string> granted;
  for (const auto& s : requested) {
    if (contains(client->scopes, s) || s == "openid") granted.push_back(s);
  }
  r.scope = join(granted, ' ');
  auto challenge = get("code_challenge");
  auto method = get("code_challenge_method");
  if (!challenge.empty() && method != "S256") {
    return redirect_error("invalid_request", "code_challenge_method must be S256");
  }
  if (client->is_public && challenge.empty()) {
    return redirect_error("invalid_request", "a public client must send a PKCE code_challenge");
  }
  if (!challenge.empty() && (challenge.size() < 43 || challenge.size() > 128)) {
    return redirect_error("invalid_request", "code_challenge has the wrong length");
  }
  r.code_challenge = challenge;
  if (!r.prompt.empty() && r.prompt != "none" && r.prompt != "login") {
    return redirect_error("invalid_request", "prompt must be none or login");
  }
  if (auto m = get("max_age"); !m.empty()) {
    if (m.find_first_not_of("0123456789") != std::string::npos || m.size() > 9) {
      return redirect_error("invalid_request", "max_age must be a number of seconds");
    }
    r.max_age = std::chrono::seconds(std::stoll(m));
  }
  if (auto acr = get("acr_values"); !acr.empty()) {
    // The least of the requested levels is the minimum the client accepts.
    for (const auto& v : split(acr, ' ')) {
      if (auto l = level_of_acr(v); l && (!r.required_level || *l < *r.required_level)) {
        r.required_level = l;
      }
    }
  }
  return r;
}

std::string Provider::issue_code(const AuthorizationRequest& r, const std::string& account_id,
                                 TrustLevel level, core::TimePoint auth_time) {
  auto code = crypto::random_token(32);
  impl_->db.transaction([&](core::db::Tx& tx) {
    tx.execute(
        "INSERT INTO oidc_codes (code_hash, client_id, account_id, redirect_uri, scope, nonce, "
        "code_challenge, acr, auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        crypto::sha256_hex(code), r.client.client_id, account_id, r.redirect_uri, r.scope, r.nonce,
        r.code_challenge, acr_of_level(level), core::to_millis(auth_time),
        impl_->now() + impl_->options.code_lifetime.count() * 1000);
    impl_->audit.append(tx, {.actor = "account:" + account_id,
                             .action = "account.oidc_authorized",
                             .object_type = "account",
                             .object_id = account_id,
                             .detail = fmt::format(R"({{"client":"{}"}})", r.client.client_id)});
  });
  return code;
}

std::variant<TokenResponse, TokenError> Provider::token(
    const std::map<std::string, std::string>& form, const std::string& authorization) {
  auto& d = *impl_;
  auto get = [&](const char* k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  auto authenticated = d.authenticate(form, authorization);
  if (auto* e = std::get_if<TokenError>(&authenticated)) return *e;
  auto client = std::get<Client>(authenticated);
  auto grant = get("grant_type");
  if (!contains(client.grants, grant)) {
    if (grant != "authorization_code" && grant != "refresh_token" &&
        grant != "client_credentials") {
      return TokenError{"unsupported_grant_type", "unknown grant_type"};
    }
    return TokenError{"unauthorized_client", "this client may not use " + grant};
  }

  if (grant == "authorization_code") {
    auto code_hash = crypto::sha256_hex(get("code"));
    return d.db.transaction([&](core::db::Tx& tx) -> std::variant<TokenResponse, TokenError> {
      auto row = tx.query_one(
          "SELECT client_id, account_id, redirect_uri, scope, nonce, code_challenge, acr, "
          "auth_time, expires_at, used_at FROM oidc_codes WHERE code_hash = ?" +
              std::string(tx.for_update()),
          code_hash);
      if (!row) return TokenError{"invalid_grant", "unknown code"};
      if (!row->is_null(9)) {
        // A code used twice was stolen or replayed: whatever it gave is taken back.
        d.revoke_origin(tx, code_hash);
        d.audit.append(tx, {.actor = "client:" + client.client_id,
                            .action = "account.oidc_code_reused",
                            .object_type = "account",
                            .object_id = row->text(1)});
        return TokenError{"invalid_grant", "code already used; its tokens are revoked"};
      }
      if (row->text(0) != client.client_id)
        return TokenError{"invalid_grant", "code was issued to another client"};
      if (row->integer(8) < d.now()) return TokenError{"invalid_grant", "code expired"};
      if (row->text(2) != get("redirect_uri"))
        return TokenError{"invalid_grant", "redirect_uri differs"};
      auto challenge = row->text(5);
      auto verifier = get("code_verifier");
      if (!challenge.empty() || !verifier.empty()) {
        if (verifier.size() < 43 || verifier.size() > 128 ||
            !crypto::equal_constant_time(crypto::base64url(crypto::sha256(verifier)), challenge)) {
          return TokenError{"invalid_grant", "PKCE verification failed"};
        }
      }
      tx.execute("UPDATE oidc_codes SET used_at = ? WHERE code_hash = ?", d.now(), code_hash);
      return d.issue(tx, client.client_id, row->text(1), row->text(3), row->text(6),
                     row->integer(7), code_hash, row->text(4),
                     contains(client.grants, "refresh_token"));
    });
  }

  if (grant == "refresh_token") {
    auto hash = crypto::sha256_hex(get("refresh_token"));
    return d.db.transaction([&](core::db::Tx& tx) -> std::variant<TokenResponse, TokenError> {
      auto row = tx.query_one(
          "SELECT client_id, account_id, scope, acr, auth_time, origin, expires_at, revoked_at "
          "FROM oidc_tokens WHERE token_hash = ? AND kind = 'refresh'",
          hash);
      if (!row || row->text(0) != client.client_id)
        return TokenError{"invalid_grant", "unknown refresh token"};
      if (!row->is_null(7)) {
        // A rotated refresh token came back: someone holds a copy. End the whole family.
        d.revoke_origin(tx, row->text(5));
        return TokenError{"invalid_grant", "refresh token already used; the session is revoked"};
      }
      if (row->integer(6) < d.now()) return TokenError{"invalid_grant", "refresh token expired"};
      tx.execute("UPDATE oidc_tokens SET revoked_at = ? WHERE token_hash = ?", d.now(), hash);
      return d.issue(tx, client.client_id, row->text(1), row->text(2), row->text(3),
                     row->integer(4), row->text(5), "", true);
    });
  }

  // client_credentials: a machine acting for its tenant.
  if (client.is_public)
    return TokenError{"unauthorized_client", "public clients have no credentials"};
  auto requested = split(get("scope"), ' ');
  std::vector<std::string> granted;
  for (const auto& s : requested.empty() ? client.scopes : requested) {
    if (!contains(client.scopes, s)) {
      // Named back only when it is a scope token (RFC 6749 3.3: printable ASCII without
      // '"' and '\\'): raw bytes made the error answer invalid JSON (fuzz/oidc_token_fuzz).
      bool token = std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\';
      });
      return TokenError{"invalid_scope",
                        token ? "scope " + s + " is not allowed" : "a scope is malformed"};
    }
    if (s != "openid") granted.push_back(s);
  }
  return d.db.transaction([&](core::db::Tx& tx) -> std::variant<TokenResponse, TokenError> {
    return d.issue(tx, client.client_id, "", join(granted, ' '), "", 0, "cc:" + client.client_id,
                   "", false);
  });
}

std::optional<TokenGrant> Provider::check_access_token(std::string_view token) {
  auto row = impl_->db.query_one(
      "SELECT t.client_id, t.account_id, t.scope, t.acr, t.expires_at, t.revoked_at, c.tenant_id "
      "FROM oidc_tokens t JOIN oidc_clients c ON c.client_id = t.client_id "
      "WHERE t.token_hash = ? AND t.kind = 'access'",
      crypto::sha256_hex(token));
  if (!row || !row->is_null(5) || row->integer(4) < impl_->now()) return std::nullopt;
  return TokenGrant{row->text(0), row->text(6), row->text(1), split(row->text(2), ' '),
                    level_of_acr(row->text(3)).value_or(TrustLevel::basic)};
}

std::optional<TokenGrant> Provider::check_machine_token(std::string_view token) {
  auto grant = check_access_token(token);
  // Only the client-credentials grant issues tokens without an account.
  if (!grant || !grant->account_id.empty()) return std::nullopt;
  return grant;
}

std::string Provider::userinfo_json(const TokenGrant& grant) {
  Poco::JSON::Object out;
  out.set("sub", grant.account_id);
  auto account = impl_->identity.accounts.find(grant.account_id);
  if (!account) return jose::stringify(out);
  const auto& p = account->profile;
  if (contains(grant.scopes, "profile")) {
    out.set("name", p.given_name + " " + p.family_name);
    out.set("given_name", p.given_name);
    out.set("family_name", p.family_name);
    if (!p.birth_date.empty()) out.set("birthdate", p.birth_date);
    if (!p.birth_name.empty()) out.set("birth_family_name", p.birth_name);
    if (!p.birth_place.empty()) out.set("place_of_birth", p.birth_place);
    if (!p.doctoral_degree.empty()) out.set("title", p.doctoral_degree);
    out.set("locale", account->locale);
  }
  if (contains(grant.scopes, "email")) {
    out.set("email", account->email);
    out.set("email_verified", account->email_verified);
  }
  if (contains(grant.scopes, "address") && !p.street.empty()) {
    Poco::JSON::Object a;
    a.set("street_address", p.street);
    a.set("postal_code", p.postcode);
    a.set("locality", p.city);
    a.set("country", p.country);
    a.set("formatted", fmt::format("{}\n{} {}\n{}", p.street, p.postcode, p.city, p.country));
    out.set("address", a);
  }
  return jose::stringify(out);
}

std::optional<Provider::IdTokenHint> Provider::read_id_token_hint(std::string_view id_token) {
  auto dot = id_token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  try {
    Poco::JSON::Parser parser;
    auto header = parser.parse(jose::base64url_decode(id_token.substr(0, dot)))
                      .extract<Poco::JSON::Object::Ptr>();
    auto key = impl_->load(header->optValue<std::string>("kid", ""));
    if (!key) return std::nullopt;
    Poco::JWT::Token token;
    // A Signer verifies only the algorithms added to it (HS256 by default).
    auto signer = key->rsa ? Poco::JWT::Signer(key->rsa) : Poco::JWT::Signer(key->ec);
    signer.addAlgorithm(key->rsa ? Poco::JWT::Signer::ALGO_RS256 : Poco::JWT::Signer::ALGO_ES256);
    bool ok = signer.tryVerify(std::string(id_token), token);
    if (!ok || token.getIssuer() != impl_->options.issuer || token.getAudience().empty())
      return std::nullopt;
    return IdTokenHint{token.getAudience().front(), token.getSubject()};
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

LogoutRequest Provider::check_logout(const std::map<std::string, std::string>& params) {
  auto get = [&](const char* k) {
    auto it = params.find(k);
    return it == params.end() ? std::string() : it->second;
  };
  LogoutRequest r;
  std::optional<IdTokenHint> hint;
  if (auto h = get("id_token_hint"); !h.empty()) hint = read_id_token_hint(h);
  auto named = get("client_id");
  // A hint and a client_id that name different clients are not trusted at all.
  if (hint && !named.empty() && named != hint->client_id) return r;
  if (hint) r.hinted_subject = hint->subject;
  auto client = impl_->client(*impl_->db.acquire(), hint ? hint->client_id : named);
  if (!client) return r;
  r.client_id = client->client_id;
  r.client_name = client->name;
  // Exactly an address registered for this client, or no redirect (never a prefix).
  if (auto uri = get("post_logout_redirect_uri"); contains(client->post_logout_uris, uri)) {
    r.redirect_uri = uri;
    r.state = get("state");
  }
  return r;
}

void Provider::logged_out(const LogoutRequest& request, std::string_view account_id) {
  if (account_id.empty()) return;
  std::string id(account_id);
  impl_->db.transaction([&](core::db::Tx& tx) {
    impl_->audit.append(tx, {.actor = "account:" + id,
                             .action = "account.oidc_logout",
                             .object_type = "account",
                             .object_id = id,
                             .detail = fmt::format(R"({{"client":"{}"}})", request.client_id)});
  });
}

}  // namespace mvsp::identity
