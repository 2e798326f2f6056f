#pragma once
// A form definition (mvsp-form/1, docs/forms/mvsp-form-1.schema.json): pages of questions,
// the logic between them as expressions (shown only if, routes, exit pages, computed values,
// cross-field rules) and what the form produces (XML element names, namespace). A form is
// read from JSON and checked as a whole: every expression is parsed and type-checked
// against the questions, so a saved form never fails at a citizen's page.

#include <cstdint>
#include <memory>
#include <mvsp/core/error.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::forms {

enum class QuestionType {
  text,       // one line
  long_text,  // several lines
  integer,    // whole number
  decimal,    // number with decimal places ("12,5")
  money,      // euros and cents, kept as cents
  date,       // a day ("31.01.2026"), kept as "2026-01-31"
  email,
  phone,
  name,             // given and family name
  address,          // street, number, postcode and place
  iban,             // IBAN (checksum) and account holder
  choice,           // one of the options: radios, or a select for long lists
  multiple_choice,  // any of the options: checkboxes
  yes_no,
  declaration,  // "Ich versichere …": must be confirmed
  file,         // a document requirement; filled by the caller (applications)
  info,         // text only, no answer
  group,        // a repeatable group of questions ("add another")
  computed,     // a value computed from other answers (a total)
};
std::string_view type_key(QuestionType type);  // "long_text"
std::optional<QuestionType> type_from_key(std::string_view key);
const std::vector<QuestionType>& question_types();

struct Option {
  std::string value;  // what is stored and exported
  std::string label;  // what the citizen reads
};

struct Question {
  std::string id;  // [a-z][a-z0-9_]*, unique in the form (group items: in the group)
  QuestionType type = QuestionType::text;
  std::string label;
  std::string hint;
  std::string text;  // info: the text shown; declaration: what is declared
  bool required = true;
  // Validation. Lengths in characters; bounds are numbers for numbers (money in euros),
  // dates for dates: "2026-01-31", "today", or relative to today "today-18y", "today+6m".
  std::optional<std::int64_t> min_length;
  std::optional<std::int64_t> max_length;
  std::string pattern;          // ECMAScript regular expression the whole answer matches
  std::string pattern_message;  // its own message; otherwise a general one
  std::string min;
  std::string max;
  std::vector<Option> options;
  std::string code_list;  // the code list the options came from (URN), for the record
  bool select = false;    // choice: a select instead of radios (long code lists)
  // Logic (expressions, see docs/forms.md).
  std::string show_if;  // asked only when true
  std::string value;    // computed: the expression
  // Prefill from the account or the acting organisation: "account.given_name", …
  std::string prefill;
  std::string autocomplete;  // HTML autocomplete token (WCAG 1.3.5); defaults by type
  std::string xml_name;      // element name in the XML; default from the id
  // group
  std::vector<Question> questions;
  int min_count = 1;
  int max_count = 1;
  std::string item_label;  // "Hund": "Hund 1", "Weiteren Hund hinzufügen"
};

// A route: when `when` is true after the page, continue at page `go_to`.
struct Route {
  std::string when;
  std::string go_to;
};

struct Page {
  std::string id;
  std::string title;
  std::string hint;
  std::vector<Question> questions;
  std::string show_if;
  std::vector<Route> routes;
  bool exit = false;  // an exit page: the form ends here ("Sie können … nicht online …")
  std::string text;   // exit page: why, and what to do instead
};

// A cross-field rule: `check` must hold; otherwise `message` on question `field`.
struct Rule {
  std::string check;
  std::string message;
  std::string field;
};

struct Outputs {
  std::string xml_namespace;  // "urn:mvsp:form:hundesteuer-anmelden:1"; default from key
  std::string xml_root;       // "HundesteuerAnmeldung"; default from key
};

struct Logic;  // the checked, compiled expressions

struct Form {
  std::string key;  // [a-z0-9-]+, stable across versions: "hundesteuer-anmelden"
  std::string title;
  std::string intro;
  std::string language = "de";
  std::vector<Page> pages;
  std::vector<Rule> rules;
  Outputs outputs;
  // Set by parse_form/check_form; the functions that evaluate need it.
  std::shared_ptr<const Logic> logic;

  const Page* page(std::string_view id) const;
  // The question with this id, anywhere (group members as "group.member").
  const Question* question(std::string_view path) const;
};

inline constexpr std::string_view kFormat = "mvsp-form/1";

// Reads and checks a definition. Every problem is one field error with its JSON path
// ("pages[1].questions[0].showIf") and a German message.
core::Result<Form> parse_form(std::string_view json);
// Checks a form built in code (or changed by the editor) the same way, and compiles it.
core::Result<Form> check_form(Form form);
std::string to_json(const Form& form);

// A question's element name in XML: its xml_name, or its id in UpperCamelCase.
std::string element_name(const Question& q);

}  // namespace mvsp::forms
