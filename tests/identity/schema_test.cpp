#include <gtest/gtest.h>

#include <mvsp/core/db.hpp>
#include <mvsp/core/migrations.hpp>
#include <mvsp/identity/identity.hpp>

#include "support.hpp"

namespace mvsp::identity {
namespace {

class IdentitySchema : public test::BackendTest {
 protected:
  test::ManualClock clock_;
};

// An installation that predates the foreign keys may hold rows of deleted accounts (the
// memberships that deletions left behind): the upgrade drops those and keeps the rest.
TEST_P(IdentitySchema, TheUpgradeToForeignKeysDropsRowsOfMissingAccounts) {
  auto all = core::migrations_from("identity", embedded_resources());
  std::vector<core::Migration> before;
  for (const auto& m : all) {
    if (m.name != "foreign_keys") before.push_back(m);
  }
  ASSERT_EQ(before.size() + 1, all.size());
  core::migrate(db(), before, clock_);
  db().execute(
      "INSERT INTO accounts (id, kind, email, password_hash, locale, salutation, given_name, "
      "family_name, birth_name, doctoral_degree, artistic_name, birth_date, birth_place, street, "
      "postcode, city, country, totp_last_step, created_at, updated_at) VALUES ('anna', "
      "'citizen', 'anna@example.org', '', 'de', '', 'Anna', 'A', '', '', '', '', '', '', '', '', "
      "'DE', 0, 0, 0)");
  db().execute(
      "INSERT INTO organisations (id, name, created_at) VALUES ('org', 'Laden', 0), "
      "('empty', 'Verlassen', 0)");
  db().execute(
      "INSERT INTO organisation_members (organisation_id, account_id, role) VALUES "
      "('org', 'anna', 'admin'), ('org', 'gone', 'member'), ('empty', 'gone', 'admin')");
  db().execute(
      "INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES "
      "('anna', 'h1', 0), ('gone', 'h2', 0)");

  auto report = core::migrate(db(), all, clock_);
  EXPECT_EQ(report.applied, (std::vector<std::string>{"identity/0008_foreign_keys"}));
  auto accounts_in = [&](const std::string& table) {
    std::vector<std::string> out;
    for (const auto& r : db().query("SELECT account_id FROM " + table + " ORDER BY account_id")) {
      out.push_back(r.text(0));
    }
    return out;
  };
  EXPECT_EQ(accounts_in("organisation_members"), (std::vector<std::string>{"anna"}));
  EXPECT_EQ(accounts_in("recovery_codes"), (std::vector<std::string>{"anna"}));
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM organisations WHERE id = 'empty'")->integer(0), 0)
      << "nobody was left in it";
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM organisations WHERE id = 'org'")->integer(0), 1);
  EXPECT_THROW(db().execute("INSERT INTO recovery_codes (account_id, code_hash, created_at) "
                            "VALUES ('gone', 'h3', 0)"),
               core::Failure);
}

INSTANTIATE_TEST_SUITE_P(Databases, IdentitySchema, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::identity
