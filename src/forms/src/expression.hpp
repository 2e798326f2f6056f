#pragma once
// Private to forms: the small expression language of a form's logic (conditions, routes,
// computed values, rules). An expression is parsed and checked against the form's questions
// when the form is saved, and evaluated over the answers by walking its tree: never as code.
//
//   literals      12  12.5  'Text'  "Text"  true  false  today  ['a', 'b']
//   references    anzahl   anschrift.plz   (inside a group: the item's own questions)
//   operators     or  and  not  =  !=  <  <=  >  >=  in  +  -  *  /  ( )
//   functions     count(group)  sum(group.question)  filled(x)  years(date)
//                 date('2026-01-31')  days(date)  lower(text)  if(condition, a, b)
//
// Comparisons with an unanswered question are false (but != is true); arithmetic with one
// gives "unanswered"; a condition that is unanswered counts as false.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mvsp::forms::expr {

enum class Type { boolean, number, text, date, list, group, any };
std::string_view type_name(Type t);

// What a name in an expression refers to, for the check: its type, and for a group the
// types of its items' questions.
struct Symbol {
  Type type = Type::any;
  std::function<std::optional<Symbol>(std::string_view member)> member;
};
using Resolver = std::function<std::optional<Symbol>(std::string_view name)>;

// A value while evaluating. Dates are days since 1970-01-01.
struct Value {
  enum class Kind { none, boolean, number, text, date, list } kind = Kind::none;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<std::string> list;

  static Value of(bool b);
  static Value of_number(double n);
  static Value of_text(std::string s);
  static Value of_date(std::int64_t days);
  static Value of_list(std::vector<std::string> l);
  bool truthy() const;
};

// What evaluation asks of the answers: a name's value, and for a group its items (each
// with its own lookup of the items' questions).
struct Scope {
  std::function<Value(std::string_view name)> value;
  std::function<std::vector<Scope>(std::string_view group)> items;
  std::int64_t today = 0;  // days since 1970-01-01, in Germany
};

struct Node;

class Expression {
 public:
  Expression() = default;
  // The tree of `text`, checked against `names`; the error says where and why, in German.
  static std::variant<Expression, std::string> parse(std::string_view text, const Resolver& names);
  Value evaluate(const Scope& scope) const;
  Type type() const;
  bool empty() const { return !root_; }
  // Every name the expression reads: questions, groups it counts, "group.question" it sums.
  std::vector<std::string> names() const;

 private:
  std::shared_ptr<const Node> root_;
};

inline constexpr std::size_t kMaxLength = 2000;
inline constexpr int kMaxDepth = 40;

// Days since 1970-01-01 of an ISO date "2026-01-31"; nullopt when it is no real date.
std::optional<std::int64_t> parse_iso_date(std::string_view text);
std::string iso_date(std::int64_t days);
// Whole years from `from` to `to` (an age).
std::int64_t whole_years(std::int64_t from, std::int64_t to);

}  // namespace mvsp::forms::expr
