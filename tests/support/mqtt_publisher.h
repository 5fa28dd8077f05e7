// SPDX-License-Identifier: Apache-2.0
// A test MQTT publisher on Paho's asynchronous C client (the library the mqtt plugin uses, so a
// test or bench that loads the plugin holds one Paho, not two). publish() returns once the broker
// acknowledged the message, reconnecting and sending again after a lost connection: a message
// is never skipped, and duplicates stay possible, as with any QoS 1 publisher.
#pragma once

#include <MQTTAsync.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace edgegw::testing {

struct PublisherOptions {
  std::string username;
  std::string password;
  int protocol = 4;  // 4: MQTT 3.1.1, 5: MQTT 5
};

class MqttPublisher {
 public:
  MqttPublisher(std::string uri, std::string client_id, PublisherOptions options = {});
  MqttPublisher(const MqttPublisher&) = delete;
  MqttPublisher& operator=(const MqttPublisher&) = delete;
  ~MqttPublisher();

  // One message, acknowledged by the broker (QoS 1 or 2) or sent (QoS 0); false after `timeout`.
  bool publish(const std::string& topic, const std::string& payload, int qos = 1,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

  struct Message {
    std::string topic;
    std::string payload;
  };
  // Many messages in order with up to `window` unacknowledged at once (fast); no reconnect: false
  // on the first failure.
  bool publish_all(const std::vector<Message>& messages, int qos, int window = 100);

 private:
  bool ensure_connected(std::chrono::steady_clock::time_point deadline);

  std::string uri_;
  PublisherOptions options_;
  MQTTAsync client_ = nullptr;
  std::vector<std::shared_ptr<void>> pending_;  // completions Paho may still call back
};

}  // namespace edgegw::testing
