// SPDX-License-Identifier: Apache-2.0
#include "core/clock_sync.h"

#include <sys/timex.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>

namespace edgegw::core {

namespace {

ClockState ask_the_kernel() noexcept {
  timex t{};  // modes 0: read only (no privilege needed)
  const int state = ::adjtimex(&t);
  if (state == -1) return ClockState::kUnknown;
  return state != TIME_ERROR && (t.status & STA_UNSYNC) == 0 ? ClockState::kSynchronised
                                                             : ClockState::kUnsynchronised;
}

}  // namespace

ClockState system_clock_state() noexcept {
  static std::atomic<std::int64_t> asked_at{-1};  // steady ms; -1: never
  static std::atomic<ClockState> state{ClockState::kUnknown};
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  const std::int64_t last = asked_at.load(std::memory_order_relaxed);
  if (last < 0 || now - last >= 1000) {
    state.store(ask_the_kernel(), std::memory_order_relaxed);
    asked_at.store(now, std::memory_order_relaxed);
  }
  return state.load(std::memory_order_relaxed);
}

const std::string& boot_id() {
  static const std::string id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string line;
    std::getline(in, line);
    return line;
  }();
  return id;
}

std::int64_t boottime_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace edgegw::core
