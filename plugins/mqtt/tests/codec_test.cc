// SPDX-License-Identifier: Apache-2.0
#include "codec.h"

#include <gtest/gtest.h>

#include <string>

namespace edgegw::plugins::mqtt::codec {
namespace {

using namespace std::string_literals;

// Frames and decodes one whole packet.
DecodeResult decode_all(std::string_view bytes, Version v) {
  const Frame f = frame(bytes, v);
  if (f.status != Frame::Status::kOk) return Error{reason::kMalformedPacket, "frame"};
  EXPECT_EQ(f.size(), bytes.size());
  return decode(f.first_byte, bytes.substr(f.header_size, f.remaining), v);
}

template <typename T>
T decoded(std::string_view bytes, Version v) {
  DecodeResult r = decode_all(bytes, v);
  if (auto* e = std::get_if<Error>(&r)) {
    ADD_FAILURE() << e->text;
    return T{};
  }
  return std::get<T>(std::get<Packet>(r));
}

// The error's text, or "" when the bytes decoded.
std::string error_of(std::string_view bytes, Version v, std::uint8_t* code = nullptr) {
  DecodeResult r = decode_all(bytes, v);
  if (auto* e = std::get_if<Error>(&r)) {
    if (code != nullptr) *code = e->reason;
    return e->text;
  }
  return "";
}

// encode, then decode: the same packet.
template <typename T>
void expect_round_trip(const T& packet, Version v) {
  std::string bytes;
  encode(bytes, packet, v);
  EXPECT_EQ(decoded<T>(bytes, v), packet);
}

TEST(MqttCodec, AcknowledgementsHaveTheirSpecifiedBytes) {
  std::string out;
  encode_ack(out, PacketType::kPuback, 0x0102, Version::k311);
  EXPECT_EQ(out, "\x40\x02\x01\x02"s);
  out.clear();
  encode_ack(out, PacketType::kPubrec, 7, Version::k5);
  EXPECT_EQ(out, "\x50\x02\x00\x07"s);  // success: the short form
  out.clear();
  encode_ack(out, PacketType::kPubcomp, 7, Version::k5, reason::kPacketIdNotFound);
  EXPECT_EQ(out, "\x70\x03\x00\x07\x92"s);
  out.clear();
  encode_pingreq(out);
  encode_disconnect(out, Version::k311);
  encode_disconnect(out, Version::k5, reason::kTopicAliasInvalid);
  EXPECT_EQ(out, "\xC0\x00\xE0\x00\xE0\x01\x94"s);
}

TEST(MqttCodec, ConnectOfVersion311HasTheSpecifiedBytes) {
  Connect c;
  c.version = Version::k311;
  c.clean_start = false;
  c.keep_alive = 30;
  c.client_id = "gw";
  c.username = "u";
  c.password = "p";
  std::string out;
  encode(out, c, Version::k311);
  EXPECT_EQ(out, "\x10\x14\x00\x04MQTT\x04\xC0\x00\x1E\x00\x02gw\x00\x01u\x00\x01p"s);
  EXPECT_EQ(decoded<Connect>(out, Version::k311), c);
}

TEST(MqttCodec, EveryPacketRoundTripsInBothVersions) {
  for (Version v : {Version::k311, Version::k5}) {
    SCOPED_TRACE(static_cast<int>(v));
    const bool v5 = v == Version::k5;
    Connect c;
    c.version = v;
    c.keep_alive = 60;
    c.client_id = "edgegw-1";
    c.will = Will{1, true, {}, "last/will", "bye"};
    if (v5) {
      c.properties.add_number(property::kSessionExpiryInterval, 0xFFFFFFFF);
      c.properties.add_number(property::kReceiveMaximum, 1024);
      c.will->properties.add_number(property::kWillDelayInterval, 5);
    }
    expect_round_trip(c, v);

    Connack ca{true, 0, {}};
    if (v5) ca.properties.add_number(property::kServerKeepAlive, 20);
    expect_round_trip(ca, v);

    Publish p{1, true, false, "sensors/a/data", 42, {}, "{\"v\":1}"};
    if (v5) p.properties.add_number(property::kTopicAlias, 3);
    expect_round_trip(p, v);
    expect_round_trip(Publish{0, false, true, "t", 0, {}, ""}, v);

    for (PacketType t :
         {PacketType::kPuback, PacketType::kPubrec, PacketType::kPubrel, PacketType::kPubcomp}) {
      expect_round_trip(Ack{t, 9, reason::kSuccess, {}}, v);
    }
    if (v5) {
      Ack refused{PacketType::kPuback, 9, 0x87, {}};
      refused.properties.add_text(property::kReasonString, "no");
      expect_round_trip(refused, v);
    }

    Subscribe s{5, {}, {{"a/+/b", 1}, {"$share/g/c/#", 2}}};
    expect_round_trip(s, v);
    expect_round_trip(Unsubscribe{6, {}, {"a/+/b"}}, v);
    expect_round_trip(SubAck{PacketType::kSuback, 5, {}, {1, 0x80}}, v);
    expect_round_trip(SubAck{PacketType::kUnsuback,
                             6,
                             {},
                             v5 ? std::vector<std::uint8_t>{0} : std::vector<std::uint8_t>{}},
                      v);
    expect_round_trip(Ping{PacketType::kPingreq}, v);
    expect_round_trip(Ping{PacketType::kPingresp}, v);
    expect_round_trip(Disconnect{PacketType::kDisconnect, reason::kSuccess, {}}, v);
    if (v5) {
      Disconnect d{PacketType::kDisconnect, reason::kSessionTakenOver, {}};
      d.properties.add_text(property::kReasonString, "taken over");
      expect_round_trip(d, v);
      expect_round_trip(Disconnect{PacketType::kAuth, 0x18, {}}, v);
    }
  }
}

TEST(MqttCodec, FramesNeedTheirWholeLengthAndAtMostFourLengthBytes) {
  EXPECT_EQ(frame("", Version::k311).status, Frame::Status::kIncomplete);
  EXPECT_EQ(frame("\x30", Version::k311).status, Frame::Status::kIncomplete);
  EXPECT_EQ(frame("\x30\x80", Version::k311).status, Frame::Status::kIncomplete);
  const Frame max = frame("\x30\xFF\xFF\xFF\x7F"s, Version::k5);
  EXPECT_EQ(max.status, Frame::Status::kOk);
  EXPECT_EQ(max.remaining, kMaxRemainingLength);
  EXPECT_EQ(max.header_size, 5u);
  EXPECT_EQ(frame("\x30\xFF\xFF\xFF\xFF\x01"s, Version::k311).status, Frame::Status::kMalformed);
  // MQTT 5 wants the shortest form [MQTT-1.5.5-1]; 3.1.1 does not say so.
  EXPECT_EQ(frame("\x30\x80\x00"s, Version::k5).status, Frame::Status::kMalformed);
  EXPECT_EQ(frame("\x30\x80\x00"s, Version::k311).status, Frame::Status::kOk);
}

TEST(MqttCodec, RefusesMalformedPublishes) {
  std::uint8_t code = 0;
  EXPECT_NE(error_of("\x36\x05\x00\x01t\x00\x01"s, Version::k311), "");         // QoS 3
  EXPECT_NE(error_of("\x38\x03\x00\x01t"s, Version::k311), "");                 // DUP at QoS 0
  EXPECT_NE(error_of("\x32\x05\x00\x01t\x00\x00"s, Version::k311, &code), "");  // id 0
  EXPECT_EQ(code, reason::kProtocolError);
  EXPECT_NE(error_of("\x30\x03\x00\x01+"s, Version::k311), "");   // a wildcard
  EXPECT_NE(error_of("\x30\x02\x00\x00"s, Version::k311), "");    // an empty topic
  EXPECT_EQ(error_of("\x30\x03\x00\x00\x00"s, Version::k5), "");  // fine with v5 (alias)
  EXPECT_NE(error_of("\x30\x04\x00\x05"
                     "ab"s,
                     Version::k311),
            "");                                                              // topic past the end
  EXPECT_NE(error_of("\x30\x03\x00\x01\x00"s, Version::k311), "");            // U+0000
  EXPECT_NE(error_of("\x30\x04\x00\x02\xC0\x80"s, Version::k311), "");        // overlong NUL
  EXPECT_NE(error_of("\x30\x05\x00\x03\xED\xA0\x80"s, Version::k311), "");    // a surrogate
  EXPECT_EQ(error_of("\x30\x07\x00\x05\xE2\x82\xAC/a"s, Version::k311), "");  // "€/a"
}

TEST(MqttCodec, ChecksMqtt5Properties) {
  std::uint8_t code = 0;
  // A PUBLISH with a Topic Alias (allowed), then one with a Receive Maximum (not allowed there).
  EXPECT_EQ(error_of("\x30\x07\x00\x01t\x03\x23\x00\x01"s, Version::k5), "");
  EXPECT_NE(error_of("\x30\x07\x00\x01t\x03\x21\x00\x01"s, Version::k5, &code), "");
  EXPECT_EQ(code, reason::kProtocolError);
  // An unknown property id is malformed.
  EXPECT_NE(error_of("\x30\x06\x00\x01t\x02\x7F\x00"s, Version::k5, &code), "");
  EXPECT_EQ(code, reason::kMalformedPacket);
  // The same property twice; a User Property may repeat.
  EXPECT_NE(error_of("\x30\x0A\x00\x01t\x06\x23\x00\x01\x23\x00\x02"s, Version::k5), "");
  EXPECT_EQ(
      error_of("\x30\x10\x00\x01t\x0C\x26\x00\x01k\x00\x00\x26\x00\x01k\x00\x00"s, Version::k5),
      "");
  // Receive Maximum 0 in a CONNACK is a protocol error; a payload format indicator must be 0/1.
  EXPECT_NE(error_of("\x20\x06\x00\x00\x03\x21\x00\x00"s, Version::k5), "");
  EXPECT_NE(error_of("\x30\x06\x00\x01t\x02\x01\x02"s, Version::k5), "");
  // Properties that run past their length.
  EXPECT_NE(error_of("\x30\x06\x00\x01t\x05\x23\x00"s, Version::k5), "");
}

TEST(MqttCodec, RefusesReservedFlagsAndStrayBytes) {
  EXPECT_NE(error_of("\x41\x02\x00\x01"s, Version::k311), "");  // PUBACK
  EXPECT_NE(error_of("\x60\x02\x00\x01"s, Version::k311), "");  // PUBREL wants 0010
  EXPECT_EQ(error_of("\x62\x02\x00\x01"s, Version::k311), "");
  EXPECT_NE(error_of("\x40\x03\x00\x01\x00"s, Version::k311), "");  // a v3 PUBACK of 3 bytes
  EXPECT_EQ(error_of("\x40\x03\x00\x01\x00"s, Version::k5), "");    // v5: a reason code
  EXPECT_NE(error_of("\x62\x03\x00\x01\x87"s, Version::k5), "");    // PUBREL: 0 or 0x92 only
  EXPECT_NE(error_of("\xD0\x01\x00"s, Version::k311), "");          // PINGRESP with a body
  EXPECT_NE(error_of("\xF0\x00"s, Version::k311), "");              // AUTH in 3.1.1
  EXPECT_NE(error_of("\x00\x00"s, Version::k311), "");              // type 0
  EXPECT_NE(error_of("\x20\x02\x01\x05"s, Version::k311), "");      // refused yet session present
  EXPECT_NE(error_of("\x20\x02\x00\x06"s, Version::k311), "");      // return code 6
  EXPECT_NE(error_of("\x90\x03\x00\x01\x03"s, Version::k311), "");  // SUBACK code 3
  EXPECT_NE(error_of("\x90\x02\x00\x01"s, Version::k311), "");      // SUBACK without codes
}

TEST(MqttCodec, ReadsThePublishHeaderOfAnOversizedMessage) {
  const std::string body =
      "\x00\x03"s
      "a/b\x01\x02";  // the header views it
  const auto h = decode_publish_header(0x32, body, Version::k311);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->qos, 1);
  EXPECT_EQ(h->topic, "a/b");
  EXPECT_EQ(h->packet_id, 0x0102);
  EXPECT_FALSE(decode_publish_header(0x32,
                                     "\x00\x03"s
                                     "a/b",
                                     Version::k311));  // no id yet
}

TEST(MqttCodec, Utf8RulesOfMqtt) {
  EXPECT_TRUE(valid_utf8("plain/ascii"));
  EXPECT_TRUE(valid_utf8("\xC3\xA9t\xC3\xA9/\xE2\x82\xAC/\xF0\x9F\x98\x80"));
  EXPECT_TRUE(valid_utf8("\xEF\xBB\xBF"));  // U+FEFF stays
  EXPECT_FALSE(valid_utf8("a\0b"s));
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(valid_utf8("\xED\xBF\xBF"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(valid_utf8("\x80"));
}

TEST(MqttCodec, NamesReasonCodes) {
  EXPECT_STREQ(reason_text(0x87), "Not authorized");
  EXPECT_STREQ(reason_text(0x8E), "Session taken over");
  EXPECT_EQ(reason_text(0x7F), nullptr);
  EXPECT_NE(connack_v3_text(5), nullptr);
  EXPECT_EQ(connack_v3_text(0), nullptr);
}

}  // namespace
}  // namespace edgegw::plugins::mqtt::codec
