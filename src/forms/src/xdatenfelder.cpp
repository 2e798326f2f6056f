#include <mvsp/forms/xdatenfelder.hpp>
// An XDatenfelder file is read in two steps: libxml2's tree becomes a small model of the
// FIM elements (every problem found on the way named with its line), and only a file
// without problems is mapped to a form. Keeping the steps apart lets the mapping report
// what it cannot carry over without mixing that up with what makes a file invalid.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include "logic.hpp"

namespace mvsp::forms {

namespace {

constexpr std::string_view kNamespaceV2 = "urn:xoev-de:fim:standard:xdatenfelder_2";
constexpr std::string_view kNamespaceV3 = "urn:xoev-de:fim:standard:xdatenfelder_3.0.0";
constexpr std::string_view kGenericodeNamespace =
    "http://docs.oasis-open.org/codelist/ns/genericode/1.0/";
constexpr std::size_t kMaxFileSize = 32 * 1024 * 1024;
constexpr std::size_t kMaxFolderFiles = 2000;
constexpr int kMaxCount = 100;                // the form model's most items of a group
constexpr std::int64_t kLongTextAbove = 200;  // maxLength above which answers get a text area
constexpr std::size_t kSelectFrom = 11;       // options from which a choice is a select list
constexpr std::size_t kMaxRuleText = 400;     // of a rule's text quoted in the report
constexpr int kParseOptions =
    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES;
constexpr std::string_view kRuleReason =
    "Regeln aus FIM werden nicht automatisch übernommen: bitte im Editor als Bedingung oder "
    "Prüfregel nachbilden.";

// ---- libxml2 ----

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;
struct ParserFree {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

std::string str(const xmlChar* s) {
  return s ? reinterpret_cast<const char*>(s) : "";
}

std::string take(xmlChar* s) {
  auto out = str(s);
  xmlFree(s);
  return out;
}

const xmlChar* x(const char* s) {
  return reinterpret_cast<const xmlChar*>(s);
}

int line_of(const xmlNode* n) {
  return static_cast<int>(xmlGetLineNo(n));
}

std::string at_line(long line) {
  return fmt::format("line {}", std::max(line, 1L));
}

// FIM texts are indented with the XML: runs of white space are one space.
std::string collapse(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string content(const xmlNode* n) {
  return n ? collapse(take(xmlNodeGetContent(n))) : std::string();
}

struct Parsed {
  Doc doc;
  std::optional<core::FieldError> error;
};

// No DTD, no entities from outside, no network: XDatenfelder and genericode files have
// none of these, so a file that declares a document type is refused rather than read.
Parsed parse_xml(std::string_view text) {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  if (text.size() > kMaxFileSize)
    return {nullptr, core::FieldError{at_line(1), fmt::format("Die Datei ist größer als {} MB.",
                                                              kMaxFileSize / 1024 / 1024)}};
  std::unique_ptr<xmlParserCtxt, ParserFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) throw core::Failure("libxml2 has no parser context (out of memory)");
  Doc doc(xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()), nullptr,
                            nullptr, kParseOptions));
  if (!doc) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    std::string why = e && e->message ? collapse(e->message) : "unbekannter Fehler";
    return {nullptr,
            core::FieldError{at_line(e ? e->line : 1),
                             fmt::format("Die Datei ist kein wohlgeformtes XML ({}).", why)}};
  }
  if (doc->intSubset || doc->extSubset) {
    auto doctype = text.find("<!DOCTYPE");
    auto line = doctype == std::string_view::npos
                    ? 1
                    : 1 + std::count(text.begin(), text.begin() + doctype, '\n');
    return {nullptr, core::FieldError{
                         at_line(line),
                         "Die Datei enthält eine DOCTYPE-Deklaration. XDatenfelder-Dateien "
                         "brauchen keine; aus Sicherheitsgründen wird die Datei nicht gelesen."}};
  }
  if (!xmlDocGetRootElement(doc.get()))
    return {nullptr, core::FieldError{at_line(1), "Die Datei hat kein Wurzelelement."}};
  return {std::move(doc), std::nullopt};
}

// Elements of one namespace by local name. The codes inside code-typed elements (<code>)
// carry no namespace in XÖV, so elements without one count as well.
class Names {
 public:
  explicit Names(std::string ns) : ns_(std::move(ns)) {}
  bool is(const xmlNode* n, std::string_view name) const {
    return n && n->type == XML_ELEMENT_NODE && str(n->name) == name &&
           (!n->ns || str(n->ns->href) == ns_);
  }
  std::vector<const xmlNode*> all(const xmlNode* parent, std::string_view name) const {
    std::vector<const xmlNode*> out;
    for (const xmlNode* c = parent ? parent->children : nullptr; c; c = c->next) {
      if (is(c, name)) out.push_back(c);
    }
    return out;
  }
  const xmlNode* first(const xmlNode* parent, std::string_view name) const {
    auto found = all(parent, name);
    return found.empty() ? nullptr : found.front();
  }
  static std::vector<const xmlNode*> elements(const xmlNode* parent) {
    std::vector<const xmlNode*> out;
    for (const xmlNode* c = parent ? parent->children : nullptr; c; c = c->next) {
      if (c->type == XML_ELEMENT_NODE) out.push_back(c);
    }
    return out;
  }

 private:
  std::string ns_;
};

// ---- text helpers ----

// A code point as lower-case ASCII for ids and keys: umlauts spelt out as in German,
// accents dropped; "" for anything that only separates words.
std::string ascii_of(char32_t c) {
  if (c < 0x80) {
    char a = static_cast<char>(c);
    if (a >= 'A' && a <= 'Z') return std::string(1, static_cast<char>(a - 'A' + 'a'));
    if ((a >= 'a' && a <= 'z') || (a >= '0' && a <= '9')) return std::string(1, a);
    return {};
  }
  switch (c) {
    case U'ä':
    case U'Ä':
    case U'æ':
    case U'Æ':
      return "ae";
    case U'ö':
    case U'Ö':
    case U'œ':
    case U'Œ':
      return "oe";
    case U'ü':
    case U'Ü':
      return "ue";
    case U'ß':
    case U'ẞ':
      return "ss";
    case U'þ':
    case U'Þ':
      return "th";
    default:
      break;
  }
  static constexpr std::pair<char32_t, char> kAccents[] = {
      {U'à', 'a'}, {U'á', 'a'}, {U'â', 'a'}, {U'ã', 'a'}, {U'å', 'a'}, {U'ç', 'c'}, {U'è', 'e'},
      {U'é', 'e'}, {U'ê', 'e'}, {U'ë', 'e'}, {U'ì', 'i'}, {U'í', 'i'}, {U'î', 'i'}, {U'ï', 'i'},
      {U'ð', 'd'}, {U'ñ', 'n'}, {U'ò', 'o'}, {U'ó', 'o'}, {U'ô', 'o'}, {U'õ', 'o'}, {U'ø', 'o'},
      {U'ù', 'u'}, {U'ú', 'u'}, {U'û', 'u'}, {U'ý', 'y'}, {U'ÿ', 'y'}, {U'À', 'a'}, {U'Á', 'a'},
      {U'Â', 'a'}, {U'Ã', 'a'}, {U'Å', 'a'}, {U'Ç', 'c'}, {U'È', 'e'}, {U'É', 'e'}, {U'Ê', 'e'},
      {U'Ë', 'e'}, {U'Ì', 'i'}, {U'Í', 'i'}, {U'Î', 'i'}, {U'Ï', 'i'}, {U'Ð', 'd'}, {U'Ñ', 'n'},
      {U'Ò', 'o'}, {U'Ó', 'o'}, {U'Ô', 'o'}, {U'Õ', 'o'}, {U'Ø', 'o'}, {U'Ù', 'u'}, {U'Ú', 'u'},
      {U'Û', 'u'}, {U'Ý', 'y'}};
  for (auto [from, to] : kAccents) {
    if (from == c) return std::string(1, to);
  }
  return {};
}

// Words of `text` in lower-case ASCII joined by `separator`, at most `max` characters.
std::string slug(std::string_view text, char separator, std::size_t max) {
  std::string out;
  bool pending = false;
  for (std::size_t i = 0; i < text.size();) {
    auto b = static_cast<unsigned char>(text[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
    char32_t c = len == 1 ? b : b & (0x3F >> (len - 1));
    for (int k = 1; k < len && i + k < text.size(); ++k)
      c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    i += static_cast<std::size_t>(len);
    auto a = ascii_of(c);
    if (a.empty()) {
      pending = true;
      continue;
    }
    if (pending && !out.empty()) out += separator;
    pending = false;
    out += a;
  }
  if (out.size() > max) out.resize(max);
  while (!out.empty() && out.back() == separator) out.pop_back();
  return out;
}

std::optional<std::int64_t> whole_number(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// "1,5" as FIM editors write it, "1.5" as the form model keeps it.
std::optional<std::string> number_bound(std::string s) {
  if (s.find('.') == std::string::npos) std::replace(s.begin(), s.end(), ',', '.');
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return s;
}

// "2026-01-31", or "31.01.2026" as ISO.
std::optional<std::string> date_bound_of(const std::string& s) {
  std::string iso = s;
  if (s.size() == 10 && s[2] == '.' && s[5] == '.')
    iso = s.substr(6, 4) + "-" + s.substr(3, 2) + "-" + s.substr(0, 2);
  if (!expr::parse_iso_date(iso)) return std::nullopt;
  return iso;
}

// ---- the model of a FIM file ----

struct Multiplicity {
  int min = 1;
  int max = 1;
  bool unbounded = false;
  std::string text = "1:1";
  bool repeats() const { return unbounded || max > 1; }
};

struct Constraints {
  std::map<std::string, std::string> values;  // minLength, maxLength, minValue, maxValue, pattern
  std::vector<std::string> unknown;           // other keys, reported
  std::string unreadable;                     // a v2 praezisierung that is no JSON object
};

struct CodeListRef {
  std::string urn;          // canonicalIdentification
  std::string version_urn;  // canonicalVersionUri
};

struct Member;

struct Element {
  std::string kind;  // "Stammdatenschema", "Datenfeldgruppe", "Datenfeld"
  std::string id, version, name, label, hint;
  // Datenfeld
  std::string feldart, datentyp, inhalt, vorbefuellung;
  Constraints constraints;
  std::optional<CodeListRef> code_list;
  std::string code_key, name_key;
  std::vector<Option> values;
  std::string max_size;
  std::vector<std::string> media_types;
  // Stammdatenschema and Datenfeldgruppe
  std::vector<Member> members;

  std::string title() const { return label.empty() ? name : label; }
  std::string what() const { return fmt::format("{} {} ({})", kind, id, title()); }
};

struct Member {
  Multiplicity count;
  Element element;
};

struct RuleInfo {
  std::string id, version, name, text;
  bool script = false;
  std::vector<std::string> on;  // ids of the elements it is attached to
};

// Step one: libxml2's tree to the model, with every problem and its line.
class Reader {
 public:
  Reader(std::string ns, bool v3) : xml_(std::move(ns)), v3_(v3) {}

  std::vector<core::FieldError> problems;
  std::vector<RuleInfo> rules;

  void problem(const xmlNode* n, std::string message) {
    problems.push_back({at_line(line_of(n)), std::move(message)});
  }

  Element group(const xmlNode* n, std::string kind) {
    Element g;
    g.kind = std::move(kind);
    common(n, g);
    for (const auto* r : xml_.all(n, "regel")) rule(r, g);
    for (const auto* s : xml_.all(n, "struktur")) structure(s, g);
    remember(n, g);
    return g;
  }

  const Names& names() const { return xml_; }

 private:
  // An element the schema allows once: a second one is a problem.
  const xmlNode* once(const xmlNode* parent, std::string_view name) {
    auto found = xml_.all(parent, name);
    if (found.size() > 1) {
      if (name == "id") {
        problem(found[1], fmt::format("Die ID „{}“ kommt zweimal vor.", content(found[1])));
      } else {
        problem(found[1], fmt::format("Das Element „{}“ darf in „{}“ nur einmal vorkommen.", name,
                                      str(parent->name)));
      }
    }
    return found.empty() ? nullptr : found.front();
  }

  std::string text(const xmlNode* parent, std::string_view name) {
    return content(once(parent, name));
  }

  // The code of a code-typed element (<status><code>aktiv</code></status>) and where it is.
  std::pair<std::string, const xmlNode*> code(const xmlNode* n) {
    const auto* c = once(n, "code");
    return {c ? content(c) : content(n), c ? c : n};
  }

  struct Identification {
    std::string id, version;
  };
  std::optional<Identification> identification(const xmlNode* n) {
    const auto* ident = once(n, "identifikation");
    if (!ident) {
      problem(n,
              fmt::format("„{}“ hat keine Identifikation (identifikation mit id).", str(n->name)));
      return std::nullopt;
    }
    Identification out{text(ident, "id"), text(ident, "version")};
    if (out.id.empty()) {
      problem(ident, "Die ID (identifikation/id) fehlt.");
      return std::nullopt;
    }
    return out;
  }

  void status(const xmlNode* n) {
    if (const auto* s = once(n, "freigabestatus")) {
      auto [value, at] = code(s);
      static const std::set<std::string, std::less<>> kAllowed = {"1", "2", "3", "4",
                                                                  "5", "6", "7", "8"};
      if (!kAllowed.contains(value))
        problem(at, fmt::format("Der Freigabestatus „{}“ ist nicht gültig: erlaubt sind die "
                                "Codes 1 bis 8.",
                                value));
    }
    if (const auto* s = once(n, "status")) {
      auto [value, at] = code(s);
      if (value != "inVorbereitung" && value != "aktiv" && value != "inaktiv")
        problem(at, fmt::format("Der Status „{}“ ist nicht gültig: erlaubt sind inVorbereitung, "
                                "aktiv und inaktiv.",
                                value));
    }
  }

  void common(const xmlNode* n, Element& e) {
    if (auto ident = identification(n)) {
      e.id = std::move(ident->id);
      e.version = std::move(ident->version);
    }
    e.name = text(n, "name");
    e.label = text(n, "bezeichnungEingabe");
    e.hint = text(n, "hilfetextEingabe");
    if (e.hint.empty()) e.hint = text(n, "hilfetext");  // a Stammdatenschema's, in version 2
    once(n, "bezeichnungAusgabe");
    once(n, "schemaelementart");
    status(n);
    if (e.name.empty() && e.label.empty())
      problem(n, fmt::format("{} „{}“ hat weder name noch bezeichnungEingabe.", e.kind, e.id));
  }

  void rule(const xmlNode* n, const Element& on) {
    auto ident = identification(n);
    if (!ident) return;
    RuleInfo r{.id = std::move(ident->id), .version = std::move(ident->version)};
    status(n);
    r.name = text(n, "name");
    if (r.name.empty()) r.name = text(n, "bezeichnungEingabe");
    for (auto part : {"freitextRegel", "beschreibung", "definition"}) {
      r.text = text(n, part);
      if (!r.text.empty()) break;
    }
    r.script = !text(n, v3_ ? "skript" : "script").empty();
    auto same = std::find_if(rules.begin(), rules.end(), [&](const RuleInfo& x) {
      return x.id == r.id && x.version == r.version;
    });
    if (same == rules.end()) {
      r.on.push_back(on.id);
      rules.push_back(std::move(r));
    } else if (std::find(same->on.begin(), same->on.end(), on.id) == same->on.end()) {
      same->on.push_back(on.id);
    }
  }

  std::optional<Multiplicity> multiplicity(const xmlNode* n) {
    auto t = content(n);
    static const std::regex kPattern(R"(([0-9]{1,6}):([0-9]{1,6}|\*))");
    std::smatch m;
    // std::regex recurses per character: only a text as short as a multiplicity is tried
    if (t.size() > 16 || !std::regex_match(t, m, kPattern)) {
      problem(n, fmt::format("Die Anzahl „{}“ ist nicht lesbar: erwartet wird "
                             "„Mindestzahl:Höchstzahl“ wie „0:1“ oder „1:*“.",
                             t));
      return std::nullopt;
    }
    Multiplicity out;
    out.text = t;
    out.min = std::stoi(m[1].str());
    out.unbounded = m[2].str() == "*";
    out.max = out.unbounded ? out.min : std::stoi(m[2].str());
    if (!out.unbounded && (out.max < out.min || out.max == 0)) {
      problem(n, fmt::format("Die Anzahl „{}“ ist nicht lesbar: die Höchstzahl muss mindestens 1 "
                             "und nicht kleiner als die Mindestzahl sein.",
                             t));
      return std::nullopt;
    }
    return out;
  }

  void structure(const xmlNode* s, Element& g) {
    const auto* anzahl = once(s, "anzahl");
    const auto* enthaelt = once(s, "enthaelt");
    Multiplicity count;
    if (!anzahl) {
      problem(s, "Die Anzahl (anzahl) fehlt.");
    } else if (auto read = multiplicity(anzahl)) {
      count = *read;
    }
    if (!enthaelt) {
      problem(s, "„struktur“ ohne „enthaelt“: das enthaltene Element fehlt.");
      return;
    }
    auto inside = Names::elements(enthaelt);
    if (inside.size() != 1)
      problem(enthaelt, "„enthaelt“ enthält genau ein Datenfeld oder eine Datenfeldgruppe.");
    for (const auto* e : inside) {
      if (xml_.is(e, "datenfeldgruppe")) {
        g.members.push_back({count, group(e, "Datenfeldgruppe")});
      } else if (xml_.is(e, "datenfeld")) {
        g.members.push_back({count, field(e)});
      } else {
        problem(e, fmt::format("Unbekanntes Element „{}“ in „enthaelt“.", str(e->name)));
      }
    }
  }

  void constraints(const xmlNode* n, Constraints& c) {
    static constexpr std::array<std::string_view, 5> kKnown = {"minLength", "maxLength", "minValue",
                                                               "maxValue", "pattern"};
    auto known = [](std::string_view k) {
      return std::find(kKnown.begin(), kKnown.end(), k) != kKnown.end();
    };
    for (const xmlAttr* a = n->properties; a; a = a->next) {
      auto key = str(a->name);
      auto value = take(xmlNodeListGetString(n->doc, a->children, 1));
      if (known(key)) {
        c.values[key] = value;
      } else {
        c.unknown.push_back(key);
      }
    }
    // XDatenfelder 2 writes the precision as a JSON object in the element's text.
    auto t = content(n);
    if (t.empty() || (!c.values.empty() && !t.starts_with('{'))) return;
    try {
      Poco::JSON::Parser parser;
      auto o = parser.parse(t).extract<Poco::JSON::Object::Ptr>();
      for (const auto& [key, value] : *o) {
        if (value.isEmpty()) continue;
        if (known(key)) {
          c.values[key] = value.toString();
        } else {
          c.unknown.push_back(key);
        }
      }
    } catch (const Poco::Exception&) {
      c.unreadable = t;
    }
  }

  void code_list(const xmlNode* n, Element& f) {
    CodeListRef ref;
    for (const auto* where : {n, xml_.first(n, "genericodeIdentification")}) {
      if (!where) continue;
      if (auto u = content(xml_.first(where, "canonicalIdentification")); !u.empty()) ref.urn = u;
      if (auto u = content(xml_.first(where, "canonicalVersionUri")); !u.empty())
        ref.version_urn = u;
    }
    f.code_list = ref;
  }

  void values(const xmlNode* n, Element& f) {
    std::set<std::string> codes;
    for (const auto* w : xml_.all(n, "wert")) {
      Option o{text(w, "code"), text(w, "name")};
      if (o.value.empty()) {
        problem(w, "Ein Wert der Werteliste hat keinen Code.");
        continue;
      }
      if (!codes.insert(o.value).second) {
        problem(w, fmt::format("Der Code „{}“ kommt in der Werteliste zweimal vor.", o.value));
        continue;
      }
      if (o.label.empty()) o.label = o.value;
      f.values.push_back(std::move(o));
    }
  }

  Element field(const xmlNode* n) {
    Element f;
    f.kind = "Datenfeld";
    common(n, f);
    const auto* feldart = once(n, "feldart");
    const auto* datentyp = once(n, "datentyp");
    if (feldart) f.feldart = code(feldart).first;
    if (datentyp) f.datentyp = code(datentyp).first;
    if (f.feldart.empty()) problem(n, fmt::format("Das Datenfeld „{}“ hat keine Feldart.", f.id));
    if (f.datentyp.empty())
      problem(n, fmt::format("Das Datenfeld „{}“ hat keinen Datentyp.", f.id));
    if (const auto* p = once(n, "praezisierung")) constraints(p, f.constraints);
    // A second, empty <inhalt> occurs in exports; the first text is the content.
    for (const auto* i : xml_.all(n, "inhalt")) {
      if (f.inhalt.empty()) f.inhalt = content(i);
    }
    if (const auto* v = once(n, "vorbefuellung")) f.vorbefuellung = code(v).first;
    if (const auto* c = once(n, "codelisteReferenz")) code_list(c, f);
    if (const auto* w = once(n, "werte")) values(w, f);
    f.code_key = text(n, "codeKey");
    f.name_key = text(n, "nameKey");
    f.max_size = text(n, "maxSize");
    for (const auto* m : xml_.all(n, "mediaType")) f.media_types.push_back(content(m));
    for (const auto* r : xml_.all(n, "regel")) rule(r, f);
    remember(n, f);
    return f;
  }

  // FIM reuses an element by repeating it; one id and version with two meanings is an error.
  void remember(const xmlNode* n, const Element& e) {
    if (e.id.empty()) return;
    auto signature = fmt::format("{}|{}|{}|{}|{}|{}", e.kind, e.name, e.label, e.feldart,
                                 e.datentyp, e.members.size());
    auto [it, fresh] = seen_.try_emplace(e.id + "\n" + e.version, signature, line_of(n));
    if (!fresh && it->second.first != signature)
      problem(n, fmt::format("Die ID „{}“ kommt zweimal vor, mit verschiedenem Inhalt (zuerst in "
                             "Zeile {}).",
                             e.id, it->second.second));
  }

  Names xml_;
  bool v3_;
  std::map<std::string, std::pair<std::string, int>> seen_;
};

// ---- genericode ----

struct CodeList {
  std::vector<Option> options;
  int duplicates = 0;  // rows whose code came before
  int empty = 0;       // rows without a code
};

// The identification of a genericode file: its CanonicalUri and CanonicalVersionUri.
std::vector<std::string> genericode_ids(xmlDoc* doc) {
  const auto* root = xmlDocGetRootElement(doc);
  Names gc{std::string(kGenericodeNamespace)};
  if (!gc.is(root, "CodeList")) return {};
  const auto* ident = gc.first(root, "Identification");
  std::vector<std::string> out;
  for (auto name : {"CanonicalUri", "CanonicalVersionUri"}) {
    if (auto v = content(gc.first(ident, name)); !v.empty()) out.push_back(v);
  }
  return out;
}

std::string folded(std::string_view s) {
  return slug(s, '_', 100);
}

// The options of a genericode code list: the code from the key column (or `code_key`), the
// label from `name_key` or the column that names the entry.
std::expected<CodeList, std::string> read_genericode(std::string_view text,
                                                     const std::string& code_key,
                                                     const std::string& name_key) {
  auto parsed = parse_xml(text);
  if (!parsed.doc) return std::unexpected(parsed.error->message);
  const auto* root = xmlDocGetRootElement(parsed.doc.get());
  Names gc{std::string(kGenericodeNamespace)};
  if (!gc.is(root, "CodeList")) return std::unexpected("keine Genericode-Codeliste");
  const auto* set = gc.first(root, "ColumnSet");
  std::vector<std::pair<std::string, std::string>> columns;  // id, short name
  for (const auto* c : gc.all(set, "Column"))
    columns.emplace_back(take(xmlGetNoNsProp(c, x("Id"))), content(gc.first(c, "ShortName")));
  if (columns.empty()) return std::unexpected("keine Spalten");
  auto index_of = [&](const std::string& id) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (!id.empty() && columns[i].first == id) return i;
    }
    return std::nullopt;
  };
  auto code = index_of(code_key);
  if (!code) {
    if (const auto* ref = gc.first(gc.first(set, "Key"), "ColumnRef"))
      code = index_of(take(xmlGetNoNsProp(ref, x("Ref"))));
  }
  if (!code) code = 0;
  auto name = index_of(name_key);
  for (std::size_t i = 0; !name && i < columns.size(); ++i) {
    for (const auto& n : {columns[i].first, columns[i].second}) {
      auto f = folded(n);
      if (i != *code && (f == "name" || f == "beschreibung" || f == "bezeichnung" || f == "wert" ||
                         f == "label" || f == "text"))
        name = i;
    }
  }
  for (std::size_t i = 0; !name && i < columns.size(); ++i) {
    if (i != *code) name = i;
  }
  if (!name) name = code;
  CodeList out;
  std::set<std::string> seen;
  for (const auto* row : gc.all(gc.first(root, "SimpleCodeList"), "Row")) {
    std::vector<std::string> cells(columns.size());
    std::size_t next = 0;
    for (const auto* v : gc.all(row, "Value")) {
      auto ref = take(xmlGetNoNsProp(v, x("ColumnRef")));
      // Without ColumnRef a value belongs to the column after the previous one.
      auto at = ref.empty() ? std::optional<std::size_t>(next) : index_of(ref);
      if (at && *at < cells.size()) cells[*at] = content(gc.first(v, "SimpleValue"));
      next = at ? *at + 1 : next + 1;
    }
    Option o{cells[*code], cells[*name]};
    if (o.value.empty()) {
      ++out.empty;
      continue;
    }
    if (!seen.insert(o.value).second) {
      ++out.duplicates;
      continue;
    }
    if (o.label.empty()) o.label = o.value;
    out.options.push_back(std::move(o));
  }
  if (out.options.empty()) return std::unexpected("keine Einträge");
  return out;
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) ||
      std::filesystem::file_size(path, ec) > kMaxFileSize || ec)
    return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// ---- step two: the model to a form ----

class Mapper {
 public:
  explicit Mapper(const CodeListSource& code_list) : code_list_(code_list) {}

  Imported run(const Element& root, const std::vector<RuleInfo>& rules) {
    form_.key = slug(root.id + " " + (root.name.empty() ? root.label : root.name), '-', 80);
    if (form_.key.empty()) form_.key = "xdatenfelder";
    report_.form = form_.key;
    if (is_element_name(root.id)) form_.outputs.xml_root = root.id;
    form_.title = clip(root.title(), 500, root.what(), "Die Bezeichnung");
    form_.intro = clip(root.hint, 20'000, root.what(), "Der Hilfetext");
    std::optional<std::size_t> run;  // the page of the fields outside any group so far
    int runs = 0;
    for (const auto& m : root.members) {
      if (m.element.kind != "Datenfeld") {
        run.reset();
        page_of(m);
        continue;
      }
      if (!run) {
        auto title = runs++ == 0 ? form_.title : std::string("Weitere Angaben");
        form_.pages.push_back({.id = page_id(title), .title = title});
        run = form_.pages.size() - 1;
      }
      // The form's pages do not move while fields of a run are placed.
      Place p{&form_.pages[*run].questions, &top_, &root, nullptr, false};
      field(m, p);
    }
    std::erase_if(form_.pages, [](const Page& p) { return p.questions.empty(); });
    if (form_.pages.empty()) {
      unmapped(root.what(),
               "enthält keine Datenfelder, die sich als Fragen übernehmen lassen: das Formular "
               "hat nur eine Seite mit einem Hinweis und ist im Editor zu ergänzen.");
      Question info{.id = "hinweis", .type = QuestionType::info, .required = false};
      info.text = "Dieses Formular enthält noch keine Fragen. Bitte ergänzen Sie es im Editor.";
      form_.pages.push_back({.id = page_id("hinweis"), .title = form_.title, .questions = {info}});
    }
    for (const auto& r : rules) {
      auto what = fmt::format("Regel {} ({}) an {}", r.id, r.name, fmt::join(r.on, ", "));
      if (!r.text.empty()) {
        auto text = r.text;
        if (text.size() > kMaxRuleText) {
          std::size_t cut = kMaxRuleText;
          while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
          text = text.substr(0, cut) + " …";
        }
        what += ": " + text;
      }
      if (r.script) what += " (mit Skript)";
      unmapped(std::move(what), std::string(kRuleReason));
    }
    report_.rules = static_cast<int>(rules.size());
    report_.pages = static_cast<int>(form_.pages.size());
    return {std::move(form_), std::move(report_)};
  }

 private:
  // The names already taken where questions go: in the form, or in one group.
  struct Scope {
    std::set<std::string> ids;
    std::set<std::string> xml_names;
  };
  // Where the questions of a FIM group go.
  struct Place {
    std::vector<Question>* out;
    Scope* scope;
    const Element* parent;  // the FIM element they come from
    const Question* group;  // inside a repeatable group: that group
    bool optional;          // an enclosing group may be left out entirely
  };

  void unmapped(std::string what, std::string reason) {
    report_.unmapped.push_back({std::move(what), std::move(reason)});
  }

  // parse_form reads texts up to these lengths; longer ones are cut, and said so.
  std::string clip(std::string s, std::size_t max, const std::string& what, std::string_view part) {
    if (s.size() <= max) return s;
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    unmapped(what, fmt::format("{} ist länger als {} Zeichen und wurde gekürzt.", part, max));
    return s;
  }

  static std::string unique(std::set<std::string>& taken, const std::string& base) {
    auto id = base;
    for (int n = 2; !taken.insert(id).second; ++n) id = fmt::format("{}_{}", base, n);
    return id;
  }

  static std::string id_base(std::string_view text, std::string_view fallback) {
    auto base = slug(text, '_', 56);
    if (base.empty()) base = fallback;
    if (base[0] < 'a' || base[0] > 'z') base = std::string(fallback.substr(0, 1)) + "_" + base;
    return base;
  }

  std::string page_id(std::string_view title) { return unique(page_ids_, id_base(title, "seite")); }

  std::string question_id(Scope& scope, const Element& e) {
    return unique(scope.ids, id_base(e.name.empty() ? e.label : e.name, "feld"));
  }

  // The FIM id is the element name; a field that occurs twice among the same siblings gets
  // its group's id in front.
  std::string xml_name(Scope& scope, const Element& e, const Element& parent,
                       const std::string& id) {
    std::string base = e.id;
    if (!is_element_name(base)) {
      Question q;
      q.id = id;
      base = element_name(q);
    }
    if (!scope.xml_names.contains(base)) return unique(scope.xml_names, base);
    auto prefixed = parent.id + "_" + base;
    return unique(scope.xml_names, is_element_name(prefixed) ? prefixed : base);
  }

  // A group's items: "*" and more than the form allows become its maximum, and are reported.
  std::pair<int, int> counts(const Member& m, bool optional) {
    int max = m.count.unbounded ? kMaxCount : m.count.max;
    if (m.count.unbounded || m.count.max > kMaxCount) {
      max = kMaxCount;
      unmapped(m.element.what(),
               fmt::format("darf {} vorkommen ({}); das Formular erlaubt höchstens {} Einträge.",
                           m.count.unbounded ? std::string("beliebig oft")
                                             : fmt::format("mehr als {}-mal", kMaxCount),
                           m.count.text, kMaxCount));
    }
    int min = std::min(m.count.min, max);
    if (optional && min > 0) {
      ++made_optional_;
      min = 0;
    }
    return {min, max};
  }

  void count_code_list(const std::string& key) {
    if (code_lists_.insert(key).second) ++report_.code_lists;
  }

  void page_of(const Member& m) {
    const auto& g = m.element;
    ++report_.groups;
    Page page{.id = page_id(g.name.empty() ? g.label : g.name),
              .title = clip(g.title(), 500, g.what(), "Die Bezeichnung"),
              .hint = clip(g.hint, 4000, g.what(), "Der Hilfetext")};
    Place p{&page.questions, &top_, &g, nullptr, false};
    if (m.count.repeats()) {
      if (auto q = repeatable(m, p)) page.questions.push_back(std::move(*q));
    } else {
      optional_members(m, p);
    }
    if (page.questions.empty()) {
      unmapped(g.what(),
               "enthält keine Datenfelder, die sich als Fragen übernehmen lassen: keine Seite "
               "angelegt.");
      return;
    }
    form_.pages.push_back(std::move(page));
  }

  // The members of a group that occurs at most once; one that may be left out makes its
  // fields optional, which is said once, for the outermost such group.
  void optional_members(const Member& m, Place p) {
    bool outermost = m.count.min == 0 && !p.optional;
    p.optional = p.optional || m.count.min == 0;
    p.parent = &m.element;
    int before = made_optional_;
    members(m.element, p);
    if (outermost && made_optional_ > before)
      unmapped(m.element.what(),
               fmt::format("darf fehlen ({}): ihre Pflichtfelder sind freiwillig geworden, denn "
                           "das Formular kennt keine Gruppe, die nur ganz oder gar nicht "
                           "ausgefüllt wird. Bitte im Editor prüfen (etwa mit einer Ja/Nein-Frage "
                           "und Bedingungen).",
                           m.count.text));
  }

  void members(const Element& g, const Place& p) {
    for (const auto& m : g.members) {
      if (m.element.kind == "Datenfeld") {
        field(m, p);
      } else {
        nested(m, p);
      }
    }
  }

  // A group inside a page: a repeatable one stays a group; one that occurs once is
  // flattened under a heading with its label and help text.
  void nested(const Member& m, const Place& p) {
    const auto& g = m.element;
    ++report_.groups;
    if (!p.group && m.count.repeats()) {
      if (auto q = repeatable(m, p)) p.out->push_back(std::move(*q));
      return;
    }
    if (p.group)
      unmapped(g.what(),
               fmt::format("steht in der wiederholbaren Gruppe „{}“; Gruppen lassen sich nicht "
                           "schachteln: ihre Felder gehören nun zu „{}“{}.",
                           p.group->label, p.group->label,
                           m.count.repeats()
                               ? fmt::format(" und werden je Eintrag einmal gefragt (Anzahl {})",
                                             m.count.text)
                               : ""));
    std::vector<Question> inside;
    Place in = p;
    in.out = &inside;
    optional_members(m, in);
    if (inside.empty()) {
      unmapped(g.what(), "enthält keine Datenfelder, die sich als Fragen übernehmen lassen.");
      return;
    }
    Question heading{.id = unique(p.scope->ids, id_base(g.name.empty() ? g.label : g.name, "feld")),
                     .type = QuestionType::info,
                     .label = clip(g.title(), 1000, g.what(), "Die Bezeichnung"),
                     .required = false};
    heading.text = clip(g.hint, 20'000, g.what(), "Der Hilfetext");
    p.out->push_back(std::move(heading));
    std::move(inside.begin(), inside.end(), std::back_inserter(*p.out));
  }

  std::optional<Question> repeatable(const Member& m, const Place& p) {
    const auto& g = m.element;
    Question q{.id = question_id(*p.scope, g), .type = QuestionType::group};
    q.label = clip(g.title(), 1000, g.what(), "Die Bezeichnung");
    q.hint = clip(g.hint, 4000, g.what(), "Der Hilfetext");
    q.item_label = clip(g.title(), 200, g.what(), "Die Bezeichnung als Eintrag");
    std::tie(q.min_count, q.max_count) = counts(m, p.optional);
    q.xml_name = xml_name(*p.scope, g, *p.parent, q.id);
    Scope scope;
    Place in{&q.questions, &scope, &g, &q, false};
    members(g, in);
    if (q.questions.empty()) {
      p.scope->ids.erase(q.id);
      p.scope->xml_names.erase(q.xml_name);
      unmapped(g.what(), "enthält keine Datenfelder, die sich als Fragen übernehmen lassen.");
      return std::nullopt;
    }
    return q;
  }

  void field(const Member& m, const Place& p) {
    const auto& f = m.element;
    ++report_.fields;
    auto q = question_of(f, *p.scope, *p.parent);
    if (!q) return;
    if (q->type == QuestionType::info) {
      p.out->push_back(std::move(*q));
      return;
    }
    q->required = m.count.min > 0;
    if (q->required && p.optional) {
      ++made_optional_;
      q->required = false;
    }
    if (!m.count.repeats()) {
      p.out->push_back(std::move(*q));
      return;
    }
    if (p.group) {
      unmapped(f.what(),
               fmt::format("darf mehrfach vorkommen ({}), steht aber in der wiederholbaren Gruppe "
                           "„{}“; Gruppen lassen sich nicht schachteln: es wird je Eintrag einmal "
                           "gefragt.",
                           m.count.text, p.group->label));
      p.out->push_back(std::move(*q));
      return;
    }
    // A field that repeats is a group of one question: "Weitere … hinzufügen".
    Question g{.id = q->id, .type = QuestionType::group, .label = q->label};
    g.item_label = clip(q->label, 200, f.what(), "Die Bezeichnung als Eintrag");
    std::tie(g.min_count, g.max_count) = counts(m, p.optional);
    g.xml_name = q->xml_name;
    q->xml_name = "Wert";
    q->required = true;
    g.questions.push_back(std::move(*q));
    p.out->push_back(std::move(g));
  }

  std::optional<Question> question_of(const Element& f, Scope& scope, const Element& parent) {
    auto what = f.what();
    Question q;
    q.label = clip(f.title(), 1000, what, "Die Bezeichnung");
    q.hint = clip(f.hint, 4000, what, "Der Hilfetext");
    bool text_like = false;
    if (f.feldart == "label") {
      q.type = QuestionType::info;
      q.required = false;
      auto text = f.inhalt.empty() ? f.hint : f.hint.empty() ? f.inhalt : f.inhalt + " " + f.hint;
      q.text = clip(text, 20'000, what, "Der Text");
      q.hint.clear();
    } else if (f.feldart == "hidden") {
      unmapped(what,
               "Verborgene Felder (Feldart hidden) werden nicht übernommen: sie sind keine Frage "
               "an Antragstellende; ein fester Wert gehört in die Verarbeitung.");
      return std::nullopt;
    } else if (f.feldart == "locked") {
      unmapped(what,
               "Gesperrte Felder (Feldart locked) werden nicht übernommen: das Formular kennt "
               "keine Felder mit einem vorgegebenen, unveränderlichen Wert.");
      return std::nullopt;
    } else if (f.feldart == "select") {
      if (auto options = options_of(f, what)) {
        q.type = QuestionType::choice;
        q.options = std::move(*options);
        q.select = q.options.size() >= kSelectFrom;
        if (f.code_list)
          q.code_list =
              clip(f.code_list->version_urn.empty() ? f.code_list->urn : f.code_list->version_urn,
                   500, what, "Die URN der Codeliste");
      } else {
        q.type = QuestionType::text;
        text_like = true;
      }
    } else if (f.feldart == "input") {
      if (!input_type(f, q, what)) return std::nullopt;
      text_like = q.type == QuestionType::text;
    } else {
      unmapped(what, fmt::format("Die Feldart „{}“ ist unbekannt: das Feld wurde nicht "
                                 "übernommen.",
                                 f.feldart));
      return std::nullopt;
    }
    if (q.type != QuestionType::info) {
      apply(f.constraints, q, what);
      if (text_like && q.max_length && *q.max_length > kLongTextAbove)
        q.type = QuestionType::long_text;
      if (!f.inhalt.empty())
        unmapped(what, fmt::format("Die Vorbelegung „{}“ (inhalt) wird nicht übernommen: das "
                                   "Formular kennt keine vorgegebenen Antworten.",
                                   f.inhalt));
      if (!f.vorbefuellung.empty() && f.vorbefuellung != "keine")
        unmapped(what, fmt::format("Die Vorbefüllung „{}“ wird nicht übernommen: bitte im "
                                   "Editor eine Vorbelegung aus dem Nutzerkonto wählen, wo es "
                                   "passt.",
                                   f.vorbefuellung));
    }
    if ((!f.max_size.empty() || !f.media_types.empty()) && q.type != QuestionType::info) {
      std::vector<std::string> parts;
      if (!f.max_size.empty()) parts.push_back("Höchstgröße " + f.max_size);
      for (const auto& t : f.media_types) parts.push_back("Dateityp " + t);
      unmapped(what, fmt::format("{} werden nicht übernommen: Nachweise nimmt der Antrag "
                                 "entgegen, nicht das Formular.",
                                 fmt::join(parts, ", ")));
    }
    q.id = question_id(scope, f);
    if (q.type != QuestionType::info) q.xml_name = xml_name(scope, f, parent, q.id);
    return q;
  }

  // The question type of an input field by its data type; false when there is none.
  bool input_type(const Element& f, Question& q, const std::string& what) {
    const auto& t = f.datentyp;
    if (t == "text") {
      q.type = QuestionType::text;
    } else if (t == "text_latin") {
      q.type = QuestionType::text;
      unmapped(what,
               "Der Datentyp text_latin (Zeichen nach DIN SPEC 91379) wird als Text übernommen; "
               "welche Zeichen erlaubt sind, prüft das Formular nicht.");
    } else if (t == "date") {
      q.type = QuestionType::date;
    } else if (t == "time") {
      q.type = QuestionType::text;
      q.pattern = "([01][0-9]|2[0-3]):[0-5][0-9]";
      q.pattern_message = "Bitte geben Sie eine Uhrzeit wie 14:30 an.";
    } else if (t == "datetime") {
      q.type = QuestionType::text;
      unmapped(what,
               "Der Datentyp datetime (Datum und Uhrzeit) wird als Text übernommen: bitte im "
               "Editor als Datum und Uhrzeit in zwei Fragen aufteilen.");
    } else if (t == "bool") {
      q.type = QuestionType::yes_no;
    } else if (t == "num") {
      q.type = QuestionType::decimal;
    } else if (t == "num_int") {
      q.type = QuestionType::integer;
    } else if (t == "num_currency") {
      q.type = QuestionType::money;
    } else if (t == "file") {
      q.type = QuestionType::file;
    } else if (t == "obj") {
      unmapped(what,
               "Der Datentyp obj (ein statisches Objekt wie ein Bild) wird nicht übernommen: das "
               "Formular kennt nur Text als Inhalt.");
      return false;
    } else {
      unmapped(what,
               fmt::format("Der Datentyp „{}“ ist unbekannt: das Feld wurde nicht übernommen.", t));
      return false;
    }
    return true;
  }

  std::optional<std::vector<Option>> options_of(const Element& f, const std::string& what) {
    std::vector<Option> options;
    if (!f.values.empty()) {
      count_code_list("werte\n" + f.id + "\n" + f.version);
      options = f.values;
    } else if (f.code_list && (!f.code_list->urn.empty() || !f.code_list->version_urn.empty())) {
      std::optional<std::string> text;
      auto used = f.code_list->version_urn.empty() ? f.code_list->urn : f.code_list->version_urn;
      for (const auto& urn : {f.code_list->version_urn, f.code_list->urn}) {
        if (urn.empty() || text) continue;
        if ((text = code_list_(urn))) used = urn;
      }
      if (!text) {
        unmapped(what, fmt::format("Die Codeliste „{}“ wurde nicht gefunden: das Auswahlfeld "
                                   "wurde als Textfeld übernommen.",
                                   used));
        return std::nullopt;
      }
      auto list = read_genericode(*text, f.code_key, f.name_key);
      if (!list) {
        unmapped(what, fmt::format("Die Codeliste „{}“ ist nicht lesbar ({}): das Auswahlfeld "
                                   "wurde als Textfeld übernommen.",
                                   used, list.error()));
        return std::nullopt;
      }
      if (list->duplicates > 0 || list->empty > 0)
        unmapped(what, fmt::format("Die Codeliste „{}“ hat {} Zeilen ohne Code und {} mit einem "
                                   "Code, der schon vorkam: sie wurden ausgelassen.",
                                   used, list->empty, list->duplicates));
      count_code_list(used);
      options = std::move(list->options);
    } else {
      unmapped(what,
               "Das Auswahlfeld hat weder eine Werteliste noch eine Codeliste: es wurde als "
               "Textfeld übernommen.");
      return std::nullopt;
    }
    std::erase_if(options, [&](const Option& o) {
      if (o.value.size() <= 200) return false;
      unmapped(what, fmt::format("Der Code „{}…“ ist länger als 200 Zeichen und wurde "
                                 "ausgelassen.",
                                 o.value.substr(0, 40)));
      return true;
    });
    for (auto& o : options) o.label = clip(o.label, 1000, what, "Die Bezeichnung eines Werts");
    if (options.empty()) return std::nullopt;
    return options;
  }

  // praezisierung: lengths and a pattern for text, bounds for numbers and dates. What does
  // not fit the question's type is reported.
  void apply(const Constraints& c, Question& q, const std::string& what) {
    bool text = q.type == QuestionType::text;
    bool number = q.type == QuestionType::integer || q.type == QuestionType::decimal ||
                  q.type == QuestionType::money;
    bool date = q.type == QuestionType::date;
    auto skip = [&](const std::string& key, const std::string& value, std::string_view why) {
      unmapped(what,
               fmt::format("Die Präzisierung {} „{}“ wird nicht übernommen: {}", key, value, why));
    };
    if (!c.unreadable.empty())
      unmapped(what, fmt::format("Die Präzisierung „{}“ wird nicht übernommen: sie ist kein "
                                 "lesbares JSON-Objekt.",
                                 c.unreadable));
    for (const auto& key : c.unknown)
      unmapped(what,
               fmt::format("Die Präzisierung „{}“ ist unbekannt und wird nicht übernommen.", key));
    for (const auto& [key, value] : c.values) {
      if (value.empty()) continue;
      if (key == "minLength" || key == "maxLength") {
        if (!text) {
          skip(key, value, "Längen gelten im Formular nur für Text.");
          continue;
        }
        auto n = whole_number(value);
        bool is_max = key == "maxLength";
        if (!n || *n < (is_max ? 1 : 0) || *n > 100'000) {
          skip(key, value, "keine Länge zwischen 0 und 100000.");
          continue;
        }
        (is_max ? q.max_length : q.min_length) = *n;
      } else if (key == "minValue" || key == "maxValue") {
        auto bound = number ? number_bound(value) : date ? date_bound_of(value) : std::nullopt;
        if (!number && !date) {
          skip(key, value, "Grenzen gelten im Formular nur für Zahlen, Geldbeträge und Daten.");
        } else if (!bound) {
          skip(key, value, number ? "keine Zahl." : "kein Datum wie 2026-01-31.");
        } else {
          (key == "minValue" ? q.min : q.max) = *bound;
        }
      } else if (key == "pattern") {
        if (!text) {
          skip(key, value, "Muster gelten im Formular nur für Text.");
        } else if (auto why = pattern_problem(value)) {
          skip(key, value, *why);
        } else {
          q.pattern = value;
          q.pattern_message.clear();
        }
      }
    }
    if (q.min_length && q.max_length && *q.min_length > *q.max_length) {
      skip("minLength", std::to_string(*q.min_length), "sie ist größer als maxLength.");
      q.min_length.reset();
    }
  }

  // FIM patterns are XML Schema expressions; the form checks ECMAScript ones against the
  // whole answer. The common subset means the same; the rest is reported.
  static std::optional<std::string> pattern_problem(const std::string& p) {
    if (p.size() > 500) return "länger als 500 Zeichen.";
    for (auto xsd_only : {"\\p{", "\\P{", "\\i", "\\I", "\\c", "\\C", "-["}) {
      if (p.find(xsd_only) != std::string::npos)
        return fmt::format("„{}“ gibt es nur in XML-Schema-Mustern; bitte im Editor nachbilden.",
                           xsd_only);
    }
    std::string why;
    if (!compile_pattern(p, why)) return "kein gültiges Muster: " + why;
    return std::nullopt;
  }

  const CodeListSource& code_list_;
  Form form_;
  ImportReport report_;
  Scope top_;
  std::set<std::string> page_ids_;
  std::set<std::string> code_lists_;
  int made_optional_ = 0;
};

core::Error invalid(std::vector<core::FieldError> problems) {
  auto e = core::Error::invalid("", "Die XDatenfelder-Datei ist nicht gültig.");
  e.fields = std::move(problems);
  return e;
}

}  // namespace

std::string report_json(const ImportReport& report) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("form", report.form);
  o.set("pages", report.pages);
  o.set("groups", report.groups);
  o.set("fields", report.fields);
  o.set("rules", report.rules);
  o.set("codeLists", report.code_lists);
  Poco::JSON::Array unmapped;
  for (const auto& u : report.unmapped) {
    Poco::JSON::Object x(Poco::JSON_PRESERVE_KEY_ORDER);
    x.set("what", u.what);
    x.set("reason", u.reason);
    unmapped.add(x);
  }
  o.set("unmapped", unmapped);
  std::ostringstream s;
  o.stringify(s, 2);
  return s.str();
}

core::Result<Imported> import_xdatenfelder(std::string_view xml, const CodeListSource& code_list) {
  auto parsed = parse_xml(xml);
  if (!parsed.doc) return core::fail(invalid({*parsed.error}));
  const auto* root = xmlDocGetRootElement(parsed.doc.get());
  int root_line = line_of(root);
  // libxml2 counts an element from the end of its start tag, and the root's attributes
  // often span lines: the line where it starts is the one a person looks for.
  auto qualified = root->ns && root->ns->prefix ? str(root->ns->prefix) + ":" + str(root->name)
                                                : str(root->name);
  if (auto at = xml.find("<" + qualified); at != std::string_view::npos)
    root_line = 1 + static_cast<int>(std::count(xml.begin(), xml.begin() + at, '\n'));
  auto ns = root->ns ? str(root->ns->href) : std::string();
  if (ns != kNamespaceV2 && ns != kNamespaceV3) {
    auto expected = fmt::format("erwartet wird XDatenfelder 2.0 („{}“) oder 3.0.0 („{}“).",
                                kNamespaceV2, kNamespaceV3);
    return core::fail(
        invalid({{at_line(root_line),
                  ns.empty() ? "Das Wurzelelement hat keinen Namensraum; " + expected
                             : fmt::format("Unbekannter Namensraum „{}“: {}", ns, expected)}}));
  }
  auto root_name = str(root->name);
  Reader reader(ns, ns == kNamespaceV3);
  const auto& names = reader.names();
  const xmlNode* top = nullptr;
  std::string kind;
  if (root_name.starts_with("xdatenfelder.")) {
    for (auto [name, k] : {std::pair{"stammdatenschema", "Stammdatenschema"},
                           std::pair{"datenfeldgruppe", "Datenfeldgruppe"}}) {
      auto found = names.all(root, name);
      if (found.size() > 1)
        return core::fail(invalid(
            {{at_line(line_of(found[1])), fmt::format("Das Element „{}“ darf in der Nachricht nur "
                                                      "einmal vorkommen.",
                                                      name)}}));
      if (!found.empty() && !top) {
        top = found.front();
        kind = k;
      }
    }
  }
  if (!top)
    return core::fail(invalid(
        {{at_line(root_line),
          fmt::format("Unbekanntes Wurzelelement „{}“: erwartet wird eine Nachricht "
                      "xdatenfelder.stammdatenschema oder xdatenfelder.datenfeldgruppe mit einem "
                      "Stammdatenschema oder einer Datenfeldgruppe.",
                      root_name)}}));
  auto model = reader.group(top, kind);
  if (!reader.problems.empty()) {
    std::stable_sort(reader.problems.begin(), reader.problems.end(),
                     [](const core::FieldError& a, const core::FieldError& b) {
                       return std::stoi(a.field.substr(5)) < std::stoi(b.field.substr(5));
                     });
    return core::fail(invalid(std::move(reader.problems)));
  }
  auto imported = Mapper(code_list).run(model, reader.rules);
  auto checked = check_form(std::move(imported.form));
  if (!checked) {
    auto e = std::move(checked.error());
    e.message = "Das aus der XDatenfelder-Datei erzeugte Formular ist nicht gültig.";
    return core::fail(std::move(e));
  }
  imported.form = std::move(*checked);
  return imported;
}

CodeListSource code_lists_in(std::filesystem::path folder) {
  struct Index {
    std::mutex mutex;
    bool read = false;
    std::map<std::string, std::filesystem::path, std::less<>> by_urn;
  };
  auto index = std::make_shared<Index>();
  return [folder = std::move(folder), index](std::string_view urn) -> std::optional<std::string> {
    std::lock_guard lock(index->mutex);
    bool plain_name = !urn.empty() && urn != "." && urn != ".." &&
                      urn.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
    if (plain_name) {
      for (auto ext : {"", ".xml", ".gc"}) {
        if (auto text = read_file(folder / (std::string(urn) + ext))) return text;
      }
    }
    if (!index->read) {
      index->read = true;
      std::error_code ec;
      std::size_t seen = 0;
      for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end;
           it.increment(ec)) {
        if (++seen > kMaxFolderFiles) break;
        auto ext = it->path().extension();
        if (ext != ".xml" && ext != ".gc") continue;
        auto text = read_file(it->path());
        if (!text) continue;
        auto parsed = parse_xml(*text);
        if (!parsed.doc) continue;
        for (const auto& id : genericode_ids(parsed.doc.get()))
          index->by_urn.try_emplace(id, it->path());
      }
    }
    auto it = index->by_urn.find(urn);
    if (it == index->by_urn.end()) return std::nullopt;
    return read_file(it->second);
  };
}

std::optional<std::string> read_xdatenfelder_file(const std::filesystem::path& path) {
  return read_file(path);
}

}  // namespace mvsp::forms
