#include "mqtt_source.h"

#include <MQTTReasonCodes.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace edgegw::plugins::mqtt {
namespace {

using namespace std::chrono_literals;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string seconds_text(std::chrono::milliseconds d) {
  const double s = static_cast<double>(d.count()) / 1000.0;
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", s);
  return text;
}

// The MQTT 3.1.1 CONNACK return codes Paho reports as the failure code.
const char* connack_text(int code) {
  switch (code) {
    case 1:
      return "the broker refused the protocol version";
    case 2:
      return "the broker refused the client id";
    case 3:
      return "the broker is unavailable";
    case 4:
      return "bad user name or password";
    case 5:
      return "not authorised (check username and password, and the broker's access rules)";
    default:
      return nullptr;
  }
}

void check_readable(std::string_view key, const std::string& path) {
  if (path.empty()) return;
  std::ifstream in(path);
  if (!in) {
    throw sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT,
                     std::string(key) + ": cannot read '" + path + "': " + std::strerror(errno));
  }
}

}  // namespace

MqttSource::MqttSource(sdk::Host host, std::string_view name, std::string_view config_json,
                       std::string_view state_dir)
    : host_(host), name_(name) {
  try {
    config_ = parse_config(config_json, name);
  } catch (const std::invalid_argument& e) {
    throw sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT, e.what());
  }
  check_readable("ca_file", config_.tls.ca_file);
  check_readable("cert_file", config_.tls.cert_file);
  check_readable("key_file", config_.tls.key_file);
  if (!state_dir.empty()) held_ = HeldStore(std::string(state_dir) + "/held");
  if (config_.qos == 2 && config_.persistence_dir.empty() && !state_dir.empty()) {
    config_.persistence_dir = std::string(state_dir) + "/paho";
  }
  if (config_.qos == 2 && config_.persistence_dir.empty()) {
    // A QoS 2 message is the receiver's once it answered PUBREC; Paho keeps it in memory until the
    // broker's PUBREL, so a crash in between would lose it without a store on disk.
    throw sdk::Error(
        EDGEGW_ERR_INVALID_ARGUMENT,
        "qos: 2 needs persistence_dir (this host gives the plugin no state directory)");
  }
  int persistence = MQTTCLIENT_PERSISTENCE_NONE;
  void* persistence_context = nullptr;
  if (!config_.persistence_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(config_.persistence_dir, ec);
    if (ec) {
      throw sdk::Error(
          EDGEGW_ERR_INVALID_ARGUMENT,
          "persistence_dir: cannot create '" + config_.persistence_dir + "': " + ec.message());
    }
    persistence = MQTTCLIENT_PERSISTENCE_DEFAULT;
    persistence_context = config_.persistence_dir.data();
  }
  // Paho records every function entry and exit, with a clock read, into an in-memory trace ring
  // at its default level, several times per message; nothing here reads that ring (it is not the
  // trace callback). Errors only: the receive thread spends less per message.
  MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
  MQTTAsync_createOptions options = MQTTAsync_createOptions_initializer;
  if (config_.protocol == 5) options.MQTTVersion = MQTTVERSION_5;
  options.sendWhileDisconnected = 0;
  const int rc =
      MQTTAsync_createWithOptions(&client_, config_.uri.c_str(), config_.client_id.c_str(),
                                  persistence, persistence_context, &options);
  if (rc != MQTTASYNC_SUCCESS) {
    client_ = nullptr;
    throw sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT, "uri: the MQTT client refused '" + config_.uri +
                                                      "' or client_id '" + config_.client_id +
                                                      "': " + MQTTAsync_strerror(rc));
  }
  MQTTAsync_setCallbacks(client_, this, &on_connection_lost, &on_message, nullptr);
}

MqttSource::~MqttSource() {
  stop();
  if (client_ != nullptr) MQTTAsync_destroy(&client_);
}

void MqttSource::start() {
  if (config_.tls_enabled && config_.tls.insecure_skip_verify) {
    host_.warn(
        "tls_insecure_skip_verify is set: the broker's certificate and host name are NOT "
        "verified; anyone on the path can read and forge this source's messages");
  }
  {
    std::lock_guard lock(mu_);
    state_ = State::kDown;
    next_attempt_ = Clock::now();
  }
  supervisor_ = std::thread([this] { supervise(); });
}

void MqttSource::stop() {
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kIdle && !supervisor_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();

  // A callback holding a message the buffer refused has seen stopping_, kept the message in the
  // held store and returned: Paho's lock is free again.
  MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
  options.timeout = 0;
  options.context = this;
  options.onSuccess = &on_disconnected;
  options.onFailure = &on_disconnect_failed;
  const bool was_connected = MQTTAsync_isConnected(client_) != 0;
  const int rc = MQTTAsync_disconnect(client_, &options);  // also ends a connect in progress
  std::unique_lock lock(mu_);
  if (was_connected && rc == MQTTASYNC_SUCCESS) {
    cv_.wait_for(lock, 5s, [this] { return disconnect_done_; });
  }
  closed_ = true;
  cv_.notify_all();
  cv_.wait(lock, [this] { return in_callback_ == 0; });
  state_ = State::kIdle;
  lock.unlock();
  host_.set_up(false);
}

bool MqttSource::replay_held() {
  std::vector<std::string> problems;
  const std::vector<HeldMessage> held = held_.load(problems);
  for (const std::string& p : problems) host_.error("held message " + p + "; left in place");
  if (held.empty()) return true;
  host_.info("handing over " + std::to_string(held.size()) +
             " message(s) held at the last stop (the buffer was full)");
  for (const HeldMessage& m : held) {
    auto delay = 50ms;
    for (;;) {
      const sdk::AppendResult r =
          host_.append(sdk::message(m.device, m.payload, m.receive_time_ms, m.variable));
      if (r.ok()) break;
      log_limited(EDGEGW_LOG_WARN, "cannot buffer a held message yet (" + r.message +
                                       "); not connecting until it is");
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, delay, [this] { return stopping_; })) return false;
      delay = std::min<std::chrono::milliseconds>(delay * 2, 1s);
    }
    held_.forget(m);
  }
  return true;
}

void MqttSource::supervise() {
  if (!replay_held()) return;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (state_ == State::kDown && Clock::now() >= next_attempt_) {
      state_ = State::kConnecting;
      ssl_error_.clear();
      lock.unlock();
      const int rc = connect();
      if (rc != MQTTASYNC_SUCCESS) connect_failed(rc, nullptr);
      lock.lock();
      continue;
    }
    if (state_ == State::kDown) {
      cv_.wait_until(lock, next_attempt_);
    } else {
      cv_.wait(lock);
    }
  }
}

int MqttSource::connect() {
  const bool v5 = config_.protocol == 5;
  MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
  MQTTAsync_connectOptions options5 = MQTTAsync_connectOptions_initializer5;
  if (v5) options = options5;
  options.keepAliveInterval = static_cast<int>(config_.keep_alive.count());
  options.connectTimeout = static_cast<int>(config_.connect_timeout.count());
  options.automaticReconnect = 0;  // the supervisor reconnects (and resubscribes)
  options.context = this;
  if (!config_.username.empty()) options.username = config_.username.c_str();
  if (!config_.password.empty()) options.password = config_.password.c_str();

  MQTTProperties properties = MQTTProperties_initializer;
  if (v5) {
    options.cleanstart = config_.clean_session ? 1 : 0;
    MQTTProperty expiry{};
    expiry.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
    // A persistent session lives until session_expiry (default: never); a clean one ends with
    // the connection.
    expiry.value.integer4 =
        config_.clean_session
            ? 0u
            : (config_.session_expiry ? static_cast<unsigned>(config_.session_expiry->count())
                                      : 0xFFFFFFFFu);
    MQTTProperties_add(&properties, &expiry);
    options.connectProperties = &properties;
    options.onSuccess5 = &on_connect_success5;
    options.onFailure5 = &on_connect_failure5;
  } else {
    options.cleansession = config_.clean_session ? 1 : 0;
    options.onSuccess = &on_connect_success;
    options.onFailure = &on_connect_failure;
  }

  MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
  if (config_.tls_enabled) {
    const TlsConfig& tls = config_.tls;
    if (!tls.ca_file.empty()) ssl.trustStore = tls.ca_file.c_str();
    if (!tls.cert_file.empty()) ssl.keyStore = tls.cert_file.c_str();
    if (!tls.key_file.empty()) ssl.privateKey = tls.key_file.c_str();
    if (!tls.key_password.empty()) ssl.privateKeyPassword = tls.key_password.c_str();
    ssl.enableServerCertAuth = tls.insecure_skip_verify ? 0 : 1;
    ssl.verify = tls.insecure_skip_verify ? 0 : 1;  // the host name against the certificate
    ssl.ssl_error_cb = &on_ssl_error;
    ssl.ssl_error_context = this;
    options.ssl = &ssl;
  }
  // Paho copies the options (strings, properties, TLS settings) before returning.
  const int rc = MQTTAsync_connect(client_, &options);
  MQTTProperties_free(&properties);
  return rc;
}

void MqttSource::subscribe() {
  std::vector<char*> filters;
  std::vector<int> qos;
  for (const TopicPattern& t : config_.topics) {
    filters.push_back(const_cast<char*>(t.filter().c_str()));
    qos.push_back(config_.qos);
  }
  MQTTAsync_responseOptions options = MQTTAsync_responseOptions_initializer;
  options.context = this;
  if (config_.protocol == 5) {
    options.onSuccess5 = &on_subscribe_success5;
    options.onFailure5 = &on_subscribe_failure5;
  } else {
    options.onSuccess = &on_subscribe_success;
    options.onFailure = &on_subscribe_failure;
  }
  const int rc = MQTTAsync_subscribeMany(client_, static_cast<int>(filters.size()), filters.data(),
                                         qos.data(), &options);
  if (rc != MQTTASYNC_SUCCESS) subscribe_failed(rc, nullptr);
}

void MqttSource::connected(bool session_present) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    state_ = State::kSubscribing;
  }
  host_.info("connected to " + config_.uri + " as client id '" + config_.client_id + "'" +
             (config_.clean_session ? ""
              : session_present     ? " (the broker kept our session)"
                                    : " (a new session: nothing was kept for us)"));
  subscribe();
}

void MqttSource::connect_failed(int code, const char* message) {
  std::string reason;
  std::chrono::milliseconds delay{};
  int failures = 0;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    ++failures_;
    failures = failures_;
    schedule_retry_locked();
    delay = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - Clock::now());
    const char* connack = connack_text(code);
    reason = connack != nullptr                    ? connack
             : message != nullptr && *message != 0 ? message
                                                   : MQTTAsync_strerror(code);
    if (!ssl_error_.empty()) reason += " (TLS: " + ssl_error_ + ")";
  }
  host_.set_up(false);
  const std::string text = "cannot connect to " + config_.uri + ": " + reason + "; attempt " +
                           std::to_string(failures) + ", next in " + seconds_text(delay);
  if (failures == 1) {
    host_.warn(text);
  } else {
    log_limited(EDGEGW_LOG_WARN, text);
  }
}

void MqttSource::subscribed(const int* granted, int count) {
  std::string refused;
  std::string downgraded;
  for (int i = 0; i < count && i < static_cast<int>(config_.topics.size()); ++i) {
    const std::string& filter = config_.topics[static_cast<std::size_t>(i)].filter();
    if (granted[i] >= 0x80) {
      refused += (refused.empty() ? "'" : ", '") + filter + "'";
    } else if (granted[i] < config_.qos) {
      downgraded += " '" + filter + "' at QoS " + std::to_string(granted[i]);
    }
  }
  if (!refused.empty()) {
    subscribe_failed(0x80, ("the broker refused the subscription to " + refused +
                            " (not authorised, or a filter it does not support)")
                               .c_str());
    return;
  }
  if (!downgraded.empty()) {
    host_.warn("the broker granted" + downgraded + " instead of QoS " +
               std::to_string(config_.qos) + ": messages may be lost at a crash");
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    state_ = State::kUp;
    failures_ = 0;
  }
  host_.info("subscribed to " + std::to_string(config_.topics.size()) + " topic filter(s)");
  host_.set_up(true);
}

void MqttSource::subscribe_failed(int code, const char* message) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    ++failures_;
    schedule_retry_locked();
  }
  host_.set_up(false);
  log_limited(EDGEGW_LOG_ERROR,
              std::string("cannot subscribe: ") +
                  (message != nullptr && *message != 0 ? message : MQTTAsync_strerror(code)) +
                  "; disconnecting and trying again later");
  MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
  options.timeout = 0;
  MQTTAsync_disconnect(client_, &options);
}

void MqttSource::connection_lost(std::string_view cause) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    failures_ = 0;
    schedule_retry_locked();
  }
  host_.set_up(false);
  log_limited(EDGEGW_LOG_WARN,
              "connection to " + config_.uri + " lost (" +
                  (cause.empty() ? std::string("no reason given") : std::string(cause)) +
                  "); reconnecting. If this repeats every few seconds, another client may be "
                  "using client id '" +
                  config_.client_id + "'");
}

void MqttSource::schedule_retry_locked() {
  state_ = State::kDown;
  backoff_ = failures_ <= 1 ? config_.reconnect_min : std::min(config_.reconnect_max, backoff_ * 2);
  // Equal jitter: at least half the backoff (no tight loop), spread over the other half so a
  // fleet of gateways does not reconnect in step after a broker restart.
  std::uniform_int_distribution<std::int64_t> jitter(0, backoff_.count() / 2);
  next_attempt_ = Clock::now() + backoff_ / 2 + std::chrono::milliseconds(jitter(rng_));
  cv_.notify_all();
}

void MqttSource::deliver(std::string_view topic, std::string_view payload) {
  std::string_view device;
  std::string_view variable;
  bool matched = false;
  for (const TopicPattern& pattern : config_.topics) {
    if (auto m = pattern.match(topic)) {
      device = m->device.empty() ? std::string_view(config_.device) : m->device;
      variable = m->variable;
      matched = true;
      break;
    }
  }
  if (!matched) {
    log_limited(EDGEGW_LOG_WARN, "a message on topic '" + std::string(topic) +
                                     "' matches none of `topics`: acknowledged and dropped (" +
                                     std::to_string(++unmatched_) + " so far)");
    return;
  }
  const edgegw_raw_message message = sdk::message(device, payload, now_ms(), variable);
  auto delay = 50ms;
  for (;;) {
    const sdk::AppendResult r = host_.append(message);
    if (r.ok()) return;
    // Not buffered: hold the message (no acknowledgement) and try again; the receive thread
    // waiting here is the back-pressure the broker sees, until stop() asks for it back.
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    log_limited(EDGEGW_LOG_WARN, "cannot buffer a message (" + r.message +
                                     "): holding it unacknowledged and retrying");
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, delay, [this] { return stopping_; })) break;
    delay = std::min<std::chrono::milliseconds>(delay * 2, 1s);
  }
  // Stopping with the message unbuffered: Paho will acknowledge it when this returns, so keep it.
  if (auto error = held_.keep(device, variable, payload, message.receive_time_ms)) {
    host_.error("stopping with a message the buffer refused, and it cannot be kept (" + *error +
                "): it is lost");
  }
}

void MqttSource::log_limited(std::int32_t level, std::string message) {
  std::uint64_t suppressed = 0;
  {
    std::lock_guard lock(log_mu_);
    const auto now = Clock::now();
    if (last_log_ != Clock::time_point{} && now - last_log_ < 10s) {
      ++suppressed_;
      return;
    }
    last_log_ = now;
    suppressed = std::exchange(suppressed_, 0);
  }
  if (suppressed > 0) {
    message += " [" + std::to_string(suppressed) + " similar message(s) suppressed]";
  }
  host_.log(level, message);
}

// --- Paho's callbacks ---------------------------------------------------------------------------

int MqttSource::on_message(void* context, char* topic, int topic_len, MQTTAsync_message* message) {
  auto* self = static_cast<MqttSource*>(context);
  {
    std::lock_guard lock(self->mu_);
    // After stop(): no host call may be made; not processed (cannot happen: disconnected).
    if (self->closed_) return 0;
    ++self->in_callback_;
  }
  {
    const std::string_view t = topic_len > 0
                                   ? std::string_view(topic, static_cast<std::size_t>(topic_len))
                                   : std::string_view(topic);
    const std::string_view payload(static_cast<const char*>(message->payload),
                                   static_cast<std::size_t>(message->payloadlen));
    try {
      self->deliver(t, payload);
    } catch (const std::exception& e) {
      self->host_.error(std::string("dropping a message: ") + e.what());
    }
    bool last_at_stop = false;
    {
      std::lock_guard lock(self->mu_);
      last_at_stop = --self->in_callback_ == 0 && self->closed_;
    }
    if (last_at_stop) self->cv_.notify_all();  // stop() waits for it; no wake-up per message
  }
  MQTTAsync_freeMessage(&message);
  MQTTAsync_free(topic);
  return 1;  // processed: Paho acknowledges it now (PUBACK / PUBCOMP)
}

void MqttSource::on_connection_lost(void* context, char* cause) {
  static_cast<MqttSource*>(context)->connection_lost(cause != nullptr ? cause : "");
}

void MqttSource::on_connect_success(void* context, MQTTAsync_successData* data) {
  static_cast<MqttSource*>(context)->connected(data != nullptr &&
                                               data->alt.connect.sessionPresent != 0);
}

void MqttSource::on_connect_failure(void* context, MQTTAsync_failureData* data) {
  static_cast<MqttSource*>(context)->connect_failed(data != nullptr ? data->code : -1,
                                                    data != nullptr ? data->message : nullptr);
}

void MqttSource::on_connect_success5(void* context, MQTTAsync_successData5* data) {
  static_cast<MqttSource*>(context)->connected(data != nullptr &&
                                               data->alt.connect.sessionPresent != 0);
}

void MqttSource::report_failure5(void* context, const MQTTAsync_failureData5* data,
                                 void (MqttSource::*failed)(int, const char*)) {
  auto* self = static_cast<MqttSource*>(context);
  // The broker's reason code is in reasonCode for a refused SUBSCRIBE, in code for a refused
  // CONNECT (Paho puts the CONNACK's there, with the message "CONNACK return code").
  const int reason_code = data == nullptr            ? 0
                          : data->reasonCode >= 0x80 ? static_cast<int>(data->reasonCode)
                                                     : data->code;
  if (reason_code >= 0x80) {
    // A static string, or NULL for a code Paho does not know.
    const char* reason = MQTTReasonCode_toString(static_cast<MQTTReasonCodes>(reason_code));
    if (reason != nullptr) {
      (self->*failed)(-1, reason);
      return;
    }
  }
  (self->*failed)(data != nullptr ? data->code : -1, data != nullptr ? data->message : nullptr);
}

void MqttSource::on_connect_failure5(void* context, MQTTAsync_failureData5* data) {
  report_failure5(context, data, &MqttSource::connect_failed);
}

void MqttSource::on_subscribe_success(void* context, MQTTAsync_successData* data) {
  auto* self = static_cast<MqttSource*>(context);
  if (self->config_.topics.size() == 1) {
    const int granted = data != nullptr ? data->alt.qos : 0x80;
    self->subscribed(&granted, 1);
  } else {
    self->subscribed(data != nullptr ? data->alt.qosList : nullptr,
                     data != nullptr ? static_cast<int>(self->config_.topics.size()) : 0);
  }
}

void MqttSource::on_subscribe_failure(void* context, MQTTAsync_failureData* data) {
  static_cast<MqttSource*>(context)->subscribe_failed(data != nullptr ? data->code : -1,
                                                      data != nullptr ? data->message : nullptr);
}

void MqttSource::on_subscribe_success5(void* context, MQTTAsync_successData5* data) {
  auto* self = static_cast<MqttSource*>(context);
  std::vector<int> granted;
  // Like MQTT 3: one filter's reason code is in reasonCode (reasonCodes is not set then).
  if (data != nullptr && self->config_.topics.size() > 1 && data->alt.sub.reasonCodes != nullptr) {
    for (int i = 0; i < data->alt.sub.reasonCodeCount; ++i) {
      granted.push_back(static_cast<int>(data->alt.sub.reasonCodes[i]));
    }
  } else {
    granted.push_back(data != nullptr ? static_cast<int>(data->reasonCode) : 0x80);
  }
  self->subscribed(granted.data(), static_cast<int>(granted.size()));
}

void MqttSource::on_subscribe_failure5(void* context, MQTTAsync_failureData5* data) {
  report_failure5(context, data, &MqttSource::subscribe_failed);
}

void MqttSource::on_disconnected(void* context, MQTTAsync_successData*) {
  auto* self = static_cast<MqttSource*>(context);
  {
    std::lock_guard lock(self->mu_);
    self->disconnect_done_ = true;
  }
  self->cv_.notify_all();
}

void MqttSource::on_disconnect_failed(void* context, MQTTAsync_failureData*) {
  on_disconnected(context, nullptr);
}

int MqttSource::on_ssl_error(const char* text, std::size_t len, void* context) {
  auto* self = static_cast<MqttSource*>(context);
  std::lock_guard lock(self->mu_);
  std::string_view line(text, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (self->ssl_error_.size() < 512) {
    if (!self->ssl_error_.empty()) self->ssl_error_ += "; ";
    self->ssl_error_ += line;
  }
  return 1;
}

}  // namespace edgegw::plugins::mqtt

extern "C" EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(
    std::uint32_t host_abi_version) {
  return edgegw::sdk::plugin_table<edgegw::plugins::mqtt::MqttSource>("mqtt", "1.0.0",
                                                                      host_abi_version);
}
