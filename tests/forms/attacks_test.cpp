// What an attacker tried on forms (the review of the forms component), each once a crash, a
// hang or a hole: an editor's pattern that backtracks, computed values in a circle or built
// on each other exponentially, fields of other pages posted, answers handed back in a form
// the pages never write, bounds and keys that make invalid schemas.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <mvsp/forms/component.hpp>
#include <mvsp/forms/filling.hpp>
#include <mvsp/forms/forms.hpp>
#include <mvsp/forms/outputs.hpp>
#include <mvsp/web/templates.hpp>

#include "support.hpp"

namespace mvsp::forms {
namespace {

std::string one_page(const std::string& questions, const std::string& key = "a") {
  return R"({"format":"mvsp-form/1","key":")" + key +
         R"(","title":"A","pages":[{"id":"p","title":"P","questions":[)" + questions + "]}]}";
}

std::string first_problem(const core::Result<Form>& f) {
  if (f) return "(accepted)";
  return f.error().fields.empty()
             ? f.error().message
             : f.error().fields.front().field + ": " + f.error().fields.front().message;
}

class Attacks : public ::testing::Test {
 protected:
  void SetUp() override { texts_.add(embedded_resources()); }
  web::Catalog texts_;
};

// std::regex recursed per character and backtracked: a posted answer of 60 KB crashed the
// server, 28 characters took 11 s. RE2 matches in linear time.
TEST_F(Attacks, ABacktrackingPatternOnALongAnswerIsAnsweredNotFatal) {
  auto form = parse_form(one_page(
      R"({"id":"t","type":"text","label":"T","maxLength":100000,"pattern":"([A-Za-z]+ ?)+"})"));
  ASSERT_TRUE(form) << first_problem(form);
  Filling f(*form, texts_, {.now = core::from_millis(1'796'295'600'000)});
  std::string long_answer;
  for (int i = 0; i < 30000; ++i) long_answer += "a ";
  auto o = f.submit("p", {}, {{"t", long_answer + "!"}});
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->fields.front().message, "„T“ hat nicht die erwartete Form.");
  auto slow = f.submit("p", {}, {{"t", std::string(40, 'a') + "!"}});
  EXPECT_TRUE(slow.error);
  EXPECT_TRUE(f.submit("p", {}, {{"t", "Grüne Wiese"}}).error) << "ü is not [A-Za-z]";
  EXPECT_FALSE(f.submit("p", {}, {{"t", "Gruene Wiese"}}).error);
  // what makes matching slow is refused when the form is saved
  auto lookahead =
      parse_form(one_page(R"({"id":"t","type":"text","label":"T","pattern":"(?=a)a"})"));
  EXPECT_NE(first_problem(lookahead).find("pattern: ist kein gültiger regulärer Ausdruck"),
            std::string::npos)
      << first_problem(lookahead);
}

TEST_F(Attacks, ComputedValuesInACircleAreRefusedWhenTheFormIsSaved) {
  auto self = parse_form(one_page(
      R"({"id":"g","type":"group","label":"G","itemLabel":"G","maxCount":3,"questions":[
         {"id":"n","type":"integer","label":"N"},{"id":"c","type":"computed","label":"C","value":"c + 1"}]})"));
  EXPECT_NE(first_problem(self).find("liest sich im Kreis: g.c → g.c"), std::string::npos)
      << first_problem(self);
  auto through_sum = parse_form(one_page(
      R"j({"id":"t","type":"computed","label":"T","value":"sum(g.c)"},
         {"id":"g","type":"group","label":"G","itemLabel":"G","maxCount":3,"questions":[
         {"id":"c","type":"computed","label":"C","value":"t + 1"}]})j"));
  EXPECT_NE(first_problem(through_sum).find("liest sich im Kreis"), std::string::npos)
      << first_problem(through_sum);
}

// c1 = c0 + c0, c2 = c1 + c1, …: evaluated without memory, 20 levels were a million steps.
TEST_F(Attacks, ComputedValuesBuiltOnEachOtherCountOnceAndNoDeeperThanTwenty) {
  std::string qs =
      R"({"id":"x","type":"integer","label":"X"},{"id":"c0","type":"computed","label":"C0","value":"x"})";
  for (int i = 1; i <= 19; ++i)
    qs += fmt::format(R"(,{{"id":"c{}","type":"computed","label":"C{}","value":"c{} + c{}"}})", i,
                      i, i - 1, i - 1);
  auto form = parse_form(one_page(qs));
  ASSERT_TRUE(form) << first_problem(form);
  Filling f(*form, texts_, {.now = core::from_millis(1'796'295'600'000)});
  auto o = f.submit("p", {}, {{"x", "1"}});
  ASSERT_FALSE(o.error);
  EXPECT_EQ(f.applicable(o.answers).at("c19"), "524288");
  auto deeper = parse_form(
      one_page(qs + R"(,{"id":"c20","type":"computed","label":"C20","value":"c19 + 1"})"));
  EXPECT_NE(first_problem(deeper).find("mehr als 20 Stufen"), std::string::npos)
      << first_problem(deeper);
}

// A page read every posted name: answers of other pages, unchecked, reached the outputs.
TEST_F(Attacks, FieldsOfOtherPagesAndUnknownFieldsArePostedInVain) {
  auto form = parse_form(R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[
    {"id":"p1","title":"P1","questions":[{"id":"datum","type":"date","label":"Datum","max":"today"}]},
    {"id":"p2","title":"P2","questions":[{"id":"ok","type":"yes_no","label":"OK"}]}]})");
  ASSERT_TRUE(form);
  Filling f(*form, texts_, {.now = core::from_millis(1'796'295'600'000)});
  auto a = f.submit("p1", {}, {{"datum", "01.01.2000"}}).answers;
  Posted posted = {
      {"ok", "ja"}, {"datum", "kein-datum"}, {"junk", std::string(1000, 'x')}, {"_done", "p1\np2"}};
  auto o = f.submit("p2", a, posted);
  ASSERT_FALSE(o.error);
  EXPECT_EQ(o.answers.at("datum"), "2000-01-01");
  EXPECT_FALSE(o.answers.contains("junk"));
  EXPECT_TRUE(f.finish(o.answers));
}

// finish() checked answers as a page accepts them, not how they are kept: a caller's
// tampered answers passed, with a date that is none and a choice that is not offered.
TEST_F(Attacks, KeptAnswersInAFormNoPageWritesFailTheFinalCheck) {
  auto form = parse_form(R"({"format":"mvsp-form/1","key":"a","title":"A","pages":[
    {"id":"p1","title":"P1","questions":[{"id":"datum","type":"date","label":"Datum","max":"today"},
      {"id":"wahl","type":"choice","label":"Wahl","options":[{"value":"a","label":"A"}]},
      {"id":"betrag","type":"money","label":"Betrag"}]}]})");
  ASSERT_TRUE(form);
  Filling f(*form, texts_, {.now = core::from_millis(1'796'295'600'000)});
  Answers good = {{"_done", "p1"}, {"datum", "2000-01-01"}, {"wahl", "a"}, {"betrag", "1250"}};
  EXPECT_TRUE(f.finish(good));
  for (auto [key, bad] : {std::pair{"datum", "kein-datum"}, std::pair{"wahl", "<b>x</b>"},
                          std::pair{"betrag", "12,50"}, std::pair{"datum", "2000-01-01\x01"}}) {
    auto tampered = good;
    tampered[key] = bad;
    auto done = f.finish(tampered);
    ASSERT_FALSE(done) << key << "=" << bad;
    EXPECT_EQ(done.error().fields.front().field, std::string("p1:") + key);
  }
}

TEST_F(Attacks, BoundsAndKeysThatNoSchemaCanStateAreRefused) {
  for (const char* bound : {"inf", "nan", "1e999", "-inf", "0x10"}) {
    auto f = parse_form(
        one_page(fmt::format(R"({{"id":"n","type":"integer","label":"N","min":"{}"}})", bound)));
    EXPECT_NE(first_problem(f).find("keine gültige Grenze"), std::string::npos)
        << bound << ": " << first_problem(f);
  }
  auto digit = parse_form(one_page(R"({"id":"n","type":"text","label":"N"})", "9-test"));
  EXPECT_NE(first_problem(digit).find("key: "), std::string::npos);
  auto fine = parse_form(one_page(R"({"id":"n","type":"text","label":"N"})", "test-9"));
  ASSERT_TRUE(fine);
  EXPECT_EQ(xml_root(*fine), "Test9");
}

}  // namespace
}  // namespace mvsp::forms
