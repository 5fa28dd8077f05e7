// SPDX-License-Identifier: Apache-2.0
// A real Prometheus server (Debian's `prometheus`) with the shipped scrape config and alert rules
// (deploy/prometheus/), on loopback with a temp storage dir, scrapes a running gateway; the
// forwarded-readings count is read back through Prometheus's HTTP query API, the rules are
// loaded, and every query of the shipped Grafana dashboard is valid PromQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <csignal>
#include <regex>

#include "launcher.h"
#include "support/http_client.h"
#include "support/subprocess.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBoiler = "11111111-2222-4333-8444-555555555555";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

// The shipped scrape config, pointed at this gateway and scraping every second.
std::string scrape_config(const std::string& gateway_address) {
  std::string text =
      testing::read_file(testing::source_dir() + "/deploy/prometheus/prometheus.yml");
  const std::size_t targets = text.find("\"127.0.0.1:9464\"");
  EXPECT_NE(targets, std::string::npos) << "the shipped config's target changed";
  text = replace_all(text, "\"127.0.0.1:9464\"", "\"" + gateway_address + "\"");
  text = replace_all(text, "scrape_interval: 15s", "scrape_interval: 1s");
  text = replace_all(text, "evaluation_interval: 15s", "evaluation_interval: 1s");
  return replace_all(text, "scrape_timeout: 10s", "scrape_timeout: 1s");
}

// GET /api/v1/query?query=...: the "data" object, or null when Prometheus did not answer success.
boost::json::value query(testing::HttpClient& prometheus, const std::string& promql) {
  const auto r = prometheus.get("/api/v1/query?query=" + testing::url_encode(promql));
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(r.body, ec);
  if (ec || r.status != 200 || v.at("status").as_string() != "success") return nullptr;
  return v.at("data");
}

// The first sample's value of an instant vector query, or -1.
double scalar_of(testing::HttpClient& prometheus, const std::string& promql) {
  const boost::json::value data = query(prometheus, promql);
  if (data.is_null()) return -1;
  const auto& result = data.at("result").as_array();
  if (result.empty()) return -1;
  return std::stod(std::string(result[0].at("value").as_array()[1].as_string()));
}

TEST(Prometheus, ScrapesTheGatewayWithTheShippedConfig) {
  testing::CloudEmulator cloud({"--device", std::string("boiler=") + kBoiler});
  testing::TempDir dir;
  const std::string cfg = dir.write(
      "gw.yaml",
      "gateway: {data_dir: " + dir.path() + "/data}\nmetrics: {listen: '127.0.0.1:0'}\n" +
          "cloud: {url: '" + cloud.url() + "', batch: {max_readings: 50, linger: 20ms}}\n" +
          "sources:\n  - name: plant\n    plugin: example\n    format: tago_json\n" +
          "    config: {device: boiler-1, count: 200, batch: 10, interval: 1ms,\n" +
          "             payload: '{\"variable\":\"temp\",\"value\":{i}}'}\n" +
          "devices:\n  - key: boiler-1\n    token: " + kBoiler + "\n",
      0600);
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  ASSERT_TRUE(gw.wait_for_err("metrics: http://", 10s)) << gw.err();
  std::smatch match;
  const std::string log = gw.err();
  ASSERT_TRUE(std::regex_search(log, match, std::regex(R"(metrics: http://([^/]+)/metrics)")));
  const std::string gateway_address = match[1];
  ASSERT_TRUE(
      testing::wait_until([&] { return cloud.device_stat("boiler", "readings") == 200; }, 10s))
      << gw.err();

  // Prometheus with the shipped files, in a temp dir of its own.
  testing::TempDir prom_dir;
  const std::string config = prom_dir.write("prometheus.yml", scrape_config(gateway_address));
  prom_dir.write("edgegw-alerts.yml", testing::read_file(testing::source_dir() +
                                                         "/deploy/prometheus/edgegw-alerts.yml"));
  const std::string listen = "127.0.0.1:" + std::to_string(testing::free_port());
  testing::Subprocess prometheus({"prometheus", "--config.file=" + config,
                                  "--storage.tsdb.path=" + prom_dir.path() + "/data",
                                  "--web.listen-address=" + listen, "--log.level=warn"});
  testing::HttpClient api("http://" + listen);
  ASSERT_TRUE(testing::wait_until([&] { return api.get("/-/ready").status == 200; }, 20s))
      << prometheus.err();

  // Prometheus scraped the gateway and has the forwarded count, with the shipped labels.
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return scalar_of(api,
                         R"(edgegw_readings_forwarded_total{job="edgegw",gateway="edge-01"})") ==
               200;
      },
      20s))
      << prometheus.err() << gw.err();
  EXPECT_EQ(scalar_of(api, R"(up{job="edgegw"})"), 1);
  EXPECT_EQ(scalar_of(api, R"(edgegw_readings_received_total{source="plant"})"), 200);
  EXPECT_EQ(scalar_of(api, "edgegw_buffer_readings"), 0);

  // The shipped alert rules are loaded and evaluate without errors.
  ASSERT_TRUE(testing::wait_until(
      [&] {
        const auto r = api.get("/api/v1/rules");
        return r.status == 200 && r.body.find("\"EdgegwBufferFilling\"") != std::string::npos &&
               r.body.find("\"lastEvaluation\":\"0001-01-01T00:00:00Z\"") == std::string::npos;
      },
      20s))
      << api.get("/api/v1/rules").body;
  const auto rules = api.get("/api/v1/rules");
  EXPECT_EQ(rules.body.find("\"health\":\"err\""), std::string::npos) << rules.body;
  EXPECT_EQ(rules.body.find("\"health\":\"unknown\""), std::string::npos) << rules.body;
  EXPECT_EQ(scalar_of(api, R"(count(ALERTS{alertstate="firing"}))"), -1) << "nothing fires";

  // Every query of the shipped Grafana dashboard is valid PromQL (Grafana's variables filled in).
  const boost::json::value dashboard = boost::json::parse(
      testing::read_file(testing::source_dir() + "/deploy/prometheus/grafana-dashboard.json"));
  int checked = 0;
  for (const auto& panel : dashboard.at("panels").as_array()) {
    if (!panel.as_object().contains("targets")) continue;
    for (const auto& target : panel.at("targets").as_array()) {
      std::string expr(target.at("expr").as_string());
      expr = replace_all(expr, "$__rate_interval", "1m");
      expr = replace_all(expr, "$job", "edgegw");
      expr = replace_all(expr, "$instance", ".*");
      EXPECT_FALSE(query(api, expr).is_null()) << expr;
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);

  prometheus.signal(SIGTERM);
  EXPECT_EQ(prometheus.wait(10s), 0) << prometheus.err();
  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
}

}  // namespace
}  // namespace edgegw
