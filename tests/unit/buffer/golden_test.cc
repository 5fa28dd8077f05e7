// SPDX-License-Identifier: Apache-2.0
// The golden stores of golden/ (written once by golden_gen.cc, committed): what an older gateway
// or a power cut left on disk must open, be salvaged or be refused exactly as
// gateway/docs/buffer_format.md says ("Compatibility" and "Damage"). Each test opens a copy.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "buffer/buffer.h"
#include "support/subprocess.h"

namespace edgegw::buffer {
namespace {

namespace fs = std::filesystem;

std::string reading(int n) {
  return R"({"variable":"temperature","value":)" + std::to_string(20 + n) +
         R"(,"time":"2026-01-01T00:00:0)" + std::to_string(n) + R"(.000Z"})";
}

class GoldenStore : public ::testing::Test {
 protected:
  // A copy of golden/<name> to open (RocksDB writes into the folder it opens).
  Options copy_of(const std::string& name) {
    const fs::path from = fs::path(testing::source_dir()) / "tests/unit/buffer/golden" / name;
    const fs::path to = fs::path(dir_.path()) / name;
    fs::copy(from, to, fs::copy_options::recursive);
    Options o;
    o.path = to.string();
    o.sync = SyncMode::kNone;
    o.clock = [] { return std::int64_t{1'767'225'700'000}; };
    o.max_age = std::chrono::hours(24 * 365 * 100);
    return o;
  }
  static std::vector<std::string> all(Buffer& b, DeviceId device) {
    auto batch = b.read(device, 1000, std::size_t{1} << 30);
    EXPECT_TRUE(batch) << batch.status().to_string();
    std::vector<std::string> out;
    if (!batch) return out;
    for (std::size_t i = 0; i < batch->size(); ++i) out.emplace_back(batch->reading(i));
    return out;
  }

  // Appends one reading; the sequence it got (0 on failure).
  static Seq append_one(Buffer& b, DeviceId device, const std::string& json) {
    const Record r{device, json};
    EXPECT_TRUE(b.append(std::span(&r, 1)));
    auto batch = b.read(device, 1000, std::size_t{1} << 30);
    return batch && !batch->empty() ? batch->entries.back().seq : 0;
  }

  testing::TempDir dir_;
};

TEST_F(GoldenStore, Format1BeforeTheHistoryOpensWithEveryReading) {
  const Options o = copy_of("format1-before-history");
  {
    auto opened = Buffer::open(o);
    ASSERT_TRUE(opened) << opened.status().to_string();
    Buffer& b = **opened;
    auto a = b.register_device("dev-a");
    auto d = b.register_device("dev-b");
    ASSERT_TRUE(a && d);
    EXPECT_EQ(*a, 1u);  // the devices keep their indices
    EXPECT_EQ(*d, 2u);
    EXPECT_EQ(all(b, *a), (std::vector<std::string>{reading(1), reading(2), reading(3)}));
    // dev-b's first reading was delivered before the stop: its head mark says so.
    EXPECT_EQ(all(b, *d), (std::vector<std::string>{reading(2), reading(3)}));
    EXPECT_EQ(b.queued(*a).readings, 3u);
    EXPECT_EQ(b.queued(*d).readings, 2u);
    std::vector<DeadLetter> letters;
    ASSERT_TRUE(b.for_each_dead_letter([&](const DeadLetter& l) {
      letters.push_back(l);
      return true;
    }));
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_EQ(letters[0].http_status, 400);
    EXPECT_EQ(letters[0].reason, "Variable name is invalid");
    EXPECT_EQ(append_one(b, *a, reading(4)), 4u);  // appends continue the device's sequence
  }
  // The history's column family was added; the store still opens.
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), o.path, &families).ok());
  EXPECT_NE(std::find(families.begin(), families.end(), "history"), families.end());
  auto again = Buffer::open(o);
  ASSERT_TRUE(again) << again.status().to_string();
  EXPECT_EQ((*again)->stats().readings, 6u);
}

TEST_F(GoldenStore, ATruncatedWalOpensWithTheWritesBeforeTheCut) {
  auto opened = Buffer::open(copy_of("format1-truncated-wal"));
  ASSERT_TRUE(opened) << opened.status().to_string();
  Buffer& b = **opened;
  auto a = b.register_device("dev-a");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 1u);
  // Five appends, the last one cut short: the four whole ones, the torn one not at all.
  EXPECT_EQ(all(b, *a), (std::vector<std::string>{reading(1), reading(2), reading(3), reading(4)}));
  EXPECT_EQ(append_one(b, *a, reading(5)), 5u);  // the torn append's sequence is used again
}

// Read back the store's "format" (a closed store).
std::string format_of(const std::string& path) {
  rocksdb::DB* raw = nullptr;
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  if (!rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, cfs, &handles, &raw).ok()) {
    return "(cannot open)";
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const auto meta = std::find(names.begin(), names.end(), "meta") - names.begin();
  std::string format;
  (void)db->Get(rocksdb::ReadOptions(), handles[static_cast<std::size_t>(meta)], "format", &format);
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  return format;
}

TEST_F(GoldenStore, Format1IsReadAsItIsAndTheStoreSaysFormat3FromThen) {
  const Options o = copy_of("format1-before-history");
  {
    auto opened = Buffer::open(o);
    ASSERT_TRUE(opened) << opened.status().to_string();
    auto a = (*opened)->register_device("dev-a");
    ASSERT_TRUE(a);
    // Three readings in one append: one entry (a run), read back as three.
    const std::string jsons[3] = {reading(4), reading(5), reading(6)};
    const Record more[3] = {{*a, jsons[0]}, {*a, jsons[1]}, {*a, jsons[2]}};
    ASSERT_TRUE((*opened)->append(more));
    EXPECT_EQ(all(**opened, *a), (std::vector<std::string>{reading(1), reading(2), reading(3),
                                                           reading(4), reading(5), reading(6)}));
  }
  // An older edgegw would misread the run: it must now refuse the store.
  EXPECT_EQ(format_of(o.path), "3");
}

TEST_F(GoldenStore, TheStoreOnceOfAnUnsupportedVersionIsFormat2WithoutRuns) {
  auto opened = Buffer::open(copy_of("unsupported-version"));
  ASSERT_TRUE(opened) << opened.status().to_string();
  auto a = (*opened)->register_device("dev-a");
  ASSERT_TRUE(a);
  EXPECT_EQ(all(**opened, *a), (std::vector<std::string>{reading(1), reading(2)}));
}

TEST_F(GoldenStore, Format2RunsOpenWithTheirReadingsInOrder) {
  const Options o = copy_of("format2-runs");
  const std::uint64_t entry = kQueueKeySize + kValueHeaderSize + reading(1).size();
  {
    auto opened = Buffer::open(o);
    ASSERT_TRUE(opened) << opened.status().to_string();
    Buffer& b = **opened;
    auto a = b.register_device("dev-a");
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, 1u);
    // 1 was delivered (the head mark inside the first run), 6 withdrawn (inside the last).
    EXPECT_EQ(all(b, *a), (std::vector<std::string>{reading(2), reading(3), reading(4), reading(5),
                                                    reading(7), reading(8)}));
    EXPECT_EQ(b.queued(*a).readings, 6u);
    EXPECT_EQ(b.queued(*a).bytes, 6 * entry);
    EXPECT_EQ(b.span(*a).first, 2u);
    EXPECT_EQ(b.span(*a).next, 9u);
    std::vector<Seq> back;
    ASSERT_TRUE(b.visit_back(*a, 100, 100, [&](const Buffer::Stored& r) {
      back.push_back(r.seq);
      return true;
    }));
    EXPECT_EQ(back, (std::vector<Seq>{8, 7, 5, 4, 3, 2}));
    // An ack inside the last run: 7 and 8 wait, the run stays whole on disk.
    auto batch = b.read(*a, 4, std::size_t{1} << 20);
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->size(), 4u);
    EXPECT_EQ(batch->entries.back().seq, 5u);
    EXPECT_EQ(batch->next.seq, 7u);
    ASSERT_TRUE(b.ack(*a, AckPoint::through(*batch)));
    EXPECT_EQ(b.queued(*a).readings, 2u);
    EXPECT_EQ(append_one(b, *a, reading(9)), 9u);
  }
  auto again = Buffer::open(o);
  ASSERT_TRUE(again) << again.status().to_string();
  auto a = (*again)->register_device("dev-a");
  ASSERT_TRUE(a);
  EXPECT_EQ(all(**again, *a), (std::vector<std::string>{reading(7), reading(8), reading(9)}));
  EXPECT_EQ((*again)->queued(*a).readings, 3u);
  EXPECT_EQ((*again)->queued(*a).bytes, 3 * entry);
}

// Readings stored as values are read back as the cloud JSON they stand for; the byte accounting
// counts them as stored.
TEST_F(GoldenStore, Format3ValuesAreReadAsTheirCloudJson) {
  const Options o = copy_of("format3-values");
  const std::vector<std::string> expected = {
      R"({"variable":"temperature","value":1.25,"unit":"C","time":"2026-01-01T00:00:01.000Z"})",
      reading(2), R"({"variable":"state","value":"on \"","time":"2026-01-01T00:00:03.000Z"})",
      R"({"variable":"count","value":-66,"time":"2026-01-01T00:00:04.000Z"})"};
  // What readings 1, 3 and 4 take as values: type, time, variable, unit, value.
  const std::uint64_t entry = kQueueKeySize + kValueHeaderSize;
  const std::uint64_t sizes[4] = {entry + 1 + 6 + 1 + 11 + 1 + 1 + 8, entry + reading(2).size(),
                                  entry + 1 + 6 + 1 + 5 + 1 + 5, entry + 1 + 6 + 1 + 5 + 1 + 2};
  {
    auto opened = Buffer::open(o);
    ASSERT_TRUE(opened) << opened.status().to_string();
    Buffer& b = **opened;
    auto a = b.register_device("dev-a");
    ASSERT_TRUE(a);
    EXPECT_EQ(all(b, *a), expected);
    EXPECT_EQ(b.queued(*a).readings, 4u);
    EXPECT_EQ(b.queued(*a).bytes, sizes[0] + sizes[1] + sizes[2] + sizes[3]);
    std::vector<std::string> back;
    ASSERT_TRUE(b.visit_back(*a, 100, 100, [&](const Buffer::Stored& r) {
      back.emplace_back(r.json);
      return true;
    }));
    EXPECT_EQ(back, (std::vector<std::string>(expected.rbegin(), expected.rend())));
    // An ack inside the run: 3 and 4 wait.
    auto batch = b.read(*a, 2, std::size_t{1} << 20);
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->size(), 2u);
    ASSERT_TRUE(b.ack(*a, AckPoint::through(*batch)));
    EXPECT_EQ(b.queued(*a).readings, 2u);
  }
  auto again = Buffer::open(o);
  ASSERT_TRUE(again) << again.status().to_string();
  auto a = (*again)->register_device("dev-a");
  ASSERT_TRUE(a);
  EXPECT_EQ(all(**again, *a), (std::vector<std::string>{expected[2], expected[3]}));
  EXPECT_EQ((*again)->queued(*a).bytes, sizes[2] + sizes[3]);
  EXPECT_EQ(format_of(o.path), "3");
}

TEST_F(GoldenStore, AnUnsupportedVersionIsRefusedAndLeftAsItWas) {
  const Options o = copy_of("format4-unsupported");
  auto opened = Buffer::open(o);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.status().code(), Code::kCorruption);
  EXPECT_NE(opened.status().to_string().find("has format version '4'"), std::string::npos)
      << opened.status().to_string();
  EXPECT_NE(opened.status().to_string().find("this edgegw reads version 3"), std::string::npos);
  // Never rewritten or wiped: the format and the readings are still there.
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), o.path, &names).ok());
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), o.path, cfs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  auto handle = [&](const std::string& name) {
    return handles[static_cast<std::size_t>(std::find(names.begin(), names.end(), name) -
                                            names.begin())];
  };
  std::string format;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), handle("meta"), "format", &format).ok());
  EXPECT_EQ(format, "4");
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handle("queue")));
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(n, 2);
  it.reset();
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
}

}  // namespace
}  // namespace edgegw::buffer
