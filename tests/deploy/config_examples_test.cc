// SPDX-License-Identifier: Apache-2.0
// Every config/*.yaml and the package's and the container's default gateway.yaml pass
// `edgegw check-config`, with the environment variables they name set to made-up values; and
// every example starts with its plugins (whose own keys only a plugin's create() checks).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <regex>
#include <set>

#include "support/subprocess.h"
#include "support/tokens.h"

namespace edgegw {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<std::string> example_configs() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(testing::source_dir() + "/config")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// NAME=value for every ${NAME} in the file: a made-up token for *_TOKEN, a placeholder else.
std::vector<std::string> env_for(const std::string& text) {
  std::set<std::string> names;
  const std::regex var(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), var); it != std::sregex_iterator();
       ++it) {
    names.insert((*it)[1]);
  }
  std::vector<std::string> env;
  long long n = 1;
  for (const auto& name : names) {
    const bool token = name.size() > 6 && name.ends_with("_TOKEN");
    env.push_back(name + "=" + (token ? testing::fake_token(n++) : "made-up-secret"));
  }
  return env;
}

// A config that names its own gateway.plugin_dir (the installed /usr/lib/edgegw/plugins) is
// checked against this build's plugins instead: each source's plugin must be there and accept
// its keys.
std::string with_built_plugins(const std::string& text) {
  const std::string built = std::string(std::getenv("EDGEGW_BINARY_DIR")) + "/lib/edgegw/plugins";
  return std::regex_replace(text, std::regex(R"((plugin_dir: *)[^\s#,}]+)"), "$1" + built);
}

// The config with each `token_file:` / `local_token_file:` pointing at a file in `dir` that holds
// a made-up token (mode 0600), as the operator's box has them where the example says.
std::string with_token_files(const std::string& text, const testing::TempDir& dir) {
  const std::regex file_key(R"(((?:local_)?token_file: *)([^\s#,}]+))");
  std::string out;
  auto last = text.cbegin();
  long long n = 100;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), file_key);
       it != std::sregex_iterator(); ++it) {
    const std::string path =
        dir.write("token-" + std::to_string(n), testing::fake_token(n) + "\n", 0600);
    ++n;
    out.append(last, (*it)[0].first).append((*it)[1].str()).append(path);
    last = (*it)[0].second;
  }
  return out.append(last, text.cend());
}

void expect_checks_clean(const std::string& file) {
  const std::string text = testing::read_file(file);
  testing::TempDir dir;
  const std::string checked = dir.write(fs::path(file).filename().string(),
                                        with_built_plugins(with_token_files(text, dir)), 0600);
  auto r = testing::run_command({testing::edgegw_binary(), "check-config", "-c", checked},
                                env_for(text));
  EXPECT_EQ(r.exit_code, 0) << file << "\n" << r.err;
  EXPECT_THAT(r.out, HasSubstr(checked + ": OK")) << r.err;
  // What a plugin says at info while its config is checked (the modbus plugin: what each polling
  // group costs) is for the operator; anything else on stderr is a warning the example earns.
  const std::string warnings =
      std::regex_replace(r.err, std::regex(R"([^\n]* info +\[source\] source [^\n]*\n?)"), "");
  EXPECT_EQ(warnings, "") << file;
}

TEST(ConfigExamples, EveryExampleChecksClean) {
  const auto files = example_configs();
  // The uses deploy/README.md documents: an MQTT plant, a serial bus, Modbus meters, all three;
  // the demo and the reference.
  for (const char* name : {"mqtt-plant.yaml", "serial-bus.yaml", "modbus-meter.yaml",
                           "all-in-one.yaml", "demo.yaml", "reference.yaml"}) {
    EXPECT_TRUE(fs::exists(testing::source_dir() + "/config/" + name)) << name;
  }
  for (const auto& file : files) {
    SCOPED_TRACE(file);
    expect_checks_clean(file);
  }
}

// An example moved onto this machine: its data_dir into `data_dir`, no plugin_dir (this build's
// plugins), listen addresses on free ports, the cloud, MQTT brokers and Modbus TCP devices on a
// loopback port where nothing answers, serial ports that do not exist (retried in the
// background: not a start failure). Nothing leaves the machine, nothing touches another test's
// ports or a real tty.
std::string moved_here(const std::string& text, const std::string& data_dir) {
  std::string out =
      std::regex_replace(text, std::regex(R"(data_dir: *\S+)"), "data_dir: " + data_dir);
  out = std::regex_replace(out, std::regex(R"(\n *plugin_dir:[^\n]*)"), "");
  out = std::regex_replace(out, std::regex(R"(listen: *[0-9.]+:[0-9]+)"), "listen: 127.0.0.1:0");
  out = std::regex_replace(out, std::regex(R"((\n *url: *)\S+)"), "$1http://127.0.0.1:1");
  out = std::regex_replace(out, std::regex(R"(uri: *(tcp|ssl)://[^\s,}]+)"),
                           "uri: tcp://127.0.0.1:1");
  // The actions' brokers: where nothing answers (their jobs wait in the outbox).
  out = std::regex_replace(out, std::regex(R"(broker: *(tcp|ssl|mqtt|mqtts|ws|wss)://[^\s,}]+)"),
                           "broker: tcp://127.0.0.1:1");
  // Modbus TCP: the device's host on the loopback, its port one where nothing answers.
  out = std::regex_replace(out, std::regex(R"(host: *[^\s,}]+)"), "host: 127.0.0.1");
  out = std::regex_replace(out, std::regex(R"(\bport: *[0-9]+)"), "port: 1");
  return std::regex_replace(out, std::regex(R"(\bport: *[^\s,}0-9][^\s,}]*)"),
                            "port: /dev/edgegw-no-such-port");
}

// The plugins a config names whose code is not in this tree yet, comma-separated.
std::string plugins_not_written(const std::string& text) {
  std::string missing;
  const std::regex plugin(R"(plugin: *([a-z0-9_]+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), plugin);
       it != std::sregex_iterator(); ++it) {
    if (!fs::exists(testing::source_dir() + "/plugins/" + (*it)[1].str())) {
      missing += (missing.empty() ? "" : ", ") + (*it)[1].str();
    }
  }
  return missing;
}

TEST(ConfigExamples, EveryExampleStartsWithItsPlugins) {
  using namespace std::chrono_literals;
  for (const auto& file : example_configs()) {
    SCOPED_TRACE(file);
    const std::string text = testing::read_file(file);
    if (const std::string missing = plugins_not_written(text); !missing.empty()) {
      std::cout << file << ": not started: plugin(s) " << missing << " not in this tree yet\n";
      continue;
    }
    testing::TempDir dir;
    const std::string moved =
        dir.write("gw.yaml", moved_here(with_token_files(text, dir), dir.path() + "/data"), 0600);
    testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", moved}, env_for(text));
    ASSERT_TRUE(gw.wait_for_err("edgegw started", 15s)) << gw.err();
    gw.signal(SIGTERM);
    EXPECT_EQ(gw.wait(15s), 0) << gw.err();
  }
}

// The Debian package's /etc/edgegw/gateway.yaml and the container image's: a gateway that runs
// and sends nothing until configured.
TEST(ConfigExamples, PackageAndContainerDefaultsStartWithNothing) {
  for (const char* name : {"/deploy/packaging/gateway.yaml", "/deploy/container/gateway.yaml"}) {
    const std::string file = testing::source_dir() + name;
    SCOPED_TRACE(file);
    expect_checks_clean(file);
    auto r = testing::run_command({testing::edgegw_binary(), "check-config", "-c", file});
    EXPECT_THAT(r.out, HasSubstr("OK (0 source(s), 0 device(s))"));
    EXPECT_THAT(testing::read_file(file), HasSubstr("data_dir: /var/lib/edgegw"));
  }
  // In a container the health check and Prometheus come from outside the loopback.
  EXPECT_THAT(testing::read_file(testing::source_dir() + "/deploy/container/gateway.yaml"),
              HasSubstr("listen: 0.0.0.0:9464"));
}

TEST(ConfigExamples, AnUnsetVariableIsNamed) {
  const std::string file = testing::source_dir() + "/config/mqtt-plant.yaml";
  std::vector<std::string> env = env_for(testing::read_file(file));
  std::erase_if(env, [](const std::string& e) { return e.starts_with("MQTT_PASSWORD="); });
  // run_command adds to the inherited environment: make sure the test's own has none.
  ASSERT_EQ(std::getenv("MQTT_PASSWORD"), nullptr);
  auto r = testing::run_command({testing::edgegw_binary(), "check-config", "-c", file}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("MQTT_PASSWORD"));
}

}  // namespace
}  // namespace edgegw
