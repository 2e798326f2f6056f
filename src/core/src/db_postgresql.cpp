#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <mvsp/core/crypto.hpp>
#include <regex>
#include <string>
#include <unordered_map>

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
    Rows rows;
    int n_rows = PQntuples(res.get());
    int n_cols = PQnfields(res.get());
    rows.reserve(n_rows);
    for (int r = 0; r < n_rows; ++r) {
      std::vector<Value> values;
      values.reserve(n_cols);
      for (int c = 0; c < n_cols; ++c) values.push_back(cell(res.get(), r, c));
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  std::int64_t execute_values(std::string_view sql, std::span<const Value> params) override {
    ResultPtr res = run(sql, params);
    const char* n = PQcmdTuples(res.get());
    return *n ? parse_int(n) : 0;
  }

  void execute_script(std::string_view sql) override {
    // The portable DDL says BLOB; PostgreSQL calls it BYTEA.
    static const std::regex kBlob("\\bBLOB\\b");
    std::string text = std::regex_replace(std::string(sql), kBlob, "BYTEA");
    ResultPtr res(PQexec(conn_, text.c_str()));
    check(res.get(), sql);
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

  void begin() override { execute_script("BEGIN"); }
  void commit() override { execute_script("COMMIT"); }
  void rollback() noexcept override {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
  }

  bool reusable() const { return PQstatus(conn_) == CONNECTION_OK; }
  void reset_for_pool() { rollback(); }

 private:
  ResultPtr run(std::string_view sql, std::span<const Value> params) {
    const std::string& name = prepared(sql);
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (auto p = std::get_if<std::int64_t>(&v)) {
        texts[i] = std::to_string(*p);
      } else if (auto p = std::get_if<double>(&v)) {
        texts[i] = fmt::format("{}", *p);
      } else if (auto p = std::get_if<std::string>(&v)) {
        values[i] = p->c_str();
        continue;
      } else if (auto p = std::get_if<Bytes>(&v)) {
        values[i] = p->data.data();
        lengths[i] = static_cast<int>(p->data.size());
        formats[i] = 1;
        continue;
      } else {
        continue;  // NULL
      }
      values[i] = texts[i].c_str();
    }
    ResultPtr res(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()),
                                 values.data(), lengths.data(), formats.data(), 0));
    check(res.get(), sql);
    return res;
  }

  const std::string& prepared(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    std::string name = fmt::format("s{}", cache_.size() + 1);
    ResultPtr res(PQprepare(conn_, name.c_str(), number_placeholders(sql).c_str(), 0, nullptr));
    check(res.get(), sql);
    return cache_.emplace(std::string(sql), std::move(name)).first->second;
  }

  void check(PGresult* res, std::string_view sql) {
    auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw Failure(fmt::format("database: {} in: {}", msg, sql));
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
