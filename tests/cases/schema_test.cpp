// The upgrades of the case management's tables on both databases: rows written before a
// migration come out of it as the code after it reads them.
#include <gtest/gtest.h>

#include <mvsp/cases/cases.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/migrations.hpp>

#include "support.hpp"

namespace mvsp::cases {
namespace {

class CasesSchema : public test::BackendTest {
 protected:
  test::ManualClock clock_;
};

// A Vorgang with a search word and a request for a statement from before 0005, 0006 and 0007:
// the request is the asking tenant's (its party reads it on), the word carries the arrival
// the inbox orders by, and the applicant has no postal address (applied online).
TEST_P(CasesSchema, EarlierRequestsAndSearchWordsAreFilledIn) {
  auto all = core::migrations_from("cases", embedded_resources());
  std::vector<core::Migration> before;
  for (const auto& m : all) {
    if (m.version < 5) before.push_back(m);
  }
  ASSERT_EQ(before.size() + 4, all.size());
  core::migrate(db(), before, clock_);
  db().execute(
      "INSERT INTO cases (id, reference, tenant_id, authority_id, application_id, "
      "online_service_id, online_service_version, title, applicant_kind, applicant_owner_id, "
      "applicant_name, applicant_email, search_text, state, submitted_at, received_at, form_key, "
      "form_version, payment_order_id, payment_status, payment_method, payment_amount_cents, "
      "kassenzeichen, pdf_blob_id, json_blob_id, xml_blob_id) VALUES ('k1', 'MV-1', 't-wismar', "
      "'hwi', 'a1', 'hund', 1, 'Hund', 'account', 'o', 'Erika', 'e@example.org', 'erika', "
      "'material_check', 1000, 1789999000000, 'f', 1, '', '', '', 0, '', '', '', '')");
  db().execute("INSERT INTO case_terms (term, case_id) VALUES ('erika', 'k1')");
  db().execute(
      "INSERT INTO case_statements (id, case_id, party_kind, party_authority_id, "
      "party_tenant_id, party_name, party_email, token_hash, question, share_documents, "
      "deadline_on, status, created_at, created_by, created_by_name, answer, answered_by) "
      "VALUES ('s1', 'k1', 'authority', 'sn', 't-schwerin', 'Schwerin', '', '', '?', 1, "
      "'2026-12-31', 'open', 0, 'account:c', 'Clara', '', '')");

  auto report = core::migrate(db(), all, clock_);
  EXPECT_EQ(report.applied,
            (std::vector<std::string>{"cases/0005_statement_asker", "cases/0006_term_order",
                                      "cases/0007_paper", "cases/0008_term_statistics"}));
  EXPECT_EQ(db().query_one("SELECT asking_tenant_id FROM case_statements WHERE id = 's1'")->text(0),
            "t-wismar");
  EXPECT_EQ(db().query_one("SELECT received_at FROM case_terms WHERE case_id = 'k1'")->integer(0),
            1789999000000);
  EXPECT_EQ(db().query_one("SELECT applicant_address FROM cases WHERE id = 'k1'")->text(0), "");
  // PostgreSQL keeps more statistics of the search words (its planner's estimate of a name)
  if (db().acquire()->dialect() == core::db::Dialect::postgresql) {
    EXPECT_EQ(db().query_one("SELECT attstattarget FROM pg_attribute WHERE attrelid = "
                             "'case_terms'::regclass AND attname = 'term'")
                  ->integer(0),
              2000);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CasesSchema, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::cases
