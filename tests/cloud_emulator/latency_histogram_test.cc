// SPDX-License-Identifier: Apache-2.0
#include "latency_histogram.h"

#include <gtest/gtest.h>

namespace edgegw::cloud_emulator {
namespace {

TEST(LatencyHistogram, ExactBelow128AndWithinTwoPercentAbove) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.5), 0u);
  for (int ms = 1; ms <= 100; ++ms) h.add(ms);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.percentile(0.5), 50u);
  EXPECT_EQ(h.percentile(0.99), 99u);
  EXPECT_EQ(h.percentile(1.0), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);

  LatencyHistogram big;
  for (std::int64_t ms : {1000, 5000, 123456, 30'000'000}) {
    big.clear();
    big.add(ms);
    big.add(ms * 2);  // the max caps the top bucket: ask for the lower value's bucket
    const auto p = big.percentile(0.5);
    EXPECT_GE(p, static_cast<std::uint64_t>(ms));
    EXPECT_LE(static_cast<double>(p), static_cast<double>(ms) * 1.016) << ms;
  }
}

TEST(LatencyHistogram, TailPercentilesAndEarlyReadings) {
  LatencyHistogram h;
  for (int i = 0; i < 998; ++i) h.add(200);
  h.add(900);
  h.add(5000);
  h.add(-3);
  EXPECT_EQ(h.early(), 1u);
  EXPECT_EQ(h.count(), 1000u);
  // 200 lies in the bucket 200..201 (two wide between 128 and 255): reported as its top.
  EXPECT_EQ(h.percentile(0.5), 201u);
  EXPECT_EQ(h.percentile(0.99), 201u);
  EXPECT_GE(h.percentile(0.999), 900u);
  EXPECT_LE(h.percentile(0.999), 914u);
  EXPECT_EQ(h.max(), 5000u);
  EXPECT_EQ(h.percentile(1.0), 5000u);
}

}  // namespace
}  // namespace edgegw::cloud_emulator
