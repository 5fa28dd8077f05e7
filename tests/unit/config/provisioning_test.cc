// SPDX-License-Identifier: Apache-2.0
// cloud.provisioning and `unmapped: provision`: defaults, every key, every error (position and
// message), and that the account token stays a secret.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "config/loader.h"
#include "test_util.h"

namespace edgegw::config {
namespace {

using ::testing::ElementsAre;
using testing::env_of;
using testing::errors_of;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

constexpr const char* kAccountToken = "ACCOUNT-SECRET-7f3e";
constexpr const char* kConnector = "5f5a8f3351d4db99c40dece5";
constexpr const char* kNetwork = "5bbd0d144051a50034cd19fb";

EnvLookup account_env() { return env_of({{"ACCOUNT_TOKEN", kAccountToken}}); }

// A file whose cloud.provisioning section (from line 3, keys at column 5) is `keys`.
std::string with_section(const std::string& keys, const std::string& after = "") {
  return "gateway: {data_dir: /d}\ncloud:\n  provisioning:\n" + keys + after;
}

// The required keys, then `more`.
std::string minimal(const std::string& more = "") {
  return "    token: ${ACCOUNT_TOKEN}\n    connector: " + std::string(kConnector) +
         "\n    network: " + kNetwork + "\n" + more;
}

Config load_ok(const std::string& yaml, const EnvLookup& env = account_env(),
               const std::string& base_dir = ".") {
  LoadResult result = testing::load(yaml, env, base_dir);
  EXPECT_TRUE(result.errors.empty()) << ::testing::PrintToString(errors_of(result));
  return result.config.value_or(Config{});
}

std::vector<std::string> errors(const std::string& yaml) { return errors_of(yaml, account_env()); }

TEST(ConfigProvisioningTest, Defaults) {
  const Config c = load_ok(with_section(minimal()));
  const ProvisioningConfig& p = c.cloud.provisioning;
  EXPECT_TRUE(p.set);
  EXPECT_EQ(p.mark.line, 4);
  EXPECT_EQ(p.mark.column, 5);
  EXPECT_EQ(p.account_token.reveal(), kAccountToken);
  EXPECT_EQ(p.connector, kConnector);
  EXPECT_EQ(p.network, kNetwork);
  EXPECT_FALSE(p.immutable);
  EXPECT_EQ(p.chunk_period, "");
  EXPECT_EQ(p.chunk_retention, 0);
  EXPECT_EQ(p.name, "{key}");
  EXPECT_TRUE(p.tags.empty());
  EXPECT_EQ(p.max_created_per_hour, 100);
  EXPECT_EQ(p.max_pending, 1000u);
  // The section alone does not change the policy (the CLI's token commands use it).
  EXPECT_TRUE(c.unmapped.reject);
  EXPECT_FALSE(c.unmapped.provision);
  EXPECT_THAT(c.secret_values(), ElementsAre(kAccountToken));
}

TEST(ConfigProvisioningTest, NotSetWithoutTheSection) {
  const Config c = load_ok("gateway: {data_dir: /d}\ncloud: {timeout: 5s}\n");
  EXPECT_FALSE(c.cloud.provisioning.set);
  EXPECT_EQ(c.cloud.provisioning.name, "{key}");
}

TEST(ConfigProvisioningTest, EveryKey) {
  TempDir dir;
  dir.write("account.token", "  file-account-tok-1\n", 0600);
  const Config c = load_ok(with_section("    token_file: account.token\n"
                                        "    connector: 5F5A8F3351D4DB99C40DECE5\n"
                                        "    network: ${NETWORK}\n"
                                        "    type: immutable\n"
                                        "    chunk_period: quarter\n"
                                        "    chunk_retention: 36\n"
                                        "    name: \"{gateway} / {key} ({key})\"\n"
                                        "    tags: {site: plant-3, floor: 2, code: \"007\", "
                                        "ratio: 0.50, empty: \"\"}\n"
                                        "    max_created_per_hour: 100000\n"
                                        "    max_pending: 1000000\n",
                                        "unmapped: provision\n"),
                           env_of({{"NETWORK", kNetwork}}), dir.path().string());
  const ProvisioningConfig& p = c.cloud.provisioning;
  EXPECT_TRUE(p.set);
  EXPECT_EQ(p.account_token.reveal(), "file-account-tok-1");
  EXPECT_EQ(p.connector, kConnector);  // kept in lower case, as the cloud writes ids
  EXPECT_EQ(p.network, kNetwork);
  EXPECT_TRUE(p.immutable);
  EXPECT_EQ(p.chunk_period, "quarter");
  EXPECT_EQ(p.chunk_retention, 36);
  EXPECT_EQ(p.name, "{gateway} / {key} ({key})");
  EXPECT_THAT(p.tags, ElementsAre(std::pair<const std::string, std::string>("code", "007"),
                                  std::pair<const std::string, std::string>("empty", ""),
                                  std::pair<const std::string, std::string>("floor", "2"),
                                  std::pair<const std::string, std::string>("ratio", "0.50"),
                                  std::pair<const std::string, std::string>("site", "plant-3")));
  EXPECT_EQ(p.max_created_per_hour, 100000);
  EXPECT_EQ(p.max_pending, 1000000u);
  EXPECT_FALSE(c.unmapped.reject);
  EXPECT_TRUE(c.unmapped.provision);
  EXPECT_FALSE(c.unmapped.uses_default());
  EXPECT_THAT(c.secret_values(), ElementsAre("file-account-tok-1"));
}

TEST(ConfigProvisioningTest, OtherValues) {
  const Config low =
      load_ok(with_section(minimal("    type: mutable\n    name: \"dev-{key}\"\n"
                                   "    max_created_per_hour: 1\n"
                                   "    max_pending: 1\n"
                                   "    tags:\n")));
  EXPECT_FALSE(low.cloud.provisioning.immutable);
  EXPECT_EQ(low.cloud.provisioning.name, "dev-{key}");
  EXPECT_EQ(low.cloud.provisioning.max_created_per_hour, 1);
  EXPECT_EQ(low.cloud.provisioning.max_pending, 1u);
  EXPECT_TRUE(low.cloud.provisioning.tags.empty());
  for (const char* period : {"day", "week", "month"}) {
    const Config c = load_ok(
        with_section(minimal("    type: immutable\n    chunk_period: " + std::string(period) +
                             "\n    chunk_retention: 0\n")));
    EXPECT_EQ(c.cloud.provisioning.chunk_period, period);
    EXPECT_EQ(c.cloud.provisioning.chunk_retention, 0);
  }
}

TEST(ConfigProvisioningTest, UnmappedProvisionWherevertheSectionStands) {
  const Config c = load_ok(
      "unmapped: provision\ngateway: {data_dir: /d}\ncloud:\n  provisioning:\n" + minimal());
  EXPECT_TRUE(c.unmapped.provision);
  EXPECT_FALSE(c.unmapped.reject);
}

TEST(ConfigProvisioningTest, UnmappedProvisionNeedsTheSection) {
  EXPECT_THAT(errors("gateway: {data_dir: /d}\nunmapped: provision\n"),
              ElementsAre("test.yaml:2:11: unmapped: provision needs cloud.provisioning (the "
                          "account token, connector and network the gateway makes devices with)"));
  EXPECT_THAT(errors("gateway: {data_dir: /d}\ncloud: {timeout: 5s}\nunmapped: provision\n"),
              ElementsAre("test.yaml:3:11: unmapped: provision needs cloud.provisioning (the "
                          "account token, connector and network the gateway makes devices with)"));
  // A section with errors is still there: its own errors only.
  EXPECT_THAT(errors(with_section("    connector: " + std::string(kConnector) + "\n",
                                  "unmapped: provision\n")),
              ElementsAre("test.yaml:4:5: cloud.provisioning.network: required key is missing",
                          "test.yaml:4:5: cloud.provisioning: needs a token: give token or "
                          "token_file"));
}

TEST(ConfigProvisioningTest, TheAccountToken) {
  TempDir dir;
  const std::string file = dir.write("account.token", "tok\n", 0600);
  const std::string world = dir.write("world.token", "tok\n", 0644);
  EXPECT_THAT(errors(with_section("    connector: " + std::string(kConnector) +
                                  "\n    network: " + kNetwork + "\n")),
              ElementsAre("test.yaml:4:5: cloud.provisioning: needs a token: give token or "
                          "token_file"));
  EXPECT_THAT(errors(with_section(minimal("    token_file: " + file + "\n"))),
              ElementsAre("test.yaml:7:5: cloud.provisioning.token_file: give token or "
                          "token_file, not both"));
  EXPECT_THAT(errors(with_section(minimal("    token_file: " + world + "\n"))),
              ElementsAre("test.yaml:7:5: cloud.provisioning.token_file: give token or "
                          "token_file, not both",
                          "test.yaml:7:17: cloud.provisioning.token_file: '" + world +
                              "' is readable by every user (mode 0644); run chmod 600 on it"));
  EXPECT_THAT(errors_of(with_section(minimal())),
              ElementsAre("test.yaml:4:12: cloud.provisioning.token: environment variable "
                          "ACCOUNT_TOKEN is not set"));
  EXPECT_THAT(errors(with_section("    token: \"\"\n    connector: " + std::string(kConnector) +
                                  "\n    network: " + kNetwork + "\n")),
              ElementsAre("test.yaml:4:12: cloud.provisioning.token: the token is empty"));
}

TEST(ConfigProvisioningTest, ConnectorAndNetworkIds) {
  EXPECT_THAT(errors(with_section("    token: ${ACCOUNT_TOKEN}\n")),
              ElementsAre("test.yaml:4:5: cloud.provisioning.connector: required key is missing",
                          "test.yaml:4:5: cloud.provisioning.network: required key is missing"));
  EXPECT_THAT(
      errors(with_section("    token: ${ACCOUNT_TOKEN}\n"
                          "    connector: 5f5a8f3351d4db99c40dece\n"
                          "    network: 5bbd0d144051a50034cd19fz\n")),
      ElementsAre("test.yaml:5:16: cloud.provisioning.connector: '5f5a8f3351d4db99c40dece' is "
                  "not a connector id: 24 hexadecimal digits, as the cloud shows it",
                  "test.yaml:6:14: cloud.provisioning.network: '5bbd0d144051a50034cd19fz' is not "
                  "a network id: 24 hexadecimal digits, as the cloud shows it"));
  EXPECT_THAT(errors_of(with_section("    token: ${ACCOUNT_TOKEN}\n"
                                     "    connector: ${CONNECTOR}\n"
                                     "    network: [" +
                                     std::string(kNetwork) + "]\n"),
                        env_of({{"ACCOUNT_TOKEN", "t"}, {"CONNECTOR", "custom-https"}})),
              ElementsAre("test.yaml:5:16: cloud.provisioning.connector: '${CONNECTOR}' "
                          "('custom-https') is not a connector id: 24 hexadecimal digits, as the "
                          "cloud shows it",
                          "test.yaml:6:14: cloud.provisioning.network: expected an id of 24 "
                          "hexadecimal digits, got a list"));
}

TEST(ConfigProvisioningTest, TypeAndChunks) {
  EXPECT_THAT(
      errors(with_section(minimal("    type: immutable\n"))),
      ElementsAre(
          "test.yaml:4:5: cloud.provisioning.chunk_period: required with type: immutable",
          "test.yaml:4:5: cloud.provisioning.chunk_retention: required with type: immutable"));
  EXPECT_THAT(errors(with_section(minimal("    type: immutable\n    chunk_period: week\n"))),
              ElementsAre("test.yaml:4:5: cloud.provisioning.chunk_retention: required with "
                          "type: immutable"));
  EXPECT_THAT(errors(with_section(minimal("    chunk_period: day\n    chunk_retention: 3\n"))),
              ElementsAre("test.yaml:7:5: cloud.provisioning.chunk_period: only with type: "
                          "immutable (a mutable device keeps no chunks)",
                          "test.yaml:8:5: cloud.provisioning.chunk_retention: only with type: "
                          "immutable (a mutable device keeps no chunks)"));
  EXPECT_THAT(errors(with_section(minimal("    type: mutable\n    chunk_retention: 3\n"))),
              ElementsAre("test.yaml:8:5: cloud.provisioning.chunk_retention: only with type: "
                          "immutable (a mutable device keeps no chunks)"));
  // A bad type: no guess about what the chunk keys should be.
  EXPECT_THAT(errors(with_section(minimal("    type: frozen\n    chunk_period: day\n"))),
              ElementsAre("test.yaml:7:11: cloud.provisioning.type: 'frozen' is not one of "
                          "mutable, immutable"));
  EXPECT_THAT(
      errors(with_section(minimal("    type: immutable\n    chunk_period: year\n"
                                  "    chunk_retention: 37\n"))),
      ElementsAre(
          "test.yaml:8:19: cloud.provisioning.chunk_period: 'year' is not one of day, "
          "week, month, quarter",
          "test.yaml:9:22: cloud.provisioning.chunk_retention: 37 is out of range (0..36)"));
  EXPECT_THAT(errors(with_section(minimal("    type: immutable\n    chunk_period: day\n"
                                          "    chunk_retention: -1\n"))),
              ElementsAre("test.yaml:9:22: cloud.provisioning.chunk_retention: -1 is out of "
                          "range (0..36)"));
}

TEST(ConfigProvisioningTest, NameTemplate) {
  const auto name_errors = [](const std::string& name) {
    return errors(with_section(minimal("    name: " + name + "\n")));
  };
  EXPECT_THAT(name_errors("edge-device"),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: 'edge-device' must contain "
                          "{key} (the device key): without it every device made would have the "
                          "same name"));
  EXPECT_THAT(name_errors("\"{gateway}\""),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: '{gateway}' must contain "
                          "{key} (the device key): without it every device made would have the "
                          "same name"));
  EXPECT_THAT(name_errors("\"\""),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: '' must contain {key} (the "
                          "device key): without it every device made would have the same name"));
  EXPECT_THAT(name_errors("\"{key}-{device}\""),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: unknown placeholder "
                          "'{device}'; the placeholders are {key} and {gateway}"));
  EXPECT_THAT(name_errors("\"{}{key}\""),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: unknown placeholder '{}'; "
                          "the placeholders are {key} and {gateway}"));
  EXPECT_THAT(name_errors("\"{key\""),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: '{key' has a '{' without a "
                          "closing '}'"));
  EXPECT_THAT(name_errors("\"{{key}}\""),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: '{{key}}' has a '{' without "
                          "a closing '}'"));
  EXPECT_THAT(name_errors("\"key}-{key}\""),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: 'key}-{key}' has a '}' "
                          "without an opening '{'"));
  EXPECT_THAT(name_errors("{key}"),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: expected a name template, "
                          "got a map; write it in quotes: name: \"{key}\""));
  EXPECT_THAT(name_errors("[\"{key}\"]"),
              ElementsAre("test.yaml:7:11: cloud.provisioning.name: expected a name template, "
                          "got a list"));
}

TEST(ConfigProvisioningTest, Tags) {
  EXPECT_THAT(
      errors(with_section(minimal("    tags:\n      site: a\n      edgegw_device: x\n"
                                  "      edgegw_gateway: y\n      list: [1]\n      \"\": z\n"))),
      ElementsAre("test.yaml:9:7: cloud.provisioning.tags.edgegw_device: reserved: the gateway "
                  "sets this tag itself on every device it makes",
                  "test.yaml:10:7: cloud.provisioning.tags.edgegw_gateway: reserved: the gateway "
                  "sets this tag itself on every device it makes",
                  "test.yaml:11:13: cloud.provisioning.tags.list: expected a tag value (text or "
                  "a number), got a list",
                  "test.yaml:12:7: cloud.provisioning.tags: a tag key must not be empty"));
  std::string twenty;
  for (int i = 1; i <= 20; ++i) twenty += "      t" + std::to_string(i) + ": v\n";
  EXPECT_EQ(load_ok(with_section(minimal("    tags:\n" + twenty))).cloud.provisioning.tags.size(),
            20u);
  EXPECT_THAT(
      errors(with_section(minimal("    tags:\n" + twenty + "      t21: v\n      t22: v\n"))),
      ElementsAre("test.yaml:28:7: cloud.provisioning.tags: at most 20 tags (the gateway "
                  "adds edgegw_device and edgegw_gateway)"));
  EXPECT_THAT(errors(with_section(minimal("    tags: [site]\n"))),
              ElementsAre("test.yaml:7:11: cloud.provisioning.tags: expected a map, got a list"));
}

TEST(ConfigProvisioningTest, Limits) {
  EXPECT_THAT(
      errors(with_section(minimal("    max_created_per_hour: 0\n    max_pending: 0\n"))),
      ElementsAre(
          "test.yaml:7:27: cloud.provisioning.max_created_per_hour: 0 is out of range (1..100000)",
          "test.yaml:8:18: cloud.provisioning.max_pending: 0 is out of range (1..1000000)"));
  EXPECT_THAT(
      errors(with_section(minimal("    max_created_per_hour: 100001\n    max_pending: 1000001\n"))),
      ElementsAre("test.yaml:7:27: cloud.provisioning.max_created_per_hour: 100001 is out "
                  "of range (1..100000)",
                  "test.yaml:8:18: cloud.provisioning.max_pending: 1000001 is out of "
                  "range (1..1000000)"));
  EXPECT_THAT(errors(with_section(minimal("    max_pending: lots\n"))),
              ElementsAre("test.yaml:7:18: cloud.provisioning.max_pending: 'lots' is not an "
                          "integer"));
}

TEST(ConfigProvisioningTest, UnknownKeysAndTheWrongShape) {
  EXPECT_THAT(errors(with_section(minimal("    conector: x\n    max_created: 5\n"))),
              ElementsAre("test.yaml:7:5: cloud.provisioning.conector: unknown key; did you mean "
                          "'connector'?",
                          "test.yaml:8:5: cloud.provisioning.max_created: unknown key; allowed "
                          "keys: token, token_file, connector, network, type, chunk_period, "
                          "chunk_retention, name, tags, max_created_per_hour, max_pending"));
  EXPECT_THAT(errors("gateway: {data_dir: /d}\ncloud:\n  provisioning: yes\n"),
              ElementsAre("test.yaml:3:17: cloud.provisioning: expected a map, got a scalar"));
  EXPECT_THAT(errors("gateway: {data_dir: /d}\ncloud:\n  provisioning:\n"),
              ElementsAre("test.yaml:3:3: cloud.provisioning.connector: required key is missing",
                          "test.yaml:3:3: cloud.provisioning.network: required key is missing",
                          "test.yaml:3:3: cloud.provisioning: needs a token: give token or "
                          "token_file"));
  EXPECT_THAT(errors("gateway: {data_dir: /d}\ncloud:\n  provisionning: {}\n"),
              ElementsAre("test.yaml:3:3: cloud.provisionning: unknown key; did you mean "
                          "'provisioning'?"));
}

// The account token can make and delete devices: it is never quoted in a message, whatever is
// wrong around it or with it, and prints redacted.
TEST(ConfigProvisioningTest, TheAccountTokenIsNeverShown) {
  TempDir dir;
  const std::string world = dir.write("world.token", "ACCOUNT-SECRET-world\n", 0644);
  const std::string spaced = dir.write("spaced.token", "ACCOUNT SECRET-spaced\n", 0600);
  const auto env = env_of({{"ACCOUNT_TOKEN", "ACCOUNT-SECRET-env bad"}});
  std::vector<std::string> all;
  for (const std::string& keys :
       {std::string("    token: \"ACCOUNT-SECRET inline\"\n"),
        std::string("    token: ${ACCOUNT_TOKEN}\n"), "    token_file: " + world + "\n",
        "    token_file: " + spaced + "\n", std::string("    token: [ACCOUNT-SECRET-list]\n"),
        std::string("    token: ACCOUNT-SECRET-a\n    token_file: account.token\n"),
        std::string("    token:ACCOUNT-SECRET-colon: 1\n"),
        std::string("    tokn: ACCOUNT-SECRET-typo\n")}) {
    const std::vector<std::string> found =
        errors_of(with_section(keys + "    connector: x\n    network: " + kNetwork + "\n"), env);
    EXPECT_FALSE(found.empty()) << keys;
    all.insert(all.end(), found.begin(), found.end());
  }
  for (const std::string& e : all) EXPECT_THAT(e, Not(HasSubstr("SECRET"))) << e;

  const Config ok = load_ok(with_section(minimal()));
  std::ostringstream printed;
  printed << ok.cloud.provisioning.account_token << " "
          << ::testing::PrintToString(ok.cloud.provisioning.account_token);
  EXPECT_EQ(printed.str(), "<redacted> <redacted>");
  EXPECT_THAT(ok.secret_values(), ElementsAre(kAccountToken));
}

}  // namespace
}  // namespace edgegw::config
