// SPDX-License-Identifier: Apache-2.0
// The device registry (a queue per cloud device, its index in meta) and what the buffer says of
// its queues: counts, bytes, ages.
#include "buffer/buffer.h"

#include <algorithm>

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/internal.h"

namespace edgegw::buffer {

Result<DeviceId> Buffer::register_device(std::string_view key) {
  const std::string keys[1] = {std::string(key)};
  auto ids = register_devices(keys);
  if (!ids) return ids.status();
  return ids->front();
}

Result<std::vector<DeviceId>> Buffer::register_devices(std::span<const std::string> keys) {
  std::unique_lock lock(mu_);
  std::vector<DeviceId> ids;
  ids.reserve(keys.size());
  std::size_t added = 0;
  for (const std::string& key : keys) {
    if (auto it = device_ids_.find(key); it != device_ids_.end()) {
      ids.push_back(it->second);
      continue;
    }
    if (options_.read_only) return Status::not_found("no queue for device '" + key + "'");
    const DeviceId id = next_device_id_++;
    char value[4];
    store_be32(value, id);
    Group& g = pending_locked();
    g.durable = true;
    (void)g.batch->Put(meta_, meta_device_key(key), rocksdb::Slice(value, sizeof value));
    devices_[id].key = key;
    device_ids_[key] = id;
    ids.push_back(id);
    ++added;
  }
  if (added == 0) return ids;
  // Through the group commit like any write: durable per `sync`, ordered before the appends
  // that use these ids, and one write (one fsync) for a config of 10,000 new devices. A
  // failure reloads the state from the store (commit), forgetting the new ids again.
  std::shared_ptr<Group> group = pending_;
  if (Status s = commit(lock, group); !s) return s;
  return ids;
}

std::string Buffer::device_key(DeviceId device) const {
  std::lock_guard lock(mu_);
  auto it = devices_.find(device);
  return it == devices_.end() ? std::string() : it->second.key;
}

Buffer::Queued Buffer::queued(DeviceId device) const {
  std::lock_guard lock(mu_);
  auto it = devices_.find(device);
  if (it == devices_.end()) return {};
  return {it->second.readings(), it->second.bytes()};
}

Stats Buffer::stats() const {
  std::lock_guard lock(mu_);
  Stats s;
  s.readings = total_readings_;
  s.bytes = total_bytes_;
  s.dead_letters = dead_letters_;
  s.appended = appended_;
  s.dropped_max_age = dropped_max_age_;
  s.dropped_oldest = dropped_oldest_;
  s.rejected_full = rejected_full_;
  s.disk_full = disk_full_ || low_space_;
  for (const auto& [id, d] : devices_) {
    if (d.readings() == 0 || d.head_stored_ms == 0) continue;
    if (s.oldest_stored_ms == 0 || d.head_stored_ms < s.oldest_stored_ms) {
      s.oldest_stored_ms = d.head_stored_ms;
    }
  }
  return s;
}

std::vector<DeviceStats> Buffer::device_stats() const {
  std::lock_guard lock(mu_);
  std::vector<DeviceStats> out;
  out.reserve(devices_.size());
  for (const auto& [id, d] : devices_) {
    out.push_back({id, d.key, d.readings(), d.bytes(), d.readings() ? d.head_stored_ms : 0});
  }
  std::sort(out.begin(), out.end(),
            [](const DeviceStats& a, const DeviceStats& b) { return a.key < b.key; });
  return out;
}

std::vector<DeviceId> Buffer::devices_with_data() const {
  std::lock_guard lock(mu_);
  std::vector<DeviceId> out;
  for (const auto& [id, d] : devices_) {
    if (d.readings() > 0) out.push_back(id);
  }
  return out;
}

}  // namespace edgegw::buffer
