// SPDX-License-Identifier: Apache-2.0
// Every dead letter of a buffer, in id order (a test's check of what was refused for good).
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "buffer/buffer.h"

namespace edgegw::testing {

inline std::vector<buffer::DeadLetter> dead_letters(const buffer::Buffer& buffer) {
  std::vector<buffer::DeadLetter> out;
  EXPECT_TRUE(buffer.for_each_dead_letter([&](const buffer::DeadLetter& l) {
    out.push_back(l);
    return true;
  }));
  return out;
}

}  // namespace edgegw::testing
