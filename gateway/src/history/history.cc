// SPDX-License-Identifier: Apache-2.0
#include "history/history.h"

#include <algorithm>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

namespace edgegw::history {

namespace {

constexpr std::size_t kValueHeaderSize = 1 + 8 + 8 + 8;

Status from_rocksdb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNoSpace()) return Status::resource_exhausted("disk full: " + msg);
  if (s.IsCorruption()) return Status::corruption(std::move(msg));
  return Status::io_error(std::move(msg));
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

std::uint64_t n_of(std::string_view key) {
  return key.size() < 8 ? 0 : buffer::load_be64(key.data() + key.size() - 8);
}

// The prefix of a key: device (4) | length (1) | variable; empty when malformed.
std::string_view prefix_of(std::string_view key) {
  if (key.size() < 4 + 1 + 8) return {};
  const std::size_t len = static_cast<unsigned char>(key[4]);
  if (key.size() != 4 + 1 + len + 8) return {};
  return key.substr(0, 4 + 1 + len);
}

}  // namespace

History::History(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::size_t per_variable)
    : db_(db),
      cf_(cf),
      per_variable_(per_variable),
      trim_chunk_(std::max<std::size_t>(1, per_variable / 8)) {}

std::string History::prefix(buffer::DeviceId device, std::string_view variable) {
  std::string p(4 + 1 + variable.size(), '\0');
  buffer::store_be32(p.data(), device);
  p[4] = static_cast<char>(variable.size());
  std::copy(variable.begin(), variable.end(), p.begin() + 5);
  return p;
}

std::string History::key(std::string_view prefix, std::uint64_t n) {
  std::string k(prefix);
  k.resize(prefix.size() + 8);
  buffer::store_be64(k.data() + prefix.size(), n);
  return k;
}

Status History::load() {
  std::lock_guard lock(mu_);
  ranges_.clear();
  if (!enabled()) {
    // One range tombstone over everything an earlier run kept.
    const std::string from(1, '\0');
    const std::string to(4 + 1 + kMaxVariableBytes + 8 + 1, '\xff');
    rocksdb::WriteBatch batch;
    (void)batch.DeleteRange(cf_, slice(from), slice(to));
    return from_rocksdb(db_.Write(rocksdb::WriteOptions(), &batch), "cannot clear the history");
  }
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions(), cf_));
  it->SeekToFirst();
  while (it->Valid()) {
    const std::string_view k = view(it->key());
    const std::string_view p = prefix_of(k);
    if (p.empty()) return Status::corruption("history: malformed key");
    Range r;
    r.first = n_of(k);
    // The last entry of this prefix: seek past its largest possible key, step back.
    const std::string past = key(p, ~std::uint64_t{0});
    it->SeekForPrev(slice(past));
    if (!it->Valid() || !view(it->key()).starts_with(p)) {
      return Status::corruption("history: lost the end of a variable's range");
    }
    r.next = n_of(view(it->key())) + 1;
    const std::string_view v = view(it->value());
    if (v.size() >= kValueHeaderSize) {
      r.last_stored_ms = static_cast<std::int64_t>(buffer::load_be64(v.data() + 17));
    }
    std::string p_copy(p);
    ranges_.emplace(std::move(p_copy), r);
    it->Next();
  }
  return from_rocksdb(it->status(), "cannot read the history");
}

void History::on_append(rocksdb::WriteBatch& batch, const buffer::Record& record,
                        buffer::Seq queue_seq, std::int64_t stored_ms) {
  const std::string_view variable = record.variable;
  if (!enabled() || variable.empty() || variable.size() > kMaxVariableBytes) return;
  std::string& k = scratch_;
  k.resize(4 + 1 + variable.size());
  buffer::store_be32(k.data(), record.device);
  k[4] = static_cast<char>(variable.size());
  std::copy(variable.begin(), variable.end(), k.begin() + 5);
  std::unique_lock lock(mu_);
  auto it = ranges_.find(k);
  if (it == ranges_.end()) it = ranges_.emplace(k, Range{}).first;
  Range& r = it->second;
  const std::uint64_t n = r.next++;
  r.last_stored_ms = stored_ms;
  std::uint64_t trim_to = 0;
  if (r.next - r.first > per_variable_ + trim_chunk_) trim_to = r.next - per_variable_;
  const std::uint64_t trim_from = r.first;
  if (trim_to != 0) r.first = trim_to;
  lock.unlock();

  const std::size_t p = k.size();
  k.resize(p + 8);
  buffer::store_be64(k.data() + p, n);
  char header[kValueHeaderSize];
  header[0] = static_cast<char>(kValueVersion);
  buffer::store_be64(header + 1, queue_seq);
  buffer::store_be64(header + 9, static_cast<std::uint64_t>(record.time_ms));
  buffer::store_be64(header + 17, static_cast<std::uint64_t>(stored_ms));
  const rocksdb::Slice key_part(k.data(), k.size());
  const rocksdb::Slice value_parts[2] = {rocksdb::Slice(header, sizeof header), slice(record.json)};
  (void)batch.Put(cf_, rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value_parts, 2));
  if (trim_to != 0) {
    const std::string_view pre(k.data(), p);
    (void)batch.DeleteRange(cf_, slice(key(pre, trim_from)), slice(key(pre, trim_to)));
  }
}

Result<std::vector<Entry>> History::entries(buffer::DeviceId device,
                                            std::span<const std::string> variables) const {
  struct Want {
    std::string prefix;
    std::string variable;
    Range range;
  };
  std::vector<Want> wanted;
  {
    std::lock_guard lock(mu_);
    if (variables.empty()) {
      char dev[4];
      buffer::store_be32(dev, device);
      for (const auto& [p, r] : ranges_) {
        if (std::string_view(p).substr(0, 4) == std::string_view(dev, 4)) {
          wanted.push_back({p, p.substr(5), r});
        }
      }
    } else {
      for (const auto& v : variables) {
        if (v.empty() || v.size() > kMaxVariableBytes) continue;
        std::string p = prefix(device, v);
        if (auto it = ranges_.find(p); it != ranges_.end()) wanted.push_back({p, v, it->second});
      }
    }
  }
  std::sort(wanted.begin(), wanted.end(),
            [](const Want& a, const Want& b) { return a.variable < b.variable; });
  std::vector<Entry> out;
  for (const Want& w : wanted) {
    const std::uint64_t from =
        std::max(w.range.first, w.range.next > per_variable_ ? w.range.next - per_variable_ : 1);
    const std::string lower = key(w.prefix, from);
    const std::string upper = key(w.prefix, w.range.next);
    const rocksdb::Slice upper_slice = slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    // Trims only ever delete below `first`: no live key here is under a range tombstone.
    ro.ignore_range_deletions = true;
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(ro, cf_));
    for (it->Seek(slice(lower)); it->Valid(); it->Next()) {
      const std::string_view v = view(it->value());
      if (v.size() < kValueHeaderSize || static_cast<std::uint8_t>(v[0]) != kValueVersion) {
        return Status::corruption("history: unreadable entry of variable '" + w.variable + "'");
      }
      Entry e;
      e.device = device;
      e.variable = w.variable;
      e.n = n_of(view(it->key()));
      e.queue_seq = buffer::load_be64(v.data() + 1);
      e.time_ms = static_cast<std::int64_t>(buffer::load_be64(v.data() + 9));
      e.stored_ms = static_cast<std::int64_t>(buffer::load_be64(v.data() + 17));
      e.json = std::string(v.substr(kValueHeaderSize));
      out.push_back(std::move(e));
    }
    if (!it->status().ok()) return from_rocksdb(it->status(), "cannot read the history");
  }
  return out;
}

Status History::remove(std::span<const Entry> entries, bool sync) {
  if (entries.empty()) return Status::ok();
  rocksdb::WriteBatch batch;
  for (const Entry& e : entries) {
    (void)batch.Delete(cf_, slice(key(prefix(e.device, e.variable), e.n)));
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return from_rocksdb(db_.Write(wo, &batch), "cannot delete from the history");
}

DeviceSummary History::summary(buffer::DeviceId device) const {
  char dev[4];
  buffer::store_be32(dev, device);
  std::vector<std::pair<std::string, Range>> ranges;
  DeviceSummary s;
  {
    std::lock_guard lock(mu_);
    for (const auto& [p, r] : ranges_) {
      if (std::string_view(p).substr(0, 4) != std::string_view(dev, 4)) continue;
      ranges.emplace_back(p, r);
      s.last_input_ms = std::max(s.last_input_ms, r.last_stored_ms);
    }
  }
  // Counted, not computed from the ranges: DELETE /data leaves holes in them.
  for (const auto& [p, r] : ranges) {
    const std::uint64_t from =
        std::max(r.first, r.next > per_variable_ ? r.next - per_variable_ : 1);
    const std::string lower = key(p, from);
    const std::string upper = key(p, r.next);
    const rocksdb::Slice upper_slice = slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    ro.ignore_range_deletions = true;
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(ro, cf_));
    for (it->Seek(slice(lower)); it->Valid(); it->Next()) ++s.readings;
  }
  return s;
}

Status attach(buffer::Buffer& buffer, std::size_t per_variable) {
  const buffer::HookStore store = buffer.hook_store();
  if (store.db == nullptr || store.column_family == nullptr) return Status::ok();
  auto history = std::make_unique<History>(*store.db, store.column_family, per_variable);
  if (Status s = history->load(); !s) return s;
  if (history->enabled()) buffer.add_write_hook(std::move(history));
  return Status::ok();
}

History* of(const buffer::Buffer& buffer) {
  for (buffer::WriteHook* hook : buffer.write_hooks()) {
    if (auto* history = dynamic_cast<History*>(hook)) return history;
  }
  return nullptr;
}

}  // namespace edgegw::history
