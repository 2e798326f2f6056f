#pragma once
// Background jobs on the outbox pattern (docs/adr/0003-jobs.md): a job row is written in
// the transaction of the change that causes it; workers claim jobs with a lease, retry
// with exponential back-off and jitter, and end a job `dead` with its last error.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <mvsp/core/clock.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace mvsp::core {
class IdGenerator;
namespace db {
class Database;
class Connection;
class Later;
}  // namespace db

enum class JobState { queued, running, done, dead };
std::string_view job_state_name(JobState s);

struct JobSpec {
  std::string kind;                 // handler name, e.g. "identity.send_mail"
  std::string payload;              // JSON, handed to the handler as is
  std::string idempotency_key;      // empty: none; else one job per key, ever
  std::optional<TimePoint> run_at;  // default: now
  int max_attempts = 10;
  // The payload holds a secret (a mail with a link that carries a token): it is wiped when
  // the job ends, done or dead, and a dead one cannot be requeued.
  bool sensitive = false;
};

struct Job {
  std::string id;
  std::string kind;
  std::string payload;
  std::string idempotency_key;
  std::string correlation_id;
  std::string lease_token;
  int attempts = 0;  // including the current one
  int max_attempts = 0;
  TimePoint created_at;
};

struct JobRow {
  Job job;
  JobState state;
  TimePoint run_at;
  std::string last_error;
};

struct RetryPolicy {
  std::chrono::milliseconds base{std::chrono::seconds(10)};
  std::chrono::milliseconds cap{std::chrono::hours(6)};
};

// The delay before attempt `failed_attempts + 1`: base·2^(n-1), capped, scaled by a
// jitter factor in [0.5, 1.0] taken from `unit` (a number in [0, 1)).
std::chrono::milliseconds backoff_delay(int failed_attempts, const RetryPolicy& policy,
                                        double unit);

// What a handler reports. Retryable failures are tried again after a back-off until
// max_attempts; permanent failures end the job `dead` at once.
struct JobOutcome {
  enum class Kind { done, completed, retry, permanent } kind = Kind::done;
  std::string error;
  static JobOutcome ok() { return {}; }
  // Done, and the handler marked the job done itself (complete(tx, job) was true in a
  // transaction that committed): the runner has nothing left to write or check.
  static JobOutcome completed() { return {Kind::completed, {}}; }
  static JobOutcome retry(std::string e) { return {Kind::retry, std::move(e)}; }
  static JobOutcome permanent(std::string e) { return {Kind::permanent, std::move(e)}; }
};

class JobQueue {
 public:
  JobQueue(db::Database& db, const Clock& clock, IdGenerator& ids);

  // Writes the job inside the caller's transaction. With an idempotency key that exists
  // already, writes nothing and returns the id of the existing job.
  std::string enqueue(db::Connection& tx, const JobSpec& spec);
  // The same for a caller that needs no id: sent with the transaction's next statement
  // (db::Connection::execute_later) instead of a round trip of its own.
  void enqueue_later(db::Connection& tx, const JobSpec& spec);

  // Takes up to `max` due jobs (queued and due, or running with an expired lease) for
  // `worker` in one transaction, with a fresh lease token for the claim and each attempt
  // counted; with `kinds`, only jobs of those kinds. PostgreSQL skips rows other workers
  // have locked (FOR UPDATE SKIP LOCKED).
  std::vector<Job> claim(std::string_view worker, int max, std::chrono::milliseconds lease,
                         const std::vector<std::string>& kinds = {});

  // Extends the lease of a job that is still running (the worker's heartbeat). False when
  // the lease was lost.
  bool renew(const Job& job, std::chrono::milliseconds lease);

  // Gives back a claimed job that did not start (its worker stopped): queued again, the
  // attempt not counted. False when the lease was lost.
  bool release(const Job& job);

  // Marks the job done inside the caller's transaction, so that the handler's effect and
  // the completion commit together. False when the lease was lost (then roll back).
  bool complete(db::Connection& tx, const Job& job);
  // The same sent later (db::Connection::query_later), to go with the handler's first
  // statements: its rows hold one row when this worker held the job.
  db::Later complete_later(db::Connection& tx, const Job& job);
  // Marks the job done unless its handler did already; false when the lease was lost.
  bool complete(const Job& job);

  // Records a failure: back to `queued` after a back-off, or `dead` when permanent or out
  // of attempts. False when the lease was lost.
  bool fail(const Job& job, const JobOutcome& outcome, const RetryPolicy& policy, double unit);

  std::optional<JobRow> find(const std::string& id);
  std::map<JobState, std::int64_t> counts();
  std::vector<JobRow> dead(int limit);
  // Puts a dead job back in the queue with fresh attempts (operator action); not a sensitive
  // one, whose payload is gone.
  bool requeue_dead(const std::string& id);
  // Deletes jobs that ended: done before `done_before`, dead before `dead_before`. Returns
  // how many. An idempotency key is remembered as long as its job row is kept.
  std::int64_t purge(TimePoint done_before, TimePoint dead_before);

  // Periodic work as jobs. Time is cut into slots of `period` (counted from the epoch);
  // queues one job of `kind` for the current slot unless that slot, or a later one, was
  // queued already (by any instance) or the last slot's job is still queued or running, so
  // that each slot runs at most once and runs never overlap. Returns when it is worth
  // asking again: the next slot's start, or a few seconds on while the last run goes on.
  TimePoint schedule(const std::string& kind, std::chrono::milliseconds period);
  const Clock& clock() const { return clock_; }

  // Events on the same outbox: one component announces (e.g. "account.deleted"), others
  // act, each in its own job, retried on its own. Subscriptions are made while the
  // components are wired, before anything is published.
  void subscribe(std::string event, std::string job_kind);
  // Queues one job of each subscribed kind with `payload`, in the caller's transaction, so
  // that the event exists exactly when the change does. Returns how many.
  int publish(db::Connection& tx, std::string_view event, const std::string& payload);

 private:
  db::Database& db_;
  const Clock& clock_;
  IdGenerator& ids_;
  std::mutex subscribers_mutex_;
  std::multimap<std::string, std::string, std::less<>> subscribers_;  // event -> job kind
};

struct JobContext {
  const Job& job;
  db::Database& db;
  JobQueue& queue;
};

using JobHandler = std::function<JobOutcome(JobContext&)>;

struct WorkerOptions {
  int threads = 2;
  std::chrono::milliseconds lease{std::chrono::seconds(60)};
  std::chrono::milliseconds idle_poll{std::chrono::milliseconds(500)};
  // How often the leases of running jobs are renewed while their handlers run, so that a
  // run longer than the lease is not taken for lost; 0: a third of the lease.
  std::chrono::milliseconds heartbeat{0};
  std::string name;  // worker identity in the jobs table, e.g. "host:pid"
};

// Runs registered handlers on worker threads. A handler that throws counts as a
// retryable failure with the exception's message.
class JobRunner {
 public:
  JobRunner(JobQueue& queue, db::Database& db, WorkerOptions options);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  void handle(std::string kind, JobHandler handler, RetryPolicy policy = {});
  // Periodic work (a sweep, retention, reminders): `handler` runs once every `period`
  // across all instances that register it, never two runs at once. A run that fails is
  // not retried (the next period's run does the work) and stays listed as dead.
  void every(std::string kind, std::chrono::milliseconds period, JobHandler handler);
  void start();
  // Lets running handlers finish, then joins the threads.
  void stop();
  // Claims and runs due jobs on the calling thread until none is due; returns how many ran.
  int run_due();

 private:
  std::vector<Job> claim(int max);
  // Queues the scheduled jobs whose slot has come (JobQueue::schedule), at most once a
  // slot per kind from this process.
  void queue_scheduled();
  bool run_one();
  // The next job for a worker thread: one claimed earlier for it, or a fresh claim for every
  // free worker; nothing when none is due (or stopping).
  std::optional<Job> next_job();
  void run(const Job& job);
  void release(const std::deque<Job>& jobs);
  void loop();
  void beat();

  JobQueue& queue_;
  db::Database& db_;
  WorkerOptions options_;
  struct Entry {
    JobHandler handler;
    RetryPolicy policy;
  };
  std::map<std::string, Entry, std::less<>> handlers_;
  struct Schedule {
    std::string kind;
    std::chrono::milliseconds period;
    TimePoint next_check;  // guarded by schedules_mutex_
  };
  std::vector<Schedule> schedules_;
  std::mutex schedules_mutex_;
  std::vector<std::thread> threads_;
  std::thread heartbeat_;
  std::map<std::string, Job> running_;  // by id; guarded by mutex_
  bool beating_ = false;                // guarded by mutex_
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> ready_;  // claimed, not started yet
  int busy_ = 0;           // workers running a job
  bool claiming_ = false;
  std::mutex random_mutex_;
  std::mt19937_64 random_;
};

// The `core.probe` job: records each run in `job_probe_runs` so that operators (and the
// multi-instance test) can see that workers run jobs exactly once. The payload may ask it
// to take some time ({"sleep_ms": N}) or to fail ({"fail": "reason"}).
void register_probe_job(JobRunner& runner, const Clock& clock, std::string worker);

}  // namespace mvsp::core
