#include <fmt/format.h>
#include <gtest/gtest.h>

#include <mvsp/core/db.hpp>
#include <mvsp/core/migrations.hpp>

#include "support.hpp"

namespace mvsp::core {
namespace {

using test::BackendTest;

const Resource kV1[] = {
    {"sql/0002_more.sql", "ALTER TABLE notes ADD COLUMN author TEXT;"},
    {"sql/0001_first.sql",
     "CREATE TABLE notes (id TEXT PRIMARY KEY); CREATE INDEX n1 ON notes (id);"},
    {"templates/x.mustache", "not a migration"},
};

class Migrations : public BackendTest {
 protected:
  test::ManualClock clock_;
};

TEST_P(Migrations, AppliesInOrderOnceAndRecordsThem) {
  auto ms = migrations_from("demo", kV1);
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].name, "first");
  EXPECT_EQ(pending_migrations(db(), ms), 2u);
  auto first = migrate(db(), ms, clock_);
  EXPECT_EQ(first.applied, (std::vector<std::string>{"demo/0001_first", "demo/0002_more"}));
  EXPECT_EQ(pending_migrations(db(), ms), 0u);
  EXPECT_TRUE(migrate(db(), ms, clock_).applied.empty());
  db().execute("INSERT INTO notes (id, author) VALUES ('a', 'b')");
  EXPECT_EQ(
      db().query_one("SELECT COUNT(*) FROM schema_migrations WHERE component = 'demo'")->integer(0),
      2);
}

TEST_P(Migrations, RefusesAnAppliedMigrationThatChanged) {
  migrate(db(), migrations_from("demo", kV1), clock_);
  const Resource changed[] = {
      {"sql/0001_first.sql", "CREATE TABLE notes (id TEXT PRIMARY KEY, extra TEXT);"},
  };
  EXPECT_THROW(migrate(db(), migrations_from("demo", changed), clock_), Failure);
}

TEST_P(Migrations, AFailingMigrationLeavesNothingBehind) {
  const Resource broken[] = {
      {"sql/0001_ok.sql", "CREATE TABLE fine (id TEXT);"},
      {"sql/0002_bad.sql", "CREATE TABLE half (id TEXT); THIS IS NOT SQL;"},
  };
  auto ms = migrations_from("demo", broken);
  EXPECT_THROW(migrate(db(), ms, clock_), Failure);
  EXPECT_EQ(pending_migrations(db(), ms), 1u);
  EXPECT_THROW(db().execute("INSERT INTO half (id) VALUES ('x')"), Failure);
}

// A migration of one database runs there only; on the other it is recorded as applied, so
// that both have the same versions. Each file is written in its database's own SQL.
TEST_P(Migrations, AMigrationOfOneDatabaseRunsThereOnly) {
  const Resource files[] = {
      {"sql/0001_first.sql", "CREATE TABLE notes (id TEXT PRIMARY KEY);"},
      {"sql/0002_statistics.postgresql.sql",
       "ALTER TABLE notes ALTER COLUMN id SET STATISTICS 1000; CREATE TABLE pg_only (id TEXT);"},
      {"sql/0003_sqlite.sqlite.sql", "CREATE TABLE lite_only (id TEXT);"},
  };
  auto ms = migrations_from("demo", files);
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(ms[1].name, "statistics");
  EXPECT_EQ(ms[1].dialect, "postgresql");
  EXPECT_EQ(ms[2].dialect, "sqlite");
  EXPECT_EQ(
      migrate(db(), ms, clock_).applied,
      (std::vector<std::string>{"demo/0001_first", "demo/0002_statistics", "demo/0003_sqlite"}));
  EXPECT_EQ(pending_migrations(db(), ms), 0u);
  bool postgresql = db().acquire()->dialect() == db::Dialect::postgresql;
  auto exists = [&](const char* table) {
    try {
      db().query_one(fmt::format("SELECT COUNT(*) FROM {}", table));
      return true;
    } catch (const Failure&) {
      return false;
    }
  };
  EXPECT_EQ(exists("pg_only"), postgresql);
  EXPECT_EQ(exists("lite_only"), !postgresql);
}

// A version is never reused: an installation that applied another migration under it says
// so, and a migration of one database is another one than the same SQL for both.
TEST_P(Migrations, AVersionAppliedUnderAnotherNameOrDatabaseIsRefused) {
  const Resource first[] = {{"sql/0001_first.sql", "CREATE TABLE notes (id TEXT PRIMARY KEY);"},
                            {"sql/0002_index.sql", "CREATE INDEX n2 ON notes (id);"}};
  migrate(db(), migrations_from("demo", first), clock_);
  const Resource reused[] = {{"sql/0001_first.sql", "CREATE TABLE notes (id TEXT PRIMARY KEY);"},
                             {"sql/0002_other.sql", "CREATE INDEX n2 ON notes (id);"}};
  try {
    migrate(db(), migrations_from("demo", reused), clock_);
    ADD_FAILURE() << "a reused version was taken";
  } catch (const Failure& e) {
    EXPECT_NE(std::string(e.what()).find("applied as index"), std::string::npos) << e.what();
  }
  const Resource one_database[] = {
      {"sql/0001_first.sql", "CREATE TABLE notes (id TEXT PRIMARY KEY);"},
      {"sql/0002_index.postgresql.sql", "CREATE INDEX n2 ON notes (id);"}};
  EXPECT_THROW(migrate(db(), migrations_from("demo", one_database), clock_), Failure);
}

TEST(MigrationFiles, NeedANumberedName) {
  const Resource bad[] = {{"sql/first.sql", "SELECT 1;"}};
  EXPECT_THROW(migrations_from("demo", bad), Failure);
  const Resource twice[] = {{"sql/0001_a.sql", "SELECT 1;"}, {"sql/0001_b.sql", "SELECT 1;"}};
  EXPECT_THROW(migrations_from("demo", twice), Failure);
  const Resource other[] = {{"sql/0001_a.oracle.sql", "SELECT 1 FROM dual;"}};
  EXPECT_THROW(migrations_from("demo", other), Failure);
}

INSTANTIATE_TEST_SUITE_P(Databases, Migrations, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::core
