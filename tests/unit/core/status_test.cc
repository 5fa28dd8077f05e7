// SPDX-License-Identifier: Apache-2.0
#include "edgegw/status.h"

#include <gtest/gtest.h>

namespace edgegw {
namespace {

TEST(Status, OkIsDefaultAndEmpty) {
  const Status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "OK");
  EXPECT_FALSE(s.retryable());
}

TEST(Status, CarriesCodeAndMessage) {
  const Status s = Status::unavailable("cloud unreachable");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.to_string(), "unavailable: cloud unreachable");
  EXPECT_TRUE(s.retryable());
  EXPECT_FALSE(Status::invalid_argument("x").retryable());
  EXPECT_FALSE(Status::unauthenticated("x").retryable());
}

TEST(Status, CopiesAreDeep) {
  Status a = Status::io_error("disk");
  Status b = a;
  a = Status::ok();
  EXPECT_TRUE(a.is_ok());
  EXPECT_EQ(b.message(), "disk");
  Status c(Code::kOk, "ignored");
  EXPECT_TRUE(c.is_ok());
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> good = 42;
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, 42);
  EXPECT_TRUE(good.status().is_ok());
  Result<int> bad = Status::not_found("no such device");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Code::kNotFound);
  EXPECT_EQ(std::move(bad).take_status().message(), "no such device");
}

}  // namespace
}  // namespace edgegw
