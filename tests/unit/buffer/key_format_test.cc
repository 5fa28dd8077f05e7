// SPDX-License-Identifier: Apache-2.0
#include "buffer/key_format.h"

#include <gtest/gtest.h>

namespace edgegw::buffer {
namespace {

TEST(KeyFormat, QueueKeysSortByDeviceThenSequence) {
  const auto a = queue_key(1, 255);
  const auto b = queue_key(1, 256);
  const auto c = queue_key(2, 0);
  const std::string_view sa(a.data(), a.size()), sb(b.data(), b.size()), sc(c.data(), c.size());
  EXPECT_LT(sa, sb);
  EXPECT_LT(sb, sc);
  EXPECT_EQ(queue_key_device(sb), 1u);
  EXPECT_EQ(queue_key_seq(sb), 256u);
  // The bytes are the documented format (gateway/docs/buffer_format.md).
  EXPECT_EQ(std::string(b.data(), b.size()), std::string("\0\0\0\x01\0\0\0\0\0\0\x01\0", 12));
}

TEST(KeyFormat, ValueHeaderRoundTripsAndRefusesGarbage) {
  const auto h = encode_value_header({123456789, 1732579200123});
  std::string value(h.data(), h.size());
  value += "{\"variable\":\"t\"}";
  auto d = decode_value_header(value);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->cum_bytes, 123456789u);
  EXPECT_EQ(d->stored_at_ms, 1732579200123);
  EXPECT_EQ(value_json(value), "{\"variable\":\"t\"}");
  EXPECT_FALSE(decode_value_header(value.substr(0, 16)));  // truncated
  value[0] = 9;
  EXPECT_FALSE(decode_value_header(value));  // unknown version
}

// A run's bytes as buffer_format.md gives them, and each reading's sequence and cum_bytes.
TEST(KeyFormat, RunBytesAndItsReadings) {
  const std::string_view jsons[2] = {"{}", R"({"a":1})"};
  std::string value;
  encode_run(value, 1000, 0x0102, jsons);
  const std::string expected = std::string("\x02", 1) + std::string("\0\0\0\0\0\0\x03\xe8", 8) +
                               std::string("\0\0\0\0\0\0\x01\x02", 8) +
                               std::string("\0\0\0\x02", 4) + std::string("\0\0\0\x02", 4) +
                               std::string("\0\0\0\x07", 4) + "{}" + R"({"a":1})";
  EXPECT_EQ(value, expected);
  const QueueKey key = queue_key(3, 41);  // keyed by the last reading
  DecodedEntry entry;
  ASSERT_TRUE(decode_entry(std::string_view(key.data(), key.size()), value, entry));
  EXPECT_EQ(entry.stored_at_ms, 0x0102);
  ASSERT_EQ(entry.readings.size(), 2u);
  EXPECT_EQ(entry.readings[0].seq, 40u);
  EXPECT_EQ(entry.readings[0].json, "{}");
  EXPECT_EQ(entry.readings[0].cum_bytes, 1000 - entry_bytes(7));
  EXPECT_EQ(entry.readings[1].seq, 41u);
  EXPECT_EQ(entry.readings[1].cum_bytes, 1000u);
  // Lengths that do not add up, more readings than sequences, and an unknown version: refused.
  EXPECT_FALSE(decode_entry(std::string_view(key.data(), key.size()), value + "x", entry));
  const QueueKey first = queue_key(3, 1);
  EXPECT_FALSE(decode_entry(std::string_view(first.data(), first.size()), value, entry));
  std::string other = value;
  other[0] = 4;
  EXPECT_FALSE(decode_entry(std::string_view(key.data(), key.size()), other, entry));
}

TEST(KeyFormat, HeadMarkAndDeadLetterRoundTrip) {
  auto head = decode_head(encode_head({42, 9000}));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->removed_up_to, 42u);
  EXPECT_EQ(head->cum_bytes, 9000u);
  EXPECT_FALSE(decode_head("short"));

  DeadLetter d{7, 3, 400, 1732579200123, "variable refused", "{\"variable\":\"x\"}"};
  const auto key = dead_letter_key(d.id);
  auto back = decode_dead_letter(std::string_view(key.data(), key.size()), encode_dead_letter(d));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, 7u);
  EXPECT_EQ(back->device, 3u);
  EXPECT_EQ(back->http_status, 400);
  EXPECT_EQ(back->time_ms, 1732579200123);
  EXPECT_EQ(back->reason, "variable refused");
  EXPECT_EQ(back->reading_json, "{\"variable\":\"x\"}");
  EXPECT_FALSE(decode_dead_letter(std::string_view(key.data(), key.size()), "\x01short"));
}

}  // namespace
}  // namespace edgegw::buffer
