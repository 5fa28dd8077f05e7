// SPDX-License-Identifier: Apache-2.0
#include "sim_config.h"

#include <gtest/gtest.h>

#include "edgegw/plugin_sdk.h"
#include "support/plugin_config_error.h"

namespace edgegw::plugins::simulator {
namespace {

using namespace std::chrono_literals;

std::string error_of(std::string_view json) {
  return testing::config_error([](std::string_view j) { return parse_config(j); }, json);
}

TEST(SimConfig, DefaultsAndEveryKey) {
  const SimConfig d = parse_config("{}");
  EXPECT_EQ(d.fleet.devices, 10u);
  EXPECT_EQ(d.fleet.key_pattern, "sim-{n}");
  EXPECT_EQ(d.fleet.variables.size(), 4u);
  EXPECT_EQ(d.rate, 1);
  EXPECT_EQ(d.count, 0u);

  const SimConfig c = parse_config(
      R"({"devices":500,"key_pattern":"truck-{n}","rate":0.5,"variables":["gps","counter"],
          "malformed":0.01,"seed":7,"burst":{"every":"30s","messages":20},"count":1000,
          "batch":50})");
  EXPECT_EQ(c.fleet.devices, 500u);
  EXPECT_EQ(c.fleet.key_pattern, "truck-{n}");
  EXPECT_EQ(c.rate, 0.5);
  ASSERT_EQ(c.fleet.variables.size(), 2u);
  EXPECT_EQ(c.fleet.variables[0], Waveform::kGps);
  EXPECT_EQ(c.fleet.malformed, 0.01);
  EXPECT_EQ(c.fleet.seed, 7u);
  EXPECT_EQ(c.burst_every, 30s);
  EXPECT_EQ(c.burst_messages, 20u);
  EXPECT_EQ(c.count, 1000u);
  EXPECT_EQ(c.batch, 50u);
}

TEST(SimConfig, ErrorsNameTheKey) {
  EXPECT_EQ(error_of("[]"), "config: expected an object");
  EXPECT_EQ(error_of(R"({"devices":0})"), "devices: 0 is out of range (1 .. 1000000)");
  EXPECT_EQ(error_of(R"({"devices":"ten"})"), "devices: expected a whole number");
  EXPECT_EQ(error_of(R"({"rate":-1})").rfind("rate: ", 0), 0u);
  EXPECT_EQ(error_of(R"({"malformed":2})").rfind("malformed: ", 0), 0u);
  EXPECT_EQ(error_of(R"({"variables":["temperature","humidity"]})"),
            "variables[1]: expected one of temperature, counter, switch, gps");
  EXPECT_EQ(error_of(R"({"burst":{"every":"1s"}})"),
            "burst: needs both every (> 0) and messages (> 0)");
  EXPECT_EQ(error_of(R"({"burst":{"every":"soon","messages":1}})"),
            "burst.every: expected a duration such as 500ms or 10s");
  EXPECT_EQ(error_of(R"({"devices":2,"key_pattern":"one"})"),
            "key_pattern: must contain {n} when devices > 1 (every device needs its own key)");
  EXPECT_EQ(error_of(R"({"device":2})").rfind("device: unknown key (known: devices, ", 0), 0u);
}

}  // namespace
}  // namespace edgegw::plugins::simulator
