#include <fmt/format.h>

#include <mvsp/core/db.hpp>

#include "db_drivers.hpp"

namespace mvsp::core::db {

Later Later::answered(Rows rows) {
  auto state = std::make_shared<State>();
  state->rows = std::move(rows);
  return Later(std::move(state));
}

const Rows& Later::rows() {
  if (state_->connection) state_->connection->settle();
  if (!state_->rows) {
    throw Failure("database: a query sent later did not run: it or one before it failed");
  }
  return *state_->rows;
}

std::string parameter_list(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

namespace {

[[noreturn]] void wrong_type(std::size_t i, std::string_view wanted) {
  throw Failure(fmt::format("column {} is not {}", i, wanted));
}

}  // namespace

const Value& Row::value(std::size_t i) const {
  if (i >= values_.size()) throw Failure(fmt::format("column {} out of range", i));
  return values_[i];
}

bool Row::is_null(std::size_t i) const {
  return std::holds_alternative<std::monostate>(value(i));
}

std::int64_t Row::integer(std::size_t i) const {
  const auto& v = value(i);
  if (auto p = std::get_if<std::int64_t>(&v)) return *p;
  wrong_type(i, "an integer");
}

double Row::real(std::size_t i) const {
  const auto& v = value(i);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<std::int64_t>(&v)) return static_cast<double>(*p);
  wrong_type(i, "a number");
}

const std::string& Row::text(std::size_t i) const {
  const auto& v = value(i);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  wrong_type(i, "text");
}

const std::string& Row::bytes(std::size_t i) const {
  const auto& v = value(i);
  if (auto p = std::get_if<Bytes>(&v)) return p->data;
  wrong_type(i, "bytes");
}

std::optional<std::int64_t> Row::optional_integer(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return integer(i);
}

std::optional<std::string> Row::optional_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

std::unique_ptr<Database> Database::open(const std::string& url, const PoolOptions& options) {
  if (url.starts_with("sqlite:")) return open_sqlite(url.substr(7), options);
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return open_postgresql(url, options);
  }
  throw Failure("database URL must start with sqlite: or postgresql://");
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return out;
  auto at = url.find('@', scheme + 3);
  auto colon = url.find(':', scheme + 3);
  if (at != std::string_view::npos && colon != std::string_view::npos && colon < at) {
    out.replace(colon + 1, at - colon - 1, "***");
  }
  auto query = out.find("password=");
  if (query != std::string::npos) {
    auto end = out.find('&', query);
    out.replace(query + 9, (end == std::string::npos ? out.size() : end) - query - 9, "***");
  }
  return out;
}

std::string numbered_parameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += fmt::format("${}", ++n);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace mvsp::core::db
