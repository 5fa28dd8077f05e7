// SPDX-License-Identifier: Apache-2.0
// Fuzzes the tago_json decoder: any input, no crash, and the invariants of decode/self_check.h.
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "decode/decoder.h"
#include "decode/self_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgegw;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  decode::DecodeOutput out;
  decode::decode(decode::Format::kTagoJson, RawMessage{"fuzz", "dev", "", payload, 1700000000000},
                 out);
  if (auto broken = decode::check_decode_output(out)) {
    std::fprintf(stderr, "invariant broken: %s\n", broken->c_str());
    __builtin_trap();
  }
  return 0;
}
