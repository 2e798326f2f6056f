#pragma once
// Private to core: a bounded pool of driver connections, shared by both drivers.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <mvsp/core/error.hpp>
#include <vector>

namespace mvsp::core::db {

// C is a driver connection with `bool reusable()` (false once broken) and
// `void reset_for_pool()` (rolls back what a caller left open).
template <typename C>
class Pool {
 public:
  Pool(int size, std::chrono::milliseconds wait, std::function<std::unique_ptr<C>()> open)
      : size_(size), wait_(wait), open_(std::move(open)) {}

  std::shared_ptr<C> acquire() {
    std::unique_ptr<C> conn;
    {
      std::unique_lock lock(mutex_);
      if (!available_.wait_for(lock, wait_,
                               [&] { return !idle_.empty() || open_count_ < size_; })) {
        throw Failure("no database connection became free in time");
      }
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_count_;
      }
    }
    if (!conn) {
      try {
        conn = open_();
      } catch (...) {
        release_slot();
        throw;
      }
    }
    C* raw = conn.release();
    return std::shared_ptr<C>(raw, [this](C* c) { give_back(std::unique_ptr<C>(c)); });
  }

 private:
  void give_back(std::unique_ptr<C> conn) {
    conn->reset_for_pool();
    if (!conn->reusable()) {
      conn.reset();
      release_slot();
      return;
    }
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(conn));
    }
    available_.notify_one();
  }

  void release_slot() {
    {
      std::lock_guard lock(mutex_);
      --open_count_;
    }
    available_.notify_one();
  }

  int size_;
  std::chrono::milliseconds wait_;
  std::function<std::unique_ptr<C>()> open_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<C>> idle_;
  int open_count_ = 0;
};

}  // namespace mvsp::core::db
