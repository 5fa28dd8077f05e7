// SPDX-License-Identifier: Apache-2.0
// type: mqtt — publishes through Eclipse Paho MQTT C++ to the action's broker. The outbox is the
// durable queue: while the broker is away run() answers retry (and starts a connection), so the
// jobs wait in RocksDB, bounded by the action's max_queued, not in Paho's memory.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "actions/executor.h"
#include "config/config.h"

namespace mqtt {
class async_client;
}

namespace edgegw::actions {

class MqttExecutor final : public Executor {
 public:
  // client_id: the action's, or "edgegw-<gateway id>-<action>".
  MqttExecutor(const config::ActionConfig& action, std::string client_id);
  ~MqttExecutor() override;

  void run(const Job& job, Done done) override;
  std::size_t max_in_flight() const override { return 32; }
  void stop() override;

 private:
  class Listener;
  struct InFlight {
    std::shared_ptr<Listener> listener;  // Paho holds a reference to it until it answers
    Done done;
  };
  void connect();
  bool stopped();
  void finish(std::uint64_t key, Attempt attempt);
  void connection_lost();

  config::MqttActionConfig config_;
  std::string name_;
  std::unique_ptr<mqtt::async_client> client_;
  std::mutex mu_;
  bool connecting_ = false;
  bool stopped_ = false;
  std::shared_ptr<Listener> connect_listener_;
  std::uint64_t next_key_ = 0;
  std::unordered_map<std::uint64_t, InFlight> in_flight_;  // publishes not yet answered
};

}  // namespace edgegw::actions
