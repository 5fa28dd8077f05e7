// SPDX-License-Identifier: Apache-2.0
// `edgegw run` with the modbus plugin polling a libmodbus server (plugins/modbus/tests/
// test_server.h) over TCP into the cloud emulator: the readings arrive with their units and
// values, edgegw_source_up follows the server going away and coming back, and `check-config`
// says what each group costs.
#include <gtest/gtest.h>

#include <csignal>

#include "launcher.h"
#include "support/metrics_text.h"
#include "support/subprocess.h"
#include "support/tokens.h"
#include "test_server.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;
using plugins::modbus::testing::Table;
using plugins::modbus::testing::TestServer;

std::string config(const std::string& data_dir, const std::string& url, int modbus_port) {
  return "gateway:\n  data_dir: " + data_dir +
         "\n  shutdown_timeout: 3s\n"
         "metrics: { listen: '127.0.0.1:0' }\n"
         "cloud:\n  url: " +
         url +
         "\n  batch: { max_readings: 200, linger: 20ms }\n"
         "sources:\n"
         "  - name: meters\n"
         "    plugin: modbus\n"
         "    config:\n"
         "      transport: tcp\n"
         "      host: 127.0.0.1\n"
         "      port: " +
         std::to_string(modbus_port) +
         "\n"
         "      timeout: 300ms\n"
         "      initial_backoff: 50ms\n"
         "      max_backoff: 200ms\n"
         "      units:\n"
         "        - id: 1\n"
         "          device: meter-1\n"
         "          groups:\n"
         "            - name: fast\n"
         "              interval: 100ms\n"
         "              points:\n"
         "                - { name: voltage, kind: input, address: 0, type: f32, unit: V }\n"
         "                - { name: power, kind: input, address: 2, type: i32, scale: 0.1, "
         "unit: kW }\n"
         "            - name: slow\n"
         "              interval: 1s\n"
         "              points:\n"
         "                - { name: energy, address: 100, type: u64, unit: kWh, report: "
         "on_change }\n"
         "devices:\n  - key: meter-1\n    token: " +
         testing::fake_token(1) + "\nunmapped: reject\n";
}

double source_up(const std::string& address) {
  const auto m = testing::parse_metrics(testing::metrics_client(address).get("/metrics").body);
  const auto it = m.find(R"(edgegw_source_up{source="meters"})");
  return it == m.end() ? -1 : it->second;
}

TEST(ModbusSourceGateway, PollsReachTheCloudAndSourceUpFollowsTheServer) {
  auto server = TestServer::tcp();
  server->add_unit(1);
  // f32 230.1 (0x4366199a, 230.100006... exactly): the cloud gets the float's text, 230.1.
  server->set_registers(1, Table::kInput, 0, {0x4366, 0x199a, 0, 12345});
  server->set_registers(1, Table::kHolding, 100, {0, 0, 0, 777});
  testing::CloudEmulator cloud({"--device", "meter-1=" + testing::fake_token(1)});
  testing::TempDir dir;
  const std::string cfg =
      dir.write("gw.yaml", config(dir.path() + "/data", cloud.url(), server->port()), 0600);

  const auto check = testing::run_command({testing::edgegw_binary(), "check-config", "-c", cfg});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.err.find("unit 1 (meter-1), group 'fast' every 100ms: 2 point(s) in 1 "
                           "request(s): input 0-3"),
            std::string::npos)
      << check.err;
  EXPECT_NE(check.err.find("1 unit(s), 2 group(s), 2 request(s) per round of polls, 11 "
                           "request(s)/s"),
            std::string::npos)
      << check.err;

  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  const std::string address = testing::metrics_address(gw);
  ASSERT_FALSE(address.empty()) << gw.err();
  ASSERT_TRUE(
      testing::wait_until([&] { return cloud.device_stat("meter-1", "readings") >= 10; }, 20s))
      << gw.err();
  EXPECT_EQ(source_up(address), 1);
  auto client = cloud.client();
  auto last = [&](const std::string& variable) {
    return client
        .get("/data?variable=" + variable + "&query=last_item",
             {{"Device-Token", testing::fake_token(1)}})
        .body;
  };
  EXPECT_NE(last("voltage").find(R"("value":230.1,"unit":"V")"), std::string::npos)
      << last("voltage");
  EXPECT_NE(last("power").find(R"("value":1234.5,"unit":"kW")"), std::string::npos)
      << last("power");
  EXPECT_NE(last("energy").find(R"("value":777,"unit":"kWh")"), std::string::npos)
      << last("energy");

  server->stop();
  EXPECT_TRUE(testing::wait_until([&] { return source_up(address) == 0; }, 10s)) << gw.err();
  server->start();
  EXPECT_TRUE(testing::wait_until([&] { return source_up(address) == 1; }, 10s)) << gw.err();

  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(15s), 0) << gw.err();
  EXPECT_NE(gw.err().find("stopped: unit 1 (meter-1): "), std::string::npos) << gw.err();
  EXPECT_EQ(gw.err().find(testing::fake_token(1)), std::string::npos);
}

}  // namespace
}  // namespace edgegw
