// SPDX-License-Identifier: Apache-2.0
// What the buffer reports of itself (the metrics, `edgegw buffer stats`), as plain values and a
// small interface, so that readers of the numbers need not include the buffer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "buffer/key_format.h"

namespace edgegw::buffer {

struct DeviceStats {
  DeviceId id = 0;
  std::string key;
  std::uint64_t readings = 0;
  std::uint64_t bytes = 0;
  std::int64_t oldest_stored_ms = 0;  // 0: empty
};

struct Stats {
  std::uint64_t readings = 0;
  std::uint64_t bytes = 0;
  std::int64_t oldest_stored_ms = 0;  // 0: empty
  std::uint64_t dead_letters = 0;
  // Since open:
  std::uint64_t appended = 0;  // readings written by append()
  std::uint64_t dropped_max_age = 0;
  std::uint64_t dropped_oldest = 0;  // on_full: drop_oldest
  std::uint64_t rejected_full = 0;   // on_full: reject_new, or the disk is full
  bool disk_full = false;
};

// What the metrics read of the buffer (Buffer implements it). Cheap: no I/O.
class StatsSource {
 public:
  virtual ~StatsSource() = default;
  virtual Stats stats() const = 0;
  virtual std::vector<DeviceStats> device_stats() const = 0;
};

}  // namespace edgegw::buffer
