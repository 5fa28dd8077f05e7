// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "forward/backoff.h"
#include "forward/pacer.h"
#include "forward/url.h"

namespace edgegw::forward {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, FullJitterUnderAGrowingCeiling) {
  Backoff b(milliseconds(500), milliseconds(5000), 2.0);
  std::mt19937_64 rng(1);
  const milliseconds ceilings[] = {milliseconds(500),  milliseconds(1000), milliseconds(2000),
                                   milliseconds(4000), milliseconds(5000), milliseconds(5000)};
  for (const auto ceiling : ceilings) {
    EXPECT_EQ(b.ceiling(), ceiling);
    for (int i = 0; i < 3; ++i) {
      Backoff copy = b;
      const auto wait = copy.next(rng);
      EXPECT_GE(wait.count(), 0);
      EXPECT_LE(wait, ceiling);
    }
    (void)b.next(rng);
  }
  b.reset();
  EXPECT_EQ(b.ceiling(), milliseconds(500));
}

TEST(Pacer, NeverMoreThanTheBudgetInAnyMinute) {
  Pacer p(600);  // one request every 100 ms
  auto now = Pacer::Clock::time_point{} + std::chrono::hours(1);
  std::vector<Pacer::Clock::time_point> sent;
  for (int i = 0; i < 2000; ++i) {
    now = std::max(now, p.next_allowed());
    p.on_send(now);
    sent.push_back(now);
  }
  for (std::size_t i = 600; i < sent.size(); ++i) {
    EXPECT_GE(sent[i] - sent[i - 600], std::chrono::minutes(1));
  }
}

TEST(Pacer, PauseHoldsEverythingAndZeroBudgetIsUnpaced) {
  Pacer p(0);
  const auto now = Pacer::Clock::now();
  p.on_send(now);
  EXPECT_LE(p.next_allowed(), now);
  p.pause_until(now + std::chrono::seconds(8));
  EXPECT_EQ(p.next_allowed(), now + std::chrono::seconds(8));
  p.pause_until(now + std::chrono::seconds(2));  // a shorter pause does not shorten it
  EXPECT_EQ(p.next_allowed(), now + std::chrono::seconds(8));
}

TEST(Url, Parses) {
  auto u = parse_url("https://api.tago.io");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "api.tago.io");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->base_path, "");
  u = parse_url("http://127.0.0.1:18080/prefix/");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, "18080");
  EXPECT_EQ(u->base_path, "/prefix");
  u = parse_url("http://[::1]:9000");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "9000");
  EXPECT_FALSE(parse_url("ftp://x"));
  EXPECT_FALSE(parse_url("http://:80"));
}

}  // namespace
}  // namespace edgegw::forward
