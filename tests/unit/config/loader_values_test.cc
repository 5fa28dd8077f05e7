// SPDX-License-Identifier: Apache-2.0
// What a valid config loads to: defaults, the contract's full example, ${NAME}, plugin config JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>

#include "config/loader.h"
#include "test_util.h"

namespace edgegw::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::env_of;
using testing::errors_of;
using testing::load;

Config load_ok(std::string_view yaml, const EnvLookup& env = env_of({})) {
  LoadResult result = load(yaml, env);
  EXPECT_TRUE(result.errors.empty()) << ::testing::PrintToString(errors_of(result));
  EXPECT_TRUE(result.config.has_value());
  return result.config.value_or(Config{});
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

TEST(ConfigLoaderValuesTest, DefaultsOfTheContract) {
  const Config c = load_ok("gateway:\n  data_dir: /var/lib/edgegw\n");
  EXPECT_EQ(c.path, "test.yaml");
  EXPECT_EQ(c.gateway.id, host_name());
  EXPECT_FALSE(c.gateway.id.empty());
  EXPECT_EQ(c.gateway.data_dir, "/var/lib/edgegw");
  EXPECT_EQ(c.gateway.plugin_dir, "");
  EXPECT_EQ(c.gateway.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.gateway.log_format, LogFormat::kText);
  EXPECT_EQ(c.gateway.shutdown_timeout, 10s);
  EXPECT_EQ(c.buffer.max_bytes, 1ULL << 30);
  EXPECT_EQ(c.buffer.max_age, 7 * 24h);
  EXPECT_EQ(c.buffer.min_free, 64ULL << 20);  // extension (README)
  EXPECT_EQ(c.buffer.on_full, OnFull::kDropOldest);
  EXPECT_EQ(c.buffer.sync, SyncMode::kBatch);
  EXPECT_EQ(c.buffer.sync_interval, 100ms);
  EXPECT_FALSE(c.buffer.history_per_variable);
  EXPECT_EQ(c.history_per_variable(), 0u);  // no http source: nobody could read it
  EXPECT_EQ(c.cloud.url, "https://api.tago.io");
  EXPECT_EQ(c.cloud.timeout, 10s);
  EXPECT_EQ(c.cloud.max_in_flight, 8);
  EXPECT_EQ(c.cloud.requests_per_minute, 0);
  EXPECT_TRUE(c.cloud.tls.verify);
  EXPECT_EQ(c.cloud.tls.ca_file, "");
  EXPECT_EQ(c.cloud.batch.max_readings, 500u);
  EXPECT_EQ(c.cloud.batch.max_bytes, 190u * 1024);
  EXPECT_EQ(c.cloud.batch.linger, 200ms);
  EXPECT_EQ(c.cloud.retry.initial_backoff, 500ms);
  EXPECT_EQ(c.cloud.retry.max_backoff, 5min);
  EXPECT_EQ(c.cloud.retry.multiplier, 2.0);
  EXPECT_EQ(c.cloud.implausible_time, TimePolicy::kStamp);  // extension (README)
  EXPECT_EQ(c.cloud.future_tolerance, 5min);
  EXPECT_EQ(c.cloud.drain, DrainOrder::kFreshFirst);  // extension (README)
  EXPECT_EQ(c.cloud.fresh_after, 1min);
  EXPECT_EQ(c.cloud.clock_wait, 10min);
  EXPECT_EQ(c.metrics.listen, "127.0.0.1:9464");
  EXPECT_FALSE(c.metrics.per_device);
  EXPECT_TRUE(c.sources.empty());
  EXPECT_TRUE(c.devices.empty());
  EXPECT_TRUE(c.unmapped.reject);
  EXPECT_FALSE(c.unmapped.provision);
  EXPECT_FALSE(c.unmapped.uses_default());
  EXPECT_TRUE(c.unmapped.default_token.empty());
  EXPECT_FALSE(c.cloud.provisioning.set);
  EXPECT_TRUE(c.secret_values().empty());
}

TEST(ConfigLoaderValuesTest, ImplausibleTimePolicy) {
  const Config c = load_ok(
      "gateway: {data_dir: /d}\ncloud: {implausible_time: reject, future_tolerance: 90s}\n");
  EXPECT_EQ(c.cloud.implausible_time, TimePolicy::kReject);
  EXPECT_EQ(c.cloud.future_tolerance, 90s);
  EXPECT_EQ(
      load_ok("gateway: {data_dir: /d}\ncloud: {implausible_time: keep}\n").cloud.implausible_time,
      TimePolicy::kKeep);
}

TEST(ConfigLoaderValuesTest, DrainOrder) {
  const Config c =
      load_ok("gateway: {data_dir: /d}\ncloud: {drain: fifo, fresh_after: 30s, clock_wait: 0s}\n");
  EXPECT_EQ(c.cloud.drain, DrainOrder::kFifo);
  EXPECT_EQ(c.cloud.fresh_after, 30s);
  EXPECT_EQ(c.cloud.clock_wait, 0s);
}

TEST(ConfigLoaderValuesTest, DiskReserve) {
  EXPECT_EQ(load_ok("gateway: {data_dir: /d}\nbuffer: {min_free: 256MiB}\n").buffer.min_free,
            256ULL << 20);
  EXPECT_EQ(load_ok("gateway: {data_dir: /d}\nbuffer: {min_free: 0}\n").buffer.min_free, 0u);
}

TEST(ConfigLoaderValuesTest, EmptySectionsKeepTheirDefaults) {
  const Config c = load_ok(
      "gateway:\n  data_dir: /d\nbuffer:\ncloud:\n  tls:\nmetrics: {}\n"
      "sources:\ndevices: []\nunmapped:\n");
  EXPECT_EQ(c.buffer.sync, SyncMode::kBatch);
  EXPECT_TRUE(c.cloud.tls.verify);
  EXPECT_TRUE(c.sources.empty());
  EXPECT_TRUE(c.unmapped.reject);
}

// The contract's example (DESIGN.md, Part 2), every key set.
constexpr const char* kFullExample = R"(gateway:
  id: edge-01                       # [hostname]
  data_dir: /var/lib/edgegw         # required: RocksDB lives here
  plugin_dir: /usr/lib/edgegw/plugins
  log_level: debug
  log_format: json
  shutdown_timeout: 15s
buffer:
  max_bytes: 2GiB
  max_age: 3d
  on_full: reject_new
  sync: always
  sync_interval: 250ms
cloud:
  url: https://api.tago.io
  timeout: 20s
  max_in_flight: 16
  requests_per_minute: 5000
  tls: { verify: false, ca_file: /etc/ssl/ca.pem }
  batch: { max_readings: 1000, max_bytes: 190KiB, linger: 500ms }
  retry: { initial_backoff: 1s, max_backoff: 10m, multiplier: 1.5 }
metrics:
  listen: "[::1]:9464"
  per_device: true
sources:
  - name: plant
    plugin: mqtt
    format: tago_json
    config:
      uri: tcp://127.0.0.1:1883
      client_id: edgegw-edge-01
      topics: ["sensors/{device}/data"]
      qos: 1
      username: ""
      password: ${MQTT_PASSWORD}
      clean_session: false
  - name: line1
    plugin: serial
    format: csv
    config: { port: /dev/ttyUSB0, baud: 115200, device: press-7 }
  - name: local-api
    plugin: http
    config: { listen: 127.0.0.1:8080 }
  - name: meter
    plugin: simulator
    format: raw
    variable: power
devices:
  - key: boiler-1
    token: ${BOILER1_TOKEN}
    variables:
      temp: { rename: temperature, unit: C, scale: 0.1, offset: -40 }
      hum: {}
  - key: press-7
    token: 2b6c1a7e-press-7
unmapped: { default: { token: default-token-123 } }
)";

TEST(ConfigLoaderValuesTest, FullContractExample) {
  const Config c =
      load_ok(kFullExample,
              env_of({{"MQTT_PASSWORD", "mqtt-pw-secret"}, {"BOILER1_TOKEN", "boiler-token-1"}}));
  EXPECT_EQ(c.gateway.id, "edge-01");
  EXPECT_EQ(c.gateway.data_dir, "/var/lib/edgegw");
  EXPECT_EQ(c.gateway.plugin_dir, "/usr/lib/edgegw/plugins");
  EXPECT_EQ(c.gateway.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.gateway.log_format, LogFormat::kJson);
  EXPECT_EQ(c.gateway.shutdown_timeout, 15s);
  EXPECT_EQ(c.buffer.max_bytes, 2ULL << 30);
  EXPECT_EQ(c.buffer.max_age, 72h);
  EXPECT_EQ(c.buffer.on_full, OnFull::kRejectNew);
  EXPECT_EQ(c.buffer.sync, SyncMode::kAlways);
  EXPECT_EQ(c.buffer.sync_interval, 250ms);
  EXPECT_EQ(c.cloud.url, "https://api.tago.io");
  EXPECT_EQ(c.cloud.timeout, 20s);
  EXPECT_EQ(c.cloud.max_in_flight, 16);
  EXPECT_EQ(c.cloud.requests_per_minute, 5000);
  EXPECT_FALSE(c.cloud.tls.verify);
  EXPECT_EQ(c.cloud.tls.ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(c.cloud.batch.max_readings, 1000u);
  EXPECT_EQ(c.cloud.batch.max_bytes, 190u * 1024);
  EXPECT_EQ(c.cloud.batch.linger, 500ms);
  EXPECT_EQ(c.cloud.retry.initial_backoff, 1s);
  EXPECT_EQ(c.cloud.retry.max_backoff, 10min);
  EXPECT_EQ(c.cloud.retry.multiplier, 1.5);
  EXPECT_EQ(c.metrics.listen, "[::1]:9464");
  EXPECT_TRUE(c.metrics.per_device);

  ASSERT_EQ(c.sources.size(), 4u);
  EXPECT_EQ(c.sources[0].name, "plant");
  EXPECT_EQ(c.sources[0].plugin, "mqtt");
  EXPECT_EQ(c.sources[0].format, decode::Format::kTagoJson);
  EXPECT_EQ(c.sources[0].config_json,
            R"({"uri":"tcp://127.0.0.1:1883","client_id":"edgegw-edge-01",)"
            R"("topics":["sensors/{device}/data"],"qos":1,"username":"",)"
            R"("password":"mqtt-pw-secret","clean_session":false})");
  EXPECT_EQ(c.sources[0].mark.line, 26);
  EXPECT_EQ(c.sources[0].mark.column, 5);
  EXPECT_EQ(c.sources[1].name, "line1");
  EXPECT_EQ(c.sources[1].plugin, "serial");
  EXPECT_EQ(c.sources[1].format, decode::Format::kCsv);
  EXPECT_EQ(c.sources[1].config_json,
            R"({"port":"/dev/ttyUSB0","baud":115200,"device":"press-7"})");
  EXPECT_EQ(c.sources[2].format, decode::Format::kTagoJson);  // the default
  EXPECT_EQ(c.sources[2].config_json, R"({"listen":"127.0.0.1:8080"})");
  EXPECT_EQ(c.sources[3].format, decode::Format::kRaw);
  EXPECT_EQ(c.sources[3].variable, "power");
  EXPECT_EQ(c.sources[3].config_json, "{}");

  ASSERT_EQ(c.devices.size(), 2u);
  EXPECT_EQ(c.devices[0].key, "boiler-1");
  EXPECT_EQ(c.devices[0].token.reveal(), "boiler-token-1");
  EXPECT_EQ(c.devices[0].mark.line, 49);
  ASSERT_EQ(c.devices[0].variables.size(), 2u);
  const VariableMapping& temp = c.devices[0].variables.at("temp");
  EXPECT_EQ(temp.rename, "temperature");
  EXPECT_EQ(temp.unit, "C");
  EXPECT_DOUBLE_EQ(temp.scale, 0.1);
  EXPECT_DOUBLE_EQ(temp.offset, -40.0);
  const VariableMapping& hum = c.devices[0].variables.at("hum");
  EXPECT_EQ(hum.rename, "");
  EXPECT_FALSE(hum.unit.has_value());
  EXPECT_EQ(hum.scale, 1.0);
  EXPECT_EQ(hum.offset, 0.0);
  EXPECT_EQ(c.devices[1].key, "press-7");
  EXPECT_EQ(c.devices[1].token.reveal(), "2b6c1a7e-press-7");
  EXPECT_FALSE(c.unmapped.reject);
  EXPECT_EQ(c.unmapped.default_token.reveal(), "default-token-123");

  EXPECT_THAT(c.secret_values(),
              ::testing::UnorderedElementsAre("boiler-token-1", "2b6c1a7e-press-7",
                                              "default-token-123", "mqtt-pw-secret"));
}

TEST(ConfigLoaderValuesTest, HistoryIsOnByDefaultOnlyWithAnHttpSource) {
  const std::string http = "sources:\n  - {name: api, plugin: http, config: {}}\n";
  EXPECT_EQ(load_ok("gateway: {data_dir: /d}\n" + http).history_per_variable(), 1000u);
  EXPECT_EQ(load_ok("gateway: {data_dir: /d}\nbuffer: {history_per_variable: 0}\n" + http)
                .history_per_variable(),
            0u);
  EXPECT_EQ(load_ok("gateway: {data_dir: /d}\nbuffer: {history_per_variable: 50}\n")
                .history_per_variable(),
            50u);
}

TEST(ConfigLoaderValuesTest, UnmappedReject) {
  const Config c = load_ok("gateway: {data_dir: /d}\nunmapped: reject\n");
  EXPECT_TRUE(c.unmapped.reject);
}

TEST(ConfigLoaderValuesTest, EnvironmentSubstitution) {
  const auto env = env_of({{"HOST", "broker.local"},
                           {"DIR", "/srv/edgegw"},
                           {"N", "32"},
                           {"T", "2s"},
                           {"EMPTY", ""},
                           {"PW", "p$w"}});
  const Config c = load_ok(R"(gateway:
  data_dir: ${DIR}
  id: "edge-${N}${EMPTY}"
  plugin_dir: cost$$5 and $5 and a$
  shutdown_timeout: ${T}
cloud:
  max_in_flight: ${N}
  url: 'https://${HOST}:8443/v1'
sources:
  - name: plant
    plugin: mqtt
    config:
      uri: tcp://${HOST}:1883
      qos: ${N}
      quoted: "${N}"
      literal: $${HOST}
      password: ${PW}
)",
                           env);
  EXPECT_EQ(c.gateway.data_dir, "/srv/edgegw");
  EXPECT_EQ(c.gateway.id, "edge-32");
  EXPECT_EQ(c.gateway.plugin_dir, "cost$5 and $5 and a$");
  EXPECT_EQ(c.gateway.shutdown_timeout, 2s);
  EXPECT_EQ(c.cloud.max_in_flight, 32);
  EXPECT_EQ(c.cloud.url, "https://broker.local:8443/v1");
  ASSERT_EQ(c.sources.size(), 1u);
  // Substitution comes before typing: a plain ${N} becomes a number, a quoted one a string.
  EXPECT_EQ(c.sources[0].config_json,
            R"({"uri":"tcp://broker.local:1883","qos":32,"quoted":"32","literal":"${HOST}",)"
            R"("password":"p$w"})");
  // The substituted value is not substituted again.
  EXPECT_THAT(c.secret_values(), ElementsAre("p$w"));
}

TEST(ConfigLoaderValuesTest, SubstitutedValuesAreCheckedButQuotedAsWritten) {
  const auto env = env_of({{"N", "5000"}, {"T", "10"}, {"L", "info-ish"}});
  EXPECT_THAT(
      errors_of("gateway:\n  data_dir: /d\n  shutdown_timeout: ${T}\n  log_level: ${L}\n"
                "cloud:\n  max_in_flight: ${N}\n",
                env),
      ElementsAre("test.yaml:3:21: gateway.shutdown_timeout: '${T}' needs a unit: ms, s, m, "
                  "h or d",
                  "test.yaml:4:14: gateway.log_level: '${L}' is not one of trace, debug, "
                  "info, warn, error",
                  "test.yaml:6:18: cloud.max_in_flight: ${N} is out of range (1..1024)"));
}

TEST(ConfigLoaderValuesTest, ProcessEnvironment) {
  ::setenv("EDGEGW_CONFIG_TEST_DIR", "/from/env", 1);
  ::unsetenv("EDGEGW_CONFIG_TEST_UNSET");
  const LoadResult ok = load_string("gateway:\n  data_dir: ${EDGEGW_CONFIG_TEST_DIR}\n", "t.yaml");
  ASSERT_TRUE(ok.config);
  EXPECT_EQ(ok.config->gateway.data_dir, "/from/env");
  const LoadResult bad =
      load_string("gateway:\n  data_dir: ${EDGEGW_CONFIG_TEST_UNSET}\n", "t.yaml");
  EXPECT_THAT(errors_of(bad), ElementsAre("t.yaml:2:13: gateway.data_dir: environment variable "
                                          "EDGEGW_CONFIG_TEST_UNSET is not set"));
}

TEST(ConfigLoaderValuesTest, PluginConfigIsTypedByTheCoreSchema) {
  const Config c = load_ok(R"(gateway: {data_dir: /d}
sources:
  - name: s
    plugin: p
    config:
      nulls: [~, null, Null, NULL]
      empty:
      bools: [true, True, TRUE, false, False, FALSE]
      not_bools: [yes, no, on, off, y]
      ints: [0, -12, +7, 0x1F, 0o17, 9223372036854775807, 18446744073709551615]
      floats: [1.5, -0.25, .5, 1e3, 2.]
      strings: ["1", '2', "true", "~", !!str 3, abc, 1.2.3, 0x, 12abc]
      block: |
        two
        lines
      nested: {a: {b: [1, {c: d}]}}
      keys: {1: one, true: two}
)");
  ASSERT_EQ(c.sources.size(), 1u);
  const boost::json::value v = boost::json::parse(c.sources[0].config_json);
  const auto& o = v.as_object();
  EXPECT_EQ(boost::json::serialize(o.at("nulls")), "[null,null,null,null]");
  EXPECT_TRUE(o.at("empty").is_null());
  EXPECT_EQ(boost::json::serialize(o.at("bools")), "[true,true,true,false,false,false]");
  EXPECT_EQ(boost::json::serialize(o.at("not_bools")), R"(["yes","no","on","off","y"])");
  EXPECT_EQ(boost::json::serialize(o.at("ints")),
            "[0,-12,7,31,15,9223372036854775807,18446744073709551615]");
  const auto& floats = o.at("floats").as_array();
  ASSERT_EQ(floats.size(), 5u);
  EXPECT_EQ(floats[0].as_double(), 1.5);
  EXPECT_EQ(floats[1].as_double(), -0.25);
  EXPECT_EQ(floats[2].as_double(), 0.5);
  EXPECT_EQ(floats[3].as_double(), 1000.0);
  EXPECT_EQ(floats[4].as_double(), 2.0);
  EXPECT_EQ(boost::json::serialize(o.at("strings")),
            R"(["1","2","true","~","3","abc","1.2.3","0x","12abc"])");
  EXPECT_EQ(o.at("block").as_string(), "two\nlines\n");
  EXPECT_EQ(boost::json::serialize(o.at("nested")), R"({"a":{"b":[1,{"c":"d"}]}})");
  EXPECT_EQ(boost::json::serialize(o.at("keys")), R"({"1":"one","true":"two"})");
}

TEST(ConfigLoaderValuesTest, PluginConfigMarksEveryKeyPath) {
  const Config c = load_ok(R"(gateway: {data_dir: /d}
sources:
  - name: s
    plugin: mqtt
    config:
      uri: tcp://h:1883
      topics:
        - a/{device}
        - b/{device}
      tls:
        ca_file: /ca.pem
        client: {cert: c.pem}
)");
  ASSERT_EQ(c.sources.size(), 1u);
  std::vector<std::string> described;
  for (const auto& [path, mark] : c.sources[0].config_marks) {
    described.push_back(path + "@" + std::to_string(mark.line) + ":" + std::to_string(mark.column));
  }
  EXPECT_THAT(described, ElementsAre("tls@10:7", "tls.ca_file@11:9", "tls.client@12:9",
                                     "tls.client.cert@12:18", "topics@7:7", "topics[0]@8:11",
                                     "topics[1]@9:11", "uri@6:7"));
}

TEST(ConfigLoaderValuesTest, DiagnosticPrintsFileLineColumnMessage) {
  const Diagnostic d{"/etc/edgegw/gateway.yaml", {41, 5}, "sources[2].config.baud: bad"};
  EXPECT_EQ(d.to_string(), "/etc/edgegw/gateway.yaml:41:5: sources[2].config.baud: bad");
}

TEST(ConfigLoaderValuesTest, ToStringOfEnums) {
  EXPECT_EQ(to_string(LogLevel::kWarn), "warn");
  EXPECT_EQ(to_string(LogFormat::kJson), "json");
  EXPECT_EQ(to_string(OnFull::kRejectNew), "reject_new");
  EXPECT_EQ(to_string(SyncMode::kNone), "none");
  EXPECT_EQ(to_string(ConditionOp::kAny), "*");
  EXPECT_EQ(to_string(ConditionOp::kEqual), "=");
  EXPECT_EQ(to_string(ConditionOp::kNotEqual), "!=");
  EXPECT_EQ(to_string(ConditionOp::kGreater), ">");
  EXPECT_EQ(to_string(ConditionOp::kGreaterEqual), ">=");
  EXPECT_EQ(to_string(ConditionOp::kLess), "<");
  EXPECT_EQ(to_string(ConditionOp::kLessEqual), "<=");
  EXPECT_EQ(to_string(ActionType::kMqtt), "mqtt");
  EXPECT_EQ(to_string(ActionType::kPost), "post");
  EXPECT_EQ(to_string(ActionType::kAnalysis), "analysis");
}

// actions: and analyses:, every key set; actions may come before the devices and analyses they
// name.
constexpr const char* kActionsExample = R"(gateway: {data_dir: /d}
actions:
  - name: overheat
    devices: [boiler-1, boiler-2]
    when_set: {variable: temperature, condition: ">", value: 80}
    when_reset: {variable: temperature, condition: "<=", value: "70.5"}
    type: mqtt
    max_queued: 500
    mqtt:
      broker: ssl://broker.local:8883
      client_id: edge-alarms
      username: alarms
      password: ${MQTT_ACTION_PASSWORD}
      topic: alarms/{device}/{variable}
      payload: '{"value": {value}, "unit": "{unit}", "at": "{time}"}'
      qos: 2
      retain: true
  - name: hook
    device_pattern: "boiler-*"
    when_set: {variable: state, condition: "=", value: fault}
    type: post
    post:
      url: https://hooks.example/x?source=edge
      headers: {Authorization: "Bearer ${HOOK_TOKEN}", X-Edge: edge-01}
      timeout: 3s
      tls: {verify: false, ca_file: /etc/ssl/hooks.pem}
  - name: dew
    when_set: {variable: humidity}
    type: analysis
    analysis: dew-point
devices:
  - {key: boiler-1, token: t1}
  - {key: boiler-2, token: t2}
analyses:
  - name: dew-point
    command: [node, /opt/edge/dew.js]
    environment: {DEVICE_TOKEN: "${DEW_TOKEN}", THRESHOLD: 5}
    token: ${ANALYSIS_TOKEN}
    api: http://127.0.0.1:8080
    timeout: 1h
    every: 5m
    max_running: 4
    max_queued: 1000
)";

TEST(ConfigLoaderValuesTest, ActionsAndAnalyses) {
  const Config c = load_ok(kActionsExample, env_of({{"MQTT_ACTION_PASSWORD", "mqtt-action-pw"},
                                                    {"HOOK_TOKEN", "hook-token-1"},
                                                    {"DEW_TOKEN", "dew-device-token"},
                                                    {"ANALYSIS_TOKEN", "analysis-token-1"}}));
  ASSERT_EQ(c.actions.size(), 3u);
  const ActionConfig& mqtt = c.actions[0];
  EXPECT_EQ(mqtt.name, "overheat");
  EXPECT_THAT(mqtt.devices, ElementsAre("boiler-1", "boiler-2"));
  EXPECT_EQ(mqtt.device_pattern, "");
  EXPECT_EQ(mqtt.when_set.variable, "temperature");
  EXPECT_EQ(mqtt.when_set.op, ConditionOp::kGreater);
  EXPECT_EQ(mqtt.when_set.value, "80");
  EXPECT_EQ(mqtt.when_set.number, 80.0);
  ASSERT_TRUE(mqtt.when_reset);
  EXPECT_EQ(mqtt.when_reset->op, ConditionOp::kLessEqual);
  EXPECT_EQ(mqtt.when_reset->value, "70.5");
  EXPECT_EQ(mqtt.when_reset->number, 70.5);  // quoted, still a number
  EXPECT_EQ(mqtt.type, ActionType::kMqtt);
  EXPECT_EQ(mqtt.max_queued, 500u);
  EXPECT_EQ(mqtt.mqtt.broker, "ssl://broker.local:8883");
  EXPECT_EQ(mqtt.mqtt.client_id, "edge-alarms");
  EXPECT_EQ(mqtt.mqtt.username, "alarms");
  EXPECT_EQ(mqtt.mqtt.password.reveal(), "mqtt-action-pw");
  EXPECT_EQ(mqtt.mqtt.topic, "alarms/{device}/{variable}");
  EXPECT_EQ(mqtt.mqtt.payload, R"({"value": {value}, "unit": "{unit}", "at": "{time}"})");
  EXPECT_EQ(mqtt.mqtt.qos, 2);
  EXPECT_TRUE(mqtt.mqtt.retain);
  EXPECT_EQ(mqtt.mark.line, 3);
  EXPECT_EQ(mqtt.mark.column, 5);

  const ActionConfig& post = c.actions[1];
  EXPECT_EQ(post.name, "hook");
  EXPECT_TRUE(post.devices.empty());
  EXPECT_EQ(post.device_pattern, "boiler-*");
  EXPECT_EQ(post.when_set.op, ConditionOp::kEqual);
  EXPECT_EQ(post.when_set.value, "fault");
  EXPECT_FALSE(post.when_set.number);
  EXPECT_FALSE(post.when_reset);
  EXPECT_EQ(post.type, ActionType::kPost);
  EXPECT_EQ(post.max_queued, 10000u);
  EXPECT_EQ(post.post.url, "https://hooks.example/x?source=edge");
  ASSERT_EQ(post.post.headers.size(), 2u);
  EXPECT_EQ(post.post.headers.at("Authorization").reveal(), "Bearer hook-token-1");
  EXPECT_EQ(post.post.headers.at("X-Edge").reveal(), "edge-01");
  EXPECT_EQ(post.post.timeout, 3s);
  EXPECT_FALSE(post.post.tls.verify);
  EXPECT_EQ(post.post.tls.ca_file, "/etc/ssl/hooks.pem");

  const ActionConfig& run = c.actions[2];
  EXPECT_EQ(run.when_set.variable, "humidity");
  EXPECT_EQ(run.when_set.op, ConditionOp::kAny);
  EXPECT_EQ(run.when_set.value, "");
  EXPECT_EQ(run.type, ActionType::kAnalysis);
  EXPECT_EQ(run.analysis, "dew-point");

  ASSERT_EQ(c.analyses.size(), 1u);
  const AnalysisConfig& dew = c.analyses[0];
  EXPECT_EQ(dew.name, "dew-point");
  EXPECT_THAT(dew.command, ElementsAre("node", "/opt/edge/dew.js"));
  ASSERT_EQ(dew.environment.size(), 2u);  // in the file's order
  EXPECT_EQ(dew.environment[0].first, "DEVICE_TOKEN");
  EXPECT_EQ(dew.environment[0].second.reveal(), "dew-device-token");
  EXPECT_EQ(dew.environment[1].first, "THRESHOLD");
  EXPECT_EQ(dew.environment[1].second.reveal(), "5");
  EXPECT_EQ(dew.token.reveal(), "analysis-token-1");
  EXPECT_EQ(dew.api, "http://127.0.0.1:8080");
  EXPECT_EQ(dew.timeout, 1h);
  EXPECT_EQ(dew.every, 5min);
  EXPECT_EQ(dew.max_running, 4);
  EXPECT_EQ(dew.max_queued, 1000u);
  EXPECT_EQ(dew.mark.line, 35);

  EXPECT_THAT(c.secret_values(), ::testing::UnorderedElementsAre(
                                     "t1", "t2", "mqtt-action-pw", "Bearer hook-token-1", "edge-01",
                                     "dew-device-token", "5", "analysis-token-1"));
}

TEST(ConfigLoaderValuesTest, ActionAndAnalysisDefaults) {
  const Config c = load_ok(R"(gateway: {data_dir: /d}
actions:
  - name: a
    when_set: {variable: temperature, condition: "!=", value: -1.5e2}
    type: mqtt
    mqtt: {broker: "tcp://127.0.0.1", topic: alarms}
  - name: b
    when_set: {variable: temperature, value: 1, condition: ">="}
    type: post
    post: {url: "http://[::1]:8080/hook"}
  - name: c
    when_set: {variable: temperature, condition: "<", value: 0}
    type: analysis
    analysis: x
analyses:
  - {name: x, command: /opt/edge/x.sh}
)");
  EXPECT_TRUE(c.devices.empty());
  ASSERT_EQ(c.actions.size(), 3u);
  const ActionConfig& a = c.actions[0];
  EXPECT_TRUE(a.devices.empty());  // every device
  EXPECT_EQ(a.device_pattern, "");
  EXPECT_EQ(a.when_set.op, ConditionOp::kNotEqual);
  EXPECT_EQ(a.when_set.number, -150.0);
  EXPECT_FALSE(a.when_reset);
  EXPECT_EQ(a.max_queued, 10000u);
  EXPECT_EQ(a.mqtt.client_id, "");
  EXPECT_EQ(a.mqtt.username, "");
  EXPECT_TRUE(a.mqtt.password.empty());
  EXPECT_EQ(a.mqtt.payload, "{value}");
  EXPECT_EQ(a.mqtt.qos, 1);
  EXPECT_FALSE(a.mqtt.retain);
  const ActionConfig& b = c.actions[1];
  EXPECT_EQ(b.when_set.op, ConditionOp::kGreaterEqual);
  EXPECT_TRUE(b.post.headers.empty());
  EXPECT_EQ(b.post.timeout, 10s);
  EXPECT_TRUE(b.post.tls.verify);
  EXPECT_EQ(b.post.tls.ca_file, "");
  EXPECT_EQ(c.actions[2].when_set.op, ConditionOp::kLess);
  ASSERT_EQ(c.analyses.size(), 1u);
  const AnalysisConfig& x = c.analyses[0];
  EXPECT_THAT(x.command, ElementsAre("/opt/edge/x.sh"));  // one string: the executable alone
  EXPECT_TRUE(x.environment.empty());
  EXPECT_TRUE(x.token.empty());
  EXPECT_EQ(x.api, "");
  EXPECT_EQ(x.timeout, 30s);
  EXPECT_FALSE(x.every);
  EXPECT_EQ(x.max_running, 1);
  EXPECT_EQ(x.max_queued, 100u);
  EXPECT_TRUE(c.secret_values().empty());
}

TEST(ConfigLoaderValuesTest, EmptyActionsAndAnalyses) {
  const Config c = load_ok("gateway: {data_dir: /d}\nactions:\nanalyses: []\n");
  EXPECT_TRUE(c.actions.empty());
  EXPECT_TRUE(c.analyses.empty());
}

// Only {identifier} is a placeholder: other braces are the payload's own.
TEST(ConfigLoaderValuesTest, TemplatesKeepBracesThatAreNoPlaceholder) {
  const Config c = load_ok(R"(gateway: {data_dir: /d}
actions:
  - name: a
    when_set: {variable: t}
    type: mqtt
    mqtt:
      broker: "ws://broker.local:8080/mqtt"
      topic: "t/{device}"
      payload: '{{value}} { } {} {"a": [{1}]} {x-y} {value'
)");
  ASSERT_EQ(c.actions.size(), 1u);
  EXPECT_EQ(c.actions[0].mqtt.broker, "ws://broker.local:8080/mqtt");
  EXPECT_EQ(c.actions[0].mqtt.payload, R"({{value}} { } {} {"a": [{1}]} {x-y} {value)");
}

TEST(ConfigLoadFileTest, UnreadableFileIsOneDiagnosticWithoutALine) {
  const LoadResult missing = load_file("/nonexistent/edgegw.yaml");
  EXPECT_THAT(errors_of(missing),
              ElementsAre("/nonexistent/edgegw.yaml:0:0: cannot read the config "
                          "file: No such file or directory"));
  EXPECT_EQ(missing.errors[0].mark.line, 0);
  testing::TempDir dir;
  const LoadResult folder = load_file(dir.path().string());
  EXPECT_THAT(
      errors_of(folder),
      ElementsAre(dir.path().string() + ":0:0: cannot read the config file: it is a directory"));
}

TEST(ConfigLoadFileTest, ReadsAFileAndNamesItInDiagnostics) {
  testing::TempDir dir;
  const std::string ok = dir.write("ok.yaml", "gateway:\n  data_dir: /d\n", 0644);
  const LoadResult good = load_file(ok);
  ASSERT_TRUE(good.config);
  EXPECT_EQ(good.config->path, ok);
  const std::string bad = dir.write("bad.yaml", "gateway:\n  data_dir: /d\n  oops: 1\n", 0644);
  EXPECT_THAT(errors_of(load_file(bad)),
              ElementsAre(bad + ":3:3: gateway.oops: unknown key; allowed keys: id, data_dir, "
                                "plugin_dir, log_level, log_format, shutdown_timeout"));
}

}  // namespace
}  // namespace edgegw::config
