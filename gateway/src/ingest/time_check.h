// SPDX-License-Identifier: Apache-2.0
// Times a device gives that no real reading can have: a device whose clock was never set (1970,
// 2000-01-01 after a battery died) or is years ahead. A time is implausible when it is before
// 2000, or more than cloud.future_tolerance after the reading's arrival while the system clock is
// synchronised (an unsynchronised gateway cannot tell the future from its own past). The pipeline
// applies cloud.implausible_time to them (config::TimePolicy) and counts them per device.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "buffer/key_format.h"
#include "config/config.h"

namespace edgegw::ingest {

inline constexpr std::int64_t kYear2000Ms = 946'684'800'000;  // 2000-01-01T00:00:00Z

struct TimeRules {
  config::TimePolicy policy = config::TimePolicy::kStamp;
  std::int64_t future_tolerance_ms = 5 * 60 * 1000;
  // cloud.clock_wait: readings stamped on an unsynchronised clock this soon after boot carry the
  // boot clock (core/unsynced_stamp.h). 0: never.
  std::int64_t clock_wait_ms = 10 * 60 * 1000;

  static TimeRules from(const config::CloudConfig& cloud) {
    return {cloud.implausible_time, cloud.future_tolerance.count(), cloud.clock_wait.count()};
  }
};

// Why a device's `time_ms` cannot be right, or nullopt. `clock_synchronised` is asked only for a
// time past the tolerance.
std::optional<std::string> implausible_time(std::int64_t time_ms, std::int64_t arrival_ms,
                                            const TimeRules& rules,
                                            const std::function<bool()>& clock_synchronised);

// A compact metadata object with "original_time" set to `time_ms` (ISO 8601): added to
// `metadata_json` (an object or empty), replacing an earlier one.
std::string with_original_time(std::string_view metadata_json, std::int64_t time_ms);
// The same with core::kUnsyncedStampKey set to `stamp` (core/unsynced_stamp.h).
std::string with_unsynced_stamp(std::string_view metadata_json, std::string_view stamp);

// What was done with one reading's implausible time (counted by ImplausibleTimes).
using TimeJudgement = std::pair<buffer::DeviceId, config::TimePolicy>;

// A reading refused for its time (cloud.implausible_time: reject), to be dead-lettered.
struct TimeRejection {
  buffer::DeviceId device = 0;
  std::string json;
  std::string reason;
};

// How many implausible times each device sent, by what was done with them. Bumped on the rare
// path only (a lock is fine); read by the metrics.
class ImplausibleTimes {
 public:
  struct Counts {
    std::uint64_t stamped = 0;
    std::uint64_t kept = 0;
    std::uint64_t rejected = 0;
  };
  void add(buffer::DeviceId device, config::TimePolicy done);
  // One call's judgements under one lock.
  void add(std::span<const TimeJudgement> judged);
  std::unordered_map<buffer::DeviceId, Counts> by_device() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<buffer::DeviceId, Counts> counts_;
};

}  // namespace edgegw::ingest
