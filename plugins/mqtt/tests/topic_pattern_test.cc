// SPDX-License-Identifier: Apache-2.0
#include "topic_pattern.h"

#include <gtest/gtest.h>

namespace edgegw::plugins::mqtt {
namespace {

TopicPattern parse_ok(std::string_view text) {
  std::string error;
  auto p = TopicPattern::parse(text, &error);
  EXPECT_TRUE(p.has_value()) << text << ": " << error;
  return p.value_or(*TopicPattern::parse("x", nullptr));
}

std::string parse_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(TopicPattern::parse(text, &error).has_value()) << text;
  return error;
}

TEST(TopicPattern, CapturesBecomeSingleLevelWildcards) {
  const TopicPattern p = parse_ok("sensors/{device}/data/{variable}");
  EXPECT_EQ(p.filter(), "sensors/+/data/+");
  EXPECT_TRUE(p.captures_device());
  const auto m = p.match("sensors/boiler-1/data/temp");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->device, "boiler-1");
  EXPECT_EQ(m->variable, "temp");
}

TEST(TopicPattern, MatchesOnlyTopicsOfTheSameShape) {
  const TopicPattern p = parse_ok("sensors/{device}/data");
  EXPECT_FALSE(p.match("sensors/b1"));
  EXPECT_FALSE(p.match("sensors/b1/data/extra"));
  EXPECT_FALSE(p.match("other/b1/data"));
  EXPECT_FALSE(p.match("sensors/b1/dat"));
  ASSERT_TRUE(p.match("sensors//data"));  // an empty level is a level (the host refuses "")
  EXPECT_EQ(p.match("sensors//data")->device, "");
}

TEST(TopicPattern, MultiLevelWildcardAtTheEnd) {
  const TopicPattern p = parse_ok("plant/{device}/#");
  EXPECT_EQ(p.filter(), "plant/+/#");
  EXPECT_EQ(p.match("plant/press-7/a/b/c")->device, "press-7");
  EXPECT_EQ(p.match("plant/press-7")->device, "press-7");  // "#" also matches its parent
  EXPECT_FALSE(p.match("plant"));
  EXPECT_NE(parse_error("plant/#/x").find("last level"), std::string::npos);
}

TEST(TopicPattern, SharedSubscriptionKeepsItsPrefixInTheFilterOnly) {
  const TopicPattern p = parse_ok("$share/edge/sensors/{device}/data");
  EXPECT_EQ(p.filter(), "$share/edge/sensors/+/data");
  EXPECT_EQ(p.match("sensors/b7/data")->device, "b7");
  EXPECT_FALSE(p.match("$share/edge/sensors/b7/data"));
  EXPECT_FALSE(parse_error("$share/edge").empty());
  EXPECT_FALSE(parse_error("$share//x").empty());
  EXPECT_FALSE(parse_error("$share/a+b/x").empty());
}

TEST(TopicPattern, RefusesMalformedLevels) {
  EXPECT_FALSE(parse_error("").empty());
  EXPECT_NE(parse_error("a/b+/c").find("nothing else"), std::string::npos);
  EXPECT_NE(parse_error("a/{dev}/c").find("unknown capture"), std::string::npos);
  EXPECT_NE(parse_error("a/x{device}/c").find("unknown capture"), std::string::npos);
  EXPECT_NE(parse_error("{device}/{device}").find("twice"), std::string::npos);
}

TEST(TopicPattern, PlainWildcardsMatchWithoutCapturing) {
  const TopicPattern p = parse_ok("+/{device}");
  EXPECT_EQ(p.filter(), "+/+");
  EXPECT_EQ(p.match("site-a/b1")->device, "b1");
}

}  // namespace
}  // namespace edgegw::plugins::mqtt
