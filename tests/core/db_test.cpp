// The database contract: the same statements behave the same on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <mvsp/core/db.hpp>
#include <thread>
#include <vector>

#include "support.hpp"

namespace mvsp::core::db {
namespace {

using test::BackendTest;

class DatabaseContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db().acquire()->execute_script(
        "CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, "
        "body BLOB, note TEXT)");
  }
};

TEST_P(DatabaseContract, RoundTripsEveryType) {
  std::string binary("a\0b\xff", 4);
  EXPECT_EQ(db().execute("INSERT INTO things (id, n, x, body, note) VALUES (?, ?, ?, ?, ?)", "a",
                         std::int64_t{1} << 40, 2.5, Bytes{binary}, std::nullopt),
            1);
  auto row = db().query_one("SELECT id, n, x, body, note FROM things WHERE id = ?", "a");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->text(0), "a");
  EXPECT_EQ(row->integer(1), std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(row->real(2), 2.5);
  EXPECT_EQ(row->bytes(3), binary);
  EXPECT_TRUE(row->is_null(4));
  EXPECT_FALSE(row->optional_text(4));
  EXPECT_THROW(row->integer(0), Failure);
}

TEST_P(DatabaseContract, LeavesQuestionMarksInsideLiteralsAlone) {
  db().execute("INSERT INTO things (id, note) VALUES (?, 'why?')", "q");
  auto row = db().query_one("SELECT note FROM things WHERE id = ? AND note = 'why?'", "q");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->text(0), "why?");
}

TEST_P(DatabaseContract, AggregatesComeBackAsIntegers) {
  db().execute("INSERT INTO things (id, n) VALUES ('a', 2), ('b', 3)");
  auto row = db().query_one("SELECT COUNT(*), SUM(n) FROM things");
  EXPECT_EQ(row->integer(0), 2);
  EXPECT_EQ(row->integer(1), 5);
}

TEST_P(DatabaseContract, ConflictsAreCountedNotThrown) {
  constexpr auto kInsert = "INSERT INTO things (id, n) VALUES (?, ?) ON CONFLICT (id) DO NOTHING";
  EXPECT_EQ(db().execute(kInsert, "a", 1), 1);
  EXPECT_EQ(db().execute(kInsert, "a", 2), 0);
  EXPECT_EQ(db().query_one("SELECT n FROM things WHERE id = 'a'")->integer(0), 1);
}

TEST_P(DatabaseContract, ReturningWorks) {
  auto rows = db().query("INSERT INTO things (id, n) VALUES (?, ?) RETURNING id, n", "r", 7);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].integer(1), 7);
}

TEST_P(DatabaseContract, TransactionCommitsOnSuccess) {
  db().transaction([](Tx& tx) { tx.execute("INSERT INTO things (id) VALUES ('c')"); });
  EXPECT_TRUE(db().query_one("SELECT id FROM things WHERE id = 'c'"));
}

TEST_P(DatabaseContract, TransactionRollsBackOnException) {
  EXPECT_THROW(db().transaction([](Tx& tx) {
    tx.execute("INSERT INTO things (id) VALUES ('d')");
    throw Failure("boom");
  }),
               Failure);
  EXPECT_FALSE(db().query_one("SELECT id FROM things WHERE id = 'd'"));
}

TEST_P(DatabaseContract, TransactionRollsBackOnAnErrorResult) {
  Status st = db().transaction([](Tx& tx) -> Status {
    tx.execute("INSERT INTO things (id) VALUES ('e')");
    return fail(Error::conflict("no"));
  });
  EXPECT_FALSE(st);
  EXPECT_FALSE(db().query_one("SELECT id FROM things WHERE id = 'e'"));
}

TEST_P(DatabaseContract, FailedStatementThrowsAndTheConnectionStaysUsable) {
  EXPECT_THROW(db().execute("INSERT INTO nowhere (id) VALUES (1)"), Failure);
  EXPECT_THROW(db().transaction([](Tx& tx) { tx.execute("SELECT * FROM nowhere"); }), Failure);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(db().query("SELECT 1").size(), 1u);
}

TEST_P(DatabaseContract, WrongParameterCountIsAFailure) {
  EXPECT_THROW(db().execute("INSERT INTO things (id, n) VALUES (?, ?)", "x"), Failure);
}

// Statements sent later (execute_later) run where they stand: a query after them sees them.
TEST_P(DatabaseContract, StatementsSentLaterRunInOrderWithTheirTransaction) {
  auto seen = db().transaction([](Tx& tx) {
    tx.execute_later("INSERT INTO things (id, n) VALUES (?, ?)", "l1", 1);
    tx.execute_later("UPDATE things SET n = n + 1 WHERE id = ?", "l1");
    auto n = tx.query_one("SELECT n FROM things WHERE id = ?", "l1")->integer(0);
    tx.execute_later("UPDATE things SET n = n * 10 WHERE id = ?", "l1");
    return n;
  });
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(db().query_one("SELECT n FROM things WHERE id = 'l1'")->integer(0), 20);
  // Outside a transaction, one runs at once.
  auto c = db().acquire();
  c->execute_later("INSERT INTO things (id) VALUES ('l2')");
  EXPECT_TRUE(c->query_one("SELECT id FROM things WHERE id = 'l2'"));
  // More than go to the server in one batch: every one lands.
  db().transaction([](Tx& tx) {
    for (int i = 0; i < 200; ++i) {
      tx.execute_later("INSERT INTO things (id, n) VALUES (?, ?)", "m" + std::to_string(i), i);
    }
  });
  EXPECT_EQ(db().query_one("SELECT COUNT(*), SUM(n) FROM things WHERE id LIKE 'm%'")->integer(1),
            199 * 200 / 2);
}

// A statement sent later that fails fails its transaction, at the next statement that waits
// or at the commit, and nothing of the transaction stays; the connections stay usable.
TEST_P(DatabaseContract, AFailureOfAStatementSentLaterLeavesNothingOfItsTransaction) {
  db().execute("INSERT INTO things (id) VALUES ('taken')");
  EXPECT_THROW(db().transaction([](Tx& tx) {
    tx.execute("INSERT INTO things (id) VALUES ('a1')");
    tx.execute_later("INSERT INTO things (id) VALUES ('taken')");
    tx.execute_later("INSERT INTO things (id) VALUES ('a2')");
  }),
               Failure);
  EXPECT_THROW(db().transaction([](Tx& tx) {
    tx.execute_later("INSERT INTO things (id) VALUES ('b1')");
    tx.execute_later("INSERT INTO things (id) VALUES ('taken')");
    tx.query("SELECT id FROM things");
    tx.execute("INSERT INTO things (id) VALUES ('b2')");
  }),
               Failure);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM things")->integer(0), 1);
  // A statement the database refuses is refused the same way each time (its failed
  // preparation is not taken for a prepared statement).
  for (int i = 0; i < 2; ++i) {
    try {
      db().transaction([](Tx& tx) { tx.execute_later("INSERT INTO nowhere (id) VALUES (1)"); });
      ADD_FAILURE() << "no failure";
    } catch (const Failure& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("nowhere"), std::string::npos) << what;
      EXPECT_EQ(what.find("prepared statement"), std::string::npos) << what;
    }
  }
  for (int i = 0; i < 16; ++i) {
    db().transaction([&](Tx& tx) {
      tx.execute_later("INSERT INTO things (id) VALUES (?)", "ok" + std::to_string(i));
    });
  }
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM things")->integer(0), 17);
}

// A query sent later answers in its place in the transaction's order: it sees what was sent
// before it and not what was sent after, whenever its rows are read.
TEST_P(DatabaseContract, QueriesSentLaterAnswerInTheirPlace) {
  auto seen = db().transaction([](Tx& tx) {
    tx.execute_later("INSERT INTO things (id, n) VALUES (?, ?)", "q1", 1);
    auto before = tx.query_later("UPDATE things SET n = n + 1 WHERE id = ? RETURNING n", "q1");
    auto none = tx.query_later("SELECT n FROM things WHERE id = ?", "q2");
    tx.execute_later("INSERT INTO things (id, n) VALUES (?, ?)", "q2", 5);
    auto after = tx.query_later("SELECT SUM(n) FROM things WHERE id LIKE 'q%'");
    // Read in another order than sent.
    auto sum = after.rows().at(0).integer(0);
    EXPECT_TRUE(none.rows().empty());
    EXPECT_EQ(before.rows().at(0).integer(0), 2);
    return sum;
  });
  EXPECT_EQ(seen, 7);
  EXPECT_EQ(db().query_one("SELECT SUM(n) FROM things WHERE id LIKE 'q%'")->integer(0), 7);
  // Outside a transaction, one runs at once.
  auto c = db().acquire();
  auto at_once = c->query_later("SELECT COUNT(*) FROM things WHERE id LIKE 'q%'");
  c->execute("DELETE FROM things WHERE id LIKE 'q%'");
  EXPECT_EQ(at_once.rows().at(0).integer(0), 2);
}

// A query sent later after one that fails did not run: its rows are never read as empty,
// and nothing of the transaction stays.
TEST_P(DatabaseContract, AQueryAfterAFailureSentLaterHasNoRows) {
  db().execute("INSERT INTO things (id) VALUES ('taken')");
  int reads = 0;
  EXPECT_THROW(db().transaction([&](Tx& tx) {
    tx.execute_later("INSERT INTO things (id) VALUES ('f1')");
    tx.execute_later("INSERT INTO things (id) VALUES ('taken')");
    auto later = tx.query_later("SELECT id FROM things");
    try {
      later.rows();
    } catch (const Failure&) {
      ++reads;
    }
    EXPECT_THROW(later.rows(), Failure) << "asked again, still no rows";
  }),
               Failure);
  EXPECT_EQ(reads, db().dialect() == Dialect::postgresql ? 1 : 0)
      << "on SQLite the failing insert throws at once";
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM things")->integer(0), 1);
}

// A failure caught inside a transaction still fails it: its commit throws and nothing of it
// stays (the failure may have been a statement sent before the one that was caught).
TEST_P(DatabaseContract, ACaughtFailureStillFailsTheTransaction) {
  db().execute("INSERT INTO things (id) VALUES ('taken')");
  EXPECT_THROW(db().transaction([](Tx& tx) {
    tx.execute("INSERT INTO things (id) VALUES ('r1')");
    try {
      tx.execute("INSERT INTO things (id) VALUES ('taken')");
    } catch (const Failure&) {
    }
  }),
               Failure);
  EXPECT_THROW(db().transaction([](Tx& tx) {
    tx.execute_later("INSERT INTO things (id) VALUES ('taken')");
    try {
      tx.query("SELECT id FROM things");
    } catch (const Failure&) {
    }
  }),
               Failure);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM things")->integer(0), 1);
  db().transaction([](Tx& tx) { tx.execute("INSERT INTO things (id) VALUES ('r2')"); });
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM things")->integer(0), 2);
}

// Writes outside a transaction while other connections write inside one, from many
// threads: each waits its turn (on SQLite behind the process's writers, not in SQLite's
// sleeping busy handler), and none is lost.
TEST_P(DatabaseContract, WritesInAndOutsideTransactionsFromManyThreadsAllLand) {
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto id = std::to_string(t) + ":" + std::to_string(i);
        if (t % 2 == 0) {
          db().execute("INSERT INTO things (id, n) VALUES (?, ?)", id, std::int64_t{i});
        } else {
          db().transaction([&](Tx& tx) {
            tx.execute("INSERT INTO things (id, n) VALUES (?, ?)", id, std::int64_t{i});
            tx.execute("UPDATE things SET note = 'seen' WHERE id = ?", id);
          });
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM things")->integer(0), kThreads * kEach);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM things WHERE note = 'seen'")->integer(0),
            kThreads / 2 * kEach);
}

// A transaction that opens another on a second connection of the same pool, or writes
// there, would wait for itself on SQLite (whose writers take turns): it fails at once,
// and nothing of it stays.
TEST_P(DatabaseContract, ANestedWriteOnASecondConnectionFailsInsteadOfWaitingForItself) {
  if (db().acquire()->dialect() != Dialect::sqlite) GTEST_SKIP() << "PostgreSQL has row locks";
  EXPECT_THROW(db().transaction([&](Tx& tx) {
    tx.execute("INSERT INTO things (id) VALUES ('outer')");
    db().transaction([&](Tx& inner) { inner.execute("INSERT INTO things (id) VALUES ('inner')"); });
  }),
               Failure);
  EXPECT_THROW(db().transaction([&](Tx& tx) {
    tx.execute("INSERT INTO things (id) VALUES ('outer')");
    db().execute("INSERT INTO things (id) VALUES ('beside')");
  }),
               Failure);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM things")->integer(0), 0);
  db().execute("INSERT INTO things (id) VALUES ('after')");  // the lock was given back
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM things")->integer(0), 1);
}

// A shared lock admits every other holder of it and keeps out the one who takes it alone
// until they commit (PostgreSQL; SQLite's write transactions are serial anyway).
TEST_P(DatabaseContract, ASharedLockKeepsOutTheExclusiveOneUntilCommit) {
  auto a = db().acquire();
  auto b = db().acquire();
  if (a->dialect() == Dialect::sqlite) GTEST_SKIP() << "SQLite's writers take turns anyway";
  a->begin();
  a->lock_shared("thing:x");
  b->begin();
  b->lock_shared("thing:x");  // does not wait
  std::atomic<bool> got{false};
  std::thread exclusive([&] {
    db().transaction([&](Tx& tx) {
      tx.lock_exclusive("thing:x");
      got = true;
    });
  });
  // Until PostgreSQL shows the exclusive request waiting.
  bool waiting = false;
  for (int i = 0; i < 1000 && !waiting; ++i) {
    waiting = db().query_one(
                      "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                      "NOT granted AND database = (SELECT oid FROM pg_database WHERE "
                      "datname = current_database())")
                  ->integer(0) == 1;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(waiting);
  EXPECT_FALSE(got) << "the exclusive lock waits for the shared holders";
  a->commit();
  b->commit();
  exclusive.join();
  EXPECT_TRUE(got);
}

INSTANTIATE_TEST_SUITE_P(Databases, DatabaseContract, ::testing::ValuesIn(test::backends()));

TEST(DatabaseUrl, PasswordIsRedacted) {
  EXPECT_EQ(redact_url("postgresql://mvsp:s3cret@db:5432/mvsp"),
            "postgresql://mvsp:***@db:5432/mvsp");
  EXPECT_EQ(redact_url("postgresql://db/mvsp?password=s3cret&x=1"),
            "postgresql://db/mvsp?password=***&x=1");
  EXPECT_EQ(redact_url("sqlite:var/mvsp.db"), "sqlite:var/mvsp.db");
}

TEST(DatabaseUrl, UnknownSchemeIsRefused) {
  EXPECT_THROW(Database::open("mysql://x"), Failure);
}

}  // namespace
}  // namespace mvsp::core::db
