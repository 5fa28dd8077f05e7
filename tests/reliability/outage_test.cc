// SPDX-License-Identifier: Apache-2.0
// Outages under load: the broker restarted; the cloud answering 503, then gone (connection
// refused: the emulator is stopped and a new one started later on the same port), then
// rate-limiting with Retry-After; then recovery. Everything the broker acknowledged drains, in
// order per device.
//
// EDGEGW_REL_OUTAGE_MS (default 1500) is the length of each outage phase.
#include <gtest/gtest.h>

#include <csignal>

#include "harness.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;

TEST(Reliability, BrokerRestartCloudDownAndRateLimitedThenEverythingDrains) {
  const auto outage = std::chrono::milliseconds(env_int("EDGEGW_REL_OUTAGE_MS", 1500));
  constexpr int kDevices = 4;
  testing::Mosquitto broker;
  auto cloud = std::make_unique<testing::CloudEmulator>(emulator_args(kDevices));
  const int cloud_port = cloud->port();
  testing::TempDir dir;
  GatewayOptions options;
  options.devices = kDevices;
  options.timeout = "1s";
  const std::string config = dir.write(
      "gw.yaml", gateway_config(dir.path() + "/data", cloud->url(), broker.uri(), options), 0600);
  auto gw = start_gateway(config);
  ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();
  const std::string metrics = testing::metrics_address(*gw);

  LoadPublisher load(broker.uri(), kDevices, 400, /*reconnecting=*/true);
  auto readings = [&] {
    std::int64_t n = 0;
    for (int d = 1; d <= kDevices; ++d) n += cloud->device_stat(device_key(d), "readings");
    return n;
  };
  ASSERT_TRUE(testing::wait_until([&] { return readings() >= 200; }, 20s)) << gw->err();

  // 1. The broker restarts under load (it keeps the sessions and their queued messages).
  broker.restart();
  ASSERT_TRUE(gw->wait_for_err("lost", 10s)) << gw->err();
  const std::int64_t before = readings();
  ASSERT_TRUE(testing::wait_until([&] { return readings() >= before + 200; }, 30s))
      << gw->err() << broker.log();

  // 2. The cloud answers 503 for a while, 3. then is gone: connections are refused. Its counts
  // are taken while it still answers 503 (nothing is accepted between them and the kill).
  cloud->set_fault(R"({"status":503,"for_ms":)" + std::to_string(outage.count() + 60'000) + "}");
  std::this_thread::sleep_for(outage);
  CloudTally tally;
  tally.add(*cloud, kDevices);
  cloud->process().signal(SIGKILL);
  cloud->process().wait(5s);
  std::this_thread::sleep_for(outage);
  EXPECT_EQ(http_get(metrics, "/readyz").first, 200) << "not serving while the cloud is down";

  // 4. A new cloud on the same port rate-limits: 429 with Retry-After (text and header).
  cloud = std::make_unique<testing::CloudEmulator>([&] {
    auto args = emulator_args(kDevices);
    args.insert(args.end(),
                {"--listen", "127.0.0.1:" + std::to_string(cloud_port), "--retry-after-header"});
    return args;
  }());
  cloud->set_fault(R"({"status":429,"retry_after":1,"for_ms":)" + std::to_string(outage.count()) +
                   "}");
  std::this_thread::sleep_for(outage);

  // 5. Recovery: the load stops, everything acknowledged drains.
  load.stop();
  ASSERT_FALSE(load.failed());
  const int acked = load.acknowledged();
  ASSERT_TRUE(testing::wait_until(
      [&] {
        for (int d = 1; d <= kDevices; ++d) {
          if (cloud->device_stat(device_key(d), "max_seq") < acked) return false;
        }
        return true;
      },
      60s))
      << gw->err();
  tally.add(*cloud, kDevices);
  // Duplicates: the broker redelivers what was in flight to the gateway at its restart (20), and
  // the batches in flight when the cloud died may have been stored without an answer.
  expect_delivered(tally, kDevices, acked, 20 + 2 * kDevices * 100);
  std::printf(
      "outages of %lld ms: %d readings acknowledged by the broker, %lld at the cloud, "
      "%lld duplicates, %lld order violations, lost: %s\n",
      static_cast<long long>(outage.count()), acked * kDevices,
      static_cast<long long>(tally.readings()), static_cast<long long>(tally.duplicates()),
      static_cast<long long>(tally.order_violations()), HasFailure() ? "SEE FAILURES" : "0");
  const auto [status, scrape] = http_get(metrics, "/metrics");
  EXPECT_GT(metric(scrape, R"(edgegw_forward_requests_total{code="503"})"), 0) << scrape;
  EXPECT_GT(metric(scrape, R"(edgegw_forward_requests_total{code="429"})"), 0) << scrape;
  EXPECT_GT(metric(scrape, R"(edgegw_forward_requests_total{code="error"})"), 0) << scrape;
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(15s), 0) << gw->err();
  expect_no_secret(gw->err(), secrets(kDevices), "the gateway's log");
  expect_no_secret(scrape, secrets(kDevices), "/metrics");
}

}  // namespace
}  // namespace edgegw::reliability
