// SPDX-License-Identifier: Apache-2.0
// edgegw-simulate: the simulator's devices (fleet.h) publishing over MQTT, one message per
// device at a time to `sim/{device}/data` (tago_json), so the demo and the end-to-end bench
// exercise the real MQTT path: broker, mqtt plugin, PUBACK after the durable append.
// Each reading's `time` is its publish time: the cloud emulator measures latency from it.
//
//   edgegw-simulate --uri tcp://127.0.0.1:1883 --devices 100 --rate 10 --duration 30
//
// Prints one JSON summary line at the end; exits 1 if a publish failed.
//
// Paho MQTT C++ publishes: the gateway's own MQTT client only subscribes (plugins/mqtt/src/).
#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "edgegw/plugin_worker.h"
#include "fleet.h"
#include "pacer.h"

namespace edgegw::plugins::simulator {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: edgegw-simulate [options]\n"
    "  --uri URI            the broker [tcp://127.0.0.1:1883]\n"
    "  --topic PATTERN      {device} is the device key [sim/{device}/data]\n"
    "  --devices N          simulated devices [10]\n"
    "  --key-pattern P      device keys, {n} = 1..N [sim-{n}]\n"
    "  --rate R             messages per second per device; 0: as fast as acknowledged [1]\n"
    "  --variables LIST     comma-separated: temperature,counter,switch,gps [all four]\n"
    "  --malformed F        fraction of messages sent broken on purpose [0]\n"
    "  --burst-every S      seconds between bursts [0: none]\n"
    "  --burst-messages M   messages per device in each burst\n"
    "  --duration S         seconds to run; 0: until SIGINT/SIGTERM [0]\n"
    "  --count N            stop after N messages in total\n"
    "  --qos Q              0, 1 or 2 [1]\n"
    "  --connections C      MQTT connections (devices are split between them) [1]\n"
    "  --window W           unacknowledged messages per connection at most [1000]\n"
    "  --client-id ID       client id prefix [edgegw-simulate-<pid>]\n"
    "At the end it prints one JSON line: messages, acknowledged, failed, readings, malformed,\n"
    "seconds, messages_per_second.\n";

std::atomic<bool> g_stop{false};

struct Options {
  std::string uri = "tcp://127.0.0.1:1883";
  std::string topic = "sim/{device}/data";
  FleetOptions fleet;
  double rate = 1;
  double burst_every = 0;
  std::uint64_t burst_messages = 0;
  double duration = 0;
  std::uint64_t count = 0;
  int qos = 1;
  unsigned connections = 1;
  int window = 1000;
  std::string client_id;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "edgegw-simulate: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

double to_number(const std::string& flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || v < 0) usage_error(flag + ": expected a number >= 0");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  o.client_id = "edgegw-simulate-" + std::to_string(::getpid());
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) usage_error(k + ": needs a value");
    const char* v = argv[++i];
    if (k == "--uri") {
      o.uri = v;
    } else if (k == "--topic") {
      o.topic = v;
    } else if (k == "--devices") {
      o.fleet.devices = static_cast<std::uint32_t>(to_number(k, v));
    } else if (k == "--key-pattern") {
      o.fleet.key_pattern = v;
    } else if (k == "--rate") {
      o.rate = to_number(k, v);
    } else if (k == "--variables") {
      o.fleet.variables.clear();
      std::string list = v;
      for (std::size_t pos = 0; pos <= list.size();) {
        const std::size_t comma = std::min(list.find(',', pos), list.size());
        const auto w = parse_waveform(list.substr(pos, comma - pos));
        if (!w) usage_error(k + ": expected " + std::string(kWaveformNames));
        o.fleet.variables.push_back(*w);
        pos = comma + 1;
      }
    } else if (k == "--malformed") {
      o.fleet.malformed = to_number(k, v);
    } else if (k == "--burst-every") {
      o.burst_every = to_number(k, v);
    } else if (k == "--burst-messages") {
      o.burst_messages = static_cast<std::uint64_t>(to_number(k, v));
    } else if (k == "--duration") {
      o.duration = to_number(k, v);
    } else if (k == "--count") {
      o.count = static_cast<std::uint64_t>(to_number(k, v));
    } else if (k == "--qos") {
      o.qos = static_cast<int>(to_number(k, v));
    } else if (k == "--connections") {
      o.connections = static_cast<unsigned>(to_number(k, v));
    } else if (k == "--window") {
      o.window = static_cast<int>(to_number(k, v));
    } else if (k == "--client-id") {
      o.client_id = v;
    } else {
      usage_error("unknown flag " + k);
    }
  }
  if (o.fleet.devices < 1) usage_error("--devices: at least 1");
  if (o.fleet.malformed > 1) usage_error("--malformed: a fraction between 0 and 1");
  if (o.qos > 2) usage_error("--qos: 0, 1 or 2");
  if (o.window < 1) usage_error("--window: at least 1");
  if (o.connections < 1 || o.connections > o.fleet.devices) {
    usage_error("--connections: between 1 and --devices");
  }
  if (o.topic.find("{device}") == std::string::npos) usage_error("--topic: needs {device}");
  return o;
}

// One MQTT connection publishing a slice of the fleet with at most `window` messages
// unacknowledged. Paho calls on_success/on_failure on its own thread when a publish completes.
class Connection : public mqtt::iaction_listener {
 public:
  Connection(const Options& o, unsigned index, FleetOptions slice)
      : o_(o), fleet_(slice), share_(static_cast<double>(slice.devices)) {
    const std::string id = o.client_id + "-" + std::to_string(index);
    try {
      // No persistence: the simulator's messages are regenerated, not kept.
      client_ = std::make_unique<mqtt::async_client>(
          o.uri, id, mqtt::create_options(MQTTVERSION_DEFAULT, o.window + 10));
    } catch (const mqtt::exception& e) {
      std::fprintf(stderr, "edgegw-simulate: bad broker URI %s: %s\n", o.uri.c_str(), e.what());
      std::exit(2);
    }
    for (std::size_t d = 0; d < fleet_.size(); ++d) {
      topics_.push_back(topic_for(fleet_.key(d)));
    }
  }
  ~Connection() override {
    try {
      if (client_->is_connected()) client_->disconnect(1000)->wait_for(2s);
    } catch (const mqtt::exception&) {  // the broker went first: nothing left to say
    }
  }

  bool connect() {
    mqtt::connect_options c;
    c.set_keep_alive_interval(20);
    c.set_clean_session(true);
    c.set_connect_timeout(5);
    c.set_max_inflight(o_.window);
    try {
      return client_->connect(c)->wait_for(10s) && client_->is_connected();
    } catch (const mqtt::exception& e) {
      std::fprintf(stderr, "edgegw-simulate: %s\n", e.what());
      return false;
    }
  }

  // Publishes until stopped, the deadline or `count` messages; then waits for the acks.
  void run(Clock::time_point start, Clock::time_point deadline, std::uint64_t count) {
    Pacer pacer(o_.rate * share_,
                std::chrono::milliseconds(static_cast<std::int64_t>(o_.burst_every * 1000)),
                o_.burst_messages * fleet_.size(), start);
    std::string payload;
    std::size_t device = 0;
    std::uint64_t pending = 0;
    while (!g_stop && Clock::now() < deadline && (count == 0 || sent_ < count)) {
      pending += o_.rate > 0 ? pacer.take(Clock::now()) : static_cast<std::uint64_t>(o_.window);
      if (count > 0) pending = std::min(pending, count - sent_);
      for (; pending > 0 && !g_stop; --pending) {
        if (!wait_window(o_.window - 1)) return;
        fleet_.next(device, sdk::now_ms(), payload);
        if (!send(topics_[device], payload)) return;
        device = (device + 1) % fleet_.size();
        ++sent_;
      }
      if (o_.rate > 0) {
        std::this_thread::sleep_until(std::min(pacer.next_due(), Clock::now() + 5ms));
      }
    }
    wait_window(0);
  }

  std::uint64_t sent() const { return sent_; }
  std::uint64_t acked() const { return acked_; }
  std::uint64_t failed() const { return failed_; }
  std::uint64_t readings() const { return fleet_.readings(); }
  std::uint64_t malformed() const { return fleet_.malformed(); }

 private:
  std::string topic_for(const std::string& key) const {
    std::string t = o_.topic;
    t.replace(t.find("{device}"), 8, key);
    return t;
  }

  void on_success(const mqtt::token&) override { ack(true); }
  void on_failure(const mqtt::token&) override { ack(false); }
  void ack(bool ok) {
    std::lock_guard lock(mu_);
    --in_flight_;
    (ok ? acked_ : failed_) += 1;
    cv_.notify_all();
  }

  bool wait_window(int limit) {
    std::unique_lock lock(mu_);
    const bool settled = cv_.wait_for(lock, 30s, [&] { return in_flight_ <= limit; });
    if (!settled) std::fprintf(stderr, "edgegw-simulate: no acknowledgement for 30 s\n");
    return settled;
  }

  bool send(const std::string& topic, const std::string& payload) {
    {
      std::lock_guard lock(mu_);
      ++in_flight_;
    }
    try {
      client_->publish(topic, payload.data(), payload.size(), o_.qos, false, nullptr, *this);
      return true;
    } catch (const mqtt::exception& e) {
      std::fprintf(stderr, "edgegw-simulate: publish failed: %s\n", e.what());
      std::lock_guard lock(mu_);
      --in_flight_;
      ++failed_;
      return false;
    }
  }

  const Options& o_;
  Fleet fleet_;
  double share_;
  std::vector<std::string> topics_;
  std::unique_ptr<mqtt::async_client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  std::uint64_t sent_ = 0, acked_ = 0, failed_ = 0;
};

int run(const Options& o) {
  std::vector<std::unique_ptr<Connection>> connections;
  std::uint32_t first = 1;
  for (unsigned c = 0; c < o.connections; ++c) {
    FleetOptions slice = o.fleet;
    slice.first = first;
    slice.devices = o.fleet.devices / o.connections + (c < o.fleet.devices % o.connections);
    first += slice.devices;
    connections.push_back(std::make_unique<Connection>(o, c, slice));
    if (!connections.back()->connect()) {
      std::fprintf(stderr, "edgegw-simulate: cannot connect to %s\n", o.uri.c_str());
      return 1;
    }
  }
  const auto start = Clock::now();
  const auto deadline = o.duration > 0 ? start + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(o.duration))
                                       : Clock::time_point::max();
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < o.connections; ++c) {
    const std::uint64_t share =
        o.count == 0 ? 0 : o.count / o.connections + (c < o.count % o.connections);
    threads.emplace_back([&, c, share] { connections[c]->run(start, deadline, share); });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::uint64_t sent = 0, acked = 0, failed = 0, readings = 0, malformed = 0;
  for (const auto& c : connections) {
    sent += c->sent();
    acked += c->acked();
    failed += c->failed();
    readings += c->readings();
    malformed += c->malformed();
  }
  const double rate = seconds > 0 ? static_cast<double>(acked) / seconds : 0;
  std::printf(
      "{\"messages\":%llu,\"acknowledged\":%llu,\"failed\":%llu,\"readings\":%llu,"
      "\"malformed\":%llu,\"seconds\":%.3f,\"messages_per_second\":%.1f}\n",
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(acked),
      static_cast<unsigned long long>(failed), static_cast<unsigned long long>(readings),
      static_cast<unsigned long long>(malformed), seconds, rate);
  std::fflush(stdout);
  return failed == 0 && acked == sent ? 0 : 1;
}

}  // namespace
}  // namespace edgegw::plugins::simulator

int main(int argc, char** argv) {
  const auto options = edgegw::plugins::simulator::parse(argc, argv);
  struct sigaction sa {};
  sa.sa_handler = [](int) { edgegw::plugins::simulator::g_stop = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return edgegw::plugins::simulator::run(options);
}
