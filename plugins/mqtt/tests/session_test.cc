// SPDX-License-Identifier: Apache-2.0
// The session from scripted byte streams: what a broker sends in, what the session says to store,
// to acknowledge after the store, to send at once, and when to close. No sockets.
#include "session.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

namespace edgegw::plugins::mqtt {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using codec::PacketType;
using codec::Version;
using Clock = Session::Clock;
namespace reason = codec::reason;
namespace property = codec::property;

SessionConfig config(Version v) {
  SessionConfig c;
  c.version = v;
  c.broker = "tcp://broker:1883";
  c.client_id = "gw-1";
  c.keep_alive = 30s;
  c.receive_maximum = 4;
  c.topic_alias_maximum = 2;
  c.max_packet_size = 1024;
  c.subscriptions = {{"sensors/+/data", 1}, {"raw/#", 1}};
  return c;
}

// Bytes a broker sends.
std::string packet(const codec::Packet& p, Version v) {
  std::string out;
  codec::encode(out, p, v);
  return out;
}
std::string connack(Version v, bool session_present = false, std::uint8_t code = 0) {
  return packet(codec::Connack{session_present, code, {}}, v);
}
std::string suback(Version v, std::uint16_t id, std::vector<std::uint8_t> codes = {1, 1}) {
  return packet(codec::SubAck{PacketType::kSuback, id, {}, std::move(codes)}, v);
}
std::string publish(Version v, std::uint8_t qos, std::uint16_t id, std::string_view topic,
                    std::string_view payload, bool dup = false) {
  return packet(codec::Publish{qos, dup, false, topic, id, {}, payload}, v);
}
std::string pubrel(Version v, std::uint16_t id) {
  return packet(codec::Ack{PacketType::kPubrel, id, reason::kSuccess, {}}, v);
}
std::string ack(PacketType t, std::uint16_t id, Version v, std::uint8_t code = 0) {
  std::string out;
  codec::encode_ack(out, t, id, v, code);
  return out;
}

// Decodes the packets the session wrote.
std::vector<codec::Packet> sent(std::string_view bytes, Version v) {
  std::vector<codec::Packet> out;
  while (!bytes.empty()) {
    const codec::Frame f = codec::frame(bytes, v);
    EXPECT_EQ(f.status, codec::Frame::Status::kOk);
    if (f.status != codec::Frame::Status::kOk) break;
    auto r = codec::decode(f.first_byte, bytes.substr(f.header_size, f.remaining), v);
    EXPECT_TRUE(std::holds_alternative<codec::Packet>(r));
    if (!std::holds_alternative<codec::Packet>(r)) break;
    out.push_back(std::get<codec::Packet>(r));
    bytes.remove_prefix(f.size());
  }
  return out;
}

// A session connected and subscribed, with its SUBSCRIBE's packet id.
struct Up {
  Session session;
  Inbound in;
  Clock::time_point now = Clock::now();
  Version v;

  explicit Up(Version version, Session::Qos2Ids stored = {}, bool session_present = false,
              SessionConfig c = {})
      : session(c.client_id.empty() ? config(version) : std::move(c)), v(version) {
    (void)session.connect(stored, now);
    session.receive(connack(v, session_present), now, in);
    const auto subscribe = sent(in.send_now, v);
    EXPECT_EQ(subscribe.size(), 1u);
    const auto id = std::get<codec::Subscribe>(subscribe.at(0)).packet_id;
    session.receive(suback(v, id), now, in);
    EXPECT_TRUE(in.subscribed);
    EXPECT_TRUE(session.up());
  }
  // Deliveries view the bytes they came from, as they view the client's read buffer: every fed
  // buffer lives as long as the test.
  Inbound& feed(std::string bytes) {
    session.receive(fed.emplace_back(std::move(bytes)), now, in);
    return in;
  }
  std::deque<std::string> fed;
};

TEST(MqttSession, ConnectSaysWhatTheConfigSays) {
  SessionConfig c = config(Version::k311);
  c.username = "user";
  c.password = "secret";
  Session s(c);
  const std::string bytes = s.connect({}, Clock::now());
  const auto packets = sent(bytes, Version::k311);
  ASSERT_EQ(packets.size(), 1u);
  const auto& connect = std::get<codec::Connect>(packets[0]);
  EXPECT_EQ(connect.version, Version::k311);
  EXPECT_FALSE(connect.clean_start);
  EXPECT_EQ(connect.keep_alive, 30);
  EXPECT_EQ(connect.client_id, "gw-1");
  EXPECT_EQ(connect.username, "user");
  EXPECT_EQ(connect.password, "secret");
  EXPECT_FALSE(connect.will);
}

TEST(MqttSession, Mqtt5ConnectAsksForAPersistentSessionAndStatesItsLimits) {
  SessionConfig c = config(Version::k5);
  Session s(c);
  const std::string bytes = s.connect({}, Clock::now());
  const auto connect = std::get<codec::Connect>(sent(bytes, Version::k5)[0]);
  // Clean Start 0 alone is no persistent session in MQTT 5: the expiry says how long.
  EXPECT_FALSE(connect.clean_start);
  EXPECT_EQ(connect.properties.number(property::kSessionExpiryInterval), 0xFFFFFFFFu);
  EXPECT_EQ(connect.properties.number(property::kReceiveMaximum), 4u);
  EXPECT_EQ(connect.properties.number(property::kTopicAliasMaximum), 2u);
  EXPECT_EQ(connect.properties.number(property::kMaximumPacketSize), 1024u);

  c.clean_start = true;
  Session clean(c);
  const std::string clean_bytes = clean.connect({}, Clock::now());
  const auto again = std::get<codec::Connect>(sent(clean_bytes, Version::k5)[0]);
  EXPECT_TRUE(again.clean_start);
  EXPECT_FALSE(again.properties.number(property::kSessionExpiryInterval));
}

TEST(MqttSession, SubscribesAfterTheConnackAndIsUpAfterTheSuback) {
  Session s(config(Version::k311));
  Inbound in;
  const auto now = Clock::now();
  (void)s.connect({}, now);
  s.receive(connack(Version::k311, true), now, in);
  EXPECT_FALSE(in.closing);
  ASSERT_EQ(in.notes.size(), 1u);
  EXPECT_NE(in.notes[0].text.find("connected to tcp://broker:1883 as client id 'gw-1' (the broker "
                                  "kept our session)"),
            std::string::npos);
  const auto subscribe = std::get<codec::Subscribe>(sent(in.send_now, Version::k311).at(0));
  ASSERT_EQ(subscribe.filters.size(), 2u);
  EXPECT_EQ(subscribe.filters[0].filter, "sensors/+/data");
  EXPECT_EQ(subscribe.filters[1].options, 1);
  EXPECT_FALSE(s.up());
  s.receive(suback(Version::k311, subscribe.packet_id, {1, 0}), now, in);
  EXPECT_TRUE(in.subscribed);
  EXPECT_TRUE(s.up());
  ASSERT_EQ(in.notes.size(), 2u);
  EXPECT_EQ(in.notes[0].level, LogNote::Level::kWarn);  // raw/# only at QoS 0
  EXPECT_NE(in.notes[0].text.find("'raw/#' at QoS 0"), std::string::npos);
}

TEST(MqttSession, AcknowledgesAWholeReadAfterItsStoreInArrivalOrder) {
  Up up(Version::k311);
  const std::string bytes = publish(Version::k311, 1, 7, "sensors/a/data", "one") +
                            publish(Version::k311, 0, 0, "sensors/b/data", "two") +
                            publish(Version::k311, 1, 3, "raw/x", "three");
  Inbound& in = up.feed(bytes);
  EXPECT_EQ(in.consumed, bytes.size());
  ASSERT_EQ(in.deliveries.size(), 3u);
  EXPECT_EQ(in.deliveries[0].topic, "sensors/a/data");
  EXPECT_EQ(in.deliveries[1].payload, "two");
  EXPECT_EQ(in.deliveries[2].packet_id, 3);
  // Nothing goes out now; the acks wait for the store, in arrival order.
  EXPECT_TRUE(in.send_now.empty());
  EXPECT_EQ(in.acks, ack(PacketType::kPuback, 7, Version::k311) +
                         ack(PacketType::kPuback, 3, Version::k311));
  EXPECT_TRUE(in.needs_write());
  EXPECT_EQ(up.session.in_flight(), 2u);
  up.session.committed(in);
  EXPECT_EQ(up.session.in_flight(), 0u);
}

TEST(MqttSession, AnUnfinishedPacketWaitsForTheNextRead) {
  Up up(Version::k311);
  const std::string a = publish(Version::k311, 1, 1, "sensors/a/data", "first");
  const std::string b = publish(Version::k311, 1, 2, "sensors/a/data", "second");
  const std::string bytes = a + b.substr(0, 5);
  Inbound& in = up.feed(bytes);
  EXPECT_EQ(in.consumed, a.size());
  ASSERT_EQ(in.deliveries.size(), 1u);
  up.session.committed(in);
  Inbound& rest = up.feed(b);
  ASSERT_EQ(rest.deliveries.size(), 1u);
  EXPECT_EQ(rest.deliveries[0].payload, "second");
}

TEST(MqttSession, Qos2StoresTheMessageWithItsIdAndDeletesTheIdBeforePubcomp) {
  Up up(Version::k5);
  const Version v = Version::k5;
  Inbound& in = up.feed(publish(v, 2, 9, "sensors/a/data", "x"));
  ASSERT_EQ(in.deliveries.size(), 1u);
  ASSERT_EQ(in.qos2.size(), 1u);
  EXPECT_EQ(in.qos2[0].packet_id, 9);
  EXPECT_TRUE(in.qos2[0].stored);
  EXPECT_EQ(in.acks, ack(PacketType::kPubrec, 9, v));
  up.session.committed(in);

  // The broker sends it again (its PUBREC was lost): PUBREC again, never a second delivery.
  Inbound& dup = up.feed(publish(v, 2, 9, "sensors/a/data", "x", true));
  EXPECT_TRUE(dup.deliveries.empty());
  EXPECT_TRUE(dup.qos2.empty());
  EXPECT_FALSE(dup.needs_write());
  EXPECT_EQ(dup.acks, ack(PacketType::kPubrec, 9, v));

  // PUBREL: the id is deleted in the store's write, and PUBCOMP follows it.
  Inbound& rel = up.feed(pubrel(v, 9));
  ASSERT_EQ(rel.qos2.size(), 1u);
  EXPECT_FALSE(rel.qos2[0].stored);
  EXPECT_TRUE(rel.needs_write());
  EXPECT_EQ(rel.acks, ack(PacketType::kPubcomp, 9, v));
  up.session.committed(rel);
  EXPECT_EQ(up.session.in_flight(), 0u);

  // The id is new again; a PUBREL for an id we do not hold is completed ("not found").
  EXPECT_EQ(up.feed(publish(v, 2, 9, "sensors/a/data", "y")).deliveries.size(), 1u);
  Inbound& unknown = up.feed(pubrel(v, 77));
  EXPECT_TRUE(unknown.qos2.empty());
  EXPECT_EQ(unknown.acks, ack(PacketType::kPubcomp, 77, v, reason::kPacketIdNotFound));
}

TEST(MqttSession, APublishReleaseAndReuseInOneReadKeepTheirOrder) {
  Up up(Version::k311);
  const Version v = Version::k311;
  Inbound& in =
      up.feed(publish(v, 2, 5, "raw/a", "1") + pubrel(v, 5) + publish(v, 2, 5, "raw/a", "2"));
  ASSERT_EQ(in.deliveries.size(), 2u);
  ASSERT_EQ(in.qos2.size(), 3u);
  EXPECT_TRUE(in.qos2[0].stored);
  EXPECT_FALSE(in.qos2[1].stored);
  EXPECT_TRUE(in.qos2[2].stored);
  EXPECT_EQ(in.acks, ack(PacketType::kPubrec, 5, v) + ack(PacketType::kPubcomp, 5, v) +
                         ack(PacketType::kPubrec, 5, v));
}

TEST(MqttSession, StoredQos2IdsSurviveAReconnectOnlyWithTheBrokersSession) {
  Session::Qos2Ids stored;
  stored.set(4);
  stored.set(300);
  {
    Up kept(Version::k311, stored, /*session_present=*/true);
    EXPECT_EQ(kept.session.in_flight(), 2u);
    Inbound& rel = kept.feed(pubrel(Version::k311, 300));
    ASSERT_EQ(rel.qos2.size(), 1u);
    EXPECT_EQ(rel.qos2[0].packet_id, 300);
    EXPECT_FALSE(rel.qos2[0].stored);
  }
  // A new session: the old ids mean nothing now and are deleted [MQTT-3.2.2-5].
  Session s(config(Version::k311));
  Inbound in;
  (void)s.connect(stored, Clock::now());
  s.receive(connack(Version::k311, false), Clock::now(), in);
  ASSERT_EQ(in.qos2.size(), 2u);
  EXPECT_FALSE(in.qos2[0].stored);
  EXPECT_FALSE(in.qos2[1].stored);
  EXPECT_TRUE(in.needs_write());
  EXPECT_EQ(s.in_flight(), 0u);
}

TEST(MqttSession, ARefusedConnectionSaysWhy) {
  for (Version v : {Version::k311, Version::k5}) {
    Session s(config(v));
    Inbound in;
    (void)s.connect({}, Clock::now());
    s.receive(connack(v, false, v == Version::k5 ? 0x87 : 5), Clock::now(), in);
    ASSERT_TRUE(in.closing);
    EXPECT_TRUE(in.closing->refused);
    EXPECT_NE(in.closing->why.find(v == Version::k5 ? "Not authorized" : "not authorised"),
              std::string::npos)
        << in.closing->why;
    EXPECT_TRUE(in.send_after_acks.empty());
  }
}

TEST(MqttSession, ProtocolViolationsCloseWithTheirReason) {
  const auto closes = [](Version v, const std::string& bytes, std::uint8_t code,
                         bool connected = true) {
    Session s(config(v));
    Inbound in;
    (void)s.connect({}, Clock::now());
    if (connected) s.receive(connack(v), Clock::now(), in);
    s.receive(bytes, Clock::now(), in);
    EXPECT_TRUE(in.closing) << in.consumed;
    if (v == Version::k5) {
      std::string disconnect;
      codec::encode_disconnect(disconnect, v, code);
      EXPECT_EQ(in.send_after_acks, disconnect) << (in.closing ? in.closing->why : "");
    } else {
      EXPECT_TRUE(in.send_after_acks.empty());  // 3.1.1 just closes
    }
    return in.closing ? in.closing->why : "";
  };
  for (Version v : {Version::k311, Version::k5}) {
    EXPECT_NE(closes(v, publish(v, 1, 1, "a", "x"), reason::kProtocolError, false)
                  .find("before its CONNACK"),
              std::string::npos);
    closes(v, "\x36\x05\x00\x01t\x00\x01"s, reason::kMalformedPacket);  // QoS 3
    closes(v, "\x30\xFF\xFF\xFF\xFF\x01"s, reason::kMalformedPacket);   // a 5-byte length
    closes(v, connack(v), reason::kProtocolError);                      // a second CONNACK
    closes(v, ack(PacketType::kPuback, 1, v), reason::kProtocolError);  // we never publish
    closes(v, suback(v, 999), reason::kProtocolError);                  // not our SUBSCRIBE
  }
  EXPECT_NE(closes(Version::k5, "\xF0\x00"s, reason::kProtocolError).find("AUTH"),
            std::string::npos);
}

TEST(MqttSession, MessagesBeforeABadPacketAreStoredAndAcknowledgedFirst) {
  Up up(Version::k5);
  Inbound& in = up.feed(publish(Version::k5, 1, 1, "raw/a", "good") + "\x00\x00"s);
  ASSERT_EQ(in.deliveries.size(), 1u);
  EXPECT_EQ(in.acks, ack(PacketType::kPuback, 1, Version::k5));
  ASSERT_TRUE(in.closing);
  EXPECT_NE(in.closing->why.find("bad packet"), std::string::npos);
}

TEST(MqttSession, TopicAliasesResolvePerConnection) {
  const Version v = Version::k5;
  Up up(v);
  codec::Publish p{0, false, false, "sensors/a/data", 0, {}, "1"};
  p.properties.add_number(property::kTopicAlias, 1);
  codec::Publish by_alias{0, false, false, "", 0, {}, "2"};
  by_alias.properties.add_number(property::kTopicAlias, 1);
  codec::Publish replace{0, false, false, "raw/b", 0, {}, "3"};
  replace.properties.add_number(property::kTopicAlias, 1);
  Inbound& in =
      up.feed(packet(p, v) + packet(by_alias, v) + packet(replace, v) + packet(by_alias, v));
  ASSERT_EQ(in.deliveries.size(), 4u);
  EXPECT_EQ(in.deliveries[1].topic, "sensors/a/data");
  EXPECT_EQ(in.deliveries[3].topic, "raw/b");  // replaced, and the earlier one kept its topic
  EXPECT_EQ(in.deliveries[1].topic, "sensors/a/data");

  codec::Publish zero = p;
  zero.properties.items[0].number = 0;
  Up up0(v);
  EXPECT_TRUE(up0.feed(packet(zero, v)).closing);
  EXPECT_EQ(up0.in.send_after_acks, "\xE0\x01\x94"s);
  codec::Publish high = p;
  high.properties.items[0].number = 3;  // over our maximum of 2
  Up up1(v);
  EXPECT_EQ(up1.feed(packet(high, v)).send_after_acks, "\xE0\x01\x94"s);
  codec::Publish unknown = by_alias;
  unknown.properties.items[0].number = 2;
  Up up2(v);
  EXPECT_EQ(up2.feed(packet(unknown, v)).send_after_acks, "\xE0\x01\x82"s);
}

// MQTT 5 §3.3.4 says disconnect (0x93); Mosquitto 2.0 exceeds it whenever it resumes a session,
// so the session warns once per connection and goes on.
TEST(MqttSession, MoreInFlightThanReceiveMaximumIsWarnedAboutOnce) {
  const Version v = Version::k5;
  Up up(v);
  std::string bytes;
  for (std::uint16_t id = 1; id <= 6; ++id) bytes += publish(v, 1, id, "raw/a", "x");
  Inbound& in = up.feed(bytes);
  EXPECT_EQ(in.deliveries.size(), 6u);
  EXPECT_FALSE(in.closing);
  ASSERT_EQ(in.notes.size(), 1u);
  EXPECT_NE(in.notes[0].text.find("receive_maximum (4)"), std::string::npos);
  EXPECT_EQ(up.session.in_flight(), 6u);
}

TEST(MqttSession, AnOversizedMessageIsAcknowledgedAndDroppedUnderMqtt311) {
  const Version v = Version::k311;
  Up up(v);
  const std::string big = publish(v, 1, 8, "raw/big", std::string(2000, 'x'));
  const std::string after = publish(v, 1, 9, "raw/a", "small");
  // The big one arrives in two reads, the small one after it.
  Inbound& first = up.feed(big.substr(0, 100));
  EXPECT_TRUE(first.deliveries.empty());
  EXPECT_FALSE(first.closing);
  EXPECT_EQ(first.acks, ack(PacketType::kPuback, 8, v));
  EXPECT_EQ(first.consumed, 100u);
  ASSERT_EQ(first.notes.size(), 1u);
  EXPECT_NE(first.notes[0].text.find("over max_packet_size"), std::string::npos);
  Inbound& second = up.feed(big.substr(100) + after);
  ASSERT_EQ(second.deliveries.size(), 1u);
  EXPECT_EQ(second.deliveries[0].payload, "small");
  EXPECT_EQ(second.acks, ack(PacketType::kPuback, 9, v));

  Up five(Version::k5);  // MQTT 5 told the broker our maximum: a larger packet is its error
  EXPECT_EQ(
      five.feed(publish(Version::k5, 1, 8, "raw/big", std::string(2000, 'x'))).send_after_acks,
      "\xE0\x01\x95"s);
}

TEST(MqttSession, KeepAliveSendsPingsAndNoticesASilentBroker) {
  Up up(Version::k311);
  const auto t0 = up.now;
  up.session.sent(t0);
  EXPECT_EQ(up.session.next_tick(), t0 + 30s);
  EXPECT_TRUE(up.session.tick(t0 + 29s, true).send.empty());
  TickResult ping = up.session.tick(t0 + 30s, true);
  EXPECT_EQ(ping.send, "\xC0\x00"s);
  up.session.sent(t0 + 30s);
  // Answered: the next ping a keep-alive after the last send.
  up.feed("\xD0\x00"s);
  EXPECT_EQ(up.session.next_tick(), t0 + 60s);
  EXPECT_FALSE(up.session.tick(t0 + 60s, true).closing);
  up.session.sent(t0 + 60s);
  // Unanswered for a whole keep-alive: closed.
  TickResult silent = up.session.tick(t0 + 90s, true);
  ASSERT_TRUE(silent.closing);
  EXPECT_NE(silent.closing->why.find("PINGRESP"), std::string::npos);
}

TEST(MqttSession, KeepAliveGoesOnWhileReadsAreHeldBack) {
  Up up(Version::k311);
  const auto t0 = up.now;
  up.session.sent(t0);
  EXPECT_EQ(up.session.tick(t0 + 30s, false).send, "\xC0\x00"s);
  up.session.sent(t0 + 30s);
  // Not reading: the PINGRESP sits in the socket; that is no reason to close.
  TickResult r = up.session.tick(t0 + 60s, false);
  EXPECT_FALSE(r.closing);
  EXPECT_EQ(r.send, "\xC0\x00"s);
}

TEST(MqttSession, NoConnackWithinTheTimeoutCloses) {
  Session s(config(Version::k311));
  const auto t0 = Clock::now();
  (void)s.connect({}, t0);
  EXPECT_EQ(s.next_tick(), t0 + 10s);
  EXPECT_FALSE(s.tick(t0 + 9s, true).closing);
  EXPECT_TRUE(s.tick(t0 + 10s, true).closing);
}

TEST(MqttSession, TheBrokersDisconnectIsExplained) {
  Up up(Version::k5);
  codec::Disconnect d{PacketType::kDisconnect, reason::kSessionTakenOver, {}};
  Inbound& in = up.feed(packet(d, Version::k5));
  ASSERT_TRUE(in.closing);
  EXPECT_TRUE(in.closing->refused);
  EXPECT_NE(in.closing->why.find("Session taken over"), std::string::npos);
  EXPECT_NE(in.closing->why.find("client id 'gw-1'"), std::string::npos);
  EXPECT_TRUE(in.send_after_acks.empty());  // the broker is gone; nothing to tell it
}

TEST(MqttSession, ARefusedSubscriptionNamesTheFilter) {
  Session s(config(Version::k5));
  Inbound in;
  (void)s.connect({}, Clock::now());
  s.receive(connack(Version::k5), Clock::now(), in);
  const auto id = std::get<codec::Subscribe>(sent(in.send_now, Version::k5).at(0)).packet_id;
  s.receive(suback(Version::k5, id, {1, 0x87}), Clock::now(), in);
  ASSERT_TRUE(in.closing);
  EXPECT_TRUE(in.closing->refused);
  EXPECT_NE(in.closing->why.find("'raw/#' (Not authorized (0x87))"), std::string::npos)
      << in.closing->why;
  EXPECT_FALSE(s.up());
}

TEST(MqttSession, AMessageAboveTheGrantedQosIsAnsweredAsItAsksAndWarnedAboutOnce) {
  Up up(Version::k311);
  Inbound& in = up.feed(publish(Version::k311, 2, 1, "raw/a", "x") +
                        publish(Version::k311, 2, 2, "raw/a", "y"));
  EXPECT_EQ(in.deliveries.size(), 2u);
  EXPECT_EQ(in.qos2.size(), 2u);
  ASSERT_EQ(in.notes.size(), 1u);
  EXPECT_NE(in.notes[0].text.find("above the subscription's 1"), std::string::npos);
}

}  // namespace
}  // namespace edgegw::plugins::mqtt
