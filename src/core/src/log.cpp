#include <fmt/format.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <mvsp/core/clock.hpp>
#include <mvsp/core/log.hpp>
#include <mvsp/core/text.hpp>

namespace mvsp::core::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};
std::atomic<void (*)(std::string_view)> g_sink{nullptr};
std::mutex g_write_mutex;
thread_local std::string t_correlation;

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

void append_logfmt_value(std::string& out, std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) plain = false;
  }
  if (plain) {
    out += s;
  } else {
    append_json_string(out, s);
  }
}

}  // namespace

void configure(Level level, Format format) {
  g_level = level;
  g_format = format;
}

bool parse_level(std::string_view name, Level& out) {
  for (auto l : {Level::debug, Level::info, Level::warn, Level::error}) {
    if (level_name(l) == name) {
      out = l;
      return true;
    }
  }
  return false;
}

bool is_secret_field(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kMarkers = {
      "password", "secret", "token", "authorization", "cookie", "api_key", "private_key", "otp"};
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (auto m : kMarkers) {
    if (lower.find(m) != std::string::npos) return true;
  }
  return false;
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (level < g_level.load()) return;
  auto now = format_utc(SystemClock().now());
  std::string line;
  line.reserve(160);
  auto value_of = [](const Field& f) -> std::string_view {
    return is_secret_field(f.first) ? std::string_view("[redacted]") : f.second;
  };
  if (g_format.load() == Format::json) {
    line += "{\"time\":";
    append_json_string(line, now);
    line += ",\"level\":";
    append_json_string(line, level_name(level));
    line += ",\"event\":";
    append_json_string(line, event);
    if (!t_correlation.empty()) {
      line += ",\"correlation_id\":";
      append_json_string(line, t_correlation);
    }
    for (const auto& f : fields) {
      line += ',';
      append_json_string(line, f.first);
      line += ':';
      append_json_string(line, value_of(f));
    }
    line += '}';
  } else {
    line += fmt::format("time={} level={} event=", now, level_name(level));
    append_logfmt_value(line, event);
    if (!t_correlation.empty()) {
      line += " correlation_id=";
      append_logfmt_value(line, t_correlation);
    }
    for (const auto& f : fields) {
      line += ' ';
      line += f.first;
      line += '=';
      append_logfmt_value(line, value_of(f));
    }
  }
  if (auto sink = g_sink.load()) {
    sink(line);
    return;
  }
  line += '\n';
  std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

CorrelationScope::CorrelationScope(std::string id) : previous_(std::move(t_correlation)) {
  t_correlation = std::move(id);
}
CorrelationScope::~CorrelationScope() {
  t_correlation = std::move(previous_);
}

const std::string& correlation_id() {
  return t_correlation;
}

void set_sink(void (*sink)(std::string_view line)) {
  g_sink = sink;
}

}  // namespace mvsp::core::log
