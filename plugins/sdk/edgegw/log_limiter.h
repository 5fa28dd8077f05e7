// SPDX-License-Identifier: Apache-2.0
// Optional header-only helper: rate-limited logging for a plugin's repeated warnings, per key. Each
// key (a kind of problem: "unmatched-topic", "reconnect", "buffer-full") has its own window, so one
// noisy kind never hides another; the next line of a key says how many of its lines were
// suppressed. Not part of the ABI. Thread-safe.
//
//   sdk::LogLimiter limited(host);           // one line per key per 10 s
//   limited.log(EDGEGW_LOG_WARN, "unmatched", "a message on topic 'x' matches none of topics");
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "edgegw/plugin_sdk.h"

namespace edgegw::sdk {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Keys beyond this many share one window (a bound on memory for keys made from input).
  static constexpr std::size_t kMaxKeys = 256;

  explicit LogLimiter(Host host, std::chrono::milliseconds interval = std::chrono::seconds(10))
      : host_(host), interval_(interval) {}

  // Logs `message` unless a line of `key` was logged less than the interval before `now`.
  // True when the line was written.
  bool log(std::int32_t level, std::string_view key, std::string message,
           Clock::time_point now = Clock::now()) {
    std::uint64_t suppressed = 0;
    {
      std::lock_guard lock(mu_);
      auto it = windows_.find(std::string(key));
      if (it == windows_.end()) {
        const std::string k = windows_.size() < kMaxKeys ? std::string(key) : std::string("*");
        it = windows_.try_emplace(k).first;
      }
      Window& w = it->second;
      if (w.logged && now - w.last < interval_) {
        ++w.suppressed;
        return false;
      }
      w.logged = true;
      w.last = now;
      suppressed = w.suppressed;
      w.suppressed = 0;
    }
    if (suppressed > 0) {
      message += " [" + std::to_string(suppressed) + " similar message(s) suppressed]";
    }
    host_.log(level, message);
    return true;
  }

 private:
  struct Window {
    Clock::time_point last{};
    std::uint64_t suppressed = 0;
    bool logged = false;
  };

  Host host_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace edgegw::sdk
