// SPDX-License-Identifier: Apache-2.0
// Shared parts of the reliability suite: the real `edgegw run` with an MQTT source, a real
// Mosquitto and the cloud emulator, a publisher that remembers what the broker acknowledged, and
// the checks every scenario ends with (nothing acknowledged lost, order kept per device,
// duplicates bounded, no secret in any output).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "launcher.h"
#include "support/metrics_text.h"
#include "support/mosquitto.h"
#include "support/mqtt_publisher.h"
#include "support/subprocess.h"

namespace edgegw::reliability {

std::string device_key(int device);    // "dev-<n>"
std::string device_token(int device);  // testing::fake_token(n)
// "--device dev-1=TOKEN ..." for the emulator.
std::vector<std::string> emulator_args(int devices);
// A tago_json reading whose metadata.seq is `seq` (the emulator's order and duplicate counting).
std::string payload(int seq);

// An integer from the environment (the long form raises the counts), or `fallback`.
int env_int(const char* name, int fallback);

struct GatewayOptions {
  int devices = 4;
  std::string sync = "batch";  // buffer.sync
  std::string buffer_extra;    // more `buffer:` lines, each "  key: value\n"
  std::string cloud_extra;     // more `cloud:` lines
  std::string mqtt_extra;      // more lines of the mqtt source's config (6 spaces indent)
  std::string client_id = "gw";
  int max_readings = 100;           // cloud.batch.max_readings
  std::string timeout = "2s";       // cloud.timeout
  int mapped = -1;                  // devices listed in devices: (the first ones); -1: all of them
  std::string unmapped = "reject";  // unmapped: (the others' readings)
};

// The YAML of a gateway with one mqtt source on `broker_uri` (QoS 1, persistent session) and
// `devices` mapped devices.
std::string gateway_config(const std::string& data_dir, const std::string& cloud_url,
                           const std::string& broker_uri, const GatewayOptions& options);

// `edgegw run -c config`.
std::unique_ptr<testing::Subprocess> start_gateway(const std::string& config);
bool wait_subscribed(const testing::Subprocess& gw,
                     std::chrono::milliseconds timeout = std::chrono::seconds(20));
// GET http://address/path: the status (0 when there was no answer) and body.
std::pair<int, std::string> http_get(const std::string& address, const std::string& path);
// One sample of a scrape ("name{labels}" exactly as written), 0 when absent.
double metric(const std::string& scrape, const std::string& sample);

// One scenario's parts: a broker, the cloud emulator (with the devices) and a gateway on them.
struct Rig {
  explicit Rig(int device_count);
  int devices;
  testing::Mosquitto broker;
  testing::CloudEmulator cloud;
  testing::TempDir dir;
  std::string config;  // dir/gw.yaml
  std::unique_ptr<testing::Subprocess> gw;
  std::string metrics;  // the gateway's metrics address

  // Writes the config (data in `data_dir`, default dir/data) and starts the gateway; fails the
  // test unless it subscribed (wrap in ASSERT_NO_FATAL_FAILURE).
  void start(GatewayOptions options = {}, std::string data_dir = "");
  // SIGTERM (exit 0 expected), then all the gateway printed, a scrape of /metrics taken before
  // and the output of `edgegw buffer stats` and `buffer dead-letter list` (which must succeed:
  // the store is not damaged).
  std::string stop_and_collect();
};

// Publishes seqs 1, 2, ... for every device, round-robin, at about `per_second` messages per
// second, until stop(); records the last seq whose messages the broker acknowledged for every
// device. `reconnecting`: one message at a time with reconnects (survives a broker restart),
// else windows of 100 (fast; the broker must stay up).
class LoadPublisher {
 public:
  LoadPublisher(std::string broker_uri, int devices, int per_second, bool reconnecting);
  LoadPublisher(const LoadPublisher&) = delete;
  LoadPublisher& operator=(const LoadPublisher&) = delete;
  ~LoadPublisher();

  void stop();                                 // waits for the thread
  int acknowledged() const { return acked_; }  // seqs 1..acknowledged() are at the broker
  bool failed() const { return failed_; }

 private:
  void run();

  std::string uri_;
  int devices_;
  int per_second_;
  bool reconnecting_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<int> acked_{0};
  std::thread thread_;
};

// What the cloud saw of one device, over one or more emulator instances (the cloud "down"
// scenario replaces the emulator on the same port).
struct DeviceTally {
  std::int64_t distinct = 0;
  std::int64_t duplicates = 0;
  std::int64_t order_violations = 0;
  std::int64_t readings = 0;
};
class CloudTally {
 public:
  // Adds an emulator's stats; readings of a later instance that repeat an earlier one's seqs
  // are duplicates; each instance must have received a gapless range of seqs.
  void add(testing::CloudEmulator& cloud, int devices);
  const DeviceTally& device(int d) const { return devices_.at(d); }
  std::int64_t duplicates() const;
  std::int64_t order_violations() const;
  std::int64_t readings() const;
  std::string describe() const;

 private:
  struct Range {
    std::int64_t min = 0, max = 0;
  };
  std::map<int, DeviceTally> devices_;
  std::map<int, std::vector<Range>> ranges_;
  std::vector<std::string> problems_;
  friend void expect_delivered(const CloudTally&, int, int, std::int64_t);
};

// Every device has seqs 1..acked (and possibly more), none missing, no order violation, at
// most `max_duplicates` duplicates in all.
void expect_delivered(const CloudTally& tally, int devices, int acked, std::int64_t max_duplicates);

// Waits until every device's distinct count reaches `acked` at `cloud`.
bool wait_drained(testing::CloudEmulator& cloud, int devices, int acked,
                  std::chrono::milliseconds timeout);

// Fails the test if any of `secrets` occurs in `text` (`where` names the text).
void expect_no_secret(const std::string& text, const std::vector<std::string>& secrets,
                      const std::string& where);
// The secrets of a test with `devices` devices (their tokens) plus `more`.
std::vector<std::string> secrets(int devices, std::vector<std::string> more = {});

}  // namespace edgegw::reliability
