// SPDX-License-Identifier: Apache-2.0
// MQTT 3.1.1 and 5.0 packets: pure encode and decode, no I/O and no state. Decoded packets are
// views into the bytes they were decoded from (valid while those bytes are). Every rule of the
// specifications that concerns one packet alone is checked here (fixed-header flags, lengths,
// UTF-8, property ids and where they may appear, duplicate properties, QoS 3, packet id 0); rules
// that need the connection's history (topic aliases, Receive Maximum, the session) are the
// session's (session.h). A malformed packet is an Error with its MQTT 5 reason code and a text for
// the log; nothing here throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/container/small_vector.hpp>

namespace edgegw::plugins::mqtt::codec {

enum class Version : std::uint8_t { k311 = 4, k5 = 5 };

enum class PacketType : std::uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,
};
const char* packet_name(PacketType type) noexcept;

// MQTT 5 reason codes this client sends or names in its log (the full table: reason_text()).
namespace reason {
inline constexpr std::uint8_t kSuccess = 0x00;
inline constexpr std::uint8_t kUnspecified = 0x80;
inline constexpr std::uint8_t kMalformedPacket = 0x81;
inline constexpr std::uint8_t kProtocolError = 0x82;
inline constexpr std::uint8_t kImplementationSpecific = 0x83;
inline constexpr std::uint8_t kSessionTakenOver = 0x8E;
inline constexpr std::uint8_t kPacketIdNotFound = 0x92;
inline constexpr std::uint8_t kReceiveMaximumExceeded = 0x93;
inline constexpr std::uint8_t kTopicAliasInvalid = 0x94;
inline constexpr std::uint8_t kPacketTooLarge = 0x95;
}  // namespace reason
// "Not authorized" for 0x87, ...; nullptr for a code the specification does not define.
const char* reason_text(std::uint8_t code) noexcept;
// The MQTT 3.1.1 CONNACK return codes 1..5; nullptr otherwise.
const char* connack_v3_text(std::uint8_t code) noexcept;

// The most a Remaining Length can say (4 bytes of Variable Byte Integer).
inline constexpr std::uint32_t kMaxRemainingLength = 268'435'455;

// A malformed packet or a protocol error: the reason code an MQTT 5 DISCONNECT carries, and
// what was wrong.
struct Error {
  std::uint8_t reason = reason::kMalformedPacket;
  std::string text;
};

// MQTT 5 properties, kept in the order received (so that a packet re-encodes byte for byte).
// Numbers (Byte, Two/Four Byte Integer, Variable Byte Integer) in `number`; strings and binary
// data in `text`; a User Property's value in `value`.
namespace property {
inline constexpr std::uint8_t kPayloadFormatIndicator = 0x01;
inline constexpr std::uint8_t kMessageExpiryInterval = 0x02;
inline constexpr std::uint8_t kContentType = 0x03;
inline constexpr std::uint8_t kResponseTopic = 0x08;
inline constexpr std::uint8_t kCorrelationData = 0x09;
inline constexpr std::uint8_t kSubscriptionIdentifier = 0x0B;
inline constexpr std::uint8_t kSessionExpiryInterval = 0x11;
inline constexpr std::uint8_t kAssignedClientIdentifier = 0x12;
inline constexpr std::uint8_t kServerKeepAlive = 0x13;
inline constexpr std::uint8_t kAuthenticationMethod = 0x15;
inline constexpr std::uint8_t kAuthenticationData = 0x16;
inline constexpr std::uint8_t kRequestProblemInformation = 0x17;
inline constexpr std::uint8_t kWillDelayInterval = 0x18;
inline constexpr std::uint8_t kRequestResponseInformation = 0x19;
inline constexpr std::uint8_t kResponseInformation = 0x1A;
inline constexpr std::uint8_t kServerReference = 0x1C;
inline constexpr std::uint8_t kReasonString = 0x1F;
inline constexpr std::uint8_t kReceiveMaximum = 0x21;
inline constexpr std::uint8_t kTopicAliasMaximum = 0x22;
inline constexpr std::uint8_t kTopicAlias = 0x23;
inline constexpr std::uint8_t kMaximumQos = 0x24;
inline constexpr std::uint8_t kRetainAvailable = 0x25;
inline constexpr std::uint8_t kUserProperty = 0x26;
inline constexpr std::uint8_t kMaximumPacketSize = 0x27;
inline constexpr std::uint8_t kWildcardSubscriptionAvailable = 0x28;
inline constexpr std::uint8_t kSubscriptionIdentifierAvailable = 0x29;
inline constexpr std::uint8_t kSharedSubscriptionAvailable = 0x2A;
}  // namespace property

struct Property {
  std::uint8_t id = 0;
  std::uint32_t number = 0;
  std::string_view text;
  std::string_view value;
  bool operator==(const Property&) const = default;
};

struct Properties {
  boost::container::small_vector<Property, 2> items;

  const Property* find(std::uint8_t id) const noexcept;
  std::optional<std::uint32_t> number(std::uint8_t id) const noexcept;
  std::optional<std::string_view> text(std::uint8_t id) const noexcept;
  void add_number(std::uint8_t id, std::uint32_t n) { items.push_back({id, n, {}, {}}); }
  void add_text(std::uint8_t id, std::string_view t) { items.push_back({id, 0, t, {}}); }
  bool empty() const noexcept { return items.empty(); }
  bool operator==(const Properties& o) const { return items == o.items; }
};

// --- Packets ------------------------------------------------------------------------------------

struct Will {
  std::uint8_t qos = 0;
  bool retain = false;
  Properties properties;
  std::string_view topic;
  std::string_view payload;
  bool operator==(const Will&) const = default;
};

struct Connect {
  Version version = Version::k311;
  bool clean_start = true;
  std::uint16_t keep_alive = 0;
  Properties properties;
  std::string_view client_id;
  std::optional<Will> will;
  std::optional<std::string_view> username;
  std::optional<std::string_view> password;
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  std::uint8_t code = 0;  // v3: the return code; v5: the reason code
  Properties properties;
  bool operator==(const Connack&) const = default;
};

struct Publish {
  std::uint8_t qos = 0;
  bool dup = false;
  bool retain = false;
  std::string_view topic;       // may be empty in MQTT 5 (a topic alias)
  std::uint16_t packet_id = 0;  // 0 for QoS 0
  Properties properties;
  std::string_view payload;
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP.
struct Ack {
  PacketType type = PacketType::kPuback;
  std::uint16_t packet_id = 0;
  std::uint8_t reason = reason::kSuccess;  // MQTT 5 only
  Properties properties;                   // MQTT 5 only
  bool operator==(const Ack&) const = default;
};

struct TopicFilter {
  std::string_view filter;
  std::uint8_t options = 0;  // v3: the requested QoS; v5: the Subscription Options byte
  bool operator==(const TopicFilter&) const = default;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  Properties properties;
  std::vector<TopicFilter> filters;
  bool operator==(const Subscribe&) const = default;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  Properties properties;
  std::vector<std::string_view> filters;
  bool operator==(const Unsubscribe&) const = default;
};

// SUBACK and UNSUBACK (v3's UNSUBACK has no codes).
struct SubAck {
  PacketType type = PacketType::kSuback;
  std::uint16_t packet_id = 0;
  Properties properties;
  std::vector<std::uint8_t> codes;
  bool operator==(const SubAck&) const = default;
};

// PINGREQ and PINGRESP.
struct Ping {
  PacketType type = PacketType::kPingreq;
  bool operator==(const Ping&) const = default;
};

// DISCONNECT and AUTH (v5: a reason code and properties; v3's DISCONNECT has neither).
struct Disconnect {
  PacketType type = PacketType::kDisconnect;
  std::uint8_t reason = reason::kSuccess;
  Properties properties;
  bool operator==(const Disconnect&) const = default;
};

using Packet =
    std::variant<Connect, Connack, Publish, Ack, Subscribe, Unsubscribe, SubAck, Ping, Disconnect>;
PacketType type_of(const Packet& packet) noexcept;

// --- Decoding -----------------------------------------------------------------------------------

// The fixed header of the next packet in `data`.
struct Frame {
  enum class Status { kIncomplete, kOk, kMalformed };
  Status status = Status::kIncomplete;
  std::uint8_t first_byte = 0;  // packet type << 4 | flags
  std::size_t header_size = 0;  // 1 + the Remaining Length's bytes
  std::uint32_t remaining = 0;  // the Remaining Length
  std::size_t size() const noexcept { return header_size + remaining; }
  PacketType type() const noexcept { return static_cast<PacketType>(first_byte >> 4); }
};
// Reads the fixed header at the start of `data`. Malformed: a Remaining Length over 4 bytes, or
// (MQTT 5) not in its shortest form.
Frame frame(std::string_view data, Version version) noexcept;

// Decodes one packet: `first_byte` from its Frame, `body` the Remaining Length's bytes after it.
// For CONNECT, the version comes from the packet itself. Returns the packet, or the Error.
using DecodeResult = std::variant<Packet, Error>;
DecodeResult decode(std::uint8_t first_byte, std::string_view body, Version version);

// The part of a PUBLISH that precedes its payload, from a prefix of its body (to acknowledge a
// message too large to hold: MQTT 3.1.1 cannot refuse one). nullopt when the prefix is too short
// or malformed.
struct PublishHeader {
  std::uint8_t qos = 0;
  std::uint16_t packet_id = 0;
  std::string_view topic;
};
std::optional<PublishHeader> decode_publish_header(std::uint8_t first_byte,
                                                   std::string_view body_prefix, Version version);

// Well-formed UTF-8 as MQTT wants it: no surrogates, no U+0000, shortest forms only.
bool valid_utf8(std::string_view text) noexcept;

// --- Encoding -----------------------------------------------------------------------------------

// Appends the packet's bytes. The caller keeps to the rules the decoder checks (the encoder
// writes what it is given); properties are written only for MQTT 5.
void encode(std::string& out, const Packet& packet, Version version);
// The common small ones, without building a Packet.
void encode_ack(std::string& out, PacketType type, std::uint16_t packet_id, Version version,
                std::uint8_t reason = reason::kSuccess);
void encode_pingreq(std::string& out);
void encode_disconnect(std::string& out, Version version, std::uint8_t reason = reason::kSuccess);

}  // namespace edgegw::plugins::mqtt::codec
