#include <fmt/format.h>

#include <array>
#include <mvsp/web/metrics.hpp>

namespace mvsp::web {
namespace {

constexpr std::array<double, 10> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,  0.1,    0.25,  0.5,  1.0};

std::string label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::record_request(std::string_view method, std::string_view route, int status,
                             double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(method), std::string(route), status}];
  auto& l = latency_[std::string(route)];
  if (l.buckets.empty()) l.buckets.assign(kBounds.size(), 0);
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) ++l.buckets[i];
  }
  l.sum += seconds;
  ++l.count;
}

void Metrics::add_source(std::function<void(std::string&)> source) {
  std::lock_guard lock(mutex_);
  sources_.push_back(std::move(source));
}

std::string Metrics::render() const {
  std::string out;
  std::vector<std::function<void(std::string&)>> sources;
  {
    std::lock_guard lock(mutex_);
    out += "# HELP mvsp_http_requests_total HTTP requests by method, route and status.\n";
    out += "# TYPE mvsp_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      const auto& [method, route, status] = key;
      out +=
          fmt::format("mvsp_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                      label(method), label(route), status, n);
    }
    out += "# HELP mvsp_http_request_duration_seconds Time to answer, by route.\n";
    out += "# TYPE mvsp_http_request_duration_seconds histogram\n";
    for (const auto& [route, l] : latency_) {
      for (std::size_t i = 0; i < kBounds.size(); ++i) {
        out +=
            fmt::format("mvsp_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                        label(route), kBounds[i], l.buckets[i]);
      }
      out +=
          fmt::format("mvsp_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                      label(route), l.count);
      out += fmt::format("mvsp_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n",
                         label(route), l.sum);
      out += fmt::format("mvsp_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                         label(route), l.count);
    }
    sources = sources_;
  }
  for (const auto& s : sources) s(out);
  return out;
}

}  // namespace mvsp::web
