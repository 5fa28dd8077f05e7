// SPDX-License-Identifier: Apache-2.0
// Tokens: inline, from the environment, from a token_file; and that no secret ever leaks into a
// diagnostic or a printed part of the config.
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
using testing::TempDir;

constexpr const char* kHeader = "gateway: {data_dir: /d}\ndevices:\n";

std::string device_with(const std::string& token_line) {
  return std::string(kHeader) + "  - key: boiler-1\n    " + token_line + "\n";
}

TEST(ConfigLocalTokenTest, IsASecretFromInlineOrAFile) {
  TempDir dir;
  const std::string path = dir.write("b.local", "local-tok-1\n", 0600);
  const LoadResult r =
      testing::load(device_with("token: cloud-tok-1\n    local_token_file: " + path));
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  EXPECT_EQ(r.config->devices[0].local_token.reveal(), "local-tok-1");
  EXPECT_THAT(r.config->secret_values(), ElementsAre("cloud-tok-1", "local-tok-1"));
  const LoadResult inline_token =
      testing::load(device_with("token: cloud-tok-1\n    local_token: local-tok-2"));
  ASSERT_TRUE(inline_token.config);
  EXPECT_EQ(inline_token.config->devices[0].local_token.reveal(), "local-tok-2");
}

TEST(ConfigLocalTokenTest, OneFormOnlyAndNeverQuoted) {
  TempDir dir;
  const std::string path = dir.write("b.local", "local-tok-1\n", 0600);
  EXPECT_THAT(
      errors_of(device_with("token: t\n    local_token: a-secret\n    local_token_file: " + path)),
      ElementsAre("test.yaml:6:5: devices[0].local_token_file: give local_token or "
                  "local_token_file, not both"));
  const auto errors = errors_of(device_with("token: t\n    local_token: \"bad secret\""));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].find("bad secret"), std::string::npos) << errors[0];
}

TEST(ConfigTokenFileTest, ReadsAPrivateFileTrimmed) {
  TempDir dir;
  const std::string path = dir.write("b.token", "  tok-123-abc\n\n", 0600);
  const LoadResult r = testing::load(device_with("token_file: " + path));
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  EXPECT_EQ(r.config->devices[0].token.reveal(), "tok-123-abc");
  EXPECT_THAT(r.config->secret_values(), ElementsAre("tok-123-abc"));
}

TEST(ConfigTokenFileTest, GroupReadableIsAccepted) {
  TempDir dir;
  const std::string path = dir.write("b.token", "tok", 0640);
  EXPECT_TRUE(testing::load(device_with("token_file: " + path)).config);
}

TEST(ConfigTokenFileTest, RefusesAFileEveryUserCanRead) {
  TempDir dir;
  const std::string path = dir.write("b.token", "tok-world", 0644);
  EXPECT_THAT(errors_of(device_with("token_file: " + path)),
              ElementsAre("test.yaml:4:17: devices[0].token_file: '" + path +
                          "' is readable by every user (mode 0644); run chmod 600 on it"));
}

TEST(ConfigTokenFileTest, MissingEmptyOrCorruptingFiles) {
  TempDir dir;
  const std::string missing = (dir.path() / "missing.token").string();
  const std::string empty = dir.write("empty.token", " \n\t\n", 0600);
  const std::string inner = dir.write("inner.token", "abc def\n", 0600);
  const std::string control = dir.write("control.token", "abc\x01xyz", 0600);
  const std::string big = dir.write("big.token", std::string(5000, 'a'), 0600);
  const std::string yaml =
      std::string(kHeader) +  //
      "  - {key: a, token_file: " + missing + "}\n" + "  - {key: b, token_file: " + empty + "}\n" +
      "  - {key: c, token_file: " + inner + "}\n" + "  - {key: d, token_file: " + control + "}\n" +
      "  - {key: e, token_file: " + big + "}\n" +
      "  - {key: f, token_file: " + dir.path().string() + "}\n" +
      "  - {key: g, token_file: \"\"}\n";
  constexpr const char* kHeaderRule =
      "holds a token with whitespace, a control or a non-ASCII character inside (it would corrupt "
      "the HTTP header)";
  EXPECT_THAT(errors_of(yaml),
              ElementsAre("test.yaml:3:26: devices[0].token_file: '" + missing +
                              "' cannot be read: No such file or directory",
                          "test.yaml:4:26: devices[1].token_file: '" + empty + "' is empty",
                          "test.yaml:5:26: devices[2].token_file: '" + inner + "' " + kHeaderRule,
                          "test.yaml:6:26: devices[3].token_file: '" + control + "' " + kHeaderRule,
                          "test.yaml:7:26: devices[4].token_file: '" + big +
                              "' is larger than 4096 bytes; a token file holds only the token",
                          "test.yaml:8:26: devices[5].token_file: '" + dir.path().string() +
                              "' is not a regular file",
                          "test.yaml:9:26: devices[6].token_file: must not be empty"));
}

TEST(ConfigTokenFileTest, RelativePathsAreRelativeToTheConfigFile) {
  TempDir dir;
  dir.write("secrets/b.token", "tok-relative", 0600);
  const std::string config =
      dir.write("gateway.yaml", device_with("token_file: secrets/b.token"), 0644);
  const LoadResult r = load_file(config);
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  EXPECT_EQ(r.config->devices[0].token.reveal(), "tok-relative");

  // load_string: relative to base_dir.
  const LoadResult s =
      testing::load(device_with("token_file: secrets/b.token"), env_of({}), dir.path().string());
  ASSERT_TRUE(s.config);
  EXPECT_EQ(s.config->devices[0].token.reveal(), "tok-relative");
  EXPECT_THAT(errors_of(device_with("token_file: secrets/b.token"), env_of({}), "/nonexistent"),
              ElementsAre("test.yaml:4:17: devices[0].token_file: '/nonexistent/secrets/b.token' "
                          "cannot be read: No such file or directory"));
}

TEST(ConfigTokenFileTest, PathFromTheEnvironmentIsQuotedAsWritten) {
  TempDir dir;
  const std::string path = dir.write("b.token", "tok", 0604);
  EXPECT_THAT(errors_of(device_with("token_file: ${TOKEN_PATH}"), env_of({{"TOKEN_PATH", path}})),
              ElementsAre("test.yaml:4:17: devices[0].token_file: '${TOKEN_PATH}' is readable by "
                          "every user (mode 0604); run chmod 600 on it"));
}

TEST(ConfigTokenFileTest, UnmappedDefaultFromAFile) {
  TempDir dir;
  const std::string path = dir.write("default.token", "tok-default\n", 0600);
  const LoadResult r = testing::load(
      "gateway: {data_dir: /d}\nunmapped:\n  default:\n    token_file: " + path + "\n");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  EXPECT_FALSE(r.config->unmapped.reject);
  EXPECT_EQ(r.config->unmapped.default_token.reveal(), "tok-default");
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\nunmapped:\n  default:\n    token: a\n"
                        "    token_file: " +
                        path + "\n"),
              ElementsAre("test.yaml:5:5: unmapped.default.token_file: give token or token_file, "
                          "not both"));
}

TEST(ConfigSecretTest, PrintsRedacted) {
  std::ostringstream out;
  out << Secret("s3cr3t");
  EXPECT_EQ(out.str(), "<redacted>");
  EXPECT_EQ(::testing::PrintToString(Secret("s3cr3t")), "<redacted>");
}

TEST(ConfigSecretTest, PluginConfigSecretsAreCollected) {
  const LoadResult r = testing::load(R"(gateway: {data_dir: /d}
sources:
  - name: s
    plugin: p
    config:
      password: pw-1
      mqtt_password: pw-2
      Api_Token: tok-3
      client_secret: 12345
      nested: {auth: {secret: [s-4, s-5]}}
      tokenizer: not-a-secret
      passwords_file: not-a-secret-either
      token: ""
)");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(errors_of(r));
  EXPECT_THAT(r.config->secret_values(),
              ::testing::UnorderedElementsAre("pw-1", "pw-2", "tok-3", "12345", "s-4", "s-5"));
}

// Every secret of the file, given in every way, with errors around them and on them: none may
// appear in any diagnostic, nor in anything the Config prints.
TEST(ConfigSecretTest, NoSecretInAnyDiagnosticOrPrintedConfigPart) {
  TempDir dir;
  const std::string file_token = "FILE-SECRET-4a1f";
  const std::string world_token = "WORLD-SECRET-93bd";
  const std::string spaced_token = "SPACED SECRET-77";
  const std::string ok_file = dir.write("ok.token", file_token + "\n", 0600);
  const std::string world_file = dir.write("world.token", world_token, 0644);
  const std::string spaced_file = dir.write("spaced.token", spaced_token, 0600);
  const auto env = env_of({{"ENV_TOKEN", "ENV-SECRET-c3d2"},
                           {"BAD_ENV_TOKEN", "ENV SECRET-bad\n"},
                           {"MQTT_PASSWORD", "MQTT-SECRET-5e6f"}});
  const std::vector<std::string> secrets = {
      "INLINE-SECRET-0b9e", "ENV-SECRET-c3d2", "ENV SECRET-bad",  "MQTT-SECRET-5e6f",
      file_token,           world_token,       spaced_token,      "DEFAULT-SECRET-1a2b",
      "INLINE SECRET-sp",   "LIST-SECRET-9",   "NUMBER-SECRET-x", "PLUGIN-PW-inf",
      "COLON-SECRET-8c",    "EQUALS-SECRET-9d"};

  const std::string valid = R"(gateway:
  data_dir: /var/lib/edgegw
sources:
  - name: plant
    plugin: mqtt
    config:
      uri: tcp://127.0.0.1:1883
      password: ${MQTT_PASSWORD}
devices:
  - key: a
    token: INLINE-SECRET-0b9e
  - key: b
    token: ${ENV_TOKEN}
  - key: c
    token_file: )" + ok_file +
                            R"(
unmapped:
  default: {token: DEFAULT-SECRET-1a2b}
)";
  const LoadResult ok = testing::load(valid, env);
  ASSERT_TRUE(ok.config) << ::testing::PrintToString(errors_of(ok));
  std::ostringstream printed;
  for (const auto& device : ok.config->devices)
    printed << device.key << " " << device.token << "\n";
  printed << ok.config->unmapped.default_token << "\n";
  printed << ::testing::PrintToString(ok.config->devices[0].token) << "\n";
  for (const std::string& secret :
       {std::string("INLINE-SECRET-0b9e"), std::string("ENV-SECRET-c3d2"), file_token,
        std::string("DEFAULT-SECRET-1a2b")}) {
    EXPECT_EQ(printed.str().find(secret), std::string::npos) << secret;
  }

  // The same secrets, with errors elsewhere and on the token keys themselves.
  const std::string broken = R"(gateway:
  data_dri: /var/lib/edgegw
  log_level: loud
cloud:
  max_in_flight: 0
sources:
  - name: plant
    plugin: mqtt
    config:
      uri: tcp://127.0.0.1:1883
      password: ${MQTT_PASSWORD}
      api_token: .inf
      client_secret: [NUMBER-SECRET-x, "${NOPE}"]
  - name: plant
    plugin: Bad
    config: {password: .nan, token: PLUGIN-PW-inf, other: "${ALSO_UNSET}"}
devices:
  - key: a
    token: INLINE-SECRET-0b9e
    tokn: INLINE-SECRET-0b9e
  - key: a
    token: ${ENV_TOKEN}
    token_file: )" + ok_file +
                             R"(
  - key: c
    token: ${BAD_ENV_TOKEN}
  - key: d
    token: [LIST-SECRET-9]
  - key: e
    token: "INLINE SECRET-sp"
  - key: f
    token_file: )" + world_file +
                             R"(
  - key: g
    token_file: )" + spaced_file +
                             R"(
  - key: h
    token: {INLINE-SECRET-0b9e: 1}
  - key: i
    token: ${UNSET_TOKEN}
  - key: j
    token: "x${ENV_TOKEN"
  - {key: k, token:COLON-SECRET-8c, token=EQUALS-SECRET-9d}
unmapped:
  default: {token: DEFAULT-SECRET-1a2b, token_file: x, tokn: DEFAULT-SECRET-1a2b}
)";
  const LoadResult bad = testing::load(broken, env, dir.path().string());
  EXPECT_FALSE(bad.config);
  const std::vector<std::string> errors = errors_of(bad);
  EXPECT_GE(errors.size(), 15u);
  for (const std::string& error : errors) {
    for (const std::string& secret : secrets) {
      EXPECT_EQ(error.find(secret), std::string::npos) << error << " holds " << secret;
    }
  }
  // The errors on the token keys are there, named by path.
  for (const char* path : {"devices[2].token:", "devices[3].token:", "devices[4].token:",
                           "devices[5].token_file:", "devices[6].token_file:", "devices[7].token:",
                           "devices[8].token:", "devices[9].token:", "devices[1].token_file:",
                           "sources[0].config.client_secret[1]:", "sources[0].config.api_token:",
                           "sources[1].config.password:", "unmapped.default.token_file:",
                           "devices[10]: unknown key (not shown: it holds ':' or '=', or is long; "
                           "a space missing after ':'?)"}) {
    EXPECT_THAT(errors, ::testing::Contains(::testing::HasSubstr(path))) << path;
  }
}

}  // namespace
}  // namespace edgegw::config
