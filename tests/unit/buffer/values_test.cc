// SPDX-License-Identifier: Apache-2.0
#include "buffer/values.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "buffer/key_format.h"
#include "core/time.h"

namespace edgegw::buffer {
namespace {

std::string encoded(const ReadingValues& r) {
  std::string out;
  encode_values(r, out);
  return out;
}

// Every type and its edges come back as they went in, bit for bit, and nothing is left over.
TEST(ReadingValues, RoundTripEveryTypeAndItsEdges) {
  const double denormal = std::numeric_limits<double>::denorm_min();
  const std::string long_variable(255, 'v'), long_unit(300, 'u');
  const std::vector<ReadingValues> cases = {
      {"t", 21.5, "C", 1'767'225'601'123},
      {"t", -0.0, "", 0},
      {"t", denormal, "", 2},
      {"t", std::numeric_limits<double>::max(), "", core::kMaxTimeMs},
      {"n", std::int64_t{0}, "", 1},
      {"n", std::numeric_limits<std::int64_t>::min(), "", 1},
      {"n", std::numeric_limits<std::int64_t>::max(), "kWh", 1},
      {"s", std::string_view("a \"quoted\"\n\x01 ü"), "", 1},
      {"s", std::string_view(), "", 1},
      {"b", true, "", 1},
      {"b", false, "", 1},
      {"none", std::monostate{}, "", 1},
      {long_variable, 1.0, long_unit, 5},
      {"f", 0.1f, "m", 1},
      {"f", -0.0f, "", 1},
      {"f", std::numeric_limits<float>::denorm_min(), "", 1},
      {"f", std::numeric_limits<float>::max(), "", 1},
  };
  for (const ReadingValues& r : cases) {
    const std::string bytes = encoded(r);
    ReadingValues back;
    ASSERT_TRUE(decode_values(bytes, back)) << r.variable;
    EXPECT_EQ(back.variable, r.variable);
    EXPECT_EQ(back.unit, r.unit);
    EXPECT_EQ(back.time_ms, r.time_ms);
    ASSERT_EQ(back.value.index(), r.value.index()) << r.variable;
    if (const auto* d = std::get_if<double>(&r.value)) {
      const double got = std::get<double>(back.value);
      EXPECT_EQ(std::memcmp(&got, d, sizeof got), 0) << *d;
    } else if (const auto* f = std::get_if<float>(&r.value)) {
      const float got = std::get<float>(back.value);
      EXPECT_EQ(std::memcmp(&got, f, sizeof got), 0) << *f;
    } else {
      EXPECT_EQ(back.value, r.value);
    }
    // Anything less, or more, is not one reading's values.
    EXPECT_FALSE(decode_values(std::string_view(bytes).substr(0, bytes.size() - 1), back));
    EXPECT_FALSE(decode_values(bytes + "x", back));
  }
}

// The bytes buffer_format.md gives, and the JSON they are read back as.
TEST(ReadingValues, BytesAndJsonAsDocumented) {
  const std::string bytes = encoded({"t", 1.25, "C", 1'767'225'601'000});
  // type 2 | zigzag varint of the time | 1 "t" | 1 "C" | 1.25 little-endian
  EXPECT_EQ(bytes, std::string("\x02\xd0\xaf\xd5\xed\xee\x66\x01t\x01"
                               "C"
                               "\0\0\0\0\0\0\xf4\x3f",
                               19));
  std::string json;
  ReadingValues back;
  ASSERT_TRUE(decode_values(bytes, back));
  append_values_json(back, json);
  EXPECT_EQ(json, R"({"variable":"t","value":1.25,"unit":"C","time":"2026-01-01T00:00:01.000Z"})");
  json.clear();
  const std::string text = encoded({"s", std::string_view("a\"\n"), "", 0});  // back views it
  ASSERT_TRUE(decode_values(text, back));
  append_values_json(back, json);
  EXPECT_EQ(json, R"({"variable":"s","value":"a\"\n","time":"1970-01-01T00:00:00.000Z"})");
  json.clear();
  const std::string none = encoded({"x", std::monostate{}, "", 0});
  ASSERT_TRUE(decode_values(none, back));
  append_values_json(back, json);
  EXPECT_EQ(json, R"({"variable":"x","time":"1970-01-01T00:00:00.000Z"})");
  // type 7 | time | 1 "f" | 0 | 0.1f little-endian (0x3dcccccd): read as the float's shortest text.
  const std::string f = encoded({"f", 0.1f, "", 0});
  EXPECT_EQ(f, std::string("\x07\x00\x01"
                           "f"
                           "\x00\xcd\xcc\xcc\x3d",
                           9));
  json.clear();
  ASSERT_TRUE(decode_values(f, back));
  append_values_json(back, json);
  EXPECT_EQ(json, R"({"variable":"f","value":0.1,"time":"1970-01-01T00:00:00.000Z"})");
  json.clear();
  const std::string integral = encoded({"f", 230.0f, "", 0});  // back views it
  ASSERT_TRUE(decode_values(integral, back));
  append_values_json(back, json);  // integral: as the float's text, which a reader takes as 230
  EXPECT_EQ(json, R"({"variable":"f","value":230,"time":"1970-01-01T00:00:00.000Z"})");
}

TEST(ReadingValues, GarbageIsRefused) {
  ReadingValues back;
  EXPECT_FALSE(decode_values("", back));
  std::string bytes = encoded({"t", true, "", 1});
  bytes[0] = 9;  // no such type
  EXPECT_FALSE(decode_values(bytes, back));
  bytes = encoded({"t", true, "", 1});
  bytes[2] = 50;  // a variable longer than what follows
  EXPECT_FALSE(decode_values(bytes, back));
  // A time out of range, a double that is not finite, a varint longer than its shortest form.
  EXPECT_FALSE(decode_values(encoded({"t", true, "", -1}), back));
  EXPECT_FALSE(decode_values(encoded({"t", true, "", core::kMaxTimeMs + 1}), back));
  EXPECT_FALSE(decode_values(encoded({"t", std::numeric_limits<double>::infinity(), "", 1}), back));
  EXPECT_FALSE(decode_values(encoded({"t", std::nan(""), "", 1}), back));
  EXPECT_FALSE(decode_values(encoded({"t", std::numeric_limits<float>::infinity(), "", 1}), back));
  EXPECT_FALSE(decode_values(encoded({"t", std::nanf(""), "", 1}), back));
  std::string_view overlong("\x81\x00", 2);
  std::uint64_t one = 0;
  EXPECT_FALSE(read_varint(overlong, one));
  // A varint of more than 64 bits.
  std::string_view over("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
  std::uint64_t v = 0;
  EXPECT_FALSE(read_varint(over, v));
  std::string_view max("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
  ASSERT_TRUE(read_varint(max, v));
  EXPECT_EQ(v, std::numeric_limits<std::uint64_t>::max());
  EXPECT_TRUE(max.empty());
}

// A format-3 run: its bytes, each reading's JSON (given or rebuilt), size as stored, cum_bytes.
TEST(ReadingValues, MixedRunBytesAndItsReadings) {
  const std::string values = encoded({"t", std::int64_t{-66}, "", 1'767'225'604'000});
  const std::string json = R"({"variable":"a","value":1,"time":"2026-01-01T00:00:00.000Z"})";
  const StoredReading readings[2] = {{json, false}, {values, true}};
  std::string value;
  encode_mixed_run(value, 1000, 0x0102, readings);
  std::string expected = std::string("\x03", 1) + std::string("\0\0\0\0\0\0\x03\xe8", 8) +
                         std::string("\0\0\0\0\0\0\x01\x02", 8) + std::string("\0\0\0\x02", 4);
  expected += static_cast<char>(json.size() * 2);
  expected += json;
  expected += static_cast<char>(values.size() * 2 + 1);
  expected += values;
  EXPECT_EQ(value, expected);
  const QueueKey key = queue_key(3, 41);
  const std::string_view k(key.data(), key.size());
  DecodedEntry entry;
  ASSERT_TRUE(decode_entry(k, value, entry));
  EXPECT_EQ(entry.stored_at_ms, 0x0102);
  ASSERT_EQ(entry.readings.size(), 2u);
  EXPECT_EQ(entry.readings[0].seq, 40u);
  EXPECT_EQ(entry.readings[0].json, json);
  EXPECT_EQ(entry.readings[0].stored_size(), json.size());
  EXPECT_EQ(entry.readings[0].cum_bytes, 1000 - entry_bytes(values.size()));
  EXPECT_EQ(entry.readings[1].seq, 41u);
  EXPECT_EQ(entry.readings[1].json,
            R"({"variable":"t","value":-66,"time":"2026-01-01T00:00:04.000Z"})");
  EXPECT_EQ(entry.readings[1].stored_size(), values.size());
  EXPECT_EQ(entry.readings[1].cum_bytes, 1000u);
  // Bytes left over, a reading cut short, more readings than sequences, bad values: refused.
  EXPECT_FALSE(decode_entry(k, value + "x", entry));
  EXPECT_FALSE(decode_entry(k, value.substr(0, value.size() - 1), entry));
  const QueueKey first = queue_key(3, 1);
  EXPECT_FALSE(decode_entry(std::string_view(first.data(), first.size()), value, entry));
  std::string bad = value;
  bad[bad.size() - values.size()] = 9;  // the values' type
  EXPECT_FALSE(decode_entry(k, bad, entry));
}

}  // namespace
}  // namespace edgegw::buffer
