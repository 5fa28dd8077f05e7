// SPDX-License-Identifier: Apache-2.0
// Optional header-only helper for a source that produces messages on a thread of its own (the
// example and simulator plugins): a thread whose pauses a stop() interrupts, and (clock.h) the
// wall clock as the host wants it. Not part of the ABI.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>

#include "edgegw/clock.h"  // sdk::now_ms

namespace edgegw::sdk {

class Worker {
 public:
  Worker() = default;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() { stop(); }

  // Runs `body` on the worker's thread.
  template <typename F>
  void start(F&& body) {
    thread_ = std::thread(std::forward<F>(body));
  }

  // Wakes any pause, and returns once the thread has finished (stop() of the ABI).
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wakeup_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  // Wait until `t` (or for `d`) unless stopped; false when stopped.
  template <typename Clock, typename Duration>
  bool pause_until(std::chrono::time_point<Clock, Duration> t) {
    std::unique_lock lock(mu_);
    return !wakeup_.wait_until(lock, t, [this] { return stopping_; });
  }
  template <typename Rep, typename Period>
  bool pause(std::chrono::duration<Rep, Period> d) {
    std::unique_lock lock(mu_);
    return !wakeup_.wait_for(lock, d, [this] { return stopping_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace edgegw::sdk
