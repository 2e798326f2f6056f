// The search API over HTTP with the demo catalog, on both databases.
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/finder/finder.hpp>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::finder {
namespace {

class SearchApi : public test::ServerTest {
 protected:
  void add_routes(app::App& app) override { app.load_demo_data(); }
};

TEST_P(SearchApi, AnswersLikeThePagesWithTheResponsibleAuthority) {
  auto c = client();
  auto res = c.get("/api/v1/search?q=Hund%20anmelden&ags=13074087");
  ASSERT_EQ(res.status, 200) << res.body;
  auto first = res.body.find("\"leikaKey\":\"99108008000000\"");
  EXPECT_NE(first, std::string::npos) << res.body;
  EXPECT_NE(res.body.find("Hansestadt Wismar, Abteilung Steuern und Abgaben"), std::string::npos);
  EXPECT_NE(res.body.find("\"suggestion\":null"), std::string::npos);
  auto typo = c.get("/api/v1/search?q=Gewerbeanmeldng");
  EXPECT_NE(typo.body.find("\"suggestion\":\"gewerbeanmeldung\""), std::string::npos) << typo.body;
  auto synonym = c.get("/api/v1/search?q=Ummeldung");
  auto name = synonym.body.find("\"name\":\"");
  ASSERT_NE(name, std::string::npos) << synonym.body;
  EXPECT_EQ(synonym.body.substr(name + 8, 18), "Wohnsitz anmelden\"") << "first result";
}

TEST_P(SearchApi, BadRequestsNameTheParameter) {
  auto c = client();
  auto none = c.get("/api/v1/search");
  EXPECT_EQ(none.status, 422);
  EXPECT_EQ(none.header("content-type"), "application/problem+json");
  EXPECT_NE(none.body.find("\"field\":\"q\""), std::string::npos);
  auto bad_place = c.get("/api/v1/search?q=Hund&ags=13074");
  EXPECT_EQ(bad_place.status, 422);
  EXPECT_NE(bad_place.body.find("\"field\":\"ags\""), std::string::npos);
  auto long_q = c.get("/api/v1/search?q=" + std::string(201, 'a'));
  EXPECT_EQ(long_q.status, 422);
}

TEST_P(SearchApi, TheIndexFollowsChangesOfTheCatalog) {
  catalog::Service s;
  s.leika_key = "99999000000002";
  s.name = "Drohnenaufstieg anzeigen";
  s.level = "state";
  ASSERT_TRUE(app_->get<catalog::Catalog>().put_service(
      {.actor = "t", .state_wide = true, .tenant_ids = {}}, s));
  app_->get<finder::Finder>().refresh();
  auto res = client().get("/api/v1/search?q=Drohnenaufstieg");
  EXPECT_NE(res.body.find("99999000000002"), std::string::npos) << res.body;
}

INSTANTIATE_TEST_SUITE_P(Databases, SearchApi, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::finder
