// SPDX-License-Identifier: Apache-2.0
// Writes the golden buffer stores of golden_test.cc (committed in golden/; run again only to add
// a store, never to "fix" one — they pin what older gateways left on disk):
//   build/release/tests/unit/buffer/buffer_golden_gen tests/unit/buffer/golden
// Each store is written with RocksDB directly, byte by byte as gateway/docs/buffer_format.md says,
// not through Buffer, so that they do not follow a later change of the code.
//   format1-before-history  format 1 as written before the history column family existed
//   format1-truncated-wal   format 1, five appends in the WAL only, the last one cut short
//   unsupported-version     written as a later format ("2") when this gateway read format 1; format
//                           2 came and it is now a store of format 2 that holds no runs
//   format2-runs            format 2: runs of readings keyed by their last sequence, one acked in
//                           part, a reading alone among them, a reading withdrawn inside a run
//   format3-values          format 3: a run whose readings are stored as values and as JSON, and
//                           a reading alone stored as values
//   format4-unsupported     a store of a later format ("4"), which this gateway must refuse
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "buffer/key_format.h"
#include "buffer/rocksdb_options.h"

namespace fs = std::filesystem;
using namespace edgegw::buffer;

namespace {

[[noreturn]] void die(const std::string& what, const rocksdb::Status& s) {
  std::fprintf(stderr, "golden_gen: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

void check(const rocksdb::Status& s, const std::string& what) {
  if (!s.ok()) die(what, s);
}

rocksdb::Slice slice(std::string_view v) { return {v.data(), v.size()}; }

struct Store {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;  // default, queue, meta, dead_letter[, history]
  rocksdb::ColumnFamilyHandle* queue() const { return cf[1]; }
  rocksdb::ColumnFamilyHandle* meta() const { return cf[2]; }
  rocksdb::ColumnFamilyHandle* dead() const { return cf[3]; }

  // `fresh`: a new store in place of anything at `path`.
  Store(const fs::path& path, bool with_history, bool fresh = true) {
    if (fresh) fs::remove_all(path);
    rocksdb::DBOptions o = db_options();
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, small_cf_options()},
        {"queue", queue_cf_options()},
        {"meta", small_cf_options()},
        {"dead_letter", small_cf_options()}};
    if (with_history) cfs.emplace_back("history", queue_cf_options());
    rocksdb::DB* raw = nullptr;
    check(rocksdb::DB::Open(o, path.string(), cfs, &cf, &raw), "open " + path.string());
    db.reset(raw);
  }

  void write(rocksdb::WriteBatch& b) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    check(db->Write(wo, &b), "write");
  }

  // Flushed: everything in table files, the WAL empty (a clean stop).
  void close(bool flush) {
    if (flush) check(db->Flush(rocksdb::FlushOptions(), cf), "flush");
    for (auto* h : cf) check(db->DestroyColumnFamilyHandle(h), "drop handle");
    check(db->Close(), "close");
    db.reset();
  }
};

std::string reading(int n) {
  return R"({"variable":"temperature","value":)" + std::to_string(20 + n) +
         R"(,"time":"2026-01-01T00:00:0)" + std::to_string(n) + R"(.000Z"})";
}

// Device `id` named `key` with readings seq first..last; cum_bytes as Buffer counts them.
void put_device(rocksdb::WriteBatch& b, const Store& s, DeviceId id, std::string_view key,
                Seq first, Seq last, std::uint64_t& cum, std::int64_t stored_at) {
  std::string index(4, '\0');
  store_be32(index.data(), id);
  b.Put(s.meta(), meta_device_key(key), index);
  if (first > 1) {
    b.Put(s.meta(), meta_head_key(id), encode_head(HeadMark{first - 1, cum}));
  }
  for (Seq seq = first; seq <= last; ++seq) {
    const std::string json = reading(static_cast<int>(seq));
    cum += entry_bytes(json.size());
    std::string value(encode_value_header(ValueHeader{cum, stored_at}).data(), kValueHeaderSize);
    value += json;
    const QueueKey k = queue_key(id, seq);
    b.Put(s.queue(), slice(std::string_view(k.data(), k.size())), value);
  }
}

void before_history(const fs::path& dir) {
  Store s(dir / "format1-before-history", false);
  rocksdb::WriteBatch b;
  b.Put(s.meta(), "format", "1");
  std::uint64_t cum_a = 0;
  std::uint64_t cum_b = 0;
  put_device(b, s, 1, "dev-a", 1, 3, cum_a, 1'767'225'600'000);
  // dev-b: its first reading was delivered (the head mark), two wait.
  cum_b = entry_bytes(reading(1).size());
  put_device(b, s, 2, "dev-b", 2, 3, cum_b, 1'767'225'600'000);
  DeadLetter letter;
  letter.id = 1;
  letter.device = 1;
  letter.http_status = 400;
  letter.time_ms = 1'767'225'601'000;
  letter.reason = "Variable name is invalid";
  letter.reading_json = R"({"variable":"a b","value":1})";
  const auto key = dead_letter_key(letter.id);
  b.Put(s.dead(), slice(std::string_view(key.data(), key.size())), encode_dead_letter(letter));
  s.write(b);
  s.close(true);
}

void truncated_wal(const fs::path& dir) {
  const fs::path path = dir / "format1-truncated-wal";
  {
    Store s(path, true);
    rocksdb::WriteBatch init;
    init.Put(s.meta(), "format", "1");
    s.write(init);
    s.close(true);  // the format in a table file; the appends below in the WAL only
  }
  {
    Store s(path, true, false);
    std::uint64_t cum = 0;
    for (Seq seq = 1; seq <= 5; ++seq) {
      rocksdb::WriteBatch b;  // one append: one WriteBatch, as Buffer::append writes it
      if (seq == 1) {
        put_device(b, s, 1, "dev-a", 1, 1, cum, 1'767'225'600'000);
      } else {
        const std::string json = reading(static_cast<int>(seq));
        cum += entry_bytes(json.size());
        std::string value(encode_value_header(ValueHeader{cum, 1'767'225'600'000}).data(),
                          kValueHeaderSize);
        value += json;
        const QueueKey k = queue_key(1, seq);
        b.Put(s.queue(), slice(std::string_view(k.data(), k.size())), value);
      }
      s.write(b);
    }
    s.close(false);
  }
  // Cut the last record short, as a power cut in the middle of its write would.
  for (const auto& e : fs::directory_iterator(path)) {
    if (e.path().extension() == ".log" && fs::file_size(e.path()) > 0) {
      fs::resize_file(e.path(), fs::file_size(e.path()) - 20);
    }
  }
}

// dev-a with readings 1 and 2, in a store that says it is of `format`.
void two_readings_as(const fs::path& path, const std::string& format) {
  Store s(path, true);
  rocksdb::WriteBatch b;
  b.Put(s.meta(), "format", format);
  std::uint64_t cum = 0;
  put_device(b, s, 1, "dev-a", 1, 2, cum, 1'767'225'600'000);
  s.write(b);
  s.close(true);
}

// Format 2: dev-a holds readings 1..8 as a run 1..3, reading 4 alone (a version-1 value) and a
// run 5..8; reading 1 was delivered (the head mark, inside the first run) and reading 6 withdrawn.
void format2_runs(const fs::path& dir) {
  Store s(dir / "format2-runs", true);
  rocksdb::WriteBatch b;
  b.Put(s.meta(), "format", "2");
  std::string index(4, '\0');
  store_be32(index.data(), 1);
  b.Put(s.meta(), meta_device_key("dev-a"), index);
  std::uint64_t cum = 0;
  const auto put = [&](Seq first, Seq last) {
    std::vector<std::string> jsons;
    for (Seq seq = first; seq <= last; ++seq) {
      jsons.push_back(reading(static_cast<int>(seq)));
      cum += entry_bytes(jsons.back().size());
      if (seq == 1) b.Put(s.meta(), meta_head_key(1), encode_head(HeadMark{1, cum}));
      if (seq == 6) {
        std::string mark(8, '\0');
        store_be64(mark.data(), entry_bytes(jsons.back().size()));
        b.Put(s.meta(), meta_withdrawn_key(1, 6), mark);
      }
    }
    std::string value;
    if (jsons.size() == 1) {
      value.assign(encode_value_header(ValueHeader{cum, 1'767'225'600'000}).data(),
                   kValueHeaderSize);
      value += jsons[0];
    } else {
      // By hand, as buffer_format.md says: version 2 | cum | stored_at | count | lengths | JSONs.
      value.assign(kRunHeaderSize, '\0');
      value[0] = 2;
      store_be64(value.data() + 1, cum);
      store_be64(value.data() + 9, 1'767'225'600'000);
      store_be32(value.data() + 17, static_cast<std::uint32_t>(jsons.size()));
      for (const std::string& j : jsons) {
        char length[4];
        store_be32(length, static_cast<std::uint32_t>(j.size()));
        value.append(length, 4);
      }
      for (const std::string& j : jsons) value += j;
    }
    const QueueKey k = queue_key(1, last);
    b.Put(s.queue(), slice(std::string_view(k.data(), k.size())), value);
  };
  put(1, 3);
  put(4, 4);
  put(5, 8);
  s.write(b);
  s.close(true);
}

// A varint as buffer_format.md says (LEB128), by hand.
void varint(std::string& out, std::uint64_t v) {
  for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7f) | 0x80);
  out += static_cast<char>(v);
}

// A reading's values as buffer_format.md says, by hand: type | time (zigzag) | variable | unit |
// the value (`value_bytes`, already encoded).
std::string values_of(char type, std::int64_t time_ms, std::string_view variable,
                      std::string_view unit, std::string_view value_bytes) {
  std::string v(1, type);
  varint(v, static_cast<std::uint64_t>(time_ms) << 1);  // zigzag of a positive time
  varint(v, variable.size());
  v += variable;
  varint(v, unit.size());
  v += unit;
  v += value_bytes;
  return v;
}

// Format 3: dev-a holds a run 1..3 (1 and 3 as values, 2 as JSON) and reading 4 alone, as values
// (a run of one). 1767225601000 ms is 2026-01-01T00:00:01.000Z.
void format3_values(const fs::path& dir) {
  Store s(dir / "format3-values", true);
  rocksdb::WriteBatch b;
  b.Put(s.meta(), "format", "3");
  std::string index(4, '\0');
  store_be32(index.data(), 1);
  b.Put(s.meta(), meta_device_key("dev-a"), index);
  const std::string half("\0\0\0\0\0\0\xf4\x3f", 8);  // 1.25, little-endian
  const std::vector<std::vector<std::pair<bool, std::string>>> runs = {
      {{true, values_of(2, 1'767'225'601'000, "temperature", "C", half)},
       {false, reading(2)},
       {true, values_of(4, 1'767'225'603'000, "state", "", std::string("\x04on \"", 5))}},
      {{true, values_of(3, 1'767'225'604'000, "count", "", "\x83\x01")}},  // zigzag(-66)
  };
  std::uint64_t cum = 0;
  Seq seq = 0;
  for (const auto& run : runs) {
    std::string body;
    for (const auto& [values, bytes] : run) {
      cum += entry_bytes(bytes.size());
      ++seq;
      varint(body, bytes.size() * 2 + (values ? 1 : 0));
      body += bytes;
    }
    // version 3 | cum | stored_at | count | per reading: varint (length x 2 + values) | bytes
    std::string value(kRunHeaderSize, '\0');
    value[0] = 3;
    store_be64(value.data() + 1, cum);
    store_be64(value.data() + 9, 1'767'225'600'000);
    store_be32(value.data() + 17, static_cast<std::uint32_t>(run.size()));
    value += body;
    const QueueKey k = queue_key(1, seq);
    b.Put(s.queue(), slice(std::string_view(k.data(), k.size())), value);
  }
  s.write(b);
  s.close(true);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: buffer_golden_gen DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  before_history(dir);
  truncated_wal(dir);
  two_readings_as(dir / "unsupported-version", "2");
  format2_runs(dir);
  format3_values(dir);
  two_readings_as(dir / "format4-unsupported", "4");
  // Only what a store needs: no LOG files, no LOCK, the newest OPTIONS file alone.
  for (const auto& store : fs::directory_iterator(dir)) {
    std::vector<fs::path> options;
    for (const auto& e : fs::directory_iterator(store.path())) {
      const std::string name = e.path().filename().string();
      if (name == "LOCK" || name.starts_with("LOG")) fs::remove(e.path());
      if (name.starts_with("OPTIONS-")) options.push_back(e.path());
    }
    std::sort(options.begin(), options.end());
    for (std::size_t i = 0; i + 1 < options.size(); ++i) fs::remove(options[i]);
  }
  return 0;
}
