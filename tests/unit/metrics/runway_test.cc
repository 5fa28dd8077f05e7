// SPDX-License-Identifier: Apache-2.0
// The runway estimate: rates over the window, time to drain the backlog, time until full.
#include "metrics/runway.h"

#include <gtest/gtest.h>

#include <cmath>

namespace edgegw::metrics {
namespace {

using std::chrono::seconds;
constexpr double kInf = std::numeric_limits<double>::infinity();

Runway::Sample at(int s, std::uint64_t appended, std::uint64_t drained, std::uint64_t bytes) {
  return {Runway::Clock::time_point(seconds(1000 + s)), appended, drained, bytes};
}

TEST(Runway, NoRatesBeforeTwoSamples) {
  Runway r;
  Runway::Estimate e = r.estimate(0, 0, 1000);
  EXPECT_EQ(e.ingest_per_second, 0);
  EXPECT_EQ(e.drain_per_second, 0);
  EXPECT_EQ(e.time_to_drain_seconds, 0);  // empty: nothing to drain
  EXPECT_EQ(e.time_to_full_seconds, kInf);
  r.add(at(0, 100, 50, 500));
  e = r.estimate(50, 500, 1000);
  EXPECT_EQ(e.ingest_per_second, 0);
  EXPECT_EQ(e.time_to_drain_seconds, kInf);  // readings wait, nothing seen leaving yet
}

TEST(Runway, SteadyFlowDrainsTheBacklogAndNeverFills) {
  Runway r;
  for (int s = 0; s <= 10; ++s) r.add(at(s, 1000u * s, 1000u * s, 4000));
  const Runway::Estimate e = r.estimate(400, 4000, 1'000'000);
  EXPECT_DOUBLE_EQ(e.ingest_per_second, 1000);
  EXPECT_DOUBLE_EQ(e.drain_per_second, 1000);
  EXPECT_DOUBLE_EQ(e.time_to_drain_seconds, 0.4);
  EXPECT_EQ(e.time_to_full_seconds, kInf);
}

TEST(Runway, UplinkDownFillsAtTheIngestRate) {
  Runway r;
  // 100 readings of 100 bytes a second come in, none leave.
  for (int s = 0; s <= 20; ++s) r.add(at(s, 100u * s, 0, 10'000u * s));
  const Runway::Estimate e = r.estimate(2000, 200'000, 1'200'000);
  EXPECT_DOUBLE_EQ(e.ingest_per_second, 100);
  EXPECT_EQ(e.drain_per_second, 0);
  EXPECT_EQ(e.time_to_drain_seconds, kInf);
  EXPECT_DOUBLE_EQ(e.time_to_full_seconds, 100);  // 1,000,000 free bytes at 10,000 B/s
}

TEST(Runway, FullIsZeroSecondsAway) {
  Runway r;
  r.add(at(0, 0, 0, 900));
  r.add(at(1, 10, 0, 1000));
  EXPECT_EQ(r.estimate(10, 1000, 1000).time_to_full_seconds, 0);
}

TEST(Runway, RatesSpanOnlyTheWindow) {
  Runway r(seconds(10));
  // A burst long ago, then a quiet 20 s: the rate is that of the last 10 s.
  r.add(at(0, 0, 0, 0));
  r.add(at(1, 100'000, 100'000, 0));
  for (int s = 2; s <= 21; ++s) r.add(at(s, 100'000u + 5u * (s - 1), 100'000u + 5u * (s - 1), 0));
  const Runway::Estimate e = r.estimate(0, 0, 1000);
  EXPECT_DOUBLE_EQ(e.ingest_per_second, 5);
  EXPECT_DOUBLE_EQ(e.drain_per_second, 5);
}

TEST(Runway, CatchingUpAfterAnOutage) {
  Runway r;
  // Draining 500/s while 100/s come in: a backlog of 4,000 takes 8 s at the drain rate.
  for (int s = 0; s <= 5; ++s) r.add(at(s, 100u * s, 500u * s, 1'000'000 - 40'000u * s));
  const Runway::Estimate e = r.estimate(4000, 800'000, 2'000'000);
  EXPECT_DOUBLE_EQ(e.drain_per_second, 500);
  EXPECT_DOUBLE_EQ(e.time_to_drain_seconds, 8);
  EXPECT_EQ(e.time_to_full_seconds, kInf);  // shrinking
}

TEST(Runway, ACounterGoingBackwardsStartsAfresh) {
  Runway r;
  r.add(at(0, 1000, 1000, 0));
  r.add(at(1, 2000, 2000, 0));
  r.add(at(2, 10, 10, 0));  // not monotonic: the old samples are meaningless
  EXPECT_EQ(r.estimate(0, 0, 10).ingest_per_second, 0);
  r.add(at(3, 20, 20, 0));
  EXPECT_DOUBLE_EQ(r.estimate(0, 0, 10).ingest_per_second, 10);
}

}  // namespace
}  // namespace edgegw::metrics
