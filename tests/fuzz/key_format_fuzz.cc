// SPDX-License-Identifier: Apache-2.0
// Fuzzes the buffer's byte formats (gateway/src/buffer/key_format.h, buffer_format.md): every
// decoder is given the input as it comes (a store on disk can hold anything), and values read
// from the input go through encode -> decode. Invariants: no crash; a decode that succeeds
// re-encodes to the very bytes it read; encode -> decode gives back what was encoded; queue keys
// sort bytewise in (device, seq) order; a reading's values (values.h) likewise.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "buffer/key_format.h"
#include "buffer/values.h"
#include "core/time.h"
#include "fuzz_check.h"

namespace {

using edgegw::fuzz::check;
namespace buffer = edgegw::buffer;

// Reads integers and strings off the input, zeros once it runs out.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::uint64_t u64() {
    char b[8] = {};
    const std::size_t n = std::min<std::size_t>(8, in_.size());
    if (n != 0) std::memcpy(b, in_.data(), n);  // an empty view may hold a null pointer
    in_.remove_prefix(n);
    return buffer::load_be64(b);
  }
  std::uint32_t u32() { return static_cast<std::uint32_t>(u64() >> 32); }
  std::string str() {
    // The length first: as two arguments of one call, their order would be unspecified.
    const std::size_t wanted = u64() % 300;
    const std::size_t n = std::min(wanted, in_.size());
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }

 private:
  std::string_view in_;
};

std::string_view view(const auto& bytes) { return {bytes.data(), bytes.size()}; }

void decode_anything(std::string_view in) {
  const buffer::DeviceId device = buffer::queue_key_device(in);
  const buffer::Seq seq = buffer::queue_key_seq(in);
  if (in.size() == buffer::kQueueKeySize) {
    check(view(buffer::queue_key(device, seq)) == in, "a queue key re-encodes differently");
  } else {
    check(device == 0 && seq == 0, "a queue key of the wrong size decoded");
  }
  if (const auto h = buffer::decode_value_header(in)) {
    check(view(buffer::encode_value_header(*h)) == in.substr(0, buffer::kValueHeaderSize),
          "a value header re-encodes differently");
    check(buffer::value_json(in).size() == in.size() - buffer::kValueHeaderSize,
          "value_json is not the rest of the value");
  }
  // A queue entry: the first 12 bytes its key, the rest its value (one reading or a run).
  buffer::DecodedEntry entry;
  const std::string_view qkey = in.substr(0, std::min(buffer::kQueueKeySize, in.size()));
  const std::string_view qvalue = in.substr(qkey.size());
  if (buffer::decode_entry(qkey, qvalue, entry)) {
    check(!entry.readings.empty() && entry.readings.back().seq == buffer::queue_key_seq(qkey),
          "an entry's last reading is not its key's");
    if (static_cast<std::uint8_t>(qvalue[0]) == buffer::kMixedRunValueVersion) {
      std::vector<buffer::StoredReading> stored;
      for (const auto& r : entry.readings) stored.push_back({r.stored, r.values});
      std::string again;
      buffer::encode_mixed_run(again, entry.readings.back().cum_bytes, entry.stored_at_ms, stored);
      check(again == qvalue, "a run of format 3 re-encodes differently");
      for (const auto& r : entry.readings) {
        check(!r.values || (r.json.starts_with("{\"variable\":") && r.json.ends_with("}")),
              "a reading's rebuilt JSON is not a data item");
      }
    } else if (entry.readings.size() > 1) {
      std::vector<std::string_view> jsons;
      for (const auto& r : entry.readings) jsons.push_back(r.json);
      std::string again;
      buffer::encode_run(again, entry.readings.back().cum_bytes, entry.stored_at_ms, jsons);
      check(again == qvalue, "a run re-encodes differently");
    }
  }
  // A reading's values: what decodes re-encodes to the very bytes (one encoding per reading).
  buffer::ReadingValues values;
  if (buffer::decode_values(in, values)) {
    std::string again;
    buffer::encode_values(values, again);
    check(again == in, "a reading's values re-encode differently");
    std::string json;
    buffer::append_values_json(values, json);
  }
  if (const auto head = buffer::decode_head(in)) {
    check(buffer::encode_head(*head) == in, "a head mark re-encodes differently");
  }
  const std::uint64_t id = buffer::dead_letter_id(in);
  if (in.size() == 8) check(view(buffer::dead_letter_key(id)) == in, "a dead letter id differs");
  // A dead letter: the first 8 bytes its key, the rest its value.
  const std::string_view key = in.substr(0, std::min<std::size_t>(8, in.size()));
  const std::string_view value = in.substr(key.size());
  if (const auto letter = buffer::decode_dead_letter(key, value)) {
    check(letter->id == buffer::dead_letter_id(key), "a dead letter's id is not its key's");
    check(buffer::encode_dead_letter(*letter) == value, "a dead letter re-encodes differently");
  }
}

void round_trip(std::string_view in) {
  Reader r(in);
  const buffer::DeviceId d1 = r.u32();
  const buffer::Seq s1 = r.u64();
  const buffer::DeviceId d2 = r.u32();
  const buffer::Seq s2 = r.u64();
  const auto k1 = buffer::queue_key(d1, s1);
  const auto k2 = buffer::queue_key(d2, s2);
  check(buffer::queue_key_device(view(k1)) == d1 && buffer::queue_key_seq(view(k1)) == s1,
        "queue key round trip");
  const int bytewise = view(k1).compare(view(k2));
  const bool less = d1 < d2 || (d1 == d2 && s1 < s2);
  const bool same = d1 == d2 && s1 == s2;
  check(same ? bytewise == 0 : (less ? bytewise < 0 : bytewise > 0),
        "queue keys out of (device, seq) order");

  const buffer::ValueHeader header{r.u64(), static_cast<std::int64_t>(r.u64())};
  const std::string json = r.str();
  std::string value(view(buffer::encode_value_header(header)));
  value += json;
  const auto h = buffer::decode_value_header(value);
  check(h && h->cum_bytes == header.cum_bytes && h->stored_at_ms == header.stored_at_ms,
        "value header round trip");
  check(buffer::value_json(value) == json, "value json round trip");

  // A run of the strings read next: decoded back to the same readings, sequences and cum_bytes.
  const buffer::Seq last = (s1 % 1000000) + 3;
  const std::string j1 = r.str(), j2 = r.str(), j3 = r.str();
  const std::string_view run_jsons[3] = {j1, j2, j3};
  const std::uint64_t run_cum = header.cum_bytes | (std::uint64_t{1} << 40);  // room for three
  std::string run;
  buffer::encode_run(run, run_cum, header.stored_at_ms, run_jsons);
  buffer::DecodedEntry decoded;
  const auto run_key = buffer::queue_key(d1, last);
  check(buffer::decode_entry(view(run_key), run, decoded) && decoded.readings.size() == 3 &&
            decoded.stored_at_ms == header.stored_at_ms,
        "run round trip");
  for (std::size_t i = 0; i < 3 && decoded.readings.size() == 3; ++i) {
    check(decoded.readings[i].json == run_jsons[i] && decoded.readings[i].seq == last - 2 + i,
          "a run's reading differs");
  }
  if (decoded.readings.size() == 3) {
    check(decoded.readings[2].cum_bytes == run_cum &&
              decoded.readings[1].cum_bytes == run_cum - buffer::entry_bytes(j3.size()),
          "a run's cum_bytes differ");
  }

  // A reading's values read next, alone and in a run of format 3 after a JSON one.
  const std::string variable = r.str(), unit = r.str(), text = r.str();
  const std::uint64_t bits = r.u64();
  const auto time_ms = static_cast<std::int64_t>(r.u64() % (edgegw::core::kMaxTimeMs + 1));
  edgegw::core::ValueView given;
  switch (bits % 6) {
    case 0:
      given = std::bit_cast<double>(bits);
      if (!std::isfinite(std::get<double>(given))) given = 0.5;
      break;
    case 1:
      given = static_cast<std::int64_t>(bits);
      break;
    case 2:
      given = std::string_view(text);
      break;
    case 3:
      given = (bits & 8) != 0;
      break;
    case 4:
      given = std::bit_cast<float>(static_cast<std::uint32_t>(bits >> 32));
      if (!std::isfinite(std::get<float>(given))) given = 0.1f;
      break;
    default:
      break;  // none
  }
  std::string stored_values;
  buffer::encode_values({variable, given, unit, time_ms}, stored_values);
  buffer::ReadingValues read_back;
  check(buffer::decode_values(stored_values, read_back) && read_back.variable == variable &&
            read_back.unit == unit && read_back.time_ms == time_ms &&
            read_back.value.index() == given.index(),
        "values round trip");
  const buffer::StoredReading mixed[2] = {{j1, false}, {stored_values, true}};
  std::string mixed_run;
  buffer::encode_mixed_run(mixed_run, run_cum, header.stored_at_ms, mixed);
  check(buffer::decode_entry(view(run_key), mixed_run, decoded) && decoded.readings.size() == 2 &&
            decoded.readings[0].json == j1 && decoded.readings[1].stored == stored_values &&
            decoded.readings[1].values && decoded.readings[1].cum_bytes == run_cum,
        "run of format 3 round trip");

  const buffer::HeadMark mark{r.u64(), r.u64()};
  const auto head = buffer::decode_head(buffer::encode_head(mark));
  check(head && head->removed_up_to == mark.removed_up_to && head->cum_bytes == mark.cum_bytes,
        "head mark round trip");

  buffer::DeadLetter letter;
  letter.id = r.u64();
  letter.device = r.u32();
  letter.http_status = static_cast<int>(r.u32() % 1000);
  letter.time_ms = static_cast<std::int64_t>(r.u64());
  letter.reason = r.str();
  letter.reading_json = r.str();
  const auto key = buffer::dead_letter_key(letter.id);
  const auto back = buffer::decode_dead_letter(view(key), buffer::encode_dead_letter(letter));
  check(back && back->id == letter.id && back->device == letter.device &&
            back->http_status == letter.http_status && back->time_ms == letter.time_ms &&
            back->reason == letter.reason && back->reading_json == letter.reading_json,
        "dead letter round trip");

  // Source state keys: the key follows its source's prefix, and names of other lengths differ.
  const std::string source = r.str();
  const std::string state_key = r.str();
  const std::string full = buffer::meta_source_key(source, state_key);
  const std::string prefix = buffer::meta_source_prefix(source);
  check(full.starts_with(prefix) && full.substr(prefix.size()) == state_key,
        "a source key outside its source's prefix");
  check(buffer::meta_device_key(source).starts_with(buffer::kMetaDevicePrefix),
        "a device key outside its prefix");
  const std::string withdrawn = buffer::meta_withdrawn_key(d1, s1);
  check(withdrawn.starts_with(buffer::kMetaWithdrawnPrefix) &&
            std::string_view(withdrawn).substr(buffer::kMetaWithdrawnPrefix.size()) == view(k1),
        "a withdrawn key is not its prefix and the queue key");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  decode_anything(in);
  round_trip(in);
  return 0;
}
