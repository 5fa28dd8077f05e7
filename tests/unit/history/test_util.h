// SPDX-License-Identifier: Apache-2.0
// A real buffer (RocksDB on a temp dir) with the local history on, and appends of tago readings.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "buffer/buffer.h"
#include "core/time.h"
#include "history/history.h"
#include "support/subprocess.h"

namespace edgegw::history::testing_util {

struct Sent {
  std::string variable;
  std::string json;
  std::int64_t time_ms;
};

class HistoryTest : public ::testing::Test {
 protected:
  std::unique_ptr<buffer::Buffer> open(std::size_t per_variable) {
    buffer::Options o;
    o.path = dir_.path() + "/buffer";
    o.sync = buffer::SyncMode::kNone;
    o.clock = [this] { return now_; };
    auto b = buffer::Buffer::open(std::move(o));
    EXPECT_TRUE(b) << b.status().to_string();
    if (!b) return nullptr;
    const Status attached = attach(**b, per_variable);
    EXPECT_TRUE(attached) << attached.to_string();
    return std::move(b).value();
  }
  // One append of readings of `variable` with values from..from+n-1, a second apart in time.
  void append(buffer::Buffer& b, buffer::DeviceId device, const std::string& variable,
              long long from, int n, const std::string& extra = "") {
    std::vector<Sent> sent;
    for (int i = 0; i < n; ++i) {
      const std::int64_t t = base_ms_ + (from + i) * 1000;
      sent.push_back({variable,
                      "{\"variable\":\"" + variable + "\",\"value\":" + std::to_string(from + i) +
                          extra + ",\"time\":\"" + core::format_iso8601_ms(t) + "\"}",
                      t});
    }
    std::vector<buffer::Record> records;
    for (const auto& s : sent) records.push_back({device, s.json, s.variable, s.time_ms});
    ASSERT_TRUE(b.append(records));
  }

  testing::TempDir dir_;
  std::int64_t now_ = 1732579200000;
  std::int64_t base_ms_ = 1704067200000;  // 2024-01-01T00:00:00Z
};

}  // namespace edgegw::history::testing_util
