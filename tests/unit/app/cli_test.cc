// SPDX-License-Identifier: Apache-2.0
// The command line, through the real binary.
#include "app/cli.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "support/subprocess.h"
#include "support/tokens.h"

namespace edgegw::app {
namespace {

using testing::run_command;
using testing::TempDir;

std::optional<Args> parse(std::vector<std::string_view> args, std::string* error = nullptr) {
  std::ostringstream err;
  auto r = parse_args(args, err);
  if (error != nullptr) *error = err.str();
  return r;
}

TEST(ParseArgs, Commands) {
  auto r = parse({"run", "-c", "a.yaml"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command, Command::kRun);
  EXPECT_EQ(r->config_path, "a.yaml");
  r = parse({"check-config", "--config=b.yaml"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command, Command::kCheckConfig);
  EXPECT_EQ(r->config_path, "b.yaml");
  EXPECT_EQ(parse({"version"})->command, Command::kVersion);
  EXPECT_EQ(parse({"--help"})->command, Command::kHelp);
  EXPECT_EQ(parse({"run", "--help"})->command, Command::kHelp);
  r = parse({"check-config", "--no-plugins", "-c", "b.yaml"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->no_plugins);
  EXPECT_FALSE(parse({"check-config", "-c", "b.yaml"})->no_plugins);
  std::string error;
  EXPECT_FALSE(parse({"run", "--no-plugins", "-c", "a.yaml"}, &error));  // check-config's only
  EXPECT_EQ(error, "edgegw run: unexpected argument '--no-plugins'\n");
}

TEST(ParseArgs, UsageErrorsSayWhat) {
  std::string error;
  EXPECT_FALSE(parse({}, &error));
  EXPECT_EQ(error, "edgegw: no command given; try 'edgegw --help'\n");
  EXPECT_FALSE(parse({"start"}, &error));
  EXPECT_EQ(error,
            "edgegw: unknown command 'start'; the commands are run, check-config, buffer, "
            "cloud, version, help\n");
  EXPECT_FALSE(parse({"run"}, &error));
  EXPECT_EQ(error, "edgegw run: missing -c FILE (the configuration file)\n");
  EXPECT_FALSE(parse({"run", "-c"}, &error));
  EXPECT_EQ(error, "edgegw: -c needs a file name\n");
  EXPECT_FALSE(parse({"run", "-c", "a", "--verbose"}, &error));
  EXPECT_EQ(error, "edgegw run: unexpected argument '--verbose'\n");
  EXPECT_FALSE(parse({"version", "-c", "a"}, &error));
  EXPECT_EQ(error, "edgegw version: takes no -c option\n");
}

TEST(Binary, HelpVersionAndUsageExitCodes) {
  const std::string bin = testing::edgegw_binary();
  auto r = run_command({bin, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: edgegw"), std::string::npos);
  r = run_command({bin, "version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.out.starts_with("edgegw 0.")) << r.out;
  r = run_command({bin});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no command given"), std::string::npos);
  r = run_command({bin, "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
}

// Every shipped config passing check-config: tests/deploy/config_examples_test.cc.

TEST(Binary, CheckConfigPrintsEveryLocatedError) {
  TempDir dir;
  const std::string path = dir.write("broken.yaml",
                                     "gateway:\n"
                                     "  data_dri: /tmp/x\n"
                                     "buffer:\n"
                                     "  max_age: 10\n"
                                     "cloud:\n"
                                     "  max_in_flight: lots\n");
  auto r = run_command({testing::edgegw_binary(), "check-config", "-c", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(path + ":2:3: gateway.data_dri: unknown key; did you mean 'data_dir'?"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(path + ":4:12: buffer.max_age:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ":6:18: cloud.max_in_flight:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ":2:3: gateway.data_dir: required key is missing"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("4 error(s)"), std::string::npos) << r.err;
}

TEST(Binary, CheckConfigHasEachPluginCheckItsOwnKeysWithoutTouchingTheDataDir) {
  TempDir dir;
  const auto config = [&](const std::string& plugin_keys) {
    return "gateway:\n  data_dir: " + dir.path() + "/data\ncloud:\n  url: http://127.0.0.1:9\n" +
           "sources:\n  - name: gen\n    plugin: example\n    config:\n      device: d1\n" +
           plugin_keys + "devices:\n  - key: d1\n    token: " + testing::fake_token(1) + "\n";
  };
  const std::string bad = dir.write("bad.yaml", config("      cout: 3\n"), 0600);
  auto r = run_command({testing::edgegw_binary(), "check-config", "-c", bad});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(bad + ":10:7: sources[0] 'gen': plugin 'example': create failed"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("cout"), std::string::npos) << r.err;

  const std::string good = dir.write("good.yaml", config("      count: 3\n"), 0600);
  r = run_command({testing::edgegw_binary(), "check-config", "-c", good});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/data"));  // nothing was started
}

// A plugin's refusal may quote the value it refused; a secret of the config never shows.
TEST(Binary, CheckConfigNeverPrintsASecretAPluginQuotes) {
  TempDir dir;
  const std::string token = testing::fake_token(7);
  const std::string path = dir.write(
      "quoted.yaml",
      "gateway:\n  data_dir: " + dir.path() + "/data\n" +
          "sources:\n  - name: bus\n    plugin: modbus\n    config: {transport: tcp, host: "
          "127.0.0.1, units: [{id: 1, device: d1, groups: [{interval: 1s, points: [{name: v, "
          "address: 0, type: " +
          token + "}]}]}]}\n" + "devices:\n  - key: d1\n    token: " + token + "\n",
      0600);
  auto r = run_command({testing::edgegw_binary(), "check-config", "-c", path});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("<redacted>"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(token), std::string::npos) << r.err;
}

// A plugin that is not in plugin_dir is an error where `plugin:` stands, with the installed
// plugin it most likely meant; --no-plugins checks the same config without looking for them.
TEST(Binary, CheckConfigRefusesAPluginThatIsNotInstalled) {
  TempDir dir;
  const std::string path = dir.write(
      "typo.yaml",
      "gateway:\n  data_dir: " + dir.path() + "/data\n" +
          "sources:\n  - name: plant\n    plugin: mqqt\n    config: {uri: tcp://x:1883}\n" +
          "  - name: bus\n    plugin: zigbee\n" +
          "devices:\n  - key: d1\n    token: " + testing::fake_token(1) + "\n",
      0600);
  auto r = run_command({testing::edgegw_binary(), "check-config", "-c", path});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(path + ":5:13: sources[0].plugin: no plugin 'mqqt' in "), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(gateway.plugin_dir); did you mean 'mqtt'?"), std::string::npos) << r.err;
  // Nothing close: the installed ones are listed.
  EXPECT_NE(r.err.find(path + ":8:13: sources[1].plugin: no plugin 'zigbee' in "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("installed: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 error(s)"), std::string::npos) << r.err;

  r = run_command({testing::edgegw_binary(), "check-config", "--no-plugins", "-c", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, path + ": OK (2 source(s), 1 device(s); plugins not checked: --no-plugins)\n");
  EXPECT_EQ(r.err, "");
}

TEST(Binary, CheckConfigOnAMissingFile) {
  auto r = run_command({testing::edgegw_binary(), "check-config", "-c", "/nonexistent/x.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/x.yaml"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace edgegw::app
