// SPDX-License-Identifier: Apache-2.0
// Logs per-message problems (a bad payload, an unmapped device) without flooding: for each key
// (e.g. "plant/decode") at most one line per interval; the next line says how many were suppressed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "log/log.h"

namespace edgegw::log {

class RateLimitedLog {
 public:
  using Clock = std::function<std::int64_t()>;  // milliseconds; steady

  RateLimitedLog(std::shared_ptr<spdlog::logger> logger, std::chrono::milliseconds interval,
                 Clock clock = {});

  // Logs `message` unless a line with the same key was logged less than `interval` ago.
  // Returns true when a line was written.
  bool log(Level level, std::string_view key, std::string_view message);

  // The number of keys tracked is bounded; beyond it, new keys share one bucket.
  static constexpr std::size_t kMaxKeys = 1024;

 private:
  struct Entry {
    std::int64_t last_ms = 0;
    std::uint64_t suppressed = 0;
    bool logged = false;
  };

  std::shared_ptr<spdlog::logger> logger_;
  std::int64_t interval_ms_;
  Clock clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace edgegw::log
