// SPDX-License-Identifier: Apache-2.0
// SeqSet: the interval set behind the duplicate and order statistics.
#include "seq_set.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <set>

namespace edgegw::cloud_emulator {
namespace {

TEST(SeqSet, InOrderIsOneInterval) {
  SeqSet s;
  for (int i = 1; i <= 1000; ++i) EXPECT_TRUE(s.insert(i));
  EXPECT_EQ(s.intervals(), 1U);
  EXPECT_EQ(s.size(), 1000U);
  EXPECT_EQ(s.missing(), 0U);
  EXPECT_FALSE(s.insert(500));
  EXPECT_FALSE(s.insert(1));
  EXPECT_FALSE(s.insert(1000));
}

TEST(SeqSet, GapsJoinWhenFilled) {
  SeqSet s;
  EXPECT_TRUE(s.insert(10));
  EXPECT_TRUE(s.insert(12));
  EXPECT_TRUE(s.insert(5));
  EXPECT_EQ(s.intervals(), 3U);
  EXPECT_EQ(s.missing(), 5U);  // 6..9, 11
  EXPECT_TRUE(s.insert(11));
  EXPECT_EQ(s.intervals(), 2U);
  for (int i = 6; i <= 9; ++i) EXPECT_TRUE(s.insert(i));
  EXPECT_EQ(s.intervals(), 1U);
  EXPECT_EQ(s.min(), 5);
  EXPECT_EQ(s.max(), 12);
  EXPECT_TRUE(s.insert(4));
  EXPECT_TRUE(s.contains(4));
  EXPECT_FALSE(s.contains(3));
  EXPECT_FALSE(s.contains(13));
}

TEST(SeqSet, ExtremesDoNotOverflow) {
  SeqSet s;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  EXPECT_TRUE(s.insert(kMax));
  EXPECT_TRUE(s.insert(kMax - 1));
  EXPECT_FALSE(s.insert(kMax));
  EXPECT_TRUE(s.insert(kMin));
  EXPECT_TRUE(s.insert(kMin + 1));
  EXPECT_EQ(s.intervals(), 2U);
}

TEST(SeqSet, MatchesAStdSetOnRandomInput) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> dist(0, 300);
  SeqSet s;
  std::set<std::int64_t> reference;
  for (int i = 0; i < 5000; ++i) {
    const int v = dist(rng);
    EXPECT_EQ(s.insert(v), reference.insert(v).second) << v;
  }
  EXPECT_EQ(s.size(), reference.size());
  for (int v = -1; v <= 301; ++v) EXPECT_EQ(s.contains(v), reference.count(v) == 1) << v;
  std::size_t intervals = 0;
  std::int64_t prev = -10;
  for (auto v : reference) {
    if (v != prev + 1) ++intervals;
    prev = v;
  }
  EXPECT_EQ(s.intervals(), intervals);
}

}  // namespace
}  // namespace edgegw::cloud_emulator
