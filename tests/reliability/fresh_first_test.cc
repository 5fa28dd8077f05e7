// SPDX-License-Identifier: Apache-2.0
// cloud.drain: fresh_first (issue 23) end to end: an hour of readings (their times one hour
// apart from first to last) is published at full speed while the cloud answers 503; when it
// answers again, each device's first request it accepts carries the newest reading of each of
// its variables, and at the end it has every reading once.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <map>

#include <boost/json.hpp>

#include "core/time.h"
#include "device_api/record.h"
#include "harness.h"
#include "support/tokens.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const char* const kVariables[] = {"temp", "pressure", "humidity"};

// Seq `seq` of `count`, spread evenly over the hour before `end_ms`; its variable by seq.
std::string timed_payload(int seq, int count, std::int64_t end_ms) {
  const std::int64_t time_ms = end_ms - 3'600'000 + 3'600'000LL * seq / count;
  std::string time;
  core::append_iso8601_ms(time_ms, time);
  return std::string(R"({"variable":")") + kVariables[seq % 3] + R"(","value":)" +
         std::to_string(seq) + R"(,"time":")" + time + R"(","metadata":{"seq":)" +
         std::to_string(seq) + "}}";
}

constexpr int kDevices = 4, kPerDevice = 3000;

// Mosquitto, the emulator (readings kept: GET /data reads them back) and a gateway with
// cloud.fresh_after: 1s, whose cloud answered 503 while an hour of readings per device came.
struct OutageRig {
  OutageRig() : cloud(cloud_args()) {
    GatewayOptions options;
    options.devices = kDevices;
    options.cloud_extra = "  drain: fresh_first\n  fresh_after: 1s\n";
    config = dir.write(
        "gw.yaml", gateway_config(dir.path() + "/data", cloud.url(), broker.uri(), options), 0600);
  }
  static std::vector<std::string> cloud_args() {
    std::vector<std::string> args;
    for (int d = 1; d <= kDevices; ++d) {
      args.insert(args.end(), {"--device", device_key(d) + "=" + device_token(d)});
    }
    return args;
  }
  void start() {
    gw = start_gateway(config);
    ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();
    metrics = testing::metrics_address(*gw);
  }
  // The outage: every reading published while the cloud answers 503, until each lane's backlog
  // is old and its newest readings are picked (the retries come at most max_backoff, 500 ms,
  // apart).
  void outage() {
    cloud.set_fault(R"({"status":503})");  // until cleared
    const std::int64_t end_ms = core::now_ms();
    std::vector<testing::MqttPublisher::Message> messages;
    for (int seq = 1; seq <= kPerDevice; ++seq) {
      for (int d = 1; d <= kDevices; ++d) {
        messages.push_back(
            {"sensors/" + device_key(d) + "/data", timed_payload(seq, kPerDevice, end_ms)});
      }
    }
    testing::MqttPublisher publisher(broker.uri(), "outage-publisher");
    ASSERT_TRUE(publisher.publish_all(messages, 1));
    ASSERT_TRUE(testing::wait_until(
        [&] {
          const auto scrape = http_get(metrics, "/metrics").second;
          return metric(scrape, "edgegw_buffer_readings") == kDevices * kPerDevice &&
                 metric(scrape, "edgegw_forward_backfill_devices") == kDevices;
        },
        30s))
        << gw->err();
    // A request sends what is newest when it leaves (a failed lane's batch gives way to newer
    // readings): once more requests were refused than can be in flight, every lane's next one
    // carries the present.
    const std::int64_t refused = refused_requests();
    ASSERT_TRUE(testing::wait_until([&] { return refused_requests() > refused + kDevices; }, 30s))
        << gw->err();
  }
  std::int64_t refused_requests() {
    const auto scrape = http_get(metrics, "/metrics").second;
    return static_cast<std::int64_t>(
        metric(scrape, R"(edgegw_forward_requests_total{code="503"})"));
  }
  bool all_delivered() {
    return testing::wait_until(
        [&] {
          for (int d = 1; d <= kDevices; ++d) {
            if (cloud.device_stat(device_key(d), "distinct_seqs") < kPerDevice) return false;
          }
          return true;
        },
        60s);
  }

  testing::Mosquitto broker;
  testing::CloudEmulator cloud;
  testing::TempDir dir;
  std::string config;
  std::unique_ptr<testing::Subprocess> gw;
  std::string metrics;
};

TEST(FreshFirst, AfterAnHourOfOutageEachVariablesNewestReadingArrivesFirst) {
  OutageRig rig;
  ASSERT_NO_FATAL_FAILURE(rig.start());
  ASSERT_NO_FATAL_FAILURE(rig.outage());
  rig.cloud.clear_faults();
  ASSERT_TRUE(rig.all_delivered()) << rig.gw->err();
  auto& cloud = rig.cloud;
  auto& gw = rig.gw;
  const std::string& metrics = rig.metrics;

  const auto scrape = http_get(metrics, "/metrics").second;
  for (int d = 1; d <= kDevices; ++d) {
    const std::string key = device_key(d);
    EXPECT_EQ(cloud.device_stat(key, "missing_seqs"), 0) << key;
    EXPECT_EQ(cloud.device_stat(key, "duplicates"), 0) << key;
    // Every record of the device, with its arrival serial (ids are made in arrival order) and
    // its group (the emulator gives the items of one request a group of their own).
    auto client = cloud.client();
    const auto r = client.get("/data?qty=10000&details=true", {{"Device-Token", device_token(d)}});
    ASSERT_EQ(r.status, 200) << r.body;
    const json::value body = json::parse(r.body);
    const auto& records = body.at("result").as_array();
    ASSERT_EQ(records.size(), static_cast<std::size_t>(kPerDevice)) << key;
    std::uint64_t first_serial = UINT64_MAX;
    std::string first_group;
    std::map<std::string, std::pair<std::string, std::string>> newest;  // variable: time, group
    for (const auto& rec : records) {
      const std::uint64_t serial = device_api::serial_of_id(rec.at("id").as_string());
      const std::string group(rec.at("group").as_string());
      if (serial < first_serial) {
        first_serial = serial;
        first_group = group;
      }
      const std::string variable(rec.at("variable").as_string());
      const std::string time(rec.at("time").as_string());
      auto& n = newest[variable];
      if (time > n.first) n = {time, group};
    }
    ASSERT_EQ(newest.size(), 3u) << key;
    for (const auto& [variable, n] : newest) {
      EXPECT_EQ(n.second, first_group)
          << key << ": the newest " << variable << " was not in the first request after the outage";
    }
  }
  EXPECT_EQ(metric(scrape, "edgegw_forward_backfills_total"), kDevices);
  EXPECT_EQ(metric(scrape, "edgegw_forward_backfill_devices"), 0);
  std::printf(
      "fresh first: %d readings over an hour of outage; the present reached the cloud %.4f s "
      "after it answered again (edgegw_forward_present_delay_seconds)\n",
      kDevices * kPerDevice, metric(scrape, "edgegw_forward_present_delay_seconds"));
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(15s), 0) << gw->err();
}

// kill -9 in the middle of a backfill: the restarted gateway finds the rest of the backlog (old:
// present first again) and the readings it had removed out of order stay removed. Every reading
// arrives; duplicates only from the batches in flight at the kill.
TEST(FreshFirst, AKillInTheMiddleOfABackfillLosesNothing) {
  OutageRig rig;
  ASSERT_NO_FATAL_FAILURE(rig.start());
  ASSERT_NO_FATAL_FAILURE(rig.outage());
  rig.cloud.clear_faults();
  rig.cloud.set_fault(R"({"delay_ms":20})");  // a slow cloud: the backfill takes a while
  ASSERT_TRUE(testing::wait_until(
      [&] { return rig.cloud.stats().at("readings_accepted").to_number<std::int64_t>() > 1000; },
      30s));
  rig.gw->signal(SIGKILL);
  ASSERT_EQ(rig.gw->wait(10s), 128 + SIGKILL);
  const std::int64_t before = rig.cloud.stats().at("readings_accepted").to_number<std::int64_t>();
  ASSERT_LT(before, kDevices * kPerDevice) << "the backfill was over before the kill";
  rig.cloud.clear_faults();
  ASSERT_NO_FATAL_FAILURE(rig.start());
  ASSERT_TRUE(rig.all_delivered()) << rig.gw->err();
  std::int64_t duplicates = 0;
  for (int d = 1; d <= kDevices; ++d) {
    EXPECT_EQ(rig.cloud.device_stat(device_key(d), "missing_seqs"), 0);
    duplicates += rig.cloud.device_stat(device_key(d), "duplicates");
  }
  // At most a batch (max_readings 100) per lane was in flight at the kill.
  EXPECT_LE(duplicates, kDevices * 100);
  std::printf(
      "fresh first, kill -9 mid-backfill: %lld of %d readings delivered before the kill, "
      "%lld duplicates after the restart\n",
      static_cast<long long>(before), kDevices * kPerDevice, static_cast<long long>(duplicates));
  const auto scrape = http_get(rig.metrics, "/metrics").second;
  EXPECT_GE(metric(scrape, "edgegw_forward_backfills_total"), 1) << "no backfill after restart";
  rig.gw->signal(SIGTERM);
  EXPECT_EQ(rig.gw->wait(15s), 0) << rig.gw->err();
}

}  // namespace
}  // namespace edgegw::reliability
