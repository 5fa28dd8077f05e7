// SPDX-License-Identifier: Apache-2.0
// A full disk: appends are refused with a clear reason (so sources push back), nothing accepted is
// lost, and the buffer resumes by itself once space returns. Needs root to mount a small tmpfs.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "buffer/buffer.h"
#include "buffer/write_hook.h"
#include "support/small_disk.h"
#include "support/subprocess.h"

namespace edgegw::buffer {
namespace {

using testing::SmallDisk;

// Counts the readings of the groups the buffer says were written, and of those it says failed.
class CountingHook : public WriteHook {
 public:
  void on_append(rocksdb::WriteBatch& batch, const Record&, Seq, std::int64_t) override {
    ++appended_[&batch];
  }
  void on_written(const rocksdb::WriteBatch& batch, bool ok) override {
    auto it = appended_.find(&batch);
    if (it == appended_.end()) return;
    (ok ? written : failed) += it->second;
    appended_.erase(it);
  }
  std::uint64_t written = 0;
  std::uint64_t failed = 0;

 private:
  std::map<const rocksdb::WriteBatch*, std::uint64_t> appended_;
};

// A 64 MiB tmpfs half filled by a file, and a buffer on it.
class BufferDiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    disk_.emplace(dir_.path() + "/disk", "64m");
    if (!disk_->mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << disk_->error() << ")";
    std::ofstream f(filler(), std::ios::binary);
    const std::string mb(1 << 20, 'x');
    for (int i = 0; i < 32; ++i) f << mb;
  }
  void TearDown() override { buffer_.reset(); }  // closed before the disk goes
  std::string filler() const { return dir_.path() + "/disk/filler"; }

  void open(std::uint64_t min_free_bytes) {
    Options o;
    o.path = dir_.path() + "/disk/buffer";
    o.sync = buffer::SyncMode::kNone;
    o.min_free_bytes = min_free_bytes;
    auto opened = Buffer::open(o);
    ASSERT_TRUE(opened) << opened.status().to_string();
    buffer_ = std::move(opened).value();
    device_ = *buffer_->register_device("d");
    records_.assign(100, Record{device_, json_});
  }
  // Appends 100 readings at a time until refused: the refusal.
  Status fill() {
    Status refused;
    for (int i = 0; i < 1000 && refused.is_ok(); ++i) {
      refused = buffer_->append(records_);
      if (refused) accepted_ += records_.size();
    }
    return refused;
  }
  // Once the filler is gone: appends one reading every `every` until taken.
  void expect_resumes(std::chrono::milliseconds every, int tries) {
    std::filesystem::remove(filler());
    Status resumed = Status::unavailable("not yet");
    for (int i = 0; i < tries && !resumed.is_ok(); ++i) {
      std::this_thread::sleep_for(every);
      resumed = buffer_->append(std::vector<Record>{{device_, json_}});
    }
    ASSERT_TRUE(resumed) << resumed.to_string();
    accepted_ += 1;
    EXPECT_FALSE(buffer_->stats().disk_full);
  }
  void expect_everything_accepted_is_there() {
    auto all = buffer_->read(device_, 1000000, std::size_t{1} << 40);
    ASSERT_TRUE(all) << all.status().to_string();
    EXPECT_EQ(all->size(), accepted_);
    EXPECT_EQ(buffer_->stats().readings, accepted_);
  }

  testing::TempDir dir_;
  std::optional<SmallDisk> disk_;
  std::unique_ptr<Buffer> buffer_;
  DeviceId device_ = 0;
  const std::string json_ = "{\"variable\":\"v\",\"value\":\"" + std::string(1000, 'a') + "\"}";
  std::vector<Record> records_;
  std::uint64_t accepted_ = 0;
};

TEST_F(BufferDiskFull, RefusesThenResumesWithoutLosingAnything) {
  open(0);  // no reserve: RocksDB's own write fails
  auto counting = std::make_unique<CountingHook>();
  CountingHook& hook = *counting;
  buffer_->add_write_hook(std::move(counting));
  const Status refused = fill();
  ASSERT_FALSE(refused.is_ok()) << "the disk never filled";
  EXPECT_EQ(refused.code(), Code::kResourceExhausted);
  EXPECT_NE(refused.message().find("disk full"), std::string_view::npos) << refused.message();
  // The hooks heard of the failed write: what they added with it is gone too.
  EXPECT_EQ(hook.written, accepted_);
  EXPECT_EQ(hook.failed, records_.size());
  EXPECT_TRUE(buffer_->stats().disk_full);
  EXPECT_EQ(buffer_->append(records_).code(), Code::kResourceExhausted);  // still, no crash
  // RocksDB polls free space slowly.
  ASSERT_NO_FATAL_FAILURE(expect_resumes(std::chrono::milliseconds(100), 300));
  expect_everything_accepted_is_there();
}

TEST_F(BufferDiskFull, RefusesAtTheReserveAndStillRemovesDeliveries) {
  // Free space falls in steps, not with each append: a WAL file takes ~17.6 MiB (1.1 x the
  // memtable) when it is created, and its appends fill that. So the reserve is crossed at the
  // memtable's switch (16 MiB of appends), where RocksDB needs a new WAL and room for the flush:
  // the reserve must hold those, or RocksDB runs out first (it did at 8 MiB on 32 MiB free, in 2
  // of 3 full runs once its checksums got faster). 56 MiB free: ~38 after the first WAL, ~21 after
  // the second, under the reserve of 24.
  std::filesystem::resize_file(filler(), 8 << 20);
  open(24 << 20);
  const Status refused = fill();
  ASSERT_FALSE(refused.is_ok()) << "the reserve was never reached";
  EXPECT_EQ(refused.code(), Code::kResourceExhausted);
  EXPECT_NE(refused.message().find("less than 24MiB free (buffer.min_free)"),
            std::string_view::npos)
      << refused.message();
  EXPECT_GT(accepted_, 0u);
  EXPECT_TRUE(buffer_->stats().disk_full);
  // RocksDB itself never ran out: still some room, and a delivery is removed within it.
  EXPECT_GT(std::filesystem::space(dir_.path() + "/disk").available, 1u << 20);
  auto head = buffer_->read(device_, 100, std::size_t{1} << 30);
  ASSERT_TRUE(head) << head.status().to_string();
  ASSERT_EQ(head->size(), 100u);
  ASSERT_TRUE(buffer_->ack(device_, AckPoint::of(head->entries.back())));
  accepted_ -= 100;
  // Refused again while under the reserve. A background flush ending meanwhile deletes its WAL and
  // frees a few MiB (CI caught one): then appends are taken again, and counted, down to the
  // reserve.
  EXPECT_EQ(fill().code(), Code::kResourceExhausted);
  // Space returns: taken again at the next look (every 100 ms).
  ASSERT_NO_FATAL_FAILURE(expect_resumes(std::chrono::milliseconds(50), 50));
  expect_everything_accepted_is_there();
}

}  // namespace
}  // namespace edgegw::buffer
