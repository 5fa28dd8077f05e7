// SPDX-License-Identifier: Apache-2.0
#include "buffer/buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <thread>

#include <rocksdb/db.h>

#include "buffer/values.h"
#include "support/dead_letters.h"
#include "support/subprocess.h"
#include "support/write_counter.h"

namespace edgegw::buffer {
namespace {

std::string reading(const std::string& variable, long long value) {
  return "{\"variable\":\"" + variable + "\",\"value\":" + std::to_string(value) + "}";
}

class BufferTest : public ::testing::Test {
 protected:
  Options options() {
    Options o;
    o.path = dir_.path() + "/buffer";
    o.sync = buffer::SyncMode::kNone;
    o.clock = [this] { return now_; };
    return o;
  }
  std::unique_ptr<Buffer> open(Options o) {
    auto b = Buffer::open(std::move(o));
    EXPECT_TRUE(b) << b.status().to_string();
    return b ? std::move(b).value() : nullptr;
  }
  std::unique_ptr<Buffer> open() { return open(options()); }

  // Appends `n` readings "v" = from..from+n-1 to `device`, one call.
  static void append(Buffer& b, DeviceId device, long long from, int n) {
    std::vector<std::string> jsons;
    for (int i = 0; i < n; ++i) jsons.push_back(reading("v", from + i));
    std::vector<Record> records;
    for (const auto& j : jsons) records.push_back({device, j});
    ASSERT_TRUE(b.append(records));
  }
  static std::vector<std::string> all(Buffer& b, DeviceId device) {
    auto batch = b.read(device, 1000000, std::size_t{1} << 40);
    EXPECT_TRUE(batch);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < batch->size(); ++i) out.emplace_back(batch->reading(i));
    return out;
  }

  testing::TempDir dir_;
  std::int64_t now_ = 1732579200000;
};

TEST_F(BufferTest, KeepsEachDevicesOrderAcrossReopen) {
  {
    auto b = open();
    const DeviceId a = *b->register_device("boiler-1");
    const DeviceId p = *b->register_device("press-7");
    EXPECT_EQ(*b->register_device("boiler-1"), a);
    const std::string r1 = reading("t", 1), r2 = reading("p", 2), r3 = reading("t", 3);
    const Record mixed[] = {{a, r1}, {p, r2}, {a, r3}};
    ASSERT_TRUE(b->append(mixed));
    EXPECT_EQ(all(*b, a), (std::vector<std::string>{r1, r3}));
    EXPECT_EQ(all(*b, p), (std::vector<std::string>{r2}));
    const Stats s = b->stats();
    EXPECT_EQ(s.readings, 3u);
    EXPECT_EQ(s.bytes, 3 * entry_bytes(r1.size()));
    EXPECT_EQ(s.oldest_stored_ms, now_);
  }
  auto b = open();
  const DeviceId a = *b->register_device("boiler-1");
  EXPECT_EQ(all(*b, a), (std::vector<std::string>{reading("t", 1), reading("t", 3)}));
  append(*b, a, 4, 1);
  auto batch = b->read(a, 10, 1 << 20);
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ(batch->entries[2].seq, batch->entries[1].seq + 1);
  EXPECT_EQ(batch->body,
            "[" + reading("t", 1) + "," + reading("t", 3) + "," + reading("v", 4) + "]");
  EXPECT_EQ(b->stats().readings, 4u);
}

TEST_F(BufferTest, ManyDevicesRegisterInOneWriteWithStableIds) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) keys.push_back("dev-" + std::to_string(i));
  keys.push_back("dev-7");  // a key given twice gets one queue
  std::vector<DeviceId> ids;
  {
    auto b = open();
    const DeviceId first = *b->register_device("first");
    auto r = b->register_devices(keys);
    ASSERT_TRUE(r) << r.status().to_string();
    ids = *r;
    ASSERT_EQ(ids.size(), keys.size());
    EXPECT_EQ(ids.back(), ids[7]);
    std::set<DeviceId> distinct(ids.begin(), ids.end());
    distinct.insert(first);
    EXPECT_EQ(distinct.size(), 2001u);
    append(*b, ids[1999], 1, 2);
    // Known keys: the same ids again, and a new one after the others.
    EXPECT_EQ(*b->register_devices(keys), ids);
    EXPECT_EQ(b->device_key(*b->register_device("late")), "late");
  }
  auto b = open();
  std::vector<DeviceId> again = *b->register_devices(keys);
  EXPECT_EQ(again, ids);
  EXPECT_EQ(all(*b, ids[1999]), (std::vector<std::string>{reading("v", 1), reading("v", 2)}));
  const DeviceId later = *b->register_device("later");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), later), 0);
}

TEST_F(BufferTest, ReadHonoursCountAndBytesButAlwaysGivesOne) {
  auto b = open();
  const DeviceId d = *b->register_device("d");
  append(*b, d, 0, 100);
  EXPECT_EQ(b->read(d, 10, 1 << 20)->size(), 10u);
  const std::size_t one = reading("v", 10).size();
  auto limited = b->read(d, 100, 2 + 3 * one + 2);  // "[" + 3 readings + 2 commas + "]"
  EXPECT_EQ(limited->size(), 3u);
  EXPECT_LE(limited->body.size(), 2 + 3 * one + 2);
  EXPECT_EQ(b->read(d, 100, 1)->size(), 1u);  // a reading bigger than the limit still goes
  EXPECT_TRUE(b->read(*b->register_device("empty"), 10, 1000)->empty());
}

TEST_F(BufferTest, AckRemovesThePrefixAndSequencesAreNeverReused) {
  Seq last_seq = 0;
  {
    auto b = open();
    const DeviceId d = *b->register_device("d");
    append(*b, d, 0, 10);
    auto batch = b->read(d, 4, 1 << 20);
    ASSERT_TRUE(b->ack(d, AckPoint::of(batch->entries[3])));
    EXPECT_EQ(all(*b, d).front(), reading("v", 4));
    EXPECT_EQ(b->stats().readings, 6u);
    EXPECT_EQ(b->stats().bytes, 6 * entry_bytes(reading("v", 4).size()));
    EXPECT_TRUE(b->ack(d, AckPoint::of(batch->entries[1])));  // already removed: no-op
    EXPECT_EQ(b->stats().readings, 6u);
    auto rest = b->read(d, 100, 1 << 20);
    last_seq = rest->entries.back().seq;
    ASSERT_TRUE(b->ack(d, AckPoint::of(rest->entries.back())));
    EXPECT_EQ(b->stats().readings, 0u);
    EXPECT_EQ(b->stats().bytes, 0u);
    EXPECT_EQ(b->stats().oldest_stored_ms, 0);
    EXPECT_FALSE(b->ack(d, {last_seq + 5, 0}));  // beyond the tail
  }
  auto b = open();  // empty queue after reopen: the next sequence still follows the removed ones
  const DeviceId d = *b->register_device("d");
  EXPECT_EQ(b->stats().readings, 0u);
  append(*b, d, 100, 1);
  EXPECT_EQ(b->read(d, 10, 1 << 20)->entries.front().seq, last_seq + 1);
}

// The forwarder's answers of a moment are removed in one write: acks of several devices and
// out-of-order removals together, a refused reading's dead letter with its removal; an ack of a
// whole batch takes the new head's time from the read (no read again); a bad removal fails alone
// and keeps no dead letter.
TEST_F(BufferTest, ManyDevicesRemovalsGoInOneWrite) {
  auto b = open();
  auto counter = std::make_unique<testing::WriteCounter>();
  testing::WriteCounter& written = *counter;
  b->add_write_hook(std::move(counter));
  const DeviceId d1 = *b->register_device("d1");
  const DeviceId d2 = *b->register_device("d2");
  const std::int64_t t0 = now_;
  append(*b, d1, 0, 2);
  append(*b, d2, 0, 3);
  now_ += 5000;
  append(*b, d1, 2, 1);
  auto head1 = b->read(d1, 2, 1 << 20);  // stops before the reading stored at t0 + 5 s
  auto head2 = b->read(d2, 1, 1 << 20);
  auto tail2 = b->read_from(d2, head2->entries.back().seq + 2, 10, 1 << 20);  // its 3rd alone
  ASSERT_EQ(head1->size(), 2u);
  EXPECT_EQ(head1->next.seq, head1->entries.back().seq + 1);
  EXPECT_EQ(head1->next.stored_ms, t0 + 5000);
  ASSERT_EQ(tail2->size(), 1u);
  EXPECT_EQ(tail2->next.stored_ms, 0);  // nothing after it

  const int writes_before = written.writes;
  const Removal::Refused refused{tail2->reading(0), "bad value", 400};
  const std::vector<Removal> removals = {
      {d1, AckPoint::through(*head1)},
      {d2, AckPoint::of(head2->entries.back())},  // no hint: its new head is read
      {d2, std::nullopt, tail2->entries, refused},
      {DeviceId{999}, AckPoint{1, 0}},
      {d1, AckPoint{head1->entries.back().seq + 5, 0}, {}, refused},  // beyond its queue
  };
  const std::vector<Status> statuses = b->remove(removals);
  ASSERT_EQ(statuses.size(), 5u);
  EXPECT_TRUE(statuses[0]) << statuses[0].to_string();
  EXPECT_TRUE(statuses[1]) << statuses[1].to_string();
  EXPECT_TRUE(statuses[2]) << statuses[2].to_string();
  EXPECT_EQ(statuses[3].code(), Code::kInvalidArgument);
  EXPECT_EQ(statuses[4].code(), Code::kInvalidArgument);
  EXPECT_EQ(written.writes, writes_before + 1);
  const auto letters = testing::dead_letters(*b);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reason, "bad value");
  EXPECT_EQ(letters[0].http_status, 400);
  EXPECT_EQ(letters[0].reading_json, reading("v", 2));
  EXPECT_EQ(all(*b, d1), std::vector<std::string>{reading("v", 2)});
  EXPECT_EQ(all(*b, d2), std::vector<std::string>{reading("v", 1)});
  EXPECT_EQ(b->stats().readings, 2u);
  for (const DeviceStats& s : b->device_stats()) {
    EXPECT_EQ(s.oldest_stored_ms, s.key == "d1" ? t0 + 5000 : t0) << s.key;
  }
}

// The local API's DELETE withdraws single readings; the counts must survive a restart, and a
// withdrawn tail's sequences must not be handed out again.
TEST_F(BufferTest, WithdrawalsStayCountedOutAcrossReopen) {
  const std::uint64_t one = entry_bytes(reading("v", 1).size());  // every reading the same size
  {
    auto b = open();
    const DeviceId d = *b->register_device("d");
    append(*b, d, 1, 8);                         // seqs 1..8
    const std::vector<Seq> seqs = {1, 4, 5, 8};  // the head, a hole, the tail
    ASSERT_EQ(*b->withdraw(d, seqs), 4u);
    EXPECT_EQ(b->stats().readings, 4u);
  }
  {
    auto b = open();
    const DeviceId d = *b->register_device("d");
    EXPECT_EQ(b->stats().readings, 4u);
    EXPECT_EQ(b->stats().bytes, 4 * one);
    EXPECT_EQ(all(*b, d), (std::vector<std::string>{reading("v", 2), reading("v", 3),
                                                    reading("v", 6), reading("v", 7)}));
    append(*b, d, 9, 1);
    auto batch = b->read(d, 10, 1 << 20);
    EXPECT_EQ(batch->entries.back().seq, 9u);                 // 8 was withdrawn, not free again
    ASSERT_TRUE(b->ack(d, AckPoint::of(batch->entries[1])));  // up to seq 3
    EXPECT_EQ(b->stats().readings, 3u);
    EXPECT_EQ(b->stats().bytes, 3 * one);
  }
  {
    auto b = open();
    const DeviceId d = *b->register_device("d");
    EXPECT_EQ(b->stats().readings, 3u);
    EXPECT_EQ(b->stats().bytes, 3 * one);
    const std::vector<Seq> rest = {6, 7, 9};  // everything left: the queue is empty
    ASSERT_EQ(*b->withdraw(d, rest), 3u);
    EXPECT_EQ(b->stats().readings, 0u);
  }
  auto b = open();
  const DeviceId d = *b->register_device("d");
  EXPECT_EQ(b->stats().readings, 0u);
  EXPECT_EQ(b->stats().bytes, 0u);
  append(*b, d, 10, 1);
  auto batch = b->read(d, 10, 1 << 20);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ(batch->entries.front().seq, 10u);
  ASSERT_TRUE(b->ack(d, AckPoint::of(batch->entries.front())));
  EXPECT_EQ(b->stats().readings, 0u);
  EXPECT_EQ(b->stats().bytes, 0u);
}

// The forwarder's out-of-order picks (cloud.drain: fresh_first): the span, a read from a given
// sequence, a visit back from the tail, and removals of delivered readings one by one, counted
// out at once and skipped by every later read, across a reopen too.
TEST_F(BufferTest, OutOfOrderReadsAndRemovalsKeepTheCounts) {
  const std::uint64_t one = entry_bytes(reading("v", 1).size());
  {
    auto b = open();
    const DeviceId d = *b->register_device("d");
    EXPECT_EQ(b->span(d).readings, 0u);
    EXPECT_EQ(b->span(d).head_age_ms, 0);
    append(*b, d, 1, 10);  // seqs 1..10
    now_ += 90'000;
    const Buffer::Span span = b->span(d);
    EXPECT_EQ(span.first, 1u);
    EXPECT_EQ(span.next, 11u);
    EXPECT_EQ(span.readings, 10u);
    EXPECT_EQ(span.head_age_ms, 90'000);

    auto tail = b->read_from(d, 9, 10, 1 << 20);
    ASSERT_TRUE(tail);
    ASSERT_EQ(tail->size(), 2u);
    EXPECT_EQ(tail->reading(0), reading("v", 9));
    ASSERT_TRUE(b->remove_delivered(d, tail->entries));  // 9 and 10
    auto picked = b->read_from(d, 5, 1, 1 << 20);
    ASSERT_TRUE(b->remove_delivered(d, picked->entries));  // 5
    ASSERT_TRUE(b->remove_delivered(d, picked->entries));  // again: nothing
    EXPECT_EQ(b->stats().readings, 7u);
    EXPECT_EQ(b->stats().bytes, 7 * one);
    EXPECT_EQ(b->span(d).readings, 7u);

    std::vector<Seq> back;
    ASSERT_TRUE(b->visit_back(d, 100, 3, [&](const Buffer::Stored& r) {
      back.push_back(r.seq);
      EXPECT_EQ(r.json, reading("v", static_cast<long long>(r.seq)));
      return true;
    }));
    EXPECT_EQ(back, (std::vector<Seq>{8, 7, 6}));
    back.clear();
    ASSERT_TRUE(b->visit_back(d, 6, 100, [&](const Buffer::Stored& r) {
      back.push_back(r.seq);
      return r.seq > 3;  // stops after 3
    }));
    EXPECT_EQ(back, (std::vector<Seq>{6, 4, 3}));
  }
  auto b = open();
  const DeviceId d = *b->register_device("d");
  EXPECT_EQ(b->stats().readings, 7u);
  auto batch = b->read(d, 100, 1 << 20);
  ASSERT_EQ(batch->size(), 7u);
  EXPECT_EQ(batch->reading(4), reading("v", 6));
  ASSERT_TRUE(b->ack(d, AckPoint::of(batch->entries.back())));  // through 8: 9, 10 were removed
  EXPECT_EQ(b->stats().readings, 0u);
  EXPECT_EQ(b->stats().bytes, 0u);
  std::vector<Seq> back;
  ASSERT_TRUE(b->visit_back(d, 100, 100, [&](const Buffer::Stored& r) {
    back.push_back(r.seq);  // nothing under the head shows
    return true;
  }));
  EXPECT_TRUE(back.empty());
}

// A closed store opened with RocksDB directly, every column family: to look at or damage its
// queue behind the buffer's back.
class RawStore {
 public:
  RawStore(const std::string& path, bool read_only) {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s =
        read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, cfs, &handles_, &raw)
                  : rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles_, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
    const auto q = std::find(names.begin(), names.end(), "queue") - names.begin();
    if (static_cast<std::size_t>(q) < handles_.size())
      queue_ = handles_[static_cast<std::size_t>(q)];
  }
  ~RawStore() {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
  }
  RawStore(const RawStore&) = delete;
  RawStore& operator=(const RawStore&) = delete;

  rocksdb::DB& db() { return *db_; }
  rocksdb::ColumnFamilyHandle* queue() { return queue_; }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* queue_ = nullptr;
};

// The live queue entries of a closed store.
std::size_t queue_entries(const std::string& path) {
  RawStore store(path, /*read_only=*/true);
  std::unique_ptr<rocksdb::Iterator> it(
      store.db().NewIterator(rocksdb::ReadOptions(), store.queue()));
  std::size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

// One append's readings of a device are stored as runs (one RocksDB entry for up to 256): read,
// acked and reopened reading by reading all the same, a run acked in part kept whole until its
// last reading goes.
TEST_F(BufferTest, ReadingsAppendedTogetherAreStoredAsRuns) {
  const std::uint64_t one = entry_bytes(reading("v", 100).size());  // 100..699: one size
  {
    auto b = open();
    const DeviceId d = *b->register_device("d");
    const DeviceId e = *b->register_device("e");
    std::vector<std::string> jsons;
    for (int i = 0; i < 600; ++i) jsons.push_back(reading("v", 100 + i));
    std::vector<Record> records;
    for (int i = 0; i < 600; ++i) records.push_back({i % 3 == 2 ? e : d, jsons[i]});
    ASSERT_TRUE(b->append(records));  // d: 400 readings (runs of 256 and 144), e: 200
    auto batch = b->read(d, 150, 1 << 20);
    ASSERT_EQ(batch->size(), 150u);
    // d's k-th reading is the append's (k-1)/2 * 3 + (k-1) % 2-th.
    EXPECT_EQ(batch->reading(149), reading("v", 100 + 223));
    EXPECT_EQ(batch->next.seq, 151u);
    ASSERT_TRUE(b->ack(d, AckPoint::through(*batch)));
    EXPECT_EQ(b->queued(d).readings, 250u);
    EXPECT_EQ(b->queued(d).bytes, 250 * one);
    const std::vector<Seq> withdrawn = {160, 400};
    ASSERT_EQ(*b->withdraw(e, std::span(&withdrawn[1], 1)), 0u);  // e has 200
    ASSERT_EQ(*b->withdraw(d, std::span(&withdrawn[0], 1)), 1u);  // inside a run
    ASSERT_EQ(*b->withdraw(d, withdrawn), 1u);                    // 400: the last run's last
  }
  // d's first run (acked in part) and its second, and e's.
  EXPECT_EQ(queue_entries(dir_.path() + "/buffer"), 3u);
  {
    auto b = open();
    const DeviceId d = *b->register_device("d");
    const DeviceId e = *b->register_device("e");
    EXPECT_EQ(b->queued(d).readings, 248u);
    EXPECT_EQ(b->queued(e).readings, 200u);
    EXPECT_EQ(b->span(d).first, 151u);
    EXPECT_EQ(b->span(d).next, 401u);
    const auto rest = all(*b, d);
    ASSERT_EQ(rest.size(), 248u);
    EXPECT_EQ(rest.front(), reading("v", 100 + 225));
    EXPECT_EQ(rest[9], reading("v", 100 + 240));      // 161: 160 was withdrawn
    EXPECT_EQ(rest.back(), reading("v", 100 + 597));  // 399: 400 was withdrawn
    auto batch = b->read(d, 1000, 1 << 20);
    ASSERT_TRUE(b->ack(d, AckPoint::through(*batch)));
    EXPECT_EQ(b->queued(d).readings, 0u);
    EXPECT_EQ(b->queued(d).bytes, 0u);
  }
  EXPECT_EQ(queue_entries(dir_.path() + "/buffer"), 1u);  // e's run: d's went whole
}

// Overwrites the queue's entry at `key` with `value`, behind the buffer's back (a damaged disk).
void put_queue_entry(const std::string& path, const QueueKey& key, std::string_view value) {
  RawStore store(path, /*read_only=*/false);
  ASSERT_NE(store.queue(), nullptr);
  EXPECT_TRUE(store.db()
                  .Put(rocksdb::WriteOptions(), store.queue(),
                       rocksdb::Slice(key.data(), key.size()),
                       rocksdb::Slice(value.data(), value.size()))
                  .ok());
}

// Opening the buffer at `o` fails as damaged, saying `where`.
void expect_damage_found(const Options& o, std::string_view where) {
  auto b = Buffer::open(o);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.status().code(), Code::kCorruption);
  EXPECT_NE(b.status().to_string().find(where), std::string::npos) << b.status().to_string();
}

// An entry that cannot be decoded is an error naming the device and the sequence, never a
// reading made up or skipped.
TEST_F(BufferTest, AnUnreadableEntryIsAnErrorThatSaysWhere) {
  {
    auto b = open();
    append(*b, *b->register_device("d"), 1, 3);  // one run, keyed 3
  }
  ASSERT_NO_FATAL_FAILURE(put_queue_entry(options().path, queue_key(1, 3), "\x02garbage"));
  expect_damage_found(options(), "unreadable entry at sequence 3 in the queue of device 'd'");
}

// A format-3 run whose header is whole but one of whose readings' values is damaged (a NaN where
// the cloud's JSON can carry none) is the same located error: the run's other readings are not
// delivered around it, and no value is made up for it.
TEST_F(BufferTest, AFormat3RunWithDamagedValuesIsAnErrorThatSaysWhere) {
  std::string good, damaged;
  encode_values({"v", core::ValueView{1.5}, "", now_}, good);
  encode_values({"v", core::ValueView{2.5}, "", now_}, damaged);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  damaged.replace(damaged.size() - sizeof nan, sizeof nan,
                  std::string_view(reinterpret_cast<const char*>(&nan), sizeof nan));
  ReadingValues check;
  ASSERT_TRUE(decode_values(good, check));
  ASSERT_FALSE(decode_values(damaged, check));
  {
    auto b = open();
    const DeviceId d = *b->register_device("d");
    const Record records[] = {{.device = d, .json = {}, .values = good},
                              {.device = d, .json = {}, .values = good},
                              {.device = d, .json = {}, .values = good}};
    ASSERT_TRUE(b->append(records));  // one run, keyed 3
  }
  const StoredReading run[] = {{good, true}, {damaged, true}, {good, true}};
  std::string value;
  encode_mixed_run(value, 3 * entry_bytes(good.size()), now_, run);
  ASSERT_NO_FATAL_FAILURE(put_queue_entry(options().path, queue_key(1, 3), value));
  expect_damage_found(options(), "unreadable entry at sequence 3 in the queue of device 'd'");
}

TEST_F(BufferTest, RejectNewRefusesWholeAppendsWhenFull) {
  Options o = options();
  o.on_full = buffer::OnFull::kRejectNew;
  o.max_bytes = 50 * entry_bytes(reading("v", 10).size());
  auto b = open(o);
  const DeviceId d = *b->register_device("d");
  append(*b, d, 10, 45);
  std::vector<std::string> jsons(10, reading("v", 99));
  std::vector<Record> records;
  for (const auto& j : jsons) records.push_back({d, j});
  const Status s = b->append(records);
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_NE(s.message().find("buffer full"), std::string_view::npos) << s.message();
  EXPECT_EQ(b->stats().readings, 45u);  // nothing of the refused call was kept
  EXPECT_EQ(b->stats().rejected_full, 10u);
  append(*b, d, 55, 5);  // what fits still goes in
  EXPECT_EQ(b->stats().readings, 50u);
}

TEST_F(BufferTest, DropOldestDropsTheOldestDevicesHeadFirst) {
  Options o = options();
  o.on_full = buffer::OnFull::kDropOldest;
  const std::uint64_t one = entry_bytes(reading("v", 10).size());
  o.max_bytes = 100 * one;
  auto b = open(o);
  const DeviceId old_dev = *b->register_device("old");
  const DeviceId new_dev = *b->register_device("new");
  append(*b, old_dev, 10, 50);
  now_ += 1000;
  append(*b, new_dev, 10, 50);
  now_ += 1000;
  append(*b, new_dev, 60, 5);  // 5 over: the oldest readings (of "old") make room
  const Stats s = b->stats();
  EXPECT_LE(s.bytes, o.max_bytes);
  EXPECT_EQ(s.dropped_oldest, 5u);
  EXPECT_EQ(all(*b, old_dev).front(), reading("v", 15));
  EXPECT_EQ(all(*b, new_dev).size(), 55u);
  EXPECT_EQ(s.rejected_full, 0u);
}

// Producers that find the buffer full wait for the one dropping (its scans run without the
// buffer's lock) and look again: together they drop what is needed, not a chunk each.
TEST_F(BufferTest, ConcurrentProducersOnAFullBufferDropOnlyWhatIsNeeded) {
  Options o = options();
  o.on_full = buffer::OnFull::kDropOldest;
  const std::uint64_t one = entry_bytes(reading("v", 100).size());
  o.max_bytes = 200 * one;
  auto b = open(o);
  constexpr int kThreads = 4;
  constexpr int kCalls = 200;
  std::vector<DeviceId> ids;
  for (int t = 0; t < kThreads; ++t) ids.push_back(*b->register_device("d" + std::to_string(t)));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Values of three digits: every reading has the same size.
      for (int c = 0; c < kCalls; ++c) append(*b, ids[static_cast<std::size_t>(t)], 100 + c * 3, 3);
    });
  }
  for (auto& th : threads) th.join();
  const Stats s = b->stats();
  EXPECT_EQ(s.rejected_full, 0u);
  EXPECT_LE(s.bytes, o.max_bytes);
  EXPECT_EQ(s.appended, static_cast<std::uint64_t>(kThreads * kCalls * 3));
  EXPECT_EQ(s.readings + s.dropped_oldest, s.appended);
  // At most one chunk (1% of max_bytes, here 2 readings) and one append (3) short of full.
  EXPECT_GE(s.readings, 200u - 2 - 3);
  for (const DeviceId id : ids) {
    const auto values = all(*b, id);
    for (std::size_t i = 0; i < values.size(); ++i) {  // what is left is the newest, in order
      EXPECT_EQ(values[i], reading("v", 100 + kCalls * 3 - static_cast<long long>(values.size()) +
                                            static_cast<long long>(i)));
    }
  }
}

TEST_F(BufferTest, ExpireDropsWhatIsOlderThanMaxAge) {
  Options o = options();
  o.max_age = std::chrono::hours(1);
  auto b = open(o);
  const DeviceId d = *b->register_device("d");
  append(*b, d, 0, 10);
  now_ += 30 * 60 * 1000;
  append(*b, d, 10, 5);
  now_ += 31 * 60 * 1000;  // the first 10 are 61 minutes old, the next 5 are 31
  auto dropped = b->expire();
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, 10u);
  EXPECT_EQ(all(*b, d).front(), reading("v", 10));
  EXPECT_EQ(b->stats().dropped_max_age, 10u);
  EXPECT_EQ(b->stats().oldest_stored_ms, now_ - 31 * 60 * 1000);
  EXPECT_EQ(*b->expire(), 0u);
}

TEST_F(BufferTest, DeadLettersRoundTrip) {
  auto b = open();
  const DeviceId d = *b->register_device("d");
  append(*b, d, 0, 3);
  auto batch = b->read(d, 10, 1 << 20);
  ASSERT_TRUE(b->dead_letter(d, batch->reading(1), "variable refused by the cloud", 400));
  ASSERT_TRUE(b->ack(d, AckPoint::of(batch->entries[2])));
  EXPECT_EQ(b->stats().dead_letters, 1u);
  std::vector<DeadLetter> seen;
  ASSERT_TRUE(b->for_each_dead_letter([&](const DeadLetter& l) {
    seen.push_back(l);
    return true;
  }));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].reading_json, reading("v", 1));
  EXPECT_EQ(seen[0].http_status, 400);
  EXPECT_EQ(seen[0].reason, "variable refused by the cloud");
  EXPECT_EQ(seen[0].time_ms, now_);
  EXPECT_EQ(b->device_key(seen[0].device), "d");

  EXPECT_EQ(*b->retry_dead_letters(), 1u);  // back at the tail of its queue
  EXPECT_EQ(all(*b, d), (std::vector<std::string>{reading("v", 1)}));
  EXPECT_EQ(b->stats().dead_letters, 0u);

  ASSERT_TRUE(b->dead_letter(d, reading("v", 7), "x", 422));
  ASSERT_TRUE(b->dead_letter(d, reading("v", 8), "y", 422));
  b.reset();
  b = open();
  EXPECT_EQ(b->stats().dead_letters, 2u);  // counted again at open
  EXPECT_EQ(*b->purge_dead_letters(), 2u);
  EXPECT_EQ(b->stats().dead_letters, 0u);
  int left = 0;
  ASSERT_TRUE(b->for_each_dead_letter([&](const DeadLetter&) { return ++left, true; }));
  EXPECT_EQ(left, 0);
}

// A retry re-queues and removes the dead letters in one write: refused (here: the buffer is
// full), they all stay dead letters; a read-only buffer refuses to retry.
TEST_F(BufferTest, ARefusedRetryKeepsEveryDeadLetter) {
  Options o = options();
  o.on_full = buffer::OnFull::kRejectNew;
  o.max_bytes = 10 * entry_bytes(reading("v", 1).size());
  {
    auto b = open(o);
    const DeviceId d = *b->register_device("d");
    ASSERT_TRUE(b->dead_letter(d, reading("v", 7), "x", 422));
    ASSERT_TRUE(b->dead_letter(d, reading("v", 8), "y", 422));
    append(*b, d, 0, 10);
    auto retried = b->retry_dead_letters();
    ASSERT_FALSE(retried);
    EXPECT_EQ(retried.status().code(), Code::kResourceExhausted);
    EXPECT_EQ(b->stats().dead_letters, 2u);
    EXPECT_EQ(all(*b, d).size(), 10u);
  }
  {
    Options ro = o;
    ro.read_only = true;
    auto b = open(ro);
    auto retried = b->retry_dead_letters();
    ASSERT_FALSE(retried);
    EXPECT_EQ(retried.status().code(), Code::kPermissionDenied);
    EXPECT_EQ(b->stats().dead_letters, 2u);
  }
  auto b = open(o);
  EXPECT_EQ(b->stats().dead_letters, 2u);
  const DeviceId d = *b->register_device("d");
  auto batch = b->read(d, 10, 1 << 20);
  ASSERT_TRUE(b->ack(d, AckPoint::of(batch->entries.back())));
  EXPECT_EQ(*b->retry_dead_letters(), 2u);
  EXPECT_EQ(b->stats().dead_letters, 0u);
  EXPECT_EQ(all(*b, d), (std::vector<std::string>{reading("v", 7), reading("v", 8)}));
}

TEST_F(BufferTest, ConcurrentProducersAreGroupCommittedInOrder) {
  Options o = options();
  o.sync = buffer::SyncMode::kAlways;
  auto b = open(o);
  constexpr int kThreads = 4;
  constexpr int kCalls = 300;
  std::vector<DeviceId> ids;
  for (int t = 0; t < kThreads; ++t) ids.push_back(*b->register_device("d" + std::to_string(t)));
  std::atomic<int> notified{0};
  b->set_on_append([&](DeviceId) { ++notified; });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) append(*b, ids[static_cast<std::size_t>(t)], c * 3, 3);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(notified.load(), kThreads * kCalls);
  for (int t = 0; t < kThreads; ++t) {
    const auto values = all(*b, ids[static_cast<std::size_t>(t)]);
    ASSERT_EQ(values.size(), static_cast<std::size_t>(kCalls * 3));
    for (int i = 0; i < kCalls * 3; ++i)
      EXPECT_EQ(values[static_cast<std::size_t>(i)], reading("v", i));
  }
  EXPECT_EQ(b->stats().readings, static_cast<std::uint64_t>(kThreads * kCalls * 3));
}

TEST_F(BufferTest, DamagedStoreIsAClearErrorAndRepairSalvagesIt) {
  {
    auto b = open();
    const DeviceId d = *b->register_device("d");
    append(*b, d, 0, 20);
  }
  const std::string path = options().path;
  // Damage the MANIFEST, the file that lists the store's tables.
  std::string manifest;
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    if (e.path().filename().string().starts_with("MANIFEST-")) manifest = e.path();
  }
  ASSERT_FALSE(manifest.empty());
  {
    std::fstream f(manifest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.write("garbage garbage garbage garbage", 31);
  }
  auto broken = Buffer::open(options());
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.status().code(), Code::kCorruption);
  EXPECT_NE(broken.status().message().find("edgegw buffer repair"), std::string_view::npos)
      << broken.status().message();
  EXPECT_TRUE(std::filesystem::exists(path));  // never wiped

  ASSERT_TRUE(repair(path));
  auto b = open();
  ASSERT_TRUE(b);
  const DeviceId d = *b->register_device("d");
  EXPECT_EQ(all(*b, d).size(), 20u);
}

TEST_F(BufferTest, ReadOnlyOpenOfAMissingStoreSaysSo) {
  Options o = options();
  o.path = dir_.path() + "/nothing-here";
  o.read_only = true;
  auto missing = Buffer::open(o);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_F(BufferTest, ReadOnlyOpenSeesTheDataOfARunningWriter) {
  auto writer = open();
  const DeviceId d = *writer->register_device("d");
  append(*writer, d, 0, 7);
  Options o = options();
  o.read_only = true;
  auto reader = open(o);
  ASSERT_TRUE(reader);
  const auto stats = reader->device_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].key, "d");
  EXPECT_EQ(stats[0].readings, 7u);
  EXPECT_EQ(reader->append(std::vector<Record>{{d, "{}"}}).code(), Code::kPermissionDenied);
}

// Readings given as values (values.h) are stored so, counted as stored, read back as their JSON,
// and taken out exactly by withdrawals, acks and removals of delivered readings, across a reopen.
TEST_F(BufferTest, ReadingsGivenAsValuesAreCountedAsStoredAndReadAsJson) {
  std::vector<std::string> values(6), jsons(6);
  for (int i = 0; i < 6; ++i) {
    const ReadingValues v{"v", std::int64_t{i}, "", now_ + i};
    encode_values(v, values[i]);
    append_values_json(v, jsons[i]);
  }
  const std::string plain =
      R"({"variable":"g","value":1,"time":"2024-11-26T00:00:00.000Z","group":"x"})";
  std::uint64_t bytes = 0;
  std::vector<Record> records;
  for (int i = 0; i < 6; ++i) {
    records.push_back({.device = 1, .json = {}, .values = values[i]});
    bytes += entry_bytes(values[i].size());
    if (i == 2) {
      records.push_back({1, plain});  // among them, one given as JSON
      bytes += entry_bytes(plain.size());
    }
  }
  {
    auto b = open();
    const DeviceId d = *b->register_device("dev");
    ASSERT_EQ(d, 1u);
    ASSERT_TRUE(b->append(records));
    std::vector<std::string> expected(jsons.begin(), jsons.begin() + 3);
    expected.push_back(plain);
    expected.insert(expected.end(), jsons.begin() + 3, jsons.end());
    EXPECT_EQ(all(*b, d), expected);
    EXPECT_EQ(b->queued(d).bytes, bytes);
    EXPECT_EQ(b->stats().bytes, bytes);
    // Withdraw the JSON one (seq 4) and a values one (seq 6); ack 1..2; remove 3 as delivered.
    const Seq gone[2] = {4, 6};
    ASSERT_EQ(*b->withdraw(d, gone), 2u);
    bytes -= entry_bytes(plain.size()) + entry_bytes(values[4].size());
    EXPECT_EQ(b->queued(d).bytes, bytes);
    auto batch = b->read(d, 2, 1 << 20);
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->size(), 2u);
    EXPECT_EQ(batch->entries[1].stored_size, values[1].size());
    ASSERT_TRUE(b->ack(d, AckPoint::through(*batch)));
    bytes -= entry_bytes(values[0].size()) + entry_bytes(values[1].size());
    auto third = b->read(d, 1, 1 << 20);
    ASSERT_TRUE(third);
    ASSERT_TRUE(b->remove_delivered(d, third->entries));
    bytes -= entry_bytes(values[2].size());
    EXPECT_EQ(b->queued(d).bytes, bytes);
    EXPECT_EQ(b->queued(d).readings, 2u);
  }
  auto b = open();
  const DeviceId d = *b->register_device("dev");
  EXPECT_EQ(all(*b, d), (std::vector<std::string>{jsons[3], jsons[5]}));
  EXPECT_EQ(b->queued(d).bytes, bytes);
}

// A hook that wants the readings gets each one's JSON, variable, time and number, even when the
// appender gave only its values (it asked before the hook came to want them); one that does not
// want them does not make appenders fill them in.
TEST_F(BufferTest, AHookGetsTheJsonOfReadingsGivenAsValues) {
  struct Seen final : WriteHook {
    void on_append(rocksdb::WriteBatch&, const Record& r, Seq, std::int64_t) override {
      got.push_back(std::string(r.json) + " " + std::string(r.variable) + " " +
                    std::to_string(r.time_ms) + " " + (r.number ? std::to_string(*r.number) : "-"));
    }
    bool wants_readings() const override { return wants; }
    bool wants = false;
    std::vector<std::string> got;
  };
  auto b = open();
  const DeviceId d = *b->register_device("dev");
  auto hook = std::make_unique<Seen>();
  Seen& seen = *hook;
  b->add_write_hook(std::move(hook));
  EXPECT_FALSE(b->hooks_want_readings());
  seen.wants = true;
  b->hooks_changed();
  EXPECT_TRUE(b->hooks_want_readings());
  std::string a, t, f;
  encode_values({"a", 2.5, "C", 5}, a);
  encode_values({"t", std::string_view("x"), "", 6}, t);
  encode_values({"f", 215.3f, "", 7}, f);  // the number is 215.3, as its text: not 215.300003
  ASSERT_TRUE(b->append(std::vector<Record>{{.device = d, .json = {}, .values = a},
                                            {.device = d, .json = {}, .values = t},
                                            {.device = d, .json = {}, .values = f}}));
  EXPECT_EQ(
      seen.got,
      (std::vector<std::string>{
          R"({"variable":"a","value":2.5,"unit":"C","time":"1970-01-01T00:00:00.005Z"} a 5 2.500000)",
          R"({"variable":"t","value":"x","time":"1970-01-01T00:00:00.006Z"} t 6 -)",
          R"({"variable":"f","value":215.3,"time":"1970-01-01T00:00:00.007Z"} f 7 215.300000)"}));
}

}  // namespace
}  // namespace edgegw::buffer
