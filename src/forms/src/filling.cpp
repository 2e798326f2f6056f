#include <mvsp/forms/filling.hpp>
// The rules of filling a form: conditions, routes, reading and checking answers.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mvsp/core/text.hpp>
#include <mvsp/web/templates.hpp>
#include <regex>
#include <sstream>

#include "logic.hpp"

namespace mvsp::forms {

std::string answers_to_json(const Answers& answers) {
  Poco::JSON::Object o;
  for (const auto& [k, v] : answers) o.set(k, v);
  std::ostringstream s;
  o.stringify(s);
  return s.str();
}

std::optional<Answers> answers_from_json(std::string_view json) {
  try {
    Poco::JSON::Parser parser;
    auto root = parser.parse(std::string(json)).extract<Poco::JSON::Object::Ptr>();
    if (!root) return std::nullopt;
    Answers out;
    for (const auto& [k, v] : *root) {
      if (!v.isString()) return std::nullopt;
      out[k] = v.extract<std::string>();
    }
    return out;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

namespace {

constexpr std::string_view kDone = "_done";
constexpr std::size_t kDefaultMaxLength = 1000;        // one line, unless the form says more
constexpr std::size_t kDefaultMaxLongLength = 10'000;  // several lines

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "\n") + i;
  return out;
}

std::string trim(std::string_view s) {
  return std::string(core::trim(s));
}

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Control characters other than line breaks and tabs have no place in an answer.
bool has_control(std::string_view s, bool lines) {
  return std::any_of(s.begin(), s.end(), [&](char ch) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\n' || c == '\t') return !lines && c == '\n';
    return c < 0x20 || c == 0x7F;
  });
}

// "1.234,56", "1234,56", "1234.56", "12" → "1234.56" (plain digits, '.' as decimal point);
// at most `decimals` places; nullopt when it is no such number.
std::optional<std::string> read_decimal(std::string_view in, int decimals) {
  std::string s;
  for (char c : in) {
    if (c != ' ') s += c;
  }
  if (s.ends_with("€")) s.resize(s.size() - std::string_view("€").size());
  if (s.ends_with("EUR")) s.resize(s.size() - 3);
  bool negative = !s.empty() && s[0] == '-';
  if (negative) s.erase(0, 1);
  if (s.empty()) return std::nullopt;
  auto comma = s.rfind(',');
  std::string whole;
  std::string fraction;
  if (comma != std::string::npos) {
    whole = s.substr(0, comma);
    fraction = s.substr(comma + 1);
    // dots before a comma group thousands: "1.234,56"
    std::string plain;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      if (whole[i] != '.') {
        plain += whole[i];
        continue;
      }
      if (whole.size() - i - 1 < 3 || (whole.size() - i - 1) % 4 != 3) return std::nullopt;
    }
    whole = plain;
  } else {
    auto dot = s.find('.');
    if (dot != std::string::npos && s.find('.', dot + 1) == std::string::npos) {
      whole = s.substr(0, dot);
      fraction = s.substr(dot + 1);
    } else {
      whole = s;
    }
  }
  auto digits = [](const std::string& d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || !digits(whole) || !digits(fraction) || whole.size() > 15)
    return std::nullopt;
  if (comma != std::string::npos && fraction.empty()) return std::nullopt;
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (static_cast<int>(fraction.size()) > decimals) return std::nullopt;
  while (whole.size() > 1 && whole[0] == '0') whole.erase(0, 1);
  std::string out = (negative && (whole != "0" || !fraction.empty()) ? "-" : "") + whole;
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

double to_double(std::string_view s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// "31.01.2026", "31.1.2026", "2026-01-31" → days since 1970.
std::optional<std::int64_t> read_date(std::string_view s) {
  if (auto iso = expr::parse_iso_date(s)) return iso;
  auto d1 = s.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : s.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  auto day = s.substr(0, d1);
  auto month = s.substr(d1 + 1, d2 - d1 - 1);
  auto year = s.substr(d2 + 1);
  if (day.empty() || day.size() > 2 || month.empty() || month.size() > 2 || year.size() != 4)
    return std::nullopt;
  auto pad = [](std::string_view p) {
    return p.size() == 1 ? "0" + std::string(p) : std::string(p);
  };
  return expr::parse_iso_date(fmt::format("{}-{}-{}", year, pad(month), pad(day)));
}

std::string german_date(std::int64_t days) {
  return core::format_day_de(expr::iso_date(days));
}

std::optional<std::int64_t> cents_of(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// 123456 cents → "1.234,56"
std::string german_amount(std::int64_t cents) {
  bool negative = cents < 0;
  auto abs = negative ? -cents : cents;
  auto whole = std::to_string(abs / 100);
  std::string grouped;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += '.';
    grouped += whole[i];
  }
  return fmt::format("{}{},{:02}", negative ? "-" : "", grouped, abs % 100);
}

std::string german_money(std::int64_t cents) {
  return german_amount(cents) + " €";
}

std::string german_decimal(std::string_view canonical) {
  std::string out(canonical);
  std::replace(out.begin(), out.end(), '.', ',');
  return out;
}

bool valid_iban(const std::string& iban) {
  if (iban.size() < 15 || iban.size() > 34) return false;
  if (!(std::isupper(static_cast<unsigned char>(iban[0])) &&
        std::isupper(static_cast<unsigned char>(iban[1]))))
    return false;
  if (!std::isdigit(static_cast<unsigned char>(iban[2])) ||
      !std::isdigit(static_cast<unsigned char>(iban[3])))
    return false;
  if (iban.starts_with("DE") && iban.size() != 22) return false;
  auto moved = iban.substr(4) + iban.substr(0, 4);
  int rest = 0;
  for (char c : moved) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      rest = (rest * 10 + (c - '0')) % 97;
    } else if (std::isupper(static_cast<unsigned char>(c))) {
      int v = c - 'A' + 10;
      rest = (rest * 100 + v) % 97;
    } else {
      return false;
    }
  }
  return rest == 1;
}

bool valid_email(std::string_view s) {
  if (s.size() > 254) return false;
  auto at = s.find('@');
  if (at == 0 || at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos)
    return false;
  auto domain = s.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 2 > domain.size()) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == '"' || c == ',' ||
           c == ';';
  });
}

bool valid_phone(std::string_view s) {
  int digits = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '+' && i == 0) {
    } else if (std::string_view(" -/()").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return digits >= 5 && digits <= 20;
}

// An answer path's id in the page: "hunde[0].rasse" → "f-hunde-0-rasse".
std::string field_id(std::string_view path) {
  std::string out = "f-";
  for (char c : path) {
    if (c == '[' || c == '.') {
      out += '-';
    } else if (c != ']') {
      out += c;
    }
  }
  return out;
}

std::string item_prefix(std::string_view group, int i) {
  return fmt::format("{}[{}].", group, i);
}

}  // namespace

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    auto end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int item_count(const Answers& a, const Question& group) {
  auto it = a.find(group.id);
  int n = 0;
  if (it != a.end()) std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
  return std::clamp(n, 0, group.max_count);
}

std::string value_of(const Answers& a, std::string_view key) {
  auto it = a.find(key);
  return it == a.end() ? std::string() : it->second;
}

struct Filling::Impl {
  const Form& form;
  const web::Catalog& texts;
  FillContext context;
  std::int64_t today = 0;

  std::string t(std::string_view key) const {
    return texts.text(context.locale, fmt::format("forms.{}", key));
  }
  template <typename... A>
  std::string tf(std::string_view key, A&&... args) const {
    return fmt::format(fmt::runtime(t(key)), std::forward<A>(args)...);
  }

  const Logic& logic() const {
    if (!form.logic) throw core::Failure("forms: the form was not checked");
    return *form.logic;
  }
  const Logic::QuestionLogic* logic_of(std::string_view key) const {
    auto it = logic().questions.find(key);
    return it == logic().questions.end() ? nullptr : &it->second;
  }

  // ---- values for expressions ----

  expr::Value typed(const Question& q, const std::string& raw) const {
    using expr::Value;
    if (raw.empty()) return {};
    switch (q.type) {
      case QuestionType::integer:
      case QuestionType::decimal:
        return Value::of_number(to_double(raw));
      case QuestionType::money:
        return Value::of_number(to_double(raw) / 100.0);
      case QuestionType::date: {
        auto d = expr::parse_iso_date(raw);
        return d ? Value::of_date(*d) : Value{};
      }
      case QuestionType::yes_no:
      case QuestionType::declaration:
        return Value::of(raw == "ja");
      case QuestionType::multiple_choice:
        return Value::of_list(split_lines(raw));
      case QuestionType::file:
        return Value::of_number(static_cast<double>(split_lines(raw).size()));
      default:
        return Value::of_text(raw);
    }
  }

  // Computed values already worked out in one evaluation, so that a value read many times
  // (a = b + b, b = c + c, …) is computed once.
  using Computed = std::map<std::string, expr::Value, std::less<>>;

  expr::Scope scope(const Answers& a, const Question* group = nullptr, int item = -1,
                    std::shared_ptr<Computed> known = nullptr) const {
    if (!known) known = std::make_shared<Computed>();
    expr::Scope s;
    s.today = today;
    s.value = [this, &a, group, item, known](std::string_view name) -> expr::Value {
      if (group) {
        auto dot = name.find('.');
        auto head = name.substr(0, dot);
        for (const auto& m : group->questions) {
          if (m.id != head) continue;
          auto key = item_prefix(group->id, item) + std::string(name);
          if (m.type == QuestionType::computed) return computed(a, m, group, item, known);
          return parts_of(m.type).empty() ? typed(m, value_of(a, key))
                                          : expr::Value::of_text(value_of(a, key));
        }
      }
      auto dot = name.find('.');
      const auto* q = form.question(name.substr(0, dot));
      if (!q) return {};
      if (q->type == QuestionType::computed) return computed(a, *q, nullptr, -1, known);
      if (!parts_of(q->type).empty()) return expr::Value::of_text(value_of(a, name));
      return typed(*q, value_of(a, name));
    };
    s.items = [this, &a, known](std::string_view name) {
      std::vector<expr::Scope> out;
      const auto* g = form.question(name);
      if (!g || g->type != QuestionType::group) return out;
      for (int i = 0, n = item_count(a, *g); i < n; ++i) out.push_back(scope(a, g, i, known));
      return out;
    };
    return s;
  }

  // The form's check keeps computed values free of circles and at most 20 steps deep
  // (form.cpp, check_computed); `known` makes each one count once per evaluation.
  expr::Value computed(const Answers& a, const Question& q, const Question* group, int item,
                       std::shared_ptr<Computed> known = nullptr) const {
    auto key = group ? group->id + "." + q.id : q.id;
    const auto* ql = logic_of(key);
    if (!ql) return {};
    if (!known) known = std::make_shared<Computed>();
    auto slot = group ? item_prefix(group->id, item) + q.id : q.id;
    if (auto it = known->find(slot); it != known->end()) return it->second;
    auto v = ql->value.evaluate(scope(a, group, item, known));
    known->emplace(slot, v);
    return v;
  }

  bool holds(const expr::Expression& e, const expr::Scope& s) const {
    return e.empty() || e.evaluate(s).truthy();
  }

  bool applies(const Answers& a, const Question& q, const Question* group = nullptr,
               int item = -1) const {
    const auto* ql = logic_of(group ? group->id + "." + q.id : q.id);
    return !ql || holds(ql->show_if, scope(a, group, item));
  }

  // Whether a question shows on its page: its condition holds for the answers, or reads
  // an answer of the same page. Without JavaScript a page cannot change while it is
  // filled, so such a question is shown, and checked only when its condition holds for
  // what was posted.
  bool shown_on(const Page& p, const Answers& a, const Question& q, const Question* group = nullptr,
                int item = -1) const {
    if (applies(a, q, group, item)) return true;
    const auto* ql = logic_of(group ? group->id + "." + q.id : q.id);
    if (!ql) return false;
    auto on = [](const std::vector<Question>& qs, std::string_view id) {
      return std::any_of(qs.begin(), qs.end(), [&](const Question& x) { return x.id == id; });
    };
    for (const auto& name : ql->show_if.names()) {
      auto head = std::string_view(name).substr(0, name.find('.'));
      if ((group && on(group->questions, head)) || on(p.questions, head)) return true;
    }
    return false;
  }

  bool page_applies(const Answers& a, const Page& p) const {
    auto it = logic().page_show_if.find(p.id);
    if (it == logic().page_show_if.end() || it->second.empty()) return !p.exit;
    return holds(it->second, scope(a));
  }

  std::vector<const Page*> route(const Answers& a) const {
    std::vector<const Page*> out;
    std::size_t i = 0;
    auto s = scope(a);
    while (i < form.pages.size()) {
      const auto& p = form.pages[i];
      if (!page_applies(a, p)) {
        ++i;
        continue;
      }
      out.push_back(&p);
      if (p.exit) break;
      std::size_t next = i + 1;
      auto routes = logic().page_routes.find(p.id);
      if (routes != logic().page_routes.end()) {
        for (std::size_t k = 0; k < routes->second.size(); ++k) {
          if (!routes->second[k].evaluate(s).truthy()) continue;
          auto target = form.page(p.routes[k].go_to);
          next = static_cast<std::size_t>(target - form.pages.data());
          // a route to an exit page ends there, whatever its own condition says
          if (target->exit) {
            out.push_back(target);
            return out;
          }
          break;
        }
      }
      i = next;
    }
    return out;
  }

  std::vector<std::string> done(const Answers& a) const { return split_lines(value_of(a, kDone)); }

  // ---- reading and checking one answer ----

  // The label a message names: "Rasse (Hund 2)".
  std::string label_of(const Question& q, const Question* group, int item,
                       std::string_view part = {}) const {
    std::string label = q.label;
    if (!part.empty()) label = fmt::format("{}: {}", q.label, t(fmt::format("part.{}", part)));
    if (group) label = fmt::format("{} ({} {})", label, group->item_label, item + 1);
    return label;
  }

  // The canonical form of an entered value; an error message when it has none.
  std::variant<std::string, std::string> canonical(const Question& q, std::string_view part,
                                                   const std::string& entered,
                                                   const std::string& label) const {
    using R = std::variant<std::string, std::string>;
    auto bad = [](std::string m) { return R(std::in_place_index<1>, std::move(m)); };
    auto good = [](std::string v) { return R(std::in_place_index<0>, std::move(v)); };
    bool lines = q.type == QuestionType::long_text || q.type == QuestionType::multiple_choice;
    if (!core::valid_utf8(entered) || has_control(entered, lines))
      return bad(tf("errors.characters", label));
    auto v = q.type == QuestionType::long_text ? trim(entered) : trim(entered);
    if (v.empty()) return good("");
    if (part == "plz") {
      if (v.size() != 5 || !std::all_of(v.begin(), v.end(), ::isdigit))
        return bad(tf("errors.postcode", label));
      return good(v);
    }
    if (part == "iban") {
      std::string compact;
      for (char c : v) {
        if (c != ' ') compact += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      if (!valid_iban(compact)) return bad(tf("errors.iban", label));
      return good(compact);
    }
    if (!part.empty()) return good(v);
    switch (q.type) {
      case QuestionType::integer: {
        auto n = read_decimal(v, 0);
        if (!n) return bad(tf("errors.integer", label));
        return good(*n);
      }
      case QuestionType::decimal: {
        auto n = read_decimal(v, 6);
        if (!n) return bad(tf("errors.decimal", label));
        return good(*n);
      }
      case QuestionType::money: {
        auto n = read_decimal(v, 2);
        if (!n) return bad(tf("errors.money", label));
        auto cents = std::llround(to_double(*n) * 100.0);
        return good(std::to_string(cents));
      }
      case QuestionType::date: {
        auto d = read_date(v);
        if (!d) return bad(tf("errors.date", label));
        return good(expr::iso_date(*d));
      }
      case QuestionType::email:
        if (!valid_email(v)) return bad(tf("errors.email", label));
        return good(v);
      case QuestionType::phone:
        if (!valid_phone(v)) return bad(tf("errors.phone", label));
        return good(v);
      case QuestionType::choice:
        if (std::none_of(q.options.begin(), q.options.end(),
                         [&](const Option& o) { return o.value == v; }))
          return bad(tf("errors.option", label));
        return good(v);
      case QuestionType::multiple_choice: {
        std::vector<std::string> chosen;
        for (const auto& o : q.options) {  // in the form's order, each once
          auto items = split_lines(v);
          if (std::find(items.begin(), items.end(), o.value) != items.end())
            chosen.push_back(o.value);
        }
        for (const auto& item : split_lines(v)) {
          if (std::none_of(q.options.begin(), q.options.end(),
                           [&](const Option& o) { return o.value == item; }))
            return bad(tf("errors.option", label));
        }
        return good(join_lines(chosen));
      }
      case QuestionType::yes_no:
      case QuestionType::declaration:
        if (v != "ja" && v != "nein") return bad(tf("errors.option", label));
        if (q.type == QuestionType::declaration && v != "ja")
          return bad(tf("errors.confirm", label));
        return good(v);
      default:
        return good(v);
    }
  }

  // Whether a kept answer is in the canonical form that accepting a page writes: what
  // finish() and the outputs rely on, whoever stored the answers.
  bool stored_well(const Question& q, std::string_view part, const std::string& v) const {
    if (v.empty()) return true;
    bool lines = q.type == QuestionType::long_text || q.type == QuestionType::multiple_choice;
    if (!core::valid_utf8(v) || has_control(v, lines) || v != trim(v)) return false;
    auto number = [](const std::string& s, bool fraction) {
      static const std::regex kWhole("-?[0-9]{1,15}");
      static const std::regex kDecimal("-?[0-9]{1,15}(\\.[0-9]{1,6})?");
      return s.size() <= 24 && std::regex_match(s, fraction ? kDecimal : kWhole);
    };
    auto option = [&](const std::string& o) {
      return std::any_of(q.options.begin(), q.options.end(),
                         [&](const Option& x) { return x.value == o; });
    };
    if (part == "plz") return v.size() == 5 && std::all_of(v.begin(), v.end(), ::isdigit);
    if (part == "iban") return valid_iban(v);
    if (!part.empty()) return true;
    switch (q.type) {
      case QuestionType::integer:
      case QuestionType::money:
        return number(v, false);
      case QuestionType::decimal:
        return number(v, true);
      case QuestionType::date:
        return expr::parse_iso_date(v).has_value();
      case QuestionType::email:
        return valid_email(v);
      case QuestionType::phone:
        return valid_phone(v);
      case QuestionType::choice:
        return option(v);
      case QuestionType::multiple_choice: {
        auto items = split_lines(v);
        return std::all_of(items.begin(), items.end(), option);
      }
      case QuestionType::yes_no:
        return v == "ja" || v == "nein";
      case QuestionType::declaration:
        return v == "ja";
      default:
        return true;
    }
  }

  // The rules of a canonical answer: required, length, pattern, bounds.
  std::optional<std::string> check(const Question& q, std::string_view part, const std::string& v,
                                   const std::string& label, const std::string& logic_key) const {
    if (v.empty()) {
      if (!q.required) return std::nullopt;
      if (part == "hausnummer") return std::nullopt;  // not every address has one
      switch (q.type) {
        case QuestionType::choice:
        case QuestionType::multiple_choice:
        case QuestionType::yes_no:
          return tf("errors.choose", label);
        case QuestionType::declaration:
          return tf("errors.confirm", label);
        default:
          return tf("errors.required", label);
      }
    }
    bool text_like = q.type == QuestionType::text || q.type == QuestionType::long_text ||
                     q.type == QuestionType::email || q.type == QuestionType::phone ||
                     !part.empty();
    if (text_like) {
      auto length = utf8_length(v);
      auto max = q.max_length ? static_cast<std::size_t>(*q.max_length)
                              : (q.type == QuestionType::long_text ? kDefaultMaxLongLength
                                                                   : kDefaultMaxLength);
      if (q.min_length && part.empty() && length < static_cast<std::size_t>(*q.min_length))
        return tf("errors.too_short", label, *q.min_length);
      if (length > max) return tf("errors.too_long", label, max);
      const auto* ql = logic_of(logic_key);
      if (part.empty() && ql && ql->pattern && !full_match(*ql->pattern, v))
        return q.pattern_message.empty() ? tf("errors.pattern", label) : q.pattern_message;
    }
    if (q.type == QuestionType::integer || q.type == QuestionType::decimal ||
        q.type == QuestionType::money) {
      double n = to_double(v);
      if (q.type == QuestionType::money) n /= 100.0;
      auto shown = [&](const std::string& bound) {
        return q.type == QuestionType::money ? german_money(std::llround(to_double(bound) * 100.0))
                                             : german_decimal(bound);
      };
      if (!q.min.empty() && n < to_double(q.min)) return tf("errors.min", label, shown(q.min));
      if (!q.max.empty() && n > to_double(q.max)) return tf("errors.max", label, shown(q.max));
    }
    if (q.type == QuestionType::date) {
      auto d = expr::parse_iso_date(v).value_or(0);
      if (auto lo = q.min.empty() ? std::nullopt : date_bound(q.min, today); lo && d < *lo)
        return tf("errors.date_min", label, german_date(*lo));
      if (auto hi = q.max.empty() ? std::nullopt : date_bound(q.max, today); hi && d > *hi)
        return tf("errors.date_max", label, german_date(*hi));
    }
    return std::nullopt;
  }

  // Reads (when `posted`) and checks one question (all its parts) at `prefix`, writing
  // canonical values into `out` and messages into `error`.
  void take(const Question& q, const Question* group, int item, const Answers& source, bool posted,
            Answers& out, core::Error& error, bool& failed) const {
    if (q.type == QuestionType::info || q.type == QuestionType::file ||
        q.type == QuestionType::computed)
      return;
    auto base = (group ? item_prefix(group->id, item) : std::string()) + q.id;
    auto logic_key = group ? group->id + "." + q.id : q.id;
    auto one = [&](std::string_view part) {
      auto key = part.empty() ? base : base + "." + std::string(part);
      auto label = label_of(q, group, item, part);
      auto raw = value_of(source, key);
      std::string value = raw;
      if (posted) {
        auto c = canonical(q, part, raw, label);
        if (c.index() == 1) {
          error.and_field(key, std::get<1>(c));
          failed = true;
          return;
        }
        value = std::get<0>(c);
      } else if (!stored_well(q, part, value)) {
        // answers handed back by a caller are checked as they are kept, not trusted
        error.and_field(key, tf("errors.stored", label));
        failed = true;
        return;
      }
      if (auto problem = check(q, part, value, label, logic_key)) {
        error.and_field(key, *problem);
        failed = true;
        return;
      }
      if (value.empty()) {
        out.erase(key);
      } else {
        out[key] = value;
      }
    };
    if (parts_of(q.type).empty()) {
      one({});
    } else {
      for (const auto& p : parts_of(q.type)) one(p.key);
    }
  }

  // Removes every answer of question `q` (at `base`).
  static void drop(Answers& a, const std::string& base) {
    for (auto it = a.lower_bound(base); it != a.end() && it->first.starts_with(base);) {
      auto rest = std::string_view(it->first).substr(base.size());
      if (rest.empty() || rest[0] == '.' || rest[0] == '[') {
        it = a.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Checks page `p` over `values` (posted: read and canonicalise first). The answers of
  // questions that do not apply are removed from `out`.
  bool check_page(const Page& p, const Answers& values, bool posted, Answers& out,
                  core::Error& error) const {
    bool failed = false;
    for (const auto& q : p.questions) {
      if (!applies(out, q)) {
        drop(out, q.id);
        continue;
      }
      if (q.type != QuestionType::group) {
        take(q, nullptr, -1, values, posted, out, error, failed);
        continue;
      }
      int n = item_count(values, q);
      if (n < q.min_count) {
        error.and_field(q.id, tf("errors.too_few", q.min_count, q.item_label));
        failed = true;
      }
      // the group's old items go; the posted ones (renumbered) come
      if (posted) drop(out, q.id);
      out[q.id] = std::to_string(n);
      for (int i = 0; i < n; ++i) {
        for (const auto& m : q.questions) {
          if (!applies(out, m, &q, i)) {
            drop(out, item_prefix(q.id, i) + m.id);
            continue;
          }
          take(m, &q, i, values, posted, out, error, failed);
        }
      }
    }
    if (failed) return false;
    // rules on this page's questions, over the answers as they would be
    auto s = scope(out);
    for (std::size_t i = 0; i < form.rules.size(); ++i) {
      const auto& rule = form.rules[i];
      if (std::none_of(p.questions.begin(), p.questions.end(),
                       [&](const Question& q) { return q.id == rule.field; }))
        continue;
      const auto* q = form.question(rule.field);
      if (q && !applies(out, *q)) continue;
      if (!logic().rules[i].evaluate(s).truthy()) {
        error.and_field(rule.field, rule.message);
        failed = true;
      }
    }
    return !failed;
  }

  // The posted fields as answers of page `p`: several values of one name joined by lines;
  // a group's number of items from its hidden field, within its bounds.
  // Only the page's own fields are read: a posted name of another page's question, or
  // one no question has, is ignored (it once set answers that no check saw again).
  Answers read_posted(const Page& p, const Posted& posted) const {
    std::set<std::string, std::less<>> fields;
    auto add = [&](const Question& q, const std::string& base) {
      if (q.type == QuestionType::info || q.type == QuestionType::computed ||
          q.type == QuestionType::file)
        return;
      if (parts_of(q.type).empty()) {
        fields.insert(base);
      } else {
        for (const auto& part : parts_of(q.type)) fields.insert(base + "." + std::string(part.key));
      }
    };
    for (const auto& q : p.questions) {
      if (q.type != QuestionType::group) {
        add(q, q.id);
        continue;
      }
      fields.insert(q.id);
      for (int i = 0; i < q.max_count; ++i) {
        for (const auto& m : q.questions) add(m, item_prefix(q.id, i) + m.id);
      }
    }
    Answers in;
    for (const auto& [name, value] : posted) {
      if (!fields.contains(name)) continue;
      auto& slot = in[name];
      slot += (slot.empty() ? "" : "\n") + value;
    }
    for (const auto& q : p.questions) {
      if (q.type != QuestionType::group) continue;
      int n = 0;
      auto raw = value_of(in, q.id);
      std::from_chars(raw.data(), raw.data() + raw.size(), n);
      in[q.id] = std::to_string(std::clamp(n, 0, q.max_count));
    }
    return in;
  }

  // Locked prefills are the eID's: whatever was posted, they stay.
  void apply_locked(Answers& a, const Page* p) const {
    for (const auto& page : form.pages) {
      if (p && &page != p) continue;
      for (const auto& q : page.questions) {
        if (q.prefill.empty() || !context.locked.contains(q.prefill)) continue;
        fill(a, q, true);
      }
    }
  }

  void fill(Answers& a, const Question& q, bool force) const {
    auto set = [&](const std::string& key, std::string_view binding) {
      auto it = context.prefill.find(binding);
      if (it == context.prefill.end() || it->second.empty()) return;
      if (force || value_of(a, key).empty()) a[key] = it->second;
    };
    auto root = q.prefill.substr(0, q.prefill.find('.'));
    if (q.type == QuestionType::name) {
      set(q.id + ".vorname", root + ".given_name");
      set(q.id + ".nachname", root + ".family_name");
    } else if (q.type == QuestionType::address) {
      set(q.id + ".strasse", root + ".street");
      set(q.id + ".hausnummer", root + ".house_number");
      set(q.id + ".plz", root + ".postcode");
      set(q.id + ".ort", root + ".city");
    } else {
      set(q.id, q.prefill);
    }
  }

  bool locked(const Question& q) const {
    return !q.prefill.empty() && context.locked.contains(q.prefill);
  }

  // ---- views ----

  web::View field_view(const Question& q, const Question* group, int item, const Answers& shown,
                       const core::Error* error) const {
    web::View v;
    auto base = (group ? item_prefix(group->id, item) : std::string()) + q.id;
    auto id = field_id(base);
    v.set("id", id);
    v.set("name", base);
    v.set("label", q.label);
    v.set("required", q.required);
    v.set("locked", locked(q));
    v.set(fmt::format("is_{}", type_key(q.type)), true);
    // Every key the field template reads is set, false where there is nothing: Mustache
    // looks a missing key up in the page or the group around it, whose hint, text and
    // error are not the field's.
    if (!q.hint.empty())
      v.set("hint", q.hint);
    else
      v.set("hint", false);
    if (!q.text.empty())
      v.set("text", q.text);
    else
      v.set("text", false);
    auto message_for = [&](const std::string& key) -> std::string {
      if (!error) return {};
      for (const auto& f : error->fields) {
        if (f.field == key) return f.message;
      }
      return {};
    };
    std::string described = q.hint.empty() ? "" : id + "-hint";
    auto message = message_for(base);
    auto raw = value_of(shown, base);
    switch (q.type) {
      case QuestionType::money:
        if (auto cents = shown.contains("_entered") ? std::nullopt : cents_of(raw)) {
          v.set("value", german_amount(*cents));
        } else {
          v.set("value", raw);
        }
        v.set("inputmode", "decimal");
        break;
      case QuestionType::decimal:
        v.set("value", shown.contains("_entered") ? raw : german_decimal(raw));
        v.set("inputmode", "decimal");
        break;
      case QuestionType::integer:
        v.set("value", raw);
        v.set("inputmode", "numeric");
        break;
      case QuestionType::date: {
        auto d = shown.contains("_entered") ? std::nullopt : expr::parse_iso_date(raw);
        v.set("value", d ? german_date(*d) : raw);
        break;
      }
      case QuestionType::computed: {
        auto value = computed(shown, q, group, item);
        v.set("value", display_value(q, value));
        break;
      }
      case QuestionType::choice:
      case QuestionType::multiple_choice:
      case QuestionType::yes_no:
      case QuestionType::declaration: {
        auto chosen = split_lines(raw);
        std::vector<Option> options = q.options;
        if (q.type == QuestionType::yes_no) options = {{"ja", t("yes")}, {"nein", t("no")}};
        if (q.type == QuestionType::declaration) options = {{"ja", q.text}};
        v.set_list("options", {});
        for (std::size_t i = 0; i < options.size(); ++i) {
          web::View o;
          o.set("value", options[i].value);
          o.set("label", options[i].label);
          o.set("option_id", i == 0 ? id : fmt::format("{}-{}", id, i));
          o.set("checked",
                std::find(chosen.begin(), chosen.end(), options[i].value) != chosen.end());
          v.add("options", std::move(o));
        }
        bool select = q.type == QuestionType::choice && q.select;
        v.set("is_select", select);
        v.set("is_radios",
              !select && (q.type == QuestionType::choice || q.type == QuestionType::yes_no));
        v.set("is_checkboxes",
              q.type == QuestionType::multiple_choice || q.type == QuestionType::declaration);
        break;
      }
      default:
        v.set("value", raw);
    }
    auto autocomplete = q.autocomplete;
    if (autocomplete.empty()) {
      if (q.type == QuestionType::email) autocomplete = "email";
      if (q.type == QuestionType::phone) autocomplete = "tel";
      if (q.prefill == "account.birth_date") autocomplete = "bday";
    }
    if (q.type == QuestionType::email)
      v.set("type", "email");
    else if (q.type == QuestionType::phone)
      v.set("type", "tel");
    else
      v.set("type", "text");
    if (!autocomplete.empty() && parts_of(q.type).empty()) v.set("autocomplete", autocomplete);
    if (!parts_of(q.type).empty()) {
      v.set_list("parts", {});
      for (const auto& p : parts_of(q.type)) {
        web::View pv;
        auto key = base + "." + std::string(p.key);
        pv.set("id", field_id(key));
        pv.set("name", key);
        pv.set("label", t(fmt::format("part.{}", p.key)));
        pv.set("value", value_of(shown, key));
        pv.set("locked", locked(q));
        pv.set("required", q.required && p.key != "hausnummer");
        pv.set("class", p.key == "plz" || p.key == "hausnummer" ? "mvsp-input--short" : "");
        if (p.key == "plz") pv.set("inputmode", "numeric");
        // the places of Mecklenburg-Vorpommern from the catalog, suggested while typing
        if (p.key == "ort")
          pv.set("places", field_id(key) + "-orte");
        else
          pv.set("places", false);
        // the tokens say "the person's own" (WCAG 1.3.5): for the applicant's own name and
        // address (prefilled from the account, or marked by any autocomplete value)
        if (!p.autocomplete.empty() &&
            (q.prefill.starts_with("account.") || !q.autocomplete.empty()))
          pv.set("autocomplete", std::string(p.autocomplete));
        auto m = message_for(key);
        if (!m.empty()) {
          pv.set("error", m);
          if (message.empty()) message = m;
        } else {
          pv.set("error", false);
        }
        v.add("parts", std::move(pv));
      }
    }
    if (!message.empty()) {
      v.set("error", message);
      // a compound question's messages stand at its parts, each described by its own
      if (parts_of(q.type).empty()) described += (described.empty() ? "" : " ") + id + "-error";
    } else {
      v.set("error", false);
    }
    if (!described.empty())
      v.set("described", described);
    else
      v.set("described", false);
    v.set(widget(q), true);
    if (q.type == QuestionType::money) v.set("unit", "€");
    reveal(q, group, item, v);
    return v;
  }

  // A question asked only for one answer of a yes/no or choice question on the same page
  // ("gefaehrlich = true") is revealed by the page's script when that answer is chosen.
  void reveal(const Question& q, const Question* group, int item, web::View& v) const {
    static const std::regex kSimple(R"(^([a-z][a-z0-9_]*) = (true|false|'[^']*'|"[^"]*")$)");
    std::smatch m;
    // a simple condition is short; std::regex recurses per character
    if (q.show_if.size() > 200 || !std::regex_match(q.show_if, m, kSimple)) return;
    auto name = m[1].str();
    const auto& siblings = group ? group->questions : std::vector<Question>{};
    const Question* other = nullptr;
    for (const auto& s : siblings) {
      if (s.id == name) other = &s;
    }
    if (!other) other = form.question(name);
    if (!other || (other->type != QuestionType::yes_no && other->type != QuestionType::choice))
      return;
    auto value = m[2].str();
    if (value == "true" || value == "false") {
      value = value == "true" ? "ja" : "nein";
    } else {
      value = value.substr(1, value.size() - 2);
    }
    bool in_group = group && std::any_of(siblings.begin(), siblings.end(),
                                         [&](const Question& s) { return s.id == name; });
    v.set("reveal_name", in_group ? item_prefix(group->id, item) + name : name);
    v.set("reveal_value", value);
  }

  // Which markup a question gets (the template's w_* sections).
  static const char* widget(const Question& q) {
    switch (q.type) {
      case QuestionType::info:
        return "w_info";
      case QuestionType::computed:
        return "w_computed";
      case QuestionType::file:
        return "w_file";
      case QuestionType::long_text:
        return "w_textarea";
      case QuestionType::name:
      case QuestionType::address:
      case QuestionType::iban:
        return "w_parts";
      case QuestionType::choice:
        return q.select ? "w_select" : "w_radios";
      case QuestionType::yes_no:
        return "w_radios";
      case QuestionType::multiple_choice:
      case QuestionType::declaration:
        return "w_checkboxes";
      default:
        return "w_input";
    }
  }

  std::string display_value(const Question& q, const expr::Value& v) const {
    switch (v.kind) {
      case expr::Value::Kind::none:
        return "";
      case expr::Value::Kind::boolean:
        return v.boolean ? t("yes") : t("no");
      case expr::Value::Kind::date:
        return german_date(static_cast<std::int64_t>(v.number));
      case expr::Value::Kind::number: {
        (void)q;
        auto cents = std::llround(v.number * 100.0);
        if (cents % 100 == 0) return std::to_string(cents / 100);
        return german_decimal(fmt::format("{:.2f}", v.number));
      }
      case expr::Value::Kind::text:
        return v.text;
      case expr::Value::Kind::list:
        return join_lines(v.list);
    }
    return "";
  }

  std::string display(const Question& q, std::string_view value) const {
    std::string v(value);
    if (v.empty()) return t("not_answered");
    switch (q.type) {
      case QuestionType::money: {
        auto cents = cents_of(v);
        return cents ? german_money(*cents) : v;
      }
      case QuestionType::decimal:
        return german_decimal(v);
      case QuestionType::date: {
        auto d = expr::parse_iso_date(v);
        return d ? german_date(*d) : v;
      }
      case QuestionType::yes_no:
        return v == "ja" ? t("yes") : t("no");
      case QuestionType::declaration:
        return v == "ja" ? t("confirmed") : t("no");
      case QuestionType::choice:
      case QuestionType::multiple_choice: {
        std::vector<std::string> labels;
        for (const auto& item : split_lines(v)) {
          auto o = std::find_if(q.options.begin(), q.options.end(),
                                [&](const Option& x) { return x.value == item; });
          labels.push_back(o == q.options.end() ? item : o->label);
        }
        std::string out;
        for (const auto& l : labels) out += (out.empty() ? "" : ", ") + l;
        return out;
      }
      default:
        return v;
    }
  }

  std::string compound_display(const Question& q, const Answers& a, const std::string& base) const {
    auto part = [&](std::string_view p) { return value_of(a, base + "." + std::string(p)); };
    switch (q.type) {
      case QuestionType::name:
        return trim(part("vorname") + " " + part("nachname"));
      case QuestionType::address:
        return trim(trim(part("strasse") + " " + part("hausnummer")) + "\n" + part("plz") + " " +
                    part("ort"));
      case QuestionType::iban: {
        auto iban = part("iban");
        std::string grouped;
        for (std::size_t i = 0; i < iban.size(); ++i) {
          if (i > 0 && i % 4 == 0) grouped += ' ';
          grouped += iban[i];
        }
        return trim(grouped + "\n" + part("kontoinhaber"));
      }
      default:
        return "";
    }
  }
};

Filling::Filling(const Form& form, const web::Catalog& texts, FillContext context) {
  auto today = core::berlin_day(context.now).time_since_epoch().count();
  auto impl = std::make_shared<Impl>(Impl{form, texts, std::move(context), today});
  (void)impl->logic();
  impl_ = std::move(impl);
}

std::vector<const Page*> Filling::route(const Answers& answers) const {
  return impl_->route(answers);
}

std::string Filling::next_page(const Answers& answers) const {
  auto done = impl_->done(answers);
  for (const auto* p : impl_->route(answers)) {
    if (p->exit || std::find(done.begin(), done.end(), p->id) == done.end()) return p->id;
  }
  return {};
}

bool Filling::reachable(const Answers& answers, std::string_view page_id) const {
  auto next = next_page(answers);
  for (const auto* p : impl_->route(answers)) {
    if (p->id == page_id) return true;
    if (p->id == next) return false;
  }
  return false;
}

std::string Filling::previous_page(const Answers& answers, std::string_view page_id) const {
  std::string before;
  for (const auto* p : impl_->route(answers)) {
    if (p->id == page_id) return before;
    before = p->id;
  }
  return before;
}

Answers Filling::prefilled(Answers answers) const {
  for (const auto& page : impl_->form.pages) {
    for (const auto& q : page.questions) {
      if (!q.prefill.empty()) impl_->fill(answers, q, impl_->locked(q));
    }
  }
  return answers;
}

web::View Filling::page_view(std::string_view page_id, const Answers& answers,
                             const Answers* entered, const core::Error* error) const {
  const auto& impl = *impl_;
  const auto* page = impl.form.page(page_id);
  if (!page) throw core::Failure(fmt::format("forms: no page {}", page_id));
  Answers shown = entered ? *entered : answers;
  if (entered) shown["_entered"] = "1";
  if (entered) impl.apply_locked(shown, page);
  web::View v;
  v.set("page", page->id);
  // GOV.UK: a page with errors says so first in its title
  v.set("title", error ? fmt::format("{}: {}", impl.t("error_prefix"), page->title) : page->title);
  v.set("form_title", impl.form.title);
  if (!page->hint.empty()) v.set("hint", page->hint);
  if (!page->text.empty()) v.set("text", page->text);
  v.set("exit", page->exit);
  auto route = impl.route(answers);
  int steps = 0;
  int step = 0;
  for (const auto* p : route) {
    if (p->exit) continue;
    ++steps;
    if (p->id == page_id) step = steps;
  }
  if (!page->exit && step > 0) v.set("progress", impl.tf("progress", step, steps + 1));
  v.set_list("questions", {});
  for (const auto& q : page->questions) {
    if (!impl.shown_on(*page, shown, q)) continue;
    if (q.type != QuestionType::group) {
      v.add("questions", impl.field_view(q, nullptr, -1, shown, error));
      continue;
    }
    web::View g;
    g.set("is_group", true);
    g.set("id", field_id(q.id));
    g.set("name", q.id);
    g.set("label", q.label);
    if (!q.hint.empty()) g.set("hint", q.hint);
    // a new group starts with the items it needs (none where none are needed: "add" is
    // there)
    int n = std::max(item_count(shown, q), entered ? 0 : q.min_count);
    n = std::min(n, q.max_count);
    g.set("count", std::to_string(n));
    g.set_list("items", {});
    for (int i = 0; i < n; ++i) {
      web::View item;
      item.set("legend", fmt::format("{} {}", q.item_label, i + 1));
      item.set("id", field_id(item_prefix(q.id, i)));
      item.set("remove", fmt::format("entfernen:{}:{}", q.id, i));
      item.set("remove_label", impl.tf("remove", q.item_label, i + 1));
      item.set("removable", n > q.min_count);
      item.set_list("questions", {});
      for (const auto& m : q.questions) {
        if (!impl.shown_on(*page, shown, m, &q, i)) continue;
        item.add("questions", impl.field_view(m, &q, i, shown, error));
      }
      g.add("items", std::move(item));
    }
    if (n < q.max_count) {
      g.set("can_add", true);
      g.set("add", "hinzufuegen:" + q.id);
      g.set("add_label", impl.tf("add_another", q.item_label));
    }
    if (error) {
      for (const auto& f : error->fields) {
        if (f.field == q.id) g.set("error", f.message);
      }
    }
    v.add("questions", std::move(g));
  }
  if (error && !error->fields.empty()) {
    v.set("has_errors", true);
    v.set("error_title", impl.t("error_title"));
    v.set_list("errors", {});
    for (const auto& f : error->fields) {
      web::View e;
      auto target = f.field;
      // a compound question's message links to the part it is about; a choice to its
      // first option
      e.set("id", field_id(target));
      e.set("message", f.message);
      v.add("errors", std::move(e));
    }
  }
  return v;
}

PageOutcome Filling::submit(std::string_view page_id, const Answers& answers,
                            const Posted& posted) const {
  const auto& impl = *impl_;
  PageOutcome out;
  out.answers = answers;
  const auto* page = impl.form.page(page_id);
  if (!page || page->exit) {
    out.next = next_page(answers);
    return out;
  }
  auto in = impl.read_posted(*page, posted);
  impl.apply_locked(in, page);
  std::string action;
  for (const auto& [k, v] : posted) {
    if (k == "aktion") action = v;
  }
  if (action.starts_with("hinzufuegen:") || action.starts_with("entfernen:")) {
    out.stay = true;
    out.next = std::string(page_id);
    auto rest = std::string_view(action).substr(action.find(':') + 1);
    auto colon = rest.find(':');
    auto group_id = rest.substr(0, colon);
    const Question* group = nullptr;
    for (const auto& q : page->questions) {
      if (q.id == group_id && q.type == QuestionType::group) group = &q;
    }
    if (group) {
      int n = item_count(in, *group);
      if (action.starts_with("hinzufuegen:") && n < group->max_count) {
        in[group->id] = std::to_string(n + 1);
      } else if (action.starts_with("entfernen:") && colon != std::string_view::npos &&
                 n > group->min_count) {
        int remove = -1;
        auto index = rest.substr(colon + 1);
        std::from_chars(index.data(), index.data() + index.size(), remove);
        if (remove >= 0 && remove < n) {
          Answers moved;
          for (int i = 0, to = 0; i < n; ++i) {
            if (i == remove) continue;
            auto from = item_prefix(group->id, i);
            for (auto it = in.lower_bound(from); it != in.end() && it->first.starts_with(from);
                 ++it)
              moved[item_prefix(group->id, to) + it->first.substr(from.size())] = it->second;
            ++to;
          }
          Impl::drop(in, group->id);
          for (auto& [k, v] : moved) in[k] = v;
          in[group->id] = std::to_string(n - 1);
        }
      }
    }
    out.entered = std::move(in);
    return out;
  }
  // The answers as they would be: the page's old answers out, the posted ones in (the
  // checks below then keep only canonical values of what applies).
  Answers candidate = answers;
  for (const auto& q : page->questions) Impl::drop(candidate, q.id);
  for (const auto& [k, v] : in) candidate[k] = v;
  auto error = core::Error::invalid("", impl.t("error_title"));
  error.fields.clear();
  Answers result = candidate;
  if (!impl.check_page(*page, in, true, result, error)) {
    out.error = std::move(error);
    out.entered = std::move(in);
    return out;
  }
  auto done = impl.done(result);
  if (std::find(done.begin(), done.end(), page->id) == done.end()) done.emplace_back(page->id);
  result[std::string(kDone)] = join_lines(done);
  out.answers = std::move(result);
  out.next = next_page(out.answers);
  const auto* next = impl.form.page(out.next);
  out.exit = next && next->exit;
  return out;
}

std::vector<SummarySection> Filling::summary(const Answers& answers) const {
  const auto& impl = *impl_;
  std::vector<SummarySection> out;
  for (const auto* p : impl.route(answers)) {
    if (p->exit) continue;
    SummarySection section{p->id, p->title, {}};
    auto row = [&](const Question& q, const Question* group, int item) {
      if (q.type == QuestionType::info) return;
      auto base = (group ? item_prefix(group->id, item) : std::string()) + q.id;
      SummaryRow r{base, impl.label_of(q, group, item), "", p->id, field_id(base)};
      if (q.type == QuestionType::computed) {
        r.changeable = false;
        r.value = impl.display_value(q, impl.computed(answers, q, group, item));
      } else if (!parts_of(q.type).empty()) {
        r.value = impl.compound_display(q, answers, base);
        r.anchor = field_id(base + "." + std::string(parts_of(q.type).front().key));
        if (r.value.empty()) r.value = impl.t("not_answered");
      } else {
        r.value = impl.display(q, value_of(answers, base));
      }
      section.rows.push_back(std::move(r));
    };
    for (const auto& q : p->questions) {
      if (!impl.applies(answers, q)) continue;
      if (q.type != QuestionType::group) {
        row(q, nullptr, -1);
        continue;
      }
      for (int i = 0, n = item_count(answers, q); i < n; ++i) {
        for (const auto& m : q.questions) {
          if (impl.applies(answers, m, &q, i)) row(m, &q, i);
        }
      }
    }
    out.push_back(std::move(section));
  }
  return out;
}

core::Status Filling::finish(const Answers& answers) const {
  const auto& impl = *impl_;
  auto error = core::Error::invalid("", impl.t("error_title"));
  error.fields.clear();
  auto done = impl.done(answers);
  auto route = impl.route(answers);
  for (const auto* p : route) {
    if (p->exit) {
      error.and_field(p->id + ":", impl.t("errors.exit"));
      continue;
    }
    if (std::find(done.begin(), done.end(), p->id) == done.end()) {
      error.and_field(p->id + ":", impl.tf("errors.page_missing", p->title));
      continue;
    }
    Answers copy = answers;
    core::Error page_error = core::Error::invalid("", "");
    page_error.fields.clear();
    if (!impl.check_page(*p, answers, false, copy, page_error)) {
      for (auto& f : page_error.fields) error.and_field(p->id + ":" + f.field, f.message);
    }
  }
  if (!error.fields.empty()) return core::fail(std::move(error));
  return {};
}

Answers Filling::applicable(const Answers& answers) const {
  const auto& impl = *impl_;
  Answers out;
  auto copy = [&](const std::string& base) {
    for (auto it = answers.lower_bound(base); it != answers.end() && it->first.starts_with(base);
         ++it) {
      auto rest = std::string_view(it->first).substr(base.size());
      if (rest.empty() || rest[0] == '.') out[it->first] = it->second;
    }
  };
  for (const auto* p : impl.route(answers)) {
    if (p->exit) continue;
    for (const auto& q : p->questions) {
      if (!impl.applies(answers, q) || q.type == QuestionType::info) continue;
      if (q.type == QuestionType::computed) {
        auto v = impl.computed(answers, q, nullptr, -1);
        if (v.kind == expr::Value::Kind::number)
          out[q.id] = fmt::format("{}", v.number);
        else if (v.kind != expr::Value::Kind::none)
          out[q.id] = impl.display_value(q, v);
        continue;
      }
      if (q.type != QuestionType::group) {
        copy(q.id);
        continue;
      }
      int n = item_count(answers, q);
      out[q.id] = std::to_string(n);
      for (int i = 0; i < n; ++i) {
        for (const auto& m : q.questions) {
          if (!impl.applies(answers, m, &q, i) || m.type == QuestionType::info) continue;
          auto base = item_prefix(q.id, i) + m.id;
          if (m.type == QuestionType::computed) {
            auto v = impl.computed(answers, m, &q, i);
            if (v.kind == expr::Value::Kind::number)
              out[base] = fmt::format("{}", v.number);
            else if (v.kind != expr::Value::Kind::none)
              out[base] = impl.display_value(m, v);
            continue;
          }
          copy(base);
        }
      }
    }
  }
  return out;
}

std::string Filling::display(const Question& q, std::string_view value) const {
  return impl_->display(q, value);
}

void add_summary(web::View& model, const std::vector<SummarySection>& sections,
                 const std::function<std::string(const SummaryRow&)>& change) {
  model.set_list("sections", {});
  for (const auto& s : sections) {
    web::View section;
    section.set("title", s.title);
    section.set_list("rows", {});
    for (const auto& r : s.rows) {
      web::View row;
      row.set("label", r.label);
      row.set_list("lines", {});
      std::size_t start = 0;
      while (start <= r.value.size()) {
        auto end = r.value.find('\n', start);
        if (end == std::string::npos) end = r.value.size();
        row.add("lines", web::View::of(r.value.substr(start, end - start)));
        start = end + 1;
      }
      auto link = change(r);
      if (link.empty()) {
        row.set("change", false);
      } else {
        row.set("change", std::move(link));
      }
      row.set("change_hidden", r.label);
      section.add("rows", std::move(row));
    }
    model.add("sections", std::move(section));
  }
}

}  // namespace mvsp::forms
