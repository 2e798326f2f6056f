#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <mvsp/core/crypto.hpp>
#include <regex>
#include <string>
#include <unordered_map>
#include <utility>

#include "db_drivers.hpp"
#include "db_pool.hpp"

namespace mvsp::core::db {
namespace {

// Type OIDs from pg_type.h (stable across PostgreSQL versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::int64_t parse_int(const char* s) {
  std::int64_t v = 0;
  std::from_chars(s, s + std::char_traits<char>::length(s), v);
  return v;
}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw Failure(fmt::format("cannot connect to PostgreSQL at {}: {}", redact_url(url), msg));
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~PgConnection() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::postgresql; }

  Rows query_values(std::string_view sql, std::span<const Value> params) override {
    ResultPtr res = run(sql, params);
    return rows_of(res.get());
  }

  std::int64_t execute_values(std::string_view sql, std::span<const Value> params) override {
    ResultPtr res = run(sql, params);
    const char* n = PQcmdTuples(res.get());
    return *n ? parse_int(n) : 0;
  }

  void execute_script(std::string_view sql) override {
    settle();
    // The portable DDL says BLOB; PostgreSQL calls it BYTEA.
    static const std::regex kBlob("\\bBLOB\\b");
    std::string text = std::regex_replace(std::string(sql), kBlob, "BYTEA");
    ResultPtr res(PQexec(conn_, text.c_str()));
    check(res.get(), sql);
  }

  void execute_values_later(std::string_view sql, std::span<const Value> params) override {
    if (!in_transaction_) {
      execute_values(sql, params);
      return;
    }
    send_later(sql, params, nullptr);
  }

  Later query_values_later(std::string_view sql, std::span<const Value> params) override {
    if (!in_transaction_) return Later::answered(query_values(sql, params));
    auto answer = std::make_shared<Later::State>();
    answer->connection = this;
    send_later(sql, params, answer);
    return Later(std::move(answer));
  }

  void lock_exclusive(std::string_view name) override {
    execute("SELECT pg_advisory_xact_lock(?)", lock_key(name));
  }
  void lock_shared(std::string_view name) override {
    execute("SELECT pg_advisory_xact_lock_shared(?)", lock_key(name));
  }

  static std::int64_t lock_key(std::string_view name) {
    auto digest = crypto::sha256(name);
    std::int64_t key = 0;
    std::memcpy(&key, digest.data(), sizeof key);
    return key;
  }

  std::string_view for_update_skip_locked() const override { return " FOR UPDATE SKIP LOCKED"; }
  std::string_view for_update() const override { return " FOR UPDATE"; }

  // BEGIN goes with the transaction's first statement that waits, COMMIT with what is
  // still waiting: a transaction costs no round trip of its own.
  void begin() override {
    settle();
    in_transaction_ = true;
    enter_pipeline();
    send("BEGIN", {});
  }
  void commit() override {
    in_transaction_ = false;
    ResultPtr res;
    if (pipeline_) {
      send("COMMIT", {});
      settle(&res);
    } else {
      res.reset(PQexec(conn_, "COMMIT"));
      check(res.get(), "COMMIT");
    }
    // A transaction one of whose statements failed answers COMMIT with ROLLBACK, as a
    // success: when the caller caught that failure (which may have been a statement sent
    // earlier than the one it caught), nothing was written, and that is a failure here.
    if (!res || std::string_view(PQcmdStatus(res.get())) != "COMMIT") {
      throw Failure("database: a statement of the transaction failed; nothing was written");
    }
  }
  void rollback() noexcept override {
    in_transaction_ = false;
    if (pipeline_) {
      try {
        settle();
      } catch (...) {  // what failed is rolled back below; the caller has its own error
      }
    }
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
  }

  bool reusable() const {
    return PQstatus(conn_) == CONNECTION_OK && !pipeline_ &&
           PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }
  void reset_for_pool() { rollback(); }

 private:
  static constexpr std::size_t kMaxPending = 64;

  // A statement sent whose result has not been read: its text (for the error message),
  // for a statement prepared on the way the cache entry to forget if that failed, and for
  // a query sent later where its rows go.
  struct Pending {
    std::string sql;
    std::string prepared_key;
    std::shared_ptr<Later::State> answer;
  };

  void enter_pipeline() {
    if (pipeline_) return;
    if (PQenterPipelineMode(conn_) != 1) {
      throw Failure(
          fmt::format("database: cannot send statements together: {}", PQerrorMessage(conn_)));
    }
    pipeline_ = true;
  }

  // Sends a statement in pipeline mode: BEGIN and COMMIT as they are, others prepared once
  // per connection (a first preparation goes in the same round trip).
  void send(std::string_view sql, std::span<const Value> params) {
    int ok = 0;
    if (params.empty() && (sql == "BEGIN" || sql == "COMMIT")) {
      ok = PQsendQueryParams(conn_, std::string(sql).c_str(), 0, nullptr, nullptr, nullptr, nullptr,
                             0);
    } else {
      const std::string& name = prepared(sql);
      Parameters p(params);
      ok = PQsendQueryPrepared(conn_, name.c_str(), p.count(), p.values(), p.lengths(), p.formats(),
                               0);
    }
    if (ok != 1) {
      throw Failure(fmt::format("database: {} in: {}", PQerrorMessage(conn_), sql));
    }
    pending_.push_back({std::string(sql), {}});
  }

  // Sends a statement inside a transaction whose result is read later (into `answer`, if
  // any).
  void send_later(std::string_view sql, std::span<const Value> params,
                  std::shared_ptr<Later::State> answer) {
    enter_pipeline();
    send(sql, params);
    pending_.back().answer = std::move(answer);
    // Each waiting statement costs the server a few bytes of answer that nobody reads yet:
    // a bounded number, so that neither side ever waits for the other to read.
    if (pending_.size() >= kMaxPending) settle();
  }

  void settle() override { settle(nullptr); }

  // Reads the results of everything sent (and of `last`, kept in `*out`), then leaves
  // pipeline mode. Throws the first failure; the statements after it were not run.
  void settle(ResultPtr* out) {
    if (!pipeline_) return;
    std::string error;
    auto fail = [&](std::string message) {
      if (error.empty()) error = std::move(message);
    };
    // Taken whole, and every query's answer cut from this connection, before anything is
    // read: whatever throws below, nothing is read twice and no Later settles again.
    auto batch = std::exchange(pending_, {});
    for (const auto& p : batch) {
      if (p.answer) p.answer->connection = nullptr;
    }
    if (PQpipelineSync(conn_) != 1) fail(PQerrorMessage(conn_));
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& p = batch[i];
      bool last = out && i + 1 == batch.size();
      bool got = false;
      while (PGresult* raw = PQgetResult(conn_)) {
        ResultPtr res(raw);
        got = true;
        auto status = PQresultStatus(raw);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
          if (p.answer) {
            try {
              p.answer->rows = rows_of(raw);
            } catch (const std::exception& e) {
              fail(fmt::format("database: {} reading the rows of: {}", e.what(), p.sql));
            }
          }
          if (last) *out = std::move(res);
          continue;
        }
        if (!p.prepared_key.empty()) cache_.erase(p.prepared_key);
        if (status != PGRES_PIPELINE_ABORTED) fail(message_of(raw, p.sql));
      }
      if (!got) fail(fmt::format("database: no answer to: {}", p.sql));
    }
    // The sync's own result ends the batch.
    if (PGresult* raw = PQgetResult(conn_)) {
      if (PQresultStatus(raw) != PGRES_PIPELINE_SYNC) fail(message_of(raw, "sync"));
      PQclear(raw);
    }
    if (PQexitPipelineMode(conn_) == 1) {
      pipeline_ = false;
    } else {
      fail(PQerrorMessage(conn_));
    }
    if (!error.empty()) throw Failure(error);
  }

  // The values of a statement's parameters as libpq takes them.
  class Parameters {
   public:
    explicit Parameters(std::span<const Value> params)
        : texts_(params.size()),
          values_(params.size(), nullptr),
          lengths_(params.size(), 0),
          formats_(params.size(), 0) {
      for (std::size_t i = 0; i < params.size(); ++i) {
        const Value& v = params[i];
        if (auto p = std::get_if<std::int64_t>(&v)) {
          texts_[i] = std::to_string(*p);
        } else if (auto p = std::get_if<double>(&v)) {
          texts_[i] = fmt::format("{}", *p);
        } else if (auto p = std::get_if<std::string>(&v)) {
          values_[i] = p->c_str();
          continue;
        } else if (auto p = std::get_if<Bytes>(&v)) {
          values_[i] = p->data.data();
          lengths_[i] = static_cast<int>(p->data.size());
          formats_[i] = 1;
          continue;
        } else {
          continue;  // NULL
        }
        values_[i] = texts_[i].c_str();
      }
    }
    int count() const { return static_cast<int>(values_.size()); }
    const char* const* values() const { return values_.data(); }
    const int* lengths() const { return lengths_.data(); }
    const int* formats() const { return formats_.data(); }

   private:
    std::vector<std::string> texts_;
    std::vector<const char*> values_;
    std::vector<int> lengths_;
    std::vector<int> formats_;
  };

  ResultPtr run(std::string_view sql, std::span<const Value> params) {
    if (pipeline_) {
      // Goes with what waits: one round trip for all of it.
      send(sql, params);
      ResultPtr res;
      settle(&res);
      return res;
    }
    const std::string& name = prepared(sql);
    Parameters p(params);
    ResultPtr res(
        PQexecPrepared(conn_, name.c_str(), p.count(), p.values(), p.lengths(), p.formats(), 0));
    check(res.get(), sql);
    return res;
  }

  // The name of `sql` prepared on this connection; in pipeline mode the prepare is sent
  // ahead of the statement and its result read with the others.
  const std::string& prepared(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    std::string name = fmt::format("s{}", ++prepared_count_);
    std::string text = numbered_parameters(sql);
    // Parameter types (0, nullptr): PostgreSQL infers each from where it stands.
    if (pipeline_) {
      if (PQsendPrepare(conn_, name.c_str(), text.c_str(), 0, nullptr) != 1) {
        throw Failure(fmt::format("database: {} in: {}", PQerrorMessage(conn_), sql));
      }
      pending_.push_back({std::string(sql), std::string(sql)});
    } else {
      ResultPtr res(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr));
      check(res.get(), sql);
    }
    return cache_.emplace(std::string(sql), std::move(name)).first->second;
  }

  std::string message_of(PGresult* res, std::string_view sql) const {
    std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return fmt::format("database: {} in: {}", msg, sql);
  }

  void check(PGresult* res, std::string_view sql) {
    auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    throw Failure(message_of(res, sql));
  }

  static Rows rows_of(PGresult* res) {
    Rows rows;
    int n_rows = PQntuples(res);
    int n_cols = PQnfields(res);
    rows.reserve(n_rows);
    for (int r = 0; r < n_rows; ++r) {
      std::vector<Value> values;
      values.reserve(n_cols);
      for (int c = 0; c < n_cols; ++c) values.push_back(cell(res, r, c));
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  static Value cell(PGresult* res, int r, int c) {
    if (PQgetisnull(res, r, c)) return {};
    const char* s = PQgetvalue(res, r, c);
    switch (PQftype(res, c)) {
      case kInt8Oid:
      case kInt4Oid:
      case kInt2Oid:
        return parse_int(s);
      case kBoolOid:
        return std::int64_t{s[0] == 't' ? 1 : 0};
      case kFloat4Oid:
      case kFloat8Oid:
        return std::stod(s);
      case kNumericOid:
        if (std::string_view(s).find_first_of(".eE") == std::string_view::npos) return parse_int(s);
        return std::stod(s);
      case kByteaOid: {
        size_t len = 0;
        unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(s), &len);
        Bytes b{std::string(reinterpret_cast<char*>(raw), len)};
        PQfreemem(raw);
        return b;
      }
      default:
        return std::string(s, PQgetlength(res, r, c));
    }
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> cache_;
  int prepared_count_ = 0;  // names are never reused, also after a failed prepare
  bool in_transaction_ = false;
  bool pipeline_ = false;
  std::vector<Pending> pending_;
};

class PgDatabase final : public Database {
 public:
  PgDatabase(const std::string& url, const PoolOptions& options)
      : pool_(options.size, std::chrono::milliseconds(options.busy_timeout_ms),
              [url] { return std::make_unique<PgConnection>(url); }) {
    acquire();  // connects now, so a bad URL fails at start
  }

  Dialect dialect() const override { return Dialect::postgresql; }
  std::shared_ptr<Connection> acquire() override { return pool_.acquire(); }
  bool ping() noexcept override {
    try {
      return !query("SELECT 1").empty();
    } catch (...) {
      return false;
    }
  }

 private:
  Pool<PgConnection> pool_;
};

}  // namespace

std::unique_ptr<Database> open_postgresql(const std::string& url, const PoolOptions& options) {
  return std::make_unique<PgDatabase>(url, options);
}

}  // namespace mvsp::core::db
