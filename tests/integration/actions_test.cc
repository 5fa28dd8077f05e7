// SPDX-License-Identifier: Apache-2.0
// Actions and analyses end to end (issue 20): `edgegw run` with the local Device API, readings
// POSTed to it, and what the actions do seen from outside — a real Mosquitto (mosquitto_sub), a
// second cloud emulator as the target of a `post`, the official JS SDK in an analysis, and
// a script that hangs.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <string>

#include "launcher.h"
#include "support/http_client.h"
#include "support/metrics_text.h"
#include "support/mosquitto.h"
#include "support/subprocess.h"
#include "support/tokens.h"

namespace edgegw::testing {
namespace {

using namespace std::chrono_literals;

// The gateway with an http source on a free port, boiler-1 (cloud token fake_token(1), local
// token fake_token(101)), delivering to an emulator, with `extra` YAML (actions:, analyses:)
// after devices:. Its data dir survives a kill and a restart().
class Gateway {
 public:
  explicit Gateway(const std::string& extra) : port_(free_port()) {
    cloud_ = std::make_unique<CloudEmulator>(
        std::vector<std::string>{"--device", "boiler-1=" + fake_token(1)});
    const std::string c =
        "gateway:\n  id: test-gw\n  data_dir: " + dir_.path() + "/data\n  log_level: debug\n" +
        "  shutdown_timeout: 3s\nmetrics: { listen: '127.0.0.1:0' }\n" +
        "cloud:\n  url: " + cloud_->url() +
        "\n  batch: { linger: 20ms }\n  retry: { initial_backoff: 20ms, max_backoff: 200ms }\n" +
        "sources:\n  - name: local-api\n    plugin: http\n    format: tago_json\n" +
        "    config: { listen: '127.0.0.1:" + std::to_string(port_) + "' }\n" +
        "devices:\n  - key: boiler-1\n    token: " + fake_token(1) +
        "\n    local_token: " + fake_token(101) + "\n" + extra;
    config_ = dir_.write("gw.yaml", c, 0600);
    start();
  }
  ~Gateway() {
    if (gw_ && gw_->running()) {
      gw_->signal(SIGTERM);
      (void)gw_->wait(10s);
    }
  }

  void start() {
    gw_ = std::make_unique<Subprocess>(
        std::vector<std::string>{edgegw_binary(), "run", "-c", config_});
    ASSERT_TRUE(gw_->wait_for_err("local Device API listening on", 15s)) << gw_->err();
    metrics_ = metrics_address(*gw_);
    ASSERT_FALSE(metrics_.empty()) << gw_->err();
  }
  void kill9_and_restart() {
    gw_->signal(SIGKILL);
    (void)gw_->wait(10s);
    start();
  }

  // POSTs one reading of boiler-1 through the local Device API; true once it is accepted
  // (durable, and its actions evaluated).
  bool send(const std::string& variable, const std::string& value) {
    auto r = HttpClient("http://127.0.0.1:" + std::to_string(port_))
                 .post("/data", R"({"variable":")" + variable + R"(","value":)" + value + "}",
                       {{"Device-Token", fake_token(101)}});
    return r.status == 200;
  }
  double metric(const std::string& sample) {
    auto body = metrics_client(metrics_).get("/metrics").body;
    auto samples = parse_metrics(body);
    auto it = samples.find(sample);
    return it == samples.end() ? -1 : it->second;
  }
  bool wait_metric(const std::string& sample, double at_least) {
    return wait_until([&] { return metric(sample) >= at_least; }, 10s);
  }
  CloudEmulator& cloud() { return *cloud_; }
  Subprocess& process() { return *gw_; }
  std::string dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<CloudEmulator> cloud_;
  std::string config_;
  std::unique_ptr<Subprocess> gw_;
  std::string metrics_;
};

// Lines "topic payload" that mosquitto_sub printed.
std::vector<std::string> lines(const std::string& out) {
  std::vector<std::string> result;
  std::size_t begin = 0;
  while (begin < out.size()) {
    const std::size_t end = out.find('\n', begin);
    if (end == std::string::npos) break;
    result.push_back(out.substr(begin, end - begin));
    begin = end + 1;
  }
  return result;
}

TEST(Actions, AThresholdPublishesOnceRearmsOnResetAndKeepsItsStateAcrossAKill) {
  Mosquitto broker;
  Subprocess sub({"mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-v",
                  "-q", "1", "-t", "alarms/#"});
  Gateway gw(R"(actions:
  - name: overheat
    devices: [boiler-1]
    when_set: { variable: temperature, condition: ">", value: 80 }
    when_reset: { variable: temperature, condition: "<", value: 70 }
    type: mqtt
    mqtt:
      broker: )" +
             broker.uri() + R"(
      topic: "alarms/{device}/{variable}"
      payload: '{"value": {value}, "unit": "{unit}"}'
      qos: 1
)");
  const std::string fired = R"(edgegw_action_fired_total{action="overheat"})";
  // mosquitto_sub subscribes in its own time: probe until it sees what is published.
  ASSERT_TRUE(wait_until(
      [&] {
        (void)run_command({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                           "-t", "alarms/probe", "-m", "probe"});
        return sub.out().find("alarms/probe") != std::string::npos;
      },
      10s));
  const auto alarms = [&] {
    std::vector<std::string> found;
    for (auto& line : lines(sub.out())) {
      if (!line.starts_with("alarms/probe")) found.push_back(line);
    }
    return found;
  };
  ASSERT_TRUE(gw.send("temperature", "85"));
  ASSERT_TRUE(wait_until([&] { return alarms().size() == 1; }, 10s))
      << sub.out() << gw.process().err();
  EXPECT_EQ(alarms()[0], R"(alarms/boiler-1/temperature {"value": 85, "unit": ""})");
  EXPECT_EQ(gw.metric(fired), 1);

  // Above the threshold again: fired already, not re-armed.
  ASSERT_TRUE(gw.send("temperature", "90"));
  ASSERT_TRUE(gw.send("pressure", "200"));
  EXPECT_EQ(gw.metric(fired), 1);

  // kill -9: the disarmed mark is in RocksDB with the reading that set it.
  gw.kill9_and_restart();
  ASSERT_TRUE(gw.send("temperature", "95"));
  EXPECT_EQ(gw.metric(fired), 0);  // the counter is this run's; the state is the store's

  // The reset condition re-arms it; the next reading over the threshold fires again.
  ASSERT_TRUE(gw.send("temperature", "65"));
  ASSERT_TRUE(gw.send("temperature", "81.5"));
  EXPECT_EQ(gw.metric(fired), 1);
  ASSERT_TRUE(wait_until([&] { return alarms().size() == 2; }, 10s)) << sub.out();
  EXPECT_EQ(alarms()[1], R"(alarms/boiler-1/temperature {"value": 81.5, "unit": ""})");
  EXPECT_TRUE(gw.wait_metric(R"(edgegw_action_jobs_total{action="overheat",result="done"})", 1));
  sub.signal(SIGTERM);
}

TEST(Actions, AnMqttActionWaitsForItsBrokerInTheOutbox) {
  Mosquitto broker;
  broker.stop();
  Gateway gw(R"(actions:
  - name: any-reading
    when_set: { variable: level }
    type: mqtt
    mqtt: { broker: )" +
             broker.uri() + R"(, topic: "levels/{device}", payload: "{value}" }
)");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(gw.send("level", std::to_string(i)));
  EXPECT_TRUE(gw.wait_metric(R"(edgegw_action_retries_total{action="any-reading"})", 1));
  EXPECT_EQ(gw.metric(R"(edgegw_action_queued_jobs{action="any-reading"})"), 5);
  // A restart while the broker is away loses none of them.
  gw.kill9_and_restart();
  broker.start();
  // Published (acknowledged by the broker at QoS 1) once it is back.
  EXPECT_TRUE(gw.wait_metric(R"(edgegw_action_jobs_total{action="any-reading",result="done"})", 5))
      << gw.process().err();
  EXPECT_EQ(gw.metric(R"(edgegw_action_queued_jobs{action="any-reading"})"), 0);
}

TEST(Actions, APostFailsFirstThenSucceedsAndA4xxIsDeadLettered) {
  // The target: another emulator, whose device "hook" takes the POSTed readings.
  CloudEmulator target({"--device", "hook=" + fake_token(7)});
  // Only notify's token: wrong-token, retried as fast, must not take the 503s meant for it.
  target.set_fault(R"({"status":503,"count":2,"path":"/data","token":")" + fake_token(7) + R"("})");
  Gateway gw(R"(actions:
  - name: notify
    when_set: { variable: temperature, condition: ">=", value: 100 }
    type: post
    post:
      url: )" +
             target.url() + R"(/data
      headers: { Device-Token: )" +
             fake_token(7) + R"( }
  - name: wrong-token
    when_set: { variable: temperature, condition: ">=", value: 100 }
    type: post
    post:
      url: )" +
             target.url() + R"(/data
      headers: { Device-Token: )" +
             fake_token(8) + R"( }
)");
  ASSERT_TRUE(gw.send("temperature", "120"));
  ASSERT_TRUE(wait_until([&] { return target.device_stat("hook", "readings") == 1; }, 10s))
      << gw.process().err();
  EXPECT_TRUE(gw.wait_metric(R"(edgegw_action_jobs_total{action="notify",result="done"})", 1));
  EXPECT_GE(gw.metric(R"(edgegw_action_retries_total{action="notify"})"), 1);
  EXPECT_TRUE(
      gw.wait_metric(R"(edgegw_action_jobs_total{action="wrong-token",result="dead_letter"})", 1));
  EXPECT_EQ(gw.metric(R"(edgegw_action_queued_jobs{action="wrong-token"})"), 0);
  // No token in the log, whatever happened.
  EXPECT_EQ(gw.process().err().find(fake_token(7)), std::string::npos);
  EXPECT_EQ(gw.process().err().find(fake_token(8)), std::string::npos);
}

TEST(Actions, AnAnalysisWrittenWithTheOfficialSdkSendsADerivedReading) {
  const std::string sdk_dir = source_dir() + "/tests/integration/http_sdk";
  ASSERT_TRUE(std::filesystem::exists(sdk_dir + "/node_modules/@tago-io/sdk/package.json"))
      << "run deploy/setup.sh: it installs the pinned SDK";
  Gateway gw(R"(actions:
  - name: to-fahrenheit
    when_set: { variable: temperature }
    type: analysis
    analysis: fahrenheit
analyses:
  - name: fahrenheit
    command: [node, )" +
             sdk_dir + R"(/analysis_fahrenheit.cjs]
    environment: { DEVICE_TOKEN: )" +
             fake_token(101) + R"( }
    timeout: 20s
)");
  ASSERT_TRUE(gw.send("temperature", "100"));
  // The analysis's Device.sendData went to the local Device API, then to the cloud.
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = gw.cloud().client().get("/data?variable=temperature_f&qty=1",
                                         {{"Device-Token", fake_token(1)}});
        return r.body.find("212") != std::string::npos;
      },
      20s))
      << gw.process().err();
  EXPECT_TRUE(
      gw.wait_metric(R"(edgegw_analysis_runs_total{analysis="fahrenheit",result="succeeded"})", 1));
  EXPECT_NE(gw.process().err().find("analysis fahrenheit: derived temperature_f 212"),
            std::string::npos)
      << gw.process().err();
  EXPECT_EQ(gw.process().err().find(fake_token(101)), std::string::npos);
}

TEST(Actions, AHangingAnalysisIsKilledAtItsTimeout) {
  Gateway gw(R"(actions:
  - name: run-hang
    when_set: { variable: go }
    type: analysis
    analysis: hang
analyses:
  - name: hang
    command: [sh, -c, "sleep 1000.25 & echo started; wait"]
    timeout: 500ms
)");
  ASSERT_TRUE(gw.send("go", "1"));
  EXPECT_TRUE(
      gw.wait_metric(R"(edgegw_analysis_runs_total{analysis="hang",result="timed_out"})", 1))
      << gw.process().err();
  // Its whole process group went with it: the background sleep too.
  EXPECT_TRUE(wait_until(
      [] {
        return run_command({"pgrep", "-f", "sleep 1000.25"}).exit_code != 0;
      },
      5s));
  EXPECT_NE(gw.process().err().find("analysis hang: started"), std::string::npos);
}

}  // namespace
}  // namespace edgegw::testing
