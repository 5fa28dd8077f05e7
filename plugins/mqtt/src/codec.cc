// SPDX-License-Identifier: Apache-2.0
#include "codec.h"

#include <array>
#include <cstring>
#include <utility>

namespace edgegw::plugins::mqtt::codec {
namespace {

// --- Properties: their types and the packets they may appear in (MQTT 5 §2.2.2.2) ---------------

enum class Kind : std::uint8_t { kNone, kByte, kTwo, kFour, kVarInt, kUtf8, kBinary, kPair };

// Where a property may appear: a bit per packet type, and bit 0 for a Will.
constexpr std::uint32_t bit(PacketType t) { return 1u << static_cast<unsigned>(t); }
constexpr std::uint32_t kWillBit = 1u;
constexpr std::uint32_t kAllPackets = 0xFFFEu | kWillBit;

struct PropertySpec {
  Kind kind = Kind::kNone;
  std::uint32_t where = 0;
  bool boolean = false;  // a Byte that must be 0 or 1
  bool nonzero = false;  // 0 is a Protocol Error
};

constexpr std::array<PropertySpec, 0x2B> make_specs() {
  using P = PacketType;
  std::array<PropertySpec, 0x2B> s{};
  const std::uint32_t acks = bit(P::kPuback) | bit(P::kPubrec) | bit(P::kPubrel) |
                             bit(P::kPubcomp) | bit(P::kSuback) | bit(P::kUnsuback);
  s[property::kPayloadFormatIndicator] = {Kind::kByte, bit(P::kPublish) | kWillBit, true, false};
  s[property::kMessageExpiryInterval] = {Kind::kFour, bit(P::kPublish) | kWillBit};
  s[property::kContentType] = {Kind::kUtf8, bit(P::kPublish) | kWillBit};
  s[property::kResponseTopic] = {Kind::kUtf8, bit(P::kPublish) | kWillBit};
  s[property::kCorrelationData] = {Kind::kBinary, bit(P::kPublish) | kWillBit};
  s[property::kSubscriptionIdentifier] = {Kind::kVarInt, bit(P::kPublish) | bit(P::kSubscribe),
                                          false, true};
  s[property::kSessionExpiryInterval] = {Kind::kFour,
                                         bit(P::kConnect) | bit(P::kConnack) | bit(P::kDisconnect)};
  s[property::kAssignedClientIdentifier] = {Kind::kUtf8, bit(P::kConnack)};
  s[property::kServerKeepAlive] = {Kind::kTwo, bit(P::kConnack)};
  s[property::kAuthenticationMethod] = {Kind::kUtf8,
                                        bit(P::kConnect) | bit(P::kConnack) | bit(P::kAuth)};
  s[property::kAuthenticationData] = {Kind::kBinary,
                                      bit(P::kConnect) | bit(P::kConnack) | bit(P::kAuth)};
  s[property::kRequestProblemInformation] = {Kind::kByte, bit(P::kConnect), true, false};
  s[property::kWillDelayInterval] = {Kind::kFour, kWillBit};
  s[property::kRequestResponseInformation] = {Kind::kByte, bit(P::kConnect), true, false};
  s[property::kResponseInformation] = {Kind::kUtf8, bit(P::kConnack)};
  s[property::kServerReference] = {Kind::kUtf8, bit(P::kConnack) | bit(P::kDisconnect)};
  s[property::kReasonString] = {Kind::kUtf8,
                                bit(P::kConnack) | acks | bit(P::kDisconnect) | bit(P::kAuth)};
  s[property::kReceiveMaximum] = {Kind::kTwo, bit(P::kConnect) | bit(P::kConnack), false, true};
  s[property::kTopicAliasMaximum] = {Kind::kTwo, bit(P::kConnect) | bit(P::kConnack)};
  s[property::kTopicAlias] = {Kind::kTwo, bit(P::kPublish)};
  s[property::kMaximumQos] = {Kind::kByte, bit(P::kConnack), true, false};
  s[property::kRetainAvailable] = {Kind::kByte, bit(P::kConnack), true, false};
  s[property::kUserProperty] = {Kind::kPair, kAllPackets};
  s[property::kMaximumPacketSize] = {Kind::kFour, bit(P::kConnect) | bit(P::kConnack), false, true};
  s[property::kWildcardSubscriptionAvailable] = {Kind::kByte, bit(P::kConnack), true, false};
  s[property::kSubscriptionIdentifierAvailable] = {Kind::kByte, bit(P::kConnack), true, false};
  s[property::kSharedSubscriptionAvailable] = {Kind::kByte, bit(P::kConnack), true, false};
  return s;
}
constexpr std::array<PropertySpec, 0x2B> kSpecs = make_specs();

const PropertySpec* spec_of(std::uint8_t id) {
  if (id >= kSpecs.size() || kSpecs[id].kind == Kind::kNone) return nullptr;
  return &kSpecs[id];
}

// --- Reading ------------------------------------------------------------------------------------

class Reader {
 public:
  Reader(std::string_view data, const char* packet) : data_(data), packet_(packet) {}

  bool failed() const { return error_.has_value(); }
  Error take_error() { return std::move(*error_); }
  bool at_end() const { return pos_ == data_.size(); }
  std::size_t left() const { return data_.size() - pos_; }
  std::string_view rest() {
    std::string_view r = data_.substr(pos_);
    pos_ = data_.size();
    return r;
  }

  bool fail(std::uint8_t reason, std::string what) {
    if (!error_) error_ = Error{reason, std::string(packet_) + ": " + std::move(what)};
    return false;
  }
  bool malformed(std::string what) { return fail(reason::kMalformedPacket, std::move(what)); }
  bool protocol(std::string what) { return fail(reason::kProtocolError, std::move(what)); }

  bool u8(std::uint8_t& v, const char* what) {
    if (left() < 1) return malformed(std::string("ends before its ") + what);
    v = static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }
  bool u16(std::uint16_t& v, const char* what) {
    if (left() < 2) return malformed(std::string("ends before its ") + what);
    v = static_cast<std::uint16_t>(static_cast<std::uint8_t>(data_[pos_]) << 8 |
                                   static_cast<std::uint8_t>(data_[pos_ + 1]));
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v, const char* what) {
    if (left() < 4) return malformed(std::string("ends before its ") + what);
    v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }
  bool varint(std::uint32_t& v, const char* what, bool minimal) {
    v = 0;
    for (int i = 0; i < 4; ++i) {
      if (left() < 1) return malformed(std::string("ends inside its ") + what);
      const auto b = static_cast<std::uint8_t>(data_[pos_++]);
      v |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        if (minimal && i > 0 && b == 0) {
          return malformed(std::string(what) + " is not in its shortest form");
        }
        return true;
      }
    }
    return malformed(std::string(what) + " is longer than 4 bytes");
  }
  bool binary(std::string_view& v, const char* what) {
    std::uint16_t n = 0;
    if (!u16(n, what)) return false;
    if (left() < n) return malformed(std::string(what) + " runs past the packet's end");
    v = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool utf8(std::string_view& v, const char* what) {
    if (!binary(v, what)) return false;
    if (!valid_utf8(v)) return malformed(std::string(what) + " is not well-formed UTF-8");
    return true;
  }

  // The Properties of a packet (or Will) whose bit is `where` (MQTT 5).
  bool properties(Properties& out, std::uint32_t where) {
    std::uint32_t length = 0;
    if (!varint(length, "property length", true)) return false;
    if (length > left()) return malformed("its properties run past the packet's end");
    const std::size_t end = pos_ + length;
    std::uint64_t seen_ids = 0;  // a bit per property id (all below 64)
    while (pos_ < end) {
      std::uint32_t id32 = 0;
      if (!varint(id32, "property identifier", true)) return false;
      const PropertySpec* s = id32 < 0x100 ? spec_of(static_cast<std::uint8_t>(id32)) : nullptr;
      if (s == nullptr) return malformed("unknown property 0x" + hex(id32));
      const auto id = static_cast<std::uint8_t>(id32);
      if ((s->where & where) == 0)
        return protocol("property 0x" + hex(id) + " is not allowed here");
      const bool repeatable =
          id == property::kUserProperty ||
          (id == property::kSubscriptionIdentifier && where == bit(PacketType::kPublish));
      if (!repeatable && (seen_ids >> id & 1u) != 0) {
        return protocol("property 0x" + hex(id) + " appears twice");
      }
      seen_ids |= std::uint64_t{1} << id;
      Property p;
      p.id = id;
      switch (s->kind) {
        case Kind::kByte: {
          std::uint8_t b = 0;
          if (!u8(b, "property value")) return false;
          p.number = b;
          break;
        }
        case Kind::kTwo: {
          std::uint16_t n = 0;
          if (!u16(n, "property value")) return false;
          p.number = n;
          break;
        }
        case Kind::kFour:
          if (!u32(p.number, "property value")) return false;
          break;
        case Kind::kVarInt:
          if (!varint(p.number, "property value", true)) return false;
          break;
        case Kind::kUtf8:
          if (!utf8(p.text, "property string")) return false;
          break;
        case Kind::kBinary:
          if (!binary(p.text, "property data")) return false;
          break;
        case Kind::kPair:
          if (!utf8(p.text, "user property name") || !utf8(p.value, "user property value")) {
            return false;
          }
          break;
        case Kind::kNone:
          return malformed("unknown property");
      }
      if (pos_ > end) return malformed("a property runs past the property length");
      if (s->boolean && p.number > 1) {
        return protocol("property 0x" + hex(id) + " must be 0 or 1");
      }
      if (s->nonzero && p.number == 0) return protocol("property 0x" + hex(id) + " must not be 0");
      out.items.push_back(p);
    }
    return true;
  }

  static std::string hex(std::uint32_t v) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string s;
    do {
      s.insert(s.begin(), kDigits[v & 0xF]);
      v >>= 4;
    } while (v != 0);
    if (s.size() < 2) s.insert(s.begin(), '0');
    return s;
  }

 private:
  std::string_view data_;
  const char* packet_;
  std::size_t pos_ = 0;
  std::optional<Error> error_;
};

DecodeResult fail(Reader& r) { return r.take_error(); }
DecodeResult error(std::uint8_t reason, std::string text) { return Error{reason, std::move(text)}; }

bool has_wildcard(std::string_view topic) {
  return topic.find_first_of("+#") != std::string_view::npos;
}

DecodeResult decode_connect(std::uint8_t flags, std::string_view body) {
  Reader r(body, "CONNECT");
  Connect c;
  std::string_view name;
  std::uint8_t level = 0;
  std::uint8_t cf = 0;
  if (flags != 0) return error(reason::kMalformedPacket, "CONNECT: reserved flags are set");
  if (!r.utf8(name, "protocol name") || !r.u8(level, "protocol level")) return fail(r);
  if (name != "MQTT" || (level != 4 && level != 5)) {
    return error(reason::kProtocolError, "CONNECT: protocol '" + std::string(name) + "' level " +
                                             std::to_string(level) + " is not MQTT 3.1.1 or 5");
  }
  c.version = static_cast<Version>(level);
  const bool v5 = c.version == Version::k5;
  if (!r.u8(cf, "connect flags") || !r.u16(c.keep_alive, "keep alive")) return fail(r);
  if ((cf & 0x01) != 0) return error(reason::kMalformedPacket, "CONNECT: reserved flag is set");
  c.clean_start = (cf & 0x02) != 0;
  const bool will = (cf & 0x04) != 0;
  const auto will_qos = static_cast<std::uint8_t>(cf >> 3 & 0x03);
  const bool will_retain = (cf & 0x20) != 0;
  const bool password = (cf & 0x40) != 0;
  const bool username = (cf & 0x80) != 0;
  if (will_qos == 3) return error(reason::kMalformedPacket, "CONNECT: will QoS 3");
  if (!will && (will_qos != 0 || will_retain)) {
    return error(reason::kMalformedPacket, "CONNECT: will QoS or retain without a will");
  }
  if (!v5 && password && !username) {
    return error(reason::kProtocolError, "CONNECT: a password without a user name");
  }
  if (v5 && !r.properties(c.properties, bit(PacketType::kConnect))) return fail(r);
  if (!r.utf8(c.client_id, "client identifier")) return fail(r);
  if (will) {
    Will w;
    w.qos = will_qos;
    w.retain = will_retain;
    if (v5 && !r.properties(w.properties, kWillBit)) return fail(r);
    if (!r.utf8(w.topic, "will topic") || !r.binary(w.payload, "will payload")) return fail(r);
    c.will = w;
  }
  if (username) {
    std::string_view u;
    if (!r.utf8(u, "user name")) return fail(r);
    c.username = u;
  }
  if (password) {
    std::string_view p;
    if (!r.binary(p, "password")) return fail(r);
    c.password = p;
  }
  if (!r.at_end()) return error(reason::kMalformedPacket, "CONNECT: bytes after its payload");
  return Packet(c);
}

DecodeResult decode_connack(std::string_view body, Version v) {
  Reader r(body, "CONNACK");
  Connack c;
  std::uint8_t flags = 0;
  if (!r.u8(flags, "acknowledge flags") || !r.u8(c.code, "return code")) return fail(r);
  if ((flags & 0xFE) != 0) return error(reason::kMalformedPacket, "CONNACK: reserved flags set");
  c.session_present = (flags & 0x01) != 0;
  if (c.session_present && c.code != 0) {
    return error(reason::kProtocolError, "CONNACK: a refusal with session present");
  }
  if (v == Version::k5) {
    if (!r.properties(c.properties, bit(PacketType::kConnack))) return fail(r);
  } else if (c.code > 5) {
    return error(reason::kMalformedPacket, "CONNACK: return code " + std::to_string(c.code));
  }
  if (!r.at_end()) return error(reason::kMalformedPacket, "CONNACK: bytes after its end");
  return Packet(c);
}

DecodeResult decode_publish(std::uint8_t flags, std::string_view body, Version v) {
  Reader r(body, "PUBLISH");
  Publish p;
  p.dup = (flags & 0x08) != 0;
  p.qos = static_cast<std::uint8_t>(flags >> 1 & 0x03);
  p.retain = (flags & 0x01) != 0;
  if (p.qos == 3) return error(reason::kMalformedPacket, "PUBLISH: QoS 3");
  if (p.qos == 0 && p.dup) return error(reason::kMalformedPacket, "PUBLISH: DUP set at QoS 0");
  if (!r.utf8(p.topic, "topic name")) return fail(r);
  if (has_wildcard(p.topic)) {
    return error(reason::kProtocolError,
                 "PUBLISH: a wildcard in topic '" + std::string(p.topic) + "'");
  }
  if (p.topic.empty() && v != Version::k5) {
    return error(reason::kMalformedPacket, "PUBLISH: an empty topic name");
  }
  if (p.qos > 0) {
    if (!r.u16(p.packet_id, "packet identifier")) return fail(r);
    if (p.packet_id == 0) return error(reason::kProtocolError, "PUBLISH: packet identifier 0");
  }
  if (v == Version::k5 && !r.properties(p.properties, bit(PacketType::kPublish))) return fail(r);
  p.payload = r.rest();
  return Packet(p);
}

DecodeResult decode_ack(PacketType type, std::string_view body, Version v) {
  const char* name = packet_name(type);
  Reader r(body, name);
  Ack a;
  a.type = type;
  if (!r.u16(a.packet_id, "packet identifier")) return fail(r);
  if (a.packet_id == 0) return error(reason::kProtocolError, std::string(name) + ": packet id 0");
  if (v == Version::k5) {
    if (!r.at_end() && !r.u8(a.reason, "reason code")) return fail(r);
    if (!r.at_end() && !r.properties(a.properties, bit(type))) return fail(r);
    if ((type == PacketType::kPubrel || type == PacketType::kPubcomp) &&
        a.reason != reason::kSuccess && a.reason != reason::kPacketIdNotFound) {
      return error(reason::kProtocolError,
                   std::string(name) + ": reason code 0x" + Reader::hex(a.reason));
    }
  }
  if (!r.at_end())
    return error(reason::kMalformedPacket, std::string(name) + ": bytes after its end");
  return Packet(a);
}

DecodeResult decode_subscribe(std::string_view body, Version v) {
  Reader r(body, "SUBSCRIBE");
  Subscribe s;
  if (!r.u16(s.packet_id, "packet identifier")) return fail(r);
  if (s.packet_id == 0) return error(reason::kProtocolError, "SUBSCRIBE: packet identifier 0");
  if (v == Version::k5 && !r.properties(s.properties, bit(PacketType::kSubscribe))) return fail(r);
  while (!r.at_end()) {
    TopicFilter f;
    if (!r.utf8(f.filter, "topic filter") || !r.u8(f.options, "subscription options")) {
      return fail(r);
    }
    if (f.filter.empty()) return error(reason::kProtocolError, "SUBSCRIBE: an empty filter");
    const std::uint8_t reserved = v == Version::k5 ? 0xC0 : 0xFC;
    if ((f.options & reserved) != 0 || (f.options & 0x03) == 3 ||
        (v == Version::k5 && (f.options >> 4 & 0x03) == 3)) {
      return error(reason::kMalformedPacket, "SUBSCRIBE: bad subscription options");
    }
    s.filters.push_back(f);
  }
  if (s.filters.empty()) return error(reason::kProtocolError, "SUBSCRIBE: no topic filter");
  return Packet(s);
}

DecodeResult decode_unsubscribe(std::string_view body, Version v) {
  Reader r(body, "UNSUBSCRIBE");
  Unsubscribe u;
  if (!r.u16(u.packet_id, "packet identifier")) return fail(r);
  if (u.packet_id == 0) return error(reason::kProtocolError, "UNSUBSCRIBE: packet identifier 0");
  if (v == Version::k5 && !r.properties(u.properties, bit(PacketType::kUnsubscribe))) {
    return fail(r);
  }
  while (!r.at_end()) {
    std::string_view f;
    if (!r.utf8(f, "topic filter")) return fail(r);
    u.filters.push_back(f);
  }
  if (u.filters.empty()) return error(reason::kProtocolError, "UNSUBSCRIBE: no topic filter");
  return Packet(u);
}

bool valid_suback_code(std::uint8_t c, Version v) {
  if (c <= 2 || c == 0x80) return true;
  if (v != Version::k5) return false;
  switch (c) {
    case 0x83:
    case 0x87:
    case 0x8F:
    case 0x91:
    case 0x97:
    case 0x9E:
    case 0xA1:
    case 0xA2:
      return true;
    default:
      return false;
  }
}

DecodeResult decode_suback(PacketType type, std::string_view body, Version v) {
  const char* name = packet_name(type);
  Reader r(body, name);
  SubAck s;
  s.type = type;
  if (!r.u16(s.packet_id, "packet identifier")) return fail(r);
  if (v == Version::k5 && !r.properties(s.properties, bit(type))) return fail(r);
  if (type == PacketType::kUnsuback && v != Version::k5) {
    if (!r.at_end()) return error(reason::kMalformedPacket, "UNSUBACK: bytes after its end");
    return Packet(s);
  }
  while (!r.at_end()) {
    std::uint8_t c = 0;
    (void)r.u8(c, "reason code");
    if (type == PacketType::kSuback && !valid_suback_code(c, v)) {
      return error(reason::kProtocolError, "SUBACK: return code 0x" + Reader::hex(c));
    }
    s.codes.push_back(c);
  }
  if (s.codes.empty()) return error(reason::kProtocolError, std::string(name) + ": no codes");
  return Packet(s);
}

DecodeResult decode_disconnect(PacketType type, std::string_view body, Version v) {
  const char* name = packet_name(type);
  Reader r(body, name);
  Disconnect d;
  d.type = type;
  if (v != Version::k5) {
    if (type == PacketType::kAuth)
      return error(reason::kMalformedPacket, "packet type 15 in MQTT 3.1.1");
    if (!r.at_end()) return error(reason::kMalformedPacket, "DISCONNECT: bytes in its body");
    return Packet(d);
  }
  if (!r.at_end() && !r.u8(d.reason, "reason code")) return fail(r);
  if (!r.at_end() && !r.properties(d.properties, bit(type))) return fail(r);
  if (!r.at_end())
    return error(reason::kMalformedPacket, std::string(name) + ": bytes after its end");
  return Packet(d);
}

// --- Writing ------------------------------------------------------------------------------------

void put_u8(std::string& out, std::uint32_t v) { out.push_back(static_cast<char>(v & 0xFF)); }
void put_u16(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 8 & 0xFF));
  out.push_back(static_cast<char>(v & 0xFF));
}
void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift & 0xFF));
}
void put_varint(std::string& out, std::uint32_t v) {
  do {
    auto b = static_cast<std::uint8_t>(v & 0x7F);
    v >>= 7;
    if (v != 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v != 0);
}
void put_binary(std::string& out, std::string_view s) {
  put_u16(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void put_properties(std::string& out, const Properties& props) {
  std::string body;
  for (const Property& p : props.items) {
    const PropertySpec* s = spec_of(p.id);
    if (s == nullptr) continue;
    put_varint(body, p.id);
    switch (s->kind) {
      case Kind::kByte:
        put_u8(body, p.number);
        break;
      case Kind::kTwo:
        put_u16(body, p.number);
        break;
      case Kind::kFour:
        put_u32(body, p.number);
        break;
      case Kind::kVarInt:
        put_varint(body, p.number);
        break;
      case Kind::kUtf8:
      case Kind::kBinary:
        put_binary(body, p.text);
        break;
      case Kind::kPair:
        put_binary(body, p.text);
        put_binary(body, p.value);
        break;
      case Kind::kNone:
        break;
    }
  }
  put_varint(out, static_cast<std::uint32_t>(body.size()));
  out += body;
}

// The fixed header and `body`.
void put_packet(std::string& out, std::uint8_t first_byte, std::string_view body) {
  out.push_back(static_cast<char>(first_byte));
  put_varint(out, static_cast<std::uint32_t>(body.size()));
  out.append(body);
}

std::uint8_t first(PacketType t, std::uint8_t flags = 0) {
  return static_cast<std::uint8_t>(static_cast<unsigned>(t) << 4 | flags);
}

struct Encoder {
  std::string& out;
  Version v;
  bool v5() const { return v == Version::k5; }

  void operator()(const Connect& c) const {
    std::string b;
    put_binary(b, "MQTT");
    put_u8(b, static_cast<std::uint8_t>(c.version));
    std::uint8_t flags = c.clean_start ? 0x02 : 0;
    if (c.will)
      flags |= static_cast<std::uint8_t>(0x04 | c.will->qos << 3 | (c.will->retain ? 0x20 : 0));
    if (c.password) flags |= 0x40;
    if (c.username) flags |= 0x80;
    put_u8(b, flags);
    put_u16(b, c.keep_alive);
    const bool props = c.version == Version::k5;
    if (props) put_properties(b, c.properties);
    put_binary(b, c.client_id);
    if (c.will) {
      if (props) put_properties(b, c.will->properties);
      put_binary(b, c.will->topic);
      put_binary(b, c.will->payload);
    }
    if (c.username) put_binary(b, *c.username);
    if (c.password) put_binary(b, *c.password);
    put_packet(out, first(PacketType::kConnect), b);
  }
  void operator()(const Connack& c) const {
    std::string b;
    put_u8(b, c.session_present ? 1 : 0);
    put_u8(b, c.code);
    if (v5()) put_properties(b, c.properties);
    put_packet(out, first(PacketType::kConnack), b);
  }
  void operator()(const Publish& p) const {
    std::string b;
    put_binary(b, p.topic);
    if (p.qos > 0) put_u16(b, p.packet_id);
    if (v5()) put_properties(b, p.properties);
    b.append(p.payload);
    const auto flags =
        static_cast<std::uint8_t>((p.dup ? 0x08 : 0) | p.qos << 1 | (p.retain ? 0x01 : 0));
    put_packet(out, first(PacketType::kPublish, flags), b);
  }
  void operator()(const Ack& a) const {
    if (!v5() || (a.reason == reason::kSuccess && a.properties.empty())) {
      encode_ack(out, a.type, a.packet_id, v, a.reason);
      return;
    }
    std::string b;
    put_u16(b, a.packet_id);
    put_u8(b, a.reason);
    if (!a.properties.empty()) put_properties(b, a.properties);
    put_packet(out, first(a.type, a.type == PacketType::kPubrel ? 0x02 : 0), b);
  }
  void operator()(const Subscribe& s) const {
    std::string b;
    put_u16(b, s.packet_id);
    if (v5()) put_properties(b, s.properties);
    for (const TopicFilter& f : s.filters) {
      put_binary(b, f.filter);
      put_u8(b, f.options);
    }
    put_packet(out, first(PacketType::kSubscribe, 0x02), b);
  }
  void operator()(const Unsubscribe& u) const {
    std::string b;
    put_u16(b, u.packet_id);
    if (v5()) put_properties(b, u.properties);
    for (std::string_view f : u.filters) put_binary(b, f);
    put_packet(out, first(PacketType::kUnsubscribe, 0x02), b);
  }
  void operator()(const SubAck& s) const {
    std::string b;
    put_u16(b, s.packet_id);
    if (v5()) put_properties(b, s.properties);
    for (std::uint8_t c : s.codes) put_u8(b, c);
    put_packet(out, first(s.type), b);
  }
  void operator()(const Ping& p) const { put_packet(out, first(p.type), {}); }
  void operator()(const Disconnect& d) const {
    std::string b;
    if (v5() && (d.reason != reason::kSuccess || !d.properties.empty())) {
      put_u8(b, d.reason);
      if (!d.properties.empty()) put_properties(b, d.properties);
    }
    put_packet(out, first(d.type), b);
  }
};

}  // namespace

const char* packet_name(PacketType type) noexcept {
  switch (type) {
    case PacketType::kConnect:
      return "CONNECT";
    case PacketType::kConnack:
      return "CONNACK";
    case PacketType::kPublish:
      return "PUBLISH";
    case PacketType::kPuback:
      return "PUBACK";
    case PacketType::kPubrec:
      return "PUBREC";
    case PacketType::kPubrel:
      return "PUBREL";
    case PacketType::kPubcomp:
      return "PUBCOMP";
    case PacketType::kSubscribe:
      return "SUBSCRIBE";
    case PacketType::kSuback:
      return "SUBACK";
    case PacketType::kUnsubscribe:
      return "UNSUBSCRIBE";
    case PacketType::kUnsuback:
      return "UNSUBACK";
    case PacketType::kPingreq:
      return "PINGREQ";
    case PacketType::kPingresp:
      return "PINGRESP";
    case PacketType::kDisconnect:
      return "DISCONNECT";
    case PacketType::kAuth:
      return "AUTH";
  }
  return "packet type 0";
}

const char* reason_text(std::uint8_t code) noexcept {
  switch (code) {
    case 0x00:
      return "Success";
    case 0x01:
      return "Granted QoS 1";
    case 0x02:
      return "Granted QoS 2";
    case 0x04:
      return "Disconnect with Will Message";
    case 0x10:
      return "No matching subscribers";
    case 0x11:
      return "No subscription existed";
    case 0x18:
      return "Continue authentication";
    case 0x19:
      return "Re-authenticate";
    case 0x80:
      return "Unspecified error";
    case 0x81:
      return "Malformed Packet";
    case 0x82:
      return "Protocol Error";
    case 0x83:
      return "Implementation specific error";
    case 0x84:
      return "Unsupported Protocol Version";
    case 0x85:
      return "Client Identifier not valid";
    case 0x86:
      return "Bad User Name or Password";
    case 0x87:
      return "Not authorized";
    case 0x88:
      return "Server unavailable";
    case 0x89:
      return "Server busy";
    case 0x8A:
      return "Banned";
    case 0x8B:
      return "Server shutting down";
    case 0x8C:
      return "Bad authentication method";
    case 0x8D:
      return "Keep Alive timeout";
    case 0x8E:
      return "Session taken over";
    case 0x8F:
      return "Topic Filter invalid";
    case 0x90:
      return "Topic Name invalid";
    case 0x91:
      return "Packet Identifier in use";
    case 0x92:
      return "Packet Identifier not found";
    case 0x93:
      return "Receive Maximum exceeded";
    case 0x94:
      return "Topic Alias invalid";
    case 0x95:
      return "Packet too large";
    case 0x96:
      return "Message rate too high";
    case 0x97:
      return "Quota exceeded";
    case 0x98:
      return "Administrative action";
    case 0x99:
      return "Payload format invalid";
    case 0x9A:
      return "Retain not supported";
    case 0x9B:
      return "QoS not supported";
    case 0x9C:
      return "Use another server";
    case 0x9D:
      return "Server moved";
    case 0x9E:
      return "Shared Subscriptions not supported";
    case 0x9F:
      return "Connection rate exceeded";
    case 0xA0:
      return "Maximum connect time";
    case 0xA1:
      return "Subscription Identifiers not supported";
    case 0xA2:
      return "Wildcard Subscriptions not supported";
    default:
      return nullptr;
  }
}

const char* connack_v3_text(std::uint8_t code) noexcept {
  switch (code) {
    case 1:
      return "the broker refused the protocol version";
    case 2:
      return "the broker refused the client id";
    case 3:
      return "the broker is unavailable";
    case 4:
      return "bad user name or password";
    case 5:
      return "not authorised (check username and password, and the broker's access rules)";
    default:
      return nullptr;
  }
}

const Property* Properties::find(std::uint8_t id) const noexcept {
  for (const Property& p : items) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

std::optional<std::uint32_t> Properties::number(std::uint8_t id) const noexcept {
  const Property* p = find(id);
  if (p == nullptr) return std::nullopt;
  return p->number;
}

std::optional<std::string_view> Properties::text(std::uint8_t id) const noexcept {
  const Property* p = find(id);
  if (p == nullptr) return std::nullopt;
  return p->text;
}

PacketType type_of(const Packet& packet) noexcept {
  struct {
    PacketType operator()(const Connect&) const { return PacketType::kConnect; }
    PacketType operator()(const Connack&) const { return PacketType::kConnack; }
    PacketType operator()(const Publish&) const { return PacketType::kPublish; }
    PacketType operator()(const Ack& a) const { return a.type; }
    PacketType operator()(const Subscribe&) const { return PacketType::kSubscribe; }
    PacketType operator()(const Unsubscribe&) const { return PacketType::kUnsubscribe; }
    PacketType operator()(const SubAck& s) const { return s.type; }
    PacketType operator()(const Ping& p) const { return p.type; }
    PacketType operator()(const Disconnect& d) const { return d.type; }
  } visitor;
  return std::visit(visitor, packet);
}

Frame frame(std::string_view data, Version version) noexcept {
  Frame f;
  if (data.empty()) return f;
  f.first_byte = static_cast<std::uint8_t>(data[0]);
  std::uint32_t length = 0;
  for (std::size_t i = 1; i <= 4; ++i) {
    if (i >= data.size()) return f;  // incomplete
    const auto b = static_cast<std::uint8_t>(data[i]);
    length |= static_cast<std::uint32_t>(b & 0x7F) << (7 * (i - 1));
    if ((b & 0x80) == 0) {
      if (version == Version::k5 && i > 1 && b == 0) {
        f.status = Frame::Status::kMalformed;
        return f;
      }
      f.header_size = i + 1;
      f.remaining = length;
      f.status = Frame::Status::kOk;
      return f;
    }
  }
  f.status = Frame::Status::kMalformed;
  return f;
}

DecodeResult decode(std::uint8_t first_byte, std::string_view body, Version version) {
  const auto type = static_cast<PacketType>(first_byte >> 4);
  const auto flags = static_cast<std::uint8_t>(first_byte & 0x0F);
  const std::uint8_t expected_flags = type == PacketType::kPubrel ||
                                              type == PacketType::kSubscribe ||
                                              type == PacketType::kUnsubscribe
                                          ? 0x02
                                          : 0x00;
  if (type != PacketType::kPublish && type != PacketType::kConnect && flags != expected_flags) {
    return error(reason::kMalformedPacket,
                 std::string(packet_name(type)) + ": reserved flags 0x" + Reader::hex(flags));
  }
  switch (type) {
    case PacketType::kConnect:
      return decode_connect(flags, body);
    case PacketType::kConnack:
      return decode_connack(body, version);
    case PacketType::kPublish:
      return decode_publish(flags, body, version);
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp:
      return decode_ack(type, body, version);
    case PacketType::kSubscribe:
      return decode_subscribe(body, version);
    case PacketType::kUnsubscribe:
      return decode_unsubscribe(body, version);
    case PacketType::kSuback:
    case PacketType::kUnsuback:
      return decode_suback(type, body, version);
    case PacketType::kPingreq:
    case PacketType::kPingresp:
      if (!body.empty()) {
        return error(reason::kMalformedPacket, std::string(packet_name(type)) + ": a body");
      }
      return Packet(Ping{type});
    case PacketType::kDisconnect:
    case PacketType::kAuth:
      return decode_disconnect(type, body, version);
  }
  return error(reason::kMalformedPacket, "packet type 0");
}

std::optional<PublishHeader> decode_publish_header(std::uint8_t first_byte,
                                                   std::string_view body_prefix, Version version) {
  (void)version;
  if ((first_byte >> 4) != static_cast<unsigned>(PacketType::kPublish)) return std::nullopt;
  Reader r(body_prefix, "PUBLISH");
  PublishHeader h;
  h.qos = static_cast<std::uint8_t>(first_byte >> 1 & 0x03);
  if (h.qos == 3) return std::nullopt;
  if (!r.utf8(h.topic, "topic name")) return std::nullopt;
  if (h.qos > 0 && (!r.u16(h.packet_id, "packet identifier") || h.packet_id == 0)) {
    return std::nullopt;
  }
  return h;
}

bool valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      if (c == 0) return false;
      ++p;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) <= n) return false;
    for (std::size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = cp << 6 | (p[i] & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

void encode(std::string& out, const Packet& packet, Version version) {
  std::visit(Encoder{out, version}, packet);
}

void encode_ack(std::string& out, PacketType type, std::uint16_t packet_id, Version version,
                std::uint8_t reason) {
  const bool with_reason = version == Version::k5 && reason != reason::kSuccess;
  out.push_back(static_cast<char>(first(type, type == PacketType::kPubrel ? 0x02 : 0)));
  out.push_back(static_cast<char>(with_reason ? 3 : 2));
  out.push_back(static_cast<char>(packet_id >> 8));
  out.push_back(static_cast<char>(packet_id & 0xFF));
  if (with_reason) out.push_back(static_cast<char>(reason));
}

void encode_pingreq(std::string& out) {
  out.push_back(static_cast<char>(0xC0));
  out.push_back(0);
}

void encode_disconnect(std::string& out, Version version, std::uint8_t reason) {
  out.push_back(static_cast<char>(0xE0));
  if (version == Version::k5 && reason != reason::kSuccess) {
    out.push_back(1);
    out.push_back(static_cast<char>(reason));
  } else {
    out.push_back(0);
  }
}

}  // namespace edgegw::plugins::mqtt::codec
