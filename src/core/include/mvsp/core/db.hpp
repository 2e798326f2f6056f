#pragma once
// One database interface, two drivers (SQLite, PostgreSQL). SQL is written once in the
// portable subset (docs/adr/0002-storage.md): `?` placeholders, TEXT/BIGINT/INTEGER/
// DOUBLE PRECISION/BLOB columns, `INSERT … ON CONFLICT … DO NOTHING`, `RETURNING`.
// Database failures throw core::Failure (the request or job cannot finish); expected
// outcomes such as a duplicate are read from affected-row counts, never from exceptions.

#include <array>
#include <cstdint>
#include <memory>
#include <mvsp/core/error.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace mvsp::core::db {

// Bytes for BLOB/BYTEA columns, distinct from text.
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

using Value = std::variant<std::monostate, std::int64_t, double, std::string, Bytes>;

inline Value to_value(std::nullopt_t) {
  return {};
}
inline Value to_value(bool v) {
  return std::int64_t{v ? 1 : 0};
}
template <typename I>
requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) Value to_value(I v) {
  return static_cast<std::int64_t>(v);
}
inline Value to_value(double v) {
  return v;
}
inline Value to_value(std::string v) {
  return v;
}
inline Value to_value(std::string_view v) {
  return std::string(v);
}
inline Value to_value(const char* v) {
  return std::string(v);
}
inline Value to_value(Bytes v) {
  return v;
}
inline Value to_value(Value v) {
  return v;
}
template <typename T>
Value to_value(const std::optional<T>& v) {
  return v ? to_value(*v) : Value{};
}

// One result row; columns by position in the SELECT list. Reading a column with the wrong
// type is a programming error and throws core::Failure.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  bool is_null(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;
  double real(std::size_t i) const;
  const std::string& text(std::size_t i) const;
  const std::string& bytes(std::size_t i) const;
  std::optional<std::int64_t> optional_integer(std::size_t i) const;
  std::optional<std::string> optional_text(std::size_t i) const;
  const Value& value(std::size_t i) const;

 private:
  std::vector<Value> values_;
};

using Rows = std::vector<Row>;

enum class Dialect { sqlite, postgresql };

class Connection;

// The answer to a query sent later (Connection::query_later), read when first asked for.
class Later {
 public:
  struct State {
    Connection* connection = nullptr;  // to send what waits; none once answered
    std::optional<Rows> rows;          // none when the query did not run
  };
  explicit Later(std::shared_ptr<State> state) : state_(std::move(state)) {}
  static Later answered(Rows rows);
  // The query's rows. When they have not come yet, sends what waits in the transaction and
  // reads every answer (one round trip). Throws core::Failure when the query, or one sent
  // before it in its transaction, failed. Like any read in a transaction, what they say
  // holds only if the transaction commits; read them inside it (the commit and the
  // rollback read every answer, so none is left to settle afterwards).
  const Rows& rows();

 private:
  std::shared_ptr<State> state_;
};

// A connection for the duration of a transaction or a single statement.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  virtual Rows query_values(std::string_view sql, std::span<const Value> params) = 0;
  // Returns the number of rows changed.
  virtual std::int64_t execute_values(std::string_view sql, std::span<const Value> params) = 0;
  // Several statements without parameters (migrations).
  virtual void execute_script(std::string_view sql) = 0;
  // Serialises the current transaction against every other that takes the same lock name
  // until commit (PostgreSQL advisory lock; SQLite write transactions are serial anyway).
  virtual void lock_exclusive(std::string_view name) = 0;
  // The same lock shared: transactions that share it run side by side, one that takes it
  // exclusively waits for them all (and they for it).
  virtual void lock_shared(std::string_view name) = 0;
  // " FOR UPDATE SKIP LOCKED" where the database has row locks, "" on SQLite, whose write
  // transactions already exclude each other.
  virtual std::string_view for_update_skip_locked() const = 0;
  // " FOR UPDATE" where the database has row locks, "" on SQLite.
  virtual std::string_view for_update() const = 0;

  template <typename... A>
  Rows query(std::string_view sql, A&&... args) {
    std::array<Value, sizeof...(A)> p{to_value(std::forward<A>(args))...};
    return query_values(sql, p);
  }
  template <typename... A>
  std::optional<Row> query_one(std::string_view sql, A&&... args) {
    auto rows = query(sql, std::forward<A>(args)...);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }
  template <typename... A>
  std::int64_t execute(std::string_view sql, A&&... args) {
    std::array<Value, sizeof...(A)> p{to_value(std::forward<A>(args))...};
    return execute_values(sql, p);
  }
  // A write whose outcome the caller does not read (an INSERT of a record, an UPDATE whose
  // count does not matter). Inside a transaction on PostgreSQL it goes to the server with
  // the next statement that waits for a result, or with the commit, so that several take one
  // round trip; until then it has not run (a lock it would take is not held yet). A failure
  // surfaces there and fails the transaction like any other. Elsewhere it runs at once.
  template <typename... A>
  void execute_later(std::string_view sql, A&&... args) {
    std::array<Value, sizeof...(A)> p{to_value(std::forward<A>(args))...};
    execute_values_later(sql, p);
  }
  virtual void execute_values_later(std::string_view sql, std::span<const Value> params) {
    execute_values(sql, params);
  }
  // A query whose rows are needed only after more statements are sent: goes with them as
  // execute_later does (its rows are read at the first Later::rows() or statement that
  // waits), so that a transaction's independent reads and its lock take one round trip. A
  // query after a row lock runs once the lock is held, and sees what was committed until
  // then. Elsewhere it runs at once.
  template <typename... A>
  Later query_later(std::string_view sql, A&&... args) {
    std::array<Value, sizeof...(A)> p{to_value(std::forward<A>(args))...};
    return query_values_later(sql, p);
  }
  virtual Later query_values_later(std::string_view sql, std::span<const Value> params) {
    return Later::answered(query_values(sql, params));
  }
  // Sends what waits and reads the answers (Later::rows() does it when needed).
  virtual void settle() {}

  // Transaction control, used by Database::transaction.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
};

using Tx = Connection;

// The parameters of an IN list of n values: "?, ?, ?" for n = 3.
std::string parameter_list(std::size_t n);

struct PoolOptions {
  int size = 8;                // connections kept open
  int busy_timeout_ms = 5000;  // how long to wait for a lock (SQLite) or a free connection
};

class Database {
 public:
  virtual ~Database() = default;

  // Opens "sqlite:PATH" or "postgresql://…". Throws core::Failure when it cannot connect;
  // the message never contains the password.
  static std::unique_ptr<Database> open(const std::string& url, const PoolOptions& options = {});

  virtual Dialect dialect() const = 0;
  // A pooled connection; returned to the pool when the pointer is released.
  virtual std::shared_ptr<Connection> acquire() = 0;
  // True when a trivial query succeeds.
  virtual bool ping() noexcept = 0;

  // Runs fn(Tx&) in one write transaction. Commits when fn returns normally, or when it
  // returns a std::expected that holds a value; rolls back on an error value or exception.
  template <typename F>
  auto transaction(F&& fn) -> std::invoke_result_t<F, Tx&>;

  // Single statements outside a transaction.
  template <typename... A>
  Rows query(std::string_view sql, A&&... args) {
    return acquire()->query(sql, std::forward<A>(args)...);
  }
  template <typename... A>
  std::optional<Row> query_one(std::string_view sql, A&&... args) {
    return acquire()->query_one(sql, std::forward<A>(args)...);
  }
  template <typename... A>
  std::int64_t execute(std::string_view sql, A&&... args) {
    return acquire()->execute(sql, std::forward<A>(args)...);
  }
};

namespace detail {
template <typename T>
struct IsExpected : std::false_type {};
template <typename T, typename E>
struct IsExpected<std::expected<T, E>> : std::true_type {};
template <typename T>
struct IsExpected<Outcome<T>> : std::true_type {};
}  // namespace detail

template <typename F>
auto Database::transaction(F&& fn) -> std::invoke_result_t<F, Tx&> {
  using R = std::invoke_result_t<F, Tx&>;
  auto conn = acquire();
  conn->begin();
  try {
    if constexpr (std::is_void_v<R>) {
      fn(*conn);
      conn->commit();
    } else {
      R result = fn(*conn);
      if constexpr (detail::IsExpected<R>::value) {
        if (result.has_value()) {
          conn->commit();
        } else {
          conn->rollback();
        }
      } else {
        conn->commit();
      }
      return result;
    }
  } catch (...) {
    conn->rollback();
    throw;
  }
}

// Removes the password from a database URL so it can be logged.
std::string redact_url(std::string_view url);

}  // namespace mvsp::core::db
