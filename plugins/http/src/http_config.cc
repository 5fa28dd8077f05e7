// SPDX-License-Identifier: Apache-2.0
#include "http_config.h"

#include <array>
#include <charconv>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "edgegw/plugin_config.h"
#include "edgegw/plugin_sdk.h"

namespace edgegw::plugins::http {
namespace {

namespace json = boost::json;
using sdk::Error;

constexpr std::array<std::string_view, 7> kKeys = {
    "listen",         "threads",         "max_connections", "max_header_bytes",
    "max_body_bytes", "request_timeout", "idle_timeout"};

[[noreturn]] void fail(std::string_view key, const std::string& what) {
  throw Error(EDGEGW_ERR_INVALID_ARGUMENT, std::string(key) + ": " + what);
}

std::string known_keys() {
  std::string out;
  for (std::string_view k : kKeys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

std::uint64_t read_count(std::string_view key, const json::value& v, std::uint64_t lo,
                         std::uint64_t hi) {
  std::uint64_t n = 0;
  if (v.is_uint64()) {
    n = v.get_uint64();
  } else if (v.is_int64() && v.get_int64() >= 0) {
    n = static_cast<std::uint64_t>(v.get_int64());
  } else {
    fail(key, "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  if (n < lo || n > hi) {
    fail(key, std::to_string(n) + " is outside " + std::to_string(lo) + " … " + std::to_string(hi));
  }
  return n;
}

std::chrono::milliseconds read_duration(std::string_view key, const json::value& v) {
  std::optional<std::chrono::milliseconds> d;
  if (v.is_string()) d = sdk::parse_duration(std::string_view(v.get_string()));
  if (v.is_int64() && v.get_int64() >= 0) d = std::chrono::milliseconds(v.get_int64());
  if (!d || d->count() <= 0) fail(key, "expected a positive duration such as 250ms, 10s or 5m");
  return *d;
}

void read_listen(const json::value& v, Config& c) {
  if (!v.is_string()) fail("listen", "expected \"host:port\"");
  const std::string_view text = v.get_string();
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    fail("listen", "'" + std::string(text) + "' needs a host and a port (host:port)");
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:8080
  }
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    fail("listen", "'" + std::string(port) + "' is not a port (0 … 65535)");
  }
  c.host = std::string(host);
  c.port = static_cast<std::uint16_t>(value);
}

}  // namespace

Config parse_config(std::string_view config_json) {
  json::error_code ec;
  const json::value root = json::parse(config_json, ec);
  if (ec || !root.is_object()) {
    throw Error(EDGEGW_ERR_INVALID_ARGUMENT, "config: expected a map of settings");
  }
  Config c;
  for (const auto& [k, v] : root.get_object()) {
    const std::string_view key = k;
    if (key == "listen") {
      read_listen(v, c);
    } else if (key == "threads") {
      c.threads = read_count(key, v, 1, 64);
    } else if (key == "max_connections") {
      c.max_connections = read_count(key, v, 1, 100'000);
    } else if (key == "max_header_bytes") {
      c.max_header_bytes = read_count(key, v, 1024, 1 << 20);
    } else if (key == "max_body_bytes") {
      c.max_body_bytes = read_count(key, v, 1024, 64 << 20);
    } else if (key == "request_timeout") {
      c.request_timeout = read_duration(key, v);
    } else if (key == "idle_timeout") {
      c.idle_timeout = read_duration(key, v);
    } else {
      fail(key, "unknown key; known keys: " + known_keys());
    }
  }
  return c;
}

}  // namespace edgegw::plugins::http
