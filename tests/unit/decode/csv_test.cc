// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "decode/decoder.h"
#include "test_util.h"

namespace edgegw::decode {
namespace {

using testing::csv;
using testing::kNewYear2024Ms;
using testing::kReceiveMs;

Value value_of(std::string_view line) {
  const DecodeOutput out = csv(line);
  EXPECT_FALSE(out.payload_rejected) << line;
  EXPECT_EQ(out.invalid, 0u) << line << ": " << out.first_error;
  EXPECT_EQ(out.readings.size(), 1u) << line;
  return out.readings.empty() ? Value() : out.readings[0].value;
}

std::string invalid(std::string_view payload) {
  const DecodeOutput out = csv(payload);
  EXPECT_FALSE(out.payload_rejected) << payload;
  EXPECT_EQ(out.invalid, 1u) << payload;
  EXPECT_TRUE(out.readings.empty()) << payload;
  return out.first_error;
}

TEST(Csv, LinesWithTypedValues) {
  const DecodeOutput out =
      csv("Temp,21.5,C\nhum,40\nok,true\nname,hello world\nneg,-3,,2024-01-01T00:00:00Z\n");
  EXPECT_FALSE(out.payload_rejected);
  EXPECT_EQ(out.invalid, 0u) << out.first_error;
  ASSERT_EQ(out.readings.size(), 5u);
  EXPECT_EQ(out.readings[0].variable, "temp");
  EXPECT_EQ(out.readings[0].value, Value(21.5));
  EXPECT_EQ(out.readings[0].unit, "C");
  EXPECT_EQ(out.readings[0].time_ms, kReceiveMs);
  EXPECT_EQ(out.readings[1].value, Value(std::int64_t{40}));
  EXPECT_TRUE(out.readings[1].unit.empty());
  EXPECT_EQ(out.readings[2].value, Value(true));
  EXPECT_EQ(out.readings[3].value, Value(std::string("hello world")));
  EXPECT_EQ(out.readings[4].value, Value(std::int64_t{-3}));
  EXPECT_TRUE(out.readings[4].unit.empty());
  EXPECT_EQ(out.readings[4].time_ms, kNewYear2024Ms);
}

TEST(Csv, CrlfBlankLinesCommentsAndNoFinalNewline) {
  const DecodeOutput out = csv("# sensor dump\r\n\r\na,1\r\n   \r\n  # indented comment\nb,2,kPa");
  EXPECT_EQ(out.invalid, 0u) << out.first_error;
  ASSERT_EQ(out.readings.size(), 2u);
  EXPECT_EQ(out.readings[0].value, Value(std::int64_t{1}));
  EXPECT_EQ(out.readings[1].unit, "kPa");
}

TEST(Csv, MessagesNameTheLine) {
  EXPECT_EQ(invalid("# header comment\n\nbad-name,1\n"),
            R"(line 3: variable "bad-name" holds '-' (the cloud forbids *?!<>.-=$ and spaces))");
  const DecodeOutput out = csv("a,1\r\nb,2\r\nc\r\nd,4\r\n");
  EXPECT_EQ(out.readings.size(), 3u);
  EXPECT_EQ(out.first_error, "line 3: has 1 field (needs variable,value[,unit[,time]])");
}

TEST(Csv, HeaderLineIsSkipped) {
  for (const char* p : {"variable,value,unit,time\ntemp,1\n", "Variable,Value\ntemp,1\n",
                        "# c\n\"variable\",\"value\"\ntemp,1\n"}) {
    const DecodeOutput out = csv(p);
    EXPECT_EQ(out.invalid, 0u) << p;
    ASSERT_EQ(out.readings.size(), 1u) << p;
    EXPECT_EQ(out.readings[0].variable, "temp");
  }
  // Only the first line can be a header.
  const DecodeOutput out = csv("temp,1\nvariable,value\n");
  ASSERT_EQ(out.readings.size(), 2u);
  EXPECT_EQ(out.readings[1].value, Value(std::string("value")));
}

TEST(Csv, QuotedFields) {
  EXPECT_EQ(value_of(R"("temp","21.5")"), Value(std::string("21.5")));  // quoted stays a string
  EXPECT_EQ(value_of(R"(temp,"true")"), Value(std::string("true")));
  EXPECT_EQ(value_of(R"(temp,"a,b")"), Value(std::string("a,b")));
  EXPECT_EQ(value_of(R"(temp,"say ""hi""")"), Value(std::string(R"(say "hi")")));
  EXPECT_EQ(value_of(R"(temp, "spaced" ,"u")"), Value(std::string("spaced")));
  EXPECT_EQ(value_of("temp,\"two\r\nlines\"\r\n"), Value(std::string("two\r\nlines")));
  const DecodeOutput out = csv(R"("te""mp",1,"k""g")");
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].variable, "te\"mp");
  EXPECT_EQ(out.readings[0].unit, "k\"g");
}

TEST(Csv, QuotedNewlinesCountTowardsLineNumbers) {
  const DecodeOutput out = csv("a,\"1\n2\n3\"\nb-c,1\n");
  EXPECT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.first_error.rfind("line 4: variable \"b-c\"", 0), 0u) << out.first_error;
}

TEST(Csv, BadQuoting) {
  EXPECT_EQ(invalid("a,\"open\nb,2\n"), "line 1: has a quoted field that is not closed");
  const DecodeOutput out = csv("a,\"x\"y\nb,2\n");
  EXPECT_EQ(out.invalid, 1u);
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].variable, "b");
  EXPECT_EQ(out.first_error, "line 1: field 2 has text after its closing quote");
}

TEST(Csv, FieldCounts) {
  EXPECT_EQ(invalid("a,1,u,2024-01-01,x\n"),
            "line 1: has 5 fields (at most 4: variable,value,unit,time)");
  EXPECT_EQ(invalid("a,1,u,2024-01-01,x,y,z,w\n"),
            "line 1: has 8 fields (at most 4: variable,value,unit,time)");
  EXPECT_EQ(invalid("a\n"), "line 1: has 1 field (needs variable,value[,unit[,time]])");
  EXPECT_EQ(invalid(",1\n"), "line 1: variable is empty");
  EXPECT_EQ(invalid("a,\n"), "line 1: value is empty");
  EXPECT_EQ(invalid("a,\"\"\n"), "line 1: value is empty");
  EXPECT_EQ(invalid("a,  \n"), "line 1: value is empty");
}

TEST(Csv, NonFiniteAndHugeNumbersAreRefused) {
  for (const char* v : {"nan", "NaN", "inf", "-inf", "Infinity", "+inf"}) {
    const std::string msg = invalid(std::string("a,") + v);
    EXPECT_NE(msg.find("is not a finite number"), std::string::npos) << msg;
  }
  EXPECT_EQ(invalid("a,1e400"), R"(line 1: value "1e400" is beyond the range of a double)");
  EXPECT_EQ(invalid("a,-1e400"), R"(line 1: value "-1e400" is beyond the range of a double)");
  EXPECT_EQ(invalid("a," + std::string(400, '9')).find("is beyond the range"), 60u);
  EXPECT_EQ(value_of("a,1e-400"), Value(0.0));
  EXPECT_EQ(value_of("a,0.0000000000000000000000000000000000000000000000000000000000000000000000"
                     "0000000000000000000000000000000000000000000000000000000000000000000000000000"
                     "0000000000000000000000000000000000000000000000000000000000000000000000000000"
                     "0000000000000000000000000000000000000000000000000000000000000000000000000000"
                     "000000000000000000000000000000000000000000000000000000001"),
            Value(0.0));
  // Words that merely start like nan or inf are strings.
  EXPECT_EQ(value_of("a,info"), Value(std::string("info")));
  EXPECT_EQ(value_of("a,nano"), Value(std::string("nano")));
}

TEST(Csv, NumberTyping) {
  EXPECT_EQ(value_of("a,9223372036854775807"), Value(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(value_of("a,-9223372036854775808"), Value(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(value_of("a,9223372036854775808"), Value(9223372036854775808.0));
  EXPECT_EQ(value_of("a,18446744073709551616"), Value(18446744073709551616.0));
  EXPECT_EQ(value_of("a,-9223372036854775809"), Value(-9223372036854775809.0));
  EXPECT_EQ(value_of("a,9007199254740993"), Value(std::int64_t{9007199254740993}));
  EXPECT_EQ(value_of("a,+5"), Value(std::int64_t{5}));
  EXPECT_EQ(value_of("a,+21.5"), Value(21.5));
  EXPECT_EQ(value_of("a,007"), Value(std::int64_t{7}));
  EXPECT_EQ(value_of("a,1e3"), Value(1000.0));
  EXPECT_EQ(value_of("a,.5"), Value(0.5));
  EXPECT_EQ(value_of("a,0.1"), Value(0.1));
  EXPECT_EQ(value_of("a,-0"), Value(std::int64_t{0}));
  EXPECT_EQ(value_of("a,0x10"), Value(std::string("0x10")));
  EXPECT_EQ(value_of("a,1,5"), Value(std::int64_t{1}));  // "5" is the unit
  EXPECT_EQ(value_of("a,12abc"), Value(std::string("12abc")));
  EXPECT_EQ(value_of("a,-"), Value(std::string("-")));
  EXPECT_EQ(value_of("a,+-1"), Value(std::string("+-1")));
  EXPECT_EQ(value_of("a,True"), Value(std::string("True")));
  EXPECT_EQ(value_of("a,false"), Value(false));
}

TEST(Csv, SpacesAroundFieldsAreTrimmed) {
  const DecodeOutput out = csv("  temp , 21.5 ,\tC\t, 2024-01-01T00:00:00Z \n");
  ASSERT_EQ(out.readings.size(), 1u) << out.first_error;
  EXPECT_EQ(out.readings[0].variable, "temp");
  EXPECT_EQ(out.readings[0].value, Value(21.5));
  EXPECT_EQ(out.readings[0].unit, "C");
  EXPECT_EQ(out.readings[0].time_ms, kNewYear2024Ms);
}

TEST(Csv, TimeColumn) {
  const DecodeOutput out =
      csv("a,1,,2024-01-01T00:00:00Z\nb,1,,1704067200\nc,1,,1704067200123\nd,1,,\n"
          "e,1,,\"2024-01-01 00:00:00\"\n");
  ASSERT_EQ(out.readings.size(), 5u) << out.first_error;
  EXPECT_EQ(out.readings[0].time_ms, kNewYear2024Ms);
  EXPECT_EQ(out.readings[1].time_ms, kNewYear2024Ms);
  EXPECT_EQ(out.readings[2].time_ms, kNewYear2024Ms + 123);
  EXPECT_EQ(out.readings[3].time_ms, kReceiveMs);
  EXPECT_EQ(out.readings[4].time_ms, kNewYear2024Ms);
  EXPECT_EQ(invalid("a,1,C,soon\n"),
            R"(line 1: time "soon" is not an ISO 8601 time or a Unix timestamp)");
  invalid("a,1,C,-1\n");
  invalid("a,1,C,1e400\n");
}

TEST(Csv, UnitLimit) {
  const std::string unit25(25, 'u');
  EXPECT_EQ(csv("a,1," + unit25).readings.size(), 1u);
  EXPECT_EQ(invalid("a,1," + unit25 + "u"),
            R"(line 1: unit "uuuuuuuuuuuuuuuuuuuuuuuuuu" is 26 characters (the cloud allows 25))");
}

TEST(Csv, Unicode) {
  const DecodeOutput out = csv("Température,héllo 🌡,°C\n温度,\"引号,内\"\n");
  ASSERT_EQ(out.readings.size(), 2u) << out.first_error;
  EXPECT_EQ(out.readings[0].variable, "température");
  EXPECT_EQ(out.readings[0].value, Value(std::string("héllo 🌡")));
  EXPECT_EQ(out.readings[0].unit, "°C");
  EXPECT_EQ(out.readings[1].variable, "温度");
  EXPECT_EQ(out.readings[1].value, Value(std::string("引号,内")));
  EXPECT_TRUE(csv("a,\xc0\xaf\n").payload_rejected);
}

TEST(Csv, OneMegabyteOfLines) {
  std::string payload = "variable,value,unit\n";
  std::size_t n = 0;
  while (payload.size() < 1024 * 1024) {
    payload += "sensor_" + std::to_string(n % 100) + "," + std::to_string(n) + ".5,C\r\n";
    ++n;
  }
  const DecodeOutput out = csv(payload);
  EXPECT_EQ(out.invalid, 0u) << out.first_error;
  ASSERT_EQ(out.readings.size(), n);
  EXPECT_EQ(out.readings.back().value, Value(static_cast<double>(n - 1) + 0.5));
}

TEST(Csv, ValueLimitAndAOneMegabyteValue) {
  EXPECT_EQ(value_of("a," + std::string(6144, 'x')), Value(std::string(6144, 'x')));
  EXPECT_EQ(invalid("a," + std::string(6145, 'x')),
            "line 1: value is a string of 6145 bytes (the cloud allows 6 kB, 6144 bytes)");
  const DecodeOutput out = csv("a,\"" + std::string(1 << 20, 'x') + "\"\nb,1\n");
  EXPECT_EQ(out.invalid, 1u);
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].variable, "b");
}

}  // namespace
}  // namespace edgegw::decode
