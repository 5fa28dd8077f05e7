// SPDX-License-Identifier: Apache-2.0
// One test per kind of config error: the exact position and message of each.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "decode/validate.h"
#include "test_util.h"

namespace edgegw::config {
namespace {

using ::testing::ElementsAre;
using testing::env_of;
using testing::errors_of;

// One pass finds every error of a file, of every kind, in file order.
TEST(ConfigLoaderErrorsTest, ReportsEveryErrorOfAFile) {
  EXPECT_THAT(
      errors_of("gateway:\n"
                "  data_dri: /var/lib/edgegw\n"
                "  log_level: loud\n"
                "  log_level: info\n"
                "buffer:\n"
                "  max_age: 7\n"
                "cloud:\n"
                "  url: tcp://api.tago.io\n"
                "  tls: [true]\n"
                "sources:\n"
                "  - name: plant\n"
                "    plugin: mqtt\n"
                "    format: jsn\n"
                "  - name: plant\n"
                "    plugin: serial\n"
                "devices:\n"
                "  - key: boiler-1\n"
                "    token: ${BOILER1_TOKEN}\n"
                "unmapped: maybe\n"),
      ElementsAre(
          "test.yaml:2:3: gateway.data_dri: unknown key; did you mean 'data_dir'?",
          "test.yaml:2:3: gateway.data_dir: required key is missing",
          "test.yaml:3:14: gateway.log_level: 'loud' is not one of trace, debug, info, warn, error",
          "test.yaml:4:3: gateway.log_level: duplicate key (first at 3:3)",
          "test.yaml:6:12: buffer.max_age: '7' needs a unit: ms, s, m, h or d",
          "test.yaml:8:8: cloud.url: must start with http:// or https://",
          "test.yaml:9:8: cloud.tls: expected a map, got a list",
          "test.yaml:13:13: sources[0].format: 'jsn' is not one of tago_json, flat_json, csv, raw",
          "test.yaml:14:11: sources[1].name: 'plant' is already the name of sources[0] (line 11)",
          "test.yaml:18:12: devices[0].token: environment variable BOILER1_TOKEN is not set",
          "test.yaml:19:11: unmapped: must be reject, provision or a map {default: {token: "
          "...}}"));
}

TEST(ConfigLoaderErrorsTest, SectionOfTheWrongType) {
  EXPECT_THAT(errors_of("gateway: [/var/lib/edgegw]\n"),
              ElementsAre("test.yaml:1:10: gateway: expected a map, got a list"));
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /d\ncloud: https://api.tago.io\n"),
              ElementsAre("test.yaml:3:8: cloud: expected a map, got a scalar"));
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /d\nsources:\n  name: plant\n"),
              ElementsAre("test.yaml:4:3: sources: expected a list, got a map"));
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /d\ndevices: boiler-1\n"),
              ElementsAre("test.yaml:3:10: devices: expected a list, got a scalar"));
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /d\ncloud:\n  batch: 500\n"),
              ElementsAre("test.yaml:4:10: cloud.batch: expected a map, got a scalar"));
}

TEST(ConfigLoaderErrorsTest, UnknownKeySuggestsTheClosest) {
  EXPECT_THAT(errors_of("gateway:\n  data_dri: /var/lib/edgegw\n"),
              ElementsAre("test.yaml:2:3: gateway.data_dri: unknown key; did you mean 'data_dir'?",
                          "test.yaml:2:3: gateway.data_dir: required key is missing"));
  EXPECT_THAT(
      errors_of("gateway:\n  data_dir: /d\ncloud:\n  max_inflight: 4\n  Timeout: 5s\n"),
      ElementsAre("test.yaml:4:3: cloud.max_inflight: unknown key; did you mean 'max_in_flight'?",
                  "test.yaml:5:3: cloud.Timeout: unknown key; did you mean 'timeout'?"));
  EXPECT_THAT(errors_of("gatway:\n  data_dir: /d\n"),
              ElementsAre("test.yaml:1:1: gatway: unknown key; did you mean 'gateway'?",
                          "test.yaml:1:1: gateway.data_dir: required key is missing"));
}

TEST(ConfigLoaderErrorsTest, UnknownKeyListsTheAllowedOnesWhenNothingIsClose) {
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /d\n  colour: blue\n"),
              ElementsAre("test.yaml:3:3: gateway.colour: unknown key; allowed keys: id, data_dir, "
                          "plugin_dir, log_level, log_format, shutdown_timeout"));
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /d\nbuffer:\n  size: 1GiB\n"),
              ElementsAre("test.yaml:4:3: buffer.size: unknown key; allowed keys: max_bytes, "
                          "max_age, min_free, on_full, sync, sync_interval, "
                          "history_per_variable"));
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /d\ncloud:\n  colour: blue\n"),
              ElementsAre("test.yaml:4:3: cloud.colour: unknown key; allowed keys: url, timeout, "
                          "max_in_flight, requests_per_minute, tls, batch, retry, "
                          "implausible_time, future_tolerance, drain, fresh_after, "
                          "clock_wait, provisioning"));
}

TEST(ConfigLoaderErrorsTest, DuplicateKeyNamesTheFirst) {
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /a\n  log_level: info\n  data_dir: /b\n"),
              ElementsAre("test.yaml:4:3: gateway.data_dir: duplicate key (first at 2:3)"));
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /a\ncloud: {}\ncloud: {}\n"),
              ElementsAre("test.yaml:4:1: cloud: duplicate key (first at 3:1)"));
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /a\nsources:\n  - name: a\n    plugin: mqtt\n"
                        "    config: {qos: 1, qos: 2}\n"),
              ElementsAre("test.yaml:6:22: sources[0].config.qos: duplicate key (first at 6:14)"));
}

TEST(ConfigLoaderErrorsTest, MissingRequiredKey) {
  EXPECT_THAT(errors_of("buffer:\n  sync: always\n"),
              ElementsAre("test.yaml:1:1: gateway.data_dir: required key is missing"));
  EXPECT_THAT(errors_of("gateway:\n  id: edge-01\n"),
              ElementsAre("test.yaml:2:3: gateway.data_dir: required key is missing"));
  EXPECT_THAT(errors_of("gateway:\nbuffer: {}\n"),
              ElementsAre("test.yaml:1:1: gateway.data_dir: required key is missing"));
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\nsources:\n  - format: csv\n"),
              ElementsAre("test.yaml:3:5: sources[0].name: required key is missing",
                          "test.yaml:3:5: sources[0].plugin: required key is missing"));
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\ndevices:\n  - token: abc\n"),
              ElementsAre("test.yaml:3:5: devices[0].key: required key is missing"));
}

TEST(ConfigLoaderErrorsTest, WrongType) {
  EXPECT_THAT(
      errors_of("gateway:\n"
                "  data_dir: [/a, /b]\n"
                "  shutdown_timeout: {s: 10}\n"
                "cloud:\n"
                "  max_in_flight: eight\n"
                "  requests_per_minute: 1.5\n"
                "  tls: {verify: yes}\n"
                "  retry: {multiplier: twice}\n"
                "metrics:\n"
                "  per_device: [true]\n"
                "  listen:\n"),
      ElementsAre("test.yaml:2:13: gateway.data_dir: expected a string, got a list",
                  "test.yaml:3:21: gateway.shutdown_timeout: expected a duration, got a map",
                  "test.yaml:5:18: cloud.max_in_flight: 'eight' is not an integer",
                  "test.yaml:6:24: cloud.requests_per_minute: '1.5' is not an integer",
                  "test.yaml:7:17: cloud.tls.verify: 'yes' is not true or false",
                  "test.yaml:8:23: cloud.retry.multiplier: 'twice' is not a number",
                  "test.yaml:10:15: metrics.per_device: expected true or false, got a list",
                  "test.yaml:11:3: metrics.listen: expected host:port, got an empty value"));
}

TEST(ConfigLoaderErrorsTest, BadDurationsAndSizes) {
  EXPECT_THAT(
      errors_of("gateway:\n"
                "  data_dir: /d\n"
                "  shutdown_timeout: 10\n"
                "buffer:\n"
                "  max_age: 7days\n"
                "  sync_interval: -100ms\n"
                "  max_bytes: 1 GiB\n"
                "cloud:\n"
                "  timeout: 99999999999999999999s\n"
                "  batch: {linger: 0.5s, max_bytes: 190KB}\n"),
      ElementsAre(
          "test.yaml:3:21: gateway.shutdown_timeout: '10' needs a unit: ms, s, m, h or d",
          "test.yaml:5:12: buffer.max_age: '7days' has an unknown unit; use ms, s, m, h or d",
          "test.yaml:6:18: buffer.sync_interval: '-100ms' is negative",
          "test.yaml:7:14: buffer.max_bytes: '1 GiB' must not have a space between the number and "
          "the unit",
          "test.yaml:9:12: cloud.timeout: '99999999999999999999s' is too large",
          "test.yaml:10:19: cloud.batch.linger: '0.5s' must be a whole number with a unit (no "
          "fractions); write e.g. 250ms, 10s, 5m, 1h or 7d",
          "test.yaml:10:36: cloud.batch.max_bytes: '190KB' has an unknown unit; use KiB, MiB, GiB, "
          "TiB, kB, MB, GB, TB or none for bytes"));
}

TEST(ConfigLoaderErrorsTest, OutOfRange) {
  EXPECT_THAT(
      errors_of("gateway:\n"
                "  data_dir: /d\n"
                "  shutdown_timeout: 0s\n"
                "buffer:\n"
                "  max_bytes: 512KiB\n"
                "  max_age: 0ms\n"
                "  sync_interval: 0s\n"
                "cloud:\n"
                "  timeout: 0s\n"
                "  max_in_flight: 0\n"
                "  requests_per_minute: -1\n"
                "  batch:\n"
                "    max_readings: 10001\n"
                "    max_bytes: 300KiB\n"
                "  retry:\n"
                "    initial_backoff: 0ms\n"
                "    max_backoff: 0s\n"
                "    multiplier: 0.5\n"),
      ElementsAre("test.yaml:3:21: gateway.shutdown_timeout: 0s must be at least 1ms",
                  "test.yaml:5:14: buffer.max_bytes: 512KiB is under the minimum of 1MiB",
                  "test.yaml:6:12: buffer.max_age: 0ms must be at least 1ms",
                  "test.yaml:7:18: buffer.sync_interval: 0s must be at least 1ms",
                  "test.yaml:9:12: cloud.timeout: 0s must be at least 1ms",
                  "test.yaml:10:18: cloud.max_in_flight: 0 is out of range (1..1024)",
                  "test.yaml:11:24: cloud.requests_per_minute: -1 is out of range (0..1000000)",
                  "test.yaml:13:19: cloud.batch.max_readings: 10001 is out of range (1..10000)",
                  "test.yaml:14:16: cloud.batch.max_bytes: 300KiB is over the cloud's 200 kB "
                  "request limit (at most 200000 bytes)",
                  "test.yaml:16:22: cloud.retry.initial_backoff: 0ms must be at least 1ms",
                  "test.yaml:17:18: cloud.retry.max_backoff: 0s must be at least 1ms",
                  "test.yaml:18:17: cloud.retry.multiplier: 0.5 is out of range (1..10)"));
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "cloud:\n"
                "  max_in_flight: 1025\n"
                "  batch: {max_bytes: 1000}\n"
                "  retry: {multiplier: 10.5}\n"),
      ElementsAre("test.yaml:3:18: cloud.max_in_flight: 1025 is out of range (1..1024)",
                  "test.yaml:4:22: cloud.batch.max_bytes: 1000 is under the minimum of 1KiB",
                  "test.yaml:5:23: cloud.retry.multiplier: 10.5 is out of range (1..10)"));
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "cloud:\n"
                        "  max_in_flight: 99999999999999999999\n"),
              ElementsAre("test.yaml:3:18: cloud.max_in_flight: 99999999999999999999 is out of "
                          "range (1..1024)"));
}

TEST(ConfigLoaderErrorsTest, InitialBackoffOverMaxBackoff) {
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "cloud:\n"
                        "  retry: {initial_backoff: 10m, max_backoff: 1m}\n"),
              ElementsAre("test.yaml:3:28: cloud.retry.initial_backoff: 10m is more than "
                          "max_backoff (1m)"));
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "cloud:\n"
                        "  retry: {initial_backoff: 10m}\n"),
              ElementsAre("test.yaml:3:28: cloud.retry.initial_backoff: 10m is more than "
                          "max_backoff (5m)"));
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "cloud:\n"
                        "  retry: {max_backoff: 100ms}\n"),
              ElementsAre("test.yaml:3:24: cloud.retry.max_backoff: 100ms is less than "
                          "initial_backoff (500ms)"));
  // A bad backoff is reported alone, not compared.
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "cloud:\n"
                        "  retry: {initial_backoff: 10m, max_backoff: soon}\n"),
              ElementsAre("test.yaml:3:46: cloud.retry.max_backoff: 'soon' is not a number with a "
                          "unit; write e.g. 250ms, 10s, 5m, 1h or 7d"));
}

TEST(ConfigLoaderErrorsTest, BadEnumValues) {
  EXPECT_THAT(
      errors_of("gateway:\n"
                "  data_dir: /d\n"
                "  log_level: verbose\n"
                "  log_format: xml\n"
                "buffer:\n"
                "  on_full: block\n"
                "  sync: sometimes\n"
                "sources:\n"
                "  - {name: a, plugin: mqtt, format: jsn}\n"),
      ElementsAre(
          "test.yaml:3:14: gateway.log_level: 'verbose' is not one of trace, debug, info, warn, "
          "error",
          "test.yaml:4:15: gateway.log_format: 'xml' is not one of text, json",
          "test.yaml:6:12: buffer.on_full: 'block' is not one of drop_oldest, reject_new",
          "test.yaml:7:9: buffer.sync: 'sometimes' is not one of none, batch, always",
          "test.yaml:9:37: sources[0].format: 'jsn' is not one of tago_json, flat_json, csv, raw"));
}

TEST(ConfigLoaderErrorsTest, BadImplausibleTimePolicyAndTolerance) {
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "cloud:\n"
                        "  implausible_time: fix\n"
                        "  future_tolerance: 0s\n"),
              ElementsAre("test.yaml:3:21: cloud.implausible_time: 'fix' is not one of stamp, "
                          "keep, reject",
                          "test.yaml:4:21: cloud.future_tolerance: 0s must be at least 1ms"));
}

TEST(ConfigLoaderErrorsTest, BadDrainOrderAndFreshAfter) {
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "cloud:\n"
                        "  drain: newest\n"
                        "  fresh_after: -1m\n"),
              ElementsAre("test.yaml:3:10: cloud.drain: 'newest' is not one of fresh_first, fifo",
                          "test.yaml:4:16: cloud.fresh_after: '-1m' is negative"));
}

TEST(ConfigLoaderErrorsTest, BadCloudUrl) {
  struct Case {
    const char* url;
    const char* message;
  };
  const Case cases[] = {
      {"ftp://api.tago.io", "must start with http:// or https://"},
      {"api.tago.io", "must start with http:// or https://"},
      {"https://", "has no host"},
      {"https:///data", "has no host"},
      {"https://:443", "has no host"},
      {"https://api.tago.io:0", "has a port out of range (1..65535)"},
      {"https://api.tago.io:65536", "has a port out of range (1..65535)"},
      {"https://api.tago.io:https", "has a port that is not a number"},
      {"https://api.tago.io:", "has an empty port"},
      {"https://user:pw@api.tago.io",
       "must not hold user credentials (user@host): the device "
       "tokens authenticate"},
      {"https://api.tago.io/?x=1",
       "must not hold a query (?) or fragment (#): it is the base the "
       "API paths are added to"},
      {"https://api tago.io", "must not hold spaces or control characters"},
      {"https://api.tago.io!", "has a bad host name"},
      {"https://[::1", "has a '[' without its ']'"},
      {"https://[zz]:80", "has a bad IPv6 address in brackets"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_THAT(
        errors_of("gateway: {data_dir: /d}\ncloud:\n  url: \"" + std::string(c.url) + "\"\n"),
        ElementsAre("test.yaml:3:8: cloud.url: " + std::string(c.message)));
  }
}

TEST(ConfigLoaderErrorsTest, GoodCloudUrls) {
  for (const char* url : {"https://api.tago.io", "http://127.0.0.1:8080", "HTTPS://API.TAGO.IO/",
                          "http://[::1]:3000/v2", "http://cloud-emulator:8080/base/path"}) {
    SCOPED_TRACE(url);
    const LoadResult result =
        testing::load("gateway: {data_dir: /d}\ncloud:\n  url: \"" + std::string(url) + "\"\n");
    ASSERT_TRUE(result.config) << testing::errors_of(result).front();
    EXPECT_EQ(result.config->cloud.url, url);
  }
}

TEST(ConfigLoaderErrorsTest, BadMetricsListen) {
  struct Case {
    const char* listen;
    const char* message;
  };
  const Case cases[] = {
      {"0.0.0.0", "'0.0.0.0' has no port (write host:port, e.g. 127.0.0.1:9464)"},
      {":9464", "':9464' has no host"},
      {"localhost:70000", "'localhost:70000' has a port out of range (0..65535)"},
      {"::1:9464", "'::1:9464' has an IPv6 address without brackets (write e.g. [::1]:9464)"},
      {"[::1]", "'[::1]' has no port (write host:port, e.g. 127.0.0.1:9464)"},
      {"[::1]9464", "'[::1]9464' has text after the host that is no ':port'"},
      {"host name:1", "'host name:1' must not hold spaces or control characters"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.listen);
    EXPECT_THAT(errors_of("gateway: {data_dir: /d}\nmetrics:\n  listen: \"" +
                          std::string(c.listen) + "\"\n"),
                ElementsAre("test.yaml:3:11: metrics.listen: " + std::string(c.message)));
  }
  for (const char* listen :
       {"127.0.0.1:9464", "[::1]:9464", "[::]:1", "metrics.local:65535", "127.0.0.1:0"}) {
    SCOPED_TRACE(listen);
    const LoadResult result = testing::load("gateway: {data_dir: /d}\nmetrics:\n  listen: \"" +
                                            std::string(listen) + "\"\n");
    ASSERT_TRUE(result.config);
    EXPECT_EQ(result.config->metrics.listen, listen);
  }
}

TEST(ConfigLoaderErrorsTest, DuplicateSourceNamesAndDeviceKeysNameTheFirst) {
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "sources:\n"
                        "  - name: plant\n"
                        "    plugin: mqtt\n"
                        "  - name: line1\n"
                        "    plugin: serial\n"
                        "  - name: plant\n"
                        "    plugin: http\n"
                        "devices:\n"
                        "  - {key: boiler-1, token: a}\n"
                        "  - {key: boiler-1, token: b}\n"),
              ElementsAre("test.yaml:7:11: sources[2].name: 'plant' is already the name of "
                          "sources[0] (line 3)",
                          "test.yaml:11:11: devices[1].key: 'boiler-1' is already the key of "
                          "devices[0] (line 10)"));
}

TEST(ConfigLoaderErrorsTest, BadSourceAndPluginNames) {
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "sources:\n"
                "  - {name: my plant, plugin: mqtt}\n"
                "  - {name: ok.name-1_x, plugin: MQTT}\n"
                "  - {name: \"\", plugin: ../evil}\n"),
      ElementsAre("test.yaml:3:12: sources[0].name: 'my plant' may hold only letters, digits, '_', "
                  "'.' and '-'",
                  "test.yaml:4:33: sources[1].plugin: 'MQTT' may hold only lower-case letters, "
                  "digits and '_' (the plugin's file is libedgegw_<plugin>.so)",
                  "test.yaml:5:12: sources[2].name: must not be empty",
                  "test.yaml:5:24: sources[2].plugin: '../evil' may hold only lower-case letters, "
                  "digits and '_' (the plugin's file is libedgegw_<plugin>.so)"));
}

TEST(ConfigLoaderErrorsTest, BadVariableNames) {
  const std::string dash = *decode::variable_name_problem("a-b");
  const std::string space = *decode::variable_name_problem("te mp");
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "sources:\n"
                        "  - {name: s, plugin: mqtt, format: raw, variable: \"te mp\"}\n"
                        "devices:\n"
                        "  - key: boiler-1\n"
                        "    token: abc\n"
                        "    variables:\n"
                        "      temp: {rename: a-b}\n"
                        "      Hum: {rename: Humidity}\n"),
              ElementsAre("test.yaml:3:52: sources[0].variable: 'te mp' is not a valid variable "
                          "name: " +
                              space,
                          "test.yaml:8:22: devices[0].variables.temp.rename: 'a-b' is not a valid "
                          "variable name: " +
                              dash,
                          "test.yaml:9:7: devices[0].variables.Hum: 'Hum' must be lower case: "
                          "variable names are lower-cased at decode",
                          "test.yaml:9:21: devices[0].variables.Hum.rename: 'Humidity' must be "
                          "lower case: variable names are lower-cased at decode"));
}

// Units count characters; yaml-cpp's columns count bytes (each 'é' is two).
TEST(ConfigLoaderErrorsTest, UnitTooLongAndNonFiniteScale) {
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "devices:\n"
                "  - key: boiler-1\n"
                "    token: abc\n"
                "    variables:\n"
                "      temp: {unit: abcdefghijklmnopqrstuvwxyz, scale: .inf, offset: .nan}\n"
                "      hum: {unit: \"ééééééééééééééééééééééééé\", scale: 1e999, offset: x}\n"),
      ElementsAre("test.yaml:6:20: devices[0].variables.temp.unit: "
                  "'abcdefghijklmnopqrstuvwxyz' is 26 characters long; the cloud allows at "
                  "most 25",
                  "test.yaml:6:55: devices[0].variables.temp.scale: '.inf' is not a finite "
                  "number",
                  "test.yaml:6:69: devices[0].variables.temp.offset: '.nan' is not a finite "
                  "number",
                  "test.yaml:7:80: devices[0].variables.hum.scale: '1e999' is not a finite "
                  "number",
                  "test.yaml:7:95: devices[0].variables.hum.offset: 'x' is not a number"));
}

TEST(ConfigLoaderErrorsTest, UnsetAndMalformedEnvironmentReferences) {
  EXPECT_THAT(
      errors_of("gateway:\n"
                "  data_dir: ${DATA_DIR}\n"
                "  id: ${A}-${B}-${A}\n"
                "  plugin_dir: ${oops\n"
                "cloud:\n"
                "  url: https://${1HOST}\n"),
      ElementsAre("test.yaml:2:13: gateway.data_dir: environment variable DATA_DIR is not set",
                  "test.yaml:3:7: gateway.id: environment variables A and B are not set",
                  "test.yaml:4:15: gateway.plugin_dir: '${' without a closing '}' (write '$$' for "
                  "a literal '$')",
                  "test.yaml:6:8: cloud.url: '${...}' must hold a variable name of letters, digits "
                  "and '_' (write '$$' for a literal '$')"));
}

TEST(ConfigLoaderErrorsTest, TokenRules) {
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "devices:\n"
                "  - {key: a}\n"
                "  - {key: b, token: x, token_file: /t}\n"
                "  - {key: c, token: \"\"}\n"
                "  - {key: d, token: \"ab cd\"}\n"
                "  - {key: e, token: {value: x}}\n"
                "unmapped: drop\n"),
      ElementsAre("test.yaml:3:5: devices[0]: needs a token: give token or token_file",
                  "test.yaml:4:24: devices[1].token_file: give token or token_file, not both",
                  "test.yaml:4:36: devices[1].token_file: '/t' cannot be read: No such file "
                  "or directory",
                  "test.yaml:5:21: devices[2].token: the token is empty",
                  "test.yaml:6:21: devices[3].token: the token holds whitespace, a control "
                  "or a non-ASCII character (it would corrupt the HTTP header)",
                  "test.yaml:7:21: devices[4].token: expected a string, got a map",
                  "test.yaml:8:11: unmapped: must be reject, provision or a map {default: {token: "
                  "...}}"));
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\nunmapped: {default: abc}\n"),
              ElementsAre("test.yaml:2:21: unmapped.default: expected a map {token: ...} or "
                          "{token_file: ...}, got a scalar"));
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\nunmapped: {default: {}}\n"),
              ElementsAre("test.yaml:2:21: unmapped.default: needs a token: give token or "
                          "token_file"));
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\nunmapped: {reject: true}\n"),
              ElementsAre("test.yaml:2:11: unmapped.default: required key is missing",
                          "test.yaml:2:12: unmapped.reject: unknown key; allowed keys: default"));
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\nunmapped: [reject]\n"),
      ElementsAre("test.yaml:2:11: unmapped: expected reject, provision or a map {default: {token: "
                  "...}}, got a list"));
}

TEST(ConfigLoaderErrorsTest, ListElementsOfTheWrongType) {
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "sources:\n"
                        "  - mqtt\n"
                        "  -\n"
                        "devices: [[boiler-1]]\n"),
              ElementsAre("test.yaml:3:3: sources[1]: expected a map (name, plugin, format, "
                          "config), got an empty value",
                          "test.yaml:3:5: sources[0]: expected a map (name, plugin, format, "
                          "config), got a scalar",
                          "test.yaml:5:11: devices[0]: expected a map (key, token, variables), got "
                          "a list"));
}

TEST(ConfigLoaderErrorsTest, KeysMustBeScalars) {
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\nmetrics:\n  ? [a, b]\n  : 1\n"),
              ElementsAre("test.yaml:3:5: metrics: a key must be a scalar, not a list"));
}

TEST(ConfigLoaderErrorsTest, ErrorsBeyondFiveHundredAreCounted) {
  std::string yaml = "gateway:\n  data_dir: /d\n";
  for (int i = 0; i < 600; ++i) yaml += "  unknown_" + std::to_string(i) + ": 1\n";
  const auto errors = errors_of(yaml);
  ASSERT_EQ(errors.size(), 501u);
  EXPECT_THAT(errors[0], ::testing::StartsWith("test.yaml:3:3: gateway.unknown_0: unknown key"));
  EXPECT_EQ(errors[500], "test.yaml:0:0: too many errors; the first 500 are shown above");
}

TEST(ConfigLoaderErrorsTest, PluginConfigErrors) {
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "sources:\n"
                        "  - name: a\n"
                        "    plugin: mqtt\n"
                        "    config: [uri]\n"
                        "  - name: b\n"
                        "    plugin: mqtt\n"
                        "    config: {rate: .inf, password: .nan, user: \"${USER_X}\"}\n"),
              ElementsAre("test.yaml:5:13: sources[0].config: expected a map (the plugin's "
                          "settings), got a list",
                          "test.yaml:8:20: sources[1].config.rate: '.inf' is not a finite number, "
                          "which JSON cannot carry (quote it to pass it as a string)",
                          "test.yaml:8:36: sources[1].config.password: the value is not a finite "
                          "number, which JSON cannot carry (quote it to pass it as a string)",
                          "test.yaml:8:48: sources[1].config.user: environment variable USER_X is "
                          "not set"));
}

TEST(ConfigLoaderErrorsTest, ActionErrors) {
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "devices:\n"
                "  - {key: boiler-1, token: t1}\n"
                "analyses:\n"
                "  - {name: dew-point, command: [node, dew.js]}\n"
                "actions:\n"
                "  - name: \"over heat\"\n"
                "    devices: [boiler-1, boiler-3, boiler-1]\n"
                "    device_pattern: \"boiler-*\"\n"
                "    when_set: {variable: Temperature, condition: \"=>\", value: 80}\n"
                "    type: sms\n"
                "  - name: a\n"
                "    when_set: {variable: temperature, condition: \">\", value: hot}\n"
                "    when_reset: {variable: temperature, value: 70}\n"
                "    type: mqt\n"
                "  - name: b\n"
                "    when_set: {variable: temperature, condition: \"<\"}\n"
                "    type: post\n"
                "    mqtt: {broker: \"tcp://h\", topic: t}\n"
                "  - name: c\n"
                "    when_set: temperature > 80\n"
                "    type: analysis\n"
                "    analysis: dew-pont\n"
                "  - name: a\n"
                "    type: email\n"
                "    max_queued: 0\n"),
      ElementsAre(
          "test.yaml:7:11: actions[0].name: 'over heat' may hold only letters, digits, '_', '.' "
          "and '-'",
          "test.yaml:8:25: actions[0].devices[1]: 'boiler-3' is not the key of a device of "
          "devices:; did you mean 'boiler-1'?",
          "test.yaml:8:35: actions[0].devices[2]: 'boiler-1' is listed twice (first at 8:15)",
          "test.yaml:9:5: actions[0].device_pattern: give devices or device_pattern, not both",
          "test.yaml:10:26: actions[0].when_set.variable: 'Temperature' must be lower case: "
          "variable names are lower-cased at decode",
          "test.yaml:10:50: actions[0].when_set.condition: '=>' is not one of *, =, !=, >, >=, <, "
          "<=",
          "test.yaml:11:11: actions[0].type: 'sms' actions need the cloud's messaging services, "
          "which the gateway does not have: keep this action in the cloud",
          "test.yaml:13:62: actions[1].when_set.value: 'hot' is not a finite number, which "
          "condition '>' needs",
          "test.yaml:14:41: actions[1].when_reset.value: has no use with condition '*' (any "
          "value): give a condition to compare with it, e.g. condition: \"=\"",
          "test.yaml:15:11: actions[1].type: 'mqt' is not one of mqtt, post, analysis; did you "
          "mean 'mqtt'?",
          "test.yaml:16:5: actions[2].post: required key is missing (the action is type post)",
          "test.yaml:17:15: actions[2].when_set.value: required key is missing (condition '<' "
          "compares with it)",
          "test.yaml:19:5: actions[2].mqtt: is for type mqtt; this action is type post",
          "test.yaml:21:15: actions[3].when_set: expected a map {variable, condition, value}, got "
          "a scalar",
          "test.yaml:23:15: actions[3].analysis: 'dew-pont' is not the name of an analysis of "
          "analyses:; did you mean 'dew-point'?",
          "test.yaml:24:5: actions[4].when_set: required key is missing",
          "test.yaml:24:11: actions[4].name: 'a' is already the name of actions[1] (line 12)",
          "test.yaml:25:11: actions[4].type: 'email' actions need the cloud's messaging "
          "services, which the gateway does not have: keep this action in the cloud",
          "test.yaml:26:17: actions[4].max_queued: 0 is out of range (1..1000000)"));
}

TEST(ConfigLoaderErrorsTest, ActionRequiredKeysAndEmptyLists) {
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "actions:\n"
                "  - devices: []\n"
                "    device_pattern: \"\"\n"
                "    when_reset:\n"
                "  - [overheat]\n"
                "  -\n"
                "  - name: x\n"
                "    when_set: {condition: \"=\", value: 1}\n"
                "    devices: [boiler-1]\n"
                "    type: analysis\n"
                "    analysis: nowhere\n"),
      ElementsAre(
          "test.yaml:3:3: actions[2]: expected a map (name, devices, when_set, type), got an "
          "empty value",
          "test.yaml:3:5: actions[0].name: required key is missing",
          "test.yaml:3:5: actions[0].when_set: required key is missing",
          "test.yaml:3:5: actions[0].type: required key is missing",
          "test.yaml:3:14: actions[0].devices: must not be empty (leave devices out for every "
          "device)",
          "test.yaml:4:5: actions[0].device_pattern: give devices or device_pattern, not both",
          "test.yaml:4:21: actions[0].device_pattern: must not be empty (leave device_pattern out "
          "for every device)",
          "test.yaml:5:5: actions[0].when_reset: expected a map {variable, condition, value}, got "
          "an empty value",
          "test.yaml:6:5: actions[1]: expected a map (name, devices, when_set, type), got a list",
          "test.yaml:9:15: actions[3].when_set.variable: required key is missing",
          "test.yaml:10:15: actions[3].devices[0]: 'boiler-1' is not the key of a device of "
          "devices:",
          "test.yaml:12:15: actions[3].analysis: 'nowhere' is not the name of an analysis of "
          "analyses:"));
}

// YAML reads a bare != as a tag and a bare > as a folded block: both arrive as empty values.
TEST(ConfigLoaderErrorsTest, UnquotedConditionOperators) {
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "actions:\n"
                "  - name: a\n"
                "    when_set: {variable: t, condition: !=, value: 1}\n"
                "    type: post\n"
                "    post: {url: \"http://h/x\"}\n"
                "  - name: b\n"
                "    when_set:\n"
                "      variable: t\n"
                "      condition: >\n"
                "      value: 1\n"
                "    type: post\n"
                "    post: {url: \"http://h/x\"}\n"),
      ElementsAre("test.yaml:4:40: actions[0].when_set.condition: '!=' (unquoted) is not an "
                  "operator; quote it (condition: \">=\"): YAML reads a bare *, !, > or | as "
                  "something else",
                  "test.yaml:10:18: actions[1].when_set.condition: '' is not one of *, =, !=, >, "
                  ">=, <, <=; quote it (condition: \">=\"): YAML reads a bare *, !, > or | as "
                  "something else"));
}

TEST(ConfigLoaderErrorsTest, MqttActionErrors) {
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "actions:\n"
                "  - name: a\n"
                "    when_set: {variable: t}\n"
                "    type: mqtt\n"
                "    mqtt:\n"
                "      broker: \"http://broker:1883\"\n"
                "      topic: \"alarms/+/x\"\n"
                "      qos: 3\n"
                "      payload: \"{value} at {tme}\"\n"
                "      retain: maybe\n"
                "  - name: b\n"
                "    when_set: {variable: t}\n"
                "    type: mqtt\n"
                "    mqtt: {broker: \"tcp://user:pw@broker\", topic: \"a/{dev}/b\", password: "
                "\"${NOPE}\"}\n"
                "  - name: c\n"
                "    when_set: {variable: t}\n"
                "    type: mqtt\n"
                "    mqtt: {broker: \"tcp://broker:1883/x\", topic: \"\"}\n"
                "  - name: d\n"
                "    when_set: {variable: t}\n"
                "    type: mqtt\n"
                "    mqtt: {broker: \"ssl://:8883\", topic: \"a/#\"}\n"
                "  - name: e\n"
                "    when_set: {variable: t}\n"
                "    type: mqtt\n"
                "    mqtt: {username: u}\n"),
      ElementsAre(
          "test.yaml:7:15: actions[0].mqtt.broker: must start with tcp://, ssl://, mqtt://, "
          "mqtts://, ws:// or wss://",
          "test.yaml:8:14: actions[0].mqtt.topic: 'alarms/+/x' holds a wildcard ('+' or '#'), "
          "which only subscriptions may use",
          "test.yaml:9:12: actions[0].mqtt.qos: 3 is out of range (0..2)",
          "test.yaml:10:16: actions[0].mqtt.payload: '{tme}' is not a placeholder; the "
          "placeholders are {device}, {variable}, {value}, {unit} and {time}; did you mean "
          "'{time}'?",
          "test.yaml:11:15: actions[0].mqtt.retain: 'maybe' is not true or false",
          "test.yaml:15:20: actions[1].mqtt.broker: must not hold user credentials (user@host): "
          "give username and password",
          "test.yaml:15:51: actions[1].mqtt.topic: '{dev}' is not a placeholder; the placeholders "
          "are {device}, {variable}, {value}, {unit} and {time}",
          "test.yaml:15:74: actions[1].mqtt.password: environment variable NOPE is not set",
          "test.yaml:19:20: actions[2].mqtt.broker: must be tcp://host[:port], without a path",
          "test.yaml:19:50: actions[2].mqtt.topic: must not be empty",
          "test.yaml:23:20: actions[3].mqtt.broker: has no host",
          "test.yaml:23:42: actions[3].mqtt.topic: 'a/#' holds a wildcard ('+' or '#'), which "
          "only subscriptions may use",
          "test.yaml:27:11: actions[4].mqtt.broker: required key is missing",
          "test.yaml:27:11: actions[4].mqtt.topic: required key is missing"));
}

TEST(ConfigLoaderErrorsTest, PostActionErrors) {
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "actions:\n"
                "  - name: a\n"
                "    when_set: {variable: t}\n"
                "    type: post\n"
                "    post:\n"
                "      url: \"ftp://hooks.example/x\"\n"
                "      timeout: 0s\n"
                "      headers:\n"
                "        \"X Bad\": v\n"
                "        Authorization: \"Bearer SECRET-HEADER-1\\nX: y\"\n"
                "        authorization: \"Bearer SECRET-HEADER-2\"\n"
                "      tls: {verify: maybe}\n"
                "  - name: b\n"
                "    when_set: {variable: t}\n"
                "    type: post\n"
                "    post: {url: \"https://user:SECRET-URL@hooks.example/x\"}\n"
                "  - name: c\n"
                "    when_set: {variable: t}\n"
                "    type: post\n"
                "    post: {url: \"https://hooks.example/x#frag\", headers: "
                "{\"Token:SECRET-KEY-3\": x}}\n"
                "  - name: d\n"
                "    when_set: {variable: t}\n"
                "    type: post\n"
                "    analysis: x\n"
                "    post: {}\n"),
      ElementsAre(
          "test.yaml:7:12: actions[0].post.url: must start with http:// or https://",
          "test.yaml:8:16: actions[0].post.timeout: 0s must be at least 1ms",
          "test.yaml:10:9: actions[0].post.headers.X Bad: 'X Bad' is not a header name "
          "(letters, digits and !#$%&'*+-.^_`|~)",
          "test.yaml:11:24: actions[0].post.headers.Authorization: the value holds a control "
          "character (it would corrupt the HTTP request)",
          "test.yaml:12:9: actions[0].post.headers.authorization: repeats a header (names ignore "
          "case; first at 11:9)",
          "test.yaml:13:21: actions[0].post.tls.verify: 'maybe' is not true or false",
          "test.yaml:17:17: actions[1].post.url: must not hold user credentials (user@host): give "
          "them in headers (Authorization), which are kept out of logs",
          "test.yaml:21:17: actions[2].post.url: must not hold a fragment (#): it is never sent",
          "test.yaml:21:59: actions[2].post.headers: a header name holds ':' or '=', or is long "
          "(not shown: a space missing after ':'?)",
          "test.yaml:25:5: actions[3].analysis: is for type analysis; this action is type post",
          "test.yaml:26:11: actions[3].post.url: required key is missing"));
}

TEST(ConfigLoaderErrorsTest, AnalysisErrors) {
  EXPECT_THAT(
      errors_of("gateway: {data_dir: /d}\n"
                "analyses:\n"
                "  - name: x\n"
                "    command: []\n"
                "    environment: {\"\": SECRET-ENV-1, K: [a]}\n"
                "    token: \"SECRET TOKEN-2\"\n"
                "    api: \"ftp://api\"\n"
                "    timeout: 2h\n"
                "    every: 500ms\n"
                "    max_running: 65\n"
                "    max_queued: 0\n"
                "  - name: x\n"
                "    command: [node, \"\"]\n"
                "  - name: y\n"
                "    command: {run: node}\n"
                "  - name: \"y z\"\n"
                "    command: \"\"\n"
                "  - command: [node]\n"
                "  -\n"),
      ElementsAre(
          "test.yaml:3:3: analyses[5]: expected a map (name, command, environment, timeout), got "
          "an empty value",
          "test.yaml:4:14: analyses[0].command: must not be empty: give the executable and its "
          "arguments",
          "test.yaml:5:19: analyses[0].environment: a key must not be empty",
          "test.yaml:5:40: analyses[0].environment.K: expected a string, got a list",
          "test.yaml:6:12: analyses[0].token: the token holds whitespace, a control or a "
          "non-ASCII character (it would corrupt the HTTP header)",
          "test.yaml:7:10: analyses[0].api: must start with http:// or https://",
          "test.yaml:8:14: analyses[0].timeout: 2h must be at most 1h",
          "test.yaml:9:12: analyses[0].every: 500ms must be at least 1s",
          "test.yaml:10:18: analyses[0].max_running: 65 is out of range (1..64)",
          "test.yaml:11:17: analyses[0].max_queued: 0 is out of range (1..100000)",
          "test.yaml:12:11: analyses[1].name: 'x' is already the name of analyses[0] (line 3)",
          "test.yaml:13:21: analyses[1].command[1]: must not be empty",
          "test.yaml:15:14: analyses[2].command: expected a list (the executable and its "
          "arguments), got a map",
          "test.yaml:16:11: analyses[3].name: 'y z' may hold only letters, digits, '_', '.' and "
          "'-'",
          "test.yaml:17:14: analyses[3].command: must not be empty",
          "test.yaml:18:5: analyses[4].name: required key is missing"));
}

// No error about an action's or an analysis' secret quotes it: passwords, header values (and a
// header name that swallowed its value), environment values, tokens, credentials in a URI.
TEST(ConfigLoaderErrorsTest, ActionAndAnalysisErrorsNeverShowASecret) {
  const auto env = env_of({{"HOOK_TOKEN", "SECRET-ENV-HOOK\r\n"}, {"PW", "SECRET-ENV-PW"}});
  const std::vector<std::string> errors = errors_of(
      "gateway: {data_dir: /d}\n"
      "actions:\n"
      "  - name: a\n"
      "    when_set: {variable: t}\n"
      "    type: mqtt\n"
      "    mqtt:\n"
      "      broker: \"tcp://user:SECRET-BROKER@h\"\n"
      "      topic: t\n"
      "      password: [SECRET-PW-LIST]\n"
      "  - name: b\n"
      "    when_set: {variable: t}\n"
      "    type: post\n"
      "    post:\n"
      "      url: \"https://u:SECRET-URL@h/x\"\n"
      "      headers: {Authorization: \"Bearer ${HOOK_TOKEN}\", "
      "Authorization:SECRET-COLON: x, X-Key: {v: SECRET-MAP}}\n"
      "analyses:\n"
      "  - name: x\n"
      "    command: [x]\n"
      "    environment: {K: [SECRET-ENV-LIST], L: \"${PW}${MISSING}\"}\n"
      "    token: \"SECRET TOKEN\"\n",
      env);
  EXPECT_EQ(errors.size(), 9u) << ::testing::PrintToString(errors);
  for (const std::string& e : errors) {
    EXPECT_THAT(e, ::testing::Not(::testing::HasSubstr("SECRET"))) << e;
  }
}

}  // namespace
}  // namespace edgegw::config
