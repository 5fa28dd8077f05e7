// SPDX-License-Identifier: Apache-2.0
// A polling group's points as read requests: points of the same table whose addresses lie
// together are read in one request, up to the protocol's limit (125 registers, 2000 bits per read)
// and across at most `max_gap` unused registers (16 x max_gap bits). The plan is made once, at
// start-up; the config check logs what each group costs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config.h"

namespace edgegw::plugins::modbus {

inline constexpr std::uint16_t kMaxReadRegisters = 125;  // MODBUS_MAX_READ_REGISTERS
inline constexpr std::uint16_t kMaxReadBits = 2000;      // MODBUS_MAX_READ_BITS

struct Request {
  Kind kind = Kind::kHolding;
  std::uint16_t address = 0;
  std::uint16_t count = 0;  // registers, or bits
  // The points this request answers: their index in the group and where their first register
  // (or bit) lies in the answer.
  struct Member {
    std::uint16_t point = 0;
    std::uint16_t offset = 0;
  };
  std::vector<Member> members;
};

// The requests of one group, ordered by table and address.
std::vector<Request> plan_requests(const std::vector<Point>& points, std::uint16_t max_gap);

// "holding 0-39" / "coil 7" (for logs).
std::string describe(const Request& r);
// "14 point(s) in 2 request(s): holding 0-39, input 100-101".
std::string describe(const std::vector<Request>& requests, std::size_t points);

}  // namespace edgegw::plugins::modbus
