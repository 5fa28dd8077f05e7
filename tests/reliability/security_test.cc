// SPDX-License-Identifier: Apache-2.0
// Security defaults of the real binary: metrics bind to loopback unless told otherwise; TLS
// verification can be turned off only by an explicit key, and then the gateway warns; secrets in
// a config never show in check-config's or run's errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "harness.h"
#include "support/tokens.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;

// A gateway config without its `metrics:` section (so the default applies).
std::string without_metrics(std::string yaml) {
  const auto at = yaml.find("metrics:\n");
  yaml.erase(at, yaml.find("buffer:", at) - at);
  return yaml;
}

TEST(Security, MetricsListenOnLoopbackByDefault) {
  testing::TempDir dir;
  const std::string config =
      dir.write("gw.yaml",
                without_metrics(
                    gateway_config(dir.path() + "/data", "http://127.0.0.1:9",
                                   "tcp://127.0.0.1:" + std::to_string(testing::free_port()), {})),
                0600);
  auto gw = start_gateway(config);
  // Either it listens there, or the port is taken on this machine and it says so and retries:
  // both name the loopback address, never a wildcard one.
  ASSERT_TRUE(gw->wait_for_err("127.0.0.1:9464", 10s)) << gw->err();
  EXPECT_EQ(gw->err().find("0.0.0.0"), std::string::npos) << gw->err();
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(10s), 0) << gw->err();
}

TEST(Security, DisabledTlsVerificationNeedsAnExplicitKeyAndWarns) {
  testing::TempDir dir;
  const std::string broker_tls = "ssl://127.0.0.1:" + std::to_string(testing::free_port());
  const std::string cloud_tls = "https://127.0.0.1:" + std::to_string(testing::free_port());

  // Defaults: verification on, no warning.
  const std::string quiet =
      dir.write("quiet.yaml", gateway_config(dir.path() + "/q", cloud_tls, broker_tls, {}), 0600);
  auto gw = start_gateway(quiet);
  ASSERT_TRUE(gw->wait_for_err("metrics: http://", 10s)) << gw->err();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(gw->err().find("NOT verified"), std::string::npos) << gw->err();
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(10s), 0) << gw->err();

  // Both switches off, explicitly: each one warns.
  GatewayOptions insecure;
  insecure.cloud_extra = "  tls: { verify: false }\n";
  insecure.mqtt_extra = "      tls_insecure_skip_verify: true\n";
  const std::string loud = dir.write(
      "loud.yaml", gateway_config(dir.path() + "/l", cloud_tls, broker_tls, insecure), 0600);
  gw = start_gateway(loud);
  EXPECT_TRUE(gw->wait_for_err("cloud.tls.verify is false", 10s)) << gw->err();
  EXPECT_TRUE(gw->wait_for_err("tls_insecure_skip_verify is set", 10s)) << gw->err();
  gw->signal(SIGTERM);
  EXPECT_EQ(gw->wait(10s), 0) << gw->err();
}

TEST(Security, SecretsStayOutOfConfigErrors) {
  testing::TempDir dir;
  const std::string token = testing::fake_token(77);
  const std::string password = "hunter2-correct-horse";
  GatewayOptions options;
  options.devices = 1;
  options.mqtt_extra = "      username: edge\n      password: " + password + "\n";
  std::string yaml =
      gateway_config(dir.path() + "/data", "http://127.0.0.1:9", "tcp://127.0.0.1:1", options);
  yaml.replace(yaml.find(device_token(1)), device_token(1).size(), token);
  // Errors around the secrets: a misspelt key next to the token, a token of the wrong type
  // holding another secret, and an unknown mqtt key after the password.
  yaml.replace(yaml.find("    token: "), 11, "    tokn: " + token + "\n    token: ");
  yaml += "  - key: dev-2\n    token: [" + testing::fake_token(78) + "]\n";
  yaml.replace(yaml.find("      password: "), 16,
               "      pasword: " + password + "\n      password: ");
  const std::string config = dir.write("bad.yaml", yaml, 0600);
  const std::vector<std::string> all = {token, testing::fake_token(78), password};

  const auto check = testing::run_command({testing::edgegw_binary(), "check-config", "-c", config});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE((check.out + check.err).find("bad.yaml:"), std::string::npos) << check.err;
  expect_no_secret(check.out + check.err, all, "check-config's errors");

  const auto run = testing::run_command({testing::edgegw_binary(), "run", "-c", config}, {}, 10s);
  EXPECT_NE(run.exit_code, 0) << run.out << run.err;
  expect_no_secret(run.out + run.err, all, "run's errors");

  // A token file that others can read is refused, and its content not shown.
  const std::string token_file = dir.write("dev.token", token + "\n", 0644);
  std::string with_file =
      gateway_config(dir.path() + "/data", "http://127.0.0.1:9", "tcp://127.0.0.1:1", {});
  with_file.replace(with_file.find("token: " + device_token(1)), 7 + device_token(1).size(),
                    "token_file: " + token_file);
  const auto refused = testing::run_command(
      {testing::edgegw_binary(), "check-config", "-c", dir.write("file.yaml", with_file, 0600)});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE((refused.out + refused.err).find("dev.token"), std::string::npos) << refused.err;
  expect_no_secret(refused.out + refused.err, all, "the token file's error");
}

// The mqtt plugin checks its own keys (check-config creates its instance): a password of the wrong
// type, and a wrong-typed key next to a password, are errors at that key that never show the
// password.
TEST(Security, MqttPasswordStaysOutOfThePluginsErrors) {
  testing::TempDir dir;
  const std::string password = "hunter2-correct-horse";
  const std::string nested = "battery-staple-" + testing::fake_token(79);
  struct Case {
    std::string mqtt_extra;
    std::string key;  // the key the error must point at
  };
  const Case cases[] = {
      {"      username: edge\n      password: { value: " + nested + " }\n", "password"},
      {"      username: edge\n      password: 314159265358979\n", "password"},
      {"      username: edge\n      password: " + password + "\n      keep_alive: [" + password +
           "]\n",
       "keep_alive"},
  };
  for (const Case& c : cases) {
    GatewayOptions options;
    options.devices = 1;
    options.mqtt_extra = c.mqtt_extra;
    const std::string yaml =
        gateway_config(dir.path() + "/data", "http://127.0.0.1:9", "tcp://127.0.0.1:1", options);
    const std::string config = dir.write("mqtt.yaml", yaml, 0600);
    const auto r = testing::run_command({testing::edgegw_binary(), "check-config", "-c", config});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    // FILE:LINE:7: at the key's line (the source's config keys are indented six spaces).
    const auto at = yaml.find("      " + c.key + ": ");
    ASSERT_NE(at, std::string::npos);
    const auto line = 1 + std::count(yaml.begin(), yaml.begin() + static_cast<long>(at), '\n');
    const std::string where = config + ":" + std::to_string(line) + ":7: ";
    EXPECT_NE(r.err.find(where +
                         "sources[0] 'plant': plugin 'mqtt': create failed (invalid "
                         "argument): " +
                         c.key + ": "),
              std::string::npos)
        << c.key << "\n"
        << r.err;
    expect_no_secret(r.out + r.err, {password, nested, "314159265358979"},
                     "check-config's error on " + c.key);
  }
}

}  // namespace
}  // namespace edgegw::reliability
