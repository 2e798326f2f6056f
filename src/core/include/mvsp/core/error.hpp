#pragma once
// The one error taxonomy of mvsp (docs/adr/0001-errors.md). Expected outcomes that a
// caller branches on are returned as Result<T>; exceptions mean "cannot finish".

#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace mvsp::core {

enum class ErrorCode {
  invalid_input,           // the input breaks a rule; `field` names where
  not_found,               // the object does not exist (or the caller may not know it exists)
  conflict,                // the object's state forbids the change (duplicate, stale version)
  forbidden,               // the caller is known but may not do this
  unauthenticated,         // the caller must log in (or present a valid token)
  rate_limited,            // too many requests; retry later
  unavailable,             // a dependency is down; retry later
  unsupported_media_type,  // the body is not in a format this endpoint reads
};

// One violated rule on one field, for forms and problem+json `errors`.
struct FieldError {
  std::string field;    // path like "address.postcode" or "documents[2]"
  std::string message;  // for the person, already in their language
};

// An expected failure. `message` may be shown to the person; `detail` is logged only;
// `retry_after` says how long a rate_limited caller waits (the Retry-After header).
struct Error {
  ErrorCode code;
  std::string message;
  std::vector<FieldError> fields;
  std::string detail;
  std::chrono::seconds retry_after{0};

  static Error invalid(std::string field, std::string message);
  static Error not_found(std::string message);
  static Error conflict(std::string message);
  static Error forbidden(std::string message);
  static Error unauthenticated(std::string message);
  static Error rate_limited(std::string message, std::chrono::seconds retry_after);
  static Error unavailable(std::string message, std::string detail = {});
  static Error unsupported_media_type(std::string message);

  // Adds one more field error to an invalid_input error.
  Error& and_field(std::string field, std::string message);
};

// What a use case returns: a value (or nothing, for Status) or the Error. A std::expected
// the compiler does not let a caller drop ([[nodiscard]] on the type), so no refusal goes
// unnoticed; `(void)` marks the few places where ignoring one is right, with a reason.
template <typename T>
class [[nodiscard]] Outcome : public std::expected<T, Error> {
 public:
  using std::expected<T, Error>::expected;
  Outcome() = default;
  Outcome(std::expected<T, Error> e)  // NOLINT(google-explicit-constructor): from and_then()
      : std::expected<T, Error>(std::move(e)) {}
};

template <typename T>
using Result = Outcome<T>;
using Status = Outcome<void>;

inline std::unexpected<Error> fail(Error e) {
  return std::unexpected<Error>(std::move(e));
}

// The stable name of a code ("invalid-input"), used in problem+json `type` URIs and logs.
std::string_view code_name(ErrorCode code);

// Thrown when a request or job cannot finish (a broken invariant, a lost database);
// caught only at the HTTP and job boundaries.
class Failure : public std::exception {
 public:
  explicit Failure(std::string what) : what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

}  // namespace mvsp::core
