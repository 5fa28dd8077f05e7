// SPDX-License-Identifier: Apache-2.0
#include "actions/mqtt_executor.h"

#include <mqtt/async_client.h>

#include <vector>

#include "actions/condition.h"
#include "actions/template.h"
#include "core/time.h"

namespace edgegw::actions {

namespace {

std::string why(std::string_view what, const mqtt::token& token) {
  std::string text(what);
  text += " (Paho code ";
  text += std::to_string(token.get_return_code());
  text += ')';
  return text;
}

}  // namespace

// One publish (or the connect) in flight: Paho holds a reference to it until it calls back.
class MqttExecutor::Listener final : public mqtt::iaction_listener {
 public:
  explicit Listener(std::function<void(bool ok, const mqtt::token&)> on_done)
      : on_done_(std::move(on_done)) {}
  void on_success(const mqtt::token& token) override { on_done_(true, token); }
  void on_failure(const mqtt::token& token) override { on_done_(false, token); }

 private:
  std::function<void(bool, const mqtt::token&)> on_done_;
};

MqttExecutor::MqttExecutor(const config::ActionConfig& action, std::string client_id)
    : config_(action.mqtt), name_(action.name) {
  client_ = std::make_unique<mqtt::async_client>(config_.broker, client_id);
  client_->set_connection_lost_handler([this](const std::string&) { connection_lost(); });
  connect_listener_ = std::make_shared<Listener>([this](bool, const mqtt::token&) {
    std::lock_guard lock(mu_);
    connecting_ = false;  // failed: the next run() tries again, after the dispatcher's backoff
  });
}

MqttExecutor::~MqttExecutor() {
  stop();
  client_.reset();  // joins Paho's threads: no callback runs after this
  std::lock_guard lock(mu_);
  in_flight_.clear();
}

void MqttExecutor::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  try {
    if (client_->is_connected())
      client_->disconnect(std::chrono::milliseconds(500))->wait_for(1000);
  } catch (const mqtt::exception&) {
    // already gone: nothing to close
  }
}

// Paho is never called with mu_ held: it may hold its own lock while it calls a listener back.
void MqttExecutor::connect() {
  {
    std::lock_guard lock(mu_);
    if (connecting_ || stopped_) return;
    connecting_ = true;
  }
  auto options = mqtt::connect_options_builder()
                     .clean_session(true)
                     .keep_alive_interval(std::chrono::seconds(30))
                     .connect_timeout(std::chrono::seconds(10))
                     .finalize();
  if (!config_.username.empty()) options.set_user_name(config_.username);
  if (!config_.password.empty()) options.set_password(config_.password.reveal());
  if (config_.broker.starts_with("ssl://") || config_.broker.starts_with("mqtts://") ||
      config_.broker.starts_with("wss://")) {
    // Paho verifies against the system's CA store when no trust store is given.
    options.set_ssl(
        mqtt::ssl_options_builder().enable_server_cert_auth(true).verify(true).finalize());
  }
  try {
    client_->connect(options, nullptr, *connect_listener_);
  } catch (const mqtt::exception&) {
    std::lock_guard lock(mu_);
    connecting_ = false;
  }
}

void MqttExecutor::run(const Job& job, Done done) {
  const ReadingValue value = value_of(job.reading);
  const std::string variable = string_field(job.reading, "variable");
  const std::string unit = string_field(job.reading, "unit");
  const std::string time = core::format_iso8601_ms(job.time_ms);
  const TemplateFields fields{job.device, variable, value.text, unit, time};
  auto message = mqtt::make_message(expand(config_.topic, fields), expand(config_.payload, fields),
                                    config_.qos, config_.retain);
  if (stopped()) {
    done({Attempt::Result::kRetry, 0, "stopping", std::nullopt});
    return;
  }
  if (!client_->is_connected()) {
    connect();
    done({Attempt::Result::kRetry, 0, "not connected to the broker " + config_.broker,
          std::nullopt});
    return;
  }
  std::uint64_t key = 0;
  std::shared_ptr<Listener> listener;
  {
    std::lock_guard lock(mu_);
    key = next_key_++;
    listener = std::make_shared<Listener>([this, key](bool ok, const mqtt::token& token) {
      if (ok) {
        finish(key, {Attempt::Result::kDone, 0, {}, std::nullopt});
      } else {
        finish(key, {Attempt::Result::kRetry, 0, why("publish failed", token), std::nullopt});
      }
    });
    in_flight_.emplace(key, InFlight{listener, std::move(done)});
  }
  try {
    client_->publish(message, nullptr, *listener);
  } catch (const mqtt::exception& e) {
    finish(key,
           {Attempt::Result::kRetry, 0, std::string("publish failed: ") + e.what(), std::nullopt});
  }
}

// Answers a publish once: from Paho's callback, or before it when the connection was lost (a
// clean session's publishes in flight may never be answered then).
void MqttExecutor::finish(std::uint64_t key, Attempt attempt) {
  InFlight entry;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it == in_flight_.end()) return;  // answered already
    entry = std::move(it->second);       // the listener lives until this returns
    in_flight_.erase(it);
  }
  entry.done(std::move(attempt));
}

void MqttExecutor::connection_lost() {
  std::vector<std::uint64_t> keys;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, entry] : in_flight_) keys.push_back(key);
  }
  for (const auto key : keys) {
    finish(key,
           {Attempt::Result::kRetry, 0, "the connection to the broker was lost", std::nullopt});
  }
}

bool MqttExecutor::stopped() {
  std::lock_guard lock(mu_);
  return stopped_;
}

}  // namespace edgegw::actions
