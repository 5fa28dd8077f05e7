// SPDX-License-Identifier: Apache-2.0
#include "decode/validate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace edgegw::decode {
namespace {

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

Reading good() {
  Reading r;
  r.variable = "temperature";
  r.value = 21.5;
  r.time_ms = 1704067200000;
  return r;
}

TEST(VariableName, GoodNames) {
  for (const std::string name : {"temperature", "Tank_Level", "a", "温度", "température", "x1",
                                 "a/b", "a:b", "a#b", "a@b", "a_b_c", "🌡"}) {
    EXPECT_EQ(variable_name_problem(name), std::nullopt) << name;
  }
}

TEST(VariableName, EachForbiddenCharacter) {
  EXPECT_EQ(variable_name_problem("tank-level"),
            R"(variable "tank-level" holds '-' (the cloud forbids *?!<>.-=$ and spaces))");
  EXPECT_EQ(variable_name_problem("tank level"),
            R"(variable "tank level" holds a space (the cloud forbids *?!<>.-=$ and spaces))");
  for (const char c : std::string_view("*?!<>.-=$")) {
    const std::string name = std::string("a") + c + "b";
    const auto problem = variable_name_problem(name);
    ASSERT_TRUE(problem) << name;
    EXPECT_NE(problem->find(std::string("holds '") + c + "'"), std::string::npos) << *problem;
  }
}

TEST(VariableName, EmptyControlAndNotUtf8) {
  EXPECT_EQ(variable_name_problem(""), "variable is empty");
  EXPECT_EQ(variable_name_problem("a\tb"),
            R"(variable "a\u0009b" holds a control character (U+0009))");
  EXPECT_EQ(variable_name_problem(std::string("a\0b", 3)),
            R"(variable "a\u0000b" holds a control character (U+0000))");
  EXPECT_EQ(variable_name_problem("a\x7f"),
            R"(variable "a\u007f" holds a control character (U+007F))");
  EXPECT_TRUE(variable_name_problem("a\xc2\x9f"));              // U+009F, a C1 control
  EXPECT_EQ(variable_name_problem("a\xc2\xa0"), std::nullopt);  // U+00A0 is not a control
  EXPECT_EQ(variable_name_problem("a\xffz"), R"(variable "a\xffz" is not valid UTF-8)");
}

TEST(VariableName, LengthInCharactersAtTheLimitAndOnePast) {
  EXPECT_EQ(variable_name_problem(std::string(100, 'a')), std::nullopt);
  EXPECT_EQ(variable_name_problem(repeat("é", 100)), std::nullopt);  // 200 bytes, 100 chars
  EXPECT_EQ(variable_name_problem(repeat("😀", 100)), std::nullopt);  // 400 bytes
  EXPECT_EQ(
      variable_name_problem(std::string(101, 'a')),
      "variable \"" + std::string(40, 'a') + "...\" is 101 characters (the cloud allows 100)");
  EXPECT_TRUE(variable_name_problem(repeat("é", 101)));
}

TEST(VariableName, QuotesAreEscapedAndShort) {
  const auto problem = variable_name_problem("a\"b\\c\nd-" + std::string(500, 'x'));
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->substr(0, 22), R"(variable "a\"b\\c\nd-x)");
  EXPECT_LT(problem->size(), 120u);
  // Truncation never cuts a character in two.
  const auto cut = variable_name_problem(repeat("é", 60) + "-");
  ASSERT_TRUE(cut);
  EXPECT_TRUE(is_valid_utf8(*cut));
  EXPECT_NE(cut->find(repeat("é", 40) + "...\""), std::string::npos);
}

TEST(Normalize, LowerCasesAsciiOnly) {
  Reading r = good();
  r.variable = "TEMP_ÉTÉ_Ünï";
  EXPECT_EQ(normalize(r), std::nullopt);
  EXPECT_EQ(r.variable, "temp_ÉtÉ_Ünï");
}

TEST(Normalize, GoodReadingIsUnchanged) {
  Reading r = good();
  r.unit = "°C";
  r.group = "g1";
  r.location_json = R"({"lat":1,"lng":2})";
  r.metadata_json = R"({"a":1})";
  const Reading before = r;
  EXPECT_EQ(normalize(r), std::nullopt);
  EXPECT_EQ(r, before);
}

TEST(Normalize, BadVariable) {
  Reading r = good();
  r.variable = "Tank-Level";
  EXPECT_EQ(normalize(r),
            R"(variable "tank-level" holds '-' (the cloud forbids *?!<>.-=$ and spaces))");
}

TEST(Normalize, UnitAtTheLimitAndOnePast) {
  Reading r = good();
  r.unit = repeat("°", 25);
  EXPECT_EQ(normalize(r), std::nullopt);
  r.unit += "C";
  EXPECT_EQ(normalize(r),
            "unit \"" + repeat("°", 25) + "C\" is 26 characters (the cloud allows 25)");
}

TEST(Normalize, GroupAtTheLimitAndOnePast) {
  Reading r = good();
  r.group = std::string(100, 'g');
  EXPECT_EQ(normalize(r), std::nullopt);
  r.group += 'g';
  EXPECT_EQ(normalize(r),
            "group \"" + std::string(40, 'g') + "...\" is 101 characters (the cloud allows 100)");
}

TEST(Normalize, StringValueAtTheLimitAndOnePast) {
  Reading r = good();
  r.value = std::string(kMaxValueBytes, 'v');
  EXPECT_EQ(normalize(r), std::nullopt);
  r.value = std::string(kMaxValueBytes + 1, 'v');
  EXPECT_EQ(normalize(r), "value is a string of 6145 bytes (the cloud allows 6 kB, 6144 bytes)");
  r.value = std::string("\xed\xa0\x80");
  EXPECT_EQ(normalize(r), "value is not valid UTF-8");
}

TEST(Normalize, NonFiniteDoubles) {
  Reading r = good();
  for (const double d :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity()}) {
    r.value = d;
    EXPECT_EQ(normalize(r), "value is not a finite number (the cloud's JSON cannot carry it)");
  }
  r.value = std::numeric_limits<double>::max();
  EXPECT_EQ(normalize(r), std::nullopt);
}

TEST(Normalize, MetadataAtTheLimitAndOnePast) {
  Reading r = good();
  r.metadata_json = R"({"k":")" + std::string(kMaxMetadataBytes - 8, 'm') + R"("})";
  ASSERT_EQ(r.metadata_json.size(), kMaxMetadataBytes);
  EXPECT_EQ(normalize(r), std::nullopt);
  r.metadata_json = R"({"k":")" + std::string(kMaxMetadataBytes - 7, 'm') + R"("})";
  EXPECT_EQ(normalize(r), "metadata is 10241 bytes as JSON (the cloud allows 10 kB, 10240 bytes)");
  r.metadata_json = "[1]";
  EXPECT_EQ(normalize(r), "metadata is not a JSON object");
}

TEST(Normalize, TimeRange) {
  Reading r = good();
  r.time_ms = 0;
  EXPECT_EQ(normalize(r), std::nullopt);
  r.time_ms = 253402300799999;  // 9999-12-31T23:59:59.999Z
  EXPECT_EQ(normalize(r), std::nullopt);
  r.time_ms = 253402300800000;
  EXPECT_EQ(normalize(r), "time is outside the years 1970..9999");
  r.time_ms = -1;
  EXPECT_EQ(normalize(r), "time is outside the years 1970..9999");
}

TEST(Normalize, LocationMustBeAnObject) {
  Reading r = good();
  r.location_json = "[1,2]";
  EXPECT_EQ(normalize(r), "location is not a JSON object");
}

TEST(Utf8, WellFormed) {
  for (const std::string s :
       {"", "plain ascii", "é", "€", "😀", "\xf4\x8f\xbf\xbf" /* U+10FFFF */,
        "\xed\x9f\xbf" /* U+D7FF */, "\xee\x80\x80" /* U+E000 */, "abcdefghijklmnopé😀xyz"}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
  }
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));  // NUL is valid UTF-8
}

TEST(Utf8, IllFormed) {
  for (const std::string s : {
           "\xc0\xaf",          // overlong '/'
           "\xc1\xbf",          // overlong
           "\xe0\x80\xaf",      // overlong, three bytes
           "\xf0\x80\x80\xaf",  // overlong, four bytes
           "\xed\xa0\x80",      // U+D800, a lone surrogate
           "\xed\xbf\xbf",      // U+DFFF
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xe2\x82",          // truncated euro sign
           "\xf0\x9f\x98",      // truncated emoji
           "\x80",              // lone continuation byte
           "\xff",
           "\xfe",
           "\xf8\x88\x80\x80\x80",
           "abc\xe2\x82",
           "\xc3",
           "a\xc3(b",
       }) {
    EXPECT_FALSE(is_valid_utf8(s)) << ::testing::PrintToString(s);
  }
  // The bad byte past an eight-byte ASCII run.
  std::string long_ascii(17, 'a');
  EXPECT_TRUE(is_valid_utf8(long_ascii));
  long_ascii += '\xff';
  EXPECT_FALSE(is_valid_utf8(long_ascii));
  long_ascii = std::string(8, 'a') + "\xe2\x82\xac" + std::string(8, 'b') + "\xe2";
  EXPECT_FALSE(is_valid_utf8(long_ascii));
}

}  // namespace
}  // namespace edgegw::decode
