#include "json.hpp"

#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <sstream>

namespace mvsp::catalog::json {
namespace {

constexpr std::size_t kMaxName = 300;
constexpr std::size_t kMaxText = 20'000;

// Nested values go in as pointers: Poco's getArray/getObject find only those, and the
// readers below read what to_json wrote.
Poco::JSON::Array::Ptr strings(const std::vector<std::string>& v) {
  Poco::JSON::Array::Ptr a = new Poco::JSON::Array;
  for (const auto& s : v) a->add(s);
  return a;
}

template <typename T>
Poco::SharedPtr<T> ptr(T value) {
  return new T(std::move(value));
}

struct Reader {
  const Poco::JSON::Object& o;
  const std::string& path;
  core::Error& error;

  void problem(const std::string& key, const std::string& message) {
    error.and_field(path + "." + key, message);
  }
  std::string text(const std::string& key, bool required = false, std::size_t max = kMaxName) {
    if (!o.has(key) || o.isNull(key)) {
      if (required) problem(key, "is required");
      return {};
    }
    auto v = o.get(key);
    if (!v.isString()) {
      problem(key, "must be a string");
      return {};
    }
    auto s = v.extract<std::string>();
    if (required && s.empty()) problem(key, "must not be empty");
    if (s.size() > max) problem(key, fmt::format("must have at most {} characters", max));
    return s;
  }
  std::vector<std::string> list(const std::string& key) {
    std::vector<std::string> out;
    if (!o.has(key)) return out;
    auto arr = o.getArray(key);
    if (!arr) {
      problem(key, "must be a list of strings");
      return out;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      auto v = arr->get(static_cast<unsigned>(i));
      if (!v.isString()) {
        problem(fmt::format("{}[{}]", key, i), "must be a string");
        continue;
      }
      out.push_back(v.extract<std::string>());
    }
    return out;
  }
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) {
    if (!o.has(key)) return fallback;
    auto v = o.get(key);
    if (!v.isInteger()) {
      problem(key, "must be a whole number");
      return fallback;
    }
    auto n = v.convert<std::int64_t>();
    if (n < min || n > max) {
      problem(key, fmt::format("must be between {} and {}", min, max));
      return fallback;
    }
    return n;
  }
  bool boolean(const std::string& key, bool fallback) {
    if (!o.has(key)) return fallback;
    auto v = o.get(key);
    if (!v.isBoolean()) {
      problem(key, "must be true or false");
      return fallback;
    }
    return v.extract<bool>();
  }
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed) {
    auto v = text(key);
    if (v.empty()) return fallback;
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      problem(key, fmt::format("must be one of {}", fmt::join(allowed, ", ")));
      return fallback;
    }
    return v;
  }
  std::string leika_key(const std::string& key) {
    static const std::regex kShape("^[0-9]{14}$");
    auto v = text(key, true);
    if (!v.empty() && !std::regex_match(v, kShape)) problem(key, "must be 14 digits (LeiKa key)");
    return v;
  }
};

}  // namespace

Poco::JSON::Object to_json(const Service& s) {
  Poco::JSON::Object o;
  o.set("leikaKey", s.leika_key);
  o.set("name", s.name);
  o.set("synonyms", strings(s.synonyms));
  Poco::JSON::Object texts;
  Texts t = s.texts;
  for (const auto& m : text_modules()) texts.set(m, *module_of(t, m));
  o.set("texts", ptr(std::move(texts)));
  o.set("topics", strings(s.topics));
  o.set("lifeSituations", strings(s.life_situations));
  o.set("level", s.level);
  return o;
}

Poco::JSON::Object to_json(const Authority& a) {
  Poco::JSON::Object o;
  o.set("id", a.id);
  o.set("tenantId", a.tenant_id);
  o.set("region", a.region);
  o.set("name", a.name);
  o.set("street", a.street);
  o.set("postcode", a.postcode);
  o.set("city", a.city);
  o.set("postalAddress", a.postal_address);
  o.set("phone", a.phone);
  o.set("email", a.email);
  o.set("website", a.website);
  o.set("openingHours", a.opening_hours);
  o.set("accessibility", a.accessibility);
  return o;
}

Poco::JSON::Object to_json(const Responsibility& r) {
  Poco::JSON::Object o;
  o.set("leikaKey", r.leika_key);
  o.set("region", r.region);
  o.set("authorityId", r.authority_id);
  return o;
}

Poco::JSON::Object to_json(const Specialisation& s) {
  Poco::JSON::Object o;
  o.set("leikaKey", s.leika_key);
  o.set("authorityId", s.authority_id);
  o.set("module", s.module);
  o.set("text", s.text);
  o.set("replace", s.replace);
  return o;
}

Poco::JSON::Object to_json(const Category& c) {
  Poco::JSON::Object o;
  o.set("kind", c.kind);
  o.set("key", c.key);
  o.set("name", c.name);
  return o;
}

Poco::JSON::Object to_json(const OnlineServiceConfig& c) {
  Poco::JSON::Object o;
  o.set("steps", strings(c.steps));
  Poco::JSON::Array docs;
  for (const auto& d : c.documents) {
    Poco::JSON::Object doc;
    doc.set("name", d.name);
    doc.set("types", strings(d.types));
    doc.set("maxBytes", d.max_bytes);
    doc.set("required", d.required);
    if (d.multiple) doc.set("multiple", true);
    docs.add(ptr(std::move(doc)));
  }
  o.set("documents", ptr(std::move(docs)));
  o.set("feeCents", c.fee_cents);
  if (c.fee_per_unit_cents > 0) {
    o.set("feePerUnitCents", c.fee_per_unit_cents);
    o.set("feeUnitField", c.fee_unit_field);
  }
  o.set("minLevel", c.min_level);
  o.set("guestAccess", c.guest_access);
  o.set("draftDays", c.draft_days);
  o.set("reminderDays", c.reminder_days);
  o.set("retentionDays", c.retention_days);
  o.set("writtenForm", c.written_form);
  o.set("languages", strings(c.languages));
  o.set("confirmationText", c.confirmation_text);
  o.set("externalUrl", c.external_url);
  if (!c.form.empty()) {
    o.set("form", c.form);
    o.set("formVersion", c.form_version);
  }
  return o;
}

Poco::JSON::Object to_json(const OnlineService& s) {
  Poco::JSON::Object o;
  o.set("id", s.id);
  o.set("leikaKey", s.leika_key);
  o.set("name", s.name);
  o.set("owner", s.owner);
  o.set("state", s.state);
  o.set("version", s.version);
  o.set("config", ptr(to_json(s.config)));
  o.set("adoptedBy", strings(s.adopted_by));
  return o;
}

Poco::JSON::Object to_json(const Region& r) {
  Poco::JSON::Object o;
  o.set("key", r.key);
  o.set("name", r.name);
  o.set("displayName", r.display_name());
  o.set("kind", r.kind);
  o.set("parent", r.parent);
  return o;
}

Service service_from(const Poco::JSON::Object& o, const std::string& path, core::Error& error) {
  Reader r{o, path, error};
  Service s;
  s.leika_key = r.leika_key("leikaKey");
  s.name = r.text("name", true);
  s.synonyms = r.list("synonyms");
  if (o.has("texts")) {
    auto texts = o.getObject("texts");
    if (!texts) {
      r.problem("texts", "must be an object of text modules");
    } else {
      Reader t{*texts, path + ".texts", error};
      for (const auto& [key, _] : *texts) {
        if (!module_of(s.texts, key)) t.problem(key, "is not a text module");
      }
      for (const auto& m : text_modules()) *module_of(s.texts, m) = t.text(m, false, kMaxText);
    }
  }
  s.topics = r.list("topics");
  s.life_situations = r.list("lifeSituations");
  s.level = r.choice("level", "municipality", {"municipality", "district", "state"});
  return s;
}

Authority authority_from(const Poco::JSON::Object& o, const std::string& path, core::Error& error) {
  Reader r{o, path, error};
  Authority a;
  a.id = r.text("id", true, 64);
  a.tenant_id = r.text("tenantId", false, 64);
  a.region = r.text("region", true, 8);
  a.name = r.text("name", true);
  a.street = r.text("street");
  a.postcode = r.text("postcode", false, 10);
  a.city = r.text("city");
  a.postal_address = r.text("postalAddress");
  a.phone = r.text("phone", false, 60);
  a.email = r.text("email", false, 254);
  a.website = r.text("website", false, 500);
  a.opening_hours = r.text("openingHours", false, 2000);
  a.accessibility = r.text("accessibility", false, 2000);
  static const std::regex kId("^[a-z0-9][a-z0-9-]{0,63}$");
  if (!a.id.empty() && !std::regex_match(a.id, kId)) {
    r.problem("id", "must be lower-case letters, digits and hyphens");
  }
  if (!a.postcode.empty() && !std::regex_match(a.postcode, std::regex("^[0-9]{5}$"))) {
    r.problem("postcode", "must have five digits");
  }
  if (!a.website.empty() && !a.website.starts_with("https://") &&
      !a.website.starts_with("http://")) {
    r.problem("website", "must be an http(s) URL");
  }
  return a;
}

void check_contacts(const Authority& a, const std::string& path, core::Error& error) {
  // What citizens are shown to write to or call: an address with one @ and a domain with a
  // dot; a number of digits with the usual separators (+49 385 545-0, (0385) 5 45 10 00).
  // Checked only on what is put in (a form, an import), never on stored rows, which
  // earlier versions took without these rules. Too long a value is named by the reader and
  // not matched: std::regex recurses per character.
  static const std::regex kEmail(R"re(^[^@\s<>()"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$)re");
  if (!a.email.empty() && a.email.size() <= 254 && !std::regex_match(a.email, kEmail)) {
    error.and_field(path + ".email", "must be an e-mail address");
  }
  static const std::regex kPhone(R"(^\+?[0-9 ()/-]{3,60}$)");
  auto digits =
      std::count_if(a.phone.begin(), a.phone.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!a.phone.empty() && a.phone.size() <= 60 &&
      (!std::regex_match(a.phone, kPhone) || digits < 3)) {
    error.and_field(path + ".phone", "must be a telephone number");
  }
}

Responsibility responsibility_from(const Poco::JSON::Object& o, const std::string& path,
                                   core::Error& error) {
  Reader r{o, path, error};
  return {r.leika_key("leikaKey"), r.text("region", true, 8), r.text("authorityId", true, 64)};
}

Specialisation specialisation_from(const Poco::JSON::Object& o, const std::string& path,
                                   core::Error& error) {
  Reader r{o, path, error};
  Specialisation s{r.leika_key("leikaKey"), r.text("authorityId", true, 64),
                   r.choice("module", "", text_modules()), r.text("text", true, kMaxText),
                   r.boolean("replace", false)};
  if (s.module.empty()) r.problem("module", "is required");
  return s;
}

Category category_from(const Poco::JSON::Object& o, const std::string& path, core::Error& error) {
  Reader r{o, path, error};
  return {r.choice("kind", "", {"topic", "life_situation"}), r.text("key", true, 64),
          r.text("name", true)};
}

OnlineServiceConfig config_from(const Poco::JSON::Object& o, const std::string& path,
                                core::Error& error) {
  Reader r{o, path, error};
  OnlineServiceConfig c;
  c.steps = r.list("steps");
  if (o.has("documents")) {
    auto docs = o.getArray("documents");
    if (!docs) r.problem("documents", "must be a list");
    for (std::size_t i = 0; docs && i < docs->size(); ++i) {
      auto d = docs->getObject(static_cast<unsigned>(i));
      auto p = fmt::format("{}.documents[{}]", path, i);
      if (!d) {
        error.and_field(p, "must be an object");
        continue;
      }
      Reader dr{*d, p, error};
      DocumentRule rule{dr.text("name", true), dr.list("types"),
                        dr.integer("maxBytes", 10 * 1024 * 1024, 1, 100 * 1024 * 1024),
                        dr.boolean("required", true), dr.boolean("multiple", false)};
      if (rule.types.empty()) dr.problem("types", "needs at least one media type");
      c.documents.push_back(std::move(rule));
    }
  }
  c.fee_cents = r.integer("feeCents", 0, 0, 100'000'000);
  c.fee_per_unit_cents = r.integer("feePerUnitCents", 0, 0, 100'000'000);
  c.fee_unit_field = r.text("feeUnitField", false, 200);
  if (c.fee_per_unit_cents > 0 && c.fee_unit_field.empty())
    r.problem("feeUnitField", "names the form answer that counts the units of the fee");
  c.min_level = r.choice("minLevel", "low", {"basic", "low", "substantial", "high"});
  c.guest_access = r.boolean("guestAccess", false);
  if (c.guest_access && c.min_level != "basic" && c.min_level != "low")
    r.problem("guestAccess", "only for services of trust level basic or low (a guest has none)");
  c.draft_days = static_cast<int>(r.integer("draftDays", 30, 1, 365));
  c.reminder_days = static_cast<int>(r.integer("reminderDays", 7, 0, 364));
  if (c.reminder_days >= c.draft_days)
    r.problem("reminderDays", "must be fewer than the days a draft is kept");
  c.retention_days = static_cast<int>(r.integer("retentionDays", 365, 1, 36'500));
  c.written_form = r.boolean("writtenForm", false);
  c.languages = r.list("languages");
  if (c.languages.empty()) c.languages = {"de"};
  c.confirmation_text = r.text("confirmationText", false, kMaxText);
  c.external_url = r.text("externalUrl", false, 500);
  if (!c.external_url.empty() && !c.external_url.starts_with("https://") &&
      !c.external_url.starts_with("http://")) {
    r.problem("externalUrl", "must be an http(s) URL");
  }
  c.form = r.text("form", false, 80);
  c.form_version = static_cast<int>(r.integer("formVersion", 0, 0, 1'000'000));
  if (!c.form.empty() && c.form_version < 1)
    r.problem("formVersion", "names the published version of the form");
  if (c.written_form && c.min_level != "high") {
    r.problem("minLevel", "must be high when the law demands the written form (eID replaces it)");
  }
  return c;
}

OnlineService online_service_from(const Poco::JSON::Object& o, const std::string& path,
                                  core::Error& error) {
  Reader r{o, path, error};
  OnlineService s;
  s.id = r.text("id", false, 64);
  s.leika_key = r.leika_key("leikaKey");
  s.name = r.text("name", true);
  s.owner = r.text("owner", false, 64);
  s.state = r.choice("state", "draft", {"draft", "test", "production"});
  s.version = static_cast<int>(r.integer("version", 1, 1, 1'000'000));
  if (auto config = o.getObject("config")) {
    s.config = config_from(*config, path + ".config", error);
  } else if (o.has("config")) {
    r.problem("config", "must be an object");
  }
  s.adopted_by = r.list("adoptedBy");
  return s;
}

std::string stringify(const Poco::JSON::Object& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

Poco::JSON::Object::Ptr parse(std::string_view text) {
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(std::string(text));
    return v.extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace mvsp::catalog::json

namespace mvsp::catalog {

std::string config_to_json(const OnlineServiceConfig& config) {
  return json::stringify(json::to_json(config));
}

core::Result<OnlineServiceConfig> config_from_json(std::string_view text) {
  auto o = json::parse(text);
  if (!o) return core::fail(core::Error::invalid("config", "is not a JSON object"));
  core::Error error{core::ErrorCode::invalid_input, "The configuration is not valid.", {}, {}};
  auto config = json::config_from(*o, "config", error);
  if (!error.fields.empty()) return core::fail(error);
  return config;
}

}  // namespace mvsp::catalog
