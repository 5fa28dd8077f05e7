// SPDX-License-Identifier: Apache-2.0
// BodyScanner: the one-pass parse and rule check behind POST /data.
#include "body_scan.h"

#include <gtest/gtest.h>

namespace edgegw::cloud_emulator {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

class BodyScanTest : public ::testing::Test {
 protected:
  // The 400 message, or "" when the body is accepted.
  std::string problem(const std::string& body) { return scanner_.scan(body, kNow).value_or(""); }
  const ScannedItem& one(const std::string& item) {
    auto p = scanner_.scan("[" + item + "]", kNow);
    EXPECT_FALSE(p.has_value()) << *p;
    EXPECT_EQ(scanner_.items().size(), 1U);
    return scanner_.items().at(0);
  }
  BodyScanner scanner_;
};

TEST_F(BodyScanTest, ShapesOfTheBody) {
  EXPECT_EQ(problem(R"({"variable":"t"})"), "");
  EXPECT_EQ(scanner_.items().size(), 1U);
  EXPECT_EQ(problem(R"([{"variable":"a"},{"variable":"b"}])"), "");
  EXPECT_EQ(scanner_.items().size(), 2U);
  EXPECT_EQ(problem("[]"), "");
  EXPECT_EQ(scanner_.items().size(), 0U);
  EXPECT_EQ(problem("42"), "The body must be a data item or an array of data items");
  EXPECT_EQ(problem("null"), "The body must be a data item or an array of data items");
  EXPECT_EQ(problem(R"([{"variable":"a"},[1]])"),
            "Invalid data item at index 1: a data item must be a JSON object");
  EXPECT_EQ(problem(R"([{"variable":"a"},"b"])"),
            "Invalid data item at index 1: a data item must be a JSON object");
  EXPECT_TRUE(problem(R"([{"variable":"a"})").starts_with("Invalid JSON body: "));
  EXPECT_TRUE(problem(R"({"variable":"a"} x)").starts_with("Invalid JSON body: "));
  EXPECT_TRUE(problem("").starts_with("Invalid JSON body: "));
}

TEST_F(BodyScanTest, VariableRules) {
  EXPECT_EQ(one(R"({"variable":"Temp_1"})").variable, "temp_1");
  EXPECT_EQ(problem(R"([{"value":1}])"), "Invalid data item at index 0: variable is required");
  EXPECT_EQ(problem(R"([{"variable":null}])"),
            "Invalid data item at index 0: variable is required");
  EXPECT_EQ(problem(R"([{"variable":""}])"),
            "Invalid data item at index 0: variable is required (it is empty)");
  EXPECT_EQ(problem(R"([{"variable":["a"]}])"),
            "Invalid data item at index 0: variable must be a string");
  EXPECT_EQ(problem(R"([{"variable":"a.b"}])"),
            "Invalid data item at index 0: variable \"a.b\" holds '.' (not allowed: *?!<>.-=$ "
            "and spaces)");
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "é";  // 100 characters, 200 bytes
  EXPECT_EQ(one(R"({"variable":")" + hundred + R"("})").variable, hundred);
  EXPECT_NE(problem(R"([{"variable":")" + hundred + R"(x"}])").find("is 101 characters"),
            std::string::npos);
  // Escaped names are unescaped first.
  EXPECT_EQ(one(R"({"variable":"\u0041b"})").variable, "ab");
}

TEST_F(BodyScanTest, ProblemsAreReportedInAFixedOrder) {
  // The unit comes first in the text, the variable rule is still the one reported.
  EXPECT_EQ(problem(R"([{"unit":")" + std::string(30, 'u') + R"(","variable":"a b"}])")
                .find("variable \"a b\" holds a space"),
            std::string("Invalid data item at index 0: ").size());
}

TEST_F(BodyScanTest, ValueUnitGroupTime) {
  const auto& a =
      one(R"({"variable":"t","value":21.5,"unit":"C","group":"g","time":"2024-01-01T00:00:00Z"})");
  EXPECT_TRUE(a.has_value);
  EXPECT_EQ(a.number, 21.5);
  EXPECT_TRUE(a.has_group);
  EXPECT_EQ(a.group, "g");
  EXPECT_EQ(a.time_ms, 1'704'067'200'000);
  const auto& b = one(R"({"variable":"t","value":"on","time":1704067200})");
  EXPECT_TRUE(b.has_value);
  EXPECT_FALSE(b.number.has_value());
  EXPECT_EQ(b.time_ms, 1'704'067'200'000);
  const auto& c = one(R"({"variable":"t","value":null,"time":null,"unit":null,"group":null})");
  EXPECT_FALSE(c.has_value);
  EXPECT_FALSE(c.has_group);
  EXPECT_EQ(c.time_ms, kNow);
  EXPECT_TRUE(one(R"({"variable":"t","value":false})").has_value);
  EXPECT_EQ(one(R"({"variable":"t","serie":"s"})").group, "s");
  EXPECT_EQ(one(R"({"variable":"t","group":"g","serie":"s"})").group, "g");
  EXPECT_EQ(one(R"({"variable":"t","serie":"s","group":"g"})").group, "g");

  EXPECT_EQ(problem(R"([{"variable":"t","value":")" + std::string(6144, 'x') + R"("}])"), "");
  EXPECT_NE(problem(R"([{"variable":"t","value":")" + std::string(6145, 'x') + R"("}])"), "");
  EXPECT_NE(problem(R"([{"variable":"t","value":[1]}])").find("value must be"), std::string::npos);
  EXPECT_NE(problem(R"([{"variable":"t","unit":5}])").find("unit must be a string"),
            std::string::npos);
  EXPECT_NE(problem(R"([{"variable":"t","group":{}}])").find("group must be a string"),
            std::string::npos);
  EXPECT_NE(problem(R"([{"variable":"t","time":"soon"}])").find("time \"soon\" is not a valid"),
            std::string::npos);
  EXPECT_NE(problem(R"([{"variable":"t","time":-5}])").find("Unix timestamp"), std::string::npos);
  EXPECT_NE(problem(R"([{"variable":"t","time":true}])").find("time must be"), std::string::npos);
  // Unknown fields are ignored, whatever they hold.
  EXPECT_EQ(problem(R"([{"variable":"t","extra":{"value":[{"variable":""}]}}])"), "");
}

TEST_F(BodyScanTest, Location) {
  EXPECT_TRUE(one(R"({"variable":"t","location":{"lat":1,"lng":2}})").has_location);
  EXPECT_TRUE(one(R"({"variable":"t","location":{"lat":1,"lng":2,"alt":{"m":3}}})").has_location);
  EXPECT_TRUE(
      one(R"({"variable":"t","location":{"type":"Point","coordinates":[2.5,1]}})").has_location);
  EXPECT_FALSE(one(R"({"variable":"t","location":null})").has_location);
  for (const char* bad :
       {R"({"lat":1})", R"({"lat":"1","lng":2})", R"({"type":"Point","coordinates":[1]})",
        R"({"type":"Point","coordinates":[1,2,3]})", R"({"type":"Line","coordinates":[1,2]})",
        R"({"type":"Point","coordinates":[[1],2]})", R"([1,2])", R"("here")"}) {
    EXPECT_NE(problem(std::string(R"([{"variable":"t","location":)") + bad + "}]").find("location"),
              std::string::npos)
        << bad;
  }
}

TEST_F(BodyScanTest, MetadataSizeAndSeq) {
  // Exactly 10240 bytes as compact JSON: {"a":"<n>"} is n + 8.
  const std::string at_limit =
      R"({"variable":"t","metadata":{"a":")" + std::string(10232, 'm') + R"("}})";
  EXPECT_EQ(problem("[" + at_limit + "]"), "");
  const std::string over =
      R"({"variable":"t","metadata":{"a":")" + std::string(10233, 'm') + R"("}})";
  EXPECT_NE(problem("[" + over + "]").find("metadata is 10241 bytes"), std::string::npos);
  // Escapes count as written: "\n" is 2 bytes, "\u0001" 6; whitespace does not count.
  const std::string escaped =
      R"({"variable":"t","metadata":  { "a" : ")" + std::string(10226, 'm') + R"(\n\u0001" } })";
  EXPECT_NE(problem("[" + escaped + "]").find("metadata is 10242 bytes"), std::string::npos);
  // Nested containers and numbers count too.
  const std::string nested = R"({"variable":"t","metadata":{"a":[1,{"b":true}],"c":null}})";
  EXPECT_EQ(problem("[" + nested + "]"), "");
  EXPECT_NE(problem(R"([{"variable":"t","metadata":[1]}])").find("metadata must be a JSON object"),
            std::string::npos);

  EXPECT_EQ(one(R"({"variable":"t","metadata":{"seq":42}})").seq, 42);
  EXPECT_EQ(one(R"({"variable":"t","metadata":{"x":1,"seq":9007199254740000}})").seq,
            9007199254740000);
  EXPECT_EQ(one(R"({"variable":"t","metadata":{"seq":7.0}})").seq, 7);
  EXPECT_FALSE(one(R"({"variable":"t","metadata":{"seq":7.5}})").seq.has_value());
  EXPECT_FALSE(one(R"({"variable":"t","metadata":{"seq":"7"}})").seq.has_value());
  EXPECT_FALSE(one(R"({"variable":"t","metadata":{"in":{"seq":7}}})").seq.has_value());
  EXPECT_FALSE(one(R"({"variable":"t","metadata":{"seq":[7]}})").seq.has_value());
  EXPECT_FALSE(one(R"({"variable":"t","seq":7})").seq.has_value());
}

TEST_F(BodyScanTest, ScannerIsReusable) {
  EXPECT_NE(problem(R"([{"variable":"a b"}])"), "");
  EXPECT_EQ(problem(R"([{"variable":"ok","metadata":{"seq":1}}])"), "");
  ASSERT_EQ(scanner_.items().size(), 1U);
  EXPECT_EQ(scanner_.items()[0].seq, 1);
  EXPECT_NE(problem(R"([{"variable":"ok"},)"), "");
  EXPECT_EQ(problem(R"({"variable":"ok"})"), "");
}

}  // namespace
}  // namespace edgegw::cloud_emulator
