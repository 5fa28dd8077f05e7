// SPDX-License-Identifier: Apache-2.0
#include "ingest/time_check.h"

#include <gtest/gtest.h>

namespace edgegw::ingest {
namespace {

constexpr std::int64_t kArrival = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
constexpr std::int64_t kMinute = 60'000;

TEST(ImplausibleTime, BeforeTwoThousandAlways) {
  const TimeRules rules;
  const auto unsynced = [] { return false; };
  EXPECT_EQ(implausible_time(0, kArrival, rules, unsynced),
            "its time 1970-01-01T00:00:00.000Z is before 2000");
  EXPECT_TRUE(implausible_time(kYear2000Ms - 1, kArrival, rules, unsynced));
  EXPECT_FALSE(implausible_time(kYear2000Ms, kArrival, rules, unsynced));
}

TEST(ImplausibleTime, AheadOfArrivalOnlyPastTheToleranceOfASynchronisedClock) {
  TimeRules rules;
  rules.future_tolerance_ms = 5 * kMinute;
  int asked = 0;
  const auto synced = [&] {
    ++asked;
    return true;
  };
  EXPECT_FALSE(implausible_time(kArrival + 5 * kMinute, kArrival, rules, synced));
  EXPECT_FALSE(implausible_time(kArrival - 365 * 24 * 60 * kMinute, kArrival, rules, synced));
  EXPECT_EQ(asked, 0) << "the clock is asked only for a time past the tolerance";
  EXPECT_EQ(implausible_time(kArrival + 5 * kMinute + 1, kArrival, rules, synced),
            "its time 2023-11-14T22:18:20.001Z is more than 5m (cloud.future_tolerance) after it "
            "arrived, at 2023-11-14T22:13:20.000Z");
  EXPECT_EQ(asked, 1);
  // An unsynchronised gateway cannot tell a device's good clock from its own bad one.
  EXPECT_FALSE(implausible_time(kArrival + 60 * kMinute, kArrival, rules, [] { return false; }));
}

TEST(WithOriginalTime, AddsOrReplacesTheKeyAndKeepsTheRest) {
  EXPECT_EQ(with_original_time("", 0), R"({"original_time":"1970-01-01T00:00:00.000Z"})");
  EXPECT_EQ(with_original_time(R"({"a":1,"original_time":"x"})", 0),
            R"({"a":1,"original_time":"1970-01-01T00:00:00.000Z"})");
  EXPECT_EQ(with_original_time(R"({"nested":{"b":[1,2]}})", kArrival),
            R"({"nested":{"b":[1,2]},"original_time":"2023-11-14T22:13:20.000Z"})");
}

TEST(ImplausibleTimes, CountedPerDeviceByAction) {
  ImplausibleTimes times;
  times.add(1, config::TimePolicy::kStamp);
  times.add(1, config::TimePolicy::kStamp);
  times.add(2, config::TimePolicy::kReject);
  times.add(2, config::TimePolicy::kKeep);
  const auto by_device = times.by_device();
  EXPECT_EQ(by_device.at(1).stamped, 2u);
  EXPECT_EQ(by_device.at(1).rejected, 0u);
  EXPECT_EQ(by_device.at(2).rejected, 1u);
  EXPECT_EQ(by_device.at(2).kept, 1u);
}

}  // namespace
}  // namespace edgegw::ingest
