// SPDX-License-Identifier: Apache-2.0
// Fuzzes the mqtt plugin's packet codec with bytes from a broker: the first byte picks MQTT 3.1.1
// or 5; the rest is framed and decoded packet after packet. Invariants: no crash; a frame never
// claims more than the Remaining Length allows; every packet that decodes re-encodes to bytes
// that decode to the same packet; the header of an oversized PUBLISH is read from any prefix
// without a crash.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "codec.h"
#include "fuzz_check.h"

namespace {

using namespace edgegw::plugins::mqtt::codec;

using edgegw::fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const Version v = (data[0] & 1) != 0 ? Version::k5 : Version::k311;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!rest.empty()) {
    const Frame f = frame(rest, v);
    if (f.status != Frame::Status::kOk) break;
    check(f.remaining <= kMaxRemainingLength, "remaining length over the maximum");
    check(f.header_size >= 2 && f.header_size <= 5, "fixed header size");
    const std::string_view body = rest.substr(f.header_size, f.remaining);
    (void)decode_publish_header(f.first_byte, body, v);
    if (rest.size() < f.size()) break;
    const DecodeResult r = decode(f.first_byte, body, v);
    if (const auto* packet = std::get_if<Packet>(&r)) {
      // CONNECT carries its own version.
      const Version pv =
          type_of(*packet) == PacketType::kConnect ? std::get<Connect>(*packet).version : v;
      std::string again;
      encode(again, *packet, pv);
      const Frame g = frame(again, pv);
      check(g.status == Frame::Status::kOk && g.size() == again.size(), "re-encoded frame");
      const DecodeResult r2 =
          decode(g.first_byte, std::string_view(again).substr(g.header_size, g.remaining), pv);
      const auto* packet2 = std::get_if<Packet>(&r2);
      check(packet2 != nullptr, "a decoded packet re-encodes to bytes that do not decode");
      check(*packet2 == *packet, "a decoded packet does not survive encode and decode");
    } else {
      check(!std::get<Error>(r).text.empty(), "an error without a text");
    }
    rest.remove_prefix(f.size());
  }
  return 0;
}
