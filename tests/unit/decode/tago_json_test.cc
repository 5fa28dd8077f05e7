// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "decode/decoder.h"
#include "decode/validate.h"
#include "test_util.h"

namespace edgegw::decode {
namespace {

using testing::kNewYear2024Ms;
using testing::kReceiveMs;
using testing::tago;

// Decodes one item that must give exactly one valid reading.
Reading one(std::string_view payload) {
  const DecodeOutput out = tago(payload);
  EXPECT_FALSE(out.payload_rejected) << payload << ": " << out.first_error;
  EXPECT_EQ(out.invalid, 0u) << payload << ": " << out.first_error;
  EXPECT_EQ(out.readings.size(), 1u) << payload;
  return out.readings.empty() ? Reading{} : out.readings.front();
}

// Decodes one item that must be refused as invalid; returns the message.
std::string invalid(std::string_view payload) {
  const DecodeOutput out = tago(payload);
  EXPECT_FALSE(out.payload_rejected) << payload << ": " << out.first_error;
  EXPECT_EQ(out.invalid, 1u) << payload;
  EXPECT_TRUE(out.readings.empty()) << payload;
  return out.first_error;
}

// Decodes a payload that must be rejected as a whole; returns the message.
std::string rejected(std::string_view payload) {
  const DecodeOutput out = tago(payload);
  EXPECT_TRUE(out.payload_rejected) << payload;
  EXPECT_TRUE(out.readings.empty()) << payload;
  EXPECT_EQ(out.invalid, 0u) << payload;
  return out.first_error;
}

TEST(TagoJson, OneObjectWithEveryField) {
  const Reading r =
      one(R"({"variable":"Temperature","value":21.5,"unit":"°C","time":"2024-01-01T00:00:00Z",)"
          R"("group":"g1","location":{"lat":1,"lng":2},"metadata":{"a":1,"b":[true,null,"x"]},)"
          R"("extra":{"ignored":1},"id":"abc"})");
  EXPECT_EQ(r.variable, "temperature");
  EXPECT_EQ(r.value, Value(21.5));
  EXPECT_EQ(r.unit, "°C");
  EXPECT_EQ(r.time_ms, kNewYear2024Ms);
  EXPECT_EQ(r.group, "g1");
  EXPECT_EQ(r.location_json, R"({"lat":1,"lng":2})");
  EXPECT_EQ(r.metadata_json, R"({"a":1,"b":[true,null,"x"]})");
}

TEST(TagoJson, OnlyVariableGivesNoValueAndTheReceiveTime) {
  const Reading r = one(R"({"variable":"door_open"})");
  EXPECT_EQ(r.variable, "door_open");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.value));
  EXPECT_EQ(r.time_ms, kReceiveMs);
  EXPECT_TRUE(r.unit.empty());
  EXPECT_TRUE(r.group.empty());
  EXPECT_TRUE(r.location_json.empty());
  EXPECT_TRUE(r.metadata_json.empty());
}

TEST(TagoJson, NullFieldsAreAbsentFields) {
  const Reading r =
      one(R"({"variable":"a","value":null,"unit":null,"time":null,"group":null,"location":null,)"
          R"("metadata":null})");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.value));
  EXPECT_EQ(r.time_ms, kReceiveMs);
  EXPECT_TRUE(r.unit.empty() && r.group.empty() && r.location_json.empty() &&
              r.metadata_json.empty());
}

TEST(TagoJson, ArrayKeepsOrderAndCountsInvalidElements) {
  const DecodeOutput out =
      tago(R"([{"variable":"a","value":1},5,{"value":2},{"variable":"b-c","value":3},)"
           R"({"variable":"d","value":"x"}])");
  EXPECT_FALSE(out.payload_rejected);
  ASSERT_EQ(out.readings.size(), 2u);
  EXPECT_EQ(out.readings[0].variable, "a");
  EXPECT_EQ(out.readings[0].value, Value(std::int64_t{1}));
  EXPECT_EQ(out.readings[1].variable, "d");
  EXPECT_EQ(out.readings[1].value, Value(std::string("x")));
  EXPECT_EQ(out.invalid, 3u);
  EXPECT_EQ(out.first_error, "[1]: is a number, not an object");
}

TEST(TagoJson, ArrayMessagesSayWhichElement) {
  const DecodeOutput out =
      tago(R"([{"variable":"ok"},{"variable":"ok2"},{"variable":"tank-level"}])");
  EXPECT_EQ(out.readings.size(), 2u);
  EXPECT_EQ(out.first_error,
            R"([2].variable: "tank-level" holds '-' (the cloud forbids *?!<>.-=$ and spaces))");
  EXPECT_EQ(invalid(R"({"variable":"tank level"})"),
            R"(variable "tank level" holds a space (the cloud forbids *?!<>.-=$ and spaces))");
}

TEST(TagoJson, EmptyArrayIsNoReadingsAndNoRejection) {
  const DecodeOutput out = tago("[]");
  EXPECT_FALSE(out.payload_rejected);
  EXPECT_TRUE(out.readings.empty());
  EXPECT_EQ(out.invalid, 0u);
  EXPECT_TRUE(out.first_error.empty());
  EXPECT_FALSE(tago(" [ ] \n").payload_rejected);
}

TEST(TagoJson, VariableMissingWrongTypeOrEmpty) {
  EXPECT_EQ(invalid(R"({"value":1})"), "variable is missing");
  EXPECT_EQ(invalid(R"([{"variable":5}])"), "[0].variable: is a number, not a string");
  EXPECT_EQ(invalid(R"({"variable":""})"), "variable is empty");
  EXPECT_EQ(invalid(R"({"variable":null})"), "variable is null, not a string");
}

TEST(TagoJson, ValueTypes) {
  EXPECT_EQ(one(R"({"variable":"a","value":"on"})").value, Value(std::string("on")));
  EXPECT_EQ(one(R"({"variable":"a","value":"21.5"})").value, Value(std::string("21.5")));
  EXPECT_EQ(one(R"({"variable":"a","value":true})").value, Value(true));
  EXPECT_EQ(one(R"({"variable":"a","value":false})").value, Value(false));
  EXPECT_EQ(one(R"({"variable":"a","value":-7})").value, Value(std::int64_t{-7}));
  EXPECT_EQ(one(R"({"variable":"a","value":1.0})").value, Value(1.0));
  EXPECT_EQ(one(R"({"variable":"a","value":-0})").value, Value(std::int64_t{0}));
  EXPECT_EQ(one(R"({"variable":"a","value":""})").value, Value(std::string()));
  EXPECT_EQ(invalid(R"({"variable":"a","value":{"x":1}})"),
            "value is an object, not a string, number or bool");
  EXPECT_EQ(invalid(R"([{"variable":"a","value":[1,2]}])"),
            "[0].value: is an array, not a string, number or bool");
}

TEST(TagoJson, IntegersThatFitInt64StayExact) {
  EXPECT_EQ(one(R"({"variable":"a","value":9007199254740993})").value,
            Value(std::int64_t{9007199254740993}));
  EXPECT_EQ(one(R"({"variable":"a","value":9223372036854775807})").value,
            Value(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(one(R"({"variable":"a","value":-9223372036854775808})").value,
            Value(std::numeric_limits<std::int64_t>::min()));
}

TEST(TagoJson, IntegersBeyondInt64BecomeDoubles) {
  EXPECT_EQ(one(R"({"variable":"a","value":9223372036854775808})").value,
            Value(9223372036854775808.0));
  EXPECT_EQ(one(R"({"variable":"a","value":18446744073709551615})").value,
            Value(18446744073709551615.0));
  EXPECT_EQ(one(R"({"variable":"a","value":18446744073709551616})").value,
            Value(18446744073709551616.0));
  EXPECT_EQ(one(R"({"variable":"a","value":-9223372036854775809})").value,
            Value(-9223372036854775809.0));
  EXPECT_EQ(one(R"({"variable":"a","value":123456789012345678901234567890})").value,
            Value(123456789012345678901234567890.0));
}

TEST(TagoJson, DoublesAreCorrectlyRounded) {
  // Boost.JSON 1.81 alone reads several of these one ulp off.
  for (const char* text :
       {"0.1", "21.5", "-273.15", "1.3927926388013963e-143", "5.409760742964738e+124",
        "6.689921856898562e-217", "1.7976931348623157e308", "5e-324", "2.2250738585072011e-308",
        "0.30000000000000004", "123456.78901234567"}) {
    double expected = 0;
    std::from_chars(text, text + std::strlen(text), expected);
    const Reading r = one(std::string(R"({"variable":"a","value":)") + text + "}");
    EXPECT_EQ(r.value, Value(expected)) << text;
  }
}

TEST(TagoJson, NumbersTooLargeForADoubleAreInvalidReadings) {
  // Boost.JSON reads 1e400 as infinity; the cloud's JSON cannot carry it.
  const std::string msg = invalid(R"({"variable":"a","value":1e400})");
  EXPECT_EQ(msg, "value is a number too large for a double (it overflows to infinity)");
  invalid(R"({"variable":"a","value":-1e400})");
  invalid(R"({"variable":"a","value":1.7976931348623159e308})");
  EXPECT_EQ(invalid(R"({"variable":"a","metadata":{"x":[1e400]}})"),
            "metadata holds a number too large for a double");
  EXPECT_EQ(invalid(R"({"variable":"a","time":1e400})"),
            "time a number too large for a double is not a Unix timestamp (seconds or "
            "milliseconds, 1970..9999)");
  // Underflow is zero, as in any JSON parser.
  EXPECT_EQ(one(R"({"variable":"a","value":1e-400})").value, Value(0.0));
  // The others of the payload are kept.
  const DecodeOutput out = tago(R"([{"variable":"a","value":1e400},{"variable":"b","value":2}])");
  EXPECT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.invalid, 1u);
}

TEST(TagoJson, ExponentTooLargeToParseIsRejected) {
  EXPECT_NE(rejected(R"({"variable":"a","value":1e99999999999})").find("not JSON"),
            std::string::npos);
}

TEST(TagoJson, NanAndInfinityAreNotJson) {
  for (const char* p :
       {R"({"variable":"a","value":NaN})", R"({"variable":"a","value":nan})",
        R"({"variable":"a","value":Infinity})", R"({"variable":"a","value":-Infinity})"}) {
    const std::string msg = rejected(p);
    EXPECT_EQ(msg.rfind("not JSON: ", 0), 0u) << msg;
  }
}

TEST(TagoJson, DeepNestingIsACleanRejection) {
  const std::string deep(100000, '[');
  const std::string msg = rejected(deep);
  EXPECT_NE(msg.find("nested more than 32 levels"), std::string::npos) << msg;
  const std::string deep_meta =
      R"({"variable":"a","metadata":)" + std::string(40, '[') + std::string(40, ']') + "}";
  rejected(deep_meta);
  // 32 levels are allowed: an array of arrays is one invalid element, not a rejection.
  const DecodeOutput at_limit = tago(std::string(32, '[') + std::string(32, ']'));
  EXPECT_FALSE(at_limit.payload_rejected) << at_limit.first_error;
  EXPECT_EQ(at_limit.invalid, 1u);
  rejected(std::string(33, '[') + std::string(33, ']'));
}

TEST(TagoJson, NotJsonOrWrongShapeIsRejected) {
  EXPECT_EQ(rejected(R"("hello")"), "payload is a string, not a JSON object or array");
  EXPECT_EQ(rejected("42"), "payload is a number, not a JSON object or array");
  EXPECT_EQ(rejected("true"), "payload is a bool, not a JSON object or array");
  EXPECT_EQ(rejected("null"), "payload is null, not a JSON object or array");
  EXPECT_EQ(rejected(R"({"variable":"a"} x)"), "not JSON: extra data at byte 17");
  rejected(R"({"variable":"a",})");
  rejected(R"([{"variable":"a"},])");
  rejected(R"({"variable":"a"} // comment)");
  rejected(R"({'variable':'a'})");
  rejected(R"({"variable":"a")");
  rejected("   ");
  rejected("temperature=21.5");
}

TEST(TagoJson, TimeForms) {
  auto time_of = [](std::string_view t) {
    return one(std::string(R"({"variable":"a","time":)") + std::string(t) + "}").time_ms;
  };
  EXPECT_EQ(time_of(R"("2024-01-01T00:00:00Z")"), kNewYear2024Ms);
  EXPECT_EQ(time_of(R"("2024-01-01T00:00:00.123Z")"), kNewYear2024Ms + 123);
  EXPECT_EQ(time_of(R"("2024-01-01T02:00:00+02:00")"), kNewYear2024Ms);
  EXPECT_EQ(time_of(R"("2024-01-01 00:00:00")"), kNewYear2024Ms);
  EXPECT_EQ(time_of(R"("2024-01-01")"), kNewYear2024Ms);
  EXPECT_EQ(time_of(R"("1704067200")"), kNewYear2024Ms);
  EXPECT_EQ(time_of("1704067200"), kNewYear2024Ms);           // seconds
  EXPECT_EQ(time_of("1704067200123"), kNewYear2024Ms + 123);  // milliseconds
  EXPECT_EQ(time_of("1704067200.5"), kNewYear2024Ms + 500);
  EXPECT_EQ(time_of("0"), 0);
  EXPECT_EQ(time_of(R"("9999-12-31T23:59:59.999Z")"), 253402300799999);
}

TEST(TagoJson, BadTimesAreInvalid) {
  EXPECT_EQ(invalid(R"({"variable":"a","time":"yesterday"})"),
            R"(time "yesterday" is not an ISO 8601 time or a Unix timestamp)");
  EXPECT_EQ(invalid(R"({"variable":"a","time":-5})"),
            "time -5 is not a Unix timestamp (seconds or milliseconds, 1970..9999)");
  EXPECT_EQ(invalid(R"({"variable":"a","time":true})"),
            "time is a bool, not an ISO 8601 string or a Unix timestamp");
  invalid(R"({"variable":"a","time":"2024-13-01T00:00:00Z"})");
  invalid(R"({"variable":"a","time":"1969-12-31T23:59:59Z"})");
  invalid(R"({"variable":"a","time":1e300})");
  // A zone offset that moves the time past year 9999.
  EXPECT_EQ(invalid(R"({"variable":"a","time":"9999-12-31T23:30:00-01:00"})"),
            "time is outside the years 1970..9999");
}

TEST(TagoJson, GroupAndItsOldNameSerie) {
  EXPECT_EQ(one(R"({"variable":"a","serie":"s1"})").group, "s1");
  EXPECT_EQ(one(R"({"variable":"a","serie":"s1","group":"g1"})").group, "g1");
  EXPECT_EQ(one(R"({"variable":"a","group":"g1","serie":"s1"})").group, "g1");
  EXPECT_EQ(one(R"({"variable":"a","group":null,"serie":"s1"})").group, "s1");
  EXPECT_EQ(invalid(R"({"variable":"a","group":5})"), "group is a number, not a string");
  EXPECT_EQ(invalid(R"({"variable":"a","serie":[]})"), "serie is an array, not a string");
  EXPECT_EQ(invalid(R"({"variable":"a","unit":1})"), "unit is a number, not a string");
}

TEST(TagoJson, LocationForms) {
  EXPECT_EQ(one(R"({"variable":"a","location":{ "lat" : 35.770723 , "lng" : -78.677328 }})")
                .location_json,
            R"({"lat":35.770723,"lng":-78.677328})");
  EXPECT_EQ(
      one(R"({"variable":"a","location":{"type":"Point","coordinates":[-78.677328,35.770723]}})")
          .location_json,
      R"({"type":"Point","coordinates":[-78.677328,35.770723]})");
  EXPECT_EQ(one(R"({"variable":"a","location":{"lat":-90,"lng":180}})").location_json,
            R"({"lat":-90,"lng":180})");
  EXPECT_EQ(one(R"({"variable":"a","location":{"lat":90.0,"lng":-180.0}})").location_json,
            R"({"lat":90.0,"lng":-180.0})");
}

TEST(TagoJson, BadLocationsAreInvalid) {
  EXPECT_EQ(invalid(R"([{"variable":"a","location":{"lat":91,"lng":0}}])"),
            "[0].location: lat 91 is outside -90..90");
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"lat":-90.5,"lng":0}})"),
            "location lat -90.5 is outside -90..90");
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"lat":0,"lng":180.0001}})"),
            "location lng 180.0001 is outside -180..180");
  // GeoJSON order is [lng, lat]: 100 is a fine longitude but not a latitude.
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"type":"Point","coordinates":[0,100]}})"),
            "location lat 100 is outside -90..90");
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"lat":1e400,"lng":0}})"),
            "location lat a number too large for a double is outside -90..90");
  const std::string needs = R"(location needs numbers "lat" and "lng", or is a GeoJSON Point)";
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"lat":1}})"), needs);
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"lat":"1","lng":"2"}})"), needs);
  EXPECT_EQ(invalid(R"({"variable":"a","location":{}})"), needs);
  EXPECT_EQ(invalid(R"({"variable":"a","location":"35.7,-78.6"})"),
            "location is a string, not an object");
  EXPECT_EQ(invalid(R"({"variable":"a","location":[1,2]})"), "location is an array, not an object");
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"type":"LineString","coordinates":[1,2]}})"),
            R"(location has a "type" that is not "Point" (a GeoJSON Point is accepted))");
  const std::string coords =
      R"(location is a GeoJSON Point whose "coordinates" are not [lng, lat])";
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"type":"Point","coordinates":[1]}})"), coords);
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"type":"Point","coordinates":[1,2,3]}})"),
            coords);
  EXPECT_EQ(invalid(R"({"variable":"a","location":{"type":"Point"}})"), coords);
}

TEST(TagoJson, MetadataMustBeAnObject) {
  EXPECT_EQ(invalid(R"([{"variable":"a","metadata":[1]}])"),
            "[0].metadata: is an array, not an object");
  EXPECT_EQ(invalid(R"({"variable":"a","metadata":"x"})"), "metadata is a string, not an object");
  EXPECT_EQ(invalid(R"({"variable":"a","metadata":5})"), "metadata is a number, not an object");
  EXPECT_EQ(one(R"({"variable":"a","metadata":{}})").metadata_json, "{}");
  EXPECT_EQ(one(R"({"variable":"a","metadata":{ "s" : "q\"\\\n\u0001é" , "n" : [ 1.50 , -2 ] }})")
                .metadata_json,
            R"({"s":"q\"\\\n\u0001é","n":[1.5,-2]})");
}

TEST(TagoJson, MetadataAtTheLimitAndOnePast) {
  // {"k":"xxx…"}: 8 bytes of syntax around the string.
  const std::string at_limit(kMaxMetadataBytes - 8, 'x');
  const Reading r = one(R"({"variable":"a","metadata":{"k":")" + at_limit + R"("}})");
  EXPECT_EQ(r.metadata_json.size(), 10240u);
  const std::string past(kMaxMetadataBytes - 7, 'x');
  EXPECT_EQ(invalid(R"({"variable":"a","metadata":{"k":")" + past + R"("}})"),
            "metadata is 10241 bytes as JSON (the cloud allows 10 kB, 10240 bytes)");
}

TEST(TagoJson, Unicode) {
  const Reading r =
      one(R"({"variable":"Température_ÉTÉ","value":"🌡️ chaud","unit":"°C"})");
  EXPECT_EQ(r.variable, "température_ÉtÉ");  // ASCII letters only are lower-cased
  EXPECT_EQ(r.value, Value(std::string("🌡️ chaud")));
  // Escapes, including a surrogate pair.
  EXPECT_EQ(one(R"({"variable":"caf\u00e9","value":"\u00e9\ud83d\ude00\n\"\\\/"})").value,
            Value(std::string("é😀\n\"\\/")));
  EXPECT_EQ(one(R"({"variable":"caf\u00e9"})").variable, "café");
  // 中文 variables are fine too.
  EXPECT_EQ(one(R"({"variable":"温度","value":1})").variable, "温度");
}

TEST(TagoJson, EscapedBadUnicodeIsRejectedOrInvalid) {
  rejected(R"({"variable":"a","value":"\ud800"})");     // lone high surrogate
  rejected(R"({"variable":"a","value":"\udc00"})");     // lone low surrogate
  rejected(R"({"variable":"a","value":"\ud800x"})");    // high surrogate, then not a low one
  rejected(R"({"variable":"a","value":"\u12"})");       // truncated escape
  rejected("{\"variable\":\"a\",\"value\":\"a\tb\"}");  // raw control character in a string
  EXPECT_EQ(invalid(R"({"variable":"a\u0001b"})"),
            R"(variable "a\u0001b" holds a control character (U+0001))");
  EXPECT_EQ(invalid(R"({"variable":"a\u0085"})"),
            "variable \"a\xc2\x85\" holds a control character (U+0085)");
}

TEST(TagoJson, InvalidUtf8IsRejected) {
  for (const std::string bad :
       {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xff", "\xf4\x90\x80\x80"}) {
    const std::string msg = rejected(R"({"variable":"a","value":")" + bad + R"("})");
    EXPECT_EQ(msg, "payload is not valid UTF-8 (at byte 25)");
  }
}

TEST(TagoJson, OneMegabyteOfReadings) {
  std::string payload = "[";
  std::size_t n = 0;
  while (payload.size() < 1024 * 1024) {
    if (n > 0) payload += ',';
    payload += R"({"variable":"temperature_)" + std::to_string(n % 50) + R"(","value":)" +
               std::to_string(n) + R"(.25,"unit":"C","time":"2024-01-01T00:00:00Z"})";
    ++n;
  }
  payload += ']';
  const DecodeOutput out = tago(payload);
  EXPECT_FALSE(out.payload_rejected);
  EXPECT_EQ(out.invalid, 0u);
  ASSERT_EQ(out.readings.size(), n);
  EXPECT_EQ(out.readings.back().value, Value(static_cast<double>(n - 1) + 0.25));
  EXPECT_EQ(out.readings[7].variable, "temperature_7");
}

TEST(TagoJson, OneMegabyteStringValueIsInvalid) {
  const std::string big(1024 * 1024, 'v');
  const DecodeOutput out =
      tago(R"([{"variable":"blob","value":")" + big + R"("},{"variable":"small","value":1}])");
  EXPECT_FALSE(out.payload_rejected);
  EXPECT_EQ(out.invalid, 1u);
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].variable, "small");
  EXPECT_EQ(out.first_error,
            "[0].value: is a string of 1048576 bytes (the cloud allows 6 kB, 6144 bytes)");
}

TEST(TagoJson, ValueAtTheLimitAndOnePast) {
  const std::string at(6144, 'a');
  EXPECT_EQ(one(R"({"variable":"a","value":")" + at + R"("})").value, Value(at));
  invalid(R"({"variable":"a","value":")" + at + R"(b"})");
  // The limit is in bytes: 3072 two-byte characters fit, one more does not.
  std::string e_acute;
  for (int i = 0; i < 3072; ++i) e_acute += "é";
  one(R"({"variable":"a","value":")" + e_acute + R"("})");
  invalid(R"({"variable":"a","value":")" + e_acute + R"(é"})");
}

TEST(TagoJson, DuplicateKeysTheLastWins) {
  EXPECT_EQ(one(R"({"variable":"a","variable":"b"})").variable, "b");
}

TEST(TagoJson, ParserReuseAcrossManyMessages) {
  // The per-thread parser and memory are reused: alternate big, bad and small payloads.
  for (int i = 0; i < 200; ++i) {
    if (i % 3 == 0) {
      rejected(std::string(i + 40, '['));
    } else if (i % 3 == 1) {
      std::string payload = "[";
      for (int k = 0; k < i; ++k) {
        payload +=
            R"({"variable":"v)" + std::to_string(k) + R"(","value":)" + std::to_string(k) + "},";
      }
      payload += R"({"variable":"last","metadata":{"i":)" + std::to_string(i) + "}}]";
      const DecodeOutput out = tago(payload);
      ASSERT_EQ(out.readings.size(), static_cast<std::size_t>(i + 1)) << out.first_error;
      EXPECT_EQ(out.readings.back().metadata_json, R"({"i":)" + std::to_string(i) + "}");
    } else {
      EXPECT_EQ(one(R"({"variable":"x","value":)" + std::to_string(i) + "}").value,
                Value(std::int64_t{i}));
    }
  }
}

}  // namespace
}  // namespace edgegw::decode
