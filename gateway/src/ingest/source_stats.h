// SPDX-License-Identifier: Apache-2.0
// A source's counters as plain atomics, shared by its pipeline (which bumps them) and the
// metrics (which read them) without the metrics including the pipeline.
#pragma once

#include <atomic>
#include <cstdint>

#include "ingest/time_check.h"

namespace edgegw::ingest {

// A source's counters (for edgegw_readings_received_total, edgegw_readings_rejected_total and
// edgegw_source_up). Shared with the metrics; outlives a reload of an unchanged source.
struct SourceStats {
  std::atomic<std::uint64_t> messages{0};  // raw messages handed to the host
  std::atomic<std::uint64_t> received{0};  // readings decoded
  std::atomic<std::uint64_t> appended{0};  // readings now in the buffer
  // Rejected, by reason: payloads that did not decode (one per message), readings refused by the
  // edge rules or by their mapping, readings of unmapped devices, readings the full buffer refused.
  std::atomic<std::uint64_t> rejected_decode{0};
  std::atomic<std::uint64_t> rejected_invalid{0};
  std::atomic<std::uint64_t> rejected_unmapped{0};
  std::atomic<std::uint64_t> rejected_buffer_full{0};
  std::atomic<bool> up{false};
  // Device times that cannot be right (time_check.h), per device, by what was done.
  ImplausibleTimes implausible_times;
};

}  // namespace edgegw::ingest
