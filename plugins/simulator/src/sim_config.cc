// SPDX-License-Identifier: Apache-2.0
#include "sim_config.h"

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "edgegw/plugin_config.h"
#include "edgegw/plugin_sdk.h"

namespace edgegw::plugins::simulator {
namespace {

namespace json = boost::json;
using sdk::Error;

[[noreturn]] void fail(std::string_view key, const std::string& why) {
  throw Error(EDGEGW_ERR_INVALID_ARGUMENT, std::string(key) + ": " + why);
}

double number(const json::value& v, std::string_view key, double min, double max) {
  if (!v.is_number()) fail(key, "expected a number");
  const double d = v.to_number<double>();
  if (!(d >= min && d <= max)) {
    fail(key, std::to_string(d) + " is out of range (" + std::to_string(min) + " .. " +
                  std::to_string(max) + ")");
  }
  return d;
}

std::uint64_t integer(const json::value& v, std::string_view key, std::uint64_t min,
                      std::uint64_t max) {
  if (!v.is_int64() && !v.is_uint64()) fail(key, "expected a whole number");
  if (v.is_int64() && v.as_int64() < 0) fail(key, "must not be negative");
  const std::uint64_t n = v.is_int64() ? static_cast<std::uint64_t>(v.as_int64()) : v.as_uint64();
  if (n < min || n > max) {
    fail(key, std::to_string(n) + " is out of range (" + std::to_string(min) + " .. " +
                  std::to_string(max) + ")");
  }
  return n;
}

std::chrono::milliseconds duration(const json::value& v, std::string_view key) {
  std::optional<std::chrono::milliseconds> d;
  if (v.is_int64() && v.as_int64() >= 0) d = std::chrono::milliseconds(v.as_int64());
  if (v.is_string()) d = sdk::parse_duration(v.as_string());
  if (!d) fail(key, "expected a duration such as 500ms or 10s");
  return *d;
}

void parse_burst(const json::value& v, SimConfig& c) {
  if (!v.is_object()) fail("burst", "expected an object {every, messages}");
  for (const auto& [key, value] : v.as_object()) {
    if (key == "every") {
      c.burst_every = duration(value, "burst.every");
    } else if (key == "messages") {
      c.burst_messages = integer(value, "burst.messages", 0, 1'000'000);
    } else {
      fail("burst." + std::string(key), "unknown key (known: every, messages)");
    }
  }
  if ((c.burst_every.count() > 0) != (c.burst_messages > 0)) {
    fail("burst", "needs both every (> 0) and messages (> 0)");
  }
}

}  // namespace

SimConfig parse_config(std::string_view text) {
  boost::system::error_code ec;
  const json::value config = json::parse(text, ec);
  if (ec || !config.is_object())
    throw Error(EDGEGW_ERR_INVALID_ARGUMENT, "config: expected an object");
  SimConfig c;
  for (const auto& [key, value] : config.as_object()) {
    if (key == "devices") {
      c.fleet.devices = static_cast<std::uint32_t>(integer(value, "devices", 1, 1'000'000));
    } else if (key == "key_pattern") {
      if (!value.is_string() || value.as_string().empty()) fail(key, "expected a non-empty string");
      c.fleet.key_pattern = value.as_string();
    } else if (key == "rate") {
      c.rate = number(value, "rate", 0, 1e6);
    } else if (key == "variables") {
      if (!value.is_array() || value.as_array().empty()) {
        fail(key, "expected a non-empty list of " + std::string(kWaveformNames));
      }
      c.fleet.variables.clear();
      for (std::size_t i = 0; i < value.as_array().size(); ++i) {
        const json::value& v = value.as_array()[i];
        const auto w = v.is_string() ? parse_waveform(v.as_string()) : std::nullopt;
        if (!w) {
          fail("variables[" + std::to_string(i) + "]",
               "expected one of " + std::string(kWaveformNames));
        }
        c.fleet.variables.push_back(*w);
      }
    } else if (key == "malformed") {
      c.fleet.malformed = number(value, "malformed", 0, 1);
    } else if (key == "seed") {
      c.fleet.seed = integer(value, "seed", 0, UINT64_MAX);
    } else if (key == "burst") {
      parse_burst(value, c);
    } else if (key == "count") {
      c.count = integer(value, "count", 0, UINT64_MAX);
    } else if (key == "batch") {
      c.batch = static_cast<std::uint32_t>(integer(value, "batch", 1, 10'000));
    } else {
      fail(key,
           "unknown key (known: devices, key_pattern, rate, variables, malformed, seed, burst, "
           "count, batch)");
    }
  }
  if (c.fleet.devices > 1 && c.fleet.key_pattern.find("{n}") == std::string::npos) {
    fail("key_pattern", "must contain {n} when devices > 1 (every device needs its own key)");
  }
  return c;
}

}  // namespace edgegw::plugins::simulator
