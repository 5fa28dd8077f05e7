// SPDX-License-Identifier: Apache-2.0
// The client side of one MQTT connection as a state machine over bytes: no sockets, no threads,
// no clock of its own (the caller passes the time). The transport feeds it what it read; it says
// what to store, what to acknowledge once that is stored, what to send at once, what to log, and
// when the connection must close. Scripted byte streams test it alone (tests/session_test.cc).
//
// The promise it is built for: an acknowledgement (PUBACK, PUBREC, PUBCOMP) is produced into
// Inbound::acks, never sent by the session; the caller sends those bytes only after the write that
// covers the messages (and QoS 2 packet ids) of the same Inbound returned. Acknowledgements stay
// in arrival order [MQTT-4.6.0-2], [MQTT-4.6.0-3].
//
// QoS 2 ("Method B", MQTT 5 figure 4.3): a message and its packet id are stored in one durable
// write (Inbound::deliveries + Inbound::qos2 {id, true}), then PUBREC; a duplicate PUBLISH of a
// stored id gets PUBREC again, never a second delivery; PUBREL deletes the id durably
// (Inbound::qos2 {id, false}) before its PUBCOMP. The stored ids are handed to connect() from the
// durable store at every connection, so a failed write never leaves them out of step.
#pragma once

#include <bitset>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec.h"

namespace edgegw::plugins::mqtt {

struct SessionConfig {
  codec::Version version = codec::Version::k311;
  std::string broker;  // its uri, for the log
  std::string client_id;
  bool clean_start = false;
  // MQTT 5: how long the broker keeps a persistent session (seconds); nullopt: for ever.
  std::optional<std::uint32_t> session_expiry;
  std::chrono::seconds keep_alive{30};
  std::chrono::milliseconds connect_timeout{10'000};  // for the CONNACK
  std::string username;                               // empty: none
  std::string password;                               // empty: none
  std::uint16_t receive_maximum = 1024;               // MQTT 5
  std::uint16_t topic_alias_maximum = 64;             // MQTT 5; 0: no aliases
  std::uint32_t max_packet_size = 8u << 20;
  struct Subscription {
    std::string filter;
    std::uint8_t qos = 1;
  };
  std::vector<Subscription> subscriptions;
};

// A message to store. Views into the bytes given to receive() (or into Inbound::owned).
struct Delivery {
  std::string_view topic;
  std::string_view payload;
  std::uint8_t qos = 0;
  std::uint16_t packet_id = 0;
};

// A change to the durable set of QoS 2 packet ids, written with the same Inbound's messages.
struct Qos2Change {
  std::uint16_t packet_id = 0;
  bool stored = false;  // true: add the id; false: delete it
};

struct LogNote {
  enum class Level { kInfo, kWarn, kError };
  Level level = Level::kInfo;
  std::string text;
};

struct Closing {
  std::string why;       // one line for the log
  bool refused = false;  // the broker refused us (CONNACK, SUBACK, takeover): back off
};

// What one receive() produced.
struct Inbound {
  std::size_t consumed = 0;          // bytes of complete packets (the rest: an unfinished one)
  std::vector<Delivery> deliveries;  // to store, in arrival order
  std::vector<Qos2Change> qos2;      // in the same durable write, in this order
  std::string acks;                  // to send once that write returned, in this order
  std::string send_now;              // to send at once (SUBSCRIBE after the CONNACK, ...)
  std::vector<LogNote> notes;
  bool subscribed = false;         // every filter was granted: the source is up
  std::optional<Closing> closing;  // after the above: send `send_after_acks`, then close
  std::string send_after_acks;     // an MQTT 5 DISCONNECT with the reason
  std::deque<std::string> owned;   // topics resolved from an alias

  bool needs_write() const noexcept { return !deliveries.empty() || !qos2.empty(); }
  void clear();
};

// What tick() produced.
struct TickResult {
  std::string send;
  std::optional<Closing> closing;
};

class Session {
 public:
  using Clock = std::chrono::steady_clock;
  using Qos2Ids = std::bitset<65536>;

  explicit Session(SessionConfig config);

  const SessionConfig& config() const noexcept { return config_; }
  codec::Version version() const noexcept { return config_.version; }

  // A new connection: forgets the last one's state, takes the stored QoS 2 ids, and returns the
  // CONNECT to send.
  std::string connect(const Qos2Ids& stored_qos2, Clock::time_point now);

  // Parses the complete packets at the start of `data` into `in` (cleared first). Stops after a
  // packet that closes the connection.
  void receive(std::string_view data, Clock::time_point now, Inbound& in);

  // The caller stored `in` and sent its acks.
  void committed(const Inbound& in);

  // The caller wrote bytes to the socket (keep-alive counts from the last send).
  void sent(Clock::time_point now) noexcept { last_sent_ = now; }

  // Timers: a PINGREQ when nothing was sent for keep_alive; a close when the CONNACK or a
  // PINGRESP is overdue. `reading`: false while the caller holds back reads (a PINGRESP cannot
  // be seen then, so it is not awaited).
  TickResult tick(Clock::time_point now, bool reading);
  Clock::time_point next_tick() const noexcept;

  // The DISCONNECT of a normal close.
  std::string disconnect() const;

  bool up() const noexcept { return phase_ == Phase::kUp; }
  // QoS 1 messages delivered and not yet committed, plus QoS 2 ids stored (MQTT 5 Receive
  // Maximum counts both).
  std::size_t in_flight() const noexcept { return qos1_in_flight_ + qos2_count_; }

 private:
  enum class Phase { kIdle, kConnecting, kSubscribing, kUp, kClosed };

  void on_connack(const codec::Connack& c, Inbound& in);
  void on_publish(const codec::Publish& p, Inbound& in);
  void on_pubrel(const codec::Ack& a, Inbound& in);
  void on_suback(const codec::SubAck& s, Inbound& in);
  void on_disconnect(const codec::Disconnect& d, Inbound& in);
  // An oversized PUBLISH under MQTT 3.1.1 (which cannot refuse one): acknowledged, not stored.
  bool skip_oversized(std::string_view data, const codec::Frame& f, Inbound& in);
  void close(Inbound& in, std::uint8_t reason, std::string why, bool refused = false);
  void qos2_set(std::uint16_t id, bool stored, Inbound& in);

  SessionConfig config_;
  Phase phase_ = Phase::kIdle;
  Qos2Ids qos2_;
  std::size_t qos2_count_ = 0;
  std::size_t qos1_in_flight_ = 0;
  std::vector<std::string> aliases_;  // MQTT 5 topic aliases of this connection
  std::uint16_t subscribe_id_ = 0;
  std::uint32_t skip_left_ = 0;  // bytes of an oversized PUBLISH still to drop
  bool warned_qos_ = false;
  bool warned_receive_maximum_ = false;
  std::chrono::seconds keep_alive_{0};  // ours, or the broker's Server Keep Alive
  Clock::time_point connect_sent_{};
  Clock::time_point last_sent_{};
  std::optional<Clock::time_point> ping_sent_;
};

}  // namespace edgegw::plugins::mqtt
