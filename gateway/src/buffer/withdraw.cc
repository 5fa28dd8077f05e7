// SPDX-License-Identifier: Apache-2.0
// Withdrawals: readings removed from the middle or tail of a queue before they are forwarded
// (the local API's DELETE /data), marked in meta so they stay uncounted across a restart.
#include "buffer/buffer.h"

#include <algorithm>
#include <iterator>

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/internal.h"
#include "buffer/queue_reader.h"

namespace edgegw::buffer {

Result<std::uint64_t> Buffer::withdraw(DeviceId device, std::span<const Seq> seqs) {
  if (options_.read_only) return Status::permission_denied("the buffer is open read-only");
  std::vector<Seq> wanted;
  Seq next = 0;
  {
    std::lock_guard lock(mu_);
    auto it = devices_.find(device);
    if (it == devices_.end()) return std::uint64_t{0};
    const Device& d = it->second;
    next = d.next_seq;
    for (const Seq seq : seqs) {
      if (seq >= d.first_seq && seq < d.next_seq && !d.withdrawn.contains(seq)) {
        wanted.push_back(seq);
      }
    }
  }
  if (wanted.empty()) return std::uint64_t{0};
  // Each reading's size, read without the lock: producers do not wait on these reads. What
  // changed meanwhile (acked, dropped, withdrawn by another call) is checked again below.
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::vector<std::pair<Seq, std::uint64_t>> found;
  found.reserve(wanted.size());
  QueueReader reader(*db_, queue_, device, next);  // a run is keyed by its last: up to the tail
  for (const Seq seq : wanted) {
    if (reader.valid() && reader.reading().seq == seq) {
      // the reader is there already (the next of a run)
    } else if (Status s = reader.seek(seq); !s) {
      return unreadable(s, device);
    }
    if (!reader.valid()) break;
    if (reader.reading().seq != seq) continue;
    found.emplace_back(seq, entry_bytes(reader.reading().stored_size()));
    if (Status s = reader.next(); !s) return unreadable(s, device);
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
    // The entry stays (it may be a run holding readings still queued): the mark makes reads skip
    // the reading, and the head's advance past it removes both.
    Group& g = pending_locked();
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

std::vector<Seq> Buffer::withdrawn_near(const Device& d, Seq from, std::size_t count, bool back) {
  std::vector<Seq> near;
  if (d.withdrawn.empty()) return near;
  // A read of `count` readings passes at most `count` sequences, and the one after them (a batch's
  // next), plus the withdrawn ones it skips.
  if (!back) {
    for (auto it = d.withdrawn.lower_bound(from);
         it != d.withdrawn.end() && it->first - from <= count + near.size(); ++it) {
      near.push_back(it->first);
    }
    return near;
  }
  for (auto it = d.withdrawn.upper_bound(from);
       it != d.withdrawn.begin() && from - std::prev(it)->first <= count + near.size();) {
    near.push_back((--it)->first);
  }
  std::reverse(near.begin(), near.end());
  return near;
}

}  // namespace edgegw::buffer
