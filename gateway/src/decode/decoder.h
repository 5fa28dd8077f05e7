// SPDX-License-Identifier: Apache-2.0
// Decoders: the bytes of one raw message -> validated readings, per the source's format.
// Decoding never throws and never crashes: a bad payload becomes a rejection with a reason.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decode/format.h"
#include "edgegw/reading.h"

namespace edgegw::decode {

// What one decode produced. Reused between messages (clear() keeps the capacity).
struct DecodeOutput {
  std::vector<Reading> readings;  // appended to, in payload order
  // The whole payload could not be decoded (not JSON, not UTF-8, wrong shape):
  // counted as reason="decode". No reading of it is kept.
  bool payload_rejected = false;
  // Readings decoded but refused by the edge rules (counted as reason="invalid"); the others of
  // the same payload are kept.
  std::size_t invalid = 0;
  // The first problem, saying where and what, e.g. `[2].variable: "a-b" holds '-'`.
  // Never holds more than ~200 bytes of the payload.
  std::string first_error;

  void clear() noexcept {
    readings.clear();
    payload_rejected = false;
    invalid = 0;
    first_error.clear();
  }
};

// Decodes msg.payload in the given format, appending to out.readings. Readings without a time get
// msg.receive_time_ms. Each reading is validated and normalised (validate.h) before it is kept.
void decode(Format format, const RawMessage& msg, DecodeOutput& out) noexcept;

// Checks a message's typed readings (a plugin's values, plugin ABI 1.5) by the same rules as
// decoded ones and appends those kept to out.readings, with msg.receive_time_ms as their time.
// A refused reading is counted in out.invalid, its problem named by its index and variable.
void decode(const TypedMessage& msg, DecodeOutput& out) noexcept;

// The largest payload any decoder accepts (a reading's value is at most 6 kB; a message holding
// thousands of readings is still far below this). Larger payloads are rejected as "decode".
inline constexpr std::size_t kMaxPayloadBytes = 16 * 1024 * 1024;

}  // namespace edgegw::decode
