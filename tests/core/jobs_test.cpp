#include <gtest/gtest.h>

#include <condition_variable>
#include <mvsp/core/db.hpp>
#include <mvsp/core/jobs.hpp>
#include <set>
#include <thread>

#include "support.hpp"

namespace mvsp::core {
namespace {

using namespace std::chrono_literals;

class Jobs : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    database_->migrate(clock_);
    queue_ = std::make_unique<JobQueue>(db(), clock_, ids_);
  }
  std::string enqueue(JobSpec spec) {
    return db().transaction([&](db::Tx& tx) { return queue_->enqueue(tx, spec); });
  }
  JobState state(const std::string& id) { return queue_->find(id)->state; }

  test::ManualClock clock_;
  test::SequenceIds ids_;
  std::unique_ptr<JobQueue> queue_;
};

TEST_P(Jobs, AJobExistsOnlyIfItsTransactionCommits) {
  EXPECT_THROW(db().transaction([&](db::Tx& tx) {
    queue_->enqueue(tx, {.kind = "test.mail"});
    throw Failure("the change failed");
  }),
               Failure);
  EXPECT_EQ(queue_->counts()[JobState::queued], 0);
  enqueue({.kind = "test.mail"});
  EXPECT_EQ(queue_->counts()[JobState::queued], 1);
}

TEST_P(Jobs, AnEventQueuesOneJobPerSubscriberWithItsTransaction) {
  queue_->subscribe("account.deleted", "mailbox.erase_owner");
  queue_->subscribe("account.deleted", "delivery.erase_owner");
  queue_->subscribe("organisation.deleted", "mailbox.erase_owner");
  EXPECT_THROW(db().transaction([&](db::Tx& tx) {
    EXPECT_EQ(queue_->publish(tx, "account.deleted", R"({"ownerId":"a1"})"), 2);
    throw Failure("the deletion failed");
  }),
               Failure);
  EXPECT_EQ(queue_->counts()[JobState::queued], 0) << "no event without its change";
  db().transaction([&](db::Tx& tx) {
    EXPECT_EQ(queue_->publish(tx, "account.deleted", R"({"ownerId":"a1"})"), 2);
    EXPECT_EQ(queue_->publish(tx, "nobody.listens", "{}"), 0);
  });
  auto jobs = queue_->claim("w", 10, 60s);
  ASSERT_EQ(jobs.size(), 2U);
  std::set<std::string> kinds;
  for (const auto& j : jobs) {
    kinds.insert(j.kind);
    EXPECT_EQ(j.payload, R"({"ownerId":"a1"})");
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"mailbox.erase_owner", "delivery.erase_owner"}));
}

TEST_P(Jobs, TheSameIdempotencyKeyGivesTheSameJob) {
  auto a = enqueue({.kind = "test.mail", .idempotency_key = "mail:42"});
  auto b = enqueue({.kind = "test.mail", .idempotency_key = "mail:42"});
  auto c = enqueue({.kind = "test.mail", .idempotency_key = "mail:43"});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(queue_->counts()[JobState::queued], 2);
}

TEST_P(Jobs, ClaimTakesDueJobsOnceWithALease) {
  auto due = enqueue({.kind = "k"});
  auto later = enqueue({.kind = "k", .run_at = clock_.now() + 1h});
  auto first = queue_->claim("w1", 10, 60s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].id, due);
  EXPECT_EQ(first[0].attempts, 1);
  EXPECT_TRUE(queue_->claim("w2", 10, 60s).empty());
  EXPECT_TRUE(queue_->complete(first[0]));
  clock_.advance(1h);
  auto second = queue_->claim("w2", 10, 60s);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, later);
}

// One claim takes a batch: first the jobs whose worker went away (a backlog of due jobs
// never keeps them waiting), then the due jobs in the order they fell due; never more than
// asked, never a job that is not due. A released job goes back with its attempt not counted.
TEST_P(Jobs, ClaimTakesABatchInDueOrderAndAReleasedJobIsNotCounted) {
  auto stale = enqueue({.kind = "k", .run_at = clock_.now() - 1h});
  ASSERT_EQ(queue_->claim("gone", 1, 30s).size(), 1u);  // then its worker dies
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(enqueue({.kind = "k", .run_at = clock_.now() - std::chrono::minutes(10 - i)}));
  }
  auto not_yet = enqueue({.kind = "k", .run_at = clock_.now() + 1h});
  clock_.advance(31s);
  auto batch = queue_->claim("w", 4, 60s);
  ASSERT_EQ(batch.size(), 4u);
  std::map<std::string, int> attempts;
  for (const auto& j : batch) attempts[j.id] = j.attempts;
  EXPECT_EQ(attempts,
            (std::map<std::string, int>{{stale, 2}, {ids[0], 1}, {ids[1], 1}, {ids[2], 1}}));
  auto rest = queue_->claim("w", 10, 60s);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ((std::vector<std::string>{rest[0].id, rest[1].id}),
            (std::vector<std::string>{ids[3], ids[4]}));
  EXPECT_EQ(state(not_yet), JobState::queued);
  EXPECT_TRUE(queue_->claim("w", 10, 60s).empty());

  const auto& first = rest[0];
  EXPECT_TRUE(queue_->release(first));
  EXPECT_FALSE(queue_->release(first)) << "released once";
  auto again = queue_->claim("w", 1, 60s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, first.id);
  EXPECT_EQ(again[0].attempts, 1) << "the released attempt did not count";
  EXPECT_FALSE(queue_->complete(first)) << "the old claim's lease is gone";
  EXPECT_TRUE(queue_->complete(again[0]));
}

// Worker threads share what one claim took: every job runs exactly once, and stopping
// leaves nothing claimed behind.
TEST_P(Jobs, WorkerThreadsRunEachJobOnceAndLeaveNothingClaimedAtStop) {
  std::mutex mutex;
  std::condition_variable all_ran;
  std::map<std::string, int> runs;
  {
    JobRunner runner(*queue_, db(), {.threads = 4, .idle_poll = 10ms, .name = "threads"});
    runner.handle("count", [&](JobContext& ctx) {
      std::lock_guard lock(mutex);
      ++runs[ctx.job.id];
      if (runs.size() == 200) all_ran.notify_all();
      return JobOutcome::ok();
    });
    for (int i = 0; i < 200; ++i) enqueue({.kind = "count"});
    runner.start();
    {
      std::unique_lock lock(mutex);
      all_ran.wait_for(lock, 60s, [&] { return runs.size() == 200; });
    }
    runner.stop();
  }
  ASSERT_EQ(runs.size(), 200u);
  for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM jobs WHERE state <> 'done'")->integer(0), 0);
}

// The heartbeat (issue 12 review): a handler that runs longer than the lease keeps its job;
// no other worker takes it over while the worker lives, and it ends done on the first
// attempt.
TEST_P(Jobs, ARunLongerThanTheLeaseKeepsItsJob) {
  std::mutex mutex;
  std::condition_variable changed;
  bool started = false;
  bool finish = false;
  JobRunner runner(
      *queue_, db(),
      {.threads = 1, .lease = 60s, .idle_poll = 10ms, .heartbeat = 10ms, .name = "w1"});
  runner.handle("slow", [&](JobContext&) {
    std::unique_lock lock(mutex);
    started = true;
    changed.notify_all();
    changed.wait(lock, [&] { return finish; });
    return JobOutcome::ok();
  });
  auto id = enqueue({.kind = "slow", .max_attempts = 1});
  runner.start();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, 30s, [&] { return started; }));
  }
  auto lease_until = [&] {
    return db().query_one("SELECT lease_until FROM jobs WHERE id = ?", id)->integer(0);
  };
  auto first = lease_until();
  clock_.advance(50s);
  auto until = std::chrono::steady_clock::now() + 30s;
  while (lease_until() <= first && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GT(lease_until(), first) << "the running job's lease was renewed";
  clock_.advance(20s);  // past the first lease
  EXPECT_TRUE(queue_->claim("w2", 10, 60s).empty()) << "nobody takes over a job that runs";
  {
    std::lock_guard lock(mutex);
    finish = true;
  }
  changed.notify_all();
  runner.stop();
  EXPECT_EQ(state(id), JobState::done);
  EXPECT_EQ(queue_->find(id)->job.attempts, 1);
}

TEST_P(Jobs, AWorkerClaimsOnlyTheKindsItHandles) {
  auto mail = enqueue({.kind = "core.mail"});
  auto delivery = enqueue({.kind = "delivery.attempt"});
  auto only_mail = queue_->claim("portal", 10, 60s, {"core.mail", "mailbox.sweep"});
  ASSERT_EQ(only_mail.size(), 1u);
  EXPECT_EQ(only_mail[0].id, mail);
  auto rest = queue_->claim("delivery", 10, 60s, {"delivery.attempt"});
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].id, delivery);
}

TEST_P(Jobs, AnExpiredLeaseIsTakenOverAndTheOldHolderCannotComplete) {
  auto id = enqueue({.kind = "k"});
  auto held = queue_->claim("w1", 1, 30s);
  ASSERT_EQ(held.size(), 1u);
  clock_.advance(31s);
  auto taken = queue_->claim("w2", 1, 30s);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].attempts, 2);
  EXPECT_FALSE(queue_->complete(held[0]));
  EXPECT_TRUE(queue_->complete(taken[0]));
  EXPECT_EQ(state(id), JobState::done);
}

TEST_P(Jobs, RetryableFailuresBackOffThenEndDeadWithTheLastError) {
  auto id = enqueue({.kind = "k", .max_attempts = 3});
  RetryPolicy policy{.base = 10s, .cap = 1h};
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto jobs = queue_->claim("w", 1, 60s);
    ASSERT_EQ(jobs.size(), 1u) << "attempt " << attempt;
    ASSERT_TRUE(queue_->fail(jobs[0], JobOutcome::retry("smtp down #" + std::to_string(attempt)),
                             policy, 1.0));
    if (attempt < 3) {
      auto row = queue_->find(id);
      EXPECT_EQ(row->state, JobState::queued);
      EXPECT_EQ(row->run_at, clock_.now() + 10s * (1 << (attempt - 1)));
      EXPECT_TRUE(queue_->claim("w", 1, 60s).empty()) << "not before the back-off";
      clock_.advance(10s * (1 << (attempt - 1)));
    }
  }
  auto row = queue_->find(id);
  EXPECT_EQ(row->state, JobState::dead);
  EXPECT_EQ(row->last_error, "smtp down #3");
  ASSERT_EQ(queue_->dead(10).size(), 1u);
  EXPECT_TRUE(queue_->requeue_dead(id));
  EXPECT_EQ(state(id), JobState::queued);
}

TEST_P(Jobs, PermanentFailuresEndDeadAtOnce) {
  auto id = enqueue({.kind = "k", .max_attempts = 10});
  auto jobs = queue_->claim("w", 1, 60s);
  queue_->fail(jobs[0], JobOutcome::permanent("mailbox deleted"), {}, 0.5);
  EXPECT_EQ(state(id), JobState::dead);
}

TEST_P(Jobs, ALeaseLostOnTheLastAttemptEndsDead) {
  auto id = enqueue({.kind = "k", .max_attempts = 1});
  ASSERT_EQ(queue_->claim("w1", 1, 10s).size(), 1u);
  clock_.advance(11s);
  EXPECT_TRUE(queue_->claim("w2", 1, 10s).empty());
  EXPECT_EQ(state(id), JobState::dead);
}

TEST_P(Jobs, RunnerRunsHandlersAndTreatsExceptionsAsRetryable) {
  JobRunner runner(*queue_, db(), {.threads = 0, .name = "test"});
  int ran = 0;
  runner.handle("ok", [&](JobContext&) {
    ++ran;
    return JobOutcome::ok();
  });
  runner.handle("throws", [](JobContext&) -> JobOutcome { throw std::runtime_error("kaputt"); });
  auto ok = enqueue({.kind = "ok"});
  auto bad = enqueue({.kind = "throws", .max_attempts = 1});
  auto unknown = enqueue({.kind = "nobody"});
  EXPECT_EQ(runner.run_due(), 2);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(state(ok), JobState::done);
  EXPECT_EQ(queue_->find(bad)->last_error, "kaputt");
  EXPECT_EQ(state(bad), JobState::dead);
  // A kind nobody here handles waits for an instance that runs its component.
  EXPECT_EQ(state(unknown), JobState::queued);
}

// A handler that marks its job done in its own transaction says so: the job stays done, and
// the run counts as one success (a runner that took it for a failure would queue it again).
TEST_P(Jobs, AJobItsHandlerCompletedItselfStaysDone) {
  JobRunner runner(*queue_, db(), {.threads = 0, .name = "test"});
  int ran = 0;
  runner.handle("itself", [&](JobContext& ctx) {
    ++ran;
    bool held = ctx.db.transaction([&](db::Tx& tx) { return ctx.queue.complete(tx, ctx.job); });
    return held ? JobOutcome::completed() : JobOutcome::ok();
  });
  auto id = enqueue({.kind = "itself", .max_attempts = 3});
  EXPECT_EQ(runner.run_due(), 1);
  EXPECT_EQ(runner.run_due(), 0);
  EXPECT_EQ(ran, 1);
  auto job = queue_->find(id);
  EXPECT_EQ(job->state, JobState::done);
  EXPECT_EQ(job->job.attempts, 1);
  EXPECT_EQ(job->last_error, "");
}

// Queued with the transaction's next statement: there when it commits, gone when it rolls
// back, and once per idempotency key like any other.
TEST_P(Jobs, AJobQueuedLaterIsPartOfItsTransaction) {
  db().transaction([&](db::Tx& tx) {
    queue_->enqueue_later(tx, {.kind = "later", .idempotency_key = "k1"});
    queue_->enqueue_later(tx, {.kind = "later", .idempotency_key = "k1"});
  });
  EXPECT_THROW(db().transaction([&](db::Tx& tx) {
    queue_->enqueue_later(tx, {.kind = "later", .idempotency_key = "k2"});
    throw Failure("changed my mind");
  }),
               Failure);
  auto rows = db().query("SELECT idempotency_key, state FROM jobs WHERE kind = 'later'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text(0), "k1");
  EXPECT_EQ(rows[0].text(1), "queued");
  EXPECT_THROW(db().transaction([&](db::Tx& tx) { queue_->enqueue_later(tx, {.kind = ""}); }),
               Failure);
}

TEST_P(Jobs, ProbeRecordsEachRunOnce) {
  JobRunner runner(*queue_, db(), {.threads = 0, .name = "test"});
  register_probe_job(runner, clock_, "test");
  for (int i = 0; i < 5; ++i) enqueue({.kind = "core.probe", .payload = "{}"});
  EXPECT_EQ(runner.run_due(), 5);
  EXPECT_EQ(
      db().query_one("SELECT COUNT(*), COUNT(DISTINCT job_id) FROM job_probe_runs")->integer(1), 5);
  EXPECT_EQ(queue_->counts()[JobState::done], 5);
}

TEST_P(Jobs, ASensitivePayloadIsWipedWhenTheJobEnds) {
  auto sent = enqueue({.kind = "m", .payload = R"({"link":"token=s3cret"})", .sensitive = true});
  auto failed = enqueue({.kind = "m", .payload = R"({"link":"token=s3cret"})", .sensitive = true});
  auto plain = enqueue({.kind = "m", .payload = R"({"n":1})"});
  auto claimed = queue_->claim("w", 10, 60s);
  ASSERT_EQ(claimed.size(), 3u);
  EXPECT_EQ(claimed[0].payload, R"({"link":"token=s3cret"})") << "the handler sees it";
  for (const auto& job : claimed) {
    if (job.id == failed) {
      EXPECT_TRUE(queue_->fail(job, JobOutcome::permanent("refused"), {}, 0.5));
    } else {
      EXPECT_TRUE(queue_->complete(job));
    }
  }
  EXPECT_EQ(queue_->find(sent)->job.payload, "{}");
  EXPECT_EQ(queue_->find(failed)->job.payload, "{}");
  EXPECT_EQ(queue_->find(plain)->job.payload, R"({"n":1})");
  EXPECT_FALSE(queue_->requeue_dead(failed)) << "its content is gone; it cannot run again";
}

TEST_P(Jobs, EndedJobsArePurgedAfterTheirPeriods) {
  auto done = enqueue({.kind = "k"});
  auto dead = enqueue({.kind = "k"});
  auto waiting = enqueue({.kind = "k", .run_at = clock_.now() + 24h * 400});
  for (const auto& job : queue_->claim("w", 10, 60s)) {
    if (job.id == done) {
      EXPECT_TRUE(queue_->complete(job));
    } else if (job.id == dead) {
      EXPECT_TRUE(queue_->fail(job, JobOutcome::permanent("no"), {}, 0.5));
    }
  }
  clock_.advance(24h * 20);
  EXPECT_EQ(queue_->purge(clock_.now() - 24h * 14, clock_.now() - 24h * 90), 1);
  EXPECT_FALSE(queue_->find(done));
  EXPECT_TRUE(queue_->find(dead));
  clock_.advance(24h * 80);
  EXPECT_EQ(queue_->purge(clock_.now() - 24h * 14, clock_.now() - 24h * 90), 1);
  EXPECT_FALSE(queue_->find(dead));
  EXPECT_TRUE(queue_->find(waiting)) << "a job that has not ended stays";
}

// Periodic work (issue 12): two instances on one database, each with its workers asking
// every minute; each ten-minute slot runs once, on one of them.
TEST_P(Jobs, ScheduledWorkRunsOncePerPeriodAcrossInstances) {
  JobQueue other_queue(db(), clock_, ids_);
  std::map<std::string, int> runs_by;
  std::set<std::string> keys;
  auto schedule = [&](JobRunner& runner, std::string name) {
    runner.every("test.sweep", 10min, [&runs_by, &keys, name](JobContext& ctx) {
      ++runs_by[name];
      EXPECT_TRUE(keys.insert(ctx.job.idempotency_key).second) << "a slot ran twice";
      return JobOutcome::ok();
    });
  };
  JobRunner a(*queue_, db(), {.threads = 0, .name = "a"});
  JobRunner b(other_queue, db(), {.threads = 0, .name = "b"});
  schedule(a, "a");
  schedule(b, "b");
  auto period = std::chrono::milliseconds(10min).count();
  auto first_slot = to_millis(clock_.now()) / period;
  for (int minute = 0; minute <= 50; ++minute) {
    (minute % 2 == 0 ? a : b).run_due();
    (minute % 2 == 0 ? b : a).run_due();
    clock_.advance(1min);
  }
  auto last_slot = (to_millis(clock_.now()) - std::chrono::milliseconds(1min).count()) / period;
  EXPECT_EQ(static_cast<std::int64_t>(keys.size()), last_slot - first_slot + 1);
  EXPECT_GT(runs_by["a"], 0);
  EXPECT_GT(runs_by["b"], 0) << "whichever instance comes first in a slot runs it";
}

TEST_P(Jobs, AScheduledRunWaitsWhileTheLastOneStillRuns) {
  auto next = queue_->schedule("test.sweep", 10min);
  EXPECT_GT(next, clock_.now());
  EXPECT_LE(next, clock_.now() + 10min);
  auto running = queue_->claim("w", 10, 1h);
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0].kind, "test.sweep");
  EXPECT_EQ(running[0].max_attempts, 1) << "not retried: the next period does the work";
  queue_->schedule("test.sweep", 10min);
  EXPECT_EQ(queue_->counts()[JobState::queued], 0) << "the same slot is queued once";

  clock_.advance(10min);
  auto soon = queue_->schedule("test.sweep", 10min);
  EXPECT_LE(soon, clock_.now() + 5s) << "asks again soon while the last run goes on";
  EXPECT_EQ(queue_->counts()[JobState::queued], 0) << "no second run beside the first";
  ASSERT_TRUE(queue_->complete(running[0]));
  queue_->schedule("test.sweep", 10min);
  EXPECT_EQ(queue_->counts()[JobState::queued], 1) << "the slot runs once the last run ended";
}

// Instances asking at the same moment (each on its own connection) queue one job a slot.
TEST_P(Jobs, ConcurrentSchedulersQueueOneJobASlot) {
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      try {
        JobQueue own(db(), clock_, ids_);
        own.schedule("test.sweep", 10min);
      } catch (const std::exception& e) {
        ++errors;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM jobs WHERE kind = 'test.sweep'")->integer(0), 1);
}

INSTANTIATE_TEST_SUITE_P(Databases, Jobs, ::testing::ValuesIn(test::backends()));

TEST(Backoff, GrowsExponentiallyWithJitterUpToTheCap) {
  RetryPolicy p{.base = 10s, .cap = 1h};
  EXPECT_EQ(backoff_delay(1, p, 1.0), 10s);
  EXPECT_EQ(backoff_delay(1, p, 0.0), 5s);
  EXPECT_EQ(backoff_delay(4, p, 1.0), 80s);
  EXPECT_EQ(backoff_delay(30, p, 1.0), 1h);
  EXPECT_EQ(backoff_delay(30, p, 0.0), 30min);
}

}  // namespace
}  // namespace mvsp::core
