#pragma once
// Filling a form: which pages apply to the answers so far, a page as the citizen sees it,
// reading and checking a posted page, the check-answers summary and the final check. The
// caller (the preview pages here, the application journey in applications) keeps the
// answers; they are plain data.
//
// Answers are texts by path, in a canonical form once a page was accepted:
//   "anzahl" = "2"                      a question (numbers with '.' as decimal point)
//   "betrag" = "1250"                   money in cents
//   "geburtsdatum" = "1990-01-31"       dates in ISO form
//   "anschrift.plz" = "19053"           a part of a compound question (name, address, IBAN)
//   "sprachen" = "de\nen"               multiple choice: one value per line
//   "gefaehrlich" = "ja" / "nein"       yes/no; a confirmed declaration is "ja"
//   "hunde" = "2", "hunde[0].rasse" …   a group's number of items, and each item's answers
//   "_done" = "halter\nhunde"           the pages accepted so far

#include <cstdint>
#include <functional>
#include <map>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/forms/form.hpp>
#include <mvsp/web/view.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mvsp::web {
class Catalog;
}

namespace mvsp::forms {

using Answers = std::map<std::string, std::string, std::less<>>;
// The fields of a posted page (application/x-www-form-urlencoded pairs).
using Posted = std::vector<std::pair<std::string, std::string>>;

std::string answers_to_json(const Answers& answers);
// nullopt when `json` is not an object of texts.
std::optional<Answers> answers_from_json(std::string_view json);

// What the filling knows besides the answers.
struct FillContext {
  core::TimePoint now;  // "today" is its day in Germany
  std::string locale = "de";
  // Values to prefill by binding ("account.given_name" = "Erika"); see prefill_bindings.
  std::map<std::string, std::string, std::less<>> prefill;
  // Bindings whose values came from the eID: shown, but the citizen cannot change them.
  std::set<std::string, std::less<>> locked;
};

// One row of the check-answers page.
struct SummaryRow {
  std::string path;        // answer path ("hunde[1].rasse")
  std::string label;       // "Rasse"
  std::string value;       // as the citizen reads it: "31.01.2026", "12,50 €", "Ja"
  std::string page;        // the page to change it on
  std::string anchor;      // the field's id on that page
  bool changeable = true;  // false for computed values: no change link
};
struct SummarySection {
  std::string page;
  std::string title;
  std::vector<SummaryRow> rows;
};

// The outcome of a posted page.
struct PageOutcome {
  Answers answers;                   // accepted: the new answers; otherwise unchanged
  std::optional<core::Error> error;  // the page's errors (field paths as in Answers)
  Answers entered;                   // what was posted, to show again with the errors
  bool stay = false;                 // "add another" or "remove": show the page again
  std::string next;                  // the page to show next; "" for check answers
  bool exit = false;                 // `next` is an exit page
};

// The check-answers sections for a page ("sections": each with "title" and "rows"; a row
// with "label", its value in "lines", "change" (the link `change` gives the row, or false
// when it gives none) and "change_hidden"), as the template "forms/check" shows them.
void add_summary(web::View& model, const std::vector<SummarySection>& sections,
                 const std::function<std::string(const SummaryRow&)>& change);

class Filling {
 public:
  // `form` must be checked (parse_form/check_form); `texts` holds the forms messages.
  Filling(const Form& form, const web::Catalog& texts, FillContext context);

  // The pages that apply to these answers, in order: through conditions and routes to
  // the end, or to an exit page (then the last one).
  std::vector<const Page*> route(const Answers& answers) const;
  // The first page of the route not yet accepted; "" when every one is (check answers).
  std::string next_page(const Answers& answers) const;
  // Whether page `page_id` may be shown: it is on the route and no page before it is
  // still to be filled (nobody skips ahead by typing an address).
  bool reachable(const Answers& answers, std::string_view page_id) const;
  // The page before `page_id` on the route; "" for the first.
  std::string previous_page(const Answers& answers, std::string_view page_id) const;

  // Answers with the prefill filled in where the answer is empty, and locked values
  // always.
  Answers prefilled(Answers answers) const;

  // The view of a page for the template "forms/page" (questions, errors, progress; a title
  // that says "Fehler: " first when there are errors). With `entered`, the fields show what
  // was posted (a page shown again).
  web::View page_view(std::string_view page_id, const Answers& answers, const Answers* entered,
                      const core::Error* error) const;

  // Reads a posted page: "add another" and "remove" (field "aktion") change the group's
  // items and stay; otherwise every question that applies is checked, and the page is
  // accepted only when all pass (answers of questions that no longer apply are removed).
  PageOutcome submit(std::string_view page_id, const Answers& answers, const Posted& posted) const;

  std::vector<SummarySection> summary(const Answers& answers) const;

  // The final check before the answers are handed on: every page on the route accepted
  // and valid, every rule holds, no exit page. The error names each field (with its page
  // in the field path "page:field" for the summary's links).
  core::Status finish(const Answers& answers) const;

  // The answers that apply (questions on the route whose conditions hold), with computed
  // values; what the outputs are made of.
  Answers applicable(const Answers& answers) const;

  // The value of answer path `path` as the citizen reads it ("12,50 €").
  std::string display(const Question& q, std::string_view value) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace mvsp::forms
