// SPDX-License-Identifier: Apache-2.0
// `edgegw run` with the simulator plugin as a source: synthetic devices go through the plugin
// host, the decoder, the mapping and the buffer to the cloud emulator; deliberately malformed
// messages are counted as decode rejects and leave no gap; bursts arrive whole.
#include <gtest/gtest.h>

#include <csignal>

#include "launcher.h"
#include "support/metrics_text.h"
#include "support/subprocess.h"
#include "support/tokens.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 8;

std::string config(const std::string& data_dir, const std::string& url, const std::string& sim) {
  std::string cfg = "gateway:\n  data_dir: " + data_dir +
                    "\n  shutdown_timeout: 3s\n"
                    "metrics: { listen: '127.0.0.1:0' }\n"
                    "cloud:\n  url: " +
                    url +
                    "\n  batch: { max_readings: 200, linger: 20ms }\n"
                    "sources:\n  - name: sim\n    plugin: simulator\n    format: tago_json\n"
                    "    config: " +
                    sim + "\ndevices:\n";
  for (int d = 1; d <= kDevices; ++d) {
    cfg += "  - key: sim-" + std::to_string(d) + "\n    token: " + testing::fake_token(d) + "\n";
  }
  return cfg + "unmapped: reject\n";
}

std::vector<std::string> cloud_args() {
  std::vector<std::string> args;
  for (int d = 1; d <= kDevices; ++d) {
    args.push_back("--device");
    args.push_back("sim-" + std::to_string(d) + "=" + testing::fake_token(d));
  }
  return args;
}

std::int64_t total(testing::CloudEmulator& cloud, const std::string& field) {
  std::int64_t n = 0;
  for (int d = 1; d <= kDevices; ++d) n += cloud.device_stat("sim-" + std::to_string(d), field);
  return n;
}

TEST(SimulatorSource, DevicesReachTheCloudInOrderAndMalformedOnesAreCounted) {
  testing::CloudEmulator cloud(cloud_args());
  testing::TempDir dir;
  // 400 messages of two readings, 10% malformed, 200 per second per device at most.
  const std::string cfg =
      dir.write("gw.yaml",
                config(dir.path() + "/data", cloud.url(),
                       "{ devices: 8, rate: 25, count: 400, malformed: 0.1, seed: 3, "
                       "variables: [temperature, gps] }"),
                0600);
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(gw.wait_for_err("sent 400 message(s)", 20s)) << gw.err();

  auto metrics = testing::metrics_client(testing::metrics_address(gw));
  const auto samples = testing::parse_metrics(metrics.get("/metrics").body);
  const double decode_rejects =
      samples.at(R"(edgegw_readings_rejected_total{reason="decode",source="sim"})");
  EXPECT_GT(decode_rejects, 10);
  EXPECT_LT(decode_rejects, 80);
  const auto expected = static_cast<std::int64_t>(2 * (400 - decode_rejects));
  ASSERT_TRUE(testing::wait_until([&] { return total(cloud, "readings") == expected; }, 15s))
      << total(cloud, "readings") << " of " << expected << "\n"
      << gw.err();
  EXPECT_EQ(total(cloud, "duplicates"), 0);
  EXPECT_EQ(total(cloud, "order_violations"), 0);
  EXPECT_EQ(total(cloud, "missing_seqs"), 0);
  // Every device got its share, numbered from 1 without a hole.
  for (int d = 1; d <= kDevices; ++d) {
    const std::string key = "sim-" + std::to_string(d);
    EXPECT_GT(cloud.device_stat(key, "readings"), 50) << key;
    EXPECT_EQ(cloud.device_stat(key, "max_seq"), cloud.device_stat(key, "readings")) << key;
  }
  // The readings carry their generation time: the emulator measured a latency for each.
  EXPECT_EQ(cloud.stats().at("latency_ms").at("readings").as_int64(), expected);

  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
}

TEST(SimulatorSource, BurstsArriveWholeAndStopIsPrompt) {
  testing::CloudEmulator cloud(cloud_args());
  testing::TempDir dir;
  const std::string cfg =
      dir.write("gw.yaml",
                config(dir.path() + "/data", cloud.url(),
                       "{ devices: 8, rate: 0.5, burst: { every: 1s, messages: 50 }, "
                       "variables: [counter] }"),
                0600);
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  // Two bursts of 8 x 50 messages within ~2 s, far above the steady 4 messages per second.
  ASSERT_TRUE(testing::wait_until([&] { return total(cloud, "readings") >= 800; }, 15s))
      << total(cloud, "readings") << "\n"
      << gw.err();
  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
  EXPECT_NE(gw.err().find("8 simulated device(s) (sim-1 ...)"), std::string::npos) << gw.err();
  EXPECT_EQ(total(cloud, "duplicates"), 0);
  EXPECT_EQ(total(cloud, "order_violations"), 0);
}

TEST(SimulatorSource, BadConfigNamesTheKey) {
  testing::TempDir dir;
  const std::string cfg = dir.write(
      "gw.yaml",
      config(dir.path() + "/data", "http://127.0.0.1:9", "{ devices: 8, variables: [humidity] }"),
      0600);
  const auto r = testing::run_command({testing::edgegw_binary(), "run", "-c", cfg});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("variables[0]: expected one of temperature, counter, switch, gps"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace edgegw
