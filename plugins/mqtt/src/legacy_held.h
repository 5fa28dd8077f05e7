// SPDX-License-Identifier: Apache-2.0
// Messages that edgegw before 0.2 kept when it had to stop while its buffer refused them (its Paho
// client acknowledged them on the way out): one fsync'd file each in <state dir>/held/. The
// client of 0.2 never acknowledges what it did not store, so it writes none; it hands any that an
// upgrade left behind to the buffer before it first connects, oldest first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgegw::plugins::mqtt {

struct HeldMessage {
  std::string path;  // its file
  std::string device;
  std::string variable;
  std::string payload;
  std::int64_t receive_time_ms = 0;
};

// Every held message in `dir`, oldest first; files that cannot be read are reported in
// `problems` (and left in place).
std::vector<HeldMessage> load_held(const std::string& dir, std::vector<std::string>& problems);
// Deletes a message once the buffer has it.
void forget_held(const HeldMessage& message);

}  // namespace edgegw::plugins::mqtt
