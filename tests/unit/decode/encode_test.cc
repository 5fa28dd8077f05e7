// SPDX-License-Identifier: Apache-2.0
#include "decode/encode.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "decode/decoder.h"
#include "test_util.h"

namespace edgegw::decode {
namespace {

Reading decode_back(const std::string& json) {
  const DecodeOutput out = testing::tago(json);
  EXPECT_FALSE(out.payload_rejected) << json << ": " << out.first_error;
  EXPECT_EQ(out.invalid, 0u) << json << ": " << out.first_error;
  EXPECT_EQ(out.readings.size(), 1u) << json;
  return out.readings.empty() ? Reading{} : out.readings[0];
}

Reading minimal(Value value) {
  Reading r;
  r.variable.assign(1, 'a');  // not = "a": GCC 12 -O3 gives a false -Wrestrict for that
  r.value = std::move(value);
  r.time_ms = testing::kNewYear2024Ms;
  return r;
}

std::string value_json(Value value) {
  const std::string json = to_cloud_json(minimal(std::move(value)));
  const std::string prefix = R"({"variable":"a","value":)";
  EXPECT_EQ(json.rfind(prefix, 0), 0u) << json;
  return json.substr(prefix.size(), json.find(",\"time\"") - prefix.size());
}

TEST(Encode, EveryFieldInOrder) {
  Reading r;
  r.variable = "temperature";
  r.value = 21.5;
  r.unit = "C";
  r.time_ms = testing::kNewYear2024Ms;
  r.group = "g1";
  r.location_json = R"({"lat":1,"lng":2})";
  r.metadata_json = R"({"a":1})";
  EXPECT_EQ(
      to_cloud_json(r),
      R"({"variable":"temperature","value":21.5,"unit":"C","time":"2024-01-01T00:00:00.000Z",)"
      R"("group":"g1","location":{"lat":1,"lng":2},"metadata":{"a":1}})");
}

TEST(Encode, AbsentFieldsAreOmitted) {
  Reading r;
  r.variable = "door";
  r.time_ms = 123;
  EXPECT_EQ(to_cloud_json(r), R"({"variable":"door","time":"1970-01-01T00:00:00.123Z"})");
}

TEST(Encode, AppendsToTheBuffer) {
  std::string out = "[";
  append_cloud_json(minimal(std::int64_t{1}), out);
  out += ',';
  append_cloud_json(minimal(true), out);
  out += ']';
  EXPECT_EQ(out, R"([{"variable":"a","value":1,"time":"2024-01-01T00:00:00.000Z"},)"
                 R"({"variable":"a","value":true,"time":"2024-01-01T00:00:00.000Z"}])");
}

TEST(Encode, Numbers) {
  EXPECT_EQ(value_json(std::int64_t{0}), "0");
  EXPECT_EQ(value_json(std::numeric_limits<std::int64_t>::max()), "9223372036854775807");
  EXPECT_EQ(value_json(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(value_json(std::int64_t{9007199254740993}), "9007199254740993");
  EXPECT_EQ(value_json(21.5), "21.5");
  EXPECT_EQ(value_json(0.1), "0.1");
  EXPECT_EQ(value_json(1.0), "1.0");  // stays a double when read back
  EXPECT_EQ(value_json(-0.0), "-0.0");
  EXPECT_EQ(value_json(1e21), "1e+21");
  EXPECT_EQ(value_json(1e-7), "1e-07");
  EXPECT_EQ(value_json(5e-324), "5e-324");
  EXPECT_EQ(value_json(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(value_json(9223372036854775808.0), "9223372036854775808.0");
  EXPECT_EQ(value_json(false), "false");
}

TEST(Encode, StringEscaping) {
  EXPECT_EQ(value_json(std::string("a\"b\\c/d")), R"("a\"b\\c/d")");
  EXPECT_EQ(value_json(std::string("l1\nl2\r\n\ttab")), R"("l1\nl2\r\n\ttab")");
  EXPECT_EQ(value_json(std::string("\x01\x1f\b\f", 4)), R"("\u0001\u001f\u0008\u000c")");
  EXPECT_EQ(value_json(std::string("nul\0!", 5)), R"("nul\u0000!")");
  EXPECT_EQ(value_json(std::string("\x7f")), "\"\x7f\"");  // DEL needs no escape in JSON
  EXPECT_EQ(value_json(std::string("été 😀 温度 \xe2\x80\xa8")), "\"été 😀 温度 \xe2\x80\xa8\"");
  Reading r = minimal(std::monostate());
  r.variable = "q\"v";
  r.unit = "°\\";
  r.group = "g\n";
  EXPECT_EQ(to_cloud_json(r),
            R"({"variable":"q\"v","unit":"°\\","time":"2024-01-01T00:00:00.000Z","group":"g\n"})");
}

TEST(Encode, OutputParsesWithBoostJson) {
  Reading r = minimal(std::string("a\"\\\x01\x1f\n😀 é"));
  r.unit = "\x02";
  r.metadata_json = R"({"k":[1,2.5,"x"]})";
  const std::string json = to_cloud_json(r);
  boost::json::error_code ec;
  const boost::json::value v = boost::json::parse(json, ec);
  ASSERT_FALSE(ec) << json;
  EXPECT_EQ(v.at("value").as_string(), std::get<std::string>(r.value));
  EXPECT_EQ(v.at("unit").as_string(), "\x02");
  EXPECT_EQ(v.at("metadata").at("k").at(1).as_double(), 2.5);
}

TEST(Encode, RoundTripThroughTagoJson) {
  std::vector<Reading> readings;
  readings.push_back(minimal(std::monostate()));
  readings.push_back(minimal(true));
  readings.push_back(minimal(std::int64_t{-42}));
  readings.push_back(minimal(std::numeric_limits<std::int64_t>::min()));
  readings.push_back(minimal(1.0));
  readings.push_back(minimal(-0.0));
  readings.push_back(minimal(1e300));
  readings.push_back(minimal(9223372036854775808.0));
  readings.push_back(minimal(std::string()));
  readings.push_back(minimal(std::string("12")));  // a string that looks like a number
  readings.push_back(minimal(std::string("true")));
  readings.push_back(minimal(std::string("\"\\/\b\f\n\r\t\x01 é 😀 \xe2\x80\xa8")));
  Reading full;
  full.variable = "température_温度";
  full.value = 21.25;
  full.unit = "°C";
  full.time_ms = 253402300799999;
  full.group = "groupe \"1\"";
  full.location_json = R"({"type":"Point","coordinates":[-78.677328,35.770723]})";
  full.metadata_json = R"({"s":"q\"\\\n\u0001é","n":[1.5,-2,1e+300,null,true],"o":{}})";
  readings.push_back(full);
  full.time_ms = 0;
  full.location_json = R"({"lat":-90,"lng":180.0})";
  readings.push_back(full);
  for (const Reading& r : readings) {
    const std::string json = to_cloud_json(r);
    EXPECT_EQ(decode_back(json), r) << json;
    EXPECT_EQ(to_cloud_json(decode_back(json)), json);
  }
}

TEST(Encode, RandomDoublesRoundTripExactly) {
  std::mt19937_64 rng(20240101);
  int checked = 0;
  while (checked < 20000) {
    const std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const Reading r = minimal(d);
    const std::string json = to_cloud_json(r);
    const Reading back = decode_back(json);
    ASSERT_TRUE(std::holds_alternative<double>(back.value)) << json;
    ASSERT_EQ(std::get<double>(back.value), d) << json;
    ++checked;
  }
}

TEST(Encode, RandomTimesRoundTrip) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> time(0, 253402300799999);
  for (int i = 0; i < 2000; ++i) {
    Reading r = minimal(std::int64_t{i});
    r.time_ms = time(rng);
    ASSERT_EQ(decode_back(to_cloud_json(r)).time_ms, r.time_ms);
  }
}

}  // namespace
}  // namespace edgegw::decode
