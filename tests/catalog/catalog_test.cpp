// The catalog's store and rules, on both databases.
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/audit.hpp>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/db.hpp>

#include "support.hpp"

namespace mvsp::catalog {
namespace {

const Editor kState{.actor = "test:state", .state_wide = true, .tenant_ids = {}};

Authority authority(std::string id, std::string tenant, std::string region, std::string name) {
  return {.id = std::move(id),
          .tenant_id = std::move(tenant),
          .region = std::move(region),
          .name = std::move(name),
          .street = "Am Markt 1",
          .postcode = "23966",
          .city = "Wismar",
          .phone = "03841 2510",
          .email = "info@example.org"};
}

Service service(std::string key, std::string name) {
  Service s;
  s.leika_key = std::move(key);
  s.name = std::move(name);
  s.texts.description = "Beschreibung von " + s.name;
  s.texts.fees = "25 Euro";
  s.level = "municipality";
  return s;
}

class CatalogTest : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    database_->migrate(clock_);
    audit_ = std::make_unique<core::AuditLog>(clock_);
    catalog_ = std::make_unique<Catalog>(db(), clock_, ids_, *audit_);
  }
  test::ManualClock clock_;
  test::SequenceIds ids_;
  std::unique_ptr<core::AuditLog> audit_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_P(CatalogTest, KnowsTheStateItsDistrictsAndAllMunicipalities) {
  EXPECT_EQ(catalog_->municipalities().size(), 726u);
  auto wismar = catalog_->region("13074087");
  ASSERT_TRUE(wismar);
  EXPECT_EQ(wismar->name, "Wismar, Hansestadt");
  EXPECT_EQ(wismar->display_name(), "Hansestadt Wismar");
  EXPECT_EQ(wismar->parent, "13074");
  EXPECT_EQ(catalog_->region("13074")->name, "Landkreis Nordwestmecklenburg");
  EXPECT_EQ(catalog_->region("13")->kind, "state");
  // A second catalog on the same database does not load them twice.
  Catalog again(db(), clock_, ids_, *audit_);
  EXPECT_EQ(again.municipalities().size(), 726u);
}

TEST_P(CatalogTest, FindsPlacesByNameWordOrAgs) {
  auto wis = catalog_->find_places("Wis", 10);
  ASSERT_FALSE(wis.empty());
  EXPECT_EQ(wis[0].short_name, "Wismar");
  auto doberan = catalog_->find_places("doberan", 10);
  ASSERT_FALSE(doberan.empty());
  EXPECT_EQ(doberan[0].short_name, "Bad Doberan");
  auto umlaut = catalog_->find_places("ÜCKERITZ", 10);
  ASSERT_EQ(umlaut.size(), 1u);
  EXPECT_EQ(umlaut[0].short_name, "Ückeritz");
  EXPECT_EQ(catalog_->find_places("13004", 5)[0].short_name, "Schwerin");
  EXPECT_EQ(catalog_->find_places("Neuenkirchen", 10).size(), 4u) << "same name, four places";
  EXPECT_TRUE(catalog_->find_places("%", 10).empty());
  EXPECT_TRUE(catalog_->find_places("  ", 10).empty());
}

TEST_P(CatalogTest, RoutesToTheMostSpecificResponsibility) {
  ASSERT_TRUE(catalog_->put_authority(kState, authority("hwi-ordnungsamt", "t-wismar", "13074087",
                                                        "Hansestadt Wismar, Ordnungsamt")));
  ASSERT_TRUE(catalog_->put_authority(
      kState, authority("lk-nwm", "t-nwm", "13074", "Landkreis Nordwestmecklenburg")));
  ASSERT_TRUE(catalog_->put_service(kState, service("99108008000000", "Hundesteuer anmelden")));
  ASSERT_TRUE(catalog_->put_responsibility(kState, {"99108008000000", "13074", "lk-nwm"}));
  ASSERT_TRUE(
      catalog_->put_responsibility(kState, {"99108008000000", "13074087", "hwi-ordnungsamt"}));
  auto wismar = catalog_->route("99108008000000", "13074087");
  ASSERT_TRUE(wismar) << wismar.error().message;
  EXPECT_EQ(wismar->authority.id, "hwi-ordnungsamt");
  auto elsewhere = catalog_->route("99108008000000", "13074001");  // another place in NWM
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->authority.id, "lk-nwm");
  EXPECT_EQ(elsewhere->responsibility_region.key, "13074");
  EXPECT_EQ(catalog_->route("99108008000000", "13003000").error().code, core::ErrorCode::not_found);
  EXPECT_EQ(catalog_->route("99108008000000", "99999999").error().code,
            core::ErrorCode::invalid_input);
}

TEST_P(CatalogTest, BadInputIsNamedFieldByFieldAndNothingIsWritten) {
  auto bad = service("123", "");
  bad.level = "galaxy";
  auto st = catalog_->put_service(kState, bad);
  ASSERT_FALSE(st);
  std::set<std::string> fields;
  for (const auto& f : st.error().fields) fields.insert(f.field);
  EXPECT_TRUE(fields.contains("service.leikaKey"));
  EXPECT_TRUE(fields.contains("service.name"));
  EXPECT_TRUE(fields.contains("service.level"));
  EXPECT_TRUE(catalog_->services().empty());
  auto r = catalog_->put_responsibility(kState, {"99108008000000", "13074087", "nobody"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().fields.size(), 2u) << "no such service, no such authority";
}

// What citizens are shown to write to and call must be an address and a number.
TEST_P(CatalogTest, AnAuthoritysEmailAndPhoneAreChecked) {
  struct Case {
    const char* email;
    const char* phone;
    std::set<std::string> refused;
  };
  const Case cases[] = {
      {"buergerbuero@schwerin.de", "+49 385 545-0", {}},
      {"info@lk-nwm.de", "(03841) 3040-0", {}},
      {"kein-at", "", {"authority.email"}},
      {"a@b", "", {"authority.email"}},
      {"zwei@@schwerin.de", "", {"authority.email"}},
      {"x y@schwerin.de", "", {"authority.email"}},
      {"", "abc", {"authority.phone"}},
      {"", "12", {"authority.phone"}},
      {"", "0385 545\n0", {"authority.phone"}},
      {"bad", "bad", {"authority.email", "authority.phone"}},
  };
  for (const auto& c : cases) {
    auto a = authority("sn-test", "t-sn", "13004000", "Bürgerbüro");
    a.email = c.email;
    a.phone = c.phone;
    auto saved = catalog_->put_authority(kState, a);
    std::set<std::string> refused;
    if (!saved) {
      for (const auto& f : saved.error().fields) refused.insert(f.field);
    }
    EXPECT_EQ(refused, c.refused) << c.email << " / " << c.phone;
  }
  // Far too long: named as too long, never matched (std::regex recurses per character).
  auto huge = authority("sn-test", "t-sn", "13004000", "Bürgerbüro");
  huge.email = std::string(300000, 'a') + "@schwerin.de";
  huge.phone = std::string(100000, '1');
  auto refused = catalog_->put_authority(kState, huge);
  ASSERT_FALSE(refused);
  std::set<std::string> fields;
  for (const auto& f : refused.error().fields) fields.insert(f.field);
  EXPECT_EQ(fields, (std::set<std::string>{"authority.email", "authority.phone"}));
  // A row stored before these rules still reads: it is shown and routed as it was.
  ASSERT_TRUE(catalog_->put_authority(kState, authority("sn-alt", "t-sn", "13004000", "Alt")));
  db().execute(
      "UPDATE catalog_authorities SET data = REPLACE(data, '03841 2510', '0385 545-0 (Zentrale)') "
      "WHERE id = 'sn-alt'");
  auto old = catalog_->authority("sn-alt");
  ASSERT_TRUE(old) << "an older row must not vanish";
  EXPECT_EQ(old->phone, "0385 545-0 (Zentrale)");
}

TEST_P(CatalogTest, ADistrictEditorChangesOwnSpecialisationsOnly) {
  ASSERT_TRUE(catalog_->put_authority(kState, authority("lk-nwm", "t-nwm", "13074", "LK NWM")));
  ASSERT_TRUE(catalog_->put_authority(kState, authority("lk-lup", "t-lup", "13076", "LK LUP")));
  ASSERT_TRUE(catalog_->put_service(kState, service("99108008000000", "Hundesteuer anmelden")));
  Editor nwm{.actor = "account:a", .state_wide = false, .tenant_ids = {"t-nwm"}};
  ASSERT_TRUE(catalog_->put_specialisation(
      nwm, {"99108008000000", "lk-nwm", "fees", "Im Kreis: 30 Euro", true}));
  auto other =
      catalog_->put_specialisation(nwm, {"99108008000000", "lk-lup", "fees", "Fremder Text", true});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, core::ErrorCode::forbidden);
  auto svc = catalog_->service("99108008000000");
  EXPECT_EQ(catalog_->texts_for(*svc, "lk-nwm").fees, "Im Kreis: 30 Euro");
  EXPECT_EQ(catalog_->texts_for(*svc, "lk-lup").fees, "25 Euro");
  EXPECT_FALSE(catalog_->put_service(nwm, service("99108008000000", "Umbenannt")));
  auto renamed = authority("lk-lup", "t-lup", "13076", "Übernommen");
  EXPECT_EQ(catalog_->put_authority(nwm, renamed).error().code, core::ErrorCode::forbidden);
}

TEST_P(CatalogTest, PublishingANewVersionNoticesEveryAdopter) {
  for (auto [id, tenant, region] :
       {std::tuple{"hro", "t-hro", "13003"}, std::tuple{"sn", "t-sn", "13004"},
        std::tuple{"lk-vr", "t-vr", "13075"}}) {
    ASSERT_TRUE(catalog_->put_authority(kState, authority(id, tenant, region, id)));
  }
  ASSERT_TRUE(catalog_->put_service(kState, service("99050012104000", "Gewerbeanmeldung")));
  OnlineService os{.leika_key = "99050012104000", .name = "Gewerbe anmelden (EfA)"};
  os.config.steps = {"Angaben", "Unterlagen", "Bezahlen", "Absenden"};
  os.config.fee_cents = 2600;
  auto created = catalog_->put_online_service(kState, os);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->state, "draft");
  EXPECT_EQ(catalog_->publish(kState, created->id, "production").error().code,
            core::ErrorCode::conflict)
      << "draft must pass test first";
  ASSERT_TRUE(catalog_->publish(kState, created->id, "test"));
  ASSERT_TRUE(catalog_->publish(kState, created->id, "production"));
  Editor hro{.actor = "account:h", .state_wide = false, .tenant_ids = {"t-hro"}};
  Editor sn{.actor = "account:s", .state_wide = false, .tenant_ids = {"t-sn"}};
  ASSERT_TRUE(catalog_->adopt(hro, created->id, "hro"));
  ASSERT_TRUE(catalog_->adopt(sn, created->id, "sn"));
  EXPECT_EQ(catalog_->adopt(hro, created->id, "sn").error().code, core::ErrorCode::forbidden);

  auto changed = *catalog_->online_service(created->id);
  changed.config.fee_cents = 3100;
  auto v2 = catalog_->put_online_service(kState, changed);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->version, 2);
  for (const char* a : {"hro", "sn"}) {
    auto n = catalog_->notices(a);
    ASSERT_EQ(n.size(), 1u) << a;
    EXPECT_EQ(n[0].version, 2);
    EXPECT_EQ(n[0].online_service_id, created->id);
  }
  EXPECT_TRUE(catalog_->notices("lk-vr").empty()) << "did not adopt it";
  // An adopting authority gets the online service on its routes.
  ASSERT_TRUE(catalog_->put_responsibility(kState, {"99050012104000", "13003", "hro"}));
  auto route = catalog_->route("99050012104000", "13003000");
  ASSERT_TRUE(route);
  ASSERT_TRUE(route->online_service);
  EXPECT_EQ(route->online_service->config.fee_cents, 3100);
  // Authority editors cannot change the state's online service.
  EXPECT_EQ(catalog_->put_online_service(hro, changed).error().code, core::ErrorCode::forbidden);
}

// One rule, used by the use cases and the editorial pages alike.
TEST_P(CatalogTest, WhoMayEditWhat) {
  ASSERT_TRUE(catalog_->put_authority(kState, authority("hwi", "t-wismar", "13074087", "HWI")));
  const Editor wismar{.actor = "test:wismar", .tenant_ids = {"t-wismar"}};
  const Editor other{.actor = "test:other", .tenant_ids = {"t-rostock"}};
  auto hwi = *catalog_->authority("hwi");
  EXPECT_TRUE(may_edit(kState, hwi));
  EXPECT_TRUE(may_edit(wismar, hwi));
  EXPECT_FALSE(may_edit(other, hwi));
  OnlineService states{.name = "Landesdienst"};
  OnlineService theirs{.name = "Wismars Dienst", .owner = "hwi"};
  OnlineService unknown{.name = "?", .owner = "no-such-authority"};
  EXPECT_TRUE(catalog_->may_edit(kState, states));
  EXPECT_FALSE(catalog_->may_edit(wismar, states)) << "the state's own: state-wide editors only";
  EXPECT_TRUE(catalog_->may_edit(wismar, theirs));
  EXPECT_FALSE(catalog_->may_edit(other, theirs));
  EXPECT_FALSE(catalog_->may_edit(wismar, unknown));
  EXPECT_TRUE(catalog_->may_edit(kState, unknown));
}

// The review: rows that failed to decode vanished from lists without a word.
TEST_P(CatalogTest, RowsThatNoLongerDecodeAreLeftOutButCounted) {
  ASSERT_TRUE(catalog_->put_authority(kState, authority("hwi", "t-wismar", "13074087", "HWI")));
  ASSERT_TRUE(catalog_->put_service(kState, service("99108008000000", "Hundesteuer anmelden")));
  ASSERT_TRUE(catalog_->put_service(kState, service("99050012104000", "Parkausweis beantragen")));
  db().execute("UPDATE catalog_services SET data = '{not json' WHERE leika_key = '99108008000000'");
  db().execute("UPDATE catalog_authorities SET data = '{\"id\": 7}' WHERE id = 'hwi'");
  EXPECT_EQ(catalog_->undecodable_rows(), 0);
  ASSERT_EQ(catalog_->services().size(), 1u);
  EXPECT_EQ(catalog_->services()[0].name, "Parkausweis beantragen");
  EXPECT_FALSE(catalog_->service("99108008000000"));
  EXPECT_TRUE(catalog_->authorities().empty());
  EXPECT_EQ(catalog_->undecodable_rows(), 4) << "each row each time it is read";
}

TEST_P(CatalogTest, ExportAndImportCarryEverythingAndABadImportWritesNothing) {
  ASSERT_TRUE(catalog_->put_authority(kState, authority("hwi", "t-wismar", "13074087", "HWI")));
  ASSERT_TRUE(catalog_->put_service(kState, service("99108008000000", "Hundesteuer anmelden")));
  ASSERT_TRUE(catalog_->put_responsibility(kState, {"99108008000000", "13074087", "hwi"}));
  auto exported = catalog_->export_json();

  test::TestDatabase other(GetParam());
  other.migrate(clock_);
  Catalog copy(other.db(), clock_, ids_, *audit_);
  ASSERT_TRUE(copy.import_json(kState, exported));
  EXPECT_EQ(copy.export_json(), exported);
  EXPECT_EQ(copy.route("99108008000000", "13074087")->authority.name, "HWI");

  // One broken reference: the import stops and nothing of it is kept.
  test::TestDatabase third(GetParam());
  third.migrate(clock_);
  Catalog empty(third.db(), clock_, ids_, *audit_);
  auto broken = exported;
  broken.replace(broken.find("\"authorityId\":\"hwi\""), 19, "\"authorityId\":\"xyz\"");
  auto st = empty.import_json(kState, broken);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().fields.at(0).field, "responsibilities[0].authorityId");
  EXPECT_TRUE(empty.services().empty());
  EXPECT_TRUE(empty.authorities().empty());
  EXPECT_FALSE(empty.import_json(kState, "not json"));
  Editor district{.actor = "a", .state_wide = false, .tenant_ids = {"t"}};
  EXPECT_EQ(empty.import_json(district, exported).error().code, core::ErrorCode::forbidden);
}

INSTANTIATE_TEST_SUITE_P(Databases, CatalogTest, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::catalog
