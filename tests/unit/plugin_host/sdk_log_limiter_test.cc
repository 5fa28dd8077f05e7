// SPDX-License-Identifier: Apache-2.0
// The SDK's per-key log limiter: each key its own window, suppressed lines counted and said.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "edgegw/log_limiter.h"

namespace edgegw::sdk {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

struct Line {
  std::int32_t level;
  std::string text;
};

// A host whose only callback is the log, recording each line.
struct FakeHost {
  std::vector<Line> lines;
  edgegw_host table{};

  FakeHost() {
    table.struct_size = sizeof table;
    table.host_ptr = reinterpret_cast<edgegw_host_ctx*>(this);
    table.log = [](edgegw_host_ctx* ctx, std::int32_t level, const char* message, size_t len) {
      reinterpret_cast<FakeHost*>(ctx)->lines.push_back({level, std::string(message, len)});
    };
  }
  Host host() const { return Host(&table); }
};

TEST(RateLimiter, EachKeyHasItsOwnWindow) {
  RateLimiter limiter(10s);
  const Clock::time_point t0{};
  EXPECT_EQ(limiter.admit("a", t0), 0u);
  EXPECT_EQ(limiter.admit("a", t0 + 1s), std::nullopt);
  // A noisy "a" does not hide the first "b".
  EXPECT_EQ(limiter.admit("b", t0 + 2s), 0u);
  EXPECT_EQ(limiter.admit("a", t0 + 3s), std::nullopt);
  EXPECT_EQ(limiter.admit("b", t0 + 9s), std::nullopt);
  // "a"'s window ends 10 s after its last line; its two suppressed lines are counted.
  EXPECT_EQ(limiter.admit("a", t0 + 9999ms), std::nullopt);
  EXPECT_EQ(limiter.admit("a", t0 + 10s), 3u);
  EXPECT_EQ(limiter.admit("a", t0 + 11s), std::nullopt);
  EXPECT_EQ(limiter.admit("b", t0 + 12s), 1u);
  EXPECT_EQ(limiter.admit("b", t0 + 22s), 0u);  // the count restarts after each line
}

TEST(RateLimiter, KeysBeyondTheBoundShareOneWindow) {
  RateLimiter limiter(10s);
  const Clock::time_point t0{};
  for (std::size_t i = 0; i < RateLimiter::kMaxKeys; ++i) {
    EXPECT_EQ(limiter.admit("k" + std::to_string(i), t0), 0u);
  }
  EXPECT_EQ(limiter.admit("new-1", t0), 0u);
  EXPECT_EQ(limiter.admit("new-2", t0), std::nullopt);    // both are "*"
  EXPECT_EQ(limiter.admit("k0", t0 + 1s), std::nullopt);  // the known keys keep theirs
}

TEST(RateLimiter, FlushReportsTheCountsNoLaterLineSaid) {
  RateLimiter limiter(10s);
  const Clock::time_point t0{};
  (void)limiter.admit("a", t0);
  (void)limiter.admit("a", t0 + 1s);
  (void)limiter.admit("a", t0 + 2s);
  (void)limiter.admit("b", t0);
  (void)limiter.admit("c", t0 + 5s);
  (void)limiter.admit("c", t0 + 6s);
  std::vector<std::tuple<std::string, std::uint64_t, Clock::duration>> reported;
  auto record = [&](std::string_view key, std::uint64_t n, Clock::duration since) {
    reported.emplace_back(std::string(key), n, since);
  };
  limiter.flush(record, false, t0 + 12s);  // "a"'s window has passed, "c"'s has not
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0], std::make_tuple(std::string("a"), 2u, Clock::duration(12s)));
  // The report counts as a line: "a" starts a new window, its count is said once.
  EXPECT_EQ(limiter.admit("a", t0 + 13s), std::nullopt);
  reported.clear();
  limiter.flush(record, true, t0 + 14s);  // at a stop: everything still unsaid
  std::sort(reported.begin(), reported.end());
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0], std::make_tuple(std::string("a"), 1u, Clock::duration(2s)));
  EXPECT_EQ(reported[1], std::make_tuple(std::string("c"), 1u, Clock::duration(9s)));
  reported.clear();
  limiter.flush(record, true, t0 + 15s);
  EXPECT_TRUE(reported.empty());
}

TEST(LogLimiter, SaysHowManyLinesOfItsKeyWereSuppressed) {
  FakeHost fake;
  LogLimiter limited(fake.host(), 10s);
  const Clock::time_point t0{};
  EXPECT_TRUE(limited.log(EDGEGW_LOG_WARN, "full", "buffer full", t0));
  EXPECT_FALSE(limited.log(EDGEGW_LOG_WARN, "full", "buffer full", t0 + 1s));
  EXPECT_FALSE(limited.log(EDGEGW_LOG_WARN, "full", "buffer full", t0 + 2s));
  EXPECT_TRUE(limited.log(EDGEGW_LOG_ERROR, "lost", "port lost", t0 + 3s));
  EXPECT_TRUE(limited.log(EDGEGW_LOG_WARN, "full", "buffer full again", t0 + 11s));
  ASSERT_EQ(fake.lines.size(), 3u);
  EXPECT_EQ(fake.lines[0].text, "buffer full");
  EXPECT_EQ(fake.lines[1].level, EDGEGW_LOG_ERROR);
  EXPECT_EQ(fake.lines[1].text, "port lost");
  EXPECT_EQ(fake.lines[2].text, "buffer full again [2 similar message(s) suppressed]");
}

TEST(LogLimiter, BuildsALazyMessageOnlyWhenLetThrough) {
  FakeHost fake;
  LogLimiter limited(fake.host(), 10s);
  const Clock::time_point t0{};
  int built = 0;
  auto message = [&] {
    ++built;
    return std::string("unmatched topic");
  };
  for (int i = 0; i < 5; ++i) (void)limited.log(EDGEGW_LOG_WARN, "unmatched", message, t0 + 1s * i);
  EXPECT_EQ(built, 1);
  ASSERT_EQ(fake.lines.size(), 1u);
  limited.flush(EDGEGW_LOG_INFO, true, t0 + 5s);
  ASSERT_EQ(fake.lines.size(), 2u);
  EXPECT_EQ(fake.lines[1].level, EDGEGW_LOG_INFO);
  EXPECT_EQ(fake.lines[1].text, "unmatched: 4 similar message(s) suppressed in the last 5 s");
}

}  // namespace
}  // namespace edgegw::sdk
