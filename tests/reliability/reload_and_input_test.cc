// SPDX-License-Identifier: Apache-2.0
// SIGHUP under load (an invalid config is refused and the running one kept; a valid one is
// applied; nothing is lost either way), and malformed MQTT payloads at a high rate among good
// ones (each counted, every good reading delivered).
#include <gtest/gtest.h>

#include <csignal>

#include <boost/json/serialize.hpp>

#include "harness.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 4;

TEST(Reload, InvalidConfigIsRefusedValidOneAppliedUnderLoadNothingLost) {
  testing::Mosquitto broker;
  testing::CloudEmulator cloud(emulator_args(kDevices + 1));
  testing::TempDir dir;
  GatewayOptions options;
  options.devices = kDevices;
  const std::string good = gateway_config(dir.path() + "/data", cloud.url(), broker.uri(), options);
  const std::string config = dir.write("gw.yaml", good, 0600);
  auto gw = start_gateway(config);
  ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();
  const std::string metrics = testing::metrics_address(*gw);
  LoadPublisher load(broker.uri(), kDevices, 1000, /*reconnecting=*/false);
  // Each reload lands among readings in flight: the load has moved on by `seqs` since the last
  // step (the publisher sends about 1000 messages a second).
  const auto load_moves_on = [&](int seqs) {
    const int from = load.acknowledged();
    return testing::wait_until([&] { return load.acknowledged() >= from + seqs; }, 10s);
  };
  ASSERT_TRUE(load_moves_on(100));

  // Invalid: an unknown key and a bad duration. Refused with its located errors; still running.
  std::string bad = good;
  bad.replace(bad.find("  shutdown_timeout: 3s"), 21, "  shutdown_timeout: soon\n  colour: red");
  dir.write("gw.yaml", bad, 0600);
  gw->signal(SIGHUP);
  ASSERT_TRUE(gw->wait_for_err("reload refused", 10s)) << gw->err();
  EXPECT_NE(gw->err().find("gw.yaml:"), std::string::npos) << "errors name FILE:LINE:COL";
  EXPECT_NE(gw->err().find("colour"), std::string::npos) << gw->err();
  EXPECT_TRUE(gw->running());
  ASSERT_TRUE(load_moves_on(50));

  // Valid: a new device, applied while the source keeps running; and smaller batches, which the
  // forwarder takes at its next start (the reload says so).
  GatewayOptions more = options;
  more.devices = kDevices + 1;
  more.max_readings = 20;
  dir.write("gw.yaml", gateway_config(dir.path() + "/data", cloud.url(), broker.uri(), more), 0600);
  gw->signal(SIGHUP);
  ASSERT_TRUE(gw->wait_for_err("config reloaded", 10s)) << gw->err();
  EXPECT_NE(
      gw->err().find("reload: cloud.batch changed; the forwarder takes it at the next restart"),
      std::string::npos)
      << gw->err();
  testing::MqttPublisher pub(broker.uri(), "new-device");
  ASSERT_TRUE(pub.publish("sensors/" + device_key(kDevices + 1) + "/data", payload(1)));
  ASSERT_TRUE(load_moves_on(100));
  load.stop();
  ASSERT_FALSE(load.failed());
  ASSERT_TRUE(wait_drained(cloud, kDevices, load.acknowledged(), 30s)) << gw->err();
  ASSERT_TRUE(testing::wait_until(
      [&] { return cloud.device_stat(device_key(kDevices + 1), "readings") == 1; }, 10s));
  CloudTally tally;
  tally.add(cloud, kDevices);
  expect_delivered(tally, kDevices, load.acknowledged(), 0);
  const auto scrape = http_get(metrics, "/metrics").second;
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(15s), 0) << gw->err();
  expect_no_secret(gw->err() + scrape, secrets(kDevices + 1), "the log and /metrics");
}

TEST(BadInput, MalformedPayloadsAtAHighRateAreCountedAndNothingElseIsLost) {
  testing::Mosquitto broker;
  testing::CloudEmulator cloud(emulator_args(kDevices));
  testing::TempDir dir;
  GatewayOptions options;
  options.devices = kDevices;
  const std::string config = dir.write(
      "gw.yaml", gateway_config(dir.path() + "/data", cloud.url(), broker.uri(), options), 0600);
  auto gw = start_gateway(config);
  ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();
  const std::string metrics = testing::metrics_address(*gw);

  // Every kind of bad: not JSON, truncated, wrong types, refused names, binary, huge, empty.
  const std::vector<std::string> bad = {
      "{not json",
      R"({"variable":"temp","value":)",
      R"({"value":1})",
      R"({"variable":"a b","value":1})",
      R"({"variable":"temp","value":{"nested":true}})",
      std::string("\x00\xff\xfe\x01binary", 10),
      "[" + std::string(20000, '['),
      R"({"variable":")" + std::string(200, 'v') + R"(","value":1})",
      "",
      "null",
  };
  constexpr int kPerDevice = 1000;
  std::vector<testing::MqttPublisher::Message> all;
  int malformed = 0;
  for (int seq = 1; seq <= kPerDevice; ++seq) {
    for (int d = 1; d <= kDevices; ++d) {
      const std::string topic = "sensors/" + device_key(d) + "/data";
      all.push_back({topic, payload(seq)});
      all.push_back({topic, bad[(seq + d) % bad.size()]});
      ++malformed;
    }
  }
  testing::MqttPublisher pub(broker.uri(), "pub");
  ASSERT_TRUE(pub.publish_all(all, 1, 200));
  ASSERT_TRUE(wait_drained(cloud, kDevices, kPerDevice, 60s))
      << gw->err() << boost::json::serialize(cloud.stats());
  CloudTally tally;
  tally.add(cloud, kDevices);
  expect_delivered(tally, kDevices, kPerDevice, 0);
  EXPECT_EQ(tally.readings(), kPerDevice * kDevices);
  std::string scrape;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        scrape = http_get(metrics, "/metrics").second;
        return metric(scrape, R"(edgegw_readings_rejected_total{reason="decode",source="plant"})") +
                   metric(scrape,
                          R"(edgegw_readings_rejected_total{reason="invalid",source="plant"})") ==
               malformed;
      },
      10s))
      << scrape;
  EXPECT_TRUE(gw->running());
  // Logged, but rate-limited: not one line per bad message.
  std::size_t lines = 0;
  for (const char c : gw->err()) lines += c == '\n';
  EXPECT_LT(lines, 200U) << gw->err();
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(15s), 0) << gw->err();
}

}  // namespace
}  // namespace edgegw::reliability
