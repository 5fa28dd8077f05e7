// SPDX-License-Identifier: Apache-2.0
#include "forward/time_source.h"

#include <boost/asio/steady_timer.hpp>

namespace edgegw::forward {
namespace {

class SteadyTimer final : public Timer {
 public:
  explicit SteadyTimer(boost::asio::any_io_executor executor) : timer_(std::move(executor)) {}

  void wait_until(Clock::time_point when, Fired fired) override {
    timer_.expires_at(when);  // cancels a pending wait: its handler sees operation_aborted
    timer_.async_wait(
        [fired = std::move(fired)](const boost::system::error_code& ec) { fired(!ec); });
  }
  void cancel() override { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

class SteadyTime final : public TimeSource {
 public:
  Clock::time_point now() const override { return Clock::now(); }
  std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) override {
    return std::make_unique<SteadyTimer>(std::move(executor));
  }
};

}  // namespace

TimeSource& steady_time() {
  static SteadyTime time;
  return time;
}

}  // namespace edgegw::forward
