// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <string>

#include "decode/decoder.h"
#include "test_util.h"

namespace edgegw::decode {
namespace {

using testing::kReceiveMs;
using testing::raw;

Value value_of(std::string_view payload) {
  const DecodeOutput out = raw(payload);
  EXPECT_FALSE(out.payload_rejected) << payload;
  EXPECT_EQ(out.invalid, 0u) << payload << ": " << out.first_error;
  EXPECT_EQ(out.readings.size(), 1u) << payload;
  return out.readings.empty() ? Value() : out.readings[0].value;
}

std::string invalid(std::string_view payload, std::string_view variable = "level") {
  const DecodeOutput out = raw(payload, variable);
  EXPECT_FALSE(out.payload_rejected) << payload;
  EXPECT_EQ(out.invalid, 1u) << payload;
  EXPECT_TRUE(out.readings.empty()) << payload;
  return out.first_error;
}

TEST(Raw, TheWholePayloadIsTheValue) {
  const DecodeOutput out = raw("21.5", "Tank_Level");
  ASSERT_EQ(out.readings.size(), 1u);
  const Reading& r = out.readings[0];
  EXPECT_EQ(r.variable, "tank_level");
  EXPECT_EQ(r.value, Value(21.5));
  EXPECT_EQ(r.time_ms, kReceiveMs);
  EXPECT_TRUE(r.unit.empty() && r.group.empty() && r.location_json.empty() &&
              r.metadata_json.empty());
}

TEST(Raw, TypingOnTheTrimmedPayload) {
  EXPECT_EQ(value_of(" 42\r\n"), Value(std::int64_t{42}));
  EXPECT_EQ(value_of("\t-0.25\n"), Value(-0.25));
  EXPECT_EQ(value_of("true\n"), Value(true));
  EXPECT_EQ(value_of("false"), Value(false));
  EXPECT_EQ(value_of("9007199254740993"), Value(std::int64_t{9007199254740993}));
  EXPECT_EQ(value_of("18446744073709551616"), Value(18446744073709551616.0));
  EXPECT_EQ(value_of("-9223372036854775809"), Value(-9223372036854775809.0));
  EXPECT_EQ(value_of("1e-400"), Value(0.0));
}

TEST(Raw, TextKeepsItsSpaces) {
  EXPECT_EQ(value_of("hello"), Value(std::string("hello")));
  EXPECT_EQ(value_of("  hello world \n"), Value(std::string("  hello world \n")));
  EXPECT_EQ(value_of(R"({"a":1})"), Value(std::string(R"({"a":1})")));
  EXPECT_EQ(value_of("21.5 C"), Value(std::string("21.5 C")));
  EXPECT_EQ(value_of("🌡️ été"), Value(std::string("🌡️ été")));
  EXPECT_EQ(value_of("a\x01z"), Value(std::string("a\x01z")));
}

TEST(Raw, NonFiniteAndHugeNumbersAreInvalid) {
  EXPECT_EQ(invalid("nan"),
            R"(value "nan" is not a finite number (the cloud's JSON cannot carry it))");
  invalid(" Infinity\n");
  invalid("-inf");
  EXPECT_EQ(invalid("1e400"), R"(value "1e400" is beyond the range of a double)");
}

TEST(Raw, BlankPayloadIsInvalid) { EXPECT_EQ(invalid(" \r\n\t"), "value is blank"); }

TEST(Raw, NeedsAVariable) {
  const DecodeOutput out = raw("21.5", "");
  EXPECT_TRUE(out.payload_rejected);
  EXPECT_TRUE(out.readings.empty());
  EXPECT_EQ(out.first_error,
            "raw format needs a variable (a {variable} topic capture or the source's `variable:`)");
}

TEST(Raw, TheVariableFollowsTheRules) {
  EXPECT_EQ(invalid("1", "tank-level"),
            R"(variable "tank-level" holds '-' (the cloud forbids *?!<>.-=$ and spaces))");
  invalid("1", "a$b");
  invalid("1", std::string(101, 'v'));
  EXPECT_EQ(raw("1", std::string(100, 'v')).readings.size(), 1u);
  EXPECT_EQ(raw("1", "Température").readings.at(0).variable, "température");
}

TEST(Raw, ValueLimit) {
  EXPECT_EQ(value_of(std::string(6144, 'x')), Value(std::string(6144, 'x')));
  EXPECT_EQ(invalid(std::string(6145, 'x')),
            "value is a string of 6145 bytes (the cloud allows 6 kB, 6144 bytes)");
  invalid(std::string(1 << 20, 'x'));
}

TEST(Raw, InvalidUtf8IsRejected) {
  for (const std::string bad : {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xff"}) {
    const DecodeOutput out = raw("v=" + bad);
    EXPECT_TRUE(out.payload_rejected);
    EXPECT_EQ(out.first_error, "payload is not valid UTF-8 (at byte 2)");
  }
}

}  // namespace
}  // namespace edgegw::decode
