// SPDX-License-Identifier: Apache-2.0
// Readings the gateway stamped while the system clock was not synchronised carry the boot they
// arrived in and the instant on that boot's own clock (core/unsynced_stamp.h). Before they are
// sent: with the clock synchronised in the same boot, their real time is worked out from the
// boot clock (no reading goes out with a time from before the sync); in a later boot it cannot
// be, so their `time` is left out (the cloud stamps them) and `metadata.clock` says "unsynced";
// in the same boot with the clock still unsynchronised, they wait, at most cloud.clock_wait after
// their arrival: then they go with the time the unsynchronised clock gave them, and
// `metadata.clock: unsynced` (the box has no time service that answers).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "buffer/buffer.h"

namespace edgegw::forward {

// The clocks as the forwarder sees them at one instant.
struct ClockView {
  bool synchronised = true;
  std::int64_t wall_ms = 0;  // the system clock
  std::int64_t boot_ms = 0;  // CLOCK_BOOTTIME
  std::string boot_id;

  static ClockView system();  // the real clocks (core/clock_sync.h)
};

enum class TimesFixed {
  kNone,   // no reading of the batch carries a stamp: unchanged
  kFixed,  // the body is rewritten (entries' offsets and sizes too; stored_size kept)
  kWait,   // a reading waits for the clock: send nothing yet
};

// `clock` is asked only when a reading of the batch carries a stamp (one scan of the body
// otherwise: this runs for every batch read).
TimesFixed fix_unsynced_times(buffer::Batch& batch, const std::function<ClockView()>& clock,
                              std::int64_t clock_wait_ms);

}  // namespace edgegw::forward
