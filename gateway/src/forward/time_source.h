// SPDX-License-Identifier: Apache-2.0
// The forwarder's clock and timers: lingers, backoffs, the breaker, the pacer and Retry-After all
// read and wait through one TimeSource. The gateway runs on the steady clock and Asio's timers
// (steady_time()); the forwarder's unit tests move a clock of their own
// (tests/unit/forward/manual_time.h), so each wait is checked at its exact instant, whatever the
// machine's load.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

namespace edgegw::forward {

using Clock = std::chrono::steady_clock;

class Timer {
 public:
  // true: the instant came; false: the wait was cancelled or replaced by a later wait_until.
  using Fired = std::function<void(bool expired)>;
  virtual ~Timer() = default;

  // Calls `fired` on the timer's executor at `when` (soon, when it has passed), never inside
  // this call. A wait still pending is cancelled first.
  virtual void wait_until(Clock::time_point when, Fired fired) = 0;
  // The pending wait, if any, fires with false.
  virtual void cancel() = 0;
};

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual Clock::time_point now() const = 0;
  // A timer whose handlers run on `executor` (the forwarder's strand).
  virtual std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) = 0;
};

// The steady clock and boost::asio::steady_timer.
TimeSource& steady_time();

}  // namespace edgegw::forward
