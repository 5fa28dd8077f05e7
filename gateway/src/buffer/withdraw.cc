// SPDX-License-Identifier: Apache-2.0
// Withdrawals: readings removed from the middle or tail of a queue before they are forwarded
// (the local API's DELETE /data), marked in meta so they stay uncounted across a restart.
#include "buffer/buffer.h"

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/internal.h"

namespace edgegw::buffer {

Result<std::uint64_t> Buffer::withdraw(DeviceId device, std::span<const Seq> seqs) {
  if (options_.read_only) return Status::permission_denied("the buffer is open read-only");
  std::vector<Seq> wanted;
  {
    std::lock_guard lock(mu_);
    auto it = devices_.find(device);
    if (it == devices_.end()) return std::uint64_t{0};
    const Device& d = it->second;
    for (const Seq seq : seqs) {
      if (seq >= d.first_seq && seq < d.next_seq && !d.withdrawn.contains(seq)) {
        wanted.push_back(seq);
      }
    }
  }
  if (wanted.empty()) return std::uint64_t{0};
  // Each reading's size, read without the lock: producers do not wait on these reads. What
  // changed meanwhile (acked, dropped, withdrawn by another call) is checked again below.
  std::vector<std::pair<Seq, std::uint64_t>> found;
  found.reserve(wanted.size());
  for (const Seq seq : wanted) {
    const QueueKey key = queue_key(device, seq);
    std::string value;
    const rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), queue_, slice(key), &value);
    if (got.IsNotFound()) continue;
    if (!got.ok()) return from_rocksdb(got, "cannot read the buffer");
    found.emplace_back(seq, entry_bytes(value_json(value).size()));
  }
  if (found.empty()) return std::uint64_t{0};
  std::unique_lock lock(mu_);
  auto it = devices_.find(device);
  // A write that failed meanwhile reloaded the registry without the device: nothing of it was
  // stored, so nothing is withdrawn.
  if (it == devices_.end()) return std::uint64_t{0};
  const std::uint64_t removed = withdraw_locked(device, it->second, found);
  if (removed == 0) return removed;
  pending_->durable = true;  // the local DELETE was answered: the readings must not come back
  std::shared_ptr<Group> group = pending_;
  if (Status s = commit(lock, group); !s) return s;
  return removed;
}

std::uint64_t Buffer::withdraw_locked(DeviceId id, Device& d,
                                      std::span<const std::pair<Seq, std::uint64_t>> readings) {
  std::uint64_t removed = 0;
  for (const auto& [seq, bytes] : readings) {
    if (seq < d.first_seq || seq >= d.next_seq || d.withdrawn.contains(seq)) continue;
    Group& g = pending_locked();
    const QueueKey key = queue_key(id, seq);
    (void)g.batch->Delete(queue_, slice(key));
    char mark[8];
    store_be64(mark, bytes);
    (void)g.batch->Put(meta_, meta_withdrawn_key(id, seq), rocksdb::Slice(mark, sizeof mark));
    d.withdrawn.emplace(seq, bytes);
    d.withdrawn_bytes += bytes;
    total_readings_ -= 1;
    total_bytes_ -= bytes;
    ++removed;
  }
  return removed;
}

}  // namespace edgegw::buffer
