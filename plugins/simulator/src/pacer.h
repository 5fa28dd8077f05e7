// SPDX-License-Identifier: Apache-2.0
// Pacing of the simulated devices: `rate` messages per second in total, spread evenly, plus a
// burst of `burst` messages every `burst_every` (the bursts are what a fleet reconnecting at
// once, or a shift change, looks like). Header-only, used by the plugin and edgegw-simulate.
#pragma once

#include <chrono>
#include <cstdint>

namespace edgegw::plugins::simulator {

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;

  Pacer(double rate, std::chrono::milliseconds burst_every, std::uint64_t burst,
        Clock::time_point start)
      : rate_(rate), burst_every_(burst_every), burst_(burst), start_(start) {}

  // Messages due by `now` that were not taken yet (and takes them).
  std::uint64_t take(Clock::time_point now) {
    if (now < start_) return 0;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    steady_ = static_cast<std::uint64_t>(rate_ * elapsed);
    std::uint64_t due = steady_;
    if (burst_every_.count() > 0) {
      due += static_cast<std::uint64_t>((now - start_) / burst_every_) * burst_;
    }
    const std::uint64_t n = due > taken_ ? due - taken_ : 0;
    taken_ += n;
    return n;
  }

  // When the next steady message falls due, as of the last take() (a burst may fall due
  // earlier: callers sleep at most a few milliseconds at a time anyway).
  Clock::time_point next_due() const {
    if (rate_ <= 0) return Clock::time_point::max();
    const std::chrono::duration<double> at(static_cast<double>(steady_ + 1) / rate_);
    return start_ + std::chrono::duration_cast<Clock::duration>(at);
  }

 private:
  double rate_;
  std::chrono::milliseconds burst_every_;
  std::uint64_t burst_;
  Clock::time_point start_;
  std::uint64_t steady_ = 0;  // steady messages due at the last take()
  std::uint64_t taken_ = 0;
};

}  // namespace edgegw::plugins::simulator
