// SPDX-License-Identifier: Apache-2.0
// The SDK's config helpers: every plugin reads durations as the gateway's config writes them.
#include "edgegw/plugin_config.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace edgegw::sdk {
namespace {

using namespace std::chrono_literals;

TEST(SdkConfig, DurationsAsTheGatewayWritesThem) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("10s"), 10s);
  EXPECT_EQ(parse_duration("5m"), 5min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_EQ(parse_duration("7d"), 168h);
  EXPECT_EQ(parse_duration("40"), 40ms);  // a bare number is milliseconds
}

TEST(SdkConfig, AnythingElseIsNoDuration) {
  for (const char* bad : {"", "s", "-1s", "1.5s", "10 s", "10sec", "1w", "99999999999999999s"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(SdkConfig, KindOfAValue) {
  const std::pair<const char*, const char*> cases[] = {
      {"null", "null"},     {"true", "a bool"},  {"7", "an integer"},
      {"-7", "an integer"}, {"1.5", "a number"}, {"\"x\"", "a string"},
      {"[1]", "an array"},  {"{}", "an object"}, {"18446744073709551615", "an integer"},
  };
  for (const auto& [json, kind] : cases) EXPECT_EQ(kind_of(boost::json::parse(json)), kind) << json;
}

}  // namespace
}  // namespace edgegw::sdk
