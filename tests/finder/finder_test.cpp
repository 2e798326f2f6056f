// The search over the demo catalog: a table of queries a citizen would type and the
// service that must come first; synonyms, spelling, filters and keeping current.
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/text.hpp>
#include <mvsp/finder/finder.hpp>

#include "support.hpp"

namespace mvsp::finder {
namespace {

const catalog::Editor kState{.actor = "test", .state_wide = true, .tenant_ids = {}};

class FinderTest : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    database_->migrate(clock_);
    audit_ = std::make_unique<core::AuditLog>(clock_);
    catalog_ = std::make_unique<catalog::Catalog>(db(), clock_, ids_, *audit_);
    auto demo =
        core::fill_placeholders(catalog::demo_catalog_json(), {{"tenant:schwerin", "t-schwerin"},
                                                               {"tenant:wismar", "t-wismar"},
                                                               {"tenant:mbd", "t-mbd"}});
    ASSERT_TRUE(catalog_->import_json(kState, demo));
    finder_ = std::make_unique<Finder>(*catalog_, dir_.path() / "index");
  }
  std::string first(const std::string& text) {
    auto r = finder_->search({.text = text});
    return r.hits.empty() ? std::string("(nothing)") : r.hits[0].name;
  }
  test::ManualClock clock_;
  test::SequenceIds ids_;
  test::TempDir dir_;
  std::unique_ptr<core::AuditLog> audit_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Finder> finder_;
};

TEST_P(FinderTest, RanksTheServiceACitizenMeansFirst) {
  const std::vector<std::pair<std::string, std::string>> kTable = {
      {"Hund anmelden", "Hundesteuer anmelden"},
      {"Hundesteuer", "Hundesteuer anmelden"},
      {"Hund abmelden", "Hundesteuer abmelden"},
      {"Ummeldung", "Wohnsitz anmelden"},
      {"Umzug melden", "Wohnsitz anmelden"},
      {"Wohnsitz anmelden", "Wohnsitz anmelden"},
      {"Wohnung abmelden", "Wohnsitz abmelden"},
      {"Gewerbeanmeldung", "Gewerbeanmeldung"},
      {"Gewerbeanmeldng", "Gewerbeanmeldung"},
      {"Gewerbe anmelden", "Gewerbeanmeldung"},
      {"Gewerbe abmelden", "Gewerbeabmeldung"},
      {"Führungszeugnis", "Führungszeugnis beantragen"},
      {"Fuehrungszeugnis", "Führungszeugnis beantragen"},
      {"Personalausweis", "Personalausweis beantragen"},
      {"Ausweis verloren", "Verlust des Personalausweises melden"},
      {"Reisepass", "Reisepass beantragen"},
      {"Kita", "Kita-Platz beantragen"},
      {"Kindergarten", "Kita-Platz beantragen"},
      {"Bildungspaket", "Bildungspaket beantragen"},
      {"Gesundheitszeugnis", "Belehrung nach § 43 Infektionsschutzgesetz"},
      {"Aufenthaltserlaubnis", "Aufenthaltstitel verlängern"},
      {"Baugenehmigung", "Bauantrag stellen"},
      {"Bauantrag", "Bauantrag stellen"},
      {"Kampfmittel", "Kampfmittel: Auskunft beantragen"},
      {"Munitionsbelastung", "Kampfmittel: Auskunft beantragen"},
      {"Allgemeine Anfrage", "Allgemeine Anfrage"},
      {"Halteverbot Umzug", "Verkehrsrechtliche Anordnung beantragen"},
      {"Auto anmelden", "Fahrzeug zulassen"},
      {"Auto abmelden", "Fahrzeug außer Betrieb setzen"},
      {"Wohngeld", "Wohngeld beantragen"},
      {"Heiraten", "Eheschließung anmelden"},
      {"Geburtsurkunde", "Geburt beurkunden"},
      {"Kirchenaustritt", "Kirchenaustritt erklären"},
      {"Angelschein", "Fischereischein beantragen"},
      {"Sperrmüll", "Sperrmüll anmelden"},
      {"Schwerbehindertenausweis", "Schwerbehindertenausweis beantragen"},
      {"Briefwahl", "Briefwahl beantragen"},
      {"Baum fällen", "Baum fällen: Genehmigung beantragen"},
      {"Elterngeld", "Elterngeld beantragen"},
      {"Einbürgerung", "Einbürgerung beantragen"},
  };
  ASSERT_GE(kTable.size(), 30u);
  for (const auto& [query, expected] : kTable) {
    EXPECT_EQ(first(query), expected) << "query: " << query;
  }
}

TEST_P(FinderTest, CorrectsSpellingAndSaysSo) {
  auto r = finder_->search({.text = "Gewerbeanmeldng"});
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(r.hits[0].leika_key, "99050012104000");
  EXPECT_EQ(r.suggestion, "gewerbeanmeldung");
  auto exact = finder_->search({.text = "Gewerbeanmeldung"});
  EXPECT_EQ(exact.suggestion, "") << "nothing to correct";
  EXPECT_TRUE(finder_->search({.text = "Xylophonreparatur"}).hits.empty());
}

TEST_P(FinderTest, FiltersByTopicAndLifeSituation) {
  auto moving = finder_->search({.text = "", .life_situation = "umzug", .limit = 100});
  ASSERT_FALSE(moving.hits.empty());
  bool has_wohnsitz = false;
  for (const auto& h : moving.hits) {
    auto s = catalog_->service(h.leika_key);
    ASSERT_TRUE(s);
    EXPECT_NE(std::find(s->life_situations.begin(), s->life_situations.end(), "umzug"),
              s->life_situations.end())
        << h.name;
    if (h.name == "Wohnsitz anmelden") has_wohnsitz = true;
  }
  EXPECT_TRUE(has_wohnsitz);
  auto tax = finder_->search({.text = "anmelden", .topic = "steuern"});
  ASSERT_FALSE(tax.hits.empty());
  EXPECT_EQ(tax.hits[0].name, "Hundesteuer anmelden");
}

TEST_P(FinderTest, KeepsCurrentWhenTheCatalogChanges) {
  EXPECT_EQ(first("Drohnenflug"), "(nothing)");
  catalog::Service s;
  s.leika_key = "99999000000001";
  s.name = "Drohnenflug anzeigen";
  s.level = "state";
  ASSERT_TRUE(catalog_->put_service(kState, s));
  finder_->rebuild();
  EXPECT_EQ(first("Drohnenflug"), "Drohnenflug anzeigen");
  EXPECT_EQ(finder_->size(), catalog_->services().size());
}

INSTANTIATE_TEST_SUITE_P(Databases, FinderTest, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::finder
