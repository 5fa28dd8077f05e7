// SPDX-License-Identifier: Apache-2.0
#include "ingest/mapping.h"

#include "support/tokens.h"

#include <gtest/gtest.h>

#include <limits>

namespace edgegw::ingest {
namespace {

Reading reading(std::string variable, Value value, std::string unit = "") {
  Reading r;
  r.variable = std::move(variable);
  r.value = std::move(value);
  r.unit = std::move(unit);
  return r;
}

config::VariableMapping mapping(std::string rename, std::optional<std::string> unit, double scale,
                                double offset) {
  config::VariableMapping m;
  m.rename = std::move(rename);
  m.unit = std::move(unit);
  m.scale = scale;
  m.offset = offset;
  return m;
}

TEST(Mapping, RenamesSetsUnitAndScalesDoubles) {
  Reading r = reading("temp", 215.0, "dC");
  EXPECT_FALSE(apply(mapping("temperature", "C", 0.1, 1.0), r));
  EXPECT_EQ(r.variable, "temperature");
  EXPECT_EQ(r.unit, "C");
  EXPECT_DOUBLE_EQ(std::get<double>(r.value), 22.5);
}

TEST(Mapping, Int64StaysExactWithoutScale) {
  const std::int64_t big = 9007199254740993;  // not representable as a double
  Reading r = reading("count", big);
  EXPECT_FALSE(apply(mapping("total", std::nullopt, 1.0, 0.0), r));
  EXPECT_EQ(std::get<std::int64_t>(r.value), big);
  EXPECT_EQ(r.variable, "total");
  EXPECT_EQ(r.unit, "");
}

TEST(Mapping, Int64IsScaledAsADouble) {
  Reading r = reading("raw", std::int64_t{250});
  EXPECT_FALSE(apply(mapping("", std::nullopt, 0.1, -5.0), r));
  EXPECT_DOUBLE_EQ(std::get<double>(r.value), 20.0);
}

TEST(Mapping, StringsAndBooleansAreNotScaled) {
  Reading s = reading("state", std::string("on"));
  Reading b = reading("flag", true);
  EXPECT_FALSE(apply(mapping("", std::nullopt, 2.0, 1.0), s));
  EXPECT_FALSE(apply(mapping("", std::nullopt, 2.0, 1.0), b));
  EXPECT_EQ(std::get<std::string>(s.value), "on");
  EXPECT_EQ(std::get<bool>(b.value), true);
}

TEST(Mapping, OverflowIsRefused) {
  Reading r = reading("x", std::numeric_limits<double>::max());
  EXPECT_EQ(apply(mapping("", std::nullopt, 10.0, 0.0), r),
            "value: scale/offset give a number out of range");
}

TEST(MappingTable, FindsConfiguredDevicesAndTheDefault) {
  std::vector<config::DeviceConfig> devices(2);
  devices[0].key = "boiler-1";
  devices[0].variables["temp"] = mapping("temperature", "C", 1.0, 0.0);
  devices[1].key = "press-7";
  const MappingTable reject(devices, {3, 4}, std::nullopt);
  ASSERT_NE(reject.find("boiler-1"), nullptr);
  EXPECT_EQ(reject.find("boiler-1")->id, 3u);
  EXPECT_EQ(reject.find("boiler-1")->variables.count("temp"), 1u);
  EXPECT_EQ(reject.find("press-7")->id, 4u);
  EXPECT_EQ(reject.find("nobody"), nullptr);

  const MappingTable catch_all(devices, {3, 4}, buffer::DeviceId{9});
  ASSERT_NE(catch_all.find("nobody"), nullptr);
  EXPECT_EQ(catch_all.find("nobody")->id, 9u);
  EXPECT_TRUE(catch_all.find("nobody")->variables.empty());
}

TEST(MappingTable, AuthenticatesCloudAndLocalTokensOfConfiguredDevices) {
  std::vector<config::DeviceConfig> devices(2);
  devices[0].key = "boiler-1";
  devices[0].token = config::Secret(testing::fake_token(1));
  devices[0].local_token = config::Secret(testing::fake_token(11));
  devices[1].key = "press-7";
  devices[1].token = config::Secret(testing::fake_token(2));
  const MappingTable table(devices, {3, 4}, buffer::DeviceId{9});
  for (long long n : {1, 11}) {
    const TokenOwner* owner = table.authenticate(testing::fake_token(n));
    ASSERT_NE(owner, nullptr) << n;
    EXPECT_EQ(owner->key, "boiler-1");
    EXPECT_EQ(owner->id, 3u);
  }
  ASSERT_NE(table.authenticate(testing::fake_token(2)), nullptr);
  EXPECT_EQ(table.authenticate(testing::fake_token(2))->key, "press-7");
  EXPECT_EQ(table.authenticate(testing::fake_token(3)), nullptr);
  EXPECT_EQ(table.authenticate(testing::fake_token(1).substr(0, 35)), nullptr);  // a prefix
  EXPECT_EQ(table.authenticate(testing::fake_token(1) + "0"), nullptr);
  EXPECT_EQ(table.authenticate(""), nullptr);
  // The catch-all device has no key to answer for.
  EXPECT_EQ(table.find_configured("nobody"), nullptr);
  ASSERT_NE(table.find_configured("press-7"), nullptr);
}

TEST(MappingTable, SwapsAtomically) {
  Mapping m;
  EXPECT_EQ(m.load(), nullptr);
  auto table = std::make_shared<const MappingTable>(std::vector<config::DeviceConfig>{},
                                                    std::vector<buffer::DeviceId>{}, 1u);
  m.store(table);
  EXPECT_EQ(m.load(), table);
}

}  // namespace
}  // namespace edgegw::ingest
