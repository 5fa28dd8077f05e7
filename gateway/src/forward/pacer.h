// SPDX-License-Identifier: Apache-2.0
// The request budget (cloud.requests_per_minute): the cloud counts POST /data per profile per
// minute. Strict pacing — one request every 60 s / budget — can never exceed the budget in any
// minute, whatever minute boundaries the cloud's clock uses (the edge box may have no RTC).
// Fairness between devices is the scheduler's round robin; the pacer only says when.
// A 429 pauses everything until the cloud's Retry-After: the limit is the profile's, not a lane's.
#pragma once

#include <chrono>

namespace edgegw::forward {

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;

  // 0: no fixed budget (only 429s pause).
  explicit Pacer(int requests_per_minute) { set_budget(requests_per_minute); }

  // The interval has a 1% margin: a slot is taken when a lane is dispatched, and the request
  // leaves a little later (after its batch is read), so two sends can come closer than their
  // slots by that delay; 1% of a minute (0.6 s) covers it with room to spare.
  void set_budget(int requests_per_minute) {
    interval_ = requests_per_minute > 0
                    ? std::chrono::duration_cast<Clock::duration>(std::chrono::minutes(1)) * 101 /
                          (100 * requests_per_minute)
                    : Clock::duration::zero();
  }

  // When the next request may start (<= now: at once).
  Clock::time_point next_allowed() const { return std::max(next_, paused_until_); }

  // A request starts now: the next one may start one interval later.
  void on_send(Clock::time_point now) { next_ = std::max(now, next_) + interval_; }

  // The cloud said 429 with a wait: nothing is sent before it passes.
  void pause_until(Clock::time_point until) { paused_until_ = std::max(paused_until_, until); }

 private:
  Clock::duration interval_{};
  Clock::time_point next_{};
  Clock::time_point paused_until_{};
};

}  // namespace edgegw::forward
