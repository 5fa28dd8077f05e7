// SPDX-License-Identifier: Apache-2.0
#include "session.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <variant>

namespace edgegw::plugins::mqtt {
namespace {

using codec::PacketType;
using codec::Version;
namespace reason = codec::reason;
namespace property = codec::property;

std::string reason_name(std::uint8_t code) {
  const char* text = codec::reason_text(code);
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", code);
  return text != nullptr ? std::string(text) + " (" + hex + ")" : std::string("reason ") + hex;
}

// " (the broker says: ...)" from an MQTT 5 Reason String, or "".
std::string broker_says(const codec::Properties& props) {
  const auto text = props.text(property::kReasonString);
  if (!text || text->empty()) return {};
  return " (the broker says: " + std::string(*text) + ")";
}

}  // namespace

void Inbound::clear() {
  consumed = 0;
  deliveries.clear();
  qos2.clear();
  acks.clear();
  send_now.clear();
  notes.clear();
  subscribed = false;
  closing.reset();
  send_after_acks.clear();
  owned.clear();
}

Session::Session(SessionConfig config) : config_(std::move(config)) {}

std::string Session::connect(const Qos2Ids& stored_qos2, Clock::time_point now) {
  phase_ = Phase::kConnecting;
  qos2_ = stored_qos2;
  qos2_count_ = qos2_.count();
  qos1_in_flight_ = 0;
  aliases_.assign(config_.version == Version::k5 ? config_.topic_alias_maximum + 1u : 0u, {});
  skip_left_ = 0;
  warned_qos_ = false;
  warned_receive_maximum_ = false;
  keep_alive_ = config_.keep_alive;
  connect_sent_ = now;
  last_sent_ = now;
  ping_sent_.reset();

  codec::Connect c;
  c.version = config_.version;
  c.clean_start = config_.clean_start;
  c.keep_alive = static_cast<std::uint16_t>(config_.keep_alive.count());
  c.client_id = config_.client_id;
  if (!config_.username.empty()) c.username = config_.username;
  if (!config_.password.empty()) c.password = config_.password;
  if (config_.version == Version::k5) {
    // A persistent session must say how long it lives: without an expiry, MQTT 5 ends it at the
    // disconnect (§3.1.2.11.2).
    if (!config_.clean_start) {
      c.properties.add_number(property::kSessionExpiryInterval,
                              config_.session_expiry.value_or(0xFFFFFFFFu));
    }
    c.properties.add_number(property::kReceiveMaximum, config_.receive_maximum);
    c.properties.add_number(property::kMaximumPacketSize, config_.max_packet_size);
    if (config_.topic_alias_maximum > 0) {
      c.properties.add_number(property::kTopicAliasMaximum, config_.topic_alias_maximum);
    }
  }
  std::string out;
  codec::encode(out, c, config_.version);
  return out;
}

void Session::receive(std::string_view data, Clock::time_point now, Inbound& in) {
  in.clear();
  (void)now;
  while (!in.closing && in.consumed < data.size()) {
    std::string_view rest = data.substr(in.consumed);
    if (skip_left_ > 0) {
      const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(skip_left_, rest.size()));
      skip_left_ -= n;
      in.consumed += n;
      continue;
    }
    const codec::Frame f = codec::frame(rest, config_.version);
    if (f.status == codec::Frame::Status::kIncomplete) break;
    if (f.status == codec::Frame::Status::kMalformed) {
      close(in, reason::kMalformedPacket, "a malformed packet length from the broker");
      break;
    }
    if (f.size() > config_.max_packet_size) {
      if (!skip_oversized(rest, f, in)) break;
      continue;
    }
    if (rest.size() < f.size()) break;  // the rest of it has not arrived yet
    const std::string_view body = rest.substr(f.header_size, f.remaining);
    auto decoded = codec::decode(f.first_byte, body, config_.version);
    in.consumed += f.size();
    if (auto* e = std::get_if<codec::Error>(&decoded)) {
      close(in, e->reason, "the broker sent a bad packet: " + e->text);
      break;
    }
    const codec::Packet& packet = std::get<codec::Packet>(decoded);
    const PacketType type = codec::type_of(packet);
    if (phase_ == Phase::kConnecting && type != PacketType::kConnack) {
      close(in, reason::kProtocolError,
            std::string("the broker sent ") + codec::packet_name(type) + " before its CONNACK");
      break;
    }
    switch (type) {
      case PacketType::kConnack:
        on_connack(std::get<codec::Connack>(packet), in);
        break;
      case PacketType::kPublish:
        on_publish(std::get<codec::Publish>(packet), in);
        break;
      case PacketType::kPubrel:
        on_pubrel(std::get<codec::Ack>(packet), in);
        break;
      case PacketType::kSuback:
        on_suback(std::get<codec::SubAck>(packet), in);
        break;
      case PacketType::kPingresp:
        ping_sent_.reset();
        break;
      case PacketType::kDisconnect:
        on_disconnect(std::get<codec::Disconnect>(packet), in);
        break;
      case PacketType::kAuth:
        // Only after an Authentication Method, which this client never sends [MQTT-4.12.0-6].
        close(in, reason::kProtocolError, "the broker sent AUTH, but no authentication was asked");
        break;
      default:
        close(in, reason::kProtocolError,
              std::string("the broker sent ") + codec::packet_name(type) +
                  ", which a subscriber never asked for");
        break;
    }
  }
}

bool Session::skip_oversized(std::string_view data, const codec::Frame& f, Inbound& in) {
  if (config_.version == Version::k5 || f.type() != PacketType::kPublish ||
      phase_ == Phase::kConnecting) {
    // MQTT 5: the broker knows our Maximum Packet Size and must not send more [MQTT-3.1.2-24].
    close(in, reason::kPacketTooLarge,
          "the broker sent a " + std::string(codec::packet_name(f.type())) + " of " +
              std::to_string(f.size()) + " bytes, over max_packet_size (" +
              std::to_string(config_.max_packet_size) + ")");
    return false;
  }
  // MQTT 3.1.1 has no way to refuse it: take its topic and id, drop its bytes as they come, and
  // acknowledge it in its place among the others (so it does not come back for ever).
  const std::string_view body = data.substr(f.header_size);
  const auto header = codec::decode_publish_header(f.first_byte, body, config_.version);
  if (!header) {
    // Wait for more of it, unless even the longest header (2 + 65535 + 2) is here.
    if (body.size() < 65539) return false;
    close(in, reason::kMalformedPacket, "an oversized PUBLISH with a bad header");
    return false;
  }
  in.notes.push_back({LogNote::Level::kWarn,
                      "a message of " + std::to_string(f.size()) + " bytes on topic '" +
                          std::string(header->topic) + "' is over max_packet_size (" +
                          std::to_string(config_.max_packet_size) + "): acknowledged and dropped"});
  if (header->qos == 1) {
    codec::encode_ack(in.acks, PacketType::kPuback, header->packet_id, config_.version);
  } else if (header->qos == 2) {
    codec::encode_ack(in.acks, PacketType::kPubrec, header->packet_id, config_.version);
  }
  in.consumed += f.header_size;
  skip_left_ = f.remaining;
  return true;
}

void Session::on_connack(const codec::Connack& c, Inbound& in) {
  if (phase_ != Phase::kConnecting) {
    close(in, reason::kProtocolError, "the broker sent a second CONNACK");
    return;
  }
  if (c.code != 0) {
    const bool v5 = config_.version == Version::k5;
    const char* v3 = codec::connack_v3_text(c.code);
    std::string why = v5   ? reason_name(c.code) + broker_says(c.properties)
                      : v3 ? std::string(v3)
                           : "return code " + std::to_string(c.code);
    close(in, reason::kSuccess, "the broker refused the connection: " + why, true);
    return;
  }
  if (config_.clean_start && c.session_present) {
    // [MQTT-3.2.2-4]: the broker claims a session we asked it to end.
    close(in, reason::kProtocolError, "the broker kept a session we asked it to discard");
    return;
  }
  if (!c.session_present && qos2_count_ > 0) {
    // [MQTT-3.2.2-5]: without the broker's session our QoS 2 ids mean nothing; keeping them
    // would swallow the next messages that reuse them.
    for (std::size_t id = 1; id < qos2_.size(); ++id) {
      if (qos2_.test(id)) qos2_set(static_cast<std::uint16_t>(id), false, in);
    }
  }
  if (auto ka = c.properties.number(property::kServerKeepAlive)) {
    keep_alive_ = std::chrono::seconds(*ka);  // [MQTT-3.2.2-21]
  }
  in.notes.push_back({LogNote::Level::kInfo,
                      "connected to " + config_.broker + " as client id '" + config_.client_id +
                          "'" +
                          (config_.clean_start ? std::string()
                           : c.session_present ? std::string(" (the broker kept our session)")
                                               : std::string(" (a new session: nothing was "
                                                             "kept for us)"))});
  phase_ = Phase::kSubscribing;
  codec::Subscribe s;
  subscribe_id_ = static_cast<std::uint16_t>(subscribe_id_ % 0xFFFF + 1);
  s.packet_id = subscribe_id_;
  for (const auto& sub : config_.subscriptions) s.filters.push_back({sub.filter, sub.qos});
  codec::encode(in.send_now, s, config_.version);
}

void Session::on_publish(const codec::Publish& p, Inbound& in) {
  if (phase_ == Phase::kConnecting) return;  // cannot happen: receive() closes first
  std::string_view topic = p.topic;
  if (config_.version == Version::k5) {
    if (auto alias = p.properties.number(property::kTopicAlias)) {
      if (*alias == 0 || *alias >= aliases_.size()) {
        close(in, reason::kTopicAliasInvalid,
              "the broker used topic alias " + std::to_string(*alias) + " (our maximum is " +
                  std::to_string(config_.topic_alias_maximum) + ")");
        return;
      }
      std::string& mapped = aliases_[*alias];
      if (!topic.empty()) {
        mapped.assign(topic);
      } else if (mapped.empty()) {
        close(in, reason::kProtocolError,
              "the broker used topic alias " + std::to_string(*alias) + " before setting it");
        return;
      } else {
        topic = in.owned.emplace_back(mapped);
      }
    } else if (topic.empty()) {
      close(in, reason::kProtocolError, "a PUBLISH without a topic or a topic alias");
      return;
    }
  }
  if (p.qos > 0 && config_.version == Version::k5 && !warned_receive_maximum_ &&
      in_flight() + (p.qos == 2 && qos2_.test(p.packet_id) ? 0 : 1) > config_.receive_maximum) {
    // MQTT 5 §3.3.4 would have us disconnect (0x93). Mosquitto 2.0 does this whenever it resumes
    // a session with messages in flight (it resends them, then fills the window again), so a
    // disconnect would only start a reconnect loop. Nothing is at risk: reads stay bounded by
    // the socket, and every message is still acknowledged only once stored.
    warned_receive_maximum_ = true;
    in.notes.push_back({LogNote::Level::kWarn,
                        "the broker sent more unacknowledged messages than our receive_maximum (" +
                            std::to_string(config_.receive_maximum) +
                            "): it does not keep to it (Mosquitto 2.0 after resuming a session); "
                            "taking them anyway"});
  }
  if (!warned_qos_) {
    std::uint8_t granted = 0;
    for (const auto& s : config_.subscriptions) granted = std::max(granted, s.qos);
    if (p.qos > granted) {
      warned_qos_ = true;
      in.notes.push_back(
          {LogNote::Level::kWarn, "the broker delivered a message at QoS " + std::to_string(p.qos) +
                                      " above the subscription's " + std::to_string(granted) +
                                      ": answering as the message's QoS asks"});
    }
  }
  switch (p.qos) {
    case 0:
      in.deliveries.push_back({topic, p.payload, 0, 0});
      break;
    case 1:
      in.deliveries.push_back({topic, p.payload, 1, p.packet_id});
      ++qos1_in_flight_;
      codec::encode_ack(in.acks, PacketType::kPuback, p.packet_id, config_.version);
      break;
    default:
      // A stored id is a duplicate until its PUBREL: PUBREC again, never a second delivery.
      if (!qos2_.test(p.packet_id)) {
        in.deliveries.push_back({topic, p.payload, 2, p.packet_id});
        qos2_set(p.packet_id, true, in);
      }
      codec::encode_ack(in.acks, PacketType::kPubrec, p.packet_id, config_.version);
      break;
  }
}

void Session::on_pubrel(const codec::Ack& a, Inbound& in) {
  if (qos2_.test(a.packet_id)) {
    qos2_set(a.packet_id, false, in);  // durably gone before PUBCOMP
    codec::encode_ack(in.acks, PacketType::kPubcomp, a.packet_id, config_.version);
  } else {
    // Already completed (our PUBCOMP was lost) or never ours: complete it again (MQTT 5: "Packet
    // Identifier not found").
    codec::encode_ack(in.acks, PacketType::kPubcomp, a.packet_id, config_.version,
                      reason::kPacketIdNotFound);
  }
}

void Session::on_suback(const codec::SubAck& s, Inbound& in) {
  if (phase_ != Phase::kSubscribing || s.packet_id != subscribe_id_) {
    close(in, reason::kProtocolError,
          "the broker sent a SUBACK for packet id " + std::to_string(s.packet_id) +
              ", which is not our SUBSCRIBE's");
    return;
  }
  if (s.codes.size() != config_.subscriptions.size()) {
    close(in, reason::kProtocolError,
          "the broker's SUBACK has " + std::to_string(s.codes.size()) + " codes for " +
              std::to_string(config_.subscriptions.size()) + " filters");
    return;
  }
  std::string refused;
  std::string downgraded;
  for (std::size_t i = 0; i < s.codes.size(); ++i) {
    const auto& sub = config_.subscriptions[i];
    if (s.codes[i] >= 0x80) {
      refused += (refused.empty() ? "'" : ", '") + sub.filter + "'" +
                 (config_.version == Version::k5 ? " (" + reason_name(s.codes[i]) + ")" : "");
    } else if (s.codes[i] < sub.qos) {
      downgraded += " '" + sub.filter + "' at QoS " + std::to_string(s.codes[i]);
    }
  }
  if (!refused.empty()) {
    close(in, reason::kSuccess,
          "the broker refused the subscription to " + refused +
              " (not authorised, or a filter it does not support)" + broker_says(s.properties),
          true);
    return;
  }
  if (!downgraded.empty()) {
    in.notes.push_back({LogNote::Level::kWarn, "the broker granted" + downgraded +
                                                   " instead of the QoS asked for: messages may "
                                                   "be lost at a crash"});
  }
  in.notes.push_back(
      {LogNote::Level::kInfo,
       "subscribed to " + std::to_string(config_.subscriptions.size()) + " topic filter(s)"});
  phase_ = Phase::kUp;
  in.subscribed = true;
}

void Session::on_disconnect(const codec::Disconnect& d, Inbound& in) {
  std::string why =
      "the broker disconnected us: " + reason_name(d.reason) + broker_says(d.properties);
  bool refused = d.reason >= 0x80;
  switch (d.reason) {
    case reason::kSessionTakenOver:
      why += ". Another client connected with client id '" + config_.client_id +
             "': give each gateway its own client_id";
      break;
    case reason::kMalformedPacket:
    case reason::kProtocolError:
    case reason::kReceiveMaximumExceeded:
    case reason::kTopicAliasInvalid:
    case reason::kPacketTooLarge:
      why += ". This is a bug in the gateway's MQTT client: please report it";
      break;
    default:
      break;
  }
  phase_ = Phase::kClosed;
  in.closing = Closing{std::move(why), refused};
}

void Session::close(Inbound& in, std::uint8_t code, std::string why, bool refused) {
  phase_ = Phase::kClosed;
  // MQTT 5: tell the broker why [§4.13.1]; MQTT 3.1.1 just closes [MQTT-4.8.0-1].
  if (config_.version == Version::k5 && code != reason::kSuccess) {
    codec::encode_disconnect(in.send_after_acks, config_.version, code);
  }
  in.closing = Closing{std::move(why), refused};
}

void Session::qos2_set(std::uint16_t id, bool stored, Inbound& in) {
  if (qos2_.test(id) != stored) {
    qos2_.set(id, stored);
    if (stored) {
      ++qos2_count_;
    } else {
      --qos2_count_;
    }
  }
  in.qos2.push_back({id, stored});
}

void Session::committed(const Inbound& in) {
  std::size_t qos1 = 0;
  for (const Delivery& d : in.deliveries) qos1 += d.qos == 1 ? 1 : 0;
  qos1_in_flight_ -= std::min(qos1_in_flight_, qos1);
}

TickResult Session::tick(Clock::time_point now, bool reading) {
  TickResult r;
  switch (phase_) {
    case Phase::kIdle:
    case Phase::kClosed:
      return r;
    case Phase::kConnecting:
      if (now - connect_sent_ >= config_.connect_timeout) {
        phase_ = Phase::kClosed;
        r.closing = Closing{"no CONNACK from the broker within connect_timeout", false};
      }
      return r;
    default:
      break;
  }
  if (keep_alive_.count() == 0) return r;
  if (ping_sent_ && reading && now - *ping_sent_ >= keep_alive_) {
    // The broker has been silent for a whole keep-alive after our PINGREQ (§3.1.2.10).
    phase_ = Phase::kClosed;
    r.closing = Closing{"no PINGRESP from the broker within keep_alive", false};
    return r;
  }
  if (!reading) ping_sent_.reset();  // a PINGRESP cannot be read now: do not wait for one
  if (now - last_sent_ >= keep_alive_) {
    codec::encode_pingreq(r.send);
    if (!ping_sent_) ping_sent_ = now;
  }
  return r;
}

Session::Clock::time_point Session::next_tick() const noexcept {
  if (phase_ == Phase::kConnecting) return connect_sent_ + config_.connect_timeout;
  if (phase_ == Phase::kIdle || phase_ == Phase::kClosed || keep_alive_.count() == 0) {
    return Clock::time_point::max();
  }
  Clock::time_point next = last_sent_ + keep_alive_;
  if (ping_sent_) next = std::min(next, *ping_sent_ + keep_alive_);
  return next;
}

std::string Session::disconnect() const {
  std::string out;
  codec::encode_disconnect(out, config_.version);
  return out;
}

}  // namespace edgegw::plugins::mqtt
