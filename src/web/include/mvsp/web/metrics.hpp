#pragma once
// Prometheus text exposition: requests and latency per route, plus gauges that
// components contribute (job queue depth by state).

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace mvsp::web {

class Metrics {
 public:
  void record_request(std::string_view method, std::string_view route, int status, double seconds);
  // A source appends complete lines (with # HELP/# TYPE) when /metrics is read.
  void add_source(std::function<void(std::string&)> source);
  std::string render() const;

 private:
  struct Latency {
    std::vector<std::uint64_t> buckets;
    double sum = 0;
    std::uint64_t count = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Latency> latency_;
  std::vector<std::function<void(std::string&)>> sources_;
};

}  // namespace mvsp::web
