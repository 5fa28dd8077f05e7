// SPDX-License-Identifier: Apache-2.0
// `edgegw run` with the example plugin as a source: raw messages go through the plugin host,
// the decoder and the device mapping into the buffer and on to the cloud emulator; a SIGHUP that
// replaces the source loses nothing.
#include <gtest/gtest.h>

#include <csignal>
#include <functional>
#include <thread>

#include "launcher.h"
#include "support/http_client.h"
#include "support/subprocess.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBoiler = "11111111-2222-4333-8444-555555555555";

std::string source(const std::string& name, const std::string& variable, int count) {
  return "  - name: " + name +
         "\n    plugin: example\n    format: tago_json\n"
         "    config: { device: boiler-1, count: " +
         std::to_string(count) +
         ", batch: 7, interval: 1ms,\n"
         "              payload: '{\"variable\":\"" +
         variable + "\",\"value\":{i},\"metadata\":{\"seq\":{i}}}' }\n";
}

std::string config(const std::string& data_dir, const std::string& url,
                   const std::string& sources) {
  return "gateway:\n  data_dir: " + data_dir +
         "\n  log_level: debug\n  shutdown_timeout: 3s\n"
         "metrics: { listen: '127.0.0.1:0' }\n"
         "cloud:\n  url: " +
         url +
         "\n  batch: { max_readings: 50, linger: 20ms }\n"
         "  retry: { initial_backoff: 20ms, max_backoff: 1s }\n"
         "sources:\n" +
         sources +
         "devices:\n"
         "  - key: boiler-1\n    token: " +
         kBoiler +
         "\n    variables:\n      temp: { rename: temperature, unit: C }\n"
         "unmapped: reject\n";
}

TEST(PluginSource, DeliversMappedReadingsAndSurvivesReplacingTheSource) {
  testing::CloudEmulator cloud({"--device", std::string("boiler=") + kBoiler});
  testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string cfg =
      dir.write("gw.yaml", config(data, cloud.url(), source("first", "temp", 300)), 0600);

  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(
      testing::wait_until([&] { return cloud.device_stat("boiler", "readings") == 300; }, 15s))
      << gw.err();

  // The mapping renamed temp and set its unit.
  testing::HttpClient client = cloud.client();
  const testing::HttpHeaders auth = {{"Device-Token", kBoiler}};
  auto r = client.get("/data?variable=temperature&qty=1", auth);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("variable":"temperature")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("unit":"C")"), std::string::npos) << r.body;
  r = client.get("/data?variable=temp&query=count", auth);
  EXPECT_EQ(r.body, R"({"status":true,"result":0})");

  // SIGHUP: the first source is removed, a second one added.
  dir.write("gw.yaml", config(data, cloud.url(), source("second", "pressure", 200)), 0600);
  gw.signal(SIGHUP);
  ASSERT_TRUE(
      testing::wait_until([&] { return cloud.device_stat("boiler", "readings") == 500; }, 15s))
      << gw.err();
  r = client.get("/data?variable=pressure&query=count", auth);
  EXPECT_EQ(r.body, R"({"status":true,"result":200})");
  EXPECT_EQ(cloud.device_stat("boiler", "order_violations"), 0);
  EXPECT_NE(gw.err().find("source first: removed"), std::string::npos) << gw.err();
  EXPECT_NE(gw.err().find("source second: started (plugin example"), std::string::npos);

  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
  const std::string log = gw.err();
  EXPECT_EQ(log.find(kBoiler), std::string::npos);
  // Sources stop before the forwarder.
  EXPECT_LT(log.find("source second: stopped"), log.find("edgegw stopped"));
}

TEST(PluginSource, MissingPluginStopsStartUpWithOneClearLine) {
  testing::TempDir dir;
  const std::string cfg = dir.write("gw.yaml", "gateway:\n  data_dir: " + dir.path() +
                                                   "/data\n  plugin_dir: " + dir.path() +
                                                   "/plugins\n"
                                                   "cloud:\n  url: http://127.0.0.1:9\n"
                                                   "sources:\n  - name: plant\n    plugin: mqtt\n");
  auto r = testing::run_command({testing::edgegw_binary(), "run", "-c", cfg});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("edgegw: cannot start: sources[0] 'plant': plugin 'mqtt': " + dir.path() +
                       "/plugins/libedgegw_mqtt.so not found (gateway.plugin_dir is " + dir.path() +
                       "/plugins)\n"),
            std::string::npos)
      << r.err;

  // check-config refuses it too, where `plugin:` stands (the folder does not even exist);
  // --no-plugins checks the rest of the config alone.
  auto check = testing::run_command({testing::edgegw_binary(), "check-config", "-c", cfg});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find(cfg + ":8:13: sources[0].plugin: no plugin 'mqtt' in " + dir.path() +
                           "/plugins (gateway.plugin_dir); the folder does not exist"),
            std::string::npos)
      << check.err;
  check =
      testing::run_command({testing::edgegw_binary(), "check-config", "--no-plugins", "-c", cfg});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

}  // namespace
}  // namespace edgegw
