// The eID SIMULATOR: a small HTTP server of its own that speaks the BundID side of SAML
// Web Browser SSO with test persons. Everything it shows says that it is a simulator.
#include <fmt/format.h>

#include <array>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/crypto.hpp>
#include <mvsp/identity/eid_simulator.hpp>
#include <mvsp/web/client.hpp>
#include <mvsp/web/http.hpp>
#include <mvsp/web/small_server.hpp>
#include <sstream>

#include "saml.hpp"

namespace mvsp::identity {
namespace {

struct TestPerson {
  const char* key;
  const char* gender;  // BundID code: 1 Herr, 2 Frau
  const char* title;
  const char* given_name;
  const char* surname;
  const char* birth_name;
  const char* birthdate;
  const char* place_of_birth;
  const char* street;
  const char* postcode;
  const char* city;
  const char* mail;
};

// Invented people at real places in Mecklenburg-Vorpommern.
constexpr std::array<TestPerson, 3> kPersons = {{
    {"erika", "2", "", "Erika", "Mustermann", "Gabler", "1964-08-12", "Schwerin", "Schloßstraße 1",
     "19053", "Schwerin", "erika.mustermann@example.org"},
    {"max", "1", "", "Max", "Mustermann", "", "1980-04-23", "Rostock", "Kröpeliner Straße 12",
     "18055", "Rostock", "max.mustermann@example.org"},
    {"anna", "2", "Dr.", "Anna", "Schmidt", "Krüger", "1975-11-02", "Greifswald", "Am Markt 5",
     "23966", "Wismar", "anna.schmidt@example.org"},
}};

struct Method {
  const char* name;  // AssertionProvedBy
  const char* label;
  int level;
};
constexpr std::array<Method, 4> kMethods = {{{"eID", "Online-Ausweis (eID)", 4},
                                             {"Smart-eID", "Smart-eID", 3},
                                             {"Elster", "ELSTER-Zertifikat", 3},
                                             {"Benutzername", "Benutzername und Passwort", 1}}};

const char* trust_level(int level) {
  return level >= 4 ? "HOCH" : level == 3 ? "SUBSTANTIELL" : "NORMAL";
}

std::string page(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{} – eID-SIMULATOR</title></head><body><header><p><strong>SIMULATOR – keine "
      "echte Identifizierung.</strong> Dieser Dienst ahmt einen BundID-artigen Anmeldedienst "
      "für Entwicklung und Tests nach und gibt Testpersonen aus.</p></header><main><h1>{}</h1>"
      "{}</main></body></html>",
      saml::escape(title), saml::escape(title), body);
}

// The service provider's encryption certificate from its metadata (its entity id is the
// metadata URL, as with mvsp), so that assertions go out encrypted as BundID sends them.
std::string encryption_certificate(const web::HttpFetch& fetch, const std::string& entity_id) {
  if (!entity_id.starts_with("http://")) return {};  // the simulator runs on loopback only
  auto answer = fetch("GET", entity_id, {}, "");
  if (!answer || answer->status != 200) return {};
  return saml::certificate_from_metadata(answer->body, "encryption");
}

std::string new_id() {
  return "_" + core::crypto::to_hex(core::crypto::random_bytes(20));
}

}  // namespace

struct EidSimulator::Impl {
  Impl(EidSimulatorOptions o, const web::Ports& ports)
      : options(std::move(o)), clock(ports.clock), fetch(ports.http(std::chrono::seconds(5))) {}

  EidSimulatorOptions options;
  const core::Clock& clock;
  web::HttpFetch fetch;
  saml::KeyPair key;
  std::unique_ptr<web::SmallServer> server;

  std::string base_url() const {
    return fmt::format("http://{}:{}", options.host, server ? server->port() : 0);
  }

  using Form = std::map<std::string, std::string>;

  // POST /saml/sso: the AuthnRequest (HTTP-POST binding).
  std::pair<int, std::string> sso(const Form& form) {
    auto it = form.find("SAMLRequest");
    auto parsed =
        saml::parse_authn_request(it == form.end() ? "" : saml::base64_decode(it->second));
    if (!parsed)
      return {400,
              page("Ungültige Anfrage", "<p>" + saml::escape(parsed.error().message) + "</p>")};
    if (!parsed->acs_url.starts_with("http://") && !parsed->acs_url.starts_with("https://")) {
      return {400,
              page("Ungültige Anfrage", "<p>Die Rücksprungadresse ist keine http(s)-URL.</p>")};
    }
    int minimum = parsed->minimum_level.value_or(1);
    auto relay = form.count("RelayState") ? form.at("RelayState") : std::string();
    std::string persons;
    for (std::size_t i = 0; i < kPersons.size(); ++i) {
      const auto& p = kPersons[i];
      persons += fmt::format(
          "<p><input type=\"radio\" name=\"person\" id=\"person-{0}\" value=\"{0}\"{1}> "
          "<label for=\"person-{0}\">{2} {3} {4}, geboren {5} in {6}</label></p>",
          p.key, i == 0 ? " checked" : "", saml::escape(p.title), saml::escape(p.given_name),
          saml::escape(p.surname), p.birthdate, saml::escape(p.place_of_birth));
    }
    std::string methods;
    bool first = true;
    for (const auto& m : kMethods) {
      if (m.level < minimum) continue;
      methods += fmt::format(
          "<p><input type=\"radio\" name=\"method\" id=\"method-{0}\" value=\"{0}\"{1}> "
          "<label for=\"method-{0}\">{2} (STORK-QAA-Level-{3})</label></p>",
          m.name, first ? " checked" : "", saml::escape(m.label), m.level);
      first = false;
    }
    auto hidden = [](const char* n, const std::string& v) {
      return fmt::format("<input type=\"hidden\" name=\"{}\" value=\"{}\">", n, saml::escape(v));
    };
    auto body = fmt::format(
        "<p>Anfrage von <code>{}</code>, Mindestniveau STORK-QAA-Level-{}.</p>"
        "<form method=\"post\" action=\"/saml/login\">{}{}{}{}{}"
        "<fieldset><legend>Testperson</legend>{}</fieldset>"
        "<fieldset><legend>Identifizierung</legend>{}</fieldset>"
        "<p><button type=\"submit\" name=\"action\" value=\"login\">Als Testperson anmelden"
        "</button> <button type=\"submit\" name=\"action\" value=\"cancel\">Abbrechen</button>"
        "</p></form>",
        saml::escape(parsed->issuer), minimum, hidden("request_id", parsed->id),
        hidden("acs", parsed->acs_url), hidden("audience", parsed->issuer), hidden("relay", relay),
        hidden("minimum", std::to_string(minimum)), persons, methods);
    return {200, page("Anmelden (Simulator)", body)};
  }

  // POST /saml/login: the signed Response, posted back by the person's browser.
  std::pair<int, std::string> login(const Form& form) {
    auto get = [&](const char* k) {
      auto it = form.find(k);
      return it == form.end() ? std::string() : it->second;
    };
    const TestPerson* person = nullptr;
    for (const auto& p : kPersons) {
      if (get("person") == p.key) person = &p;
    }
    const Method* method = nullptr;
    for (const auto& m : kMethods) {
      if (get("method") == m.name) method = &m;
    }
    auto acs = get("acs");
    if (acs.empty() || get("request_id").empty() ||
        (get("action") != "cancel" && (!person || !method))) {
      return {400, page("Ungültige Eingabe", "<p>Testperson oder Verfahren fehlt.</p>")};
    }
    saml::ResponseSpec spec{.id = new_id(),
                            .assertion_id = new_id(),
                            .in_response_to = get("request_id"),
                            .issuer = base_url() + "/saml/metadata",
                            .destination = acs,
                            .audience = get("audience"),
                            .now = clock.now()};
    if (get("action") == "cancel") {
      spec.failure = "cancel";
    } else {
      spec.level = method->level;
      auto bpk2 =
          saml::base64(core::crypto::sha256(std::string("mvsp-eid-simulator:") + person->key));
      spec.name_id = bpk2;
      const char* tl = trust_level(method->level);
      spec.attributes = {{saml::oid::kSurname, "surname", person->surname, tl},
                         {saml::oid::kGivenName, "givenName", person->given_name, tl},
                         {saml::oid::kMail, "mail", person->mail, "NORMAL"},
                         {saml::oid::kPostalAddress, "postalAddress", person->street, tl},
                         {saml::oid::kPostalCode, "postalCode", person->postcode, tl},
                         {saml::oid::kLocality, "localityName", person->city, tl},
                         {saml::oid::kCountry, "Country", "DE", tl},
                         {saml::oid::kGender, "gender", person->gender, "UNTERGEORDNET"},
                         {saml::oid::kBirthdate, "birthdate", person->birthdate, tl},
                         {saml::oid::kPlaceOfBirth, "placeOfBirth", person->place_of_birth, tl},
                         {saml::oid::kBpk2, "bPK2", bpk2, "NORMAL"},
                         {saml::oid::kQaaLevel, "EID-CITIZEN-QAA-LEVEL",
                          fmt::format("{}{}", saml::kStorkPrefix, method->level), "NORMAL"},
                         {saml::oid::kProvedBy, "AssertionProvedBy", method->name, "NORMAL"},
                         {"urn:oid:1.3.6.1.4.1.25484.494450.1", "Version", "2021.7.1", "NORMAL"}};
      if (*person->title) {
        spec.attributes.push_back(
            {saml::oid::kPersonalTitle, "personalTitle", person->title, "NORMAL"});
      }
      if (*person->birth_name) {
        spec.attributes.push_back({saml::oid::kBirthName, "birthName", person->birth_name, tl});
      }
    }
    if (spec.failure.empty())
      spec.encrypt_for_certificate_pem = encryption_certificate(fetch, spec.audience);
    auto xml = saml::response(spec, key);
    auto body = fmt::format(
        "<p>{}</p><form method=\"post\" action=\"{}\">"
        "<input type=\"hidden\" name=\"SAMLResponse\" value=\"{}\">"
        "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">"
        "<p><button type=\"submit\">Zurück zum Dienst</button></p></form>",
        spec.failure.empty() ? "Die Testperson ist identifiziert."
                             : "Die Anmeldung ist abgebrochen.",
        saml::escape(acs), saml::base64(xml), saml::escape(get("relay")));
    return {200, page("Zurück zum Dienst", body)};
  }

  web::Response answer(const web::Request& req) {
    Form form;
    for (const auto& [k, v] : web::parse_urlencoded(req.body)) form.emplace(k, v);
    std::pair<int, std::string> answer;
    std::string type = "text/html; charset=utf-8";
    const auto& path = req.path;
    bool post = req.method == web::Method::post;
    if (post && path == "/saml/sso") {
      answer = sso(form);
    } else if (post && path == "/saml/login") {
      answer = login(form);
    } else if (path == "/saml/metadata") {
      answer = {200, saml::idp_metadata(base_url() + "/saml/metadata", base_url() + "/saml/sso",
                                        key.certificate_pem)};
      type = "application/samlmetadata+xml; charset=utf-8";
    } else if (path == "/") {
      answer = {200, page("eID-Simulator",
                          "<p>SAML-Metadaten: <a href=\"/saml/metadata\">"
                          "/saml/metadata</a></p>")};
    } else {
      answer = {404, page("Nicht gefunden", "")};
    }
    web::Response res;
    res.status = answer.first;
    res.body = std::move(answer.second);
    res.set_header("Content-Type", type);
    res.set_header("Cache-Control", "no-store");
    return res;
  }
};

EidSimulator::EidSimulator(EidSimulatorOptions options, const web::Ports& ports)
    : impl_(std::make_unique<Impl>(std::move(options), ports)) {
  impl_->key =
      saml::load_or_create_key_pair(impl_->options.key_dir, "eid-simulator", "mvsp eID SIMULATOR");
}

EidSimulator::~EidSimulator() {
  stop();
}

void EidSimulator::start() {
  impl_->server = std::make_unique<web::SmallServer>(
      impl_->options.host, impl_->options.port,
      [impl = impl_.get()](const web::Request& req) { return impl->answer(req); });
  impl_->server->start();
}

void EidSimulator::stop() {
  if (impl_ && impl_->server) impl_->server->stop();
}

int EidSimulator::port() const {
  return impl_->server ? impl_->server->port() : 0;
}
std::string EidSimulator::base_url() const {
  return impl_->base_url();
}
std::string EidSimulator::entity_id() const {
  return base_url() + "/saml/metadata";
}
std::string EidSimulator::sso_url() const {
  return base_url() + "/saml/sso";
}
std::filesystem::path EidSimulator::certificate_path() const {
  return impl_->options.key_dir / "eid-simulator.crt";
}

}  // namespace mvsp::identity
