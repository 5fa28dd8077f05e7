// SPDX-License-Identifier: Apache-2.0
#include "core/cpus.h"

#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

namespace edgegw::core {
namespace {

TEST(Cpus, UsableCpusAreSortedAndCounted) {
  const std::vector<int> cpus = usable_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
  EXPECT_EQ(usable_cpu_count(), cpus.size());
}

// Pinning is per thread and inherited by threads started afterwards: done in a thread of its own
// so the test runner keeps its mask.
TEST(Cpus, PinningNarrowsTheMaskOfThisThreadAndItsChildren) {
  const std::vector<int> all = usable_cpus();
  std::vector<int> seen, inherited;
  bool pinned = false;
  std::thread([&] {
    pinned = pin_to_cpus({all.back()});
    seen = usable_cpus();
    std::thread([&] { inherited = usable_cpus(); }).join();
  }).join();
  ASSERT_TRUE(pinned);
  EXPECT_EQ(seen, std::vector<int>{all.back()});
  EXPECT_EQ(inherited, std::vector<int>{all.back()});
  EXPECT_EQ(usable_cpus(), all);
}

TEST(Cpus, AnEmptyOrImpossibleSetChangesNothing) {
  const std::vector<int> before = usable_cpus();
  EXPECT_FALSE(pin_to_cpus({}));
  EXPECT_FALSE(pin_to_cpus({-1, 100000}));
  EXPECT_EQ(usable_cpus(), before);
}

}  // namespace
}  // namespace edgegw::core
