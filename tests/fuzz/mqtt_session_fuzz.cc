// SPDX-License-Identifier: Apache-2.0
// Fuzzes the mqtt plugin's session with a broker's byte stream after CONNECT. The first byte picks
// the version, whether the session is persistent, and how the stream is split into reads; every
// read's messages are "stored" at once. Invariants: no crash; consumed bytes never exceed what was
// given; a delivery's topic is never empty and holds no wildcard; every acknowledgement and
// packet the session writes decodes; QoS 2 ids stored and released balance with in_flight; after
// a close, nothing more is parsed.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "session.h"

namespace {

using namespace edgegw::plugins::mqtt;

using edgegw::fuzz::check;

void check_packets(std::string_view bytes, codec::Version v) {
  while (!bytes.empty()) {
    const codec::Frame f = codec::frame(bytes, v);
    check(f.status == codec::Frame::Status::kOk && f.size() <= bytes.size(), "written frame");
    const auto r = codec::decode(f.first_byte, bytes.substr(f.header_size, f.remaining), v);
    check(std::holds_alternative<codec::Packet>(r), "a written packet does not decode");
    bytes.remove_prefix(f.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  SessionConfig config;
  config.version = (data[0] & 1) != 0 ? codec::Version::k5 : codec::Version::k311;
  config.clean_start = (data[0] & 2) != 0;
  config.client_id = "fuzz";
  config.receive_maximum = 8;
  config.topic_alias_maximum = 4;
  config.max_packet_size = 4096;
  config.subscriptions = {{"a/+/b", 1}, {"c/#", 2}};
  const std::size_t step = 1 + (data[0] >> 2);
  Session session(config);
  Session::Qos2Ids stored;
  stored.set(1);
  stored.set(7);
  const auto now = Session::Clock::now();
  check_packets(session.connect(stored, now), config.version);

  std::string buffer;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  Inbound in;
  for (std::size_t at = 0; at < stream.size(); at += step) {
    buffer.append(stream.substr(at, step));
    session.receive(buffer, now, in);
    check(in.consumed <= buffer.size(), "consumed more than given");
    for (const Delivery& d : in.deliveries) {
      check(!d.topic.empty(), "a delivery without a topic");
      check(d.topic.find_first_of("+#") == std::string_view::npos, "a wildcard in a topic");
      check(d.qos <= 2, "QoS above 2");
    }
    check_packets(in.acks, config.version);
    check_packets(in.send_now, config.version);
    check_packets(in.send_after_acks, config.version);
    for (const Qos2Change& q : in.qos2) stored.set(q.packet_id, q.stored);
    session.committed(in);
    check(session.in_flight() == stored.count(), "in_flight out of step with the QoS 2 ids");
    buffer.erase(0, in.consumed);
    if (in.closing) break;
    const TickResult t = session.tick(now + std::chrono::seconds(at), true);
    check_packets(t.send, config.version);
  }
  return 0;
}
