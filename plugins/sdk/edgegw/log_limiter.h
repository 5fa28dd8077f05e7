// SPDX-License-Identifier: Apache-2.0
// Optional header-only helper: rate-limited logging for a plugin's repeated warnings, per key. Each
// key (a kind of problem: "unmatched-topic", "reconnect", "buffer-full") has its own window, so one
// noisy kind never hides another; the next line of a key that is let through says how many of its
// lines were suppressed. Not part of the ABI. Thread-safe.
//
//   sdk::LogLimiter limited(host);           // one line per key per 10 s
//   limited.log(EDGEGW_LOG_WARN, "unmatched", "a message on topic 'x' matches none of topics");
//   limited.log(EDGEGW_LOG_WARN, "full", [&] { return expensive_text(); });  // built if let
//   through
//
// The bare decision without a host (RateLimiter) serves a plugin that words its own lines:
//   if (auto suppressed = limiter.admit("nul")) host.warn(std::to_string(*suppressed + 1) + "
//   ..."); limiter.flush([&](std::string_view key, std::uint64_t n, auto since) { ... });  // on a
//   timer
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edgegw/plugin_sdk.h"

namespace edgegw::sdk {

// Per-key windows: a key's line is let through when none of that key was let through in the last
// `interval`; the others are counted until then. No logging of its own.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Keys beyond this many share one window, "*" (a bound on memory for keys made from input).
  static constexpr std::size_t kMaxKeys = 256;

  explicit RateLimiter(std::chrono::milliseconds interval = std::chrono::seconds(10))
      : interval_(interval) {}

  std::chrono::milliseconds interval() const { return interval_; }

  // The key's line at `now`: nullopt when it is suppressed (and counted), otherwise the number of
  // the key's lines suppressed since its previous line was let through (0 for most).
  std::optional<std::uint64_t> admit(std::string_view key, Clock::time_point now = Clock::now()) {
    std::lock_guard lock(mu_);
    Window& w = window(key);
    if (w.logged && now - w.last < interval_) {
      ++w.suppressed;
      return std::nullopt;
    }
    w.logged = true;
    w.last = now;
    return std::exchange(w.suppressed, 0);
  }

  // Reports each key with suppressed lines whose window has passed (every such key when `all`, as
  // at a stop): report(key, suppressed, time since the key's last line), called without the lock
  // held. The key's window restarts at `now`, as if its report were a line.
  template <class Report>
  void flush(Report&& report, bool all = false, Clock::time_point now = Clock::now()) {
    std::vector<std::tuple<std::string, std::uint64_t, Clock::duration>> due;
    {
      std::lock_guard lock(mu_);
      for (auto& [key, w] : windows_) {
        if (w.suppressed == 0 || (!all && now - w.last < interval_)) continue;
        due.emplace_back(key, std::exchange(w.suppressed, 0), now - w.last);
        w.last = now;
      }
    }
    for (const auto& [key, n, since] : due) report(std::string_view(key), n, since);
  }

 private:
  struct Window {
    Clock::time_point last{};
    std::uint64_t suppressed = 0;
    bool logged = false;
  };

  // Looked up by the view itself: a line's admission allocates nothing once its key is known.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const noexcept {
      return std::hash<std::string_view>{}(k);
    }
  };

  Window& window(std::string_view key) {
    auto it = windows_.find(key);
    if (it == windows_.end()) {
      const std::string k = windows_.size() < kMaxKeys ? std::string(key) : std::string("*");
      it = windows_.try_emplace(k).first;
    }
    return it->second;
  }

  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::unordered_map<std::string, Window, KeyHash, std::equal_to<>> windows_;
};

// A RateLimiter that writes the lines it lets through to the host's log.
class LogLimiter {
 public:
  using Clock = RateLimiter::Clock;
  static constexpr std::size_t kMaxKeys = RateLimiter::kMaxKeys;

  explicit LogLimiter(Host host, std::chrono::milliseconds interval = std::chrono::seconds(10))
      : host_(host), limiter_(interval) {}

  // Logs `message` unless a line of `key` was logged less than the interval before `now`; a line
  // let through after suppressed ones ends with "[N similar message(s) suppressed]". True when the
  // line was written. `message` is a string or a callable returning one (called only when the line
  // is let through: no formatting cost for the suppressed ones).
  template <class Message>
  bool log(std::int32_t level, std::string_view key, Message&& message,
           Clock::time_point now = Clock::now()) {
    const std::optional<std::uint64_t> suppressed = limiter_.admit(key, now);
    if (!suppressed) return false;
    std::string text;
    if constexpr (std::is_invocable_v<Message>) {
      text = std::forward<Message>(message)();
    } else {
      text = std::string(std::forward<Message>(message));
    }
    if (*suppressed > 0) {
      text += " [" + std::to_string(*suppressed) + " similar message(s) suppressed]";
    }
    host_.log(level, text);
    return true;
  }

  // Logs, for each key whose suppressed lines were not reported by a later line and whose window
  // has passed (every such key when `all`), "<key>: N similar message(s) suppressed in the last
  // S s". Call it from a timer, and with `all` at a stop, so that no count goes unsaid.
  void flush(std::int32_t level, bool all = false, Clock::time_point now = Clock::now()) {
    limiter_.flush(
        [&](std::string_view key, std::uint64_t n, Clock::duration since) {
          host_.log(
              level,
              std::string(key) + ": " + std::to_string(n) +
                  " similar message(s) suppressed in the last " +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(since).count()) +
                  " s");
        },
        all, now);
  }

  RateLimiter& limiter() { return limiter_; }

 private:
  Host host_;
  RateLimiter limiter_;
};

}  // namespace edgegw::sdk
