// SPDX-License-Identifier: Apache-2.0
// A TimeSource that stands still until the test moves it: each wait fires at its exact instant,
// in the order of the instants, and only when the test says. Single-threaded: the test runs the
// io_context itself (poll), so nothing else reads the clock meanwhile.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "forward/time_source.h"

namespace edgegw::testing {

class ManualTime final : public forward::TimeSource {
 public:
  using Clock = forward::Clock;
  using Timer = forward::Timer;

  // Any start will do; one far from the epoch, as a steady clock's is.
  ManualTime() = default;
  ManualTime(const ManualTime&) = delete;
  ManualTime& operator=(const ManualTime&) = delete;

  Clock::time_point now() const override { return now_; }
  std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) override {
    return std::make_unique<ManualTimer>(*this, std::move(executor));
  }

  // The earliest instant a wait is pending for.
  std::optional<Clock::time_point> next_wait() const {
    std::optional<Clock::time_point> next;
    for (const ManualTimer* t : timers_) {
      if (t->fired_ && (!next || t->when_ < *next)) next = t->when_;
    }
    return next;
  }

  // Moves the clock to the earliest pending wait if it is due by `limit` (never backwards) and
  // posts that wait's handler; false when none is.
  bool fire_next(Clock::time_point limit) {
    ManualTimer* first = nullptr;
    for (ManualTimer* t : timers_) {
      if (t->fired_ && t->when_ <= limit && (!first || t->when_ < first->when_)) first = t;
    }
    if (first == nullptr) return false;
    now_ = std::max(now_, first->when_);
    first->fire(true);
    return true;
  }

  // Moves the clock forward with no wait fired (those due stay due).
  void set(Clock::time_point t) { now_ = std::max(now_, t); }

 private:
  class ManualTimer final : public Timer {
   public:
    ManualTimer(ManualTime& time, boost::asio::any_io_executor executor)
        : time_(time), executor_(std::move(executor)) {
      time_.timers_.push_back(this);
    }
    ~ManualTimer() override { std::erase(time_.timers_, this); }

    void wait_until(Clock::time_point when, Fired fired) override {
      fire(false);
      when_ = when;
      fired_ = std::move(fired);
    }
    void cancel() override { fire(false); }

    // Posts the pending handler (as Asio does: never inside the call that completes it).
    void fire(bool expired) {
      if (!fired_) return;
      boost::asio::post(executor_, [f = std::move(fired_), expired] { f(expired); });
      fired_ = nullptr;
    }

    ManualTime& time_;
    boost::asio::any_io_executor executor_;
    Clock::time_point when_{};
    Fired fired_;
  };

  Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(24);
  std::vector<ManualTimer*> timers_;
};

}  // namespace edgegw::testing
