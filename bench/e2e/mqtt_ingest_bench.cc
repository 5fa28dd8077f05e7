// MQTT QoS 1 ingest into the buffer, against the same broker's delivery rate to a bare Paho
// subscriber, measured in the same run (DESIGN.md: report ratios, the machine is shared).
//
// Each round: a persistent session is made for the subscriber, N messages are published while it
// is away (Mosquitto keeps them: max_queued_messages 0), then the subscriber connects and the
// clock runs from its subscription to the N-th message:
//   bare:    a Paho MQTTAsync client whose callback only counts (and so acknowledges at once);
//   gateway: edgegw with the mqtt source, each message decoded, mapped and in the buffer's
//            write-ahead log before its PUBACK (measured by polling
//            edgegw_readings_accepted_total).
// The cloud is unreachable, so the forwarder stays idle: this is the intake alone.
//
// --connections N splits the devices into N groups (topic bench/<group>/<device>/data), each
// taken by its own mqtt source, i.e. its own MQTT connection and Paho receive thread, whose
// appends meet in the buffer's group commit; every device still comes through one connection, so
// its order holds. The bare subscriber keeps one connection for all (bench/+/+/data).
//
//   edgegw-mqtt-ingest-bench [--messages 100000] [--devices 4] [--rounds 3] [--sync
//   none|batch|always] [--connections 1]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bare_subscriber.h"
#include "bench_stats.h"
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

struct Args {
  int messages = 100000;
  int devices = 4;
  int rounds = 3;
  std::string sync = "batch";
  int connections = 1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--messages")
      a.messages = std::atoi(argv[i + 1]);
    else if (k == "--devices")
      a.devices = std::atoi(argv[i + 1]);
    else if (k == "--rounds")
      a.rounds = std::atoi(argv[i + 1]);
    else if (k == "--sync")
      a.sync = argv[i + 1];
    else if (k == "--connections")
      a.connections = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

std::string payload(int seq) {
  // ~120 bytes, like the DESIGN appendix's readings.
  return R"({"variable":"temperature","value":)" + std::to_string(20 + seq % 10) +
         R"(.5,"unit":"C","metadata":{"seq":)" + std::to_string(seq) + R"(,"line":"A-7"}})";
}

void publish_backlog(const std::string& uri, const Args& a, int round) {
  std::vector<MqttPublisher::Message> messages;
  messages.reserve(static_cast<std::size_t>(a.messages));
  for (int i = 0; i < a.messages; ++i) {
    const int device = i % a.devices;  // its group: the gateway connection that takes it
    messages.push_back({"bench/" + std::to_string(device % std::max(1, a.connections)) + "/dev-" +
                            std::to_string(device + 1) + "/data",
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

long long accepted(edgegw::testing::HttpClient& metrics) {
  const auto r = metrics.get("/metrics");
  const std::string key = "edgegw_readings_accepted_total{source=\"plant";
  long long sum = -1;
  for (std::size_t at = r.body.find(key); at != std::string::npos; at = r.body.find(key, at + 1)) {
    const std::size_t space = r.body.find(' ', at);
    if (space == std::string::npos) break;
    sum = std::max(sum, 0LL) + std::atoll(r.body.c_str() + space + 1);
  }
  return sum;
}

struct GatewayResult {
  double seconds = 0;
  double cpu_us_per_message = 0;
};

GatewayResult gateway_round(const std::string& uri, const Args& a, int round,
                            const edgegw::testing::TempDir& dir) {
  const int metrics_port = edgegw::testing::free_port();
  const std::string data = dir.path() + "/data-" + std::to_string(round);
  std::string cfg = "gateway:\n  data_dir: " + data +
                    "\n  log_level: info\nbuffer:\n  sync: " + a.sync +
                    "\nmetrics:\n  listen: 127.0.0.1:" + std::to_string(metrics_port) +
                    "\ncloud:\n  url: http://127.0.0.1:9\nsources:\n";
  // One source (one MQTT connection) per group of devices: each device's messages come through
  // one connection, so they stay in order.
  for (int c = 0; c < std::max(1, a.connections); ++c) {
    cfg += "  - name: plant-" + std::to_string(c) +
           "\n    plugin: mqtt\n    format: tago_json\n    config:\n      uri: " + uri +
           "\n      client_id: bench-gw-" + std::to_string(round) + "-" + std::to_string(c) +
           "\n      qos: 1\n      topics: [\"bench/" + std::to_string(c) + "/{device}/data\"]\n";
  }
  cfg += "devices:\n";
  for (int d = 1; d <= a.devices; ++d) {
    cfg += "  - key: dev-" + std::to_string(d) + "\n    token: " + edgegw::testing::fake_token(d) +
           "\n";
  }
  const std::string path = dir.write("gw-" + std::to_string(round) + ".yaml", cfg, 0600);
  const std::vector<std::string> argv = {edgegw::testing::edgegw_binary(), "run", "-c", path};
  {
    edgegw::testing::Subprocess gw(argv);  // makes the session
    if (!gw.wait_for_err("subscribed to", 10s)) {
      std::fprintf(stderr, "gateway did not subscribe:\n%s\n", gw.err().c_str());
      std::exit(1);
    }
    gw.signal(SIGTERM);
    gw.wait(10s);
  }
  publish_backlog(uri, a, round);
  edgegw::testing::Subprocess gw(argv);
  edgegw::testing::HttpClient metrics("http://127.0.0.1:" + std::to_string(metrics_port));
  if (!gw.wait_for_err("subscribed to", 10s)) std::exit(1);
  const auto start = Clock::now();
  const double cpu0 = gw.cpu_seconds();
  while (accepted(metrics) < a.messages) std::this_thread::sleep_for(10ms);
  GatewayResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu_us_per_message = (gw.cpu_seconds() - cpu0) * 1e6 / a.messages;
  gw.signal(SIGTERM);
  gw.wait(10s);
  for (int c = 0; c < std::max(1, a.connections); ++c) {
    BareSubscriber::forget(uri, "bench-gw-" + std::to_string(round) + "-" + std::to_string(c));
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  // The build tree's edgegw: this tool is <build>/bench/e2e/edgegw-mqtt-ingest-bench.
  if (std::getenv("EDGEGW_BINARY_DIR") == nullptr) {
    const auto build = std::filesystem::canonical("/proc/self/exe").parent_path() / ".." / "..";
    ::setenv("EDGEGW_BINARY_DIR", std::filesystem::canonical(build).c_str(), 0);
  }
  edgegw::testing::Mosquitto broker;
  edgegw::testing::TempDir dir;
  std::vector<double> bare, gateway, ratio, cpu;
  std::printf("round  bare msg/s  gateway msg/s  ratio  gateway CPU us/msg\n");
  for (int round = 1; round <= a.rounds; ++round) {
    const double b = a.messages / bare_round(broker.uri(), a, round);
    const GatewayResult g = gateway_round(broker.uri(), a, round, dir);
    const double gr = a.messages / g.seconds;
    bare.push_back(b);
    gateway.push_back(gr);
    ratio.push_back(gr / b);
    cpu.push_back(g.cpu_us_per_message);
    std::printf("%5d  %10.0f  %13.0f  %5.2f  %18.1f\n", round, b, gr, gr / b, g.cpu_us_per_message);
    std::fflush(stdout);
  }
  std::printf("median %9.0f  %13.0f  %5.2f  %18.1f   (%d messages, %d devices, QoS 1, sync %s)\n",
              edgegw::bench::median(bare), edgegw::bench::median(gateway),
              edgegw::bench::median(ratio), edgegw::bench::median(cpu), a.messages, a.devices,
              a.sync.c_str());
  return 0;
}
