#pragma once
// Private to forms: a checked form's compiled expressions and patterns, and the parts of
// the compound question types.

#include <map>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/form.hpp>
#include <string>
#include <vector>

#include "expression.hpp"

namespace mvsp::forms {

// An editor's pattern, compiled by RE2: matching takes time linear in the answer and
// never recurses per character (std::regex does both: a pattern like ([a-z]+ ?)+ hung or
// crashed the server on a posted answer).
class Pattern;
// nullptr, with the reason in `error`, when RE2 does not take the pattern (lookarounds and
// back-references are not supported: they are what makes matching slow).
std::shared_ptr<const Pattern> compile_pattern(const std::string& text, std::string& error);
// Whether the whole of `text` matches.
bool full_match(const Pattern& pattern, std::string_view text);

struct Logic {
  struct QuestionLogic {
    expr::Expression show_if;
    expr::Expression value;  // computed
    std::shared_ptr<const Pattern> pattern;
  };
  std::map<std::string, QuestionLogic, std::less<>> questions;  // by path: "hunde.rasse"
  std::map<std::string, expr::Expression, std::less<>> page_show_if;
  std::map<std::string, std::vector<expr::Expression>, std::less<>> page_routes;
  std::vector<expr::Expression> rules;
};

// The parts of a compound answer ("anschrift.plz"), in the order they are asked, each
// with its element name and autocomplete token.
struct Part {
  std::string_view key;
  std::string_view element;
  std::string_view autocomplete;
};
const std::vector<Part>& parts_of(QuestionType type);

// The expression type of a question's answer (Type::any where none can be referenced).
expr::Type value_type(QuestionType type);

// A date bound: "2026-01-31", "today", "today-18y", "today+6m", "today-30d"; the day it
// means for `today` (days since 1970), nullopt when the text is none of these.
std::optional<std::int64_t> date_bound(std::string_view text, std::int64_t today);

// An XML NCName of ASCII letters, digits, '_', '-', '.', not starting with a digit, '-' or
// '.', and not starting with "xml": what xmlName and xmlRoot may be.
bool is_element_name(std::string_view s);

// Reading kept answers (filling.cpp), for the pages and the outputs alike: the value at a
// path ("" when unanswered), the items of a group (within its bounds), the lines of a
// multiple choice or a list of files.
std::string value_of(const Answers& a, std::string_view path);
int item_count(const Answers& a, const Question& group);
std::vector<std::string> split_lines(std::string_view s);

// The keys a prefill may bind to ("account.given_name").
const std::vector<std::string_view>& prefill_bindings();

}  // namespace mvsp::forms
