// SPDX-License-Identifier: Apache-2.0
#include "mqtt_source.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "edgegw/plugin_worker.h"
#include "legacy_held.h"

namespace edgegw::plugins::mqtt {
namespace {

// The source state key of a stored QoS 2 packet id: "q2" and the id, big-endian.
constexpr std::string_view kQos2Prefix = "q2";

std::array<char, 4> qos2_key(std::uint16_t id) {
  return {'q', '2', static_cast<char>(id >> 8), static_cast<char>(id & 0xFF)};
}

void check_readable(std::string_view key, const std::string& path) {
  if (path.empty()) return;
  std::ifstream in(path);
  if (!in) {
    throw sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT,
                     std::string(key) + ": cannot read '" + path + "': " + std::strerror(errno));
  }
}

std::int32_t abi_level(LogNote::Level level) {
  switch (level) {
    case LogNote::Level::kInfo:
      return EDGEGW_LOG_INFO;
    case LogNote::Level::kWarn:
      return EDGEGW_LOG_WARN;
    case LogNote::Level::kError:
      return EDGEGW_LOG_ERROR;
  }
  return EDGEGW_LOG_ERROR;
}

SessionConfig session_config(const MqttConfig& c) {
  SessionConfig s;
  s.version = c.protocol == 5 ? codec::Version::k5 : codec::Version::k311;
  s.broker = c.uri;
  s.client_id = c.client_id;
  s.clean_start = c.clean_session;
  if (c.session_expiry) s.session_expiry = static_cast<std::uint32_t>(c.session_expiry->count());
  s.keep_alive = c.keep_alive;
  s.connect_timeout = c.connect_timeout;
  s.username = c.username;
  s.password = c.password;
  s.receive_maximum = static_cast<std::uint16_t>(c.receive_maximum);
  s.topic_alias_maximum = static_cast<std::uint16_t>(c.topic_alias_maximum);
  s.max_packet_size = c.max_packet_size;
  for (const TopicPattern& t : c.topics) {
    s.subscriptions.push_back({t.filter(), static_cast<std::uint8_t>(c.qos)});
  }
  return s;
}

}  // namespace

MqttSource::MqttSource(sdk::Host host, std::string_view name, std::string_view config_json,
                       std::string_view state_dir)
    : host_(host), name_(name), limited_(host) {
  try {
    config_ = parse_config(config_json, name);
  } catch (const std::invalid_argument& e) {
    throw sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT, e.what());
  }
  check_readable("ca_file", config_.tls.ca_file);
  check_readable("cert_file", config_.tls.cert_file);
  check_readable("key_file", config_.tls.key_file);
  if (config_.qos == 2 && host_.source_state() == nullptr) {
    // QoS 2 is kept only with its packet ids in the same durable write as its messages.
    throw sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT,
                     "qos: 2 needs a gateway that keeps source state (plugin ABI 1.3)");
  }
  if (!state_dir.empty()) held_dir_ = std::string(state_dir) + "/held";

  ClientConfig client;
  client.uri = config_.uri;
  client.host = config_.host;
  client.port = config_.port;
  client.connect_timeout = config_.connect_timeout;
  client.reconnect_min = config_.reconnect_min;
  client.reconnect_max = config_.reconnect_max;
  client.coalesce = config_.coalesce;
  client.session = session_config(config_);
  if (config_.tls_enabled) {
    TlsSettings tls;
    tls.ca_file = config_.tls.ca_file;
    tls.cert_file = config_.tls.cert_file;
    tls.key_file = config_.tls.key_file;
    tls.key_password = config_.tls.key_password;
    tls.verify = !config_.tls.insecure_skip_verify;
    try {
      client.tls = make_tls_context(tls);
    } catch (const std::runtime_error& e) {
      throw sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT, e.what());
    }
    client.verify_host = tls.verify;
  }
  client_ = std::make_unique<Client>(std::move(client), *this);
}

MqttSource::~MqttSource() { stop(); }

void MqttSource::start() {
  if (config_.tls_enabled && config_.tls.insecure_skip_verify) {
    host_.warn(
        "tls_insecure_skip_verify is set: the broker's certificate and host name are NOT "
        "verified; anyone on the path can read and forge this source's messages");
  }
  if (config_.persistence_dir_set) {
    host_.warn(
        "persistence_dir is no longer used (QoS 2 state is kept in the gateway's buffer): "
        "remove it from the config");
  }
  client_->start();
}

void MqttSource::stop() {
  if (client_) client_->stop();
  limited_.flush(EDGEGW_LOG_WARN, true);  // the counts no later line said
}

ClientHandler::StoreResult MqttSource::store(const Inbound& in, std::string& error) {
  messages_.clear();
  changes_.clear();
  state_keys_.clear();
  const std::int64_t now = sdk::now_ms();
  for (const Delivery& d : in.deliveries) {
    std::optional<TopicMatch> match;
    for (const TopicPattern& pattern : config_.topics) {
      if ((match = pattern.match(d.topic))) break;
    }
    if (!match) {
      ++unmatched_;
      limited_.log(EDGEGW_LOG_WARN, "unmatched", [&] {
        return "a message on topic '" + std::string(d.topic) +
               "' matches none of `topics`: acknowledged and dropped (" +
               std::to_string(unmatched_) + " so far)";
      });
      continue;
    }
    const std::string_view device =
        match->device.empty() ? std::string_view(config_.device) : match->device;
    messages_.push_back(sdk::message(device, d.payload, now, match->variable));
  }
  sdk::AppendResult r;
  if (in.qos2.empty()) {
    r = host_.append(messages_);
  } else {
    state_keys_.reserve(in.qos2.size());  // the changes point into it
    for (const Qos2Change& q : in.qos2) {
      const std::string_view key(state_keys_.emplace_back(qos2_key(q.packet_id)).data(), 4);
      changes_.push_back(q.stored ? sdk::state_put(key, {}) : sdk::state_delete(key));
    }
    r = host_.append_with_state(messages_, changes_);
  }
  switch (r.code) {
    case EDGEGW_OK:
      return StoreResult::kOk;
    case EDGEGW_ERR_FULL:
      error = r.message;
      return StoreResult::kFull;
    case EDGEGW_ERR_STOPPED:
      return StoreResult::kStopped;
    default:
      error = r.message;
      return StoreResult::kFailed;
  }
}

bool MqttSource::load_qos2(Session::Qos2Ids& ids, std::string& error) {
  ids.reset();
  const edgegw_source_state* state = host_.source_state();
  if (state == nullptr) return true;  // nothing was ever stored (qos 2 is refused without it)
  char text[256] = {};
  const std::int32_t code = state->load(
      host_.host_ptr(),
      [](void* context, edgegw_bytes key, edgegw_bytes) {
        const std::string_view k = sdk::view(key);
        if (k.size() == 4 && k.starts_with(kQos2Prefix)) {
          const auto id = static_cast<std::uint16_t>(static_cast<unsigned char>(k[2]) << 8 |
                                                     static_cast<unsigned char>(k[3]));
          static_cast<Session::Qos2Ids*>(context)->set(id);
        }
      },
      &ids, text, sizeof text);
  if (code != EDGEGW_OK) error = text;
  return code == EDGEGW_OK;
}

bool MqttSource::ready_to_connect() {
  // Messages an older edgegw kept at a stop are older than anything the broker has: they go
  // first, and nothing is read from the broker until they are in the buffer.
  std::vector<std::string> problems;
  const std::vector<HeldMessage> held = load_held(held_dir_, problems);
  for (const std::string& p : problems) host_.error("held message " + p + "; left in place");
  if (held.empty()) return true;
  host_.info("handing over " + std::to_string(held.size()) +
             " message(s) held at the last stop (the buffer was full)");
  for (const HeldMessage& m : held) {
    const sdk::AppendResult r =
        host_.append(sdk::message(m.device, m.payload, m.receive_time_ms, m.variable));
    if (!r.ok()) {
      limited_.log(
          EDGEGW_LOG_WARN, "held",
          "cannot buffer a held message yet (" + r.message + "); not connecting until it is");
      return false;
    }
    forget_held(m);
  }
  return true;
}

void MqttSource::log(LogNote::Level level, std::string_view key, std::string message) {
  if (key.empty()) {
    host_.log(abi_level(level), message);
  } else {
    limited_.log(abi_level(level), key, std::move(message));
  }
}

void MqttSource::set_up(bool up) { host_.set_up(up); }

}  // namespace edgegw::plugins::mqtt

extern "C" EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(
    std::uint32_t host_abi_version) {
  return edgegw::sdk::plugin_table<edgegw::plugins::mqtt::MqttSource>("mqtt", "2.0.0",
                                                                      host_abi_version);
}
