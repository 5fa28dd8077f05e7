// SPDX-License-Identifier: Apache-2.0
// A full disk: appends are refused with a clear reason (so sources push back), nothing accepted is
// lost, and the buffer resumes by itself once space returns. Needs root to mount a small tmpfs.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "buffer/buffer.h"
#include "support/small_disk.h"
#include "support/subprocess.h"

namespace edgegw::buffer {
namespace {

using testing::SmallDisk;

TEST(BufferDiskFull, RefusesThenResumesWithoutLosingAnything) {
  testing::TempDir dir;
  SmallDisk disk(dir.path() + "/disk", "64m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error() << ")";
  const std::string filler = dir.path() + "/disk/filler";
  {
    std::ofstream f(filler, std::ios::binary);
    const std::string mb(1 << 20, 'x');
    for (int i = 0; i < 32; ++i) f << mb;
  }
  Options o;
  o.path = dir.path() + "/disk/buffer";
  o.sync = buffer::SyncMode::kNone;
  auto opened = Buffer::open(o);
  ASSERT_TRUE(opened) << opened.status().to_string();
  Buffer& b = *opened.value();
  const DeviceId d = *b.register_device("d");

  const std::string json = "{\"variable\":\"v\",\"value\":\"" + std::string(1000, 'a') + "\"}";
  const std::vector<Record> records(100, Record{d, json});
  std::uint64_t accepted = 0;
  Status refused;
  for (int i = 0; i < 1000 && refused.is_ok(); ++i) {
    refused = b.append(records);
    if (refused) accepted += records.size();
  }
  ASSERT_FALSE(refused.is_ok()) << "the disk never filled";
  EXPECT_EQ(refused.code(), Code::kResourceExhausted);
  EXPECT_NE(refused.message().find("disk full"), std::string_view::npos) << refused.message();
  EXPECT_TRUE(b.stats().disk_full);
  EXPECT_EQ(b.append(records).code(), Code::kResourceExhausted);  // still refused, no crash

  std::filesystem::remove(filler);  // space returns
  Status resumed = Status::unavailable("not yet");
  for (int i = 0; i < 300 && !resumed.is_ok(); ++i) {  // RocksDB polls free space slowly
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    resumed = b.append(std::vector<Record>{{d, json}});
  }
  ASSERT_TRUE(resumed) << resumed.to_string();
  accepted += 1;
  EXPECT_FALSE(b.stats().disk_full);

  auto all = b.read(d, 1000000, std::size_t{1} << 40);
  ASSERT_TRUE(all) << all.status().to_string();
  EXPECT_EQ(all->size(), accepted);
  EXPECT_EQ(b.stats().readings, accepted);
}

}  // namespace
}  // namespace edgegw::buffer
