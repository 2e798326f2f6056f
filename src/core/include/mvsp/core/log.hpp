#pragma once
// Structured logging to stderr (one line per event, logfmt or JSON), with the correlation
// id of the current request or job. Fields whose names suggest a secret are redacted.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace mvsp::core::log {

enum class Level { debug, info, warn, error };
enum class Format { text, json };

using Field = std::pair<std::string_view, std::string_view>;

void configure(Level level, Format format);
bool parse_level(std::string_view name, Level& out);

void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});
inline void debug(std::string_view e, std::initializer_list<Field> f = {}) {
  write(Level::debug, e, f);
}
inline void info(std::string_view e, std::initializer_list<Field> f = {}) {
  write(Level::info, e, f);
}
inline void warn(std::string_view e, std::initializer_list<Field> f = {}) {
  write(Level::warn, e, f);
}
inline void error(std::string_view e, std::initializer_list<Field> f = {}) {
  write(Level::error, e, f);
}

// True when a field of this name must never be written in clear (password, token, …).
bool is_secret_field(std::string_view name);

// Sets the correlation id of this thread for as long as the scope lives.
class CorrelationScope {
 public:
  explicit CorrelationScope(std::string id);
  ~CorrelationScope();
  CorrelationScope(const CorrelationScope&) = delete;
  CorrelationScope& operator=(const CorrelationScope&) = delete;

 private:
  std::string previous_;
};

// The correlation id of this thread, empty outside a request or job.
const std::string& correlation_id();

// Redirects log output (tests capture it); nullptr restores stderr.
void set_sink(void (*sink)(std::string_view line));

}  // namespace mvsp::core::log
