#include <gtest/gtest.h>

#include <mvsp/core/audit.hpp>
#include <mvsp/core/db.hpp>
#include <thread>

#include "support.hpp"

namespace mvsp::core {
namespace {

class Audit : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    database_->migrate(clock_);
    for (int i = 1; i <= 5; ++i) {
      db().transaction([&](db::Tx& tx) {
        log_.append(tx, {.actor = "account:anna",
                         .action = "notice.retrieved",
                         .object_type = "notice",
                         .object_id = "n" + std::to_string(i),
                         .detail = R"({"channel":"web"})"});
      });
      clock_.advance(std::chrono::seconds(1));
    }
  }
  test::ManualClock clock_;
  AuditLog log_{clock_};
};

TEST_P(Audit, AnIntactChainVerifies) {
  auto v = log_.verify(db());
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 5);
}

TEST_P(Audit, AnAlteredEntryIsNamed) {
  db().execute("UPDATE audit_log SET actor = 'account:mallory' WHERE seq = 3");
  auto v = log_.verify(db());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3);
  EXPECT_EQ(v.problem, "entry 3 was altered");
}

TEST_P(Audit, ARemovedEntryIsNamed) {
  db().execute("DELETE FROM audit_log WHERE seq = 2");
  auto v = log_.verify(db());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 2);
  EXPECT_EQ(v.problem, "entry 2 is missing");
}

TEST_P(Audit, RemovingTheNewestEntryIsNoticed) {
  db().execute("DELETE FROM audit_log WHERE seq = 5");
  auto v = log_.verify(db());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 5);
}

TEST_P(Audit, ARecomputedHashDoesNotHideAChangeFromTheNextEntry) {
  // Someone alters entry 2 and also rewrites its own hash: entry 3 no longer links to it.
  db().execute("UPDATE audit_log SET object_id = 'x', hash = 'forged' WHERE seq = 2");
  auto v = log_.verify(db());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 2);
}

TEST_P(Audit, AnEntryRolledBackWithItsChangeLeavesNoGap) {
  EXPECT_THROW(db().transaction([&](db::Tx& tx) {
    log_.append(tx, {.actor = "system", .action = "x", .object_type = "t", .object_id = "1"});
    throw Failure("change failed");
  }),
               Failure);
  db().transaction([&](db::Tx& tx) {
    EXPECT_EQ(
        log_.append(tx, {.actor = "system", .action = "y", .object_type = "t", .object_id = "2"}),
        6);
  });
  EXPECT_TRUE(log_.verify(db()).ok);
}

// Appends from many connections at once take turns on the chain's head: every entry gets
// its own number, none is lost, and the chain verifies.
TEST_P(Audit, ParallelAppendsKeepOneUnbrokenChain) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        db().transaction([&](db::Tx& tx) {
          log_.append(tx, {.actor = "system",
                           .action = "parallel",
                           .object_type = "t",
                           .object_id = std::to_string(t * 100 + i)});
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  auto v = log_.verify(db());
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 5 + 8 * 25);
  EXPECT_EQ(db().query_one("SELECT COUNT(DISTINCT seq), MAX(seq) FROM audit_log")->integer(1),
            5 + 8 * 25);
}

INSTANTIATE_TEST_SUITE_P(Databases, Audit, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::core
