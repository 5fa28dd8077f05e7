// SPDX-License-Identifier: Apache-2.0
// The mqtt source's `config:` (plugins/mqtt/README.md), parsed and checked. Every error names the
// key ("topics[1]: ...") and never quotes a secret.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topic_pattern.h"

namespace edgegw::plugins::mqtt {

struct TlsConfig {
  std::string ca_file;    // empty: the system's trust store
  std::string cert_file;  // client certificate (PEM), with key_file
  std::string key_file;
  std::string key_password;
  // Off only by an explicit key, and then warned about at every start.
  bool insecure_skip_verify = false;
};

struct MqttConfig {
  std::string uri;  // tcp://host:port or ssl://host:port
  std::string client_id;
  std::vector<TopicPattern> topics;
  int qos = 1;
  std::string username;
  std::string password;
  bool clean_session = false;
  int protocol = 4;  // 4: MQTT 3.1.1; 5: MQTT 5
  // MQTT 5 only: how long the broker keeps the session after a disconnect; nullopt: forever.
  std::optional<std::chrono::seconds> session_expiry;
  std::chrono::seconds keep_alive{30};
  std::chrono::seconds connect_timeout{10};
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30'000};
  // How long a read may wait to gather more when messages come one at a time (0: never).
  std::chrono::milliseconds coalesce{5};
  std::string device;  // the device key of topics without {device}
  // MQTT 5: how many QoS 1 and 2 messages the broker may send before our acknowledgements (and
  // so the largest batch of one store); how many topic aliases it may set (0: none).
  int receive_maximum = 1024;
  int topic_alias_maximum = 64;
  // The largest packet taken from the broker. MQTT 5 tells the broker (it drops larger messages,
  // and its log says so); MQTT 3.1.1 cannot, so a larger message is acknowledged and dropped
  // (logged).
  std::uint32_t max_packet_size = 8u << 20;
  // Before edgegw 0.2, Paho's store for QoS 2. Accepted so that old configs load; unused (the
  // QoS 2 state is kept in the buffer's store now).
  bool persistence_dir_set = false;
  bool tls_enabled = false;  // ssl:// (set from the uri)
  std::string host;          // from the uri
  std::uint16_t port = 0;    // from the uri (1883 / 8883 when it names none)
  TlsConfig tls;
};

// Parses the JSON text of `config:`. `source_name` makes the default client id
// ("edgegw-<host>-<source>"). Throws std::invalid_argument with the message.
MqttConfig parse_config(std::string_view config_json, std::string_view source_name);

}  // namespace edgegw::plugins::mqtt
