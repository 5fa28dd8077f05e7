// SPDX-License-Identifier: Apache-2.0
// Fuzzes the raw decoder: the first byte gives the length of the variable name that follows,
// the rest is the payload. No crash, and the invariants of decode/self_check.h.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "decode/decoder.h"
#include "decode/self_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgegw;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t name_len = input.empty() ? 0 : std::min<std::size_t>(data[0] % 128, size - 1);
  const std::string_view variable = input.substr(input.empty() ? 0 : 1, name_len);
  const std::string_view payload = input.substr(std::min(size, 1 + name_len));
  decode::DecodeOutput out;
  decode::decode(decode::Format::kRaw, RawMessage{"fuzz", "dev", variable, payload, 1700000000000},
                 out);
  if (auto broken = decode::check_decode_output(out)) {
    std::fprintf(stderr, "invariant broken: %s\n", broken->c_str());
    __builtin_trap();
  }
  // One message gives one reading, one invalid reading or a rejection.
  if (out.readings.size() + out.invalid + (out.payload_rejected ? 1 : 0) != 1) __builtin_trap();
  return 0;
}
