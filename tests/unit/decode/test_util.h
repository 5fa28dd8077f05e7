// SPDX-License-Identifier: Apache-2.0
// Helpers for the decode tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "decode/decoder.h"
#include "edgegw/reading.h"

namespace edgegw::decode::testing {

// 2023-11-14T22:13:20Z: the receive time of the test messages.
inline constexpr std::int64_t kReceiveMs = 1700000000000;
// 2024-01-01T00:00:00Z
inline constexpr std::int64_t kNewYear2024Ms = 1704067200000;

inline DecodeOutput run(Format format, std::string_view payload, std::string_view variable = {}) {
  DecodeOutput out;
  const RawMessage msg{"src", "dev", variable, payload, kReceiveMs};
  decode(format, msg, out);
  return out;
}

inline DecodeOutput tago(std::string_view payload) { return run(Format::kTagoJson, payload); }
inline DecodeOutput flat(std::string_view payload) { return run(Format::kFlatJson, payload); }
inline DecodeOutput csv(std::string_view payload) { return run(Format::kCsv, payload); }
inline DecodeOutput raw(std::string_view payload, std::string_view variable = "level") {
  return run(Format::kRaw, payload, variable);
}

}  // namespace edgegw::decode::testing
