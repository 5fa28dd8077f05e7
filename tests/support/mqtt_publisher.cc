// SPDX-License-Identifier: Apache-2.0
#include "support/mqtt_publisher.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace edgegw::testing {
namespace {

using namespace std::chrono_literals;

}  // namespace

MqttPublisher::MqttPublisher(std::string uri, std::string client_id, PublisherOptions options)
    : uri_(std::move(uri)), options_(std::move(options)) {
  MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
  if (options_.protocol == 5) create.MQTTVersion = MQTTVERSION_5;
  create.maxBufferedMessages = 100000;
  const int rc = MQTTAsync_createWithOptions(&client_, uri_.c_str(), client_id.c_str(),
                                             MQTTCLIENT_PERSISTENCE_NONE, nullptr, &create);
  if (rc != MQTTASYNC_SUCCESS) {
    throw std::runtime_error(std::string("MQTTAsync_create: ") + MQTTAsync_strerror(rc));
  }
}

MqttPublisher::~MqttPublisher() {
  if (MQTTAsync_isConnected(client_)) {
    MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
    options.timeout = 1000;
    MQTTAsync_disconnect(client_, &options);
    for (int i = 0; i < 100 && MQTTAsync_isConnected(client_); ++i) {
      std::this_thread::sleep_for(10ms);
    }
  }
  MQTTAsync_destroy(&client_);
}

bool MqttPublisher::ensure_connected(std::chrono::steady_clock::time_point deadline) {
  while (!MQTTAsync_isConnected(client_)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions options5 = MQTTAsync_connectOptions_initializer5;
    if (options_.protocol == 5) options = options5;
    options.keepAliveInterval = 10;
    options.connectTimeout = 2;
    if (options_.protocol != 5) options.cleansession = 1;
    if (!options_.username.empty()) options.username = options_.username.c_str();
    if (!options_.password.empty()) options.password = options_.password.c_str();
    MQTTAsync_connect(client_, &options);
    // Poll: the publisher has no callbacks to keep it simple.
    for (int i = 0; i < 100 && !MQTTAsync_isConnected(client_); ++i) {
      std::this_thread::sleep_for(20ms);
    }
    if (!MQTTAsync_isConnected(client_)) std::this_thread::sleep_for(100ms);
  }
  return true;
}

namespace {

// Completion of one publish, signalled by Paho's callbacks (waitForCompletion polls in 100 ms
// steps, which would make a one-at-a-time publisher crawl).
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool ok = false;

  static void on_success(void* context, MQTTAsync_successData*) { finish(context, true); }
  static void on_failure(void* context, MQTTAsync_failureData*) { finish(context, false); }
  static void finish(void* context, bool ok) {
    auto* c = static_cast<Completion*>(context);
    std::lock_guard lock(c->mu);
    c->done = true;
    c->ok = ok;
    c->cv.notify_all();
  }
};

}  // namespace

bool MqttPublisher::publish(const std::string& topic, const std::string& payload, int qos,
                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (!ensure_connected(deadline)) return false;
    auto completion = std::make_shared<Completion>();
    MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
    response.context = completion.get();
    response.onSuccess = &Completion::on_success;
    response.onFailure = &Completion::on_failure;
    MQTTAsync_message message = MQTTAsync_message_initializer;
    message.payload = const_cast<char*>(payload.data());
    message.payloadlen = static_cast<int>(payload.size());
    message.qos = qos;
    if (MQTTAsync_sendMessage(client_, topic.c_str(), &message, &response) == MQTTASYNC_SUCCESS) {
      std::unique_lock lock(completion->mu);
      // A lost connection fails the publish (onFailure) or leaves it pending: then give up on
      // this attempt after a while and send again (a duplicate at worst).
      completion->cv.wait_for(lock, 5s, [&] { return completion->done; });
      if (completion->done && completion->ok) return true;
      if (!completion->done) {
        // Paho may still call back later: keep the completion alive until then.
        pending_.push_back(completion);
      }
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);  // lost connection: reconnect and send it again
  }
}

bool MqttPublisher::publish_all(const std::vector<Message>& messages, int qos, int window) {
  if (!ensure_connected(std::chrono::steady_clock::now() + 10s)) return false;
  // Unacknowledged messages, counted down by Paho's callbacks.
  struct Window {
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0;
    bool failed = false;
    static void on_success(void* context, MQTTAsync_successData*) { done(context, true); }
    static void on_failure(void* context, MQTTAsync_failureData*) { done(context, false); }
    static void done(void* context, bool ok) {
      auto* w = static_cast<Window*>(context);
      std::lock_guard lock(w->mu);
      --w->in_flight;
      w->failed = w->failed || !ok;
      w->cv.notify_all();
    }
  };
  auto w = std::make_shared<Window>();
  pending_.push_back(w);  // alive until the client is destroyed
  const auto settled = [&](int limit) {
    std::unique_lock lock(w->mu);
    return w->cv.wait_for(lock, 30s, [&] { return w->failed || w->in_flight <= limit; }) &&
           !w->failed;
  };
  for (const Message& m : messages) {
    if (!settled(window - 1)) return false;
    MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
    response.context = w.get();
    response.onSuccess = &Window::on_success;
    response.onFailure = &Window::on_failure;
    MQTTAsync_message message = MQTTAsync_message_initializer;
    message.payload = const_cast<char*>(m.payload.data());
    message.payloadlen = static_cast<int>(m.payload.size());
    message.qos = qos;
    {
      std::lock_guard lock(w->mu);
      ++w->in_flight;
    }
    if (MQTTAsync_sendMessage(client_, m.topic.c_str(), &message, &response) != MQTTASYNC_SUCCESS) {
      return false;
    }
  }
  return settled(0);
}

}  // namespace edgegw::testing
