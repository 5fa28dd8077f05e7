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
