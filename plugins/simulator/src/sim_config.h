// SPDX-License-Identifier: Apache-2.0
// The simulator plugin's `config:` (README.md), parsed from the JSON the host hands to create().
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "fleet.h"

namespace edgegw::plugins::simulator {

struct SimConfig {
  FleetOptions fleet;
  double rate = 1;  // messages per second per device; 0: as fast as the host accepts them
  std::chrono::milliseconds burst_every{0};  // 0: no bursts
  std::uint64_t burst_messages = 0;          // per device, each burst
  std::uint64_t count = 0;                   // messages in total, then stop; 0: no end
  std::uint32_t batch = 100;                 // messages per append call at most
};

// Throws sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT, "key: why") on a bad or unknown key.
SimConfig parse_config(std::string_view json);

}  // namespace edgegw::plugins::simulator
