// The expression language of form logic: what it accepts, what it refuses when a form is
// saved (with where and why), and what it computes over answers.
#include "expression.hpp"

#include <gtest/gtest.h>

#include <map>

namespace mvsp::forms::expr {
namespace {

// Names of a small form: numbers, texts, a date, a yes/no, a list, and a group "hunde".
Resolver names() {
  static const std::map<std::string, Type, std::less<>> top = {{"anzahl", Type::number},
                                                               {"name", Type::text},
                                                               {"geburt", Type::date},
                                                               {"ja", Type::boolean},
                                                               {"sprachen", Type::list}};
  return [](std::string_view n) -> std::optional<Symbol> {
    if (n == "hunde") {
      return Symbol{Type::group, [](std::string_view m) -> std::optional<Symbol> {
                      if (m == "steuer") return Symbol{Type::number, {}};
                      if (m == "rasse") return Symbol{Type::text, {}};
                      return std::nullopt;
                    }};
    }
    auto it = top.find(n);
    if (it == top.end()) return std::nullopt;
    return Symbol{it->second, {}};
  };
}

Scope answers() {
  Scope s;
  s.today = *parse_iso_date("2026-12-03");
  s.value = [](std::string_view n) -> Value {
    if (n == "anzahl") return Value::of_number(3);
    if (n == "name") return Value::of_text("Bello");
    if (n == "geburt") return Value::of_date(*parse_iso_date("2000-12-04"));
    if (n == "ja") return Value::of(true);
    if (n == "sprachen") return Value::of_list({"de", "en"});
    return {};
  };
  s.items = [](std::string_view g) {
    std::vector<Scope> items;
    if (g != "hunde") return items;
    for (double steuer : {120.0, 600.0}) {
      Scope item;
      item.value = [steuer](std::string_view m) {
        return m == "steuer" ? Value::of_number(steuer) : Value{};
      };
      items.push_back(item);
    }
    return items;
  };
  return s;
}

Value run(std::string_view text) {
  auto parsed = Expression::parse(text, names());
  if (auto* why = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << text << ": " << *why;
    return {};
  }
  return std::get<Expression>(parsed).evaluate(answers());
}

std::string refusal(std::string_view text) {
  auto parsed = Expression::parse(text, names());
  auto* why = std::get_if<std::string>(&parsed);
  return why ? *why : std::string("(accepted)");
}

TEST(FormExpressions, ConditionsHoldOrNotOverTheAnswers) {
  struct Case {
    const char* text;
    bool holds;
  };
  const Case cases[] = {
      {"anzahl = 3", true},
      {"anzahl > 3", false},
      {"anzahl >= 3 and name = 'Bello'", true},
      {"anzahl < 2 or ja", true},
      {"not ja", false},
      {"name in ['Bello', 'Rex']", true},
      {"anzahl in [1, 2]", false},
      {"geburt < today", true},
      {"years(geburt) >= 26", false},  // the birthday is tomorrow
      {"years(geburt) = 25", true},
      {"count(hunde) = 2", true},
      {"sum(hunde.steuer) = 720", true},
      {"filled(name) and filled(sprachen)", true},
      {"(anzahl + 2) * 2 = 10", true},
      {"anzahl / 0 = 1", false},  // no value: the comparison is false
      {"lower(name) = \"bello\"", true},
      {"geburt + 1 = date('2000-12-05')", true},
      {"today - geburt > 9000", true},
      {"if(ja, 1, 2) = 1", true},
      {"-anzahl < 0", true},
  };
  for (const auto& c : cases) EXPECT_EQ(run(c.text).truthy(), c.holds) << c.text;
}

TEST(FormExpressions, AnUnansweredQuestionMakesComparisonsFalseButNotEqualTrue) {
  auto parsed = Expression::parse("anzahl > 1", names());
  auto e = std::get<Expression>(parsed);
  Scope empty;
  EXPECT_FALSE(e.evaluate(empty).truthy());
  EXPECT_TRUE(
      std::get<Expression>(Expression::parse("name != 'x'", names())).evaluate(empty).truthy());
  EXPECT_FALSE(
      std::get<Expression>(Expression::parse("name = 'x'", names())).evaluate(empty).truthy());
  EXPECT_EQ(std::get<Expression>(Expression::parse("anzahl + 1", names())).evaluate(empty).kind,
            Value::Kind::none);
}

TEST(FormExpressions, MistakesAreRefusedWithWhereAndWhy) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"hund = 1", "unbekannte Frage „hund“"},
      {"anzahl = 'drei'", "Zahl und Text lassen sich nicht vergleichen"},
      {"name and ja", "„and“ erwartet Wahrheitswert, nicht Text"},
      {"anzahl +", "Ausdruck endet zu früh"},
      {"anzahl = 1)", "unerwartet: „)“"},
      {"'offen", "Text ohne schließendes Anführungszeichen"},
      {"exec('rm')", "unbekannte Funktion „exec“"},
      {"count(name)", "„name“ ist keine Gruppe"},
      {"sum(hunde.rasse)", "sum() erwartet eine Zahl"},
      {"hunde = 1", "„hunde“ ist eine Gruppe"},
      {"date('2026-02-30') < today", "date() erwartet ein Datum"},
      {"anzahl § 2", "unbekanntes Zeichen „§“"},
      {"if(ja, 1, 'x') = 1", "beide Zweige brauchen denselben Typ"},
      {"1.2.3 = anzahl", "keine Zahl"},
  };
  for (const auto& c : cases) {
    auto why = refusal(c.text);
    EXPECT_NE(why.find(c.says), std::string::npos) << c.text << " → " << why;
    EXPECT_TRUE(why.starts_with("Zeichen ")) << why;
  }
}

TEST(FormExpressions, DeepOrLongExpressionsAreRefusedNotRecursedInto) {
  std::string deep(200, '(');
  deep += "1";
  deep += std::string(200, ')');
  EXPECT_NE(refusal(deep).find("zu tief geschachtelt"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 100; ++i) nots += "not ";
  EXPECT_NE(refusal(nots + "ja").find("zu tief"), std::string::npos);
  EXPECT_NE(refusal(std::string(kMaxLength + 1, '1')).find("länger als"), std::string::npos);
}

TEST(FormExpressions, DatesAreCheckedAndAgesCountWholeYears) {
  EXPECT_FALSE(parse_iso_date("2026-02-29"));
  EXPECT_TRUE(parse_iso_date("2028-02-29"));
  EXPECT_FALSE(parse_iso_date("2026-1-01"));
  EXPECT_FALSE(parse_iso_date("2026-01-0x"));
  EXPECT_EQ(iso_date(*parse_iso_date("1999-12-31")), "1999-12-31");
  EXPECT_EQ(whole_years(*parse_iso_date("2008-02-29"), *parse_iso_date("2026-02-28")), 17);
  EXPECT_EQ(whole_years(*parse_iso_date("2008-02-29"), *parse_iso_date("2026-03-01")), 18);
}

TEST(FormExpressions, NamesListsWhatAnExpressionReads) {
  auto e = std::get<Expression>(
      Expression::parse("anzahl > 1 and count(hunde) < 3 or name = 'x'", names()));
  EXPECT_EQ(e.names(), (std::vector<std::string>{"anzahl", "hunde", "name"}));
}

}  // namespace
}  // namespace mvsp::forms::expr
