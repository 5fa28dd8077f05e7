// SPDX-License-Identifier: Apache-2.0
// kill -9 at random moments while producers append: after reopening, every acknowledged reading
// is present, in order, and no sequence number is ever reused.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "buffer/buffer.h"
#include "support/subprocess.h"

namespace edgegw::buffer {
namespace {

using namespace std::chrono_literals;

std::string child_binary() {
  return std::string(std::getenv("EDGEGW_BINARY_DIR")) + "/tests/unit/buffer/buffer_crash_child";
}

long long value_of(std::string_view json) {
  return boost::json::parse(json).at("value").to_number<long long>();
}

void crash_rounds(const std::string& sync, int rounds) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/buffer";
  std::mt19937 rng(12345);
  std::map<int, long long> acked_up_to;  // per device: the child's highest acknowledged value
  std::map<int, Seq> max_seq_seen;
  long long total_checked = 0;

  for (int round = 0; round < rounds; ++round) {
    const long long base = static_cast<long long>(round + 1) * 1000000000LL;
    {
      testing::Subprocess child({child_binary(), path, std::to_string(base), sync});
      // Killed at a random moment once it is appending (a slow build, such as TSan's, takes a
      // while to open the store): every round then has acknowledged readings to check.
      ASSERT_TRUE(testing::wait_until([&] { return child.out().size() > 200; }, 20s))
          << child.err();
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 250));
      child.signal(SIGKILL);
      ASSERT_EQ(child.wait(10s), 128 + SIGKILL) << child.err();
      std::istringstream lines(child.out());
      int device = 0;
      long long value = 0;
      while (lines >> device >> value) acked_up_to[device] = value;
    }
    Options o;
    o.path = path;
    auto opened = Buffer::open(o);
    ASSERT_TRUE(opened) << opened.status().to_string();
    Buffer& buf = *opened.value();
    for (const auto& [device, acked] : acked_up_to) {
      auto id = buf.register_device("d" + std::to_string(device));
      ASSERT_TRUE(id);
      auto batch = buf.read(*id, 10000000, std::size_t{1} << 40);
      ASSERT_TRUE(batch) << batch.status().to_string();
      // Everything the child was told is durable is there, in order, after what we removed.
      std::vector<long long> values;
      for (std::size_t i = 0; i < batch->size(); ++i) values.push_back(value_of(batch->reading(i)));
      for (std::size_t i = 1; i < values.size(); ++i) {
        // Within a round values rise by one; a new round starts at a higher base.
        ASSERT_GT(values[i], values[i - 1]) << "device " << device << " at " << i;
        if (values[i] / 1000000000LL == values[i - 1] / 1000000000LL) {
          ASSERT_EQ(values[i], values[i - 1] + 1) << "gap on device " << device;
        }
      }
      const long long this_round_acked = acked / 1000000000LL == round + 1 ? acked : -1;
      if (this_round_acked >= 0) {
        ASSERT_FALSE(values.empty());
        ASSERT_GE(values.back(), this_round_acked)
            << "acknowledged reading lost, device " << device;
        const auto first_of_round =
            std::find_if(values.begin(), values.end(), [&](long long v) { return v >= base; });
        ASSERT_EQ(*first_of_round, base) << "first reading of round lost, device " << device;
      }
      for (std::size_t i = 1; i < batch->size(); ++i) {
        ASSERT_GT(batch->entries[i].seq, batch->entries[i - 1].seq);
      }
      // Sequences are never reused: this round's first reading comes after everything earlier,
      // including what was removed before the crash.
      for (std::size_t i = 0; i < batch->size(); ++i) {
        if (values[i] >= base) {
          ASSERT_GT(batch->entries[i].seq, max_seq_seen[device]) << "sequence reused";
          break;
        }
      }
      if (!batch->empty()) {
        max_seq_seen[device] = batch->entries.back().seq;
        total_checked += static_cast<long long>(batch->size());
        // Remove about half, so later rounds also cross removed ranges and head marks.
        const std::size_t half = batch->size() / 2;
        if (half > 0) {
          ASSERT_TRUE(buf.ack(*id, AckPoint::of(batch->entries[half - 1])));
        }
      }
    }
  }
  EXPECT_GT(total_checked, 1000) << "the child appended too little to prove anything";
}

TEST(BufferCrash, KillNineNeverLosesAnAcknowledgedReading) { crash_rounds("none", 12); }
TEST(BufferCrash, KillNineWithGroupFsync) { crash_rounds("batch", 6); }

}  // namespace
}  // namespace edgegw::buffer
