// SPDX-License-Identifier: Apache-2.0
// The mqtt source against a bare Paho subscriber of the same Mosquitto, measured in the same run
// (DESIGN.md: report ratios, the machine is shared). Three modes:
//
//   intake  (default) N messages are published while the subscriber is away (a persistent
//           session; Mosquitto keeps them: max_queued_messages 0), then it connects and the clock
//           runs from its subscription to the N-th message:
//             bare:    a Paho MQTTAsync client whose callback only counts (and so acknowledges at
//                      once), Paho tuned as for the old plugin (trace level errors only);
//             gateway: edgegw with the mqtt source, each message decoded, mapped and in the
//                      buffer's write-ahead log before its PUBACK (measured by polling
//                      edgegw_readings_accepted_total); the cloud unreachable: intake alone.
//   e2e     the same backlog, and the gateway forwards to the cloud emulator: the clock stops
//           when the cloud holds all N. Also the gateway's CPU per message at that rate.
//   steady  edgegw-simulate publishes --rate messages/s over --devices devices for --seconds;
//           each subscriber takes all of them live: the bare one (a process of its own,
//           edgegw-bare-subscriber) and the whole gateway (WAL with --sync, forwarding to the
//           emulator). Reported: CPU-µs per message of each process, and their ratio.
//
// --connections N (intake, e2e) splits the devices into N groups (topic bench/<group>/<device>/
// data), each taken by its own mqtt source, i.e. its own MQTT connection; every device still comes
// through one connection, so its order holds. The bare subscriber keeps one connection.
//
//   edgegw-mqtt-ingest-bench [--mode intake|e2e|steady] [--messages 100000] [--devices 4]
//       [--rounds 3] [--sync none|batch|always] [--connections 1] [--protocol 3.1.1|5]
//       [--rate 1500] [--seconds 20] [--coalesce 2ms]
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "bare_subscriber.h"
#include "bench_stats.h"
#include "launcher.h"
#include "support/http_client.h"
#include "support/mosquitto.h"
#include "support/mqtt_publisher.h"
#include "support/subprocess.h"
#include "support/tokens.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using edgegw::bench::BareSubscriber;
using edgegw::testing::MqttPublisher;
using edgegw::testing::Subprocess;

struct Args {
  std::string mode = "intake";
  int messages = 100000;
  int devices = 4;
  int rounds = 3;
  std::string sync = "batch";
  int connections = 1;
  std::string protocol = "3.1.1";
  int rate = 1500;  // steady: messages per second over all devices
  int seconds = 20;
  std::string coalesce;  // the mqtt source's coalesce (its default when empty)
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--mode") {
      a.mode = v;
    } else if (k == "--messages") {
      a.messages = std::atoi(v);
    } else if (k == "--devices") {
      a.devices = std::atoi(v);
    } else if (k == "--rounds") {
      a.rounds = std::atoi(v);
    } else if (k == "--sync") {
      a.sync = v;
    } else if (k == "--connections") {
      a.connections = std::max(1, std::atoi(v));
    } else if (k == "--protocol") {
      a.protocol = v;
    } else if (k == "--rate") {
      a.rate = std::atoi(v);
    } else if (k == "--seconds") {
      a.seconds = std::atoi(v);
    } else if (k == "--coalesce") {
      a.coalesce = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      std::exit(2);
    }
  }
  if (a.mode != "intake" && a.mode != "e2e" && a.mode != "steady") {
    std::fprintf(stderr, "--mode: intake, e2e or steady\n");
    std::exit(2);
  }
  return a;
}

std::string build_dir() { return std::getenv("EDGEGW_BINARY_DIR"); }

std::string payload(int seq) {
  // ~120 bytes, like the DESIGN appendix's readings.
  return R"({"variable":"temperature","value":)" + std::to_string(20 + seq % 10) +
         R"(.5,"unit":"C","metadata":{"seq":)" + std::to_string(seq) + R"(,"line":"A-7"}})";
}

std::string device_key(int d) { return "dev-" + std::to_string(d); }

std::vector<std::string> emulator_args(const Args& a) {
  std::vector<std::string> args = {"--keep", "0"};
  for (int d = 1; d <= a.devices; ++d) {
    args.push_back("--device");
    args.push_back(device_key(d) + "=" + edgegw::testing::fake_token(d));
  }
  return args;
}

void publish_backlog(const std::string& uri, const Args& a, int round) {
  std::vector<MqttPublisher::Message> messages;
  messages.reserve(static_cast<std::size_t>(a.messages));
  for (int i = 0; i < a.messages; ++i) {
    const int device = i % a.devices;  // its group: the gateway connection that takes it
    messages.push_back(
        {"bench/" + std::to_string(device % a.connections) + "/" + device_key(device + 1) + "/data",
         payload(round * a.messages + i)});
  }
  MqttPublisher pub(uri, "bench-pub");
  if (!pub.publish_all(messages, 1, 1000)) {
    std::fprintf(stderr, "publishing the backlog failed\n");
    std::exit(1);
  }
}

double bare_round(const std::string& uri, const Args& a, int round) {
  const std::string id = "bench-bare-" + std::to_string(round);
  {
    BareSubscriber first(uri, id, "bench/+/+/data");
    first.subscribe();  // makes the session
  }
  publish_backlog(uri, a, round);
  double seconds = 0;
  {
    BareSubscriber sub(uri, id, "bench/+/+/data");
    sub.subscribe();
    seconds = sub.wait_for(a.messages, 300s);
  }
  BareSubscriber::forget(uri, id);
  return seconds;
}

long long metric_sum(edgegw::testing::HttpClient& metrics, const std::string& prefix) {
  const auto r = metrics.get("/metrics");
  long long sum = -1;
  for (std::size_t at = r.body.find(prefix); at != std::string::npos;
       at = r.body.find(prefix, at + 1)) {
    const std::size_t space = r.body.find(' ', at);
    if (space == std::string::npos) break;
    sum = std::max(sum, 0LL) + std::atoll(r.body.c_str() + space + 1);
  }
  return sum;
}

long long cloud_readings(edgegw::testing::CloudEmulator& cloud) {
  return cloud.stats().at("readings_accepted").to_number<long long>();
}

// A gateway config with one mqtt source per group of devices (each device's messages come
// through one connection, so they stay in order) on `topic(group)`.
std::string gateway_config(const std::string& uri, const Args& a, const std::string& data,
                           int metrics_port, const std::string& cloud_url,
                           const std::string& client_prefix, int groups,
                           const std::function<std::string(int)>& topic) {
  std::string cfg = "gateway:\n  data_dir: " + data +
                    "\n  log_level: info\nbuffer:\n  sync: " + a.sync +
                    "\nmetrics:\n  listen: 127.0.0.1:" + std::to_string(metrics_port) +
                    "\ncloud:\n  url: " + cloud_url + "\nsources:\n";
  for (int c = 0; c < groups; ++c) {
    cfg += "  - name: plant-" + std::to_string(c) +
           "\n    plugin: mqtt\n    format: tago_json\n    config:\n      uri: " + uri +
           "\n      client_id: " + client_prefix + std::to_string(c) +
           "\n      qos: 1\n      protocol: \"" + a.protocol + "\"\n      topics: [\"" + topic(c) +
           "\"]\n";
    if (!a.coalesce.empty()) cfg += "      coalesce: " + a.coalesce + "\n";
  }
  cfg += "devices:\n";
  for (int d = 1; d <= a.devices; ++d) {
    cfg += "  - key: " + device_key(d) + "\n    token: " + edgegw::testing::fake_token(d) + "\n";
  }
  return cfg;
}

struct GatewayResult {
  double seconds = 0;
  double cpu_us_per_message = 0;
};

// intake and e2e: the backlog of `round` into a gateway; `cloud` null: intake alone.
GatewayResult gateway_round(const std::string& uri, const Args& a, int round,
                            const edgegw::testing::TempDir& dir,
                            edgegw::testing::CloudEmulator* cloud) {
  const int metrics_port = edgegw::testing::free_port();
  const std::string prefix = "bench-gw-" + std::to_string(round) + "-";
  const std::string cfg = gateway_config(
      uri, a, dir.path() + "/data-" + std::to_string(round), metrics_port,
      cloud != nullptr ? cloud->url() : "http://127.0.0.1:9", prefix, a.connections, [&](int c) {
        return "bench/" + (a.connections > 1 ? std::to_string(c) : "+") + "/{device}/data";
      });
  const std::string path = dir.write("gw-" + std::to_string(round) + ".yaml", cfg, 0600);
  const std::vector<std::string> argv = {edgegw::testing::edgegw_binary(), "run", "-c", path};
  {
    Subprocess gw(argv);  // makes the sessions
    if (!gw.wait_for_err("subscribed to", 10s)) {
      std::fprintf(stderr, "gateway did not subscribe:\n%s\n", gw.err().c_str());
      std::exit(1);
    }
    gw.signal(SIGTERM);
    gw.wait(10s);
  }
  publish_backlog(uri, a, round);
  const long long cloud_before = cloud != nullptr ? cloud_readings(*cloud) : 0;
  Subprocess gw(argv);
  edgegw::testing::HttpClient metrics("http://127.0.0.1:" + std::to_string(metrics_port));
  if (!gw.wait_for_err("subscribed to", 10s)) std::exit(1);
  const auto start = Clock::now();
  const double cpu0 = gw.cpu_seconds();
  if (cloud == nullptr) {
    while (metric_sum(metrics, "edgegw_readings_accepted_total{source=\"plant") < a.messages) {
      std::this_thread::sleep_for(5ms);
    }
  } else {
    while (cloud_readings(*cloud) - cloud_before < a.messages) std::this_thread::sleep_for(5ms);
  }
  GatewayResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu_us_per_message = (gw.cpu_seconds() - cpu0) * 1e6 / a.messages;
  gw.signal(SIGTERM);
  gw.wait(10s);
  for (int c = 0; c < a.connections; ++c) BareSubscriber::forget(uri, prefix + std::to_string(c));
  return r;
}

void backlog_mode(const Args& a) {
  edgegw::testing::Mosquitto broker;
  edgegw::testing::TempDir dir;
  std::unique_ptr<edgegw::testing::CloudEmulator> cloud;
  if (a.mode == "e2e") cloud = std::make_unique<edgegw::testing::CloudEmulator>(emulator_args(a));
  std::vector<double> bare, gateway, ratio, cpu;
  std::printf("round  bare msg/s  gateway msg/s  ratio  gateway CPU us/msg\n");
  for (int round = 1; round <= a.rounds; ++round) {
    const double b = a.messages / bare_round(broker.uri(), a, round);
    const GatewayResult g = gateway_round(broker.uri(), a, round, dir, cloud.get());
    const double gr = a.messages / g.seconds;
    bare.push_back(b);
    gateway.push_back(gr);
    ratio.push_back(gr / b);
    cpu.push_back(g.cpu_us_per_message);
    std::printf("%5d  %10.0f  %13.0f  %5.2f  %18.2f\n", round, b, gr, gr / b, g.cpu_us_per_message);
    std::fflush(stdout);
  }
  std::printf(
      "median %9.0f  %13.0f  %5.2f  %18.2f   (%s: %d messages, %d devices, %d connection(s), QoS "
      "1, MQTT %s, sync %s)\n",
      edgegw::bench::median(bare), edgegw::bench::median(gateway), edgegw::bench::median(ratio),
      edgegw::bench::median(cpu), a.mode.c_str(), a.messages, a.devices, a.connections,
      a.protocol.c_str(), a.sync.c_str());
}

// edgegw-simulate at the steady rate until rate x seconds messages; returns how many the broker
// acknowledged.
long long simulate(const std::string& uri, const Args& a, const std::string& client_id) {
  const double per_device = static_cast<double>(a.rate) / a.devices;
  const auto r = edgegw::testing::run_command(
      {build_dir() + "/bin/edgegw-simulate", "--uri", uri, "--devices", std::to_string(a.devices),
       "--key-pattern", "dev-{n}", "--topic", "steady/{device}/data", "--variables", "temperature",
       "--rate", std::to_string(per_device), "--count",
       std::to_string(static_cast<long long>(a.rate) * a.seconds), "--client-id", client_id},
      {}, std::chrono::seconds(a.seconds + 60));
  if (r.exit_code != 0) {
    std::fprintf(stderr, "edgegw-simulate failed: %s\n", r.err.c_str());
    std::exit(1);
  }
  return boost::json::parse(r.out).at("acknowledged").to_number<long long>();
}

// The bare subscriber's CPU-µs per message at the steady rate.
double steady_bare(const std::string& uri, const Args& a, int round) {
  const std::string id = "steady-bare-" + std::to_string(round);
  const long long expected = static_cast<long long>(a.rate) * a.seconds;
  Subprocess bare({build_dir() + "/bench/e2e/edgegw-bare-subscriber", "--uri", uri, "--client-id",
                   id, "--topic", "steady/+/data", "--count", std::to_string(expected), "--timeout",
                   std::to_string(a.seconds + 60)});
  if (!bare.wait_for_err("subscribed", 10s)) std::exit(1);
  const long long published = simulate(uri, a, "steady-pub-bare-" + std::to_string(round));
  if (published != expected) {
    std::fprintf(stderr, "the simulator published %lld, not %lld\n", published, expected);
  }
  if (bare.wait(60s) != 0) {
    std::fprintf(stderr, "bare subscriber: %s\n", bare.err().c_str());
    std::exit(1);
  }
  BareSubscriber::forget(uri, id);
  return boost::json::parse(bare.out()).at("cpu_seconds").to_number<double>() * 1e6 /
         static_cast<double>(expected);
}

// The whole gateway's CPU-µs per message at the steady rate (ingest, WAL, forwarding).
double steady_gateway(const std::string& uri, const Args& a, int round,
                      const edgegw::testing::TempDir& dir, edgegw::testing::CloudEmulator& cloud) {
  const int metrics_port = edgegw::testing::free_port();
  const std::string cfg =
      gateway_config(uri, a, dir.path() + "/steady-" + std::to_string(round), metrics_port,
                     cloud.url(), "steady-gw-" + std::to_string(round) + "-", 1,
                     [](int) { return std::string("steady/{device}/data"); });
  const std::string path = dir.write("steady-" + std::to_string(round) + ".yaml", cfg, 0600);
  Subprocess gw({edgegw::testing::edgegw_binary(), "run", "-c", path});
  if (!gw.wait_for_err("subscribed to", 10s)) std::exit(1);
  const long long before = cloud_readings(cloud);
  const double cpu0 = gw.cpu_seconds();
  const long long published = simulate(uri, a, "steady-pub-gw-" + std::to_string(round));
  if (!edgegw::testing::wait_until([&] { return cloud_readings(cloud) - before >= published; },
                                   60s)) {
    std::fprintf(stderr, "the cloud did not get every reading\n%s\n", gw.err().c_str());
    std::exit(1);
  }
  const double cpu = gw.cpu_seconds() - cpu0;
  gw.signal(SIGTERM);
  gw.wait(10s);
  BareSubscriber::forget(uri, "steady-gw-" + std::to_string(round) + "-0");
  return cpu * 1e6 / static_cast<double>(published);
}

void steady_mode(const Args& a) {
  edgegw::testing::Mosquitto broker;
  edgegw::testing::TempDir dir;
  edgegw::testing::CloudEmulator cloud(emulator_args(a));
  std::vector<double> bare, gateway, ratio;
  std::printf("round  bare CPU us/msg  gateway CPU us/msg  ratio\n");
  for (int round = 1; round <= a.rounds; ++round) {
    const double b = steady_bare(broker.uri(), a, round);
    const double g = steady_gateway(broker.uri(), a, round, dir, cloud);
    bare.push_back(b);
    gateway.push_back(g);
    ratio.push_back(g / b);
    std::printf("%5d  %15.1f  %18.1f  %5.2f\n", round, b, g, g / b);
    std::fflush(stdout);
  }
  std::printf(
      "median %14.1f  %18.1f  %5.2f   (steady: %d msg/s over %d devices for %d s, QoS 1, "
      "MQTT %s, sync %s, forwarding to the emulator)\n",
      edgegw::bench::median(bare), edgegw::bench::median(gateway), edgegw::bench::median(ratio),
      a.rate, a.devices, a.seconds, a.protocol.c_str(), a.sync.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  // The build tree's edgegw: this tool is <build>/bench/e2e/edgegw-mqtt-ingest-bench.
  if (std::getenv("EDGEGW_BINARY_DIR") == nullptr) {
    const auto build = std::filesystem::canonical("/proc/self/exe").parent_path() / ".." / "..";
    ::setenv("EDGEGW_BINARY_DIR", std::filesystem::canonical(build).c_str(), 0);
  }
  if (a.mode == "steady") {
    steady_mode(a);
  } else {
    backlog_mode(a);
  }
  return 0;
}
