// SPDX-License-Identifier: Apache-2.0
// The mqtt source plugin: the config, and the host's side of the Client (client.h). Each message
// the broker delivers is matched against `topics` for its device key (and variable), and everything
// one socket read brought goes to the host in one append, with its QoS 2 packet ids in the same
// durable write (the host's source state, plugin ABI 1.3). The Client acknowledges only after
// that call returned.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client.h"
#include "edgegw/log_limiter.h"
#include "edgegw/plugin_sdk.h"
#include "mqtt_config.h"

namespace edgegw::plugins::mqtt {

class MqttSource : public ClientHandler {
 public:
  MqttSource(sdk::Host host, std::string_view name, std::string_view config_json,
             std::string_view state_dir);
  ~MqttSource() override;
  MqttSource(const MqttSource&) = delete;
  MqttSource& operator=(const MqttSource&) = delete;

  void start();
  void stop();

  // ClientHandler (on the client's thread).
  StoreResult store(const Inbound& in, std::string& error) override;
  bool load_qos2(Session::Qos2Ids& ids, std::string& error) override;
  bool ready_to_connect() override;
  void log(LogNote::Level level, std::string_view key, std::string message) override;
  void set_up(bool up) override;

 private:
  sdk::Host host_;
  std::string name_;
  MqttConfig config_;
  std::string held_dir_;  // messages an older edgegw kept at a stop (legacy_held.h)
  sdk::LogLimiter limited_;
  std::unique_ptr<Client> client_;

  // Reused by every store (capacity kept).
  std::vector<edgegw_raw_message> messages_;
  std::vector<std::array<char, 4>> state_keys_;
  std::vector<edgegw_state_change> changes_;
  std::uint64_t unmatched_ = 0;  // messages on topics no pattern matched (acknowledged)
};

}  // namespace edgegw::plugins::mqtt
