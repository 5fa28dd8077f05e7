// SPDX-License-Identifier: Apache-2.0
// The simulator source plugin: N synthetic devices (fleet.h) paced by rate and bursts (pacer.h),
// handed to the host as raw tago_json messages through the same append() as MQTT or serial
// input, so they are decoded, validated, mapped and buffered like real ones. What append()
// refuses (buffer full) is kept and sent again: the simulator never skips a seq.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "edgegw/log_limiter.h"
#include "edgegw/plugin_sdk.h"
#include "edgegw/plugin_worker.h"
#include "fleet.h"
#include "pacer.h"
#include "sim_config.h"

namespace edgegw::plugins::simulator {
namespace {

using namespace std::chrono_literals;

class SimulatorSource {
 public:
  SimulatorSource(sdk::Host host, std::string_view name, std::string_view config_json)
      : host_(host),
        limited_(host),
        name_(name),
        config_(parse_config(config_json)),
        fleet_(config_.fleet) {}

  ~SimulatorSource() { stop(); }

  void start() {
    host_.info(std::to_string(fleet_.size()) + " simulated device(s) (" + fleet_.key(0) +
               " ...), " +
               (config_.rate > 0 ? std::to_string(config_.rate) + " message(s)/s each"
                                 : std::string("as fast as the buffer takes them")));
    host_.set_up(true);
    worker_.start([this] { run(); });
  }

  void stop() { worker_.stop(); }

 private:
  void run() {
    const double devices = static_cast<double>(fleet_.size());
    Pacer pacer(config_.rate * devices, config_.burst_every, config_.burst_messages * fleet_.size(),
                Pacer::Clock::now());
    std::uint64_t pending = 0;
    while (!done()) {
      if (config_.rate > 0) {
        pending += pacer.take(Pacer::Clock::now());
      } else {
        pending = config_.batch;  // unthrottled: one batch after the other
      }
      while (pending > 0 && !done()) {
        if (config_.count > 0) pending = std::min(pending, config_.count - sent_);
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(pending, config_.batch));
        if (!send(n)) return finish();
        pending -= n;
      }
      if (done()) break;
      if (config_.rate <= 0) continue;  // unthrottled: the next batch at once
      const auto next = std::min(pacer.next_due(), Pacer::Clock::now() + 10ms);
      if (!worker_.pause_until(next)) break;
    }
    finish();
  }

  bool done() { return (config_.count > 0 && sent_ >= config_.count) || worker_.stopping(); }

  // Renders n messages (devices in turn) and appends them, again while the buffer is full.
  // False when stopped (or on an error that will not go away).
  bool send(std::size_t n) {
    payloads_.resize(n);
    messages_.clear();
    const std::int64_t t = sdk::now_ms();
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t d = next_device_;
      next_device_ = (next_device_ + 1) % fleet_.size();
      fleet_.next(d, t, payloads_[k]);
      messages_.push_back(sdk::message(fleet_.key(d), payloads_[k], t));
    }
    for (int failures = 0;; ++failures) {
      const sdk::AppendResult r = host_.append(messages_);
      if (r.ok()) break;
      if (r.code == EDGEGW_ERR_STOPPED) return false;
      if (r.code == EDGEGW_ERR_INVALID_ARGUMENT) {
        host_.error("append refused, stopping the simulation: " + r.message);
        return false;
      }
      // Full (back-pressure) or an I/O error: keep these messages and try again.
      // Once per refused batch, and at most once per 10 s (a full buffer refuses many batches).
      if (failures == 0) {
        limited_.log(EDGEGW_LOG_WARN, r.full() ? "full" : "append",
                     [&] { return "append failed, retrying: " + r.message; });
      }
      if (!worker_.pause(r.full() ? 50ms : 1000ms)) return false;
    }
    sent_ += n;
    return true;
  }

  void finish() {
    host_.info("sent " + std::to_string(sent_) +
               " message(s): " + std::to_string(fleet_.readings()) + " reading(s), " +
               std::to_string(fleet_.malformed()) + " malformed on purpose");
    if (config_.count > 0 && sent_ >= config_.count) host_.set_up(false);
  }

  sdk::Host host_;
  sdk::LogLimiter limited_;
  std::string name_;
  SimConfig config_;
  Fleet fleet_;
  std::vector<std::string> payloads_;
  std::vector<edgegw_raw_message> messages_;
  std::size_t next_device_ = 0;
  std::uint64_t sent_ = 0;

  sdk::Worker worker_;  // last: stopped before the members its thread uses go
};

}  // namespace
}  // namespace edgegw::plugins::simulator

extern "C" EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(
    std::uint32_t host_abi_version) {
  return edgegw::sdk::plugin_table<edgegw::plugins::simulator::SimulatorSource>(
      "simulator", "1.0.0", host_abi_version);
}
