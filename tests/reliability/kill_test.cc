// SPDX-License-Identifier: Apache-2.0
// kill -9 of the gateway at random moments under MQTT QoS 1 load, many rounds, restarted each
// time (with each `buffer.sync` mode in turn). The broker keeps what a dead gateway's persistent
// session did not acknowledge; what the gateway acknowledged is in its write-ahead log. At the
// end every message the publisher got a PUBACK for is at the cloud, in order per device, with
// duplicates only from the batches in flight at each kill.
//
// EDGEGW_REL_ROUNDS (default 12), EDGEGW_REL_RATE (messages/s, default 2000) and
// EDGEGW_REL_SEED (default: time) change the run; bench/reliability/run_long.sh raises them.
#include <gtest/gtest.h>

#include <csignal>
#include <random>

#include "harness.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;

TEST(Reliability, KillNineAtRandomMomentsLosesNoAcknowledgedReading) {
  const int rounds = env_int("EDGEGW_REL_ROUNDS", 12);
  const int rate = env_int("EDGEGW_REL_RATE", 2000);
  const unsigned seed = static_cast<unsigned>(
      env_int("EDGEGW_REL_SEED", static_cast<int>(std::random_device{}() & 0x7fffffff)));
  constexpr int kDevices = 8;
  std::printf("kill -9 rounds: %d, rate %d msg/s, seed %u (EDGEGW_REL_SEED to replay)\n", rounds,
              rate, seed);
  std::mt19937 random(seed);

  testing::Mosquitto broker;
  testing::CloudEmulator cloud(emulator_args(kDevices));
  testing::TempDir dir;
  GatewayOptions options;
  options.devices = kDevices;
  const std::string config_path = dir.path() + "/gw.yaml";
  const char* kSyncModes[] = {"none", "batch", "always"};
  auto write_config = [&](int round) {
    options.sync = kSyncModes[round % 3];
    dir.write("gw.yaml", gateway_config(dir.path() + "/data", cloud.url(), broker.uri(), options),
              0600);
  };
  write_config(0);
  auto gw = start_gateway(config_path);
  ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();  // the session exists before the load starts

  LoadPublisher load(broker.uri(), kDevices, rate, /*reconnecting=*/false);
  std::string logs;
  // Kills anywhere from start-up (before the subscription) to well into steady forwarding.
  std::uniform_int_distribution<int> kill_after_ms(0, 2500);
  for (int round = 1; round <= rounds; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(random)));
    gw->signal(SIGKILL);
    ASSERT_EQ(gw->wait(10s), 128 + SIGKILL) << "round " << round << gw->err();
    logs += gw->err();
    ASSERT_FALSE(load.failed()) << "the broker refused the publisher in round " << round;
    write_config(round);
    gw = start_gateway(config_path);
  }
  ASSERT_TRUE(wait_subscribed(*gw)) << gw->err();
  std::this_thread::sleep_for(1s);  // the last gateway takes load too
  load.stop();
  ASSERT_FALSE(load.failed());
  const int acked = load.acknowledged();
  ASSERT_GT(acked, 0);

  ASSERT_TRUE(wait_drained(cloud, kDevices, acked, 90s)) << gw->err();
  // Still serving: ready, and it takes new readings.
  const std::string metrics = testing::metrics_address(*gw);
  EXPECT_EQ(http_get(metrics, "/readyz").first, 200);
  CloudTally tally;
  tally.add(cloud, kDevices);
  // At a kill: every device's batch in flight (at most max_readings each) can be sent again, and
  // the broker redelivers what the gateway buffered but had not acknowledged yet (Mosquitto's
  // max_inflight_messages, 20 per client).
  const std::int64_t bound = static_cast<std::int64_t>(rounds) * (kDevices * 100 + 20);
  expect_delivered(tally, kDevices, acked, bound);
  std::printf(
      "kill -9: %d rounds, %d readings acknowledged by the broker, %lld at the cloud, "
      "%lld duplicates (bound %lld), %lld order violations, lost: %s\n",
      rounds, acked * kDevices, static_cast<long long>(tally.readings()),
      static_cast<long long>(tally.duplicates()), static_cast<long long>(bound),
      static_cast<long long>(tally.order_violations()), HasFailure() ? "SEE FAILURES" : "0");

  const auto [status, scrape] = http_get(metrics, "/metrics");
  EXPECT_EQ(status, 200);
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(15s), 0) << gw->err();
  logs += gw->err();
  const auto stats =
      testing::run_command({testing::edgegw_binary(), "buffer", "stats", "-c", config_path});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  const auto all = secrets(kDevices);
  expect_no_secret(logs, all, "the gateway's logs");
  expect_no_secret(scrape, all, "/metrics");
  expect_no_secret(stats.out + stats.err, all, "edgegw buffer stats");
}

}  // namespace
}  // namespace edgegw::reliability
