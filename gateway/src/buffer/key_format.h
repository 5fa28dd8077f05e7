// SPDX-License-Identifier: Apache-2.0
// The bytes of the buffer (see gateway/docs/buffer_format.md). Big-endian integers, so RocksDB's
// bytewise order is (device, sequence) order and one device's queue is one contiguous range.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace edgegw::buffer {

using DeviceId = std::uint32_t;
using Seq = std::uint64_t;

// Bumped when any layout below changes; stored in meta as "format". Version 2 added runs (below),
// version 3 runs that hold readings as their values (values.h); a store of an earlier version
// holds none and opens as it is (its "format" then says 3).
inline constexpr std::string_view kFormatVersion = "3";
inline constexpr std::string_view kFormatVersion1 = "1";
inline constexpr std::string_view kFormatVersion2 = "2";

// queue: key = device (4) | seq (8)
inline constexpr std::size_t kQueueKeySize = 12;
using QueueKey = std::array<char, kQueueKeySize>;
QueueKey queue_key(DeviceId device, Seq seq) noexcept;
DeviceId queue_key_device(std::string_view key) noexcept;
Seq queue_key_seq(std::string_view key) noexcept;

// queue: value = version (1) | cum_bytes (8) | stored_at_ms (8) | the reading's cloud JSON.
// cum_bytes: the device's total entry bytes appended up to and including this one, so the bytes
// of any range are a difference of two headers, and the stats never need a scan.
inline constexpr std::uint8_t kValueVersion = 1;
inline constexpr std::size_t kValueHeaderSize = 17;
struct ValueHeader {
  std::uint64_t cum_bytes = 0;
  std::int64_t stored_at_ms = 0;
};
using ValueHeaderBytes = std::array<char, kValueHeaderSize>;
ValueHeaderBytes encode_value_header(const ValueHeader& header) noexcept;
// nullopt for a value that is too short or of an unknown version (corruption).
std::optional<ValueHeader> decode_value_header(std::string_view value) noexcept;
inline std::string_view value_json(std::string_view value) noexcept {
  return value.substr(kValueHeaderSize);
}
// What one reading costs in the byte accounting (key + value), whether it is stored alone or in a
// run: the accounting (cum_bytes, max_bytes, the stats) stays per reading.
inline std::uint64_t entry_bytes(std::size_t json_size) noexcept {
  return kQueueKeySize + kValueHeaderSize + json_size;
}

// queue: a run, several consecutive readings of one device appended together, stored as one entry
// (one RocksDB key costs ~2 us of CPU in memtable, flush and compaction, more than a reading's
// bytes): key = device | the sequence of its LAST reading, so that an ack's range delete up to a
// reading removes exactly the runs that end at or before it, and a run acked in part stays whole
// until its last reading goes. value = version 2 (1) | cum_bytes of the last reading (8) |
// stored_at_ms (8) | count (4) | each reading's JSON length (4 x count) | the JSONs, in order.
// A run of one is stored as a version-1 value.
inline constexpr std::uint8_t kRunValueVersion = 2;
inline constexpr std::size_t kRunHeaderSize = 21;
// At most this many readings, and about this many bytes of JSON, in one run: a read of part of a
// run decodes all of it.
inline constexpr std::size_t kMaxRunReadings = 256;
inline constexpr std::size_t kMaxRunJsonBytes = 64 << 10;
// The run's value for these readings' JSON: `cum_bytes` of the last one. Format 2's writer: this
// gateway writes runs of format 3 (below) and reads both; the tests and the fuzzer write this.
void encode_run(std::string& out, std::uint64_t cum_bytes, std::int64_t stored_at_ms,
                std::span<const std::string_view> jsons);

// queue: a run of format 3, whose readings are each their cloud JSON or their values (values.h),
// written for every run but a reading alone given as its JSON (a version-1 value): version 3 (1) |
// cum_bytes (8) | stored_at_ms (8) | count (4) | per reading: varint (its bytes' length x 2 + 1 for
// values, + 0 for JSON) | the bytes. A reading's size in the byte accounting is entry_bytes() of
// its bytes' length (as stored).
inline constexpr std::uint8_t kMixedRunValueVersion = 3;
struct StoredReading {
  std::string_view bytes;
  bool values = false;  // bytes are values.h's, not cloud JSON
};
void encode_mixed_run(std::string& out, std::uint64_t cum_bytes, std::int64_t stored_at_ms,
                      std::span<const StoredReading> readings);

// A stored entry's readings, of any version (`key` gives the last one's sequence).
struct EntryReading {
  Seq seq = 0;
  std::uint64_t cum_bytes = 0;
  std::string_view json;    // into the value, or the cloud JSON rebuilt from its values
  std::string_view stored;  // its bytes as stored (its JSON, or its values), into the value
  bool values = false;      // stored as its values (values.h)
  // What the byte accounting counts (entry_bytes).
  std::uint32_t stored_size() const noexcept { return static_cast<std::uint32_t>(stored.size()); }
};
struct DecodedEntry {
  std::int64_t stored_at_ms = 0;
  std::vector<EntryReading> readings;  // in sequence order; never empty once decoded
  std::string rebuilt;                 // the JSON of the readings stored as values
};
// False for a value that is too short, inconsistent or of an unknown version (corruption).
bool decode_entry(std::string_view key, std::string_view value, DecodedEntry& out);

// meta: "format" -> kFormatVersion; "device/<key>" -> DeviceId (4);
//       "head/" DeviceId (4) -> removed-up-to seq (8) | cum_bytes at it (8)
inline constexpr std::string_view kMetaFormat = "format";
std::string meta_device_key(std::string_view device_key);
inline constexpr std::string_view kMetaDevicePrefix = "device/";
std::string meta_head_key(DeviceId device);
struct HeadMark {
  Seq removed_up_to = 0;  // every seq <= this was removed (0: none yet; sequences start at 1)
  std::uint64_t cum_bytes = 0;
};
std::string encode_head(const HeadMark& head);
// "withdrawn/" DeviceId (4) seq (8) -> the reading's entry bytes (8): a reading the local Device
// API's DELETE took out of the queue (its queue key is gone), so that the stats stay exact and
// its sequence is never reused after a restart. Removed with the head's advance past it.
std::string meta_withdrawn_key(DeviceId device, Seq seq);
inline constexpr std::string_view kMetaWithdrawnPrefix = "withdrawn/";
std::optional<HeadMark> decode_head(std::string_view value) noexcept;
// "source/" name length (2) name | key -> value: a source plugin's own durable state (plugin ABI
// 1.3, e.g. the MQTT QoS 2 packet ids), written in the same batch as the readings it concerns.
inline constexpr std::string_view kMetaSourcePrefix = "source/";
std::string meta_source_prefix(std::string_view source);
std::string meta_source_key(std::string_view source, std::string_view key);

// dead_letter: key = id (8); value = version (1) | device (4) | http status (4) | time ms (8) |
//              reason length (2) | reason | the reading's cloud JSON
struct DeadLetter {
  std::uint64_t id = 0;
  DeviceId device = 0;
  int http_status = 0;  // 0: not from an HTTP answer
  std::int64_t time_ms = 0;
  std::string reason;
  std::string reading_json;
};
std::array<char, 8> dead_letter_key(std::uint64_t id) noexcept;
std::uint64_t dead_letter_id(std::string_view key) noexcept;
std::string encode_dead_letter(const DeadLetter& letter);
std::optional<DeadLetter> decode_dead_letter(std::string_view key, std::string_view value);

std::uint32_t load_be32(const char* p) noexcept;
std::uint64_t load_be64(const char* p) noexcept;
void store_be32(char* p, std::uint32_t v) noexcept;
void store_be64(char* p, std::uint64_t v) noexcept;

}  // namespace edgegw::buffer
