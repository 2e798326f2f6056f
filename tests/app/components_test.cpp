// The component lifecycle: an instance builds the components it runs and the ones they
// need, registers routes only for the ones it runs, and a CLI command builds only what it
// uses.
#include <gtest/gtest.h>

#include <mvsp/catalog/catalog.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/delivery/delivery.hpp>
#include <mvsp/finder/finder.hpp>
#include <mvsp/identity/identity.hpp>
#include <mvsp/identity/oidc.hpp>
#include <mvsp/mailbox/mailbox.hpp>
#include <mvsp/web/component.hpp>
#include <mvsp/web/router.hpp>
#include <set>

#include "app.hpp"
#include "support.hpp"

namespace mvsp::app {
namespace {

class Components : public ::testing::Test {
 protected:
  Settings settings(std::optional<std::vector<std::string>> components) {
    Settings s;
    s.database = "sqlite:" + (dir_.path() / "mvsp.db").string();
    s.data_dir = dir_.path();
    s.smtp_port = 1;
    s.components = std::move(components);
    return s;
  }
  static bool routed(App& app, web::Method method, const char* path) {
    auto m = app.router().match(method, path);
    return m.handler != nullptr;
  }
  test::TempDir dir_;
};

TEST_F(Components, TheListHasEveryComponentOnceAndNeedsPointBackwards) {
  std::set<std::string, std::less<>> seen;
  for (const auto& c : all_components()) {
    for (auto need : c->needs()) {
      EXPECT_TRUE(seen.contains(need)) << c->name() << " needs " << need << " listed after it";
    }
    EXPECT_TRUE(seen.emplace(c->name()).second) << c->name() << " twice";
  }
  EXPECT_EQ(component_names(),
            (std::vector<std::string>{"identity", "catalog", "finder", "mailbox", "delivery",
                                      "forms", "payments", "cases", "applications"}));
}

TEST_F(Components, TheDeliveryServiceAloneBuildsWhatItNeedsAndServesOnlyItsRoutes) {
  App app(settings(std::vector<std::string>{"delivery"}));
  auto& services = app.services();
  EXPECT_NE(services.find<delivery::Delivery>(), nullptr);
  EXPECT_NE(services.find<mailbox::Mailbox>(), nullptr);  // its own adapter writes there
  EXPECT_NE(services.find<identity::Identity>(), nullptr);
  EXPECT_EQ(services.find<catalog::Catalog>(), nullptr);
  EXPECT_EQ(services.find<finder::Finder>(), nullptr);
  EXPECT_TRUE(routed(app, web::Method::post, "/api/v1/notices"));
  // Machine clients get their tokens where only the delivery service runs.
  EXPECT_TRUE(routed(app, web::Method::post, "/api/v1/oidc/token"));
  // Nobody logs in or reads a mailbox here, and no browser flow of the provider starts.
  EXPECT_FALSE(routed(app, web::Method::get, "/anmelden"));
  EXPECT_FALSE(routed(app, web::Method::get, "/oidc/authorize"));
  EXPECT_FALSE(routed(app, web::Method::get, "/api/v1/oidc/userinfo"));
  EXPECT_TRUE(routed(app, web::Method::get, "/oidc/jwks"));
  EXPECT_FALSE(routed(app, web::Method::get, "/postfach"));
  EXPECT_FALSE(routed(app, web::Method::get, "/suche"));
}

TEST_F(Components, TheFinderAloneNeedsTheCatalogButServesNoTokens) {
  App app(settings(std::vector<std::string>{"finder"}));
  EXPECT_NE(app.services().find<finder::Finder>(), nullptr);
  EXPECT_NE(app.services().find<catalog::Catalog>(), nullptr);
  EXPECT_TRUE(routed(app, web::Method::get, "/suche"));
  EXPECT_FALSE(routed(app, web::Method::get, "/redaktion"));
  EXPECT_FALSE(routed(app, web::Method::post, "/api/v1/oidc/token"));
}

TEST_F(Components, ACommandThatUsesNoComponentBuildsNone) {
  App app(settings(std::vector<std::string>{}));
  EXPECT_EQ(app.services().find<identity::Identity>(), nullptr);
  EXPECT_EQ(app.services().find<catalog::Catalog>(), nullptr);
  // The schema is whole all the same: every component's migrations ran.
  EXPECT_EQ(app.database().query_one("SELECT COUNT(*) FROM delivery_notices")->integer(0), 0);
  EXPECT_THROW(app.get<mailbox::Mailbox>(), core::Failure);
}

TEST_F(Components, TheCatalogAloneServesItsApiWithTheTokenEndpointOnly) {
  App app(settings(std::vector<std::string>{"catalog"}));
  EXPECT_TRUE(routed(app, web::Method::get, "/api/v1/catalog/services"));
  EXPECT_TRUE(routed(app, web::Method::post, "/api/v1/oidc/token"));
  EXPECT_FALSE(routed(app, web::Method::get, "/oidc/authorize"));
  EXPECT_FALSE(routed(app, web::Method::post, "/oidc/logout"));
  EXPECT_FALSE(routed(app, web::Method::get, "/suche"));
}

// An account deleted where only identity runs: the mailbox is not built here, yet its
// erasure is queued for an instance that runs it.
TEST_F(Components, AnEventOfAComponentNotBuiltHereStillQueuesItsJob) {
  App app(settings(std::vector<std::string>{"identity"}));
  ASSERT_EQ(app.services().find<mailbox::Mailbox>(), nullptr);
  auto& accounts = app.get<identity::Identity>().accounts;
  auto anna = accounts.create_account(
      {.email = "anna@example.org", .password = "ein langes Passwort", .verified = true}, "test");
  ASSERT_TRUE(anna);
  ASSERT_TRUE(accounts.delete_account_reauthenticated(anna->id));
  EXPECT_EQ(app.database()
                .query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'mailbox.erase_owner' AND "
                           "payload LIKE ?",
                           "%" + anna->id + "%")
                ->integer(0),
            1);
}

TEST_F(Components, EveryComponentByDefault) {
  App app(settings(std::nullopt));
  EXPECT_NE(app.services().find<identity::Provider>(), nullptr);
  EXPECT_NE(app.services().find<finder::Finder>(), nullptr);
  EXPECT_TRUE(routed(app, web::Method::get, "/anmelden"));
  EXPECT_TRUE(routed(app, web::Method::get, "/redaktion"));
}

// The periodic work (purges, retention, reminders) is scheduled jobs, each where its
// component runs: an instance that runs only the catalog does none of identity's.
TEST_F(Components, PeriodicWorkRunsAsScheduledJobsWhereItsComponentRuns) {
  auto ran = [](App& app) {
    std::set<std::string> kinds;
    for (const auto& r : app.database().query("SELECT kind FROM jobs WHERE state = 'done'")) {
      kinds.insert(r.text(0));
    }
    return kinds;
  };
  {
    App app(settings(std::nullopt));
    app.job_runner().run_due();
    EXPECT_EQ(
        ran(app),
        (std::set<std::string>{
            "core.purge_jobs", "web.purge_sessions", "identity.retention", "mailbox.report_overdue",
            "mailbox.remove_unnamed_documents", "delivery.delete_expired_documents",
            "delivery.remove_unnamed_documents", "payments.sweep", "payments.daily_export",
            "cases.remove_unnamed_documents", "cases.follow_notices", "cases.request_deadlines",
            "applications.sweep", "applications.remove_unnamed_documents"}));
  }
  std::filesystem::remove(dir_.path() / "mvsp.db");
  App catalog_only(settings(std::vector<std::string>{"catalog"}));
  catalog_only.job_runner().run_due();
  EXPECT_EQ(ran(catalog_only), (std::set<std::string>{"core.purge_jobs", "web.purge_sessions"}));
}

}  // namespace
}  // namespace mvsp::app
