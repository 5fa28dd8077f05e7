// The mqtt source: one Paho MQTT C (MQTTAsync) client that subscribes to the configured topics and
// hands every message to the host.
//
// Acknowledgement after the durable append: Paho calls messageArrived on its receive thread before
// it sends the PUBACK (QoS 1) or PUBCOMP (QoS 2), so the callback appends synchronously and only
// then returns. While the buffer refuses (EDGEGW_ERR_FULL under on_full: reject_new) the callback
// holds the message and retries: the receive thread stops reading, which is the back-pressure the
// broker sees.
//
// Stopping while a message is held: Paho holds its own lock during the callback and acknowledges
// whatever the callback returns, so the connection cannot be closed under it. The callback then
// writes the message to the held store (HeldStore: fsync'd, in the source's state directory given
// by the host) before returning, and the next start hands held messages to the host before it
// connects. The store is touched only then, never on the normal path.
//
// QoS 2 also needs Paho's own persistence (<state_dir>/paho): a message is the receiver's once it
// answered PUBREC, and Paho keeps it until the broker's PUBREL.
//
// Connection: a supervisor thread connects, and reconnects with full-jitter exponential backoff
// (reconnect_min..reconnect_max) after a failed attempt or a lost connection; every (re)connect
// subscribes again (the broker may have lost the session). set_up(1) once subscribed.
#pragma once

#include <MQTTAsync.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include "edgegw/plugin_sdk.h"
#include "held_store.h"
#include "mqtt_config.h"

namespace edgegw::plugins::mqtt {

class MqttSource {
 public:
  MqttSource(sdk::Host host, std::string_view name, std::string_view config_json,
             std::string_view state_dir);
  ~MqttSource();
  MqttSource(const MqttSource&) = delete;
  MqttSource& operator=(const MqttSource&) = delete;

  void start();
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  enum class State { kIdle, kDown, kConnecting, kSubscribing, kUp };

  // Paho's callbacks (context: this).
  static int on_message(void* context, char* topic, int topic_len, MQTTAsync_message* message);
  static void on_connection_lost(void* context, char* cause);
  static void on_connect_success(void* context, MQTTAsync_successData* data);
  static void on_connect_failure(void* context, MQTTAsync_failureData* data);
  static void on_connect_success5(void* context, MQTTAsync_successData5* data);
  static void on_connect_failure5(void* context, MQTTAsync_failureData5* data);
  static void on_subscribe_success(void* context, MQTTAsync_successData* data);
  static void on_subscribe_failure(void* context, MQTTAsync_failureData* data);
  static void on_subscribe_success5(void* context, MQTTAsync_successData5* data);
  static void on_subscribe_failure5(void* context, MQTTAsync_failureData5* data);
  // Both MQTT 5 failures: the broker's reason code (>= 0x80) as text when it sent a known one,
  // else Paho's code and message, handed to `failed` (connect_failed or subscribe_failed).
  static void report_failure5(void* context, const MQTTAsync_failureData5* data,
                              void (MqttSource::*failed)(int, const char*));
  static void on_disconnected(void* context, MQTTAsync_successData* data);
  static void on_disconnect_failed(void* context, MQTTAsync_failureData* data);
  static int on_ssl_error(const char* text, std::size_t len, void* context);

  void supervise();
  int connect();
  void subscribe();
  void connected(bool session_present);
  void connect_failed(int code, const char* message);
  // Checks the granted QoS (or MQTT 5 reason code) of each filter.
  void subscribed(const int* granted, int count);
  void subscribe_failed(int code, const char* message);
  void connection_lost(std::string_view cause);
  // Marks the source down and schedules the next attempt after the backoff (mu_ held).
  void schedule_retry_locked();
  void deliver(std::string_view topic, std::string_view payload);
  // Hands the messages held at the last stop to the host (before connecting: they are older).
  // False when stopped first.
  bool replay_held();
  void log_limited(std::int32_t level, std::string message);

  sdk::Host host_;
  std::string name_;
  MqttConfig config_;
  MQTTAsync client_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kIdle;
  bool stopping_ = false;
  bool closed_ = false;  // stop() returned or is about to: no more host calls
  bool disconnect_done_ = false;
  HeldStore held_{""};
  int in_callback_ = 0;  // message callbacks that are calling the host
  int failures_ = 0;     // connect attempts failed in a row
  Clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{};
  std::string ssl_error_;  // the last OpenSSL error text of a connect attempt
  std::mt19937_64 rng_{std::random_device{}()};
  std::thread supervisor_;

  // Rate limit of repeated warnings (unmatched topics, buffer full, reconnects).
  std::mutex log_mu_;
  Clock::time_point last_log_{};
  std::uint64_t suppressed_ = 0;
  std::uint64_t unmatched_ = 0;  // messages on topics no pattern matched (acknowledged)
};

}  // namespace edgegw::plugins::mqtt
