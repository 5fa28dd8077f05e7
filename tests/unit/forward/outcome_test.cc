// SPDX-License-Identifier: Apache-2.0
// The outcome table, pinned (as Vector pins its retry table).
#include "forward/outcome.h"

#include <gtest/gtest.h>

namespace edgegw::forward {
namespace {

using std::chrono::seconds;

TEST(Outcome, TableOfAnswers) {
  struct Row {
    int status;
    Action action;
  };
  const Row rows[] = {
      {200, Action::kDelivered},    {201, Action::kDelivered},    {202, Action::kDelivered},
      {204, Action::kDelivered},    {429, Action::kRateLimited},  {500, Action::kRetry},
      {502, Action::kRetry},        {503, Action::kRetry},        {504, Action::kRetry},
      {408, Action::kRetry},        {0, Action::kRetry},          {404, Action::kRetry},
      {401, Action::kTokenRefused}, {403, Action::kTokenRefused}, {400, Action::kSplit},
      {413, Action::kSplit},        {422, Action::kSplit},        {301, Action::kRetry},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(classify(row.status, "", "").action, row.action) << row.status;
  }
}

TEST(Outcome, RetryAfterFromTheBodyTextOrTheHeader) {
  auto o =
      classify(429, "", R"j({"status":false,"message":"Too many requests (Retry-After: 8)"})j");
  EXPECT_EQ(o.action, Action::kRateLimited);
  EXPECT_EQ(o.retry_after, seconds(8));
  o = classify(429, "12", "Too many requests");
  EXPECT_EQ(o.retry_after, seconds(12));
  o = classify(503, "", "Service Unavailable (retry-after=3)");
  EXPECT_EQ(o.action, Action::kRetry);
  EXPECT_EQ(o.retry_after, seconds(3));
  EXPECT_FALSE(classify(429, "", "Too many requests").retry_after);
  EXPECT_FALSE(classify(500, "5", "").retry_after);  // only 429 and 503 carry a wait
}

TEST(Outcome, RetryAfterParsing) {
  EXPECT_EQ(parse_retry_after("8"), seconds(8));
  EXPECT_EQ(parse_retry_after(" 8 "), seconds(8));
  EXPECT_EQ(parse_retry_after("Retry-After: 0"), seconds(0));
  EXPECT_EQ(parse_retry_after("wait (RETRY-AFTER: 99999)"), seconds(3600));  // capped
  EXPECT_FALSE(parse_retry_after("Retry-After: soon"));
  EXPECT_FALSE(parse_retry_after("-5"));
  EXPECT_FALSE(parse_retry_after(""));
}

}  // namespace
}  // namespace edgegw::forward
