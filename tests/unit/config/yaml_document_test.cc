// SPDX-License-Identifier: Apache-2.0
// The YAML text itself: syntax errors, empty files, more than one document, and the bounds that
// keep hostile input (deep nesting, alias bombs, yaml-cpp's own traps) from hanging or crashing us.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "test_util.h"

namespace edgegw::config {
namespace {

using ::testing::ElementsAre;
using testing::errors_of;

TEST(ConfigYamlDocumentTest, YamlSyntaxErrorHasItsPosition) {
  EXPECT_THAT(errors_of("gateway:\n"
                        "  data_dir: [/var/lib/edgegw\n"
                        "buffer:\n"
                        "  sync: batch\n"),
              ElementsAre("test.yaml:3:7: YAML syntax error: end of sequence flow not found"));
  EXPECT_THAT(errors_of("gateway:\n"
                        "  data_dir: /var/lib/edgegw\n"
                        "   log_level: info\n"),
              ElementsAre("test.yaml:3:13: YAML syntax error: illegal map value"));
}

// yaml-cpp's LoadAll loops forever, allocating, on a stray ',' (jbeder/yaml-cpp#1040): refused.
TEST(ConfigYamlDocumentTest, StrayCommaDoesNotHangTheParser) {
  EXPECT_THAT(errors_of(",\n\""),
              ElementsAre("test.yaml:1:1: YAML syntax error: unexpected character"));
  EXPECT_THAT(errors_of("!gate6ayL\n,[[L\n\"[[[[["),
              ElementsAre("test.yaml:2:1: YAML syntax error: unexpected character"));
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /d\n---\n,\n"),
              ElementsAre("test.yaml:4:1: YAML syntax error: unexpected character"));
}

TEST(ConfigYamlDocumentTest, EmptyFile) {
  constexpr const char* kEmpty =
      "test.yaml:1:1: the file is empty; it needs at least gateway.data_dir";
  EXPECT_THAT(errors_of(""), ElementsAre(kEmpty));
  EXPECT_THAT(errors_of("# nothing but a comment\n\n"), ElementsAre(kEmpty));
  EXPECT_THAT(errors_of("---\n"), ElementsAre(kEmpty));
}

TEST(ConfigYamlDocumentTest, RootNotAMap) {
  EXPECT_THAT(
      errors_of("- gateway\n- buffer\n"),
      ElementsAre("test.yaml:1:1: the top level must be a map of sections (gateway, buffer, "
                  "cloud, metrics, sources, devices, unmapped, actions, analyses), not a list"));
  EXPECT_THAT(
      errors_of("just text\n"),
      ElementsAre("test.yaml:1:1: the top level must be a map of sections (gateway, buffer, "
                  "cloud, metrics, sources, devices, unmapped, actions, analyses), not a scalar"));
}

TEST(ConfigYamlDocumentTest, MoreThanOneDocument) {
  EXPECT_THAT(errors_of("gateway:\n  data_dir: /d\n---\ngateway:\n  data_dir: /e\n"),
              ElementsAre("test.yaml:3:1: the file holds more than one YAML document ('---'); only "
                          "one is allowed"));
}

TEST(ConfigYamlDocumentTest, DeepNestingIsRefusedWithoutCrashing) {
  const std::string brackets(100000, '[');
  EXPECT_THAT(errors_of(brackets), ElementsAre(::testing::HasSubstr("YAML is nested too deeply")));
  const std::string braces = "gateway: " + std::string(100000, '{');
  EXPECT_THAT(errors_of(braces), ElementsAre(::testing::HasSubstr("YAML is nested too deeply")));
  std::string block =
      "gateway:\n  data_dir: /d\nsources:\n  - name: a\n    plugin: b\n    config:\n";
  for (int i = 0; i < 600; ++i)
    block += std::string(6 + 2 * static_cast<std::size_t>(i), ' ') + "k:\n";
  EXPECT_THAT(errors_of(block), ElementsAre(::testing::HasSubstr("YAML is nested too deeply")));

  // Deeper than 64 levels in a plugin's config: refused by us before JSON conversion.
  std::string flow = "gateway: {data_dir: /d}\nsources: [{name: a, plugin: b, config: {x: ";
  flow += std::string(70, '[') + std::string(70, ']') + "}}]\n";
  EXPECT_THAT(errors_of(flow),
              ElementsAre(::testing::MatchesRegex(
                  "test.yaml:2:.*: sources\\[0\\]\\.config\\.x(\\[0\\])+: is nested deeper than 64 "
                  "levels")));
}

TEST(ConfigYamlDocumentTest, CyclicAndExpandingAliasesAreBounded) {
  EXPECT_THAT(errors_of("gateway: {data_dir: /d}\n"
                        "sources: [{name: a, plugin: b, config: {x: &x [1, *x]}}]\n"),
              ElementsAre(::testing::HasSubstr("is nested deeper than 64 levels")));
  // The "billion laughs": ten levels of ten aliases each.
  std::string yaml = "gateway: {data_dir: /d}\nx0: &a0 [1,1,1,1,1,1,1,1,1,1]\n";
  for (int i = 1; i < 10; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    yaml += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int j = 1; j < 10; ++j) yaml += "," + prev;
    yaml += "]\n";
  }
  yaml += "sources: [{name: a, plugin: b, config: {bomb: *a9}}]\n";
  const auto errors = errors_of(yaml);
  EXPECT_THAT(errors, ::testing::Contains(::testing::HasSubstr(
                          "aliases (*) expand the file to more than 100000 repeated values; "
                          "refusing to read further")));
}

TEST(ConfigYamlDocumentTest, LargeAliasedValuesAreBounded) {
  std::string yaml = "gateway: {data_dir: /d}\nsources:\n  - name: a\n    plugin: b\n    config:\n";
  yaml += "      big: &big \"" + std::string(100000, 'x') + "\"\n      copies: [*big";
  for (int i = 0; i < 1000; ++i) yaml += ", *big";
  yaml += "]\n";
  EXPECT_THAT(errors_of(yaml),
              ElementsAre("test.yaml:7:15: sources[0].config.copies: the file expands to more than "
                          "64 MiB of values (through aliases?); refusing to read further"));
}

TEST(ConfigYamlDocumentTest, AliasesWithinReasonAreFine) {
  std::string yaml = "gateway: {data_dir: /d}\ndevices:\n";
  yaml += "  - key: d0\n    token: t\n    variables: &common\n";
  for (int v = 0; v < 20; ++v) yaml += "      v" + std::to_string(v) + ": {unit: C, scale: 2}\n";
  for (int d = 1; d < 500; ++d) {
    yaml += "  - {key: d" + std::to_string(d) + ", token: t, variables: *common}\n";
  }
  const LoadResult result = testing::load(yaml);
  ASSERT_TRUE(result.config) << ::testing::PrintToString(errors_of(result));
  ASSERT_EQ(result.config->devices.size(), 500u);
  EXPECT_EQ(result.config->devices[499].variables.at("v19").scale, 2.0);
}

TEST(ConfigYamlDocumentTest, HugeInputIsRefusedBeforeParsing) {
  const std::string yaml = "gateway:\n  data_dir: /d\n#" + std::string(5 * 1024 * 1024, 'x') + "\n";
  EXPECT_THAT(errors_of(yaml), ElementsAre("test.yaml:1:1: the file is larger than 4 MiB; is it "
                                           "really the config?"));
}

}  // namespace
}  // namespace edgegw::config
