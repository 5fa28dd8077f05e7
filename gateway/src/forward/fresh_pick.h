// SPDX-License-Identifier: Apache-2.0
// cloud.drain: fresh_first. After an outage a device's queue holds a backlog; the cloud orders
// readings by their `time`, not by arrival, so the newest reading of each variable is sent
// first (dashboards and alerts see the present at once), then what arrives meanwhile, then the
// backlog oldest first.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "buffer/buffer.h"
#include "edgegw/status.h"

namespace edgegw::forward {

// A reading's variable, from its cloud JSON; nullopt when it has none (or is not an object).
std::optional<std::string> variable_of(std::string_view reading_json);

// The newest reading of each variable among the device's readings at or before `last`, looking
// back over at most `max_scan` readings: at most `max_readings` of them and `max_bytes` of body
// (at least one reading), in queue order; and the newest reading the scan saw (0: none). The
// readings after that one up to `last` were withdrawn, or are counted by the buffer but not
// written yet (their group commit is on its way): the pick does not hold them.
struct FreshPick {
  buffer::Batch batch;
  buffer::Seq newest_seen = 0;
};
Result<FreshPick> newest_per_variable(const buffer::Buffer& buffer, buffer::DeviceId device,
                                      buffer::Seq last, std::size_t max_scan,
                                      std::size_t max_readings, std::size_t max_bytes);

}  // namespace edgegw::forward
