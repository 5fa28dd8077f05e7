// The mqtt source's `config:` (plugins/mqtt/README.md), parsed and checked. Every error names the
// key ("topics[1]: ...") and never quotes a secret.
#pragma once

#include <chrono>
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
  std::string device;           // the device key of topics without {device}
  std::string persistence_dir;  // Paho's file store; default <state_dir>/paho (from the host)
  bool tls_enabled = false;     // ssl:// (set from the uri)
  TlsConfig tls;
};

// Parses the JSON text of `config:`. `source_name` makes the default client id
// ("edgegw-<host>-<source>"). Throws std::invalid_argument with the message.
MqttConfig parse_config(std::string_view config_json, std::string_view source_name);

}  // namespace edgegw::plugins::mqtt
