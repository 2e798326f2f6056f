#include <mvsp/forms/outputs.hpp>
// XML and JSON of the answers, and their schemas, from one walk over the definition.

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <fmt/format.h>

#include <charconv>
#include <mvsp/core/text.hpp>
#include <set>
#include <sstream>

#include "logic.hpp"

namespace mvsp::forms {

namespace {

constexpr std::int64_t kDefaultMaxLength = 1000;
constexpr std::int64_t kDefaultMaxLongLength = 10'000;

// Answers hold no control characters but line breaks and tabs (the pages refuse them, and
// kept answers are checked), so escaping markup is all XML text needs.
std::string escape(std::string_view s) {
  return core::escape_markup(s);
}

std::string upper_camel(std::string_view key) {
  std::string out;
  bool up = true;
  for (char c : key) {
    if (c == '-' || c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

// cents → "12.50"
std::string euros(std::string_view cents) {
  std::int64_t v = 0;
  std::from_chars(cents.data(), cents.data() + cents.size(), v);
  auto a = v < 0 ? -v : v;
  return fmt::format("{}{}.{:02}", v < 0 ? "-" : "", a / 100, a % 100);
}

bool is_number_text(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size() &&
         s.find_first_of("eEnN") == std::string_view::npos;
}

expr::Type computed_type(const Form& form, const std::string& key) {
  if (!form.logic) return expr::Type::any;
  auto it = form.logic->questions.find(key);
  return it == form.logic->questions.end() ? expr::Type::any : it->second.value.type();
}

// Pages that a route can jump over, and pages that are asked only sometimes.
std::set<std::string> sometimes_pages(const Form& form) {
  std::set<std::string> out;
  for (std::size_t i = 0; i < form.pages.size(); ++i) {
    const auto& p = form.pages[i];
    if (!p.show_if.empty() || p.exit) out.insert(p.id);
    for (const auto& r : p.routes) {
      // a way that ends on an exit page produces no output
      const auto* target = form.page(r.go_to);
      if (target && target->exit) continue;
      for (std::size_t k = i + 1; k < form.pages.size() && form.pages[k].id != r.go_to; ++k)
        out.insert(form.pages[k].id);
    }
  }
  return out;
}

bool asked(const Question& q) {
  return q.type != QuestionType::info;
}

// ---- XML ----

void xml_question(std::string& out, const Form& form, const Question& q, const Answers& a,
                  const std::string& base, const std::string& logic_key, int indent) {
  std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  auto name = element_name(q);
  if (!parts_of(q.type).empty()) {
    std::string inner;
    for (const auto& p : parts_of(q.type)) {
      auto v = value_of(a, base + "." + std::string(p.key));
      if (!v.empty())
        inner += fmt::format("{}  <{}>{}</{}>\n", pad, p.element, escape(v), p.element);
    }
    if (!inner.empty()) out += fmt::format("{}<{}>\n{}{}</{}>\n", pad, name, inner, pad, name);
    return;
  }
  auto v = value_of(a, base);
  if (v.empty()) return;
  auto element = [&](const std::string& text) {
    out += fmt::format("{}<{}>{}</{}>\n", pad, name, text, name);
  };
  switch (q.type) {
    case QuestionType::money:
      element(euros(v));
      break;
    case QuestionType::yes_no:
    case QuestionType::declaration:
      element(v == "ja" ? "true" : "false");
      break;
    case QuestionType::multiple_choice:
    case QuestionType::file:
      for (const auto& item : split_lines(v)) element(escape(item));
      break;
    case QuestionType::computed:
      if (computed_type(form, logic_key) == expr::Type::number && !is_number_text(v)) return;
      element(escape(v));
      break;
    default:
      element(escape(v));
  }
}

// ---- XSD ----

std::string facets(const Question& q) {
  std::string f;
  auto bound = [&](const char* facet, const std::string& v) {
    if (!v.empty()) f += fmt::format("<xs:{} value=\"{}\"/>", facet, escape(v));
  };
  switch (q.type) {
    case QuestionType::integer:
      bound("minInclusive", q.min);
      bound("maxInclusive", q.max);
      return f.empty() ? "" : "<xs:restriction base=\"xs:integer\">" + f + "</xs:restriction>";
    case QuestionType::decimal:
    case QuestionType::money:
      if (q.type == QuestionType::money) f += "<xs:fractionDigits value=\"2\"/>";
      bound("minInclusive", q.min);
      bound("maxInclusive", q.max);
      return "<xs:restriction base=\"xs:decimal\">" + f + "</xs:restriction>";
    case QuestionType::choice:
    case QuestionType::multiple_choice:
      for (const auto& o : q.options)
        f += fmt::format("<xs:enumeration value=\"{}\"/>", escape(o.value));
      return "<xs:restriction base=\"xs:string\">" + f + "</xs:restriction>";
    case QuestionType::text:
    case QuestionType::long_text:
    case QuestionType::email:
    case QuestionType::phone: {
      if (q.min_length) f += fmt::format("<xs:minLength value=\"{}\"/>", *q.min_length);
      auto max = q.max_length.value_or(q.type == QuestionType::long_text ? kDefaultMaxLongLength
                                                                         : kDefaultMaxLength);
      f += fmt::format("<xs:maxLength value=\"{}\"/>", max);
      return "<xs:restriction base=\"xs:string\">" + f + "</xs:restriction>";
    }
    default:
      return "";
  }
}

std::string base_type(const Form& form, const Question& q, const std::string& logic_key) {
  switch (q.type) {
    case QuestionType::integer:
      return "xs:integer";
    case QuestionType::date:
      return "xs:date";
    case QuestionType::yes_no:
    case QuestionType::declaration:
      return "xs:boolean";
    case QuestionType::computed:
      return computed_type(form, logic_key) == expr::Type::number ? "xs:decimal" : "xs:string";
    default:
      return "xs:string";
  }
}

void xsd_question(std::string& out, const Form& form, const Question& q, bool always,
                  const std::string& logic_key, int indent) {
  std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  auto name = element_name(q);
  bool present = always && q.required && q.show_if.empty() && q.type != QuestionType::computed &&
                 q.type != QuestionType::file;
  std::string occurs = present ? "" : " minOccurs=\"0\"";
  if (q.type == QuestionType::multiple_choice)
    occurs += fmt::format(" maxOccurs=\"{}\"", q.options.size());
  if (q.type == QuestionType::file) occurs += " maxOccurs=\"unbounded\"";
  if (!parts_of(q.type).empty()) {
    out += fmt::format("{}<xs:element name=\"{}\"{}>\n{}  <xs:complexType>\n{}    <xs:sequence>\n",
                       pad, name, occurs, pad, pad);
    for (const auto& p : parts_of(q.type)) {
      bool part_present = q.required && p.key != "hausnummer";
      out += fmt::format("{}      <xs:element name=\"{}\"{}>", pad, p.element,
                         part_present ? "" : " minOccurs=\"0\"");
      out +=
          "<xs:simpleType><xs:restriction base=\"xs:string\"><xs:maxLength "
          "value=\"1000\"/></xs:restriction></xs:simpleType>";
      out += "</xs:element>\n";
    }
    out += fmt::format("{}    </xs:sequence>\n{}  </xs:complexType>\n{}</xs:element>\n", pad, pad,
                       pad);
    return;
  }
  auto restricted = facets(q);
  if (restricted.empty()) {
    out += fmt::format("{}<xs:element name=\"{}\" type=\"{}\"{}/>\n", pad, name,
                       base_type(form, q, logic_key), occurs);
  } else {
    out +=
        fmt::format("{}<xs:element name=\"{}\"{}><xs:simpleType>{}</xs:simpleType></xs:element>\n",
                    pad, name, occurs, restricted);
  }
}

// ---- JSON ----

Poco::Dynamic::Var json_value(const Form& form, const Question& q, const std::string& v,
                              const std::string& logic_key) {
  switch (q.type) {
    case QuestionType::integer:
    case QuestionType::money: {
      std::int64_t n = 0;
      std::from_chars(v.data(), v.data() + v.size(), n);
      return n;
    }
    case QuestionType::decimal: {
      double d = 0;
      std::from_chars(v.data(), v.data() + v.size(), d);
      return d;
    }
    case QuestionType::yes_no:
    case QuestionType::declaration:
      return v == "ja";
    case QuestionType::multiple_choice:
    case QuestionType::file: {
      Poco::JSON::Array arr;
      for (const auto& item : split_lines(v)) arr.add(item);
      return arr;
    }
    case QuestionType::computed:
      if (computed_type(form, logic_key) == expr::Type::number) {
        double d = 0;
        std::from_chars(v.data(), v.data() + v.size(), d);
        return d;
      }
      return v;
    default:
      return v;
  }
}

void json_questions(Poco::JSON::Object& into, const Form& form,
                    const std::vector<Question>& questions, const Answers& a,
                    const std::string& prefix, const std::string& group) {
  for (const auto& q : questions) {
    if (!asked(q)) continue;
    auto base = prefix + q.id;
    auto logic_key = group.empty() ? q.id : group + "." + q.id;
    if (q.type == QuestionType::group) {
      if (!a.contains(q.id)) continue;
      Poco::JSON::Array items;
      for (int i = 0, n = item_count(a, q); i < n; ++i) {
        Poco::JSON::Object item(Poco::JSON_PRESERVE_KEY_ORDER);
        json_questions(item, form, q.questions, a, fmt::format("{}[{}].", q.id, i), q.id);
        items.add(item);
      }
      into.set(q.id, items);
      continue;
    }
    if (!parts_of(q.type).empty()) {
      Poco::JSON::Object parts(Poco::JSON_PRESERVE_KEY_ORDER);
      for (const auto& p : parts_of(q.type)) {
        auto v = value_of(a, base + "." + std::string(p.key));
        if (!v.empty()) parts.set(std::string(p.key), v);
      }
      if (parts.size() > 0) into.set(q.id, parts);
      continue;
    }
    auto v = value_of(a, base);
    if (v.empty()) continue;
    if (q.type == QuestionType::computed && computed_type(form, logic_key) == expr::Type::number &&
        !is_number_text(v))
      continue;
    into.set(q.id, json_value(form, q, v, logic_key));
  }
}

Poco::JSON::Object schema_of(const Form& form, const Question& q, const std::string& logic_key) {
  Poco::JSON::Object s(Poco::JSON_PRESERVE_KEY_ORDER);
  if (!q.label.empty()) s.set("title", q.label);
  auto number_bounds = [&](double scale) {
    if (!q.min.empty()) s.set("minimum", std::stod(q.min) * scale);
    if (!q.max.empty()) s.set("maximum", std::stod(q.max) * scale);
  };
  switch (q.type) {
    case QuestionType::integer:
      s.set("type", "integer");
      number_bounds(1);
      break;
    case QuestionType::decimal:
      s.set("type", "number");
      number_bounds(1);
      break;
    case QuestionType::money:
      s.set("type", "integer");
      s.set("description", "Betrag in Cent");
      number_bounds(100);
      break;
    case QuestionType::date:
      s.set("type", "string");
      s.set("format", "date");
      s.set("pattern", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
      break;
    case QuestionType::yes_no:
    case QuestionType::declaration:
      s.set("type", "boolean");
      if (q.type == QuestionType::declaration && q.required) s.set("const", true);
      break;
    case QuestionType::choice: {
      s.set("type", "string");
      Poco::JSON::Array values;
      for (const auto& o : q.options) values.add(o.value);
      s.set("enum", values);
      break;
    }
    case QuestionType::multiple_choice: {
      s.set("type", "array");
      Poco::JSON::Object item;
      Poco::JSON::Array values;
      for (const auto& o : q.options) values.add(o.value);
      item.set("enum", values);
      s.set("items", item);
      s.set("uniqueItems", true);
      break;
    }
    case QuestionType::file: {
      s.set("type", "array");
      Poco::JSON::Object item;
      item.set("type", "string");
      s.set("items", item);
      break;
    }
    case QuestionType::computed:
      s.set("type", computed_type(form, logic_key) == expr::Type::number ? "number" : "string");
      break;
    default: {
      s.set("type", "string");
      if (q.min_length) s.set("minLength", *q.min_length);
      s.set("maxLength",
            q.max_length.value_or(q.type == QuestionType::long_text ? kDefaultMaxLongLength
                                                                    : kDefaultMaxLength));
    }
  }
  if (!parts_of(q.type).empty()) {
    Poco::JSON::Object compound(Poco::JSON_PRESERVE_KEY_ORDER);
    compound.set("title", q.label);
    compound.set("type", "object");
    Poco::JSON::Object props(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Array required;
    for (const auto& p : parts_of(q.type)) {
      Poco::JSON::Object ps;
      ps.set("type", "string");
      ps.set("maxLength", 1000);
      props.set(std::string(p.key), ps);
      if (q.required && p.key != "hausnummer") required.add(std::string(p.key));
    }
    compound.set("properties", props);
    compound.set("required", required);
    compound.set("additionalProperties", false);
    return compound;
  }
  return s;
}

void schema_questions(Poco::JSON::Object& props, Poco::JSON::Array& required, const Form& form,
                      const std::vector<Question>& questions, bool always,
                      const std::string& group) {
  for (const auto& q : questions) {
    if (!asked(q)) continue;
    auto logic_key = group.empty() ? q.id : group + "." + q.id;
    bool present = always && q.required && q.show_if.empty() && q.type != QuestionType::computed &&
                   q.type != QuestionType::file;
    if (q.type == QuestionType::group) {
      Poco::JSON::Object g(Poco::JSON_PRESERVE_KEY_ORDER);
      g.set("title", q.label);
      g.set("type", "array");
      g.set("minItems", always && q.show_if.empty() ? q.min_count : 0);
      g.set("maxItems", q.max_count);
      Poco::JSON::Object item(Poco::JSON_PRESERVE_KEY_ORDER);
      item.set("type", "object");
      Poco::JSON::Object item_props(Poco::JSON_PRESERVE_KEY_ORDER);
      Poco::JSON::Array item_required;
      schema_questions(item_props, item_required, form, q.questions, true, q.id);
      item.set("properties", item_props);
      item.set("required", item_required);
      item.set("additionalProperties", false);
      g.set("items", item);
      props.set(q.id, g);
      if (always && q.show_if.empty() && q.min_count > 0) required.add(q.id);
      continue;
    }
    props.set(q.id, schema_of(form, q, logic_key));
    if (present) required.add(q.id);
  }
}

std::string stringify(const Poco::JSON::Object& o) {
  std::ostringstream s;
  o.stringify(s, 2);
  return s.str();
}

}  // namespace

std::string xml_namespace(const Form& form) {
  return form.outputs.xml_namespace.empty() ? "urn:mvsp:form:" + form.key
                                            : form.outputs.xml_namespace;
}

std::string xml_root(const Form& form) {
  return form.outputs.xml_root.empty() ? upper_camel(form.key) : form.outputs.xml_root;
}

std::string to_xml(const Form& form, int version, const Answers& a, const Submission& submission) {
  auto root = xml_root(form);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<{} xmlns=\"{}\" formularVersion=\"{}\"", root, escape(xml_namespace(form)),
                     version);
  if (!submission.reference.empty())
    out += fmt::format(" referenz=\"{}\"", escape(submission.reference));
  if (submission.submitted)
    out += fmt::format(" eingereichtAm=\"{}\"", core::format_utc_seconds(*submission.submitted));
  out += ">\n";
  for (const auto& p : form.pages) {
    if (p.exit) continue;
    for (const auto& q : p.questions) {
      if (!asked(q)) continue;
      if (q.type != QuestionType::group) {
        xml_question(out, form, q, a, q.id, q.id, 1);
        continue;
      }
      for (int i = 0, n = item_count(a, q); i < n; ++i) {
        std::string inner;
        for (const auto& m : q.questions) {
          if (asked(m))
            xml_question(inner, form, m, a, fmt::format("{}[{}].{}", q.id, i, m.id),
                         q.id + "." + m.id, 2);
        }
        out += fmt::format("  <{}>\n{}  </{}>\n", element_name(q), inner, element_name(q));
      }
    }
  }
  out += fmt::format("</{}>\n", root);
  return out;
}

std::string xml_schema(const Form& form, int version) {
  auto ns = escape(xml_namespace(form));
  auto sometimes = sometimes_pages(form);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"{}\" "
      "xmlns=\"{}\" "
      "elementFormDefault=\"qualified\" version=\"{}\">\n",
      ns, ns, version);
  out += fmt::format(
      "  <xs:annotation><xs:documentation>{} (Version {}), erzeugt von "
      "mvsp</xs:documentation></xs:annotation>\n",
      escape(form.title), version);
  out += fmt::format("  <xs:element name=\"{}\">\n    <xs:complexType>\n      <xs:sequence>\n",
                     xml_root(form));
  for (const auto& p : form.pages) {
    if (p.exit) continue;
    bool always = !sometimes.contains(p.id);
    for (const auto& q : p.questions) {
      if (!asked(q)) continue;
      if (q.type != QuestionType::group) {
        xsd_question(out, form, q, always, q.id, 4);
        continue;
      }
      bool group_always = always && q.show_if.empty();
      out += fmt::format("        <xs:element name=\"{}\" minOccurs=\"{}\" maxOccurs=\"{}\">\n",
                         element_name(q), group_always ? q.min_count : 0, q.max_count);
      out += "          <xs:complexType>\n            <xs:sequence>\n";
      for (const auto& m : q.questions) {
        if (asked(m)) xsd_question(out, form, m, true, q.id + "." + m.id, 7);
      }
      out += "            </xs:sequence>\n          </xs:complexType>\n        </xs:element>\n";
    }
  }
  out += "      </xs:sequence>\n";
  out +=
      "      <xs:attribute name=\"formularVersion\" type=\"xs:positiveInteger\" "
      "use=\"required\"/>\n";
  out += "      <xs:attribute name=\"referenz\" type=\"xs:string\"/>\n";
  out += "      <xs:attribute name=\"eingereichtAm\" type=\"xs:dateTime\"/>\n";
  out += "    </xs:complexType>\n  </xs:element>\n</xs:schema>\n";
  return out;
}

std::string to_json(const Form& form, int version, const Answers& a, const Submission& submission) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("form", form.key);
  o.set("version", version);
  if (!submission.reference.empty()) o.set("reference", submission.reference);
  if (submission.submitted) o.set("submitted", core::format_utc_seconds(*submission.submitted));
  Poco::JSON::Object answers(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& p : form.pages) {
    if (!p.exit) json_questions(answers, form, p.questions, a, "", "");
  }
  o.set("answers", answers);
  return stringify(o);
}

std::string json_schema(const Form& form, int version) {
  auto sometimes = sometimes_pages(form);
  Poco::JSON::Object s(Poco::JSON_PRESERVE_KEY_ORDER);
  s.set("$schema", "https://json-schema.org/draft/2020-12/schema");
  s.set("$id", fmt::format("{}:{}:json", xml_namespace(form), version));
  s.set("title", fmt::format("{} (Version {})", form.title, version));
  s.set("type", "object");
  Poco::JSON::Object top(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::JSON::Object form_key;
  form_key.set("const", form.key);
  top.set("form", form_key);
  Poco::JSON::Object version_of;
  version_of.set("const", version);
  top.set("version", version_of);
  Poco::JSON::Object text;
  text.set("type", "string");
  top.set("reference", text);
  Poco::JSON::Object when;
  when.set("type", "string");
  when.set("format", "date-time");
  top.set("submitted", when);
  Poco::JSON::Object answers(Poco::JSON_PRESERVE_KEY_ORDER);
  answers.set("type", "object");
  Poco::JSON::Object props(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::JSON::Array required;
  for (const auto& p : form.pages) {
    if (!p.exit)
      schema_questions(props, required, form, p.questions, !sometimes.contains(p.id), "");
  }
  answers.set("properties", props);
  answers.set("required", required);
  answers.set("additionalProperties", false);
  top.set("answers", answers);
  s.set("properties", top);
  Poco::JSON::Array top_required;
  top_required.add("form");
  top_required.add("version");
  top_required.add("answers");
  s.set("required", top_required);
  s.set("additionalProperties", false);
  return stringify(s);
}

}  // namespace mvsp::forms
