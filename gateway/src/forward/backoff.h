// SPDX-License-Identifier: Apache-2.0
// Exponential backoff with full jitter (a uniform wait in [0, min(max, initial * multiplier^n)]),
// so that many lanes failing at once do not retry in step.
#pragma once

#include <chrono>
#include <random>

namespace edgegw::forward {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  Backoff(Duration initial, Duration max, double multiplier)
      : initial_(initial), max_(max), multiplier_(multiplier) {}

  // The wait before the next attempt; each call doubles (x multiplier) the ceiling.
  Duration next(std::mt19937_64& rng) {
    const Duration ceiling = this->ceiling();
    if (ceiling < max_) ++failures_;
    std::uniform_int_distribution<Duration::rep> pick(0, ceiling.count());
    return Duration(pick(rng));
  }
  // The current ceiling (what next() draws below).
  Duration ceiling() const {
    double c = static_cast<double>(initial_.count());
    for (int i = 0; i < failures_ && c < static_cast<double>(max_.count()); ++i) c *= multiplier_;
    return std::min(max_, Duration(static_cast<Duration::rep>(c)));
  }
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  Duration initial_;
  Duration max_;
  double multiplier_;
  int failures_ = 0;
};

}  // namespace edgegw::forward
