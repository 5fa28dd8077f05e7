// SPDX-License-Identifier: Apache-2.0
// The example plugin: a minimal source that, once started, appends `count` raw messages through
// the host, one every `interval`, retrying while the host says the buffer is full. It shows the
// ABI's contract (acknowledge only what append() accepted) and is what the host's tests load.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "edgegw/log_limiter.h"
#include "edgegw/plugin_config.h"
#include "edgegw/plugin_sdk.h"
#include "edgegw/plugin_worker.h"

namespace edgegw::plugins::example {
namespace {

using sdk::Error;

// "250ms", "2s", or a number of milliseconds.
std::chrono::milliseconds parse_interval(const boost::json::value& v) {
  std::optional<std::chrono::milliseconds> d;
  if (v.is_int64() && v.as_int64() >= 0) d = std::chrono::milliseconds(v.as_int64());
  if (v.is_string()) d = sdk::parse_duration(v.as_string());
  if (!d) {
    throw Error(EDGEGW_ERR_INVALID_ARGUMENT,
                "interval: expected a duration such as 100ms or 2s, or milliseconds");
  }
  return *d;
}

class ExampleSource {
 public:
  ExampleSource(sdk::Host host, std::string_view name, std::string_view config_json)
      : host_(host), limited_(host), name_(name) {
    boost::system::error_code ec;
    const boost::json::value config = boost::json::parse(config_json, ec);
    if (ec || !config.is_object()) {
      throw Error(EDGEGW_ERR_INVALID_ARGUMENT, "config: expected a JSON object");
    }
    for (const auto& [key, value] : config.as_object()) {
      if (key == "device" && value.is_string()) {
        device_ = value.as_string();
      } else if (key == "payload" && value.is_string()) {
        payload_ = value.as_string();
      } else if (key == "variable" && value.is_string()) {
        variable_ = value.as_string();
      } else if (key == "count" && value.is_int64() && value.as_int64() >= 0) {
        count_ = value.as_int64();
      } else if (key == "batch" && value.is_int64() && value.as_int64() >= 1) {
        batch_ = value.as_int64();
      } else if (key == "interval") {
        interval_ = parse_interval(value);
      } else if (key == "device" || key == "payload" || key == "variable" || key == "count" ||
                 key == "batch") {
        throw Error(EDGEGW_ERR_INVALID_ARGUMENT, std::string(key) + ": wrong type");
      } else {
        throw Error(EDGEGW_ERR_INVALID_ARGUMENT,
                    std::string(key) +
                        ": unknown key (known: device, payload, variable, count, batch, interval)");
      }
    }
    if (device_.empty()) throw Error(EDGEGW_ERR_INVALID_ARGUMENT, "device: required");
  }

  ~ExampleSource() { stop(); }

  void start() {
    host_.set_up(true);
    worker_.start([this] { run(); });
  }

  void stop() { worker_.stop(); }

 private:
  bool pause(std::chrono::milliseconds d) { return worker_.pause(d); }

  void run() {
    std::vector<std::string> payloads;
    std::vector<edgegw_raw_message> messages;
    std::int64_t sent = 0;
    while (sent < count_) {
      payloads.clear();
      messages.clear();
      const std::int64_t n = std::min(batch_, count_ - sent);
      for (std::int64_t i = 0; i < n; ++i) payloads.push_back(render(sent + i + 1));
      const std::int64_t time = sdk::now_ms();
      for (const auto& p : payloads) messages.push_back(sdk::message(device_, p, time, variable_));
      // Retry while full: what append() refused is not acknowledged, it is sent again.
      for (;;) {
        const sdk::AppendResult r = host_.append(messages);
        if (r.ok()) break;
        if (!r.full()) {
          host_.error("append failed, giving up: " + r.message);
          return;
        }
        // Repeated warnings go through the SDK's per-key limiter: one line per key per 10 s.
        limited_.log(EDGEGW_LOG_WARN, "full",
                     [&] { return "the buffer is full (" + r.message + "): retrying"; });
        if (!pause(std::max(interval_, std::chrono::milliseconds(50)))) return;
      }
      sent += n;
      if (sent < count_ && interval_.count() > 0 && !pause(interval_)) return;
      if (worker_.stopping()) return;
    }
    host_.info("sent " + std::to_string(sent) + " message(s)");
  }

  // The payload with every "{i}" replaced by the message's number (1-based).
  std::string render(std::int64_t i) const {
    std::string out;
    const std::string n = std::to_string(i);
    std::size_t pos = 0;
    for (;;) {
      const std::size_t at = payload_.find("{i}", pos);
      out.append(payload_, pos, at == std::string::npos ? std::string::npos : at - pos);
      if (at == std::string::npos) break;
      out += n;
      pos = at + 3;
    }
    return out;
  }

  sdk::Host host_;
  sdk::LogLimiter limited_;
  std::string name_;
  std::string device_;
  std::string payload_ = "{}";
  std::string variable_;
  std::int64_t count_ = 1;
  std::int64_t batch_ = 1;
  std::chrono::milliseconds interval_{0};

  sdk::Worker worker_;  // last: stopped before the members its thread uses go
};

}  // namespace
}  // namespace edgegw::plugins::example

extern "C" EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(
    std::uint32_t host_abi_version) {
  return edgegw::sdk::plugin_table<edgegw::plugins::example::ExampleSource>("example", "0.1.0",
                                                                            host_abi_version);
}
