// SPDX-License-Identifier: Apache-2.0
#include "core/bug.h"

#include <gtest/gtest.h>

#include <string>

namespace edgegw::core {
namespace {

std::string g_where;
std::string g_what;

void capture(std::string_view where, std::string_view what) noexcept {
  g_where = where;
  g_what = what;
}

// The release path: reported with its place and context, counted, and the caller goes on.
TEST(Bug, ReportsTheLocationAndContextAndCounts) {
  const bool aborting = set_abort_on_bug(false);
  set_bug_sink(&capture);
  const std::uint64_t before = bugs_reported();
  const int line = __LINE__ + 1;
  EDGEGW_BUG("device index " + std::to_string(7) + " has no lane");
  EXPECT_EQ(bugs_reported(), before + 1);
  EXPECT_EQ(g_where, "tests/unit/core/bug_test.cc:" + std::to_string(line) + " (TestBody)");
  EXPECT_EQ(g_what, "device index 7 has no lane");
  set_bug_sink(nullptr);
  set_abort_on_bug(aborting);
}

#ifndef NDEBUG
// A debug build stops at the place, so a test that reaches a bug fails there.
TEST(BugDeathTest, AbortsInADebugBuild) {
  EXPECT_DEATH(EDGEGW_BUG("cannot happen"), "BUG at tests/unit/core/bug_test.cc:.*cannot happen");
}
#endif

}  // namespace
}  // namespace edgegw::core
