// The catalog API and the routing API over HTTP with the demo catalog, on both databases.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/identity/oidc.hpp>
#include <set>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::catalog {
namespace {

Poco::JSON::Object::Ptr parse(const std::string& body) {
  Poco::JSON::Parser p;
  return p.parse(body).extract<Poco::JSON::Object::Ptr>();
}

class CatalogApi : public test::ServerTest {
 protected:
  void add_routes(app::App& app) override { app.load_demo_data(); }
};

TEST_P(CatalogApi, RoutesEveryServiceWithAnOnlineServiceForEveryMunicipality) {
  auto c = client();
  std::set<std::string> keys;
  for (const auto& os : app_->get<catalog::Catalog>().online_services()) keys.insert(os.leika_key);
  ASSERT_GE(keys.size(), 10u);
  auto places = app_->get<catalog::Catalog>().municipalities();
  ASSERT_EQ(places.size(), 726u);
  std::size_t answered = 0, with_online_service = 0;
  for (const auto& key : keys) {
    for (const auto& place : places) {
      auto res = c.get("/api/v1/routes?leikaKey=" + key + "&ags=" + place.key);
      ASSERT_EQ(res.status, 200) << key << " " << place.key << " " << res.body;
      auto o = parse(res.body);
      ASSERT_EQ(o->getValue<int>("totalCount"), 1) << key << " " << place.key;
      auto route = o->getArray("routes")->getObject(0);
      EXPECT_FALSE(route->getObject("authority")->getValue<std::string>("name").empty());
      ++answered;
      if (!route->isNull("onlineService")) ++with_online_service;
    }
  }
  EXPECT_EQ(answered, keys.size() * 726);
  EXPECT_EQ(with_online_service, answered) << "every responsible authority offers it";
}

TEST_P(CatalogApi, RouteForWismarNamesItsOfficeAndTheOnlineService) {
  auto res = client().get("/api/v1/routes?leikaKey=99108008000000&ags=13074087");
  ASSERT_EQ(res.status, 200);
  auto route = parse(res.body)->getArray("routes")->getObject(0);
  EXPECT_EQ(route->getValue<std::string>("destinationName"),
            "Hansestadt Wismar, Abteilung Steuern und Abgaben");
  auto os = route->getObject("onlineService");
  EXPECT_EQ(os->getValue<std::string>("id"), "hundesteuer-online");
  EXPECT_EQ(os->getValue<std::string>("form"), "hundesteuer-anmelden");
  EXPECT_EQ(os->getValue<int>("formVersion"), 1);
  // Without an online service, the route still names the office.
  auto plain = client().get("/api/v1/routes?leikaKey=99017001000000&ags=13074087");
  auto r = parse(plain.body)->getArray("routes")->getObject(0);
  EXPECT_TRUE(r->isNull("onlineService"));
  EXPECT_EQ(r->getValue<std::string>("destinationName"), "Hansestadt Wismar, Bürgerbüro");
}

TEST_P(CatalogApi, BadRoutingRequestsGetProblemJsonNamingTheParameter) {
  auto c = client();
  auto missing = c.get("/api/v1/routes");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(missing.header("content-type"), "application/problem+json");
  EXPECT_NE(missing.body.find("leikaKey"), std::string::npos);
  EXPECT_NE(missing.body.find("ags"), std::string::npos);
  auto bad_ags = c.get("/api/v1/routes?leikaKey=99108008000000&ags=12345");
  EXPECT_EQ(bad_ags.status, 422);
  EXPECT_NE(bad_ags.body.find("\"ags\""), std::string::npos);
  // As the API description says: 14 digits, not any text (it once answered 200 and nothing).
  for (const char* leika : {"abc", "9910800800000", "991080080000000", "99108008000%2000"}) {
    auto bad_leika = c.get(std::string("/api/v1/routes?leikaKey=") + leika + "&ags=13074087");
    EXPECT_EQ(bad_leika.status, 422) << leika;
    EXPECT_NE(bad_leika.body.find("\"leikaKey\""), std::string::npos) << leika;
  }
  auto bad_limit = c.get("/api/v1/routes?leikaKey=99108008000000&ags=13074087&limit=9999");
  EXPECT_EQ(bad_limit.status, 422);
  auto unknown = c.get("/api/v1/routes?leikaKey=99999999999999&ags=13074087");
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(parse(unknown.body)->getValue<int>("totalCount"), 0);
}

TEST_P(CatalogApi, ReadingIsPublicAndWritingNeedsACatalogScope) {
  auto c = client();
  auto list = c.get("/api/v1/catalog/services");
  ASSERT_EQ(list.status, 200);
  EXPECT_GE(parse(list.body)->getValue<int>("count"), 60);
  auto one = c.get("/api/v1/catalog/services/99050012104000");
  EXPECT_NE(one.body.find("Gewerbeanmeldung"), std::string::npos);
  EXPECT_EQ(c.get("/api/v1/catalog/services/00000000000000").status, 404);
  auto places = c.get("/api/v1/catalog/regions?q=Wism");
  EXPECT_NE(places.body.find("Hansestadt Wismar"), std::string::npos);
  EXPECT_EQ(c.get("/api/v1/catalog/regions").status, 422);

  auto exported = c.get("/api/v1/catalog/export");
  ASSERT_EQ(exported.status, 200);
  auto anonymous = c.request("POST", "/api/v1/catalog/import", exported.body,
                             {{"Content-Type", "application/json"}});
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("www-authenticate"), "Bearer");
  EXPECT_NE(anonymous.body.find("urn:mvsp:problem:unauthenticated"), std::string::npos);

  // A machine client of the state's editorial office may import; one without the scope not.
  auto admin = app_->get<identity::Provider>().create_client(
      {.name = "Redaktionssystem", .scopes = {"catalog:admin"}, .grants = {"client_credentials"}},
      "test");
  auto other = app_->get<identity::Provider>().create_client(
      {.name = "Fachverfahren", .scopes = {"notices:write"}, .grants = {"client_credentials"}},
      "test");
  ASSERT_TRUE(admin && other);
  auto token_for = [&](const identity::CreatedClient& cl, const std::string& scope) {
    auto res = c.request("POST", "/api/v1/oidc/token",
                         "grant_type=client_credentials&scope=" + scope + "&client_id=" +
                             cl.client.client_id + "&client_secret=" + cl.client_secret,
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
    return parse(res.body)->getValue<std::string>("access_token");
  };
  auto ok = c.request("POST", "/api/v1/catalog/import", exported.body,
                      {{"Content-Type", "application/json"},
                       {"Authorization", "Bearer " + token_for(*admin, "catalog:admin")}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto refused = c.request("POST", "/api/v1/catalog/import", exported.body,
                           {{"Content-Type", "application/json"},
                            {"Authorization", "Bearer " + token_for(*other, "notices:write")}});
  EXPECT_EQ(refused.status, 401);
  auto broken = c.request("PUT", "/api/v1/catalog/services/99050012104000",
                          R"({"leikaKey":"99050012104000","name":"","level":"x"})",
                          {{"Content-Type", "application/json"},
                           {"Authorization", "Bearer " + token_for(*admin, "catalog:admin")}});
  EXPECT_EQ(broken.status, 422);
  EXPECT_NE(broken.body.find("service.name"), std::string::npos);
  EXPECT_NE(broken.body.find("service.level"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Databases, CatalogApi, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::catalog
