// SPDX-License-Identifier: Apache-2.0
// A bare Paho subscriber: the broker's raw QoS 1 delivery rate, the MQTT baseline of the
// end-to-end benches. Its callback only counts, so each message is acknowledged at once: what
// Mosquitto and Paho can do without any gateway behind them (Paho tuned as the gateway tunes it).
// Used by edgegw-bare-subscriber (run_scenarios.sh) and edgegw-mqtt-ingest-bench.
#pragma once

#include <MQTTAsync.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace edgegw::bench {

class BareSubscriber {
 public:
  using Clock = std::chrono::steady_clock;

  BareSubscriber(const std::string& uri, const std::string& client_id, std::string topic)
      : topic_(std::move(topic)) {
    // As the gateway's mqtt plugin does: Paho's default trace level records every function
    // entry and exit. The baseline is Paho at its fastest, not at its default.
    MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
    MQTTAsync_create(&client_, uri.c_str(), client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE,
                     nullptr);
    MQTTAsync_setCallbacks(client_, this, nullptr, &on_message, nullptr);
  }
  ~BareSubscriber() {
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 2000;
    MQTTAsync_disconnect(client_, &d);
    for (int i = 0; i < 200 && MQTTAsync_isConnected(client_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    MQTTAsync_destroy(&client_);
  }

  // Connects with a persistent session and subscribes at QoS 1; false after 10 s.
  bool subscribe() {
    MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
    c.cleansession = 0;
    c.keepAliveInterval = 30;
    c.context = this;
    c.onSuccess = [](void* self, MQTTAsync_successData*) {
      auto* s = static_cast<BareSubscriber*>(self);
      MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
      r.context = s;
      r.onSuccess = [](void* s2, MQTTAsync_successData*) {
        auto* sub = static_cast<BareSubscriber*>(s2);
        std::lock_guard lock(sub->mu_);
        sub->subscribed_at_ = Clock::now();
        sub->cv_.notify_all();
      };
      MQTTAsync_subscribe(s->client_, s->topic_.c_str(), 1, &r);
    };
    if (MQTTAsync_connect(client_, &c) != MQTTASYNC_SUCCESS) return false;
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10),
                        [&] { return subscribed_at_ != Clock::time_point{}; });
  }

  // Ends the persistent session of `client_id` (a clean-session connect under its id): otherwise
  // the broker keeps queueing every later message for it, and a later round measures that.
  static bool forget(const std::string& uri, const std::string& client_id) {
    BareSubscriber s(uri, client_id, "");
    MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
    c.cleansession = 1;
    c.context = &s;
    c.onSuccess = [](void* self, MQTTAsync_successData*) {
      auto* sub = static_cast<BareSubscriber*>(self);
      std::lock_guard lock(sub->mu_);
      sub->subscribed_at_ = Clock::now();  // here: connected
      sub->cv_.notify_all();
    };
    if (MQTTAsync_connect(s.client_, &c) != MQTTASYNC_SUCCESS) return false;
    std::unique_lock lock(s.mu_);
    return s.cv_.wait_for(lock, std::chrono::seconds(10),
                          [&] { return s.subscribed_at_ != Clock::time_point{}; });
  }

  // Seconds from the subscription to the n-th message; negative on timeout.
  double wait_for(long long n, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return count_ >= n; })) return -1;
    return std::chrono::duration<double>(last_at_ - subscribed_at_).count();
  }
  long long count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  static int on_message(void* self, char* topic, int, MQTTAsync_message* m) {
    auto* s = static_cast<BareSubscriber*>(self);
    {
      std::lock_guard lock(s->mu_);
      ++s->count_;
      s->last_at_ = Clock::now();
    }
    s->cv_.notify_all();
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
  }

  std::string topic_;
  MQTTAsync client_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  long long count_ = 0;
  Clock::time_point subscribed_at_{}, last_at_{};
};

}  // namespace edgegw::bench
