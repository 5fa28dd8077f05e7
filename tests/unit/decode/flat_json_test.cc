// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <string>

#include "decode/decoder.h"
#include "test_util.h"

namespace edgegw::decode {
namespace {

using testing::flat;
using testing::kNewYear2024Ms;
using testing::kReceiveMs;

TEST(FlatJson, OneReadingPerKeyWithTheSharedTime) {
  const DecodeOutput out =
      flat(R"({"Temperature": 21.5, "humidity": 40, "time": "2024-01-01T00:00:00Z", "ok": true,)"
           R"( "state": "idle"})");
  EXPECT_FALSE(out.payload_rejected);
  EXPECT_EQ(out.invalid, 0u);
  ASSERT_EQ(out.readings.size(), 4u);
  EXPECT_EQ(out.readings[0].variable, "temperature");
  EXPECT_EQ(out.readings[0].value, Value(21.5));
  EXPECT_EQ(out.readings[1].variable, "humidity");
  EXPECT_EQ(out.readings[1].value, Value(std::int64_t{40}));
  EXPECT_EQ(out.readings[2].value, Value(true));
  EXPECT_EQ(out.readings[3].value, Value(std::string("idle")));
  for (const Reading& r : out.readings) {
    EXPECT_EQ(r.time_ms, kNewYear2024Ms);
    EXPECT_TRUE(r.unit.empty() && r.group.empty() && r.metadata_json.empty());
  }
}

TEST(FlatJson, NoTimeMeansTheReceiveTime) {
  const DecodeOutput out = flat(R"({"a":1})");
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].time_ms, kReceiveMs);
  const DecodeOutput unix_time = flat(R"({"a":1,"time":1704067200})");
  ASSERT_EQ(unix_time.readings.size(), 1u);
  EXPECT_EQ(unix_time.readings[0].time_ms, kNewYear2024Ms);
}

TEST(FlatJson, ArrayOfObjectsEachWithItsTime) {
  const DecodeOutput out = flat(
      R"([{"a":1,"time":"2024-01-01T00:00:00Z"},{"a":2,"time":"2024-01-01T00:00:01Z"},{"b":3}])");
  ASSERT_EQ(out.readings.size(), 3u);
  EXPECT_EQ(out.readings[0].time_ms, kNewYear2024Ms);
  EXPECT_EQ(out.readings[1].time_ms, kNewYear2024Ms + 1000);
  EXPECT_EQ(out.readings[2].time_ms, kReceiveMs);
  EXPECT_EQ(out.readings[2].variable, "b");
}

TEST(FlatJson, ObjectArrayAndNullValuesAreInvalid) {
  const DecodeOutput out = flat(R"({"a":{"x":1},"b":2,"c":[1],"d":null,"e":"ok"})");
  EXPECT_FALSE(out.payload_rejected);
  EXPECT_EQ(out.invalid, 3u);
  ASSERT_EQ(out.readings.size(), 2u);
  EXPECT_EQ(out.readings[0].variable, "b");
  EXPECT_EQ(out.readings[1].variable, "e");
  EXPECT_EQ(out.first_error, R"(value of "a" is an object, not a string, number or bool)");
  EXPECT_EQ(flat(R"([{"k":1},{"d":null}])").first_error,
            R"([1].value: of "d" is null, not a string, number or bool)");
}

TEST(FlatJson, BadTimeMakesEveryReadingOfItsObjectInvalid) {
  const DecodeOutput out = flat(R"([{"a":1,"b":2,"time":"noon"},{"c":3}])");
  EXPECT_EQ(out.invalid, 2u);
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].variable, "c");
  EXPECT_EQ(out.first_error, R"([0].time: "noon" is not an ISO 8601 time or a Unix timestamp)");
}

TEST(FlatJson, OnlyATimeOrNothingGivesNoReadings) {
  for (const char* p : {R"({"time":"2024-01-01T00:00:00Z"})", "{}", "[]", "[{}]"}) {
    const DecodeOutput out = flat(p);
    EXPECT_FALSE(out.payload_rejected) << p;
    EXPECT_EQ(out.invalid, 0u) << p;
    EXPECT_TRUE(out.readings.empty()) << p;
  }
}

TEST(FlatJson, KeysFollowTheVariableRules) {
  const DecodeOutput out = flat(R"({"tank.level":1,"tank_level":2,"":3,"a b":4})");
  EXPECT_EQ(out.invalid, 3u);
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].variable, "tank_level");
  EXPECT_EQ(out.first_error,
            R"(variable "tank.level" holds '.' (the cloud forbids *?!<>.-=$ and spaces))");
  const std::string long_key(101, 'k');
  EXPECT_EQ(flat(R"({")" + long_key + R"(":1})").invalid, 1u);
  EXPECT_EQ(flat(R"({")" + long_key.substr(1) + R"(":1})").readings.size(), 1u);
}

TEST(FlatJson, ElementsThatAreNotObjects) {
  const DecodeOutput out = flat(R"([{"a":1},"x",[2],{"b":2}])");
  EXPECT_EQ(out.invalid, 2u);
  EXPECT_EQ(out.readings.size(), 2u);
  EXPECT_EQ(out.first_error, "[1]: is a string, not an object");
}

TEST(FlatJson, RejectedPayloads) {
  for (const char* p : {"42", R"("a")", "null", R"({"a":NaN})", R"({"a":Infinity})", R"({"a":1,})",
                        "{\"a\":1}{\"b\":2}", "a=1"}) {
    const DecodeOutput out = flat(p);
    EXPECT_TRUE(out.payload_rejected) << p;
    EXPECT_TRUE(out.readings.empty()) << p;
    EXPECT_FALSE(out.first_error.empty()) << p;
  }
  EXPECT_TRUE(flat(std::string(100000, '[')).payload_rejected);
}

TEST(FlatJson, Numbers) {
  const DecodeOutput out =
      flat(R"({"a":9007199254740993,"b":18446744073709551616,"c":-9223372036854775809,"d":1e400,)"
           R"("e":0.1,"f":1e-400})");
  EXPECT_EQ(out.invalid, 1u);
  ASSERT_EQ(out.readings.size(), 5u);
  EXPECT_EQ(out.readings[0].value, Value(std::int64_t{9007199254740993}));
  EXPECT_EQ(out.readings[1].value, Value(18446744073709551616.0));
  EXPECT_EQ(out.readings[2].value, Value(-9223372036854775809.0));
  EXPECT_EQ(out.readings[3].value, Value(0.1));
  EXPECT_EQ(out.readings[4].value, Value(0.0));
  EXPECT_EQ(out.first_error,
            R"(value of "d" is a number too large for a double (it overflows to infinity))");
}

TEST(FlatJson, Unicode) {
  const DecodeOutput out = flat(R"({"Température":"🌡️","caf\u00e9":"\ud83d\ude00"})");
  ASSERT_EQ(out.readings.size(), 2u);
  EXPECT_EQ(out.readings[0].variable, "température");
  EXPECT_EQ(out.readings[0].value, Value(std::string("🌡️")));
  EXPECT_EQ(out.readings[1].variable, "café");
  EXPECT_EQ(out.readings[1].value, Value(std::string("😀")));
  EXPECT_TRUE(flat("{\"a\":\"\xed\xa0\x80\"}").payload_rejected);
}

TEST(FlatJson, OneMegabyteStringValueIsInvalid) {
  const DecodeOutput out = flat(R"({"blob":")" + std::string(1 << 20, 'x') + R"(","n":1})");
  EXPECT_EQ(out.invalid, 1u) << out.first_error;
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].variable, "n");
}

}  // namespace
}  // namespace edgegw::decode
