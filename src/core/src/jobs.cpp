#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mvsp/core/crypto.hpp>
#include <mvsp/core/db.hpp>
#include <mvsp/core/error.hpp>
#include <mvsp/core/ids.hpp>
#include <mvsp/core/jobs.hpp>
#include <mvsp/core/log.hpp>

namespace mvsp::core {
namespace {

// A sensitive job's payload is wiped as it ends.
constexpr std::string_view kWipe = "payload = CASE WHEN sensitive = 1 THEN '{}' ELSE payload END";

constexpr std::string_view kColumns =
    "id, kind, payload, idempotency_key, correlation_id, lease_token, attempts, max_attempts, "
    "created_at, state, run_at, last_error";

JobState parse_state(const std::string& s) {
  if (s == "queued") return JobState::queued;
  if (s == "running") return JobState::running;
  if (s == "done") return JobState::done;
  return JobState::dead;
}

JobRow read_row(const db::Row& r) {
  JobRow row;
  row.job.id = r.text(0);
  row.job.kind = r.text(1);
  row.job.payload = r.text(2);
  row.job.idempotency_key = r.optional_text(3).value_or("");
  row.job.correlation_id = r.text(4);
  row.job.lease_token = r.optional_text(5).value_or("");
  row.job.attempts = static_cast<int>(r.integer(6));
  row.job.max_attempts = static_cast<int>(r.integer(7));
  row.job.created_at = from_millis(r.integer(8));
  row.state = parse_state(r.text(9));
  row.run_at = from_millis(r.integer(10));
  row.last_error = r.optional_text(11).value_or("");
  return row;
}

// Errors can be long (a stack of causes); the table keeps the start.
std::string clip(std::string s) {
  constexpr std::size_t kMax = 2000;
  if (s.size() > kMax) s.resize(kMax);
  return s;
}

}  // namespace

std::string_view job_state_name(JobState s) {
  switch (s) {
    case JobState::queued:
      return "queued";
    case JobState::running:
      return "running";
    case JobState::done:
      return "done";
    case JobState::dead:
      return "dead";
  }
  return "dead";
}

std::chrono::milliseconds backoff_delay(int failed_attempts, const RetryPolicy& policy,
                                        double unit) {
  double exp =
      std::ldexp(static_cast<double>(policy.base.count()), std::clamp(failed_attempts - 1, 0, 40));
  double capped = std::min(exp, static_cast<double>(policy.cap.count()));
  double jitter = 0.5 + 0.5 * std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(capped * jitter));
}

JobQueue::JobQueue(db::Database& db, const Clock& clock, IdGenerator& ids)
    : db_(db), clock_(clock), ids_(ids) {}

void JobQueue::subscribe(std::string event, std::string job_kind) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.emplace(std::move(event), std::move(job_kind));
}

int JobQueue::publish(db::Connection& tx, std::string_view event, const std::string& payload) {
  std::vector<std::string> kinds;
  {
    std::lock_guard lock(subscribers_mutex_);
    auto [first, last] = subscribers_.equal_range(event);
    for (auto it = first; it != last; ++it) kinds.push_back(it->second);
  }
  for (const auto& kind : kinds) enqueue(tx, {.kind = kind, .payload = payload});
  return static_cast<int>(kinds.size());
}

namespace {
constexpr std::string_view kInsertJob =
    "INSERT INTO jobs (id, kind, payload, idempotency_key, state, attempts, max_attempts, "
    "run_at, correlation_id, created_at, updated_at, sensitive) "
    "VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING";

// The values of kInsertJob.
std::vector<db::Value> job_row(const JobSpec& spec, const std::string& id, TimePoint at) {
  if (spec.kind.empty()) throw Failure("a job needs a kind");
  auto now = to_millis(at);
  return {id,
          spec.kind,
          spec.payload.empty() ? "{}" : spec.payload,
          spec.idempotency_key.empty() ? db::Value() : db::Value(spec.idempotency_key),
          std::int64_t{std::max(1, spec.max_attempts)},
          spec.run_at ? to_millis(*spec.run_at) : now,
          log::correlation_id(),
          now,
          now,
          std::int64_t{spec.sensitive ? 1 : 0}};
}
}  // namespace

void JobQueue::enqueue_later(db::Connection& tx, const JobSpec& spec) {
  tx.execute_values_later(kInsertJob, job_row(spec, ids_.key(), clock_.now()));
}

std::string JobQueue::enqueue(db::Connection& tx, const JobSpec& spec) {
  auto id = ids_.key();
  auto inserted = tx.execute_values(kInsertJob, job_row(spec, id, clock_.now()));
  if (inserted == 1) return id;
  std::optional<std::string> key;
  if (!spec.idempotency_key.empty()) key = spec.idempotency_key;
  auto existing = tx.query_one("SELECT id FROM jobs WHERE idempotency_key = ?", key);
  if (!existing) throw Failure("job insert failed without a conflicting key");
  return existing->text(0);
}

std::vector<Job> JobQueue::claim(std::string_view worker, int max, std::chrono::milliseconds lease,
                                 const std::vector<std::string>& kinds) {
  if (max <= 0) return {};
  return db_.transaction([&](db::Tx& tx) {
    // The claim walks an index in order and stops at the batch. With statistics from when
    // the table was small (a back office queues 10,000 notices in a minute, before
    // autovacuum has analysed it), PostgreSQL would read and sort every due job instead,
    // for every claim.
    if (tx.dialect() == db::Dialect::postgresql) {
      tx.execute_later("SET LOCAL enable_bitmapscan = off");
      tx.execute_later("SET LOCAL enable_seqscan = off");
    }
    auto now = to_millis(clock_.now());
    std::string only =
        kinds.empty() ? "" : fmt::format(" AND kind IN ({})", db::parameter_list(kinds.size()));
    // Jobs whose worker went away first (they are few, and have waited longest), then due
    // jobs, each found through its own index (jobs_running_lease, jobs_queued_due), so the claim
    // costs the same however many jobs ended and a backlog never keeps a crashed worker's jobs
    // waiting.
    auto candidates = [&](std::string_view condition, std::string_view order, int limit) {
      std::vector<db::Value> params{now};
      for (const auto& k : kinds) params.emplace_back(k);
      params.emplace_back(static_cast<std::int64_t>(limit));
      return tx.query_values(fmt::format("SELECT id, attempts, max_attempts FROM jobs WHERE {}{} "
                                         "ORDER BY {} LIMIT ?{}",
                                         condition, only, order, tx.for_update_skip_locked()),
                             params);
    };
    auto rows = candidates("state = 'running' AND lease_until < ?", "lease_until", max);
    if (static_cast<int>(rows.size()) < max) {
      for (auto& r : candidates("state = 'queued' AND run_at <= ?", "run_at",
                                max - static_cast<int>(rows.size()))) {
        rows.push_back(std::move(r));
      }
    }
    std::vector<db::Value> ids;
    for (const auto& r : rows) {
      if (r.integer(1) >= r.integer(2)) {
        // A worker died holding it on its last attempt: it never finished; do not start it
        // again without a person looking.
        tx.execute(
            fmt::format("UPDATE jobs SET state = 'dead', lease_token = NULL, lease_until = NULL, "
                        "last_error = ?, updated_at = ?, {} WHERE id = ?",
                        kWipe),
            "the lease expired on the last attempt (worker stopped or took too long)", now,
            r.text(0));
        continue;
      }
      ids.emplace_back(r.text(0));
    }
    if (ids.empty()) return std::vector<Job>{};
    // One statement for the whole batch; the lease token is the claim's.
    auto in = db::parameter_list(ids.size());
    std::vector<db::Value> params{crypto::random_token(12), now + lease.count(),
                                  std::string(worker), now};
    params.insert(params.end(), ids.begin(), ids.end());
    std::vector<JobRow> rows_claimed;
    for (const auto& r : tx.query_values(
             fmt::format("UPDATE jobs SET state = 'running', attempts = attempts + 1, "
                         "lease_token = ?, lease_until = ?, leased_by = ?, updated_at = ? "
                         "WHERE id IN ({}) RETURNING {}",
                         in, kColumns),
             params)) {
      rows_claimed.push_back(read_row(r));
    }
    // Oldest first, as they were found.
    std::ranges::stable_sort(rows_claimed, {}, &JobRow::run_at);
    std::vector<Job> claimed;
    claimed.reserve(rows_claimed.size());
    for (auto& r : rows_claimed) claimed.push_back(std::move(r.job));
    return claimed;
  });
}

bool JobQueue::renew(const Job& job, std::chrono::milliseconds lease) {
  return db_.execute(
             "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_token = ? AND "
             "state = 'running'",
             to_millis(clock_.now()) + lease.count(), job.id, job.lease_token) == 1;
}

bool JobQueue::release(const Job& job) {
  return db_.execute(
             "UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_token = NULL, "
             "lease_until = NULL, updated_at = ? WHERE id = ? AND lease_token = ? AND "
             "state = 'running'",
             to_millis(clock_.now()), job.id, job.lease_token) == 1;
}

bool JobQueue::complete(db::Connection& tx, const Job& job) {
  return !complete_later(tx, job).rows().empty();
}

db::Later JobQueue::complete_later(db::Connection& tx, const Job& job) {
  return tx.query_later(
      fmt::format("UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = ?, {} "
                  "WHERE id = ? AND lease_token = ? AND state = 'running' RETURNING id",
                  kWipe),
      to_millis(clock_.now()), job.id, job.lease_token);
}

bool JobQueue::complete(const Job& job) {
  // A done job keeps its lease token, so a handler's own completion counts as held, and
  // leaves nothing to write (a read, where a write would queue behind the writers).
  auto row = db_.query_one("SELECT state FROM jobs WHERE id = ? AND lease_token = ?", job.id,
                           job.lease_token);
  if (!row) return false;
  if (row->text(0) == "done") return true;
  return db_.execute(
             fmt::format("UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = ?, {} "
                         "WHERE id = ? AND lease_token = ? AND state = 'running'",
                         kWipe),
             to_millis(clock_.now()), job.id, job.lease_token) == 1;
}

bool JobQueue::fail(const Job& job, const JobOutcome& outcome, const RetryPolicy& policy,
                    double unit) {
  auto now = clock_.now();
  bool final = outcome.kind == JobOutcome::Kind::permanent || job.attempts >= job.max_attempts;
  return db_.transaction([&](db::Tx& tx) {
    if (final) {
      return tx.execute(
                 fmt::format("UPDATE jobs SET state = 'dead', last_error = ?, lease_token = NULL, "
                             "lease_until = NULL, updated_at = ?, {} "
                             "WHERE id = ? AND lease_token = ? AND state = 'running'",
                             kWipe),
                 clip(outcome.error), to_millis(now), job.id, job.lease_token) == 1;
    }
    auto next = now + backoff_delay(job.attempts, policy, unit);
    return tx.execute(
               "UPDATE jobs SET state = 'queued', last_error = ?, run_at = ?, lease_token = NULL, "
               "lease_until = NULL, updated_at = ? WHERE id = ? AND lease_token = ? AND "
               "state = 'running'",
               clip(outcome.error), to_millis(next), to_millis(now), job.id, job.lease_token) == 1;
  });
}

std::optional<JobRow> JobQueue::find(const std::string& id) {
  auto row = db_.query_one(fmt::format("SELECT {} FROM jobs WHERE id = ?", kColumns), id);
  if (!row) return std::nullopt;
  return read_row(*row);
}

std::map<JobState, std::int64_t> JobQueue::counts() {
  std::map<JobState, std::int64_t> out{
      {JobState::queued, 0}, {JobState::running, 0}, {JobState::done, 0}, {JobState::dead, 0}};
  // Each state counted in its own index (core/0006), not by reading the table.
  for (const auto& r :
       db_.query("SELECT 'queued', COUNT(*) FROM jobs WHERE state = 'queued' UNION ALL "
                 "SELECT 'running', COUNT(*) FROM jobs WHERE state = 'running' UNION ALL "
                 "SELECT 'done', COUNT(*) FROM jobs WHERE state = 'done' UNION ALL "
                 "SELECT 'dead', COUNT(*) FROM jobs WHERE state = 'dead'")) {
    out[parse_state(r.text(0))] = r.integer(1);
  }
  return out;
}

std::vector<JobRow> JobQueue::dead(int limit) {
  std::vector<JobRow> out;
  for (const auto& r : db_.query(fmt::format("SELECT {} FROM jobs WHERE state = 'dead' "
                                             "ORDER BY updated_at DESC LIMIT ?",
                                             kColumns),
                                 limit)) {
    out.push_back(read_row(r));
  }
  return out;
}

bool JobQueue::requeue_dead(const std::string& id) {
  auto now = to_millis(clock_.now());
  return db_.execute(
             "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, updated_at = ? "
             "WHERE id = ? AND state = 'dead' AND sensitive = 0",
             now, now, id) == 1;
}

TimePoint JobQueue::schedule(const std::string& kind, std::chrono::milliseconds period) {
  if (period.count() <= 0) throw Failure("a schedule needs a positive period");
  auto now = to_millis(clock_.now());
  auto slot = now / period.count();
  auto next_slot = from_millis((slot + 1) * period.count());
  // While the last run goes on, ask again soon, not only next slot: its end frees this one.
  auto soon = std::min(next_slot, from_millis(now) + std::chrono::seconds(5));
  return db_.transaction([&](db::Tx& tx) {
    tx.execute(
        "INSERT INTO job_schedules (kind, period_ms, last_slot, job_id, updated_at) "
        "VALUES (?, ?, -1, NULL, ?) ON CONFLICT (kind) DO NOTHING",
        kind, static_cast<std::int64_t>(period.count()), now);
    // The row lock makes instances that ask at the same moment take turns.
    auto row = tx.query_one(fmt::format("SELECT last_slot, job_id, period_ms FROM job_schedules "
                                        "WHERE kind = ?{}",
                                        tx.for_update()),
                            kind);
    if (!row) throw Failure("job schedule row missing after insert");
    // A slot counts in the period it was queued with; a changed period starts afresh.
    bool same_period = row->integer(2) == period.count();
    if (same_period && row->integer(0) >= slot) return next_slot;
    if (auto last = row->optional_text(1)) {
      auto state = tx.query_one("SELECT state FROM jobs WHERE id = ?", *last);
      if (state && (state->text(0) == "queued" || state->text(0) == "running")) return soon;
    }
    auto id =
        enqueue(tx, {.kind = kind,
                     .idempotency_key = fmt::format("every:{}:{}:{}", kind, period.count(), slot),
                     .max_attempts = 1});
    tx.execute(
        "UPDATE job_schedules SET period_ms = ?, last_slot = ?, job_id = ?, updated_at = ? "
        "WHERE kind = ?",
        static_cast<std::int64_t>(period.count()), slot, id, now, kind);
    return next_slot;
  });
}

std::int64_t JobQueue::purge(TimePoint done_before, TimePoint dead_before) {
  return db_.execute(
      "DELETE FROM jobs WHERE (state = 'done' AND updated_at < ?) "
      "OR (state = 'dead' AND updated_at < ?)",
      to_millis(done_before), to_millis(dead_before));
}

JobRunner::JobRunner(JobQueue& queue, db::Database& db, WorkerOptions options)
    : queue_(queue), db_(db), options_(std::move(options)), random_(std::random_device{}()) {}

JobRunner::~JobRunner() {
  stop();
}

void JobRunner::handle(std::string kind, JobHandler handler, RetryPolicy policy) {
  handlers_[std::move(kind)] = Entry{std::move(handler), policy};
}

void JobRunner::every(std::string kind, std::chrono::milliseconds period, JobHandler handler) {
  if (period.count() <= 0) throw Failure("a schedule needs a positive period");
  // Not retried: the next period's run does the same work.
  handle(kind, std::move(handler));
  std::lock_guard lock(schedules_mutex_);
  schedules_.push_back({std::move(kind), period, TimePoint{}});
}

void JobRunner::queue_scheduled() {
  std::lock_guard lock(schedules_mutex_);
  auto now = queue_.clock().now();
  for (auto& s : schedules_) {
    if (s.next_check > now) continue;
    try {
      s.next_check = queue_.schedule(s.kind, s.period);
    } catch (const std::exception& e) {
      // The database is away: try again in a while, and claim meanwhile.
      log::warn("job.schedule_failed", {{"kind", s.kind}, {"error", e.what()}});
      s.next_check = now + std::chrono::seconds(30);
    }
  }
}

void JobRunner::start() {
  stopping_ = false;
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { loop(); });
  if (options_.threads > 0) {
    {
      std::lock_guard lock(mutex_);
      beating_ = true;
    }
    heartbeat_ = std::thread([this] { beat(); });
  }
}

void JobRunner::beat() {
  auto every = options_.heartbeat.count() > 0 ? options_.heartbeat : options_.lease / 3;
  std::unique_lock lock(mutex_);
  while (beating_) {
    wake_.wait_for(lock, every, [this] { return !beating_; });
    if (!beating_) break;
    std::vector<Job> waiting(ready_.begin(), ready_.end());
    std::vector<Job> running;
    for (const auto& [id, job] : running_) running.push_back(job);
    lock.unlock();
    auto renewed = [&](const Job& job) {
      try {
        return queue_.renew(job, options_.lease);
      } catch (const std::exception& e) {
        log::warn("job.renew_failed", {{"job", job.id}, {"error", e.what()}});
        return false;
      }
    };
    for (const auto& job : running) {
      // False also when the handler completed the job itself a moment ago; a lost lease
      // is reported when the run ends.
      if (!renewed(job)) log::debug("job.lease_not_renewed", {{"job", job.id}, {"kind", job.kind}});
    }
    // A job waiting in the batch whose lease could not be renewed is not started here: it
    // may be another worker's by the time a worker is free.
    std::vector<std::string> dropped;
    for (const auto& job : waiting) {
      if (!renewed(job)) dropped.push_back(job.id);
    }
    lock.lock();
    std::erase_if(ready_,
                  [&](const Job& j) { return std::ranges::find(dropped, j.id) != dropped.end(); });
  }
}

void JobRunner::stop() {
  std::deque<Job> unstarted;
  {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
    // A claim under way ends first; what it claimed and nobody started goes back now, not
    // after the longest running handler (its lease would run down meanwhile).
    wake_.wait(lock, [this] { return !claiming_; });
    unstarted.swap(ready_);
  }
  release(unstarted);
  for (auto& t : threads_) t.join();
  threads_.clear();
  // The leases of handlers that were finishing were kept until they ended.
  {
    std::lock_guard lock(mutex_);
    beating_ = false;
    wake_.notify_all();
  }
  if (heartbeat_.joinable()) heartbeat_.join();
  std::deque<Job> late;
  {
    std::lock_guard lock(mutex_);
    late.swap(ready_);
  }
  release(late);
}

void JobRunner::release(const std::deque<Job>& jobs) {
  // Claimed for a worker that stopped first: back to the queue, the attempt not counted.
  for (const auto& job : jobs) {
    try {
      (void)queue_.release(job);  // false: another worker took it over already
    } catch (const std::exception& e) {
      log::warn("job.release_failed", {{"job", job.id}, {"error", e.what()}});
    }
  }
}

int JobRunner::run_due() {
  int ran = 0;
  while (run_one()) ++ran;
  return ran;
}

std::vector<Job> JobRunner::claim(int max) {
  // Only the kinds this process handles: an instance that runs some components leaves the
  // other components' jobs to the instances that run them.
  if (handlers_.empty()) return {};
  std::vector<std::string> kinds;
  kinds.reserve(handlers_.size());
  for (const auto& [kind, entry] : handlers_) kinds.push_back(kind);
  return queue_.claim(options_.name, max, options_.lease, kinds);
}

bool JobRunner::run_one() {
  queue_scheduled();
  auto jobs = claim(1);
  if (jobs.empty()) return false;
  run(jobs.front());
  return true;
}

std::optional<Job> JobRunner::next_job() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return std::nullopt;
    if (!ready_.empty()) {
      auto job = std::move(ready_.front());
      ready_.pop_front();
      ++busy_;
      return job;
    }
    if (!claiming_) break;
    // Another worker is claiming for everyone who is free; its batch may hold ours.
    wake_.wait(lock, [this] { return stopping_ || !ready_.empty() || !claiming_; });
  }
  // One claim for the whole pool: as many jobs as there are workers, so that a busy queue
  // costs a claim per batch, not per job. A claimed job waits at most for the runs ahead of
  // it, and the heartbeat renews its lease meanwhile.
  int batch = std::max(1, options_.threads);
  claiming_ = true;
  lock.unlock();
  std::vector<Job> jobs;
  try {
    queue_scheduled();
    jobs = claim(batch);
  } catch (...) {
    lock.lock();
    claiming_ = false;
    wake_.notify_all();
    throw;
  }
  lock.lock();
  claiming_ = false;
  for (auto& j : jobs) ready_.push_back(std::move(j));
  wake_.notify_all();
  // Stopping meanwhile: the whole batch goes back (stop() releases it).
  if (ready_.empty() || stopping_) return std::nullopt;
  auto job = std::move(ready_.front());
  ready_.pop_front();
  ++busy_;
  return job;
}

void JobRunner::run(const Job& job) {
  log::CorrelationScope scope(job.correlation_id.empty() ? "job:" + job.id : job.correlation_id);
  const auto& entry = handlers_.at(job.kind);
  RetryPolicy policy = entry.policy;
  {
    std::lock_guard lock(mutex_);
    running_.emplace(job.id, job);
  }
  JobOutcome outcome;
  try {
    JobContext ctx{job, db_, queue_};
    outcome = entry.handler(ctx);
  } catch (const std::exception& e) {
    outcome = JobOutcome::retry(e.what());
  }
  {
    std::lock_guard lock(mutex_);
    running_.erase(job.id);
  }
  if (outcome.kind == JobOutcome::Kind::completed) {
    log::debug("job.done", {{"job", job.id}, {"kind", job.kind}});
  } else if (outcome.kind == JobOutcome::Kind::done) {
    if (!queue_.complete(job)) log::warn("job.lease_lost", {{"job", job.id}, {"kind", job.kind}});
    log::debug("job.done", {{"job", job.id}, {"kind", job.kind}});
  } else {
    double unit;
    {
      std::lock_guard lock(random_mutex_);
      unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    }
    queue_.fail(job, outcome, policy, unit);
    log::warn("job.failed", {{"job", job.id},
                             {"kind", job.kind},
                             {"attempt", std::to_string(job.attempts)},
                             {"error", outcome.error}});
  }
}

void JobRunner::loop() {
  while (!stopping_) {
    std::optional<Job> job;
    try {
      job = next_job();
      if (job) run(*job);
    } catch (const std::exception& e) {
      log::error("job.worker_error", {{"error", e.what()}});
    }
    std::unique_lock lock(mutex_);
    if (job) {
      --busy_;
      continue;
    }
    wake_.wait_for(lock, options_.idle_poll,
                   [this] { return stopping_.load() || !ready_.empty(); });
  }
}

void register_probe_job(JobRunner& runner, const Clock& clock, std::string worker) {
  runner.handle(
      "core.probe",
      [&clock, worker](JobContext& ctx) {
        Poco::JSON::Parser parser;
        auto payload = parser.parse(ctx.job.payload).extract<Poco::JSON::Object::Ptr>();
        if (payload->has("sleep_ms")) {
          std::this_thread::sleep_for(
              std::chrono::milliseconds(payload->getValue<int>("sleep_ms")));
        }
        if (payload->has("fail")) return JobOutcome::retry(payload->getValue<std::string>("fail"));
        // The run and the completion commit together: a run is recorded only if it counted.
        bool counted = ctx.db.transaction([&](db::Tx& tx) {
          if (!ctx.queue.complete(tx, ctx.job)) return false;
          tx.execute(
              "INSERT INTO job_probe_runs (job_id, worker, attempt, ran_at) VALUES (?, ?, ?, ?)",
              ctx.job.id, worker, ctx.job.attempts, to_millis(clock.now()));
          return true;
        });
        if (!counted) return JobOutcome::retry("lease lost before the run was recorded");
        return JobOutcome::ok();
      },
      // A probe checks the machinery, so it retries quickly.
      RetryPolicy{.base = std::chrono::seconds(1), .cap = std::chrono::seconds(10)});
}

}  // namespace mvsp::core
