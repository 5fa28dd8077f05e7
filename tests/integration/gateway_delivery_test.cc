// SPDX-License-Identifier: Apache-2.0
// The whole daemon: `edgegw run` delivers what waits in its buffer to the cloud emulator with each
// device's own token, survives SIGHUP with a corrected token, and stops cleanly.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "buffer/buffer.h"
#include "launcher.h"
#include "support/subprocess.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBoiler = "11111111-2222-4333-8444-555555555555";
constexpr const char* kPress = "66666666-7777-4888-8999-aaaaaaaaaaaa";
constexpr const char* kPressFixed = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff";

// `press_token`: what the file says for press-7's token (a literal or "${PRESS_TOKEN}").
std::string config(const std::string& data_dir, const std::string& url,
                   const std::string& press_token) {
  return "gateway:\n  data_dir: " + data_dir +
         "\n  log_level: debug\n  shutdown_timeout: 3s\n"
         "metrics: { listen: '127.0.0.1:0' }\n"
         "cloud:\n  url: " +
         url +
         "\n  batch: { max_readings: 50, linger: 20ms }\n"
         "  retry: { initial_backoff: 20ms, max_backoff: 1s }\n"
         "devices:\n"
         "  - key: boiler-1\n    token: " +
         kBoiler +
         "\n"
         "  - key: press-7\n    token: " +
         press_token +
         "\n"
         "unmapped: reject\n";
}

void fill(const std::string& data_dir, const std::string& key, int n) {
  buffer::Options o;
  o.path = data_dir + "/buffer";
  auto b = std::move(buffer::Buffer::open(o)).value();
  const auto id = *b->register_device(key);
  std::vector<std::string> jsons;
  for (int i = 1; i <= n; ++i) {
    jsons.push_back(R"({"variable":"v","value":)" + std::to_string(i) + R"(,"metadata":{"seq":)" +
                    std::to_string(i) + "}}");
  }
  std::vector<buffer::Record> records;
  for (const auto& j : jsons) records.push_back({id, j});
  ASSERT_TRUE(b->append(records));
}

TEST(GatewayDelivery, DeliversTheBufferAndPicksUpAFixedTokenOnReload) {
  testing::CloudEmulator cloud({"--device", std::string("boiler=") + kBoiler, "--device",
                                std::string("press=") + kPressFixed});
  testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  fill(data, "boiler-1", 500);
  fill(data, "press-7", 120);
  const std::string cfg = dir.write("gw.yaml", config(data, cloud.url(), "${PRESS_TOKEN}"), 0600);

  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg},
                         {std::string("PRESS_TOKEN=") + kPress});
  ASSERT_TRUE(
      testing::wait_until([&] { return cloud.device_stat("boiler", "readings") == 500; }, 10s))
      << gw.err();
  EXPECT_EQ(cloud.device_stat("boiler", "order_violations"), 0);
  // press-7's token is refused: its readings wait, the log says so without the token.
  ASSERT_TRUE(gw.wait_for_err("device press-7: the cloud refused its token (401)", 10s))
      << gw.err();
  EXPECT_EQ(cloud.device_stat("press", "readings"), 0);

  // The operator writes the right token into the file and reloads.
  dir.write("gw.yaml", config(data, cloud.url(), kPressFixed), 0600);
  gw.signal(SIGHUP);
  ASSERT_TRUE(
      testing::wait_until([&] { return cloud.device_stat("press", "readings") == 120; }, 10s))
      << gw.err();

  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
  const std::string log = gw.err();
  EXPECT_EQ(log.find(kBoiler), std::string::npos);
  EXPECT_EQ(log.find(kPress), std::string::npos);
  EXPECT_EQ(log.find(kPressFixed), std::string::npos);

  auto stats = testing::run_command({testing::edgegw_binary(), "buffer", "stats", "-c", cfg});
  EXPECT_NE(stats.out.find("total                                       0"), std::string::npos)
      << stats.out;
}

}  // namespace
}  // namespace edgegw
