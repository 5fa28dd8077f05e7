// SPDX-License-Identifier: Apache-2.0
// What the forwarder reports of itself (the metrics), as plain values and small interfaces, so
// that readers of the numbers need not include the forwarder.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>

#include "buffer/key_format.h"

namespace edgegw::forward {

// Counters of one device's lane (for metrics.per_device), updated once per answer.
struct LaneStats {
  std::uint64_t readings_forwarded = 0;
  std::uint64_t readings_dead_lettered = 0;
  bool held = false;  // the cloud refused its token
  // cloud.drain: fresh_first. While the lane sends a backlog after its present: the backlog's
  // last sequence (0: none), and, filled by stats(), what of it is left and how old its head is.
  buffer::Seq backlog_end = 0;
  std::uint64_t backfill_readings = 0;
  std::int64_t backfill_age_ms = 0;
};

// Counters for the metrics and the tests; read at any time from any thread.
struct ForwarderStats {
  std::uint64_t readings_forwarded = 0;
  std::uint64_t readings_dead_lettered = 0;
  std::uint64_t retries = 0;
  std::uint64_t devices_held = 0;
  bool breaker_open = false;            // one probe request at a time
  std::uint64_t backfills = 0;          // backlogs sent fresh first (cloud.drain: fresh_first)
  std::size_t backfilling = 0;          // lanes sending a backlog now
  std::uint64_t backfill_readings = 0;  // readings of those backlogs left (filled by stats())
  // The last backfill's wait for the present: from the cloud answering again (or the backlog
  // being found, after a restart) until each variable's newest reading was accepted. Negative:
  // none yet.
  double present_delay_seconds = -1;
  std::map<int, std::uint64_t> requests_by_status;  // 0: no answer (connection error, timeout)
  std::map<int, std::uint64_t> dead_lettered_by_status;
  std::map<buffer::DeviceId, LaneStats> lanes;  // lanes that have had an answer
};

// Observes each finished request (for the metrics' histograms).
struct RequestObserver {
  virtual ~RequestObserver() = default;
  virtual void on_request(int status, std::chrono::steady_clock::duration elapsed,
                          std::size_t readings) = 0;
};

// What the metrics read of the forwarder (Forwarder implements it).
class StatsSource {
 public:
  virtual ~StatsSource() = default;
  virtual ForwarderStats stats() const = 0;
};

}  // namespace edgegw::forward
