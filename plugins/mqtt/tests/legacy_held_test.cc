// SPDX-License-Identifier: Apache-2.0
// Messages an edgegw before 0.2 kept at a stop (legacy_held.h): read in arrival order, damaged
// files reported and left alone.
#include "legacy_held.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "support/subprocess.h"

namespace edgegw::plugins::mqtt {
namespace {

// A held file as edgegw 0.1 wrote it: magic, three length-prefixed fields, the time.
std::string held_file(std::string_view device, std::string_view variable, std::string_view payload,
                      std::int64_t time_ms) {
  std::string out = "edgegw-held-1\n";
  for (std::string_view field : {device, variable, payload}) {
    const auto n = static_cast<std::uint32_t>(field.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out.append(field);
  }
  out.append(reinterpret_cast<const char*>(&time_ms), sizeof time_ms);
  return out;
}

TEST(MqttLegacyHeld, LoadsInArrivalOrderAndReportsDamage) {
  edgegw::testing::TempDir dir;
  dir.write("held/00000000000000000002", held_file("dev-1", "", "{\"v\":2}", 2000), 0600);
  dir.write("held/00000000000000000001", held_file("dev-1", "temp", "{\"v\":1}", 1000), 0600);
  dir.write("held/00000000000000000003", held_file("dev-2", "", "x", 3).substr(0, 20), 0600);
  dir.write("held/notes.txt", "not a held message", 0600);
  std::vector<std::string> problems;
  const auto held = load_held(dir.path() + "/held", problems);
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].variable, "temp");
  EXPECT_EQ(held[0].receive_time_ms, 1000);
  EXPECT_EQ(held[1].payload, "{\"v\":2}");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("00000000000000000003: truncated"), std::string::npos);
  forget_held(held[0]);
  EXPECT_FALSE(std::filesystem::exists(held[0].path));
  EXPECT_TRUE(load_held(dir.path() + "/nothing-here", problems).empty());
}

}  // namespace
}  // namespace edgegw::plugins::mqtt
