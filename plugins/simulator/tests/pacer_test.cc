// SPDX-License-Identifier: Apache-2.0
#include "pacer.h"

#include <gtest/gtest.h>

namespace edgegw::plugins::simulator {
namespace {

using namespace std::chrono_literals;
using Clock = Pacer::Clock;

TEST(Pacer, SpreadsTheRateOverTime) {
  const Clock::time_point t0{};
  Pacer p(4, 0ms, 0, t0);
  EXPECT_EQ(p.take(t0), 0u);
  EXPECT_EQ(p.take(t0 + 250ms), 1u);
  EXPECT_EQ(p.take(t0 + 250ms), 0u);  // taken once
  EXPECT_EQ(p.take(t0 + 1s), 3u);
  EXPECT_EQ(p.next_due(), t0 + 1250ms);
  EXPECT_EQ(p.take(t0 + 10s), 36u);
}

TEST(Pacer, AddsABurstEveryPeriod) {
  const Clock::time_point t0{};
  Pacer p(4, 5s, 1000, t0);
  EXPECT_EQ(p.take(t0 + 4750ms), 19u);
  EXPECT_EQ(p.take(t0 + 5s), 1u + 1000u);
  EXPECT_EQ(p.take(t0 + 12s), 28u + 1000u);
}

TEST(Pacer, NothingBeforeTheStartAndNoneDueAtRateZero) {
  const Clock::time_point t0 = Clock::time_point{} + 1h;
  Pacer p(0, 0ms, 0, t0);
  EXPECT_EQ(p.take(t0 - 1s), 0u);
  EXPECT_EQ(p.take(t0 + 1h), 0u);
  EXPECT_EQ(p.next_due(), Clock::time_point::max());
}

}  // namespace
}  // namespace edgegw::plugins::simulator
