#include <mvsp/core/error.hpp>

namespace mvsp::core {

Error Error::invalid(std::string field, std::string message) {
  Error e{ErrorCode::invalid_input, message, {}, {}};
  e.fields.push_back({std::move(field), std::move(message)});
  return e;
}
Error Error::not_found(std::string message) {
  return {ErrorCode::not_found, std::move(message), {}, {}};
}
Error Error::conflict(std::string message) {
  return {ErrorCode::conflict, std::move(message), {}, {}};
}
Error Error::forbidden(std::string message) {
  return {ErrorCode::forbidden, std::move(message), {}, {}};
}
Error Error::unauthenticated(std::string message) {
  return {ErrorCode::unauthenticated, std::move(message), {}, {}};
}
Error Error::rate_limited(std::string message, std::chrono::seconds retry_after) {
  return {ErrorCode::rate_limited,
          std::move(message),
          {},
          {},
          std::max(retry_after, std::chrono::seconds(1))};
}
Error Error::unavailable(std::string message, std::string detail) {
  return {ErrorCode::unavailable, std::move(message), {}, std::move(detail)};
}

Error Error::unsupported_media_type(std::string message) {
  return {ErrorCode::unsupported_media_type, std::move(message), {}, {}};
}

Error& Error::and_field(std::string field, std::string message) {
  fields.push_back({std::move(field), std::move(message)});
  return *this;
}

std::string_view code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_input:
      return "invalid-input";
    case ErrorCode::not_found:
      return "not-found";
    case ErrorCode::conflict:
      return "conflict";
    case ErrorCode::forbidden:
      return "forbidden";
    case ErrorCode::unauthenticated:
      return "unauthenticated";
    case ErrorCode::rate_limited:
      return "rate-limited";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::unsupported_media_type:
      return "unsupported-media-type";
  }
  return "unknown";
}

}  // namespace mvsp::core
