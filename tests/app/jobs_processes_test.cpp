// Jobs across real processes on one PostgreSQL: exactly once, lease recovery after
// SIGKILL, and the dead state. The instances also run their periodic work (scheduled jobs of
// other kinds); the tests count the probes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <mvsp/core/db.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/mail.hpp>
#include <thread>

#include "process.hpp"
#include "support.hpp"

namespace mvsp::app {
namespace {

using namespace std::chrono_literals;

class JobProcesses : public test::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    database_->migrate(clock_);
    queue_ = std::make_unique<core::JobQueue>(db(), clock_, ids_);
  }

  std::vector<std::string> serve_args(int workers, int lease_seconds, const std::string& name,
                                      const std::string& log_level = "warn",
                                      const std::string& more_config = "") {
    auto config = (dir_.path() / (name + ".toml")).string();
    std::ofstream(config) << fmt::format(
        "[jobs]\nworkers = {}\nlease_seconds = {}\n[log]\nlevel = \"{}\"\n{}", workers,
        lease_seconds, log_level, more_config);
    return {"serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            database_->url(),
            "--data-dir",
            (dir_.path() / "data").string(),
            "--config",
            config};
  }
  std::string log(const std::string& name) { return (dir_.path() / (name + ".log")).string(); }

  void enqueue(int count, const std::string& payload, int max_attempts = 3) {
    for (int done = 0; done < count; done += 1000) {
      db().transaction([&](core::db::Tx& tx) {
        for (int i = done; i < std::min(count, done + 1000); ++i) {
          queue_->enqueue(tx,
                          {.kind = "core.probe", .payload = payload, .max_attempts = max_attempts});
        }
      });
    }
  }

  // Polls until `done` holds or the time is up.
  template <typename F>
  bool wait_for(F done, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return done();
  }

  std::int64_t count(const std::string& sql) { return db().query_one(sql)->integer(0); }
  // Jobs of one kind only: the instances run their periodic work beside them.
  std::int64_t jobs_of(const std::string& kind, const std::string& where) {
    return count("SELECT COUNT(*) FROM jobs WHERE kind = '" + kind + "' AND " + where);
  }
  std::int64_t probes(const std::string& where) { return jobs_of("core.probe", where); }

  core::SystemClock clock_;
  test::SequenceIds ids_;
  test::TempDir dir_;
  std::unique_ptr<core::JobQueue> queue_;
};

TEST_P(JobProcesses, TwoInstancesRunEachOfTenThousandJobsExactlyOnce) {
  constexpr int kJobs = 10'000;
  enqueue(kJobs, "{}");
  test::Process a(serve_args(4, 60, "a"), log("a"));
  test::Process b(serve_args(4, 60, "b"), log("b"));
  ASSERT_TRUE(wait_for([&] { return probes("state = 'done'") == kJobs; }, 300s))
      << probes("state = 'done'") << " done";
  EXPECT_EQ(count("SELECT COUNT(*) FROM job_probe_runs"), kJobs);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT job_id) FROM job_probe_runs"), kJobs);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT worker) FROM job_probe_runs"), 2)
      << "both instances worked";
  EXPECT_EQ(probes("attempts <> 1"), 0);
}

TEST_P(JobProcesses, AJobOfAKilledWorkerIsRetriedAfterTheLease) {
  enqueue(1, R"({"sleep_ms": 2500})");
  std::string first_worker;
  {
    test::Process a(serve_args(1, 3, "a"), log("a"));
    ASSERT_TRUE(wait_for([&] { return probes("state = 'running'") == 1; }, 30s));
    first_worker = db().query_one("SELECT leased_by FROM jobs WHERE kind = 'core.probe'")->text(0);
    EXPECT_TRUE(first_worker.ends_with(":" + std::to_string(a.pid())));
    a.stop(SIGKILL);
  }
  test::Process b(serve_args(1, 3, "b"), log("b"));
  ASSERT_TRUE(wait_for([&] { return probes("state = 'done'") == 1; }, 60s));
  auto run = db().query_one("SELECT worker, attempt FROM job_probe_runs");
  ASSERT_TRUE(run);
  EXPECT_NE(run->text(0), first_worker);
  EXPECT_EQ(run->integer(1), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM job_probe_runs"), 1);
}

TEST_P(JobProcesses, AJobThatKeepsFailingEndsDeadWithItsLastError) {
  enqueue(1, R"({"fail": "mailbox unreachable"})", 3);
  test::Process a(serve_args(1, 60, "a"), log("a"));
  ASSERT_TRUE(wait_for([&] { return probes("state = 'dead'") == 1; }, 60s));
  auto row = db().query_one("SELECT attempts, last_error FROM jobs WHERE kind = 'core.probe'");
  EXPECT_EQ(row->integer(0), 3);
  EXPECT_EQ(row->text(1), "mailbox unreachable");
  auto dead = test::run_mvsp("jobs dead --database '" + database_->url() + "' --data-dir " +
                             (dir_.path() / "data").string());
  EXPECT_NE(dead.output.find("mailbox unreachable"), std::string::npos) << dead.output;
}

INSTANTIATE_TEST_SUITE_P(Databases, JobProcesses, ::testing::Values("postgresql"));

class GracefulStop : public JobProcesses {};

TEST_P(GracefulStop, SigtermLetsTheRunningJobFinishAndExitsCleanly) {
  enqueue(1, R"({"sleep_ms": 1500})");
  test::Process a(serve_args(1, 60, "a", "info"), log("a"));
  ASSERT_TRUE(wait_for([&] { return probes("state = 'running'") == 1; }, 30s));
  int status = a.stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal instead of stopping";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(probes("state = 'done'"), 1) << "job cut off";
  EXPECT_EQ(count("SELECT COUNT(*) FROM job_probe_runs"), 1);
  std::ifstream in(log("a"));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("event=server.stopped"), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(Databases, GracefulStop, ::testing::ValuesIn(test::backends()));

// One mail job per recipient (issue 12): the instance is killed while the mail server hangs
// on one recipient's mail; after the restart that mail is retried alone, and nobody who
// had it already gets it again.
class MailCrash : public JobProcesses {};

TEST_P(MailCrash, AMailRetriedAfterAKillReachesNobodyTwice) {
  test::SmtpSink smtp;
  const std::vector<std::string> to{"anna@example.org", "ben@example.org", "carla@example.org"};
  db().transaction([&](core::db::Tx& tx) {
    for (const auto& address : to) {
      core::queue_mail(*queue_, tx, {address, "Ihr Bescheid", "liegt im Postfach."},
                       "test.notice:" + address);
    }
  });
  auto mail = [&](const std::string& address) {
    return jobs_of("core.mail",
                   "idempotency_key = 'test.notice:" + address + "' AND state = 'done'");
  };
  smtp.hold("carla@example.org");
  auto config = fmt::format("[mail]\nsmtp_port = {}\n", smtp.port());
  {
    test::Process a(serve_args(3, 2, "a", "warn", config), log("a"));
    ASSERT_TRUE(smtp.held("carla@example.org"));
    ASSERT_TRUE(wait_for([&] { return mail(to[0]) == 1 && mail(to[1]) == 1; }, 30s));
    a.stop(SIGKILL);
  }
  EXPECT_EQ(smtp.wait_for(2).size(), 2u);
  smtp.release_all();
  test::Process b(serve_args(1, 2, "b", "warn", config), log("b"));
  ASSERT_TRUE(wait_for([&] { return mail(to[2]) == 1; }, 60s)) << "the held mail is retried";
  auto mails = smtp.wait_for(3);
  std::map<std::string, int> received;
  for (const auto& m : mails) ++received[m.to];
  EXPECT_EQ(received, (std::map<std::string, int>{{to[0], 1}, {to[1], 1}, {to[2], 1}}));
  EXPECT_EQ(
      count("SELECT attempts FROM jobs WHERE idempotency_key = 'test.notice:carla@example.org'"),
      2);
}

INSTANTIATE_TEST_SUITE_P(Databases, MailCrash, ::testing::ValuesIn(test::backends()));

}  // namespace
}  // namespace mvsp::app
