// SPDX-License-Identifier: Apache-2.0
// A broker that a test scripts packet by packet, on a free loopback port: it accepts a client,
// reads what it sends (decoded with the plugin's codec) and writes what the test says, in the
// writes the test chooses. Mosquitto never checks the order of acknowledgements; this one lets a
// test see exactly what came back, in what order, and when.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "codec.h"

namespace edgegw::plugins::mqtt::testing {

// One accepted connection.
class BrokerConnection {
 public:
  BrokerConnection(int fd, codec::Version version) : fd_(fd), version_(version) {}
  BrokerConnection(BrokerConnection&& o) noexcept;
  BrokerConnection(const BrokerConnection&) = delete;
  ~BrokerConnection();

  // The next packet the client sent, with its bytes; nullopt after `timeout` or at EOF.
  struct Received {
    std::shared_ptr<const std::string> bytes;  // the packet's bytes: its views point into them
    codec::Packet packet;
  };
  std::optional<Received> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the client closed the connection within `timeout` (EOF or reset).
  bool closed_within(std::chrono::milliseconds timeout);
  // Writes `bytes` in one write(2).
  bool write(std::string_view bytes);
  bool write(const codec::Packet& packet);

  // Accepts the CONNECT, answers CONNACK, accepts the SUBSCRIBE and grants it: the client is up.
  // Returns the CONNECT (its packet is a codec::Connect).
  std::optional<Received> handshake(bool session_present = false, std::uint8_t granted_qos = 1);
  codec::Version version() const noexcept { return version_; }
  // Bytes received but not yet read as a packet.
  const std::string& pending() const noexcept { return buffer_; }

 private:
  int fd_;
  codec::Version version_;
  std::string buffer_;
};

class ScriptedBroker {
 public:
  explicit ScriptedBroker(codec::Version version = codec::Version::k311);
  ScriptedBroker(const ScriptedBroker&) = delete;
  ~ScriptedBroker();

  int port() const noexcept { return port_; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  // The next client, or nullopt after `timeout`.
  std::optional<BrokerConnection> accept(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  codec::Version version_;
};

}  // namespace edgegw::plugins::mqtt::testing
