// SPDX-License-Identifier: Apache-2.0
// Optional header-only helper: the wall clock as the host wants it. Not part of the ABI.
#pragma once

#include <chrono>
#include <cstdint>

namespace edgegw::sdk {

// UTC milliseconds since the Unix epoch (edgegw_raw_message.receive_time_ms).
inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace edgegw::sdk
