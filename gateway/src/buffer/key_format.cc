// SPDX-License-Identifier: Apache-2.0
#include "buffer/key_format.h"

#include <algorithm>
#include <cstring>

#include "buffer/values.h"

namespace edgegw::buffer {

std::uint32_t load_be32(const char* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint64_t load_be64(const char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void store_be32(char* p, std::uint32_t v) noexcept {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}

void store_be64(char* p, std::uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}

QueueKey queue_key(DeviceId device, Seq seq) noexcept {
  QueueKey k;
  store_be32(k.data(), device);
  store_be64(k.data() + 4, seq);
  return k;
}

DeviceId queue_key_device(std::string_view key) noexcept {
  return key.size() == kQueueKeySize ? load_be32(key.data()) : 0;
}

Seq queue_key_seq(std::string_view key) noexcept {
  return key.size() == kQueueKeySize ? load_be64(key.data() + 4) : 0;
}

ValueHeaderBytes encode_value_header(const ValueHeader& header) noexcept {
  ValueHeaderBytes b;
  b[0] = static_cast<char>(kValueVersion);
  store_be64(b.data() + 1, header.cum_bytes);
  store_be64(b.data() + 9, static_cast<std::uint64_t>(header.stored_at_ms));
  return b;
}

std::optional<ValueHeader> decode_value_header(std::string_view value) noexcept {
  if (value.size() < kValueHeaderSize || static_cast<std::uint8_t>(value[0]) != kValueVersion) {
    return std::nullopt;
  }
  return ValueHeader{load_be64(value.data() + 1),
                     static_cast<std::int64_t>(load_be64(value.data() + 9))};
}

void encode_run(std::string& out, std::uint64_t cum_bytes, std::int64_t stored_at_ms,
                std::span<const std::string_view> jsons) {
  std::size_t size = kRunHeaderSize + 4 * jsons.size();
  for (const std::string_view j : jsons) size += j.size();
  out.resize(kRunHeaderSize + 4 * jsons.size());
  out.reserve(size);
  out[0] = static_cast<char>(kRunValueVersion);
  store_be64(out.data() + 1, cum_bytes);
  store_be64(out.data() + 9, static_cast<std::uint64_t>(stored_at_ms));
  store_be32(out.data() + 17, static_cast<std::uint32_t>(jsons.size()));
  char* lengths = out.data() + kRunHeaderSize;
  for (std::size_t i = 0; i < jsons.size(); ++i) {
    store_be32(lengths + 4 * i, static_cast<std::uint32_t>(jsons[i].size()));
  }
  for (const std::string_view j : jsons) out.append(j);
}

void encode_mixed_run(std::string& out, std::uint64_t cum_bytes, std::int64_t stored_at_ms,
                      std::span<const StoredReading> readings) {
  std::size_t size = kRunHeaderSize;
  for (const StoredReading& r : readings) size += 5 + r.bytes.size();
  out.resize(kRunHeaderSize);
  out.reserve(size);
  out[0] = static_cast<char>(kMixedRunValueVersion);
  store_be64(out.data() + 1, cum_bytes);
  store_be64(out.data() + 9, static_cast<std::uint64_t>(stored_at_ms));
  store_be32(out.data() + 17, static_cast<std::uint32_t>(readings.size()));
  for (const StoredReading& r : readings) {
    append_varint(std::uint64_t{r.bytes.size()} * 2 + (r.values ? 1 : 0), out);
    out += r.bytes;
  }
}

namespace {

// Each reading's cum_bytes, from the run's (that of its last reading) and their stored sizes.
bool set_cum_bytes(std::uint64_t cum, std::vector<EntryReading>& readings) {
  std::uint64_t sizes = 0;
  for (const EntryReading& r : readings) sizes += entry_bytes(r.stored_size());
  if (sizes > cum) return false;
  std::uint64_t c = cum - sizes;  // just before the run
  for (EntryReading& r : readings) {
    c += entry_bytes(r.stored_size());
    r.cum_bytes = c;
  }
  return true;
}

bool decode_mixed_run(Seq last, std::string_view value, DecodedEntry& out) {
  if (value.size() < kRunHeaderSize) return false;
  const std::uint64_t cum = load_be64(value.data() + 1);
  out.stored_at_ms = static_cast<std::int64_t>(load_be64(value.data() + 9));
  const std::uint32_t count = load_be32(value.data() + 17);
  if (count == 0 || count > last || count > kMaxRunReadings) return false;
  out.rebuilt.clear();
  out.readings.resize(count);
  // The rebuilt JSON's place, set as views once `rebuilt` no longer grows.
  thread_local std::vector<std::pair<std::size_t, std::size_t>> spans;
  spans.assign(count, {0, 0});
  std::string_view in = value.substr(kRunHeaderSize);
  ReadingValues values;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t prefix = 0;
    if (!read_varint(in, prefix) || prefix / 2 > in.size()) return false;
    const std::string_view bytes = in.substr(0, prefix / 2);
    in.remove_prefix(bytes.size());
    EntryReading& r = out.readings[i];
    r.seq = last - count + 1 + i;
    r.stored = bytes;
    r.values = (prefix & 1) != 0;
    if (!r.values) {
      r.json = bytes;
      continue;
    }
    if (!decode_values(bytes, values)) return false;
    spans[i].first = out.rebuilt.size();
    append_values_json(values, out.rebuilt);
    spans[i].second = out.rebuilt.size() - spans[i].first;
  }
  if (!in.empty()) return false;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (spans[i].second != 0) {
      out.readings[i].json = std::string_view(out.rebuilt).substr(spans[i].first, spans[i].second);
    }
  }
  return set_cum_bytes(cum, out.readings);
}

}  // namespace

bool decode_entry(std::string_view key, std::string_view value, DecodedEntry& out) {
  out.readings.clear();
  const Seq last = queue_key_seq(key);
  if (value.empty() || last == 0) return false;
  if (static_cast<std::uint8_t>(value[0]) == kValueVersion) {
    auto h = decode_value_header(value);
    if (!h) return false;
    out.stored_at_ms = h->stored_at_ms;
    const std::string_view json = value_json(value);
    out.readings.push_back({last, h->cum_bytes, json, json});
    return true;
  }
  if (static_cast<std::uint8_t>(value[0]) == kMixedRunValueVersion) {
    return decode_mixed_run(last, value, out);
  }
  if (static_cast<std::uint8_t>(value[0]) != kRunValueVersion || value.size() < kRunHeaderSize) {
    return false;
  }
  const std::uint64_t cum = load_be64(value.data() + 1);
  out.stored_at_ms = static_cast<std::int64_t>(load_be64(value.data() + 9));
  const std::uint32_t count = load_be32(value.data() + 17);
  if (count == 0 || count > last || (value.size() - kRunHeaderSize) / 4 < count) return false;
  const char* lengths = value.data() + kRunHeaderSize;
  std::size_t offset = kRunHeaderSize + 4 * std::size_t{count};
  out.readings.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t n = load_be32(lengths + 4 * i);
    if (n > value.size() - offset) return false;
    out.readings[i].seq = last - count + 1 + i;
    out.readings[i].json = value.substr(offset, n);
    out.readings[i].stored = out.readings[i].json;
    offset += n;
  }
  if (offset != value.size()) return false;
  return set_cum_bytes(cum, out.readings);
}

std::string meta_device_key(std::string_view device_key) {
  std::string k(kMetaDevicePrefix);
  k += device_key;
  return k;
}

std::string meta_source_prefix(std::string_view source) {
  std::string k(kMetaSourcePrefix);
  const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(source.size(), 0xFFFF));
  k.push_back(static_cast<char>(n >> 8));
  k.push_back(static_cast<char>(n & 0xFF));
  k.append(source.substr(0, n));
  return k;
}

std::string meta_source_key(std::string_view source, std::string_view key) {
  std::string k = meta_source_prefix(source);
  k.append(key);
  return k;
}

std::string meta_head_key(DeviceId device) {
  std::string k = "head/";
  k.resize(k.size() + 4);
  store_be32(k.data() + 5, device);
  return k;
}

std::string meta_withdrawn_key(DeviceId device, Seq seq) {
  std::string k(kMetaWithdrawnPrefix);
  k.resize(k.size() + 12);
  store_be32(k.data() + kMetaWithdrawnPrefix.size(), device);
  store_be64(k.data() + kMetaWithdrawnPrefix.size() + 4, seq);
  return k;
}

std::string encode_head(const HeadMark& head) {
  std::string v(16, '\0');
  store_be64(v.data(), head.removed_up_to);
  store_be64(v.data() + 8, head.cum_bytes);
  return v;
}

std::optional<HeadMark> decode_head(std::string_view value) noexcept {
  if (value.size() != 16) return std::nullopt;
  return HeadMark{load_be64(value.data()), load_be64(value.data() + 8)};
}

std::array<char, 8> dead_letter_key(std::uint64_t id) noexcept {
  std::array<char, 8> k;
  store_be64(k.data(), id);
  return k;
}

std::uint64_t dead_letter_id(std::string_view key) noexcept {
  return key.size() == 8 ? load_be64(key.data()) : 0;
}

std::string encode_dead_letter(const DeadLetter& letter) {
  const std::size_t reason_len = std::min<std::size_t>(letter.reason.size(), 0xffff);
  std::string v(1 + 4 + 4 + 8 + 2, '\0');
  v[0] = 1;
  store_be32(v.data() + 1, letter.device);
  store_be32(v.data() + 5, static_cast<std::uint32_t>(letter.http_status));
  store_be64(v.data() + 9, static_cast<std::uint64_t>(letter.time_ms));
  v[17] = static_cast<char>(reason_len >> 8);
  v[18] = static_cast<char>(reason_len & 0xff);
  v.append(letter.reason, 0, reason_len);
  v += letter.reading_json;
  return v;
}

std::optional<DeadLetter> decode_dead_letter(std::string_view key, std::string_view value) {
  if (key.size() != 8 || value.size() < 19 || value[0] != 1) return std::nullopt;
  const std::size_t reason_len =
      (static_cast<std::size_t>(static_cast<unsigned char>(value[17])) << 8) |
      static_cast<unsigned char>(value[18]);
  if (value.size() < 19 + reason_len) return std::nullopt;
  DeadLetter d;
  d.id = load_be64(key.data());
  d.device = load_be32(value.data() + 1);
  d.http_status = static_cast<int>(load_be32(value.data() + 5));
  d.time_ms = static_cast<std::int64_t>(load_be64(value.data() + 9));
  d.reason = std::string(value.substr(19, reason_len));
  d.reading_json = std::string(value.substr(19 + reason_len));
  return d;
}

}  // namespace edgegw::buffer
