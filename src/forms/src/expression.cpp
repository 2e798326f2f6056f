#include "expression.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace mvsp::forms::expr {

std::string_view type_name(Type t) {
  switch (t) {
    case Type::boolean:
      return "Wahrheitswert";
    case Type::number:
      return "Zahl";
    case Type::text:
      return "Text";
    case Type::date:
      return "Datum";
    case Type::list:
      return "Liste";
    case Type::group:
      return "Gruppe";
    case Type::any:
      return "Wert";
  }
  return "Wert";
}

Value Value::of(bool b) {
  Value v;
  v.kind = Kind::boolean;
  v.boolean = b;
  return v;
}
Value Value::of_number(double n) {
  Value v;
  v.kind = Kind::number;
  v.number = n;
  return v;
}
Value Value::of_text(std::string s) {
  Value v;
  v.kind = Kind::text;
  v.text = std::move(s);
  return v;
}
Value Value::of_date(std::int64_t days) {
  Value v;
  v.kind = Kind::date;
  v.number = static_cast<double>(days);
  return v;
}
Value Value::of_list(std::vector<std::string> l) {
  Value v;
  v.kind = Kind::list;
  v.list = std::move(l);
  return v;
}
bool Value::truthy() const {
  return kind == Kind::boolean && boolean;
}

std::optional<std::int64_t> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  auto num = [&](std::size_t at, std::size_t n, auto& out) {
    auto part = text.substr(at, n);
    if (!std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    return std::from_chars(part.data(), part.data() + n, out).ec == std::errc{};
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

std::string iso_date(std::int64_t days) {
  std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(days))};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::int64_t whole_years(std::int64_t from, std::int64_t to) {
  std::chrono::year_month_day a{std::chrono::sys_days(std::chrono::days(from))};
  std::chrono::year_month_day b{std::chrono::sys_days(std::chrono::days(to))};
  auto years = static_cast<int>(b.year()) - static_cast<int>(a.year());
  if (std::pair(static_cast<unsigned>(b.month()), static_cast<unsigned>(b.day())) <
      std::pair(static_cast<unsigned>(a.month()), static_cast<unsigned>(a.day())))
    --years;
  return years;
}

enum class Op {
  literal,
  name,
  neg,
  logical_not,
  logical_and,
  logical_or,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  in,
  add,
  sub,
  mul,
  div,
  count,
  sum,
  filled,
  years,
  date,
  days,
  lower,
  choose,
  today
};

struct Node {
  Op op = Op::literal;
  Type type = Type::any;
  Value literal;
  std::string name;    // Op::name; for sum: "group.question"
  std::string member;  // sum: the item's question
  std::vector<std::shared_ptr<const Node>> args;
};

namespace {

using NodePtr = std::shared_ptr<const Node>;

struct Token {
  enum class Kind { end, number, text, name, symbol } kind = Kind::end;
  std::string text;
  std::size_t at = 0;
};

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

class Parser {
 public:
  Parser(std::string_view text, const Resolver& names) : text_(text), names_(names) {}

  NodePtr parse() {
    next();
    auto n = parse_or(0);
    if (token_.kind != Token::Kind::end) fail(fmt::format("unerwartet: „{}“", token_.text));
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    throw std::invalid_argument(fmt::format("Zeichen {}: {}", token_.at + 1, why));
  }

  void next() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
    token_ = {};
    token_.at = pos_;
    if (pos_ >= text_.size()) return;
    char c = text_[pos_];
    if (c >= '0' && c <= '9') {
      auto start = pos_;
      while (pos_ < text_.size() &&
             ((text_[pos_] >= '0' && text_[pos_] <= '9') || text_[pos_] == '.'))
        ++pos_;
      token_ = {Token::Kind::number, std::string(text_.substr(start, pos_ - start)), start};
      return;
    }
    if (c == '\'' || c == '"') {
      auto start = pos_++;
      std::string s;
      while (pos_ < text_.size() && text_[pos_] != c) s += text_[pos_++];
      if (pos_ >= text_.size()) {
        token_.at = start;
        fail("Text ohne schließendes Anführungszeichen");
      }
      ++pos_;
      token_ = {Token::Kind::text, std::move(s), start};
      return;
    }
    if (name_start(c)) {
      auto start = pos_;
      while (pos_ < text_.size() && (name_char(text_[pos_]) || text_[pos_] == '.')) ++pos_;
      token_ = {Token::Kind::name, std::string(text_.substr(start, pos_ - start)), start};
      return;
    }
    static constexpr std::string_view kTwo[] = {"!=", "<=", ">="};
    for (auto s : kTwo) {
      if (text_.substr(pos_, 2) == s) {
        token_ = {Token::Kind::symbol, std::string(s), pos_};
        pos_ += 2;
        return;
      }
    }
    if (std::string_view("=<>+-*/()[],").find(c) != std::string_view::npos) {
      token_ = {Token::Kind::symbol, std::string(1, c), pos_++};
      return;
    }
    // the whole character, also where it takes several bytes in UTF-8
    auto lead = static_cast<unsigned char>(c);
    std::size_t n = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    fail(fmt::format("unbekanntes Zeichen „{}“", text_.substr(pos_, n)));
  }

  bool is(std::string_view symbol) const {
    return (token_.kind == Token::Kind::symbol || token_.kind == Token::Kind::name) &&
           token_.text == symbol;
  }
  void expect(std::string_view symbol) {
    if (!is(symbol)) fail(fmt::format("„{}“ erwartet", symbol));
    next();
  }
  void depth(int d) {
    if (d > kMaxDepth) fail("zu tief geschachtelt");
  }

  static std::shared_ptr<Node> make(Op op, Type type, std::vector<NodePtr> args = {}) {
    auto n = std::make_shared<Node>();
    n->op = op;
    n->type = type;
    n->args = std::move(args);
    return n;
  }

  void want(const NodePtr& n, std::initializer_list<Type> types, std::string_view what) {
    if (n->type == Type::any) return;
    for (auto t : types) {
      if (n->type == t) return;
    }
    fail(fmt::format("{} erwartet {}, nicht {}", what, type_name(*types.begin()),
                     type_name(n->type)));
  }

  NodePtr parse_or(int d) {
    depth(d);
    auto left = parse_and(d + 1);
    while (is("or")) {
      next();
      auto right = parse_and(d + 1);
      want(left, {Type::boolean}, "„or“");
      want(right, {Type::boolean}, "„or“");
      left = make(Op::logical_or, Type::boolean, {left, right});
    }
    return left;
  }
  NodePtr parse_and(int d) {
    depth(d);
    auto left = parse_not(d + 1);
    while (is("and")) {
      next();
      auto right = parse_not(d + 1);
      want(left, {Type::boolean}, "„and“");
      want(right, {Type::boolean}, "„and“");
      left = make(Op::logical_and, Type::boolean, {left, right});
    }
    return left;
  }
  NodePtr parse_not(int d) {
    depth(d);
    if (is("not")) {
      next();
      auto n = parse_not(d + 1);
      want(n, {Type::boolean}, "„not“");
      return make(Op::logical_not, Type::boolean, {n});
    }
    return parse_comparison(d + 1);
  }
  NodePtr parse_comparison(int d) {
    depth(d);
    auto left = parse_sum(d + 1);
    static constexpr std::pair<std::string_view, Op> kOps[] = {
        {"=", Op::eq}, {"!=", Op::ne}, {"<", Op::lt}, {"<=", Op::le},
        {">", Op::gt}, {">=", Op::ge}, {"in", Op::in}};
    for (auto [symbol, op] : kOps) {
      if (!is(symbol)) continue;
      next();
      auto right = parse_sum(d + 1);
      if (op == Op::in) {
        want(right, {Type::list}, "„in“");
        want(left, {Type::text, Type::number}, "„in“");
      } else if (left->type != Type::any && right->type != Type::any && left->type != right->type) {
        fail(fmt::format("{} und {} lassen sich nicht vergleichen", type_name(left->type),
                         type_name(right->type)));
      } else if (op != Op::eq && op != Op::ne) {
        want(left, {Type::number, Type::date, Type::text}, fmt::format("„{}“", symbol));
      }
      return make(op, Type::boolean, {left, right});
    }
    return left;
  }
  NodePtr parse_sum(int d) {
    depth(d);
    auto left = parse_product(d + 1);
    while (is("+") || is("-")) {
      auto op = is("+") ? Op::add : Op::sub;
      next();
      auto right = parse_product(d + 1);
      // date ± number of days, date − date in days, number ± number
      auto type = Type::number;
      if (left->type == Type::date && right->type == Type::date && op == Op::sub) {
        type = Type::number;
      } else if (left->type == Type::date) {
        want(right, {Type::number}, "Datumsrechnung");
        type = Type::date;
      } else {
        want(left, {Type::number}, "Rechnung");
        want(right, {Type::number}, "Rechnung");
      }
      left = make(op, type, {left, right});
    }
    return left;
  }
  NodePtr parse_product(int d) {
    depth(d);
    auto left = parse_unary(d + 1);
    while (is("*") || is("/")) {
      auto op = is("*") ? Op::mul : Op::div;
      next();
      auto right = parse_unary(d + 1);
      want(left, {Type::number}, "Rechnung");
      want(right, {Type::number}, "Rechnung");
      left = make(op, Type::number, {left, right});
    }
    return left;
  }
  NodePtr parse_unary(int d) {
    depth(d);
    if (is("-")) {
      next();
      auto n = parse_unary(d + 1);
      want(n, {Type::number}, "„-“");
      return make(Op::neg, Type::number, {n});
    }
    return parse_primary(d + 1);
  }

  NodePtr parse_primary(int d) {
    depth(d);
    if (token_.kind == Token::Kind::number) {
      double v = 0;
      auto& s = token_.text;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc{} || end != s.data() + s.size()) fail("keine Zahl: " + s);
      auto n = make(Op::literal, Type::number);
      n->literal = Value::of_number(v);
      next();
      return n;
    }
    if (token_.kind == Token::Kind::text) {
      auto n = make(Op::literal, Type::text);
      n->literal = Value::of_text(token_.text);
      next();
      return n;
    }
    if (is("(")) {
      next();
      auto n = parse_or(d + 1);
      expect(")");
      return n;
    }
    if (is("[")) {
      next();
      std::vector<std::string> items;
      while (!is("]")) {
        if (token_.kind == Token::Kind::text) {
          items.push_back(token_.text);
        } else if (token_.kind == Token::Kind::number) {
          items.push_back(token_.text);
        } else {
          fail("in einer Liste stehen nur Texte und Zahlen");
        }
        next();
        if (!is("]")) expect(",");
      }
      next();
      auto n = make(Op::literal, Type::list);
      n->literal = Value::of_list(std::move(items));
      return n;
    }
    if (token_.kind != Token::Kind::name) {
      fail(token_.kind == Token::Kind::end ? "Ausdruck endet zu früh"
                                           : fmt::format("unerwartet: „{}“", token_.text));
    }
    auto word = token_.text;
    auto at = token_.at;
    next();
    if (word == "true" || word == "false") {
      auto n = make(Op::literal, Type::boolean);
      n->literal = Value::of(word == "true");
      return n;
    }
    if (word == "today") return make(Op::today, Type::date);
    if (is("(")) return parse_call(word, d);
    auto symbol = names_ ? names_(word) : std::nullopt;
    if (!symbol) {
      token_.at = at;
      fail(fmt::format("unbekannte Frage „{}“", word));
    }
    if (symbol->type == Type::group) {
      token_.at = at;
      fail(fmt::format("„{}“ ist eine Gruppe: count({}) zählt ihre Einträge", word, word));
    }
    auto n = make(Op::name, symbol->type);
    n->name = word;
    return n;
  }

  NodePtr parse_call(const std::string& fn, int d) {
    next();  // (
    if (fn == "count" || fn == "sum") {
      if (token_.kind != Token::Kind::name) fail(fmt::format("{}() erwartet eine Gruppe", fn));
      auto ref = token_.text;
      auto dot = ref.find('.');
      auto group = ref.substr(0, fn == "sum" ? dot : std::string::npos);
      auto symbol = names_ ? names_(group) : std::nullopt;
      if (!symbol || symbol->type != Type::group) fail(fmt::format("„{}“ ist keine Gruppe", group));
      auto n = std::make_shared<Node>();
      n->op = fn == "count" ? Op::count : Op::sum;
      n->type = Type::number;
      n->name = group;
      if (fn == "sum") {
        if (dot == std::string::npos) fail("sum() erwartet gruppe.frage");
        n->member = ref.substr(dot + 1);
        auto member = symbol->member ? symbol->member(n->member) : std::nullopt;
        if (!member) fail(fmt::format("„{}“ hat keine Frage „{}“", group, n->member));
        if (member->type != Type::number && member->type != Type::any)
          fail(fmt::format("sum() erwartet eine Zahl, „{}“ ist {}", ref, type_name(member->type)));
      }
      next();
      expect(")");
      return n;
    }
    if (fn == "if") {
      auto condition = parse_or(d + 1);
      want(condition, {Type::boolean}, "if()");
      expect(",");
      auto then = parse_or(d + 1);
      expect(",");
      auto otherwise = parse_or(d + 1);
      expect(")");
      if (then->type != otherwise->type && then->type != Type::any && otherwise->type != Type::any)
        fail(fmt::format("if() ergibt {} oder {}: beide Zweige brauchen denselben Typ",
                         type_name(then->type), type_name(otherwise->type)));
      return make(Op::choose, then->type == Type::any ? otherwise->type : then->type,
                  {condition, then, otherwise});
    }
    static constexpr std::pair<std::string_view, Op> kFunctions[] = {{"filled", Op::filled},
                                                                     {"years", Op::years},
                                                                     {"date", Op::date},
                                                                     {"days", Op::days},
                                                                     {"lower", Op::lower}};
    for (auto [name, op] : kFunctions) {
      if (fn != name) continue;
      auto arg = parse_or(d + 1);
      expect(")");
      Type type = Type::boolean;
      switch (op) {
        case Op::years:
        case Op::days:
          want(arg, {Type::date}, fmt::format("{}()", fn));
          type = Type::number;
          break;
        case Op::date:
          if (arg->op != Op::literal || arg->type != Type::text ||
              !parse_iso_date(arg->literal.text))
            fail("date() erwartet ein Datum wie '2026-01-31'");
          type = Type::date;
          break;
        case Op::lower:
          want(arg, {Type::text}, "lower()");
          type = Type::text;
          break;
        default:
          break;
      }
      if (op == Op::date) {
        auto n = make(Op::literal, Type::date);
        n->literal = Value::of_date(*parse_iso_date(arg->literal.text));
        return n;
      }
      return make(op, type, {arg});
    }
    fail(fmt::format("unbekannte Funktion „{}“", fn));
  }

  std::string_view text_;
  const Resolver& names_;
  std::size_t pos_ = 0;
  Token token_;
};

bool same(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::boolean:
      return a.boolean == b.boolean;
    case Value::Kind::number:
    case Value::Kind::date:
      return a.number == b.number;
    case Value::Kind::text:
      return a.text == b.text;
    case Value::Kind::list:
      return a.list == b.list;
    case Value::Kind::none:
      return false;
  }
  return false;
}

std::string number_text(double n) {
  if (std::floor(n) == n && std::abs(n) < 1e15) return fmt::format("{}", static_cast<long long>(n));
  return fmt::format("{}", n);
}

Value eval(const Node& n, const Scope& s) {
  using K = Value::Kind;
  auto arg = [&](std::size_t i) { return eval(*n.args[i], s); };
  switch (n.op) {
    case Op::literal:
      return n.literal;
    case Op::today:
      return Value::of_date(s.today);
    case Op::name:
      return s.value ? s.value(n.name) : Value{};
    case Op::neg: {
      auto v = arg(0);
      return v.kind == K::number ? Value::of_number(-v.number) : Value{};
    }
    case Op::logical_not:
      return Value::of(!arg(0).truthy());
    case Op::logical_and:
      return Value::of(arg(0).truthy() && arg(1).truthy());
    case Op::logical_or:
      return Value::of(arg(0).truthy() || arg(1).truthy());
    case Op::eq:
      return Value::of(same(arg(0), arg(1)));
    case Op::ne:
      return Value::of(!same(arg(0), arg(1)));
    case Op::lt:
    case Op::le:
    case Op::gt:
    case Op::ge: {
      auto a = arg(0);
      auto b = arg(1);
      if (a.kind == K::none || a.kind != b.kind) return Value::of(false);
      int c = 0;
      if (a.kind == K::text) {
        c = a.text < b.text ? -1 : (a.text == b.text ? 0 : 1);
      } else if (a.kind == K::number || a.kind == K::date) {
        c = a.number < b.number ? -1 : (a.number == b.number ? 0 : 1);
      } else {
        return Value::of(false);
      }
      switch (n.op) {
        case Op::lt:
          return Value::of(c < 0);
        case Op::le:
          return Value::of(c <= 0);
        case Op::gt:
          return Value::of(c > 0);
        default:
          return Value::of(c >= 0);
      }
    }
    case Op::in: {
      auto a = arg(0);
      auto list = arg(1);
      if (a.kind == K::none) return Value::of(false);
      auto key = a.kind == K::number ? number_text(a.number) : a.text;
      return Value::of(std::find(list.list.begin(), list.list.end(), key) != list.list.end());
    }
    case Op::add:
    case Op::sub:
    case Op::mul:
    case Op::div: {
      auto a = arg(0);
      auto b = arg(1);
      if (a.kind == K::none || b.kind == K::none) return {};
      double r = 0;
      switch (n.op) {
        case Op::add:
          r = a.number + b.number;
          break;
        case Op::sub:
          r = a.number - b.number;
          break;
        case Op::mul:
          r = a.number * b.number;
          break;
        default:
          if (b.number == 0) return {};
          r = a.number / b.number;
      }
      if (!std::isfinite(r)) return {};
      if (a.kind == K::date && b.kind != K::date)
        return Value::of_date(static_cast<std::int64_t>(r));
      return Value::of_number(r);
    }
    case Op::count:
      return Value::of_number(s.items ? static_cast<double>(s.items(n.name).size()) : 0);
    case Op::sum: {
      double total = 0;
      if (s.items) {
        for (const auto& item : s.items(n.name)) {
          auto v = item.value ? item.value(n.member) : Value{};
          if (v.kind == K::number) total += v.number;
        }
      }
      return Value::of_number(total);
    }
    case Op::filled: {
      auto v = arg(0);
      return Value::of(v.kind != K::none && !(v.kind == K::text && v.text.empty()) &&
                       !(v.kind == K::list && v.list.empty()));
    }
    case Op::years: {
      auto v = arg(0);
      if (v.kind != K::date) return {};
      return Value::of_number(
          static_cast<double>(whole_years(static_cast<std::int64_t>(v.number), s.today)));
    }
    case Op::days: {
      auto v = arg(0);
      if (v.kind != K::date) return {};
      return Value::of_number(v.number - static_cast<double>(s.today));
    }
    case Op::date:
      return n.literal;
    case Op::choose:
      return arg(0).truthy() ? arg(1) : arg(2);
    case Op::lower: {
      auto v = arg(0);
      if (v.kind != K::text) return {};
      std::string out = v.text;
      std::transform(out.begin(), out.end(), out.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return Value::of_text(std::move(out));
    }
  }
  return {};
}

void collect(const Node& n, std::set<std::string>& out) {
  if (n.op == Op::name || n.op == Op::count) out.insert(n.name);
  if (n.op == Op::sum) out.insert(n.name + "." + n.member);
  for (const auto& a : n.args) collect(*a, out);
}

}  // namespace

std::variant<Expression, std::string> Expression::parse(std::string_view text,
                                                        const Resolver& names) {
  if (text.size() > kMaxLength) return fmt::format("länger als {} Zeichen", kMaxLength);
  Parser parser(text, names);
  try {
    Expression e;
    e.root_ = parser.parse();
    return e;
  } catch (const std::invalid_argument& error) {
    return std::string(error.what());
  }
}

Value Expression::evaluate(const Scope& scope) const {
  return root_ ? eval(*root_, scope) : Value{};
}

Type Expression::type() const {
  return root_ ? root_->type : Type::any;
}

std::vector<std::string> Expression::names() const {
  std::set<std::string> out;
  if (root_) collect(*root_, out);
  return {out.begin(), out.end()};
}

}  // namespace mvsp::forms::expr
