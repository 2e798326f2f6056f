#include <fmt/format.h>
#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "db_drivers.hpp"
#include "db_pool.hpp"

namespace mvsp::core::db {
namespace {

// The writers of one process take turns here before SQLite's own lock. It knows its holder,
// so that a thread that writes on a second connection inside its own transaction fails at
// once instead of waiting for itself.
struct WriteLock {
  std::timed_mutex mutex;
  std::atomic<std::thread::id> holder;

  void check_not_held() const {
    if (holder.load() == std::this_thread::get_id()) {
      throw Failure("database: a write on another connection inside this thread's transaction");
    }
  }
};

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(const std::string& path, int busy_timeout_ms,
                   std::shared_ptr<WriteLock> write_lock)
      : write_lock_(std::move(write_lock)), busy_timeout_(busy_timeout_ms) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw Failure(fmt::format("cannot open SQLite database {}: {}", path, msg));
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    execute_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  }

  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  Dialect dialect() const override { return Dialect::sqlite; }

  Rows query_values(std::string_view sql, std::span<const Value> params) override {
    sqlite3_stmt* stmt = prepare(sql, params);
    auto lock = lock_for_write(stmt);
    Rows rows;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail_statement(stmt, sql);
      int n = sqlite3_column_count(stmt);
      std::vector<Value> values;
      values.reserve(n);
      for (int i = 0; i < n; ++i) values.push_back(column(stmt, i));
      rows.emplace_back(std::move(values));
    }
    sqlite3_reset(stmt);
    return rows;
  }

  std::int64_t execute_values(std::string_view sql, std::span<const Value> params) override {
    sqlite3_stmt* stmt = prepare(sql, params);
    auto lock = lock_for_write(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) fail_statement(stmt, sql);
    sqlite3_reset(stmt);
    return sqlite3_changes64(db_);
  }

  void execute_script(std::string_view sql) override {
    std::string text(sql);
    char* err = nullptr;
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw Failure(fmt::format("database: {}", msg));
    }
  }

  void lock_exclusive(std::string_view) override {}
  void lock_shared(std::string_view) override {}
  std::string_view for_update_skip_locked() const override { return ""; }
  std::string_view for_update() const override { return ""; }

  // IMMEDIATE takes the write lock at the start, so two writers never deadlock on upgrade.
  // Writers of this process queue on a mutex first: SQLite's busy handler would make them
  // sleep in steps of up to 100 ms, which under load costs more than the writes.
  void begin() override {
    write_lock_->check_not_held();
    write_lock_->mutex.lock();
    write_lock_->holder = std::this_thread::get_id();
    holds_lock_ = true;
    try {
      execute_script("BEGIN IMMEDIATE");
    } catch (...) {
      release();
      throw;
    }
  }
  // A transaction one of whose statements failed ends with nothing written, also when the
  // caller caught the failure (as PostgreSQL does: its failure may be a statement sent
  // earlier than the one the caller caught).
  void commit() override {
    if (failed_) {
      rollback();
      throw Failure("database: a statement of the transaction failed; nothing was written");
    }
    try {
      execute_script("COMMIT");
    } catch (...) {
      release();
      throw;
    }
    release();
  }
  void rollback() noexcept override {
    failed_ = false;
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    release();
  }

  bool reusable() const { return true; }
  void reset_for_pool() { rollback(); }

 private:
  sqlite3_stmt* prepare(std::string_view sql, std::span<const Value> params) {
    auto it = cache_.find(std::string(sql));
    sqlite3_stmt* stmt = nullptr;
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      if (cache_.size() >= kCacheLimit) {
        for (auto& [s, st] : cache_) sqlite3_finalize(st);
        cache_.clear();
      }
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        throw Failure(fmt::format("database: {} in: {}", sqlite3_errmsg(db_), sql));
      }
      cache_.emplace(std::string(sql), stmt);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
      throw Failure(fmt::format("database: {} parameters for {} placeholders in: {}", params.size(),
                                sqlite3_bind_parameter_count(stmt), sql));
    }
    for (std::size_t i = 0; i < params.size(); ++i) bind(stmt, static_cast<int>(i + 1), params[i]);
    return stmt;
  }

  static void bind(sqlite3_stmt* stmt, int index, const Value& v) {
    if (auto p = std::get_if<std::int64_t>(&v)) {
      sqlite3_bind_int64(stmt, index, *p);
    } else if (auto p = std::get_if<double>(&v)) {
      sqlite3_bind_double(stmt, index, *p);
    } else if (auto p = std::get_if<std::string>(&v)) {
      sqlite3_bind_text64(stmt, index, p->data(), p->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else if (auto p = std::get_if<Bytes>(&v)) {
      sqlite3_bind_blob64(stmt, index, p->data.data(), p->data.size(), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(stmt, index);
    }
  }

  static Value column(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        return std::int64_t{sqlite3_column_int64(stmt, i)};
      case SQLITE_FLOAT:
        return sqlite3_column_double(stmt, i);
      case SQLITE_TEXT:
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                           sqlite3_column_bytes(stmt, i));
      case SQLITE_BLOB: {
        auto data = static_cast<const char*>(sqlite3_column_blob(stmt, i));
        return Bytes{std::string(data ? data : "", sqlite3_column_bytes(stmt, i))};
      }
      default:
        return {};
    }
  }

  [[noreturn]] void fail_statement(sqlite3_stmt* stmt, std::string_view sql) {
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(stmt);
    if (!sqlite3_get_autocommit(db_)) failed_ = true;
    throw Failure(fmt::format("database: {} in: {}", msg, sql));
  }

  // A write outside a transaction queues on the writers' mutex too, as begin() does,
  // instead of in SQLite's sleeping busy handler. It waits as long as that handler would,
  // and then fails as SQLite would.
  std::unique_lock<std::timed_mutex> lock_for_write(sqlite3_stmt* stmt) {
    if (holds_lock_ || !sqlite3_get_autocommit(db_) || sqlite3_stmt_readonly(stmt)) return {};
    write_lock_->check_not_held();
    std::unique_lock lock(write_lock_->mutex, busy_timeout_);
    if (!lock) throw Failure("database: database is locked (the other writers took too long)");
    return lock;
  }

  static constexpr std::size_t kCacheLimit = 512;
  void release() noexcept {
    if (holds_lock_) {
      holds_lock_ = false;
      write_lock_->holder = std::thread::id();
      write_lock_->mutex.unlock();
    }
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  std::shared_ptr<WriteLock> write_lock_;
  std::chrono::milliseconds busy_timeout_;
  bool holds_lock_ = false;
  bool failed_ = false;  // a statement of the open transaction failed
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const std::string& path, const PoolOptions& options)
      : pool_(options.size, std::chrono::milliseconds(options.busy_timeout_ms),
              [=, lock = std::make_shared<WriteLock>()] {
                return std::make_unique<SqliteConnection>(path, options.busy_timeout_ms, lock);
              }) {
    acquire();  // opens the file now, so a bad path fails at start
  }

  Dialect dialect() const override { return Dialect::sqlite; }
  std::shared_ptr<Connection> acquire() override { return pool_.acquire(); }
  bool ping() noexcept override {
    try {
      return !query("SELECT 1").empty();
    } catch (...) {
      return false;
    }
  }

 private:
  Pool<SqliteConnection> pool_;
};

}  // namespace

std::unique_ptr<Database> open_sqlite(const std::string& path, const PoolOptions& options) {
  return std::make_unique<SqliteDatabase>(path, options);
}

}  // namespace mvsp::core::db
