#include <mvsp/forms/form.hpp>
// Reading, checking and writing a form definition.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <mvsp/core/text.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "logic.hpp"

namespace mvsp::forms {

namespace {

constexpr std::pair<QuestionType, std::string_view> kTypes[] = {
    {QuestionType::text, "text"},
    {QuestionType::long_text, "long_text"},
    {QuestionType::integer, "integer"},
    {QuestionType::decimal, "decimal"},
    {QuestionType::money, "money"},
    {QuestionType::date, "date"},
    {QuestionType::email, "email"},
    {QuestionType::phone, "phone"},
    {QuestionType::name, "name"},
    {QuestionType::address, "address"},
    {QuestionType::iban, "iban"},
    {QuestionType::choice, "choice"},
    {QuestionType::multiple_choice, "multiple_choice"},
    {QuestionType::yes_no, "yes_no"},
    {QuestionType::declaration, "declaration"},
    {QuestionType::file, "file"},
    {QuestionType::info, "info"},
    {QuestionType::group, "group"},
    {QuestionType::computed, "computed"},
};

constexpr int kMaxGroupCount = 100;
constexpr std::int64_t kMaxTextLength = 100'000;
constexpr std::size_t kMaxPatternLength = 500;
constexpr std::size_t kMaxQuestions = 2000;
constexpr int kMaxComputedDepth = 20;

bool is_id(std::string_view s, std::size_t max = 63) {
  if (s.empty() || s.size() > max || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A key starts with a letter: it names the XML root element when the form names none.
bool is_key(std::string_view s) {
  if (s.empty() || s.size() > 80 || !(s.front() >= 'a' && s.front() <= 'z') || s.back() == '-')
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// A bound as digits with an optional sign and fraction: from_chars alone takes "inf",
// "nan" and exponents, which no schema can state.
bool is_number(std::string_view s) {
  if (s.starts_with('-')) s.remove_prefix(1);
  auto dot = s.find('.');
  auto whole = s.substr(0, dot);
  auto fraction = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return !d.empty() && d.size() <= 15 &&
           std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(whole) && (dot == std::string_view::npos || digits(fraction));
}

// The HTML autocomplete tokens a form may use (WCAG 1.3.5), and "on" (the applicant's own
// name or address: the parts get theirs).
bool is_autocomplete_token(std::string_view s) {
  static constexpr std::string_view kTokens[] = {"on",
                                                 "off",
                                                 "name",
                                                 "honorific-prefix",
                                                 "given-name",
                                                 "additional-name",
                                                 "family-name",
                                                 "honorific-suffix",
                                                 "nickname",
                                                 "organization-title",
                                                 "organization",
                                                 "street-address",
                                                 "address-line1",
                                                 "address-line2",
                                                 "address-line3",
                                                 "address-level1",
                                                 "address-level2",
                                                 "country",
                                                 "country-name",
                                                 "postal-code",
                                                 "bday",
                                                 "bday-day",
                                                 "bday-month",
                                                 "bday-year",
                                                 "sex",
                                                 "tel",
                                                 "tel-national",
                                                 "email",
                                                 "url",
                                                 "language",
                                                 "cc-name",
                                                 "username"};
  return std::find(std::begin(kTokens), std::end(kTokens), s) != std::end(kTokens);
}

// ---- reading JSON ----

struct Reader {
  core::Error error = core::Error::invalid("", "Das Formular ist nicht gültig.");
  bool ok = true;

  // One message per place: the first problem found there.
  void problem(std::string path, std::string message) {
    if (path.starts_with('.')) path.erase(0, 1);
    if (ok) error.fields.clear();
    ok = false;
    for (const auto& f : error.fields) {
      if (f.field == path) return;
    }
    error.fields.push_back({std::move(path), std::move(message)});
  }

  std::string text(const Poco::JSON::Object& o, const std::string& path, const char* key,
                   bool required = false, std::size_t max = 10'000) {
    if (!o.has(key) || o.isNull(key)) {
      if (required) problem(path + "." + key, "fehlt");
      return {};
    }
    auto v = o.get(key);
    if (!v.isString()) {
      problem(path + "." + key, "muss ein Text sein");
      return {};
    }
    auto s = v.extract<std::string>();
    if (s.size() > max) problem(path + "." + key, fmt::format("ist länger als {} Zeichen", max));
    // every text ends up in HTML, XML, JSON and the PDF's metadata: UTF-8, and no control
    // characters but line breaks and tabs
    bool control = std::any_of(s.begin(), s.end(), [](char ch) {
      auto c = static_cast<unsigned char>(ch);
      return (c < 0x20 && c != '\n' && c != '\t') || c == 0x7F;
    });
    if (!core::valid_utf8(s) || control)
      problem(path + "." + key, "enthält Zeichen, die nicht erlaubt sind");
    if (required && s.empty()) problem(path + "." + key, "darf nicht leer sein");
    return s;
  }
  std::optional<std::int64_t> integer(const Poco::JSON::Object& o, const std::string& path,
                                      const char* key) {
    if (!o.has(key) || o.isNull(key)) return std::nullopt;
    auto v = o.get(key);
    if (!v.isInteger()) {
      problem(path + "." + key, "muss eine ganze Zahl sein");
      return std::nullopt;
    }
    return v.convert<std::int64_t>();
  }
  bool boolean(const Poco::JSON::Object& o, const std::string& path, const char* key,
               bool fallback) {
    if (!o.has(key) || o.isNull(key)) return fallback;
    auto v = o.get(key);
    if (!v.isBoolean()) {
      problem(path + "." + key, "muss true oder false sein");
      return fallback;
    }
    return v.extract<bool>();
  }
  // A bound: a number or a text ("today-18y").
  std::string bound(const Poco::JSON::Object& o, const std::string& path, const char* key) {
    if (!o.has(key) || o.isNull(key)) return {};
    auto v = o.get(key);
    if (v.isNumeric()) return v.convert<std::string>();
    if (v.isString()) return v.extract<std::string>();
    problem(path + "." + key, "muss eine Zahl oder ein Datum sein");
    return {};
  }
  Poco::JSON::Array::Ptr array(const Poco::JSON::Object& o, const std::string& path,
                               const char* key) {
    if (!o.has(key) || o.isNull(key)) return nullptr;
    auto a = o.getArray(key);
    if (!a) problem(path + "." + key, "muss eine Liste sein");
    return a;
  }
  Poco::JSON::Object::Ptr object_at(const Poco::JSON::Array& a, std::size_t i,
                                    const std::string& path) {
    auto o = a.getObject(static_cast<unsigned>(i));
    if (!o) problem(path, "muss ein Objekt sein");
    return o;
  }

  Question question(const Poco::JSON::Object& o, const std::string& path) {
    Question q;
    q.id = text(o, path, "id", true, 63);
    auto type = text(o, path, "type", true, 40);
    if (auto t = type_from_key(type)) {
      q.type = *t;
    } else if (!type.empty()) {
      problem(path + ".type", fmt::format("unbekannter Fragetyp „{}“", type));
    }
    q.label = text(o, path, "label", false, 1000);
    q.hint = text(o, path, "hint", false, 4000);
    q.text = text(o, path, "text", false, 20'000);
    q.required = boolean(o, path, "required",
                         q.type != QuestionType::info && q.type != QuestionType::computed);
    q.min_length = integer(o, path, "minLength");
    q.max_length = integer(o, path, "maxLength");
    q.pattern = text(o, path, "pattern", false, kMaxPatternLength);
    q.pattern_message = text(o, path, "patternMessage", false, 1000);
    q.min = bound(o, path, "min");
    q.max = bound(o, path, "max");
    q.code_list = text(o, path, "codeList", false, 500);
    q.select = boolean(o, path, "select", false);
    q.show_if = text(o, path, "showIf", false, expr::kMaxLength);
    q.value = text(o, path, "value", false, expr::kMaxLength);
    q.prefill = text(o, path, "prefill", false, 100);
    q.autocomplete = text(o, path, "autocomplete", false, 100);
    q.xml_name = text(o, path, "xmlName", false, 100);
    q.item_label = text(o, path, "itemLabel", false, 200);
    q.min_count = static_cast<int>(integer(o, path, "minCount").value_or(q.min_count));
    q.max_count = static_cast<int>(integer(o, path, "maxCount").value_or(q.max_count));
    if (auto options = array(o, path, "options")) {
      for (std::size_t i = 0; i < options->size(); ++i) {
        auto p = fmt::format("{}.options[{}]", path, i);
        auto opt = object_at(*options, i, p);
        if (!opt) continue;
        q.options.push_back(
            {text(*opt, p, "value", true, 200), text(*opt, p, "label", true, 1000)});
      }
    }
    if (auto members = array(o, path, "questions")) {
      for (std::size_t i = 0; i < members->size(); ++i) {
        auto p = fmt::format("{}.questions[{}]", path, i);
        if (auto m = object_at(*members, i, p)) q.questions.push_back(question(*m, p));
      }
    }
    return q;
  }

  Page page(const Poco::JSON::Object& o, const std::string& path) {
    Page p;
    p.id = text(o, path, "id", true, 63);
    p.title = text(o, path, "title", true, 500);
    p.hint = text(o, path, "hint", false, 4000);
    p.show_if = text(o, path, "showIf", false, expr::kMaxLength);
    p.exit = boolean(o, path, "exit", false);
    p.text = text(o, path, "text", false, 20'000);
    if (auto qs = array(o, path, "questions")) {
      for (std::size_t i = 0; i < qs->size(); ++i) {
        auto qp = fmt::format("{}.questions[{}]", path, i);
        if (auto q = object_at(*qs, i, qp)) p.questions.push_back(question(*q, qp));
      }
    }
    if (auto routes = array(o, path, "routes")) {
      for (std::size_t i = 0; i < routes->size(); ++i) {
        auto rp = fmt::format("{}.routes[{}]", path, i);
        if (auto r = object_at(*routes, i, rp))
          p.routes.push_back(
              {text(*r, rp, "when", true, expr::kMaxLength), text(*r, rp, "goTo", true, 63)});
      }
    }
    return p;
  }
};

// ---- checking ----

struct Checker {
  Reader& r;
  Logic& logic;
  const Form& form;
  std::map<std::string, expr::Symbol, std::less<>> top;  // top-level names
  std::map<std::string, std::map<std::string, expr::Type, std::less<>>, std::less<>> members;
  std::size_t count = 0;

  static std::optional<expr::Symbol> plain(expr::Type t) { return expr::Symbol{t, {}}; }

  void declare(const Question& q, std::map<std::string, expr::Symbol, std::less<>>& into,
               const std::string& prefix) {
    if (q.type == QuestionType::group) {
      auto group = q.id;
      into[q.id] = expr::Symbol{expr::Type::group, [this, group](std::string_view m) {
                                  auto g = members.find(group);
                                  if (g == members.end()) return std::optional<expr::Symbol>{};
                                  auto t = g->second.find(m);
                                  if (t == g->second.end()) return std::optional<expr::Symbol>{};
                                  return plain(t->second);
                                }};
      for (const auto& m : q.questions) {
        if (!parts_of(m.type).empty()) {
          for (const auto& part : parts_of(m.type))
            members[q.id][fmt::format("{}.{}", m.id, part.key)] = expr::Type::text;
        } else {
          members[q.id][m.id] = value_type(m.type);
        }
      }
      return;
    }
    if (!parts_of(q.type).empty()) {
      for (const auto& part : parts_of(q.type))
        into[fmt::format("{}{}.{}", prefix, q.id, part.key)] = expr::Symbol{expr::Type::text, {}};
      return;
    }
    if (q.type == QuestionType::info) return;
    into[prefix + q.id] = expr::Symbol{value_type(q.type), {}};
  }

  expr::Resolver resolver(const Question* group) {
    return [this, group](std::string_view name) -> std::optional<expr::Symbol> {
      if (group) {
        auto g = members.find(group->id);
        if (g != members.end()) {
          auto t = g->second.find(name);
          if (t != g->second.end()) return plain(t->second);
        }
      }
      auto t = top.find(name);
      if (t == top.end()) return std::nullopt;
      return t->second;
    };
  }

  expr::Expression compile(const std::string& text, const std::string& path,
                           const expr::Resolver& names, std::optional<expr::Type> want) {
    if (text.empty()) return {};
    auto parsed = expr::Expression::parse(text, names);
    if (auto* why = std::get_if<std::string>(&parsed)) {
      r.problem(path, "Ausdruck ungültig: " + *why);
      return {};
    }
    auto e = std::get<expr::Expression>(std::move(parsed));
    if (want && e.type() != *want && e.type() != expr::Type::any) {
      r.problem(path, fmt::format("Ausdruck muss einen {} ergeben, nicht {}",
                                  expr::type_name(*want), expr::type_name(e.type())));
    }
    return e;
  }

  void check_bounds(const Question& q, const std::string& path) {
    for (auto [value, key] : {std::pair{&q.min, "min"}, std::pair{&q.max, "max"}}) {
      if (value->empty()) continue;
      bool ok = true;
      switch (q.type) {
        case QuestionType::integer:
        case QuestionType::decimal:
        case QuestionType::money:
          ok = is_number(*value);
          break;
        case QuestionType::date:
          ok = date_bound(*value, 0).has_value();
          break;
        default:
          r.problem(path + "." + key, "gilt nur für Zahlen, Geldbeträge und Daten");
          continue;
      }
      if (!ok) r.problem(path + "." + key, fmt::format("„{}“ ist keine gültige Grenze", *value));
    }
    if (q.min_length && (*q.min_length < 0 || *q.min_length > kMaxTextLength))
      r.problem(path + ".minLength", "liegt nicht zwischen 0 und 100000");
    if (q.max_length && (*q.max_length < 1 || *q.max_length > kMaxTextLength))
      r.problem(path + ".maxLength", "liegt nicht zwischen 1 und 100000");
    if (q.min_length && q.max_length && *q.min_length > *q.max_length)
      r.problem(path + ".minLength", "ist größer als maxLength");
  }

  void check_question(const Question& q, const std::string& path, const Question* group,
                      std::set<std::string, std::less<>>& ids) {
    if (++count > kMaxQuestions) r.problem(path, fmt::format("mehr als {} Fragen", kMaxQuestions));
    if (!is_id(q.id)) {
      r.problem(path + ".id", "Kennung aus Kleinbuchstaben, Ziffern und _ (höchstens 63 Zeichen)");
    } else if (!ids.insert(q.id).second) {
      r.problem(path + ".id", fmt::format("„{}“ kommt zweimal vor", q.id));
    }
    bool asks = q.type != QuestionType::info && q.type != QuestionType::computed;
    if (asks && q.label.empty()) r.problem(path + ".label", "fehlt");
    if (q.type == QuestionType::info && q.text.empty() && q.label.empty())
      r.problem(path + ".text", "fehlt");
    if (q.type == QuestionType::declaration && q.text.empty()) r.problem(path + ".text", "fehlt");
    if (!q.autocomplete.empty() && !is_autocomplete_token(q.autocomplete))
      r.problem(path + ".autocomplete",
                fmt::format("„{}“ ist kein Autocomplete-Wert nach HTML", q.autocomplete));
    if (!q.xml_name.empty() && !is_element_name(q.xml_name))
      r.problem(path + ".xmlName", "ist kein gültiger XML-Elementname");
    check_bounds(q, path);
    auto& ql = logic.questions[group ? group->id + "." + q.id : q.id];
    if (!q.pattern.empty()) {
      std::string why;
      ql.pattern = compile_pattern(q.pattern, why);
      if (!ql.pattern) r.problem(path + ".pattern", "ist kein gültiger regulärer Ausdruck: " + why);
    }
    bool has_options = q.type == QuestionType::choice || q.type == QuestionType::multiple_choice;
    if (has_options) {
      if (q.options.empty()) r.problem(path + ".options", "mindestens eine Auswahl");
      std::set<std::string> values;
      for (std::size_t i = 0; i < q.options.size(); ++i) {
        if (!values.insert(q.options[i].value).second)
          r.problem(fmt::format("{}.options[{}].value", path, i),
                    fmt::format("„{}“ kommt zweimal vor", q.options[i].value));
        if (q.options[i].value.find('\n') != std::string::npos)
          r.problem(fmt::format("{}.options[{}].value", path, i), "enthält einen Zeilenumbruch");
      }
    } else if (!q.options.empty()) {
      r.problem(path + ".options", "gilt nur für Auswahlfragen");
    }
    if (!q.prefill.empty()) {
      const auto& known = prefill_bindings();
      if (std::find(known.begin(), known.end(), q.prefill) == known.end())
        r.problem(path + ".prefill", fmt::format("unbekannte Vorbelegung „{}“", q.prefill));
    }
    auto names = resolver(group);
    ql.show_if = compile(q.show_if, path + ".showIf", names, expr::Type::boolean);
    if (q.type == QuestionType::computed) {
      if (q.value.empty()) r.problem(path + ".value", "fehlt");
      ql.value = compile(q.value, path + ".value", names, std::nullopt);
    } else if (!q.value.empty()) {
      r.problem(path + ".value", "gilt nur für berechnete Werte");
    }
    if (q.type == QuestionType::group) {
      if (group) r.problem(path + ".type", "Gruppen lassen sich nicht schachteln");
      if (q.questions.empty()) r.problem(path + ".questions", "mindestens eine Frage");
      if (q.min_count < 0 || q.max_count < 1 || q.max_count > kMaxGroupCount ||
          q.min_count > q.max_count)
        r.problem(path + ".maxCount",
                  fmt::format("minCount ≤ maxCount, 1 ≤ maxCount ≤ {}", kMaxGroupCount));
      if (q.item_label.empty()) r.problem(path + ".itemLabel", "fehlt");
      std::set<std::string, std::less<>> member_ids;
      for (std::size_t i = 0; i < q.questions.size(); ++i)
        check_question(q.questions[i], fmt::format("{}.questions[{}]", path, i), &q, member_ids);
    } else if (!q.questions.empty()) {
      r.problem(path + ".questions", "gilt nur für Gruppen");
    }
  }

  // The XML has one element per question: names are unique among their siblings (the
  // questions of the form, and of each group).
  void check_element_names() {
    std::set<std::string> top_names;
    for (std::size_t i = 0; i < form.pages.size(); ++i) {
      for (std::size_t k = 0; k < form.pages[i].questions.size(); ++k) {
        const auto& q = form.pages[i].questions[k];
        auto path = fmt::format("pages[{}].questions[{}]", i, k);
        if (q.type == QuestionType::info) continue;
        if (!top_names.insert(element_name(q)).second)
          r.problem(path + ".xmlName",
                    fmt::format("der XML-Name „{}“ kommt zweimal vor", element_name(q)));
        std::set<std::string> member_names;
        for (std::size_t m = 0; m < q.questions.size(); ++m) {
          if (q.questions[m].type == QuestionType::info) continue;
          if (!member_names.insert(element_name(q.questions[m])).second)
            r.problem(
                fmt::format("{}.questions[{}].xmlName", path, m),
                fmt::format("der XML-Name „{}“ kommt zweimal vor", element_name(q.questions[m])));
        }
      }
    }
  }

  // Computed values read other answers, computed ones too: that must not go round in a
  // circle (c = c + 1, or a total over a group whose items read the total), nor be deeper
  // than a person can follow, so that evaluating one always ends, and soon.
  void check_computed() {
    struct Node {
      std::string path;  // where a problem is reported
      std::vector<std::string> reads;
    };
    std::map<std::string, Node> nodes;  // "id" or "group.member"
    for (std::size_t i = 0; i < form.pages.size(); ++i) {
      for (std::size_t k = 0; k < form.pages[i].questions.size(); ++k) {
        const auto& q = form.pages[i].questions[k];
        auto path = fmt::format("pages[{}].questions[{}]", i, k);
        auto add = [&](const Question& c, const Question* group, const std::string& at) {
          auto key = group ? group->id + "." + c.id : c.id;
          auto it = logic.questions.find(key);
          if (it == logic.questions.end() || it->second.value.empty()) return;
          Node node{at + ".value", {}};
          for (const auto& name : it->second.value.names()) {
            auto head = name.substr(0, name.find('.'));
            bool member = group && std::any_of(group->questions.begin(), group->questions.end(),
                                               [&](const Question& m) { return m.id == head; });
            node.reads.push_back(member ? group->id + "." + head : name);
          }
          nodes[key] = std::move(node);
        };
        if (q.type == QuestionType::computed) add(q, nullptr, path);
        for (std::size_t m = 0; m < q.questions.size(); ++m) {
          if (q.questions[m].type == QuestionType::computed)
            add(q.questions[m], &q, fmt::format("{}.questions[{}]", path, m));
        }
      }
    }
    // depth-first: 1 on the way, 2 done; the depth of what each reads
    std::map<std::string, int> state;
    std::map<std::string, int> depth;
    std::function<bool(const std::string&, std::vector<std::string>&)> visit =
        [&](const std::string& key, std::vector<std::string>& trail) -> bool {
      auto node = nodes.find(key);
      if (node == nodes.end()) return true;
      if (state[key] == 2) return true;
      trail.push_back(key);
      if (state[key] == 1) {
        std::string circle;
        for (const auto& t : trail) circle += (circle.empty() ? "" : " → ") + t;
        r.problem(node->second.path, "die Berechnung liest sich im Kreis: " + circle);
        return false;
      }
      state[key] = 1;
      int deepest = 0;
      for (const auto& read : node->second.reads) {
        if (!visit(read, trail)) return false;
        if (auto d = depth.find(read); d != depth.end()) deepest = std::max(deepest, d->second);
      }
      state[key] = 2;
      depth[key] = deepest + 1;
      trail.pop_back();
      if (depth[key] > kMaxComputedDepth) {
        r.problem(node->second.path,
                  fmt::format("Berechnungen bauen mehr als {} Stufen aufeinander auf",
                              kMaxComputedDepth));
        return false;
      }
      return true;
    };
    for (const auto& [key, node] : nodes) {
      std::vector<std::string> trail;
      if (!visit(key, trail)) return;
    }
  }

  void run() {
    if (!is_key(form.key))
      r.problem("key",
                "Kennung aus Kleinbuchstaben, Ziffern und -, beginnend mit einem Buchstaben "
                "(höchstens 80 Zeichen)");
    if (form.title.empty()) r.problem("title", "fehlt");
    if (form.pages.empty()) r.problem("pages", "mindestens eine Seite");
    if (!form.outputs.xml_namespace.empty() &&
        form.outputs.xml_namespace.find_first_of(" \"<>") != std::string::npos)
      r.problem("outputs.xmlNamespace", "ist keine gültige URI");
    if (!form.outputs.xml_root.empty() && !is_element_name(form.outputs.xml_root))
      r.problem("outputs.xmlRoot", "ist kein gültiger XML-Elementname");
    // Names first (a condition may read a question of a later page), computed values in
    // order: each may read those before it.
    for (const auto& p : form.pages) {
      for (const auto& q : p.questions) {
        if (q.type != QuestionType::computed) declare(q, top, "");
      }
    }
    std::set<std::string, std::less<>> page_ids;
    std::set<std::string, std::less<>> ids;
    for (std::size_t i = 0; i < form.pages.size(); ++i) {
      const auto& p = form.pages[i];
      auto path = fmt::format("pages[{}]", i);
      if (!is_id(p.id)) {
        r.problem(path + ".id",
                  "Kennung aus Kleinbuchstaben, Ziffern und _ (höchstens 63 Zeichen)");
      } else if (!page_ids.insert(p.id).second) {
        r.problem(path + ".id", fmt::format("„{}“ kommt zweimal vor", p.id));
      }
      if (p.exit && p.text.empty()) r.problem(path + ".text", "eine Ausstiegsseite sagt, warum");
      if (p.exit && !p.routes.empty()) r.problem(path + ".routes", "eine Ausstiegsseite endet");
      for (std::size_t k = 0; k < p.questions.size(); ++k) {
        const auto& q = p.questions[k];
        auto qpath = fmt::format("{}.questions[{}]", path, k);
        if (p.exit && q.type != QuestionType::info)
          r.problem(qpath + ".type", "eine Ausstiegsseite zeigt nur Text");
        check_question(q, qpath, nullptr, ids);
        if (q.type == QuestionType::computed) {
          auto& ql = logic.questions[q.id];
          declare(q, top, "");
          top[q.id].type = ql.value.empty() ? expr::Type::any : ql.value.type();
        }
      }
      logic.page_show_if[p.id] =
          compile(p.show_if, path + ".showIf", resolver(nullptr), expr::Type::boolean);
    }
    // Routes go forward only, so that every way through the form ends.
    for (std::size_t i = 0; i < form.pages.size(); ++i) {
      const auto& p = form.pages[i];
      auto& routes = logic.page_routes[p.id];
      for (std::size_t k = 0; k < p.routes.size(); ++k) {
        auto path = fmt::format("pages[{}].routes[{}]", i, k);
        routes.push_back(
            compile(p.routes[k].when, path + ".when", resolver(nullptr), expr::Type::boolean));
        auto target = std::find_if(form.pages.begin(), form.pages.end(),
                                   [&](const Page& t) { return t.id == p.routes[k].go_to; });
        if (target == form.pages.end()) {
          r.problem(path + ".goTo", fmt::format("keine Seite „{}“", p.routes[k].go_to));
        } else if (target - form.pages.begin() <= static_cast<std::ptrdiff_t>(i)) {
          r.problem(path + ".goTo", "eine Weiterleitung führt nur zu einer späteren Seite");
        }
      }
    }
    check_element_names();
    check_computed();
    for (std::size_t i = 0; i < form.rules.size(); ++i) {
      const auto& rule = form.rules[i];
      auto path = fmt::format("rules[{}]", i);
      logic.rules.push_back(
          compile(rule.check, path + ".check", resolver(nullptr), expr::Type::boolean));
      if (rule.message.empty()) r.problem(path + ".message", "fehlt");
      if (!form.question(rule.field))
        r.problem(path + ".field", fmt::format("keine Frage „{}“", rule.field));
    }
  }
};

void put_if(Poco::JSON::Object& o, const char* key, const std::string& v) {
  if (!v.empty()) o.set(key, v);
}

Poco::JSON::Object question_json(const Question& q) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("id", q.id);
  o.set("type", std::string(type_key(q.type)));
  put_if(o, "label", q.label);
  put_if(o, "hint", q.hint);
  put_if(o, "text", q.text);
  bool default_required = q.type != QuestionType::info && q.type != QuestionType::computed;
  if (q.required != default_required) o.set("required", q.required);
  if (q.min_length) o.set("minLength", *q.min_length);
  if (q.max_length) o.set("maxLength", *q.max_length);
  put_if(o, "pattern", q.pattern);
  put_if(o, "patternMessage", q.pattern_message);
  put_if(o, "min", q.min);
  put_if(o, "max", q.max);
  if (!q.options.empty()) {
    Poco::JSON::Array options;
    for (const auto& opt : q.options) {
      Poco::JSON::Object x(Poco::JSON_PRESERVE_KEY_ORDER);
      x.set("value", opt.value);
      x.set("label", opt.label);
      options.add(x);
    }
    o.set("options", options);
  }
  put_if(o, "codeList", q.code_list);
  if (q.select) o.set("select", true);
  put_if(o, "showIf", q.show_if);
  put_if(o, "value", q.value);
  put_if(o, "prefill", q.prefill);
  put_if(o, "autocomplete", q.autocomplete);
  put_if(o, "xmlName", q.xml_name);
  if (q.type == QuestionType::group) {
    Poco::JSON::Array members;
    for (const auto& m : q.questions) members.add(question_json(m));
    o.set("questions", members);
    o.set("minCount", q.min_count);
    o.set("maxCount", q.max_count);
    put_if(o, "itemLabel", q.item_label);
  }
  return o;
}

}  // namespace

bool is_element_name(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(s[0])) return false;
  if (s.size() >= 3) {
    std::string head(s.substr(0, 3));
    std::transform(head.begin(), head.end(), head.begin(), ::tolower);
    if (head == "xml") return false;
  }
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

std::string_view type_key(QuestionType type) {
  for (auto [t, key] : kTypes) {
    if (t == type) return key;
  }
  return "text";
}

std::optional<QuestionType> type_from_key(std::string_view key) {
  for (auto [t, k] : kTypes) {
    if (k == key) return t;
  }
  return std::nullopt;
}

const std::vector<QuestionType>& question_types() {
  static const std::vector<QuestionType> kAll = [] {
    std::vector<QuestionType> v;
    for (auto [t, key] : kTypes) v.push_back(t);
    return v;
  }();
  return kAll;
}

const std::vector<Part>& parts_of(QuestionType type) {
  static const std::vector<Part> kName = {{"vorname", "Vorname", "given-name"},
                                          {"nachname", "Familienname", "family-name"}};
  static const std::vector<Part> kAddress = {{"strasse", "Strasse", "address-line1"},
                                             {"hausnummer", "Hausnummer", ""},
                                             {"plz", "Postleitzahl", "postal-code"},
                                             {"ort", "Ort", "address-level2"}};
  static const std::vector<Part> kIban = {{"iban", "IBAN", ""},
                                          {"kontoinhaber", "Kontoinhaber", "name"}};
  static const std::vector<Part> kNone;
  switch (type) {
    case QuestionType::name:
      return kName;
    case QuestionType::address:
      return kAddress;
    case QuestionType::iban:
      return kIban;
    default:
      return kNone;
  }
}

expr::Type value_type(QuestionType type) {
  switch (type) {
    case QuestionType::text:
    case QuestionType::long_text:
    case QuestionType::email:
    case QuestionType::phone:
    case QuestionType::choice:
      return expr::Type::text;
    case QuestionType::integer:
    case QuestionType::decimal:
    case QuestionType::money:
    case QuestionType::file:
      return expr::Type::number;
    case QuestionType::date:
      return expr::Type::date;
    case QuestionType::yes_no:
    case QuestionType::declaration:
      return expr::Type::boolean;
    case QuestionType::multiple_choice:
      return expr::Type::list;
    case QuestionType::group:
      return expr::Type::group;
    default:
      return expr::Type::any;
  }
}

std::optional<std::int64_t> date_bound(std::string_view text, std::int64_t today) {
  if (auto d = expr::parse_iso_date(text)) return d;
  if (!text.starts_with("today")) return std::nullopt;
  auto rest = text.substr(5);
  if (rest.empty()) return today;
  if (rest.size() < 3 || (rest[0] != '+' && rest[0] != '-')) return std::nullopt;
  int n = 0;
  auto digits = rest.substr(1, rest.size() - 2);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n > 1000) return std::nullopt;
  if (rest[0] == '-') n = -n;
  std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(today))};
  switch (rest.back()) {
    case 'd':
      return today + n;
    case 'm':
      ymd += std::chrono::months(n);
      break;
    case 'y':
      ymd += std::chrono::years(n);
      break;
    default:
      return std::nullopt;
  }
  // 29 February plus a year, 31 March plus a month: the last day of that month
  if (!ymd.ok()) ymd = ymd.year() / ymd.month() / std::chrono::last;
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

class Pattern {
 public:
  explicit Pattern(const std::string& text) : re_(text, options()) {}
  const re2::RE2& re() const { return re_; }

 private:
  static re2::RE2::Options options() {
    re2::RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(1 << 20);  // a pattern of 500 characters needs far less
    return o;
  }
  re2::RE2 re_;
};

std::shared_ptr<const Pattern> compile_pattern(const std::string& text, std::string& error) {
  auto p = std::make_shared<const Pattern>(text);
  if (p->re().ok()) return p;
  error = p->re().error();
  return nullptr;
}

bool full_match(const Pattern& pattern, std::string_view text) {
  return re2::RE2::FullMatch(re2::StringPiece(text.data(), text.size()), pattern.re());
}

const std::vector<std::string_view>& prefill_bindings() {
  static const std::vector<std::string_view> kAll = {
      "account.name",       "account.salutation",      "account.given_name", "account.family_name",
      "account.birth_name", "account.doctoral_degree", "account.birth_date", "account.birth_place",
      "account.address",    "account.email",           "organisation.name",  "organisation.address",
      "organisation.email"};
  return kAll;
}

const Page* Form::page(std::string_view id) const {
  for (const auto& p : pages) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Question* Form::question(std::string_view path) const {
  auto dot = path.find('.');
  auto head = path.substr(0, dot);
  for (const auto& p : pages) {
    for (const auto& q : p.questions) {
      if (q.id != head) continue;
      if (dot == std::string_view::npos) return &q;
      auto member = path.substr(dot + 1);
      for (const auto& m : q.questions) {
        if (m.id == member) return &m;
      }
      return nullptr;
    }
  }
  return nullptr;
}

std::string element_name(const Question& q) {
  if (!q.xml_name.empty()) return q.xml_name;
  std::string out;
  bool upper = true;
  for (char c : q.id) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

namespace {
core::Result<Form> check(Form form, Reader r);
}

core::Result<Form> parse_form(std::string_view json) {
  Poco::JSON::Object::Ptr root;
  try {
    Poco::JSON::Parser parser;
    auto parsed = parser.parse(std::string(json));
    if (parsed.type() == typeid(Poco::JSON::Object::Ptr))
      root = parsed.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return core::fail(
        core::Error::invalid("", "Das Formular ist kein gültiges JSON: " + e.message()));
  }
  if (!root) return core::fail(core::Error::invalid("", "Das Formular ist kein JSON-Objekt."));
  Reader r;
  Form form;
  auto format = r.text(*root, "", "format", true, 40);
  if (!format.empty() && format != kFormat)
    r.problem(".format", fmt::format("„{}“ erwartet, nicht „{}“", kFormat, format));
  form.key = r.text(*root, "", "key", true, 80);
  form.title = r.text(*root, "", "title", true, 500);
  form.intro = r.text(*root, "", "intro", false, 20'000);
  form.language = r.text(*root, "", "language", false, 10);
  if (form.language.empty()) form.language = "de";
  static const std::regex kLanguage("[a-z]{2,3}(-[A-Za-z0-9]{2,8})*");
  if (!std::regex_match(form.language, kLanguage))
    r.problem("language", "ist kein Sprachkürzel wie „de“ oder „de-DE“");
  if (auto pages = r.array(*root, "", "pages")) {
    for (std::size_t i = 0; i < pages->size(); ++i) {
      auto path = fmt::format("pages[{}]", i);
      if (auto p = r.object_at(*pages, i, path)) form.pages.push_back(r.page(*p, path));
    }
  }
  if (auto rules = r.array(*root, "", "rules")) {
    for (std::size_t i = 0; i < rules->size(); ++i) {
      auto path = fmt::format("rules[{}]", i);
      if (auto o = r.object_at(*rules, i, path))
        form.rules.push_back({r.text(*o, path, "check", true, expr::kMaxLength),
                              r.text(*o, path, "message", true, 1000),
                              r.text(*o, path, "field", true, 130)});
    }
  }
  if (root->has("outputs")) {
    if (auto out = root->getObject("outputs")) {
      form.outputs.xml_namespace = r.text(*out, "outputs", "xmlNamespace", false, 500);
      form.outputs.xml_root = r.text(*out, "outputs", "xmlRoot", false, 100);
    } else {
      r.problem("outputs", "muss ein Objekt sein");
    }
  }
  return check(std::move(form), std::move(r));
}

core::Result<Form> check_form(Form form) {
  return check(std::move(form), Reader{});
}

namespace {
// Checks what was read, adding to the problems of reading (all are reported at once).
core::Result<Form> check(Form form, Reader r) {
  auto logic = std::make_shared<Logic>();
  Checker checker{r, *logic, form, {}, {}, 0};
  checker.run();
  if (!r.ok) return core::fail(std::move(r.error));
  form.logic = std::move(logic);
  return form;
}
}  // namespace

std::string to_json(const Form& form) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("format", std::string(kFormat));
  o.set("key", form.key);
  o.set("title", form.title);
  put_if(o, "intro", form.intro);
  o.set("language", form.language);
  Poco::JSON::Array pages;
  for (const auto& p : form.pages) {
    Poco::JSON::Object po(Poco::JSON_PRESERVE_KEY_ORDER);
    po.set("id", p.id);
    po.set("title", p.title);
    put_if(po, "hint", p.hint);
    put_if(po, "showIf", p.show_if);
    if (p.exit) po.set("exit", true);
    put_if(po, "text", p.text);
    Poco::JSON::Array qs;
    for (const auto& q : p.questions) qs.add(question_json(q));
    po.set("questions", qs);
    if (!p.routes.empty()) {
      Poco::JSON::Array routes;
      for (const auto& route : p.routes) {
        Poco::JSON::Object ro(Poco::JSON_PRESERVE_KEY_ORDER);
        ro.set("when", route.when);
        ro.set("goTo", route.go_to);
        routes.add(ro);
      }
      po.set("routes", routes);
    }
    pages.add(po);
  }
  o.set("pages", pages);
  if (!form.rules.empty()) {
    Poco::JSON::Array rules;
    for (const auto& rule : form.rules) {
      Poco::JSON::Object ro(Poco::JSON_PRESERVE_KEY_ORDER);
      ro.set("check", rule.check);
      ro.set("message", rule.message);
      ro.set("field", rule.field);
      rules.add(ro);
    }
    o.set("rules", rules);
  }
  if (!form.outputs.xml_namespace.empty() || !form.outputs.xml_root.empty()) {
    Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
    put_if(out, "xmlNamespace", form.outputs.xml_namespace);
    put_if(out, "xmlRoot", form.outputs.xml_root);
    o.set("outputs", out);
  }
  std::ostringstream s;
  o.stringify(s, 2);
  return s.str();
}

}  // namespace mvsp::forms
