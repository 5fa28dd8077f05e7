// SPDX-License-Identifier: Apache-2.0
#include "history/history.h"

#include <algorithm>
#include <map>
#include <memory>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

namespace edgegw::history {

namespace {

constexpr std::size_t kValueHeaderSize = 1 + 8 + 8 + 8;
// A run (history.h): version 2 | stored ms | count, then per reading removed | queue seq | time |
// JSON length, then the JSONs.
constexpr std::uint8_t kRunVersion = 2;
constexpr std::size_t kRunHeaderSize = 1 + 8 + 4;
constexpr std::size_t kRunItemSize = 1 + 8 + 8 + 4;

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

// One reading of a stored entry (a reading alone, or one of a run).
struct Item {
  std::uint64_t n = 0;
  bool removed = false;
  std::size_t removed_at = 0;  // the offset of its removed flag in a run's value (0: alone)
  buffer::Seq queue_seq = 0;
  std::int64_t time_ms = 0;
  std::int64_t stored_ms = 0;
  std::string_view json;
};

// False when the value is unreadable (corruption).
bool decode(std::string_view key, std::string_view v, std::vector<Item>& out) {
  out.clear();
  const std::uint64_t last = n_of(key);
  if (v.size() >= kValueHeaderSize && static_cast<std::uint8_t>(v[0]) == kValueVersion) {
    out.push_back({last, false, 0, buffer::load_be64(v.data() + 1),
                   static_cast<std::int64_t>(buffer::load_be64(v.data() + 9)),
                   static_cast<std::int64_t>(buffer::load_be64(v.data() + 17)),
                   v.substr(kValueHeaderSize)});
    return true;
  }
  if (v.size() < kRunHeaderSize || static_cast<std::uint8_t>(v[0]) != kRunVersion) return false;
  const auto stored = static_cast<std::int64_t>(buffer::load_be64(v.data() + 1));
  const std::uint32_t count = buffer::load_be32(v.data() + 9);
  if (count == 0 || count > last || (v.size() - kRunHeaderSize) / kRunItemSize < count) {
    return false;
  }
  std::size_t offset = kRunHeaderSize + std::size_t{count} * kRunItemSize;
  for (std::uint32_t i = 0; i < count; ++i) {
    const char* item = v.data() + kRunHeaderSize + i * kRunItemSize;
    const std::uint32_t size = buffer::load_be32(item + 17);
    if (size > v.size() - offset) return false;
    out.push_back({last - count + 1 + i, item[0] != 0, kRunHeaderSize + i * kRunItemSize,
                   buffer::load_be64(item + 1),
                   static_cast<std::int64_t>(buffer::load_be64(item + 9)), stored,
                   v.substr(offset, size)});
    offset += size;
  }
  return offset == v.size();
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
    std::vector<Item> items;
    if (!decode(k, view(it->value()), items)) {
      return Status::corruption("history: unreadable entry");
    }
    r.first = items.front().n;
    // The last entry of this prefix: seek past its largest possible key, step back.
    const std::string past = key(p, ~std::uint64_t{0});
    it->SeekForPrev(slice(past));
    if (!it->Valid() || !view(it->key()).starts_with(p)) {
      return Status::corruption("history: lost the end of a variable's range");
    }
    r.next = n_of(view(it->key())) + 1;
    if (!decode(view(it->key()), view(it->value()), items)) {
      return Status::corruption("history: unreadable entry");
    }
    r.last_stored_ms = items.back().stored_ms;
    std::string p_copy(p);
    ranges_.emplace(std::move(p_copy), r);
    it->Next();
  }
  return from_rocksdb(it->status(), "cannot read the history");
}

void History::on_append(rocksdb::WriteBatch& batch, const buffer::Record& record,
                        buffer::Seq queue_seq, std::int64_t stored_ms) {
  const buffer::Record* one = &record;
  on_append_run(batch, std::span(&one, 1), queue_seq, stored_ms);
}

void History::on_append_run(rocksdb::WriteBatch& batch,
                            std::span<const buffer::Record* const> records, buffer::Seq first_seq,
                            std::int64_t stored_ms) {
  if (!enabled() || records.empty()) return;
  // Each variable's readings together, in their order: one entry per variable.
  thread_local std::vector<std::uint32_t> order;
  order.resize(records.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto by_variable = [&](std::uint32_t a, std::uint32_t b) {
    return records[a]->variable < records[b]->variable;
  };
  if (!std::is_sorted(order.begin(), order.end(), by_variable)) {
    std::stable_sort(order.begin(), order.end(), by_variable);
  }
  thread_local std::vector<const buffer::Record*> group;
  thread_local std::vector<buffer::Seq> seqs;
  for (std::size_t k = 0; k < order.size();) {
    const std::string_view variable = records[order[k]]->variable;
    group.clear();
    seqs.clear();
    for (; k < order.size() && records[order[k]]->variable == variable; ++k) {
      group.push_back(records[order[k]]);
      seqs.push_back(first_seq + order[k]);
    }
    if (variable.empty() || variable.size() > kMaxVariableBytes) continue;
    std::string& p = scratch_;
    p.resize(4 + 1 + variable.size());
    buffer::store_be32(p.data(), group.front()->device);
    p[4] = static_cast<char>(variable.size());
    std::copy(variable.begin(), variable.end(), p.begin() + 5);
    std::unique_lock lock(mu_);
    auto it = ranges_.find(p);
    if (it == ranges_.end()) it = ranges_.emplace(p, Range{}).first;
    Range& r = it->second;
    const std::uint64_t first_n = r.next;
    r.next += group.size();
    r.last_stored_ms = stored_ms;
    std::uint64_t trim_to = 0;
    if (r.next - r.first > per_variable_ + trim_chunk_) trim_to = r.next - per_variable_;
    const std::uint64_t trim_from = r.first;
    if (trim_to != 0) r.first = trim_to;
    lock.unlock();
    put(batch, p, first_n, group, seqs, stored_ms);
    if (trim_to != 0) {
      (void)batch.DeleteRange(cf_, slice(key(p, trim_from)), slice(key(p, trim_to)));
    }
  }
}

void History::put(rocksdb::WriteBatch& batch, std::string_view prefix, std::uint64_t first_n,
                  std::span<const buffer::Record* const> records, std::span<const buffer::Seq> seqs,
                  std::int64_t stored_ms) {
  const std::string k = key(prefix, first_n + records.size() - 1);
  const rocksdb::Slice key_part(k.data(), k.size());
  if (records.size() == 1) {
    char header[kValueHeaderSize];
    header[0] = static_cast<char>(kValueVersion);
    buffer::store_be64(header + 1, seqs[0]);
    buffer::store_be64(header + 9, static_cast<std::uint64_t>(records[0]->time_ms));
    buffer::store_be64(header + 17, static_cast<std::uint64_t>(stored_ms));
    const rocksdb::Slice value_parts[2] = {rocksdb::Slice(header, sizeof header),
                                           slice(records[0]->json)};
    (void)batch.Put(cf_, rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value_parts, 2));
    return;
  }
  thread_local std::string value;
  value.assign(kRunHeaderSize + records.size() * kRunItemSize, '\0');
  value[0] = static_cast<char>(kRunVersion);
  buffer::store_be64(value.data() + 1, static_cast<std::uint64_t>(stored_ms));
  buffer::store_be32(value.data() + 9, static_cast<std::uint32_t>(records.size()));
  for (std::size_t i = 0; i < records.size(); ++i) {
    char* item = value.data() + kRunHeaderSize + i * kRunItemSize;
    buffer::store_be64(item + 1, seqs[i]);
    buffer::store_be64(item + 9, static_cast<std::uint64_t>(records[i]->time_ms));
    buffer::store_be32(item + 17, static_cast<std::uint32_t>(records[i]->json.size()));
  }
  for (const buffer::Record* r : records) value.append(r->json);
  (void)batch.Put(cf_, key_part, value);
}

Status History::visit(const std::string& prefix, std::uint64_t from, std::uint64_t next,
                      const std::function<bool(const Entry&)>& visit) const {
  const std::string lower = key(prefix, from);
  const std::string upper = key(prefix, next);
  const rocksdb::Slice upper_slice = slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  // Trims only ever delete entries whose last n is below `first`: no live key here is under a
  // range tombstone.
  ro.ignore_range_deletions = true;
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(ro, cf_));
  std::vector<Item> items;
  Entry e;
  e.device = buffer::load_be32(prefix.data());
  e.variable = prefix.substr(5);
  for (it->Seek(slice(lower)); it->Valid(); it->Next()) {
    if (!decode(view(it->key()), view(it->value()), items)) {
      return Status::corruption("history: unreadable entry of variable '" + e.variable + "'");
    }
    for (const Item& item : items) {
      if (item.n < from || item.removed) continue;
      e.n = item.n;
      e.queue_seq = item.queue_seq;
      e.time_ms = item.time_ms;
      e.stored_ms = item.stored_ms;
      e.json.assign(item.json);
      if (!visit(e)) return Status::ok();
    }
  }
  return from_rocksdb(it->status(), "cannot read the history");
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
    if (Status s = visit(w.prefix, from, w.range.next,
                         [&](const Entry& e) {
                           out.push_back(e);
                           return true;
                         });
        !s) {
      return s;
    }
  }
  return out;
}

Status History::remove(std::span<const Entry> entries, bool sync) {
  if (entries.empty()) return Status::ok();
  std::lock_guard lock(remove_mu_);
  // Each stored entry that holds one of them, by key: its value, edited.
  struct Edit {
    std::string value;  // empty: a reading alone, removed
    bool changed = false;
  };
  std::map<std::string, Edit> edited;
  std::vector<Item> items;
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(rocksdb::ReadOptions(), cf_));
  for (const Entry& e : entries) {
    const std::string p = prefix(e.device, e.variable);
    // The entry holding n: the first whose last n is at or after it.
    it->Seek(slice(key(p, e.n)));
    if (!it->status().ok()) return from_rocksdb(it->status(), "cannot read the history");
    if (!it->Valid() || !view(it->key()).starts_with(p) || view(it->key()).size() != p.size() + 8) {
      continue;  // gone already
    }
    const std::string k(view(it->key()));
    auto found = edited.find(k);
    if (found == edited.end())
      found = edited.emplace(k, Edit{std::string(view(it->value()))}).first;
    Edit& edit = found->second;
    if (edit.value.empty()) continue;  // a reading alone, removed already
    if (!decode(k, edit.value, items)) {
      return Status::corruption("history: unreadable entry of variable '" + e.variable + "'");
    }
    for (const Item& item : items) {
      if (item.n != e.n || item.removed) continue;
      edit.changed = true;
      if (item.removed_at == 0) {
        edit.value.clear();  // alone: the key goes
      } else {
        edit.value[item.removed_at] = 1;
      }
    }
  }
  // Only what changed is written: a run trimmed meanwhile is not brought back.
  rocksdb::WriteBatch batch;
  for (const auto& [k, edit] : edited) {
    if (!edit.changed) continue;
    const bool any_left =
        !edit.value.empty() && decode(k, edit.value, items) &&
        std::any_of(items.begin(), items.end(), [](const Item& i) { return !i.removed; });
    if (any_left) {
      (void)batch.Put(cf_, slice(k), slice(edit.value));
    } else {
      (void)batch.Delete(cf_, slice(k));
    }
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
    (void)visit(p, from, r.next, [&](const Entry&) {
      ++s.readings;
      return true;
    });
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
