// SPDX-License-Identifier: Apache-2.0
#include "harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>

#include <boost/json.hpp>

#include "support/metrics_text.h"
#include "support/tokens.h"

namespace edgegw::reliability {

using namespace std::chrono_literals;

std::string device_key(int device) { return "dev-" + std::to_string(device); }
std::string device_token(int device) { return testing::fake_token(device); }

std::vector<std::string> emulator_args(int devices) {
  std::vector<std::string> args = {"--keep", "0"};  // only the counters: long runs stay small
  for (int d = 1; d <= devices; ++d) {
    args.push_back("--device");
    args.push_back(device_key(d) + "=" + device_token(d));
  }
  return args;
}

std::string payload(int seq) {
  return R"({"variable":"temp","value":)" + std::to_string(seq % 97) + R"(,"metadata":{"seq":)" +
         std::to_string(seq) + "}}";
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::atoi(v);
}

std::string gateway_config(const std::string& data_dir, const std::string& cloud_url,
                           const std::string& broker_uri, const GatewayOptions& o) {
  std::string devices;
  const int mapped = o.mapped < 0 ? o.devices : o.mapped;
  for (int d = 1; d <= mapped; ++d) {
    devices += "  - key: " + device_key(d) + "\n    token: " + device_token(d) + "\n";
  }
  return "gateway:\n  data_dir: " + data_dir +
         "\n  log_level: info\n  shutdown_timeout: 3s\n"
         "metrics:\n  listen: 127.0.0.1:0\n"
         "buffer:\n  sync: " +
         o.sync + "\n" + o.buffer_extra + "cloud:\n  url: " + cloud_url +
         "\n  timeout: " + o.timeout +
         "\n  batch: { max_readings: " + std::to_string(o.max_readings) +
         ", linger: 20ms }\n  retry: { initial_backoff: 20ms, max_backoff: 500ms }\n" +
         o.cloud_extra +
         "sources:\n  - name: plant\n    plugin: mqtt\n    format: tago_json\n    config:\n"
         "      uri: " +
         broker_uri + "\n      client_id: " + o.client_id +
         "\n      topics: [\"sensors/{device}/data\"]\n      qos: 1\n      clean_session: false\n"
         "      reconnect_min: 50ms\n      reconnect_max: 500ms\n" +
         o.mqtt_extra + "devices:" + (devices.empty() ? " []\n" : "\n" + devices) +
         "unmapped: " + o.unmapped + "\n";
}

std::unique_ptr<testing::Subprocess> start_gateway(const std::string& config) {
  return std::make_unique<testing::Subprocess>(
      std::vector<std::string>{testing::edgegw_binary(), "run", "-c", config});
}

bool wait_subscribed(const testing::Subprocess& gw, std::chrono::milliseconds timeout) {
  return gw.wait_for_err("subscribed to", timeout);
}

std::pair<int, std::string> http_get(const std::string& address, const std::string& path) {
  auto client = testing::metrics_client(address);
  auto r = client.get(path);
  return {r.status, r.status == 0 ? r.error : r.body};
}

double metric(const std::string& scrape, const std::string& sample) {
  const auto samples = testing::parse_metrics(scrape);
  const auto it = samples.find(sample);
  return it == samples.end() ? 0 : it->second;
}

Rig::Rig(int device_count) : devices(device_count), cloud(emulator_args(device_count)) {}

void Rig::start(GatewayOptions options, std::string data_dir) {
  options.devices = devices;
  if (data_dir.empty()) data_dir = dir.path() + "/data";
  config = dir.write("gw.yaml", gateway_config(data_dir, cloud.url(), broker.uri(), options), 0600);
  gw = start_gateway(config);
  ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();
  metrics = testing::metrics_address(*gw);
}

std::string Rig::stop_and_collect() {
  std::string out = http_get(metrics, "/metrics").second;
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(15s), 0) << gw->err();
  out += gw->err();
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"stats"}, std::vector<std::string>{"dead-letter", "list"}}) {
    std::vector<std::string> argv = {testing::edgegw_binary(), "buffer"};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.insert(argv.end(), {"-c", config});
    const auto r = testing::run_command(argv);
    EXPECT_EQ(r.exit_code, 0) << command[0] << ": " << r.out << r.err;
    out += r.out + r.err;
  }
  return out;
}

LoadPublisher::LoadPublisher(std::string broker_uri, int devices, int per_second, bool reconnecting)
    : uri_(std::move(broker_uri)),
      devices_(devices),
      per_second_(per_second),
      reconnecting_(reconnecting),
      thread_([this] { run(); }) {}

LoadPublisher::~LoadPublisher() { stop(); }

void LoadPublisher::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void LoadPublisher::run() {
  testing::MqttPublisher pub(uri_, "load-publisher");
  // Rounds of `step` seqs for every device, paced to per_second_ messages per second.
  const int step = reconnecting_ ? 1 : std::max(1, 100 / devices_);
  const auto round_time = std::chrono::microseconds(1'000'000LL * step * devices_ / per_second_);
  auto next = std::chrono::steady_clock::now();
  int seq = 0;
  while (!stop_) {
    std::vector<testing::MqttPublisher::Message> batch;
    for (int s = seq + 1; s <= seq + step; ++s) {
      for (int d = 1; d <= devices_; ++d) {
        batch.push_back({"sensors/" + device_key(d) + "/data", payload(s)});
      }
    }
    bool ok = true;
    if (reconnecting_) {
      for (const auto& m : batch) ok = ok && pub.publish(m.topic, m.payload, 1, 60s);
    } else {
      ok = pub.publish_all(batch, 1);
    }
    if (!ok) {
      failed_ = true;
      return;
    }
    seq += step;
    acked_ = seq;
    next += round_time;
    std::this_thread::sleep_until(next);
  }
}

void CloudTally::add(testing::CloudEmulator& cloud, int devices) {
  const auto stats = cloud.stats();
  const auto& all = stats.at("devices").as_object();
  for (int d = 1; d <= devices; ++d) {
    const auto* s = all.if_contains(device_key(d));
    if (s == nullptr) continue;
    auto field = [&](const char* name) -> std::int64_t {
      const auto* v = s->as_object().if_contains(name);
      return v == nullptr || v->is_null() ? 0 : v->to_number<std::int64_t>();
    };
    DeviceTally& t = devices_[d];
    t.duplicates += field("duplicates");
    t.order_violations += field("order_violations");
    t.readings += field("readings");
    if (field("distinct_seqs") == 0) continue;
    if (field("missing_seqs") != 0) {
      problems_.push_back(device_key(d) + " has " + std::to_string(field("missing_seqs")) +
                          " missing seqs at one emulator instance");
    }
    ranges_[d].push_back({field("min_seq"), field("max_seq")});
  }
  for (auto& [d, ranges] : ranges_) {
    // The union of the instances' ranges; what they share was received twice.
    std::vector<Range> sorted = ranges;
    std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.min < b.min; });
    std::int64_t total = 0, distinct = 0, reach = 0;
    for (const Range& r : sorted) {
      total += r.max - r.min + 1;
      if (r.max > reach) {
        distinct += r.max - std::max(r.min, reach + 1) + 1;
        reach = r.max;
      }
    }
    devices_[d].distinct = distinct;
    (void)total;
  }
}

std::int64_t CloudTally::duplicates() const {
  std::int64_t n = 0;
  for (const auto& [d, t] : devices_) n += t.duplicates;
  for (const auto& [d, ranges] : ranges_) {
    std::int64_t total = 0;
    for (const Range& r : ranges) total += r.max - r.min + 1;
    n += total - devices_.at(d).distinct;
  }
  return n;
}

std::int64_t CloudTally::order_violations() const {
  std::int64_t n = 0;
  for (const auto& [d, t] : devices_) n += t.order_violations;
  return n;
}

std::int64_t CloudTally::readings() const {
  std::int64_t n = 0;
  for (const auto& [d, t] : devices_) n += t.readings;
  return n;
}

std::string CloudTally::describe() const {
  std::string text;
  for (const auto& [d, t] : devices_) {
    text += device_key(d) + ": distinct " + std::to_string(t.distinct) + ", readings " +
            std::to_string(t.readings) + ", duplicates " + std::to_string(t.duplicates) +
            ", order violations " + std::to_string(t.order_violations) + "\n";
  }
  for (const auto& p : problems_) text += p + "\n";
  return text;
}

void expect_delivered(const CloudTally& tally, int devices, int acked,
                      std::int64_t max_duplicates) {
  EXPECT_TRUE(tally.problems_.empty()) << tally.describe();
  for (int d = 1; d <= devices; ++d) {
    const auto it = tally.devices_.find(d);
    ASSERT_NE(it, tally.devices_.end()) << device_key(d) << " got nothing";
    const auto ranges = tally.ranges_.find(d);
    ASSERT_NE(ranges, tally.ranges_.end());
    std::int64_t min = INT64_MAX, max = 0;
    for (const auto& r : ranges->second) {
      min = std::min(min, r.min);
      max = std::max(max, r.max);
    }
    // Seqs 1..max without a gap: everything acknowledged (and perhaps a little more) arrived.
    EXPECT_EQ(min, 1) << device_key(d);
    EXPECT_GE(max, acked) << device_key(d);
    EXPECT_EQ(it->second.distinct, max - min + 1) << device_key(d) << ": a gap\n"
                                                  << tally.describe();
    EXPECT_EQ(it->second.order_violations, 0) << device_key(d);
  }
  EXPECT_LE(tally.duplicates(), max_duplicates) << tally.describe();
}

bool wait_drained(testing::CloudEmulator& cloud, int devices, int acked,
                  std::chrono::milliseconds timeout) {
  return testing::wait_until(
      [&] {
        for (int d = 1; d <= devices; ++d) {
          if (cloud.device_stat(device_key(d), "distinct_seqs") < acked) return false;
        }
        return true;
      },
      timeout);
}

void expect_no_secret(const std::string& text, const std::vector<std::string>& secrets,
                      const std::string& where) {
  for (const auto& secret : secrets) {
    const auto at = text.find(secret);
    EXPECT_EQ(at, std::string::npos)
        << "a secret appears in " << where << ": ..."
        << text.substr(at == std::string::npos ? 0 : (at > 80 ? at - 80 : 0), 200) << "...";
  }
}

std::vector<std::string> secrets(int devices, std::vector<std::string> more) {
  for (int d = 1; d <= devices; ++d) more.push_back(device_token(d));
  return more;
}

}  // namespace edgegw::reliability
