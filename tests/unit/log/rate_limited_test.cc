// SPDX-License-Identifier: Apache-2.0
#include "log/rate_limited.h"

#include <gtest/gtest.h>

#include <sstream>

namespace edgegw::log {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(RateLimitedLog, OneLinePerKeyPerIntervalThenTheSuppressedCount) {
  std::ostringstream out;
  init(Format::kText, Level::info, &out);
  std::int64_t now = 0;
  RateLimitedLog rl(get("rl"), std::chrono::seconds(10), [&] { return now; });

  for (int i = 0; i < 10000; ++i) rl.log(Level::warn, "plant/decode", "bad payload");
  EXPECT_TRUE(rl.log(Level::warn, "line1/decode", "other source"));
  now = 9999;
  EXPECT_FALSE(rl.log(Level::warn, "plant/decode", "bad payload"));
  now = 10000;
  EXPECT_TRUE(rl.log(Level::warn, "plant/decode", "bad payload"));
  flush();
  const std::string text = out.str();
  EXPECT_EQ(count(text, "bad payload"), 2u) << text;
  EXPECT_NE(text.find("(10000 more like this suppressed since the last report)"), std::string::npos)
      << text;
  EXPECT_EQ(count(text, "other source"), 1u);
  init(Format::kText, Level::info);
}

TEST(RateLimitedLog, KeysAreBounded) {
  std::ostringstream out;
  init(Format::kText, Level::info, &out);
  RateLimitedLog rl(get("rl2"), std::chrono::seconds(10), [] { return std::int64_t{5}; });
  int written = 0;
  for (std::size_t i = 0; i < RateLimitedLog::kMaxKeys + 500; ++i) {
    written += rl.log(Level::warn, "key" + std::to_string(i), "m") ? 1 : 0;
  }
  // Every key up to the bound logs once; all later keys share one bucket.
  EXPECT_EQ(written, static_cast<int>(RateLimitedLog::kMaxKeys) + 1);
  init(Format::kText, Level::info);
}

TEST(RateLimitedLog, BelowTheLevelNothingIsCounted) {
  std::ostringstream out;
  init(Format::kText, Level::err, &out);
  RateLimitedLog rl(get("rl3"), std::chrono::seconds(10));
  EXPECT_FALSE(rl.log(Level::warn, "k", "m"));
  flush();
  EXPECT_TRUE(out.str().empty());
  init(Format::kText, Level::info);
}

}  // namespace
}  // namespace edgegw::log
