// SPDX-License-Identifier: Apache-2.0
// A cloud that refuses or misbehaves: a poison reading inside a batch (dead-lettered alone, the
// rest delivered in order), a device whose token is refused (held, the others unaffected, then
// released by a new token on SIGHUP), and garbage answers (non-JSON, truncated, huge bodies,
// a slowloris server): the gateway keeps going and delivers everything.
#include <gtest/gtest.h>

#include <csignal>

#include <boost/json/serialize.hpp>

#include "harness.h"
#include "support/tokens.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 2;

std::vector<testing::MqttPublisher::Message> messages(int per_device, int poison_seq = 0) {
  std::vector<testing::MqttPublisher::Message> out;
  for (int seq = 1; seq <= per_device; ++seq) {
    for (int d = 1; d <= kDevices; ++d) {
      std::string p = payload(seq);
      if (d == 1 && seq == poison_seq) p.replace(p.find("temp"), 4, "poison");
      out.push_back({"sensors/" + device_key(d) + "/data", p});
    }
  }
  return out;
}

TEST(CloudRefusals, APoisonReadingIsDeadLetteredAloneAndTheRestDelivered) {
  Rig s(kDevices);
  s.cloud.set_fault(R"({"reject":{"variable":"poison"},"status":400,"message":"poison refused"})");
  ASSERT_NO_FATAL_FAILURE(s.start());
  constexpr int kPerDevice = 300;
  testing::MqttPublisher pub(s.broker.uri(), "pub");
  ASSERT_TRUE(pub.publish_all(messages(kPerDevice, 150), 1));
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return s.cloud.device_stat(device_key(1), "distinct_seqs") == kPerDevice - 1 &&
               s.cloud.device_stat(device_key(2), "distinct_seqs") == kPerDevice;
      },
      30s))
      << s.gw->err() << boost::json::serialize(s.cloud.stats());
  // Only seq 150 of dev-1 is missing; nothing is out of order or sent twice.
  EXPECT_EQ(s.cloud.device_stat(device_key(1), "missing_seqs"), 1);
  for (int d = 1; d <= kDevices; ++d) {
    EXPECT_EQ(s.cloud.device_stat(device_key(d), "order_violations"), 0);
    EXPECT_EQ(s.cloud.device_stat(device_key(d), "duplicates"), 0);
  }
  const auto scrape = http_get(s.metrics, "/metrics").second;
  EXPECT_EQ(metric(scrape, R"(edgegw_readings_dead_lettered_total{status="400"})"), 1) << scrape;
  const std::string all = s.stop_and_collect();
  EXPECT_NE(all.find("poison refused"), std::string::npos) << "the dead letter keeps the reason";
  EXPECT_NE(all.find(R"("seq":150)"), std::string::npos) << all;
  expect_no_secret(all, secrets(kDevices), "logs, /metrics, buffer stats and dead letters");
}

TEST(CloudRefusals, ARefusedTokenHoldsOnlyThatDeviceUntilSighupGivesANewOne) {
  Rig s(kDevices);
  s.cloud.set_fault(R"({"token_denied":")" + device_token(2) + R"("})");
  ASSERT_NO_FATAL_FAILURE(s.start());
  constexpr int kPerDevice = 200;
  testing::MqttPublisher pub(s.broker.uri(), "pub");
  ASSERT_TRUE(pub.publish_all(messages(kPerDevice), 1));
  ASSERT_TRUE(wait_drained(s.cloud, 1, kPerDevice, 30s)) << s.gw->err();
  ASSERT_TRUE(s.gw->wait_for_err("refused its token", 10s)) << s.gw->err();
  EXPECT_EQ(s.cloud.device_stat(device_key(2), "readings"), 0);
  EXPECT_EQ(metric(http_get(s.metrics, "/metrics").second, "edgegw_devices_held"), 1);

  // The operator gives dev-2 its new token and reloads.
  const std::string new_token = testing::fake_token(102);
  s.cloud.add_device(device_key(2), new_token);
  std::string yaml = testing::read_file(s.config);
  yaml.replace(yaml.find(device_token(2)), device_token(2).size(), new_token);
  s.dir.write("gw.yaml", yaml, 0600);
  s.gw->signal(SIGHUP);
  ASSERT_TRUE(wait_drained(s.cloud, kDevices, kPerDevice, 30s)) << s.gw->err();
  CloudTally tally;
  tally.add(s.cloud, kDevices);
  expect_delivered(tally, kDevices, kPerDevice, 0);
  EXPECT_EQ(metric(http_get(s.metrics, "/metrics").second, "edgegw_devices_held"), 0);
  expect_no_secret(s.stop_and_collect(), secrets(kDevices, {new_token}),
                   "logs, /metrics and buffer output");
}

TEST(CloudRefusals, GarbageAnswersAreRetriedAndEverythingArrives) {
  Rig s(kDevices);
  GatewayOptions options;
  options.timeout = "1s";  // the slowloris answer must time out
  ASSERT_NO_FATAL_FAILURE(s.start(options));
  // Each garbled answer in turn; those after_processing stored the batch first, so the retry
  // makes a duplicate of it (at most one batch of 100 each).
  s.cloud.set_fault(R"([
    {"status":500,"count":2,"body":"<html><body>Internal error\n<pre>stack...</pre></body></html>"},
    {"status":502,"count":1,"body":"{\"status\":false,\"message\":"},
    {"status":503,"count":1,"body_bytes":3000000},
    {"status":500,"count":1,"message":")" +
                    std::string(150'000, 'm') + R"("},
    {"status":503,"count":1,"truncate":true},
    {"status":200,"count":1,"truncate":true,"after_processing":true},
    {"status":200,"count":1,"body":"OK, thanks","after_processing":true},
    {"status":200,"count":1,"body_bytes":2000000,"after_processing":true},
    {"status":503,"count":1,"trickle_ms":100},
    {"status":200,"count":1,"trickle_ms":100,"after_processing":true}])");
  constexpr int kPerDevice = 500;
  testing::MqttPublisher pub(s.broker.uri(), "pub");
  ASSERT_TRUE(pub.publish_all(messages(kPerDevice), 1));
  ASSERT_TRUE(wait_drained(s.cloud, kDevices, kPerDevice, 60s))
      << s.gw->err() << boost::json::serialize(s.cloud.stats());
  EXPECT_EQ(s.cloud.stats().at("requests").at("by_status").as_object().size() > 1, true);
  EXPECT_TRUE(s.cloud.set_fault("[]").at("queue").as_array().empty()) << "faults left unused";
  CloudTally tally;
  tally.add(s.cloud, kDevices);
  expect_delivered(tally, kDevices, kPerDevice, 4 * 100);
  EXPECT_EQ(http_get(s.metrics, "/readyz").first, 200);
  const std::string all = s.stop_and_collect();
  // The logs quote the cloud briefly, never a megabyte of it.
  EXPECT_EQ(all.find(std::string(1000, 'm')), std::string::npos) << "a huge message was logged";
  EXPECT_EQ(all.find(std::string(1000, 'x')), std::string::npos) << "a huge body was logged";
  expect_no_secret(all, secrets(kDevices), "logs, /metrics and buffer output");
}

}  // namespace
}  // namespace edgegw::reliability
