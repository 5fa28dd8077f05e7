// SPDX-License-Identifier: Apache-2.0
#include "app/data_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/subprocess.h"

namespace edgegw::app {
namespace {

TEST(DataDirLock, CreatesLocksAndReleases) {
  testing::TempDir dir;
  const std::string data = dir.path() + "/a/b";
  {
    auto lock = DataDirLock::acquire(data);
    ASSERT_TRUE(lock) << lock.status().to_string();
    EXPECT_TRUE(std::filesystem::exists(data + "/edgegw.lock"));
    auto second = DataDirLock::acquire(data);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.status().code(), Code::kAlreadyExists);
  }
  EXPECT_TRUE(DataDirLock::acquire(data));  // released with the first
}

}  // namespace
}  // namespace edgegw::app
