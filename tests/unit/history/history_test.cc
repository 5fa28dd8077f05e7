// SPDX-License-Identifier: Apache-2.0
#include "history/history.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace edgegw::history {
namespace {

using testing_util::HistoryTest;

std::vector<std::int64_t> values_of(const std::vector<Entry>& entries) {
  std::vector<std::int64_t> out;
  for (const Entry& e : entries) {
    const auto at = e.json.find("\"value\":");
    out.push_back(std::stoll(e.json.substr(at + 8)));
  }
  return out;
}

TEST_F(HistoryTest, KeepsTheNewestPerVariableAcrossReopen) {
  buffer::DeviceId boiler = 0, press = 0;
  {
    auto b = open(10);
    boiler = *b->register_device("boiler-1");
    press = *b->register_device("press-7");
    append(*b, boiler, "temp", 0, 25);
    append(*b, boiler, "hum", 100, 3);
    append(*b, press, "temp", 500, 2);
    auto temp = of(*b)->entries(boiler, std::vector<std::string>{"temp"});
    ASSERT_TRUE(temp);
    EXPECT_EQ(values_of(*temp),
              (std::vector<std::int64_t>{15, 16, 17, 18, 19, 20, 21, 22, 23, 24}));
  }
  auto b = open(10);
  auto all = of(*b)->entries(boiler, {});
  ASSERT_TRUE(all);
  // Every variable of the device (sorted by name), each in arrival order; not the other device's.
  EXPECT_EQ(values_of(*all),
            (std::vector<std::int64_t>{100, 101, 102, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}));
  append(*b, boiler, "temp", 25, 1);
  auto temp = of(*b)->entries(boiler, std::vector<std::string>{"temp"});
  ASSERT_TRUE(temp);
  EXPECT_EQ(temp->size(), 10u);
  EXPECT_EQ(values_of(*temp).back(), 25);
  EXPECT_EQ(temp->back().queue_seq, 29u);  // its sequence in boiler-1's queue
  const DeviceSummary s = of(*b)->summary(boiler);
  EXPECT_EQ(s.readings, 13u);
  EXPECT_EQ(s.last_input_ms, now_);
}

TEST_F(HistoryTest, ForwardingDoesNotEmptyIt) {
  auto b = open(100);
  const auto dev = *b->register_device("boiler-1");
  append(*b, dev, "temp", 0, 5);
  auto batch = b->read(dev, 100, 1 << 20);
  ASSERT_TRUE(batch);
  ASSERT_TRUE(b->ack(dev, buffer::AckPoint::of(batch->entries.back())));
  EXPECT_EQ(b->queued(dev).readings, 0u);
  EXPECT_EQ(of(*b)->entries(dev, {})->size(), 5u);
}

TEST_F(HistoryTest, ReadingsWithoutAVariableAreNotKept) {
  auto b = open(100);
  const auto dev = *b->register_device("boiler-1");
  const std::string json = R"({"variable":"temp","value":1})";
  const buffer::Record plain{dev, json};  // e.g. a dead letter re-queued: already in the history
  ASSERT_TRUE(b->append({&plain, 1}));
  EXPECT_TRUE(of(*b)->entries(dev, {})->empty());
  EXPECT_EQ(b->queued(dev).readings, 1u);
}

TEST_F(HistoryTest, DisabledKeepsNothingAndClearsAnEarlierRun) {
  buffer::DeviceId dev = 0;
  {
    auto b = open(100);
    dev = *b->register_device("boiler-1");
    append(*b, dev, "temp", 0, 5);
  }
  {
    auto b = open(0);
    EXPECT_EQ(of(*b), nullptr);  // no write hook: appends pay nothing for the history
    append(*b, dev, "temp", 5, 5);
    EXPECT_EQ(b->queued(dev).readings, 10u);
  }
  auto b = open(100);
  // Neither the first run's five readings nor the second's (kept while disabled).
  EXPECT_TRUE(of(*b)->entries(dev, {})->empty());
}

TEST_F(HistoryTest, WithdrawRemovesQueuedReadingsAndKeepsTheCountsRight) {
  auto b = open(100);
  const auto dev = *b->register_device("boiler-1");
  append(*b, dev, "temp", 0, 6);  // queue seqs 1..6
  const std::vector<buffer::Seq> seqs = {2, 4, 6, 6, 99};
  auto removed = b->withdraw(dev, seqs);
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 3u);  // 6 twice and 99 (never appended) count once and not at all
  EXPECT_EQ(b->queued(dev).readings, 3u);
  EXPECT_EQ(b->stats().readings, 3u);
  auto batch = b->read(dev, 100, 1 << 20);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ(batch->body, R"([{"variable":"temp","value":0,"time":"2024-01-01T00:00:00.000Z"},)"
                         R"({"variable":"temp","value":2,"time":"2024-01-01T00:00:02.000Z"},)"
                         R"({"variable":"temp","value":4,"time":"2024-01-01T00:00:04.000Z"}])");
  ASSERT_TRUE(b->ack(dev, buffer::AckPoint::of(batch->entries.back())));
  EXPECT_EQ(b->queued(dev).readings, 0u);
  EXPECT_EQ(b->stats().readings, 0u);
  EXPECT_EQ(b->stats().bytes, 0u);
  EXPECT_EQ(*b->withdraw(dev, seqs), 0u);  // forwarded meanwhile: nothing left to withdraw
}

// One append of a device is one history entry per variable (a run); trims that cut through a run,
// removals of readings inside one, and a reopen all see the readings one by one.
TEST_F(HistoryTest, AnAppendsReadingsOfAVariableAreOneEntry) {
  buffer::DeviceId dev = 0;
  {
    auto b = open(10);
    dev = *b->register_device("boiler-1");
    // temp 0..6 and hum 100..106 interleaved in one append: queue seqs 1..14.
    std::vector<std::string> jsons;
    std::vector<buffer::Record> records;
    for (int i = 0; i < 7; ++i) {
      jsons.push_back(R"({"variable":"temp","value":)" + std::to_string(i) + "}");
      jsons.push_back(R"({"variable":"hum","value":)" + std::to_string(100 + i) + "}");
    }
    for (std::size_t i = 0; i < jsons.size(); ++i) {
      records.push_back({dev, jsons[i], i % 2 == 0 ? "temp" : "hum", base_ms_});
    }
    ASSERT_TRUE(b->append(records));
    auto temp = of(*b)->entries(dev, std::vector<std::string>{"temp"});
    ASSERT_TRUE(temp);
    EXPECT_EQ(values_of(*temp), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(temp->at(3).queue_seq, 7u);  // the 4th temp is the append's 7th reading
    // Past per_variable (10) and its trim chunk (1): the oldest go, the run across the cut stays
    // whole on disk but is read from the cut.
    append(*b, dev, "temp", 7, 5);
    temp = of(*b)->entries(dev, std::vector<std::string>{"temp"});
    ASSERT_TRUE(temp);
    EXPECT_EQ(values_of(*temp), (std::vector<std::int64_t>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
    // DELETE of readings inside runs: 4 (the first run) and 9 (the second).
    const std::vector<Entry> gone = {temp->at(2), temp->at(7)};
    ASSERT_TRUE(of(*b)->remove(gone, false));
    ASSERT_TRUE(of(*b)->remove(gone, false));  // again: nothing
    EXPECT_EQ(of(*b)->summary(dev).readings, 8u + 7u);
  }
  auto b = open(10);
  auto all = of(*b)->entries(dev, {});
  ASSERT_TRUE(all);
  EXPECT_EQ(values_of(*all), (std::vector<std::int64_t>{100, 101, 102, 103, 104, 105, 106, 2, 3, 5,
                                                        6, 7, 8, 10, 11}));
  // Every reading of the second run removed: its entry goes.
  auto temp = of(*b)->entries(dev, std::vector<std::string>{"temp"});
  std::vector<Entry> rest;
  for (const Entry& e : *temp) {
    if (e.n > 7) rest.push_back(e);
  }
  ASSERT_EQ(rest.size(), 4u);
  ASSERT_TRUE(of(*b)->remove(rest, false));
  EXPECT_EQ(values_of(*of(*b)->entries(dev, std::vector<std::string>{"temp"})),
            (std::vector<std::int64_t>{2, 3, 5, 6}));
  append(*b, dev, "temp", 12, 1);  // n goes on after the last entry's
  EXPECT_EQ(of(*b)->entries(dev, std::vector<std::string>{"temp"})->back().n, 13u);
}

}  // namespace
}  // namespace edgegw::history
