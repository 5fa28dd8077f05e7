// SPDX-License-Identifier: Apache-2.0
// Frame checks (UTF-8, NUL) and taking the device key out of CSV and JSON lines.
#include "frame_check.h"

#include <gtest/gtest.h>

#include <string>

namespace edgegw::plugins::serial {
namespace {

using namespace std::string_literals;

TEST(FrameCheck, TextPassesNulAndBrokenUtf8AreCaught) {
  EXPECT_EQ(check_frame("temp,21.5,°C"), FrameProblem::kNone);
  EXPECT_EQ(check_frame("Zürich 東京 🙂 and a long ASCII tail of text"), FrameProblem::kNone);
  EXPECT_EQ(check_frame("a\0b"s), FrameProblem::kNul);
  EXPECT_EQ(check_frame("temp,\xff"), FrameProblem::kInvalidUtf8);
}

TEST(FrameCheck, Utf8EdgeCases) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("\x7f"));
  EXPECT_TRUE(is_valid_utf8("\xc2\x80"));                   // U+0080
  EXPECT_TRUE(is_valid_utf8("\xef\xbf\xbf"));               // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));           // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));                  // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));              // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));              // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));          // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));      // 5-byte form
  EXPECT_FALSE(is_valid_utf8("\x80"));                      // a lone continuation byte
  EXPECT_FALSE(is_valid_utf8("abc\xe2\x82"));               // truncated at the end
  EXPECT_FALSE(is_valid_utf8("abcdefgh\xe2\x82zzzzzzzz"));  // truncated in the middle
  // A multi-byte character right after the 8-byte fast path.
  EXPECT_TRUE(is_valid_utf8("abcdefgh\xe2\x82\xac"));
}

struct Split {
  bool ok = false;
  std::string device;
  std::string payload;
};

Split csv(std::string_view line, std::size_t column) {
  Split s;
  s.ok = take_csv_column(line, column, s.device, s.payload);
  return s;
}

Split json(std::string_view line, std::string_view key) {
  Split s;
  s.ok = take_json_key(line, key, s.device, s.payload);
  return s;
}

TEST(DeviceField, CsvColumnIsTakenOutOfTheLine) {
  Split s = csv("press-7,temp,21.5,C", 1);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "press-7");
  EXPECT_EQ(s.payload, "temp,21.5,C");

  s = csv("temp,21.5,press-7", 3);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "press-7");
  EXPECT_EQ(s.payload, "temp,21.5");

  s = csv("temp, press 7 ,21.5", 2);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "press 7");
  EXPECT_EQ(s.payload, "temp,21.5");

  s = csv("only", 1);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "only");
  EXPECT_EQ(s.payload, "");
}

TEST(DeviceField, CsvQuotedFields) {
  Split s = csv(R"("line ""A"", west",temp,"21,5")", 1);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, R"(line "A", west)");
  EXPECT_EQ(s.payload, R"(temp,"21,5")");

  s = csv(R"(temp,"a,b",dev-1)", 3);  // a comma inside quotes is no column boundary
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "dev-1");
  EXPECT_EQ(s.payload, R"(temp,"a,b")");
}

TEST(DeviceField, CsvLineWithoutTheColumnOrMalformed) {
  EXPECT_FALSE(csv("temp,21.5", 3).ok);
  EXPECT_FALSE(csv(R"("open,temp,1)", 1).ok);
  EXPECT_FALSE(csv(R"("dev"x,temp,1)", 1).ok);
}

TEST(DeviceField, JsonKeyIsTakenOutOfTheObject) {
  Split s = json(R"({"device":"press-7","temp":21.5})", "device");
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "press-7");
  EXPECT_EQ(s.payload, R"({"temp":21.5})");

  s = json(R"({"temp":21.5, "device" : "press-7" })", "device");
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "press-7");
  EXPECT_EQ(s.payload, R"({"temp":21.5 })");

  s = json(R"({"a":{"device":"inner","x":[1,"]}"]},"device":"outer","b":"}"})", "device");
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "outer");
  EXPECT_EQ(s.payload, R"({"a":{"device":"inner","x":[1,"]}"]},"b":"}"})");

  s = json(R"( {"device":"solo"} )", "device");
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "solo");
  EXPECT_EQ(s.payload, " {} ");

  s = json(R"({"id":42,"variable":"temp","value":1})", "id");  // a number names a device too
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "42");
  EXPECT_EQ(s.payload, R"({"variable":"temp","value":1})");
}

TEST(DeviceField, JsonEscapesInKeysAndValues) {
  Split s = json(R"({"dev\u0069ce":"pr\u00e9ss \"7\"","t":1})", "device");
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "pr\xc3\xa9ss \"7\"");
  EXPECT_EQ(s.payload, R"({"t":1})");
  s = json(R"({"device":"\ud83d\ude42"})", "device");
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.device, "\xf0\x9f\x99\x82");
  EXPECT_FALSE(json(R"({"device":"\ud83d"})", "device").ok);  // a lone surrogate
}

TEST(DeviceField, JsonWithoutAUsableKey) {
  EXPECT_FALSE(json(R"({"temp":1})", "device").ok);
  EXPECT_FALSE(json(R"({"device":null,"temp":1})", "device").ok);
  EXPECT_FALSE(json(R"({"device":{"id":1}})", "device").ok);
  EXPECT_FALSE(json(R"([{"device":"a"}])", "device").ok);
  EXPECT_FALSE(json(R"(temp,1)", "device").ok);
  EXPECT_FALSE(json(R"({"temp":"unterminated)", "device").ok);
  EXPECT_FALSE(json(R"({"temp" 1, "device":"a"})", "device").ok);
  EXPECT_FALSE(json("", "device").ok);
}

TEST(DeviceField, DeviceKeyRules) {
  EXPECT_TRUE(is_valid_device_key("press-7"));
  EXPECT_FALSE(is_valid_device_key(""));
  EXPECT_FALSE(is_valid_device_key("\x01unmapped"));
  EXPECT_FALSE(is_valid_device_key("a\tb"));
  EXPECT_FALSE(is_valid_device_key(std::string(257, 'a')));
  EXPECT_TRUE(is_valid_device_key(std::string(256, 'a')));
}

}  // namespace
}  // namespace edgegw::plugins::serial
