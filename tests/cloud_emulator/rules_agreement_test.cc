// SPDX-License-Identifier: Apache-2.0
// The gateway's edge rules (gateway/src/decode/validate.h, applied by the tago_json decoder) and
// the emulator's stand-in for the cloud (rules.h, applied by body_scan.cc) are two independent
// implementations of the same rules, on purpose: a mistake in one is caught by tests against the
// other. This test keeps them honest with each other: the same data items, the same verdicts.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "body_scan.h"
#include "decode/decoder.h"
#include "decode/validate.h"
#include "rules.h"

namespace edgegw::cloud_emulator {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

struct Case {
  std::string item;  // one data item, JSON
  bool valid;
  // The one known difference, kept visible here rather than hidden: the edge refuses coordinates
  // out of range (a geo index refuses them, and a refused reading should be named at the edge);
  // the emulator checks only a location's shape. Unset: both give `valid`.
  std::optional<bool> emulator_valid = std::nullopt;
};

std::string item_with(const std::string& key, const std::string& json_value) {
  return R"({"variable":"t",")" + key + R"(":)" + json_value + "}";
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::vector<Case> cases() {
  std::string hundred_chars;
  for (int i = 0; i < 100; ++i) hundred_chars += "\xC3\xA9";  // é: 100 characters, 200 bytes
  std::vector<Case> c = {
      // Variable names.
      {R"({"variable":"temp"})", true},
      {R"({"variable":"Temp_1"})", true},
      {R"({"variable":"a/b:c"})", true},
      {R"({"variable":"\u00e9t\u00e9"})", true},
      {R"({"variable":")" + hundred_chars + R"("})", true},
      {R"({"variable":")" + hundred_chars + R"(x"})", false},
      {R"({"variable":")" + std::string(100, 'v') + R"("})", true},
      {R"({"variable":")" + std::string(101, 'v') + R"("})", false},
      {R"({"variable":""})", false},
      {R"({"value":1})", false},
      {R"({"variable":null})", false},
      {R"({"variable":5})", false},
      {R"({"variable":["a"]})", false},
      // Values.
      {item_with("value", "21.5"), true},
      {item_with("value", "-3"), true},
      {item_with("value", "9007199254740993"), true},
      {item_with("value", "true"), true},
      {item_with("value", "null"), true},
      {item_with("value", quoted("on")), true},
      {item_with("value", quoted(std::string(6 * 1024, 'x'))), true},
      {item_with("value", quoted(std::string(6 * 1024 + 1, 'x'))), false},
      {item_with("value", "[1]"), false},
      {item_with("value", R"({"a":1})"), false},
      // Units.
      {item_with("unit", quoted("\xC2\xB0"
                                "C")),
       true},
      {item_with("unit", quoted(std::string(25, 'u'))), true},
      {item_with("unit", quoted(std::string(26, 'u'))), false},
      {item_with("unit", "5"), false},
      // Groups (and their alias).
      {item_with("group", quoted("batch-1")), true},
      {item_with("group", quoted(std::string(100, 'g'))), true},
      {item_with("group", quoted(std::string(101, 'g'))), false},
      {item_with("group", "{}"), false},
      {item_with("serie", quoted("batch-1")), true},
      // Times.
      {item_with("time", quoted("2024-01-02T03:04:05Z")), true},
      {item_with("time", quoted("2024-01-02T03:04:05.123+02:00")), true},
      {item_with("time", quoted("soon")), false},
      {item_with("time", "true"), false},
      // Locations.
      {item_with("location", R"({"lat":52.1,"lng":4.3})"), true},
      {item_with("location", R"({"type":"Point","coordinates":[4.3,52.1]})"), true},
      {item_with("location", R"({"lat":200,"lng":4.3})"), false, true},
      {item_with("location", R"({"type":"Point","coordinates":[181,52.1]})"), false, true},
      {item_with("location", R"({"lat":"x","lng":4.3})"), false},
      // Metadata.
      {item_with("metadata", R"({"seq":1,"color":"red"})"), true},
      {item_with("metadata", R"({"note":")" + std::string(10 * 1024 - 20, 'm') + R"("})"), true},
      {item_with("metadata", R"({"note":")" + std::string(10 * 1024 + 1, 'm') + R"("})"), false},
      {item_with("metadata", "[1]"), false},
  };
  for (const char forbidden : decode::kForbiddenVariableChars) {
    c.push_back({R"({"variable":"a)" + std::string(1, forbidden) + R"(b"})", false});
  }
  return c;
}

// The gateway's verdict: the tago_json decoder keeps the item as one reading.
bool edge_accepts(const std::string& item) {
  decode::DecodeOutput out;
  const RawMessage msg{"src", "dev", "", item, kNow};
  decode::decode(decode::Format::kTagoJson, msg, out);
  return !out.payload_rejected && out.invalid == 0 && out.readings.size() == 1;
}

TEST(RulesAgreement, TheEdgeAndTheEmulatorJudgeEveryItemAlike) {
  BodyScanner scanner;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.item.substr(0, 120));
    const std::optional<std::string> cloud = scanner.scan("[" + c.item + "]", kNow);
    EXPECT_EQ(!cloud.has_value(), c.emulator_valid.value_or(c.valid))
        << "emulator: " << cloud.value_or("accepted");
    EXPECT_EQ(edge_accepts(c.item), c.valid) << "edge (decode/validate.h)";
  }
}

TEST(RulesAgreement, TheLimitsAreTheSame) {
  EXPECT_EQ(decode::kMaxVariableChars, kMaxVariableChars);
  EXPECT_EQ(decode::kMaxUnitChars, kMaxUnitChars);
  EXPECT_EQ(decode::kMaxGroupChars, kMaxGroupChars);
  EXPECT_EQ(decode::kMaxValueBytes, kMaxValueBytes);
  EXPECT_EQ(decode::kMaxMetadataBytes, kMaxMetadataBytes);
  EXPECT_EQ(decode::kForbiddenVariableChars, kForbiddenVariableChars);
}

}  // namespace
}  // namespace edgegw::cloud_emulator
