// SPDX-License-Identifier: Apache-2.0
#include "log/rate_limited.h"

namespace edgegw::log {

namespace {
constexpr std::string_view kOverflowKey = "(other)";

std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

RateLimitedLog::RateLimitedLog(std::shared_ptr<spdlog::logger> logger,
                               std::chrono::milliseconds interval, Clock clock)
    : logger_(std::move(logger)),
      interval_ms_(interval.count()),
      clock_(clock ? std::move(clock) : Clock(steady_ms)) {}

bool RateLimitedLog::log(Level level, std::string_view key, std::string_view message) {
  if (!logger_->should_log(level)) return false;
  const std::int64_t now = clock_();
  std::uint64_t suppressed = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(std::string(key));
    if (it == entries_.end()) {
      const std::string_view k = entries_.size() < kMaxKeys ? key : kOverflowKey;
      it = entries_.try_emplace(std::string(k)).first;
    }
    Entry& e = it->second;
    if (e.logged && now - e.last_ms < interval_ms_) {
      ++e.suppressed;
      return false;
    }
    suppressed = e.suppressed;
    e = Entry{now, 0, true};
  }
  if (suppressed > 0) {
    logger_->log(level, "{} ({} more like this suppressed since the last report)", message,
                 suppressed);
  } else {
    logger_->log(level, "{}", message);
  }
  return true;
}

}  // namespace edgegw::log
