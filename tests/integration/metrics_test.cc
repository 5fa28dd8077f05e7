// SPDX-License-Identifier: Apache-2.0
// /metrics of a running `edgegw run` after real traffic: sources (the example plugin) send good,
// garbled, unmapped and cloud-refused readings and readings of a device whose token the cloud
// refuses; every counter is checked against what was sent and what the cloud emulator saw, the
// text passes `promtool check metrics`, and reload results and a fixed token show up.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <regex>

#include "launcher.h"
#include "support/http_client.h"
#include "support/metrics_text.h"
#include "support/subprocess.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kBoiler = "11111111-2222-4333-8444-555555555555";
constexpr const char* kPressWrong = "66666666-7777-4888-8999-aaaaaaaaaaaa";
constexpr const char* kPressFixed = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff";

std::string source(const std::string& name, const std::string& device, int count, int batch,
                   const std::string& payload) {
  return "  - name: " + name + "\n    plugin: example\n    format: tago_json\n" +
         "    config: { device: " + device + ", count: " + std::to_string(count) +
         ", batch: " + std::to_string(batch) + ", interval: 1ms, payload: '" + payload + "' }\n";
}

std::string config(const std::string& data_dir, const std::string& url,
                   const std::string& press_token) {
  return "gateway:\n  data_dir: " + data_dir +
         "\n  log_level: debug\n  shutdown_timeout: 3s\n"
         "metrics: { listen: '127.0.0.1:0', per_device: true }\n"
         "cloud:\n  url: " +
         url +
         "\n  batch: { max_readings: 50, linger: 20ms }\n"
         "  retry: { initial_backoff: 20ms, max_backoff: 1s }\n"
         "sources:\n" +
         source("good", "boiler-1", 300, 7, R"({"variable":"temp","value":{i}})") +
         source("garbled", "boiler-1", 20, 5, "not json {i}") +
         source("stranger", "nobody", 10, 10, R"({"variable":"temp","value":{i}})") +
         source("press", "press-7", 5, 5, R"({"variable":"p","value":{i}})") +
         source("refused", "boiler-1", 2, 1, R"({"variable":"bad_var","value":{i}})") +
         "devices:\n"
         "  - key: boiler-1\n    token: " +
         kBoiler + "\n  - key: press-7\n    token: " + press_token + "\nunmapped: reject\n";
}

using testing::metrics_address;

class Scraper {
 public:
  explicit Scraper(const std::string& address) : http_(testing::metrics_client(address)) {}
  std::string text() { return http_.get("/metrics").body; }
  std::map<std::string, double> values() { return testing::parse_metrics(text()); }
  double value(const std::string& series) {
    const auto m = values();
    const auto it = m.find(series);
    return it == m.end() ? -1 : it->second;
  }
  testing::HttpClient& http() { return http_; }

 private:
  testing::HttpClient http_;
};

double emulator_status_count(testing::CloudEmulator& cloud, const char* status) {
  const auto stats = cloud.stats();
  const auto& by_status = stats.at("requests").at("by_status").as_object();
  const auto it = by_status.find(status);
  return it == by_status.end() ? 0 : static_cast<double>(it->value().to_number<std::int64_t>());
}

TEST(GatewayMetrics, CountersMatchWhatWasSentAndWhatTheCloudSaw) {
  testing::CloudEmulator cloud({"--device", std::string("boiler=") + kBoiler});
  cloud.set_fault(R"({"reject":{"variable":"bad_var"},"status":400})");
  testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string cfg = dir.write("gw.yaml", config(data, cloud.url(), kPressWrong), 0600);
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  const std::string address = metrics_address(gw);
  ASSERT_FALSE(address.empty()) << gw.err();
  Scraper scraper(address);

  // Quiet: the good readings delivered, the refused ones dead-lettered, press-7 held, and every
  // request the forwarder counted also observed by the histograms.
  ASSERT_TRUE(testing::wait_until(
      [&] {
        const auto m = scraper.values();
        const auto at = [&](const std::string& k) { return m.count(k) ? m.at(k) : -1; };
        double requests = 0;
        for (const auto& [k, v] : m) {
          if (k.rfind("edgegw_forward_requests_total{", 0) == 0) requests += v;
        }
        return at("edgegw_readings_forwarded_total") == 300 &&
               at(R"(edgegw_readings_dead_lettered_total{status="400"})") == 2 &&
               at("edgegw_devices_held") == 1 && at("edgegw_buffer_readings") == 5 &&
               at("edgegw_forward_batch_readings_count") == requests;
      },
      20s))
      << scraper.text() << gw.err();

  const std::string text = scraper.text();
  const auto m = testing::parse_metrics(text);
  // Sources: what the example plugin sent.
  EXPECT_EQ(m.at(R"(edgegw_source_messages_total{source="good"})"), 300);
  EXPECT_EQ(m.at(R"(edgegw_readings_received_total{source="good"})"), 300);
  EXPECT_EQ(m.at(R"(edgegw_readings_accepted_total{source="good"})"), 300);
  EXPECT_EQ(m.at(R"(edgegw_source_messages_total{source="garbled"})"), 20);
  EXPECT_EQ(m.at(R"(edgegw_readings_received_total{source="garbled"})"), 0);
  EXPECT_EQ(m.at(R"(edgegw_readings_rejected_total{reason="decode",source="garbled"})"), 20);
  EXPECT_EQ(m.at(R"(edgegw_readings_received_total{source="stranger"})"), 10);
  EXPECT_EQ(m.at(R"(edgegw_readings_rejected_total{reason="unmapped",source="stranger"})"), 10);
  EXPECT_EQ(m.at(R"(edgegw_readings_accepted_total{source="stranger"})"), 0);
  EXPECT_EQ(m.at(R"(edgegw_readings_accepted_total{source="press"})"), 5);
  EXPECT_EQ(m.at(R"(edgegw_readings_accepted_total{source="refused"})"), 2);
  EXPECT_EQ(m.at(R"(edgegw_readings_rejected_total{reason="buffer_full",source="good"})"), 0);
  EXPECT_EQ(m.at(R"(edgegw_source_up{source="good"})"), 1);
  EXPECT_EQ(
      m.at(
          R"(edgegw_plugin_info{abi="1.6",format="tago_json",plugin="example",source="good",version="0.1.0"})"),
      1);

  // Forwarding, against the cloud's own count.
  EXPECT_EQ(cloud.device_stat("boiler", "readings"), 300);
  EXPECT_EQ(m.at(R"(edgegw_forward_requests_total{code="200"})"),
            emulator_status_count(cloud, "200"));
  EXPECT_EQ(m.at(R"(edgegw_forward_requests_total{code="400"})"),
            emulator_status_count(cloud, "400"));
  EXPECT_GE(m.at(R"(edgegw_forward_requests_total{code="401"})"), 1);
  // Each request's readings: 300 delivered, the 2 refused ones (alone at the end of their split,
  // and with others before it), and press-7's 5 once per 401.
  EXPECT_GE(m.at("edgegw_forward_batch_readings_sum"),
            300 + 2 + 5 * m.at(R"(edgegw_forward_requests_total{code="401"})"));
  EXPECT_GT(m.at("edgegw_forward_request_duration_seconds_sum"), 0);
  EXPECT_EQ(m.at("edgegw_forward_circuit_open"), 0);

  // The buffer: press-7's readings wait; two dead letters; nothing dropped.
  EXPECT_GT(m.at("edgegw_buffer_bytes"), 0);
  EXPECT_GT(m.at("edgegw_buffer_oldest_reading_age_seconds"), 0);
  EXPECT_EQ(m.at("edgegw_buffer_dead_letter_readings"), 2);
  EXPECT_EQ(m.at(R"(edgegw_readings_dropped_total{reason="max_age"})"), 0);
  EXPECT_EQ(m.at(R"(edgegw_readings_dropped_total{reason="drop_oldest"})"), 0);

  // Per device, by key.
  EXPECT_EQ(m.at(R"(edgegw_device_readings_forwarded_total{device="boiler-1"})"), 300);
  EXPECT_EQ(m.at(R"(edgegw_device_readings_dead_lettered_total{device="boiler-1"})"), 2);
  EXPECT_EQ(m.at(R"(edgegw_device_buffer_readings{device="press-7"})"), 5);
  EXPECT_EQ(m.at(R"(edgegw_device_buffer_readings{device="boiler-1"})"), 0);
  EXPECT_EQ(m.at(R"(edgegw_device_held{device="press-7"})"), 1);
  EXPECT_EQ(m.at(R"(edgegw_device_held{device="boiler-1"})"), 0);

  EXPECT_EQ(m.at(R"(edgegw_config_reloads_total{result="success"})"), 0);
  EXPECT_EQ(m.at("edgegw_config_last_reload_successful"), 1);
  EXPECT_THAT(text, HasSubstr("edgegw_build_info{abi=\"1.6\",commit=\""));
  EXPECT_THAT(text, ::testing::Not(HasSubstr(kBoiler)));
  EXPECT_THAT(text, ::testing::Not(HasSubstr(kPressWrong)));
  EXPECT_EQ(testing::promtool_check_metrics(text), "");

  EXPECT_EQ(scraper.http().get("/healthz").status, 200);
  const auto ready = scraper.http().get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");

  // A refused reload is counted and flagged; a good one (press-7's fixed token) clears the flag
  // and releases the held device.
  dir.write("gw.yaml", "gateway: {data_dir: [oops\n", 0600);
  gw.signal(SIGHUP);
  ASSERT_TRUE(testing::wait_until(
      [&] { return scraper.value(R"(edgegw_config_reloads_total{result="failure"})") == 1; }, 10s))
      << gw.err();
  EXPECT_EQ(scraper.value("edgegw_config_last_reload_successful"), 0);

  cloud.add_device("press", kPressFixed);
  dir.write("gw.yaml", config(data, cloud.url(), kPressFixed), 0600);
  gw.signal(SIGHUP);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        const auto v = scraper.values();
        return v.count("edgegw_devices_held") && v.at("edgegw_devices_held") == 0 &&
               v.at("edgegw_readings_forwarded_total") == 305 &&
               v.at("edgegw_buffer_readings") == 0;
      },
      10s))
      << scraper.text() << gw.err();
  const auto after = scraper.values();
  EXPECT_EQ(after.at(R"(edgegw_config_reloads_total{result="success"})"), 1);
  EXPECT_EQ(after.at("edgegw_config_last_reload_successful"), 1);
  EXPECT_EQ(after.at(R"(edgegw_device_held{device="press-7"})"), 0);
  EXPECT_EQ(cloud.device_stat("press", "readings"), 5);
  // Unchanged sources keep running and keep their counts through the reload.
  EXPECT_EQ(after.at(R"(edgegw_readings_accepted_total{source="good"})"), 300);

  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
  EXPECT_THAT(gw.err(), ::testing::Not(HasSubstr(kPressFixed)));
}

TEST(GatewayMetrics, AnAddressInUseIsLoggedAndTheGatewayStillDelivers) {
  testing::CloudEmulator cloud({"--device", std::string("boiler=") + kBoiler});
  testing::TempDir dir;
  // The emulator's own port is certainly taken.
  const std::string taken = "127.0.0.1:" + std::to_string(cloud.port());
  const std::string cfg =
      dir.write("gw.yaml",
                "gateway: {data_dir: " + dir.path() + "/data}\nmetrics: {listen: '" + taken +
                    "'}\ncloud: {url: '" + cloud.url() + "', batch: {linger: 20ms}}\nsources:\n" +
                    source("good", "boiler-1", 50, 10, R"({"variable":"temp","value":{i}})") +
                    "devices:\n  - key: boiler-1\n    token: " + kBoiler + "\n",
                0600);
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(
      testing::wait_until([&] { return cloud.device_stat("boiler", "readings") == 50; }, 10s))
      << gw.err();
  EXPECT_THAT(gw.err(), HasSubstr("metrics.listen '" + taken + "': cannot listen on"));
  EXPECT_THAT(gw.err(), HasSubstr("trying again every 10 s"));
  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
}

}  // namespace
}  // namespace edgegw
