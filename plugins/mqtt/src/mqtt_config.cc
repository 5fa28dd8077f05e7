// SPDX-License-Identifier: Apache-2.0
#include "mqtt_config.h"

#include <unistd.h>

#include <array>
#include <stdexcept>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "edgegw/plugin_config.h"

namespace edgegw::plugins::mqtt {
namespace {

namespace json = boost::json;

[[noreturn]] void fail(std::string_view key, const std::string& what) {
  throw std::invalid_argument(std::string(key) + ": " + what);
}

std::string get_string(std::string_view key, const json::value& v) {
  if (!v.is_string()) fail(key, "expected a string");
  return std::string(v.as_string());
}

bool get_bool(std::string_view key, const json::value& v) {
  if (!v.is_bool()) fail(key, "expected true or false");
  return v.as_bool();
}

// A duration as the gateway's config writes it, or a number of milliseconds.
std::chrono::milliseconds get_duration(std::string_view key, const json::value& v) {
  std::optional<std::chrono::milliseconds> d;
  if (v.is_int64() && v.as_int64() >= 0) d = std::chrono::milliseconds(v.as_int64());
  if (v.is_string()) d = sdk::parse_duration(v.as_string());
  if (!d) fail(key, "expected a duration such as 250ms, 10s, 5m, 1h or 7d");
  return *d;
}

std::string default_client_id(std::string_view source_name) {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::string id = "edgegw-";
  id += host.data()[0] != '\0' ? host.data() : "gateway";
  id += '-';
  id += source_name;
  return id;
}

constexpr std::string_view kKnownKeys =
    "uri, client_id, topics, qos, username, password, clean_session, protocol, session_expiry, "
    "keep_alive, connect_timeout, reconnect_min, reconnect_max, coalesce, device, receive_maximum, "
    "topic_alias_maximum, max_packet_size, ca_file, cert_file, key_file, key_password, "
    "tls_insecure_skip_verify, persistence_dir (unused since 0.2)";

// host and port of "tcp://host:port", "ssl://[::1]:8883", "tcp://broker" (the default port).
void split_uri(MqttConfig& c) {
  std::string_view rest = std::string_view(c.uri).substr(6);  // after "tcp://" or "ssl://"
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") fail("uri", "expected no path after host:port");
    rest = rest.substr(0, slash);
  }
  std::string_view port;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) fail("uri", "an IPv6 address needs its closing ']'");
    c.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') fail("uri", "expected :port after the IPv6 address");
      port = rest.substr(1);
    }
  } else {
    const auto colon = rest.rfind(':');
    c.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (c.host.empty()) fail("uri", "names no host, e.g. tcp://127.0.0.1:1883");
  c.port = c.tls_enabled ? 8883 : 1883;
  if (!port.empty()) {
    unsigned long n = 0;
    for (char ch : port) {
      if (ch < '0' || ch > '9' || n > 65535) fail("uri", "bad port '" + std::string(port) + "'");
      n = n * 10 + static_cast<unsigned long>(ch - '0');
    }
    if (n == 0 || n > 65535) fail("uri", "bad port '" + std::string(port) + "'");
    c.port = static_cast<std::uint16_t>(n);
  }
}

}  // namespace

MqttConfig parse_config(std::string_view config_json, std::string_view source_name) {
  boost::system::error_code ec;
  const json::value root = json::parse(config_json, ec);
  if (ec || !root.is_object()) fail("config", "expected a mapping of the mqtt source's keys");
  MqttConfig c;
  bool have_topics = false;
  std::vector<std::string> v5_only;  // MQTT 5 keys that were set
  for (const auto& [k, v] : root.as_object()) {
    const std::string_view key = k;
    if (key == "uri") {
      c.uri = get_string(key, v);
    } else if (key == "client_id") {
      c.client_id = get_string(key, v);
      if (c.client_id.empty()) fail(key, "must not be empty (leave it out for the default)");
    } else if (key == "topics") {
      if (v.is_string()) fail(key, "expected a list of topics, e.g. [\"sensors/{device}/data\"]");
      if (!v.is_array() || v.as_array().empty()) fail(key, "expected a non-empty list of topics");
      std::size_t i = 0;
      for (const json::value& t : v.as_array()) {
        const std::string at = "topics[" + std::to_string(i++) + "]";
        std::string error;
        auto pattern = TopicPattern::parse(get_string(at, t), &error);
        if (!pattern) fail(at, error);
        c.topics.push_back(std::move(*pattern));
      }
      have_topics = true;
    } else if (key == "qos") {
      if (!v.is_int64() || v.as_int64() < 0 || v.as_int64() > 2) fail(key, "expected 0, 1 or 2");
      c.qos = static_cast<int>(v.as_int64());
    } else if (key == "username") {
      c.username = get_string(key, v);
    } else if (key == "password") {
      if (!v.is_string()) fail(key, "expected a string");  // never quote the value
      c.password = std::string(v.as_string());
    } else if (key == "clean_session") {
      c.clean_session = get_bool(key, v);
    } else if (key == "protocol") {
      const std::string p = v.is_string()   ? std::string(v.as_string())
                            : v.is_int64()  ? std::to_string(v.as_int64())
                            : v.is_double() ? std::to_string(v.as_double())
                                            : std::string();
      if (p == "5" || p == "5.0") {
        c.protocol = 5;
      } else if (p == "3.1.1" || p == "4") {
        c.protocol = 4;
      } else {
        fail(key, "expected \"3.1.1\" or \"5\"");
      }
    } else if (key == "session_expiry") {
      if (v.is_string() && v.as_string() == "never") {
        c.session_expiry.reset();
      } else {
        c.session_expiry = std::chrono::duration_cast<std::chrono::seconds>(get_duration(key, v));
      }
    } else if (key == "keep_alive") {
      c.keep_alive = std::chrono::duration_cast<std::chrono::seconds>(get_duration(key, v));
      if (c.keep_alive.count() < 1 || c.keep_alive.count() > 65535) {
        fail(key, "expected between 1s and 65535s");
      }
    } else if (key == "connect_timeout") {
      c.connect_timeout = std::chrono::duration_cast<std::chrono::seconds>(get_duration(key, v));
      if (c.connect_timeout.count() < 1) fail(key, "expected at least 1s");
    } else if (key == "reconnect_min") {
      c.reconnect_min = get_duration(key, v);
    } else if (key == "reconnect_max") {
      c.reconnect_max = get_duration(key, v);
    } else if (key == "coalesce") {
      c.coalesce = get_duration(key, v);
      if (c.coalesce > std::chrono::milliseconds(100)) fail(key, "expected at most 100ms");
    } else if (key == "device") {
      c.device = get_string(key, v);
    } else if (key == "persistence_dir") {
      (void)get_string(key, v);
      c.persistence_dir_set = true;
    } else if (key == "receive_maximum") {
      if (!v.is_int64() || v.as_int64() < 1 || v.as_int64() > 65535) {
        fail(key, "expected 1 to 65535");
      }
      c.receive_maximum = static_cast<int>(v.as_int64());
      v5_only.emplace_back(key);
    } else if (key == "topic_alias_maximum") {
      if (!v.is_int64() || v.as_int64() < 0 || v.as_int64() > 65535) {
        fail(key, "expected 0 to 65535");
      }
      c.topic_alias_maximum = static_cast<int>(v.as_int64());
      v5_only.emplace_back(key);
    } else if (key == "max_packet_size") {
      std::optional<std::uint64_t> size;
      if (v.is_int64() && v.as_int64() > 0) size = static_cast<std::uint64_t>(v.as_int64());
      if (v.is_string()) size = sdk::parse_size(v.as_string());
      if (!size || *size < 1024 || *size > 268'435'460) {
        fail(key, "expected a size from 1KiB to 256MiB, such as 512KiB or 8MiB");
      }
      c.max_packet_size = static_cast<std::uint32_t>(*size);
    } else if (key == "ca_file") {
      c.tls.ca_file = get_string(key, v);
    } else if (key == "cert_file") {
      c.tls.cert_file = get_string(key, v);
    } else if (key == "key_file") {
      c.tls.key_file = get_string(key, v);
    } else if (key == "key_password") {
      if (!v.is_string()) fail(key, "expected a string");
      c.tls.key_password = std::string(v.as_string());
    } else if (key == "tls_insecure_skip_verify") {
      c.tls.insecure_skip_verify = get_bool(key, v);
    } else {
      fail(key, "unknown key of the mqtt plugin (known: " + std::string(kKnownKeys) + ")");
    }
  }

  if (c.uri.empty()) fail("uri", "required, e.g. tcp://127.0.0.1:1883 or ssl://broker:8883");
  if (c.uri.starts_with("ssl://")) {
    c.tls_enabled = true;
  } else if (!c.uri.starts_with("tcp://")) {
    fail("uri", "expected tcp://host:port or ssl://host:port");
  }
  if (c.uri.find('@') != std::string::npos) {
    fail("uri", "must not hold credentials: use username and password");
  }
  split_uri(c);
  if (!have_topics) fail("topics", "required, e.g. [\"sensors/{device}/data\"]");
  if (c.client_id.empty()) c.client_id = default_client_id(source_name);
  for (std::size_t i = 0; i < c.topics.size(); ++i) {
    if (!c.topics[i].captures_device() && c.device.empty()) {
      fail("topics[" + std::to_string(i) + "]",
           "has no {device} capture: add one, or set `device:` to the key of its device");
    }
  }
  if (!c.tls_enabled) {
    for (const auto& [key, value] :
         {std::pair<std::string_view, const std::string&>{"ca_file", c.tls.ca_file},
          {"cert_file", c.tls.cert_file},
          {"key_file", c.tls.key_file}}) {
      if (!value.empty()) fail(key, "is only used with an ssl:// uri");
    }
  }
  if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
    fail(c.tls.cert_file.empty() ? "cert_file" : "key_file",
         "a client certificate needs both cert_file and key_file");
  }
  if (!c.password.empty() && c.username.empty()) {
    fail("password", "is set but username is not");
  }
  for (const std::string& key : v5_only) {
    if (c.protocol != 5) fail(key, "is an MQTT 5 setting: add protocol: \"5\"");
  }
  if (c.session_expiry && c.protocol != 5) {
    fail("session_expiry", "is an MQTT 5 setting: add protocol: \"5\"");
  }
  if (c.reconnect_min.count() < 10) fail("reconnect_min", "expected at least 10ms");
  if (c.reconnect_max < c.reconnect_min) fail("reconnect_max", "must not be below reconnect_min");
  return c;
}

}  // namespace edgegw::plugins::mqtt
