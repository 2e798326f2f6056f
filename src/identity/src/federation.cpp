// Upstream providers: requests in progress are kept in the database (any instance can take
// the answer), the answer is tied to the browser that started the login, personal data
// from the upstream is sealed while it waits and removed once read.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>
#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <mutex>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/identity/federation.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/web/http.hpp>
#include <sstream>

#include "jose.hpp"
#include "saml.hpp"
#include "secrets.hpp"

namespace mvsp::identity {
namespace crypto = core::crypto;
using core::Error;
using core::fail;

namespace {

constexpr auto kSkew = std::chrono::seconds(120);

Poco::JSON::Object::Ptr parse_json(const std::string& text) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    return nullptr;
  } catch (const std::exception&) {
    return nullptr;
  }
}

struct Discovered {
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string userinfo_endpoint;
  std::string jwks_uri;
  Poco::JSON::Object::Ptr jwks;
};

// A STORK level for the AuthnRequest: BundID knows 1, 3 and 4.
int stork_for(TrustLevel level) {
  switch (level) {
    case TrustLevel::basic:
    case TrustLevel::low:
      return 1;
    case TrustLevel::substantial:
      return 3;
    case TrustLevel::high:
      return 4;
  }
  return 1;
}

std::string gender_salutation(const std::string& code) {
  if (code == "1") return "Herr";
  if (code == "2") return "Frau";
  return {};
}

}  // namespace

std::string identity_to_json(const UpstreamIdentity& i) {
  Poco::JSON::Object o;
  const auto& p = i.profile;
  o.set("upstream", i.upstream);
  o.set("subject", i.subject);
  o.set("level", std::string(level_name(i.level)));
  o.set("method", i.method);
  o.set("email", i.email);
  for (const auto& [k, v] : std::initializer_list<std::pair<const char*, const std::string*>>{
           {"salutation", &p.salutation},
           {"given_name", &p.given_name},
           {"family_name", &p.family_name},
           {"birth_name", &p.birth_name},
           {"doctoral_degree", &p.doctoral_degree},
           {"birth_date", &p.birth_date},
           {"birth_place", &p.birth_place},
           {"street", &p.street},
           {"postcode", &p.postcode},
           {"city", &p.city},
           {"country", &p.country}}) {
    o.set(k, *v);
  }
  return jose::stringify(o);
}

std::optional<UpstreamIdentity> identity_from_json(std::string_view json) {
  auto o = parse_json(std::string(json));
  if (!o) return std::nullopt;
  UpstreamIdentity i;
  auto s = [&](const char* k) { return o->optValue<std::string>(k, ""); };
  i.upstream = s("upstream");
  i.subject = s("subject");
  i.level = parse_level(s("level")).value_or(TrustLevel::basic);
  i.method = s("method");
  i.email = s("email");
  i.profile = {s("salutation"),
               s("given_name"),
               s("family_name"),
               s("birth_name"),
               s("doctoral_degree"),
               "",
               s("birth_date"),
               s("birth_place"),
               s("street"),
               s("postcode"),
               s("city"),
               s("country")};
  if (i.upstream.empty() || i.subject.empty()) return std::nullopt;
  return i;
}

struct Federation::Impl {
  Impl(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
       core::AuditLog& audit, Identity& identity, FederationOptions options, HttpFetch fetch)
      : db(db),
        clock(clock),
        ids(ids),
        audit(audit),
        identity(identity),
        options(std::move(options)),
        fetch(std::move(fetch)) {}

  core::db::Database& db;
  const core::Clock& clock;
  core::IdGenerator& ids;
  core::AuditLog& audit;
  Identity& identity;
  FederationOptions options;
  HttpFetch fetch;
  saml::KeyPair sp_key;
  std::string seal_key;
  std::string link_key;
  std::mutex discovery_mutex;
  std::map<std::string, Discovered> discovered;

  std::int64_t now() const { return core::to_millis(clock.now()); }

  std::string subject_hash(const std::string& upstream, const std::string& subject) const {
    return crypto::to_hex(crypto::hmac_sha256(link_key, upstream + "\n" + subject));
  }

  std::string redirect_uri(const UpstreamConfig& u) const {
    return fmt::format("{}/anmelden/extern/{}/rueckkehr", options.public_url, u.name);
  }

  core::Result<Poco::JSON::Object::Ptr> get_json(const std::string& url) {
    auto answer = fetch("GET", url, {{"Accept", "application/json"}}, "");
    if (!answer) return fail(answer.error());
    auto json = parse_json(answer->body);
    if (answer->status != 200 || !json) {
      return fail(Error::unavailable(fmt::format("{} answered {}", url, answer->status)));
    }
    return json;
  }

  // Discovery and keys of an OpenID upstream, loaded once (keys again for an unknown kid).
  core::Result<Discovered> discover(const UpstreamConfig& u, bool reload_keys = false) {
    std::lock_guard lock(discovery_mutex);
    auto it = discovered.find(u.name);
    if (it == discovered.end()) {
      auto doc = get_json(u.issuer + "/.well-known/openid-configuration");
      if (!doc) return fail(doc.error());
      auto& d = **doc;
      if (d.optValue<std::string>("issuer", "") != u.issuer) {
        return fail(Error::unavailable("the upstream's discovery names another issuer"));
      }
      Discovered found{d.optValue<std::string>("authorization_endpoint", ""),
                       d.optValue<std::string>("token_endpoint", ""),
                       d.optValue<std::string>("userinfo_endpoint", ""),
                       d.optValue<std::string>("jwks_uri", ""), nullptr};
      it = discovered.emplace(u.name, found).first;
      reload_keys = true;
    }
    if (reload_keys) {
      auto keys = get_json(it->second.jwks_uri);
      if (!keys) return fail(keys.error());
      it->second.jwks = *keys;
    }
    return it->second;
  }

  core::Result<UpstreamIdentity> check_id_token(const UpstreamConfig& u, const std::string& jwt,
                                                const std::string& nonce) {
    auto refuse = [](std::string why) {
      return fail(Error::forbidden("the upstream's ID token is not valid: " + why));
    };
    auto first = jwt.find('.');
    auto second = jwt.find('.', first == std::string::npos ? first : first + 1);
    if (first == std::string::npos || second == std::string::npos) return refuse("malformed");
    auto header = parse_json(jose::base64url_decode(std::string_view(jwt).substr(0, first)));
    auto claims = parse_json(
        jose::base64url_decode(std::string_view(jwt).substr(first + 1, second - first - 1)));
    if (!header || !claims) return refuse("malformed");
    auto alg = header->optValue<std::string>("alg", "");
    if (alg != "RS256" && alg != "ES256") return refuse("algorithm " + alg + " is not accepted");
    auto kid = header->optValue<std::string>("kid", "");
    auto signature = jose::base64url_decode(std::string_view(jwt).substr(second + 1));
    bool verified = false;
    for (bool reload : {false, true}) {
      auto d = discover(u, reload);
      if (!d) return fail(d.error());
      auto keys = d->jwks ? d->jwks->getArray("keys") : nullptr;
      for (std::size_t i = 0; keys && i < keys->size(); ++i) {
        auto jwk = keys->getObject(static_cast<unsigned>(i));
        if (!jwk || (!kid.empty() && jwk->optValue<std::string>("kid", "") != kid)) continue;
        if (jwk->has("alg") && jwk->optValue<std::string>("alg", "") != alg) continue;
        auto key = jose::key_from_jwk(*jwk);
        if (key && jose::verify_signature(key.get(), alg, std::string_view(jwt).substr(0, second),
                                          signature)) {
          verified = true;
          break;
        }
      }
      if (verified) break;
    }
    if (!verified) return refuse("the signature does not verify");
    if (claims->optValue<std::string>("iss", "") != u.issuer) return refuse("wrong issuer");
    bool audience = false;
    if (auto arr = claims->getArray("aud")) {
      for (std::size_t i = 0; i < arr->size(); ++i) {
        if (arr->getElement<std::string>(static_cast<unsigned>(i)) == u.client_id) audience = true;
      }
      if (arr->size() > 1 && claims->optValue<std::string>("azp", "") != u.client_id) {
        audience = false;
      }
    } else {
      audience = claims->optValue<std::string>("aud", "") == u.client_id;
    }
    if (!audience) return refuse("meant for another client");
    auto now_s = now() / 1000;
    if (claims->optValue<std::int64_t>("exp", 0) + kSkew.count() < now_s) return refuse("expired");
    if (claims->optValue<std::int64_t>("iat", 0) - kSkew.count() > now_s) {
      return refuse("issued in the future");
    }
    if (claims->optValue<std::string>("nonce", "") != nonce) return refuse("the nonce differs");
    UpstreamIdentity id;
    id.upstream = u.name;
    id.subject = claims->optValue<std::string>("sub", "");
    if (id.subject.empty()) return refuse("no subject");
    auto acr = claims->optValue<std::string>("acr", "");
    id.level = TrustLevel::basic;
    bool mapped = false;
    for (const auto& [value, level] : u.acr_levels) {
      if (value == acr) {
        id.level = parse_level(level).value_or(TrustLevel::basic);
        mapped = true;
      }
    }
    if (!mapped && !acr.empty()) id.level = level_of_acr(acr).value_or(TrustLevel::basic);
    id.method = acr.empty() ? "OpenID Connect" : acr;
    read_claims(*claims, id);
    return id;
  }

  static void read_claims(const Poco::JSON::Object& c, UpstreamIdentity& id) {
    auto s = [&](const char* k, std::string& out) {
      if (auto v = c.optValue<std::string>(k, ""); !v.empty()) out = v;
    };
    s("email", id.email);
    s("given_name", id.profile.given_name);
    s("family_name", id.profile.family_name);
    s("birthdate", id.profile.birth_date);
    if (auto address = c.getObject("address")) {
      s("street_address", id.profile.street);
      auto a = [&](const char* k, std::string& out) {
        if (auto v = address->optValue<std::string>(k, ""); !v.empty()) out = v;
      };
      a("street_address", id.profile.street);
      a("postal_code", id.profile.postcode);
      a("locality", id.profile.city);
      a("country", id.profile.country);
    }
  }

  UpstreamIdentity identity_from_assertion(const UpstreamConfig& u, const saml::Assertion& a) {
    UpstreamIdentity id;
    id.upstream = u.name;
    auto attr = [&](const char* oid) {
      auto it = a.attributes.find(oid);
      return it == a.attributes.end() ? std::string() : it->second;
    };
    // bPK2 is the stable key; the NameID may be transient.
    id.subject = attr(saml::oid::kBpk2);
    if (id.subject.empty()) id.subject = a.name_id;
    id.level =
        level_of_acr(fmt::format("{}{}", saml::kStorkPrefix, a.level)).value_or(TrustLevel::basic);
    id.method = attr(saml::oid::kProvedBy);
    id.email = attr(saml::oid::kMail);
    auto& p = id.profile;
    p.salutation = gender_salutation(attr(saml::oid::kGender));
    p.given_name = attr(saml::oid::kGivenName);
    p.family_name = attr(saml::oid::kSurname);
    p.birth_name = attr(saml::oid::kBirthName);
    p.doctoral_degree = attr(saml::oid::kPersonalTitle);
    p.birth_date = attr(saml::oid::kBirthdate);
    p.birth_place = attr(saml::oid::kPlaceOfBirth);
    p.street = attr(saml::oid::kPostalAddress);
    p.postcode = attr(saml::oid::kPostalCode);
    p.city = attr(saml::oid::kLocality);
    p.country = attr(saml::oid::kCountry);
    return id;
  }

  // Stores what the upstream said for the request, unless it was answered already.
  void record(const std::string& request_id, const std::optional<UpstreamIdentity>& identity,
              const std::string& failure) {
    std::optional<std::string> result;
    if (identity) result = secrets::seal(seal_key, identity_to_json(*identity));
    db.execute(
        "UPDATE upstream_requests SET result = ?, failure = ? "
        "WHERE id = ? AND result IS NULL AND failure IS NULL",
        result, identity ? std::optional<std::string>() : std::optional<std::string>(failure),
        request_id);
  }
};

Federation::Federation(core::db::Database& db, const core::Clock& clock, core::IdGenerator& ids,
                       core::AuditLog& audit, Identity& identity, FederationOptions options,
                       HttpFetch fetch)
    : impl_(std::make_shared<Impl>(db, clock, ids, audit, identity, std::move(options),
                                   std::move(fetch))) {
  auto& d = *impl_;
  if (d.options.key.size() != 32) throw core::Failure("federation needs a 32-byte key");
  d.seal_key = crypto::derive_key(d.options.key, "mvspfedr", 1);
  d.link_key = crypto::derive_key(d.options.key, "mvspfedr", 2);
  for (const auto& u : d.options.upstreams) {
    if (u.protocol == "saml") {
      d.sp_key = saml::load_or_create_key_pair(d.options.key_dir, "saml-sp", "mvsp SAML SP");
      break;
    }
  }
}

const std::vector<UpstreamConfig>& Federation::upstreams() const {
  return impl_->options.upstreams;
}

const UpstreamConfig* Federation::find(std::string_view name) const {
  for (const auto& u : impl_->options.upstreams) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

std::string Federation::sp_entity_id() const {
  return impl_->options.public_url + "/saml/metadata";
}
std::string Federation::acs_url() const {
  return impl_->options.public_url + "/saml/acs";
}
std::string Federation::sp_metadata() const {
  return saml::sp_metadata(sp_entity_id(), acs_url(), impl_->sp_key.certificate_pem);
}

core::Result<UpstreamStart> Federation::begin(std::string_view name, TrustLevel minimum,
                                              std::string_view next, std::string_view account_id) {
  auto& d = *impl_;
  const auto* u = find(name);
  if (!u) return fail(Error::not_found("no such upstream provider"));
  UpstreamStart start;
  start.browser_secret = crypto::random_token(32);
  std::string nonce, verifier;
  if (u->protocol == "saml") {
    // An xs:ID must not start with a digit.
    start.request_id = "_" + crypto::to_hex(crypto::random_bytes(20));
    auto request = saml::authn_request({.id = start.request_id,
                                        .issuer = sp_entity_id(),
                                        .destination = u->sso_url,
                                        .acs_url = acs_url(),
                                        .minimum_level = stork_for(minimum),
                                        .issue_instant = d.clock.now(),
                                        .attributes = {{saml::oid::kBpk2, true},
                                                       {saml::oid::kGivenName, false},
                                                       {saml::oid::kSurname, false},
                                                       {saml::oid::kMail, false},
                                                       {saml::oid::kPostalAddress, false},
                                                       {saml::oid::kPostalCode, false},
                                                       {saml::oid::kLocality, false},
                                                       {saml::oid::kCountry, false},
                                                       {saml::oid::kPersonalTitle, false},
                                                       {saml::oid::kGender, false},
                                                       {saml::oid::kBirthdate, false},
                                                       {saml::oid::kPlaceOfBirth, false},
                                                       {saml::oid::kBirthName, false},
                                                       {saml::oid::kQaaLevel, false},
                                                       {saml::oid::kProvedBy, false}}},
                                       d.sp_key);
    start.post_url = u->sso_url;
    start.post_fields = {{"SAMLRequest", saml::base64(request)}, {"RelayState", start.request_id}};
  } else {
    auto discovered = d.discover(*u);
    if (!discovered) return fail(discovered.error());
    start.request_id = crypto::random_token(24);
    nonce = crypto::random_token(24);
    verifier = crypto::random_token(32);
    std::vector<std::pair<std::string, std::string>> q = {
        {"response_type", "code"},
        {"client_id", u->client_id},
        {"redirect_uri", d.redirect_uri(*u)},
        {"scope", u->scope},
        {"state", start.request_id},
        {"nonce", nonce},
        {"code_challenge", crypto::base64url(crypto::sha256(verifier))},
        {"code_challenge_method", "S256"}};
    if (minimum > TrustLevel::low) q.emplace_back("acr_values", acr_of_level(minimum));
    std::string query;
    for (const auto& [k, v] : q) {
      query += (query.empty() ? "" : "&") + web::url_encode(k) + "=" + web::url_encode(v);
    }
    const auto& endpoint = discovered->authorization_endpoint;
    start.redirect_url = endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&") + query;
  }
  d.db.transaction([&](core::db::Tx& tx) {
    tx.execute("DELETE FROM upstream_requests WHERE expires_at < ?", d.now() - 86'400'000);
    tx.execute(
        "INSERT INTO upstream_requests (id, upstream, browser_hash, started_by, minimum_level, "
        "next, nonce, code_verifier, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        start.request_id, u->name, crypto::sha256_hex(start.browser_secret),
        std::string(account_id), std::string(level_name(minimum)), std::string(next), nonce,
        verifier,
        d.now() + std::chrono::duration_cast<std::chrono::milliseconds>(d.options.request_lifetime)
                      .count());
  });
  return start;
}

core::Result<std::string> Federation::saml_response(std::string_view encoded) {
  auto& d = *impl_;
  auto xml = saml::base64_decode(encoded);
  auto request_id = saml::peek_in_response_to(xml);
  auto row = request_id.empty()
                 ? std::nullopt
                 : d.db.query_one(
                       "SELECT upstream FROM upstream_requests WHERE id = ? AND expires_at > ? "
                       "AND result IS NULL AND failure IS NULL",
                       request_id, d.now());
  if (!row) return fail(Error::not_found("This answer fits no login in progress."));
  const auto* u = find(row->text(0));
  if (!u || u->protocol != "saml") return fail(Error::not_found("no such upstream provider"));
  auto result = saml::read_response(xml, {.idp_entity_id = u->idp_entity_id,
                                          .idp_certificate_pem = u->idp_certificate_pem,
                                          .sp_entity_id = sp_entity_id(),
                                          .acs_url = acs_url(),
                                          .now = d.clock.now(),
                                          .skew = kSkew,
                                          .sp_private_key_pem = d.sp_key.private_key_pem});
  if (!result.assertion) {
    core::log::warn("federation.saml_refused",
                    {{"upstream", u->name}, {"reason", result.failure.reason}});
    d.record(request_id, std::nullopt, result.failure.cancelled ? "cancelled" : "failed");
  } else {
    d.record(request_id, d.identity_from_assertion(*u, *result.assertion), "");
  }
  return request_id;
}

core::Result<std::string> Federation::oidc_callback(
    const std::map<std::string, std::string>& params) {
  auto& d = *impl_;
  auto get = [&](const char* k) {
    auto it = params.find(k);
    return it == params.end() ? std::string() : it->second;
  };
  auto request_id = get("state");
  auto row = request_id.empty()
                 ? std::nullopt
                 : d.db.query_one(
                       "SELECT upstream, nonce, code_verifier FROM upstream_requests "
                       "WHERE id = ? AND expires_at > ? AND result IS NULL AND failure IS NULL",
                       request_id, d.now());
  if (!row) return fail(Error::not_found("This answer fits no login in progress."));
  const auto* u = find(row->text(0));
  if (!u || u->protocol != "oidc") return fail(Error::not_found("no such upstream provider"));
  if (auto error = get("error"); !error.empty() || get("code").empty()) {
    d.record(request_id, std::nullopt, error == "access_denied" ? "cancelled" : "failed");
    return request_id;
  }
  auto outcome = [&]() -> core::Result<UpstreamIdentity> {
    auto discovered = d.discover(*u);
    if (!discovered) return fail(discovered.error());
    auto form =
        fmt::format("grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}",
                    web::url_encode(get("code")), web::url_encode(d.redirect_uri(*u)),
                    web::url_encode(row->text(2)));
    auto basic =
        saml::base64(web::url_encode(u->client_id) + ":" + web::url_encode(u->client_secret));
    auto answer = d.fetch("POST", discovered->token_endpoint,
                          {{"Content-Type", "application/x-www-form-urlencoded"},
                           {"Accept", "application/json"},
                           {"Authorization", "Basic " + basic}},
                          form);
    if (!answer) return fail(answer.error());
    auto tokens = parse_json(answer->body);
    if (answer->status != 200 || !tokens) {
      return fail(Error::forbidden(
          fmt::format("the upstream's token endpoint answered {}", answer->status)));
    }
    auto identity =
        d.check_id_token(*u, tokens->optValue<std::string>("id_token", ""), row->text(1));
    if (!identity) return identity;
    // The profile from userinfo, when the provider has it and it is about the same person.
    auto access = tokens->optValue<std::string>("access_token", "");
    if (!discovered->userinfo_endpoint.empty() && !access.empty()) {
      auto info =
          d.fetch("GET", discovered->userinfo_endpoint,
                  {{"Authorization", "Bearer " + access}, {"Accept", "application/json"}}, "");
      auto claims = info && info->status == 200 ? parse_json(info->body) : nullptr;
      if (claims && claims->optValue<std::string>("sub", "") == identity->subject) {
        Impl::read_claims(*claims, *identity);
      }
    }
    return identity;
  }();
  if (!outcome) {
    core::log::warn("federation.oidc_refused",
                    {{"upstream", u->name}, {"reason", outcome.error().message}});
    d.record(request_id, std::nullopt, "failed");
  } else {
    d.record(request_id, *outcome, "");
  }
  return request_id;
}

core::Result<UpstreamOutcome> Federation::finish(std::string_view request_id,
                                                 std::string_view browser_secret) {
  auto& d = *impl_;
  return d.db.transaction([&](core::db::Tx& tx) -> core::Result<UpstreamOutcome> {
    auto row = tx.query_one(
        fmt::format("SELECT browser_hash, started_by, minimum_level, next, result, failure, "
                    "expires_at, finished_at FROM upstream_requests WHERE id = ?{}",
                    tx.for_update()),
        std::string(request_id));
    if (!row || !row->is_null(7) || row->integer(6) < d.now() ||
        !crypto::equal_constant_time(row->text(0), crypto::sha256_hex(browser_secret))) {
      return fail(Error::not_found("This login is not (any longer) in progress in this browser."));
    }
    if (row->is_null(4) && row->is_null(5)) {
      return fail(Error::not_found("The provider has not answered yet."));
    }
    tx.execute("UPDATE upstream_requests SET finished_at = ?, result = NULL WHERE id = ?", d.now(),
               std::string(request_id));
    if (!row->is_null(5)) {
      auto e = Error::forbidden("The login at the provider did not succeed.");
      e.detail = row->text(5);
      return fail(std::move(e));
    }
    auto json = secrets::open(d.seal_key, row->text(4));
    auto parsed = json ? identity_from_json(*json) : std::nullopt;
    if (!parsed) return fail(Error::forbidden("The provider's answer cannot be read."));
    UpstreamOutcome out;
    out.request_id = std::string(request_id);
    out.started_by = row->text(1);
    out.next = row->text(3);
    out.minimum = parse_level(row->text(2)).value_or(TrustLevel::basic);
    out.identity = std::move(*parsed);
    if (out.identity.level < out.minimum) {
      auto e = Error::forbidden("The provider confirmed a lower trust level than needed.");
      e.detail = "level";
      return fail(std::move(e));
    }
    if (auto linked = tx.query_one(
            "SELECT account_id FROM identity_links WHERE upstream = ? AND subject_hash = ?",
            out.identity.upstream, d.subject_hash(out.identity.upstream, out.identity.subject))) {
      out.linked_account = linked->text(0);
    }
    return out;
  });
}

core::Status Federation::link(std::string_view account_id, const UpstreamIdentity& identity,
                              bool new_account) {
  auto& d = *impl_;
  std::string account(account_id);
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (!new_account && tx.query_one("SELECT 1 FROM accounts WHERE id = ? AND "
                                     "email_verified_at IS NULL",
                                     account)) {
      return fail(Error::forbidden("The account's address is not confirmed yet."));
    }
    if (tx.execute("INSERT INTO identity_links (upstream, subject_hash, account_id, level, method, "
                   "linked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   identity.upstream, d.subject_hash(identity.upstream, identity.subject), account,
                   std::string(level_name(identity.level)), identity.method, d.now(),
                   d.now()) == 0) {
      return fail(Error::conflict(
          "This identity or provider is linked already (to this or another account)."));
    }
    d.audit.append(tx, {.actor = "account:" + account,
                        .action = "account.upstream_linked",
                        .object_type = "account",
                        .object_id = account,
                        .detail = fmt::format(R"({{"upstream":"{}"}})", identity.upstream)});
    return {};
  });
}

void Federation::used(std::string_view account_id, const UpstreamIdentity& identity) {
  auto& d = *impl_;
  std::string account(account_id);
  d.db.transaction([&](core::db::Tx& tx) {
    tx.execute(
        "UPDATE identity_links SET last_used_at = ?, level = ?, method = ? "
        "WHERE upstream = ? AND account_id = ?",
        d.now(), std::string(level_name(identity.level)), identity.method, identity.upstream,
        account);
    d.audit.append(tx, {.actor = "account:" + account,
                        .action = "account.upstream_login",
                        .object_type = "account",
                        .object_id = account,
                        .detail = fmt::format(R"({{"upstream":"{}","level":"{}"}})",
                                              identity.upstream, level_name(identity.level))});
  });
}

std::vector<IdentityLink> Federation::links_of(std::string_view account_id) {
  std::vector<IdentityLink> out;
  for (const auto& r :
       impl_->db.query("SELECT upstream, level, linked_at, last_used_at FROM identity_links "
                       "WHERE account_id = ? ORDER BY upstream",
                       std::string(account_id))) {
    const auto* u = find(r.text(0));
    out.push_back({r.text(0), u ? u->label : r.text(0),
                   parse_level(r.text(1)).value_or(TrustLevel::basic),
                   core::from_millis(r.integer(2)), core::from_millis(r.integer(3))});
  }
  return out;
}

core::Status Federation::unlink(std::string_view account_id, std::string_view upstream) {
  auto& d = *impl_;
  std::string account(account_id), name(upstream);
  return d.db.transaction([&](core::db::Tx& tx) -> core::Status {
    if (tx.execute("DELETE FROM identity_links WHERE account_id = ? AND upstream = ?", account,
                   name) == 0) {
      return fail(Error::not_found("This account has no link to that provider."));
    }
    d.audit.append(tx, {.actor = "account:" + account,
                        .action = "account.upstream_unlinked",
                        .object_type = "account",
                        .object_id = account,
                        .detail = fmt::format(R"({{"upstream":"{}"}})", name)});
    return {};
  });
}

}  // namespace mvsp::identity
