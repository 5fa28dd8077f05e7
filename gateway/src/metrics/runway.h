// SPDX-License-Identifier: Apache-2.0
// The buffer's runway: how fast readings come in and go out, how long the backlog takes to send,
// and how long until the buffer is full. Rates are measured over a sliding window of samples
// (one a second, from a timer), so that they do not depend on how often anyone scrapes.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace edgegw::metrics {

class Runway {
 public:
  using Clock = std::chrono::steady_clock;

  struct Sample {
    Clock::time_point at;
    std::uint64_t appended = 0;  // readings appended to the buffer, since start (monotonic)
    std::uint64_t drained = 0;   // readings that left it by delivery (forwarded or dead-lettered)
    std::uint64_t bytes = 0;     // bytes in the buffer now
  };

  struct Estimate {
    double ingest_per_second = 0;  // readings appended per second
    double drain_per_second = 0;   // readings delivered (or dead-lettered) per second
    // The backlog divided by the drain rate: 0 when empty, +Inf when readings wait and none
    // leave (the uplink is down, every lane is held).
    double time_to_drain_seconds = 0;
    // The free bytes divided by the buffer's net growth: 0 when full, +Inf when not growing.
    double time_to_full_seconds = 0;
  };

  explicit Runway(Clock::duration window = std::chrono::seconds(60)) : window_(window) {}

  // Adds a sample; samples older than the window (but the newest such one) are forgotten.
  void add(const Sample& sample);

  // The estimate for a buffer that holds `readings` / `bytes` now, of `max_bytes` capacity.
  // Before two samples exist the rates are 0.
  Estimate estimate(std::uint64_t readings, std::uint64_t bytes, std::uint64_t max_bytes) const;

 private:
  Clock::duration window_;
  std::deque<Sample> samples_;
};

}  // namespace edgegw::metrics
