// SPDX-License-Identifier: Apache-2.0
// Retention: buffer.max_bytes (drop_oldest: the oldest heads make room) and buffer.max_age.
// The store is read without the lock; what changed meanwhile is checked again under it.
#include "buffer/buffer.h"

#include <algorithm>
#include <limits>

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/internal.h"
#include "buffer/queue_reader.h"

namespace edgegw::buffer {

Status Buffer::make_room(std::unique_lock<std::mutex>& lock, std::uint64_t needed,
                         std::size_t records) {
  const auto fits = [&] { return needed == 0 || total_bytes_ + needed <= options_.max_bytes; };
  if (fits()) return Status::ok();
  if (options_.on_full == OnFull::kDropOldest && needed <= options_.max_bytes) {
    // Another producer is dropping: wait for it, then look again (its chunk may be room enough).
    drop_done_.wait(lock, [this] { return !dropping_; });
    if (fits()) return Status::ok();
    dropping_ = true;
    // A drop frees at least a chunk, so a full buffer does not pay for one drop per append.
    const std::uint64_t target = std::max(total_bytes_ + needed - options_.max_bytes,
                                          options_.max_bytes / kDropChunkDivisor);
    std::uint64_t freed = 0;
    std::vector<DeviceId> exhausted;  // devices whose remaining readings are not yet committed
    Status failed;
    while (!fits()) {
      DeviceId victim = 0;
      std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
      for (const auto& [id, d] : devices_) {
        if (d.readings() == 0 ||
            std::find(exhausted.begin(), exhausted.end(), id) != exhausted.end()) {
          continue;
        }
        const std::int64_t t =
            d.head_stored_ms == 0 ? std::numeric_limits<std::int64_t>::min() : d.head_stored_ms;
        if (victim == 0 || t < oldest) {
          victim = id;
          oldest = t;
        }
      }
      if (victim == 0) break;
      const Device& v = devices_.find(victim)->second;
      const Seq first = v.first_seq;
      const Seq next = v.next_seq;
      const std::uint64_t head_cum = v.head_cum;
      const std::uint64_t want = target > freed ? target - freed : 1;
      lock.unlock();
      Result<HeadCut> cut = find_head_cut(victim, first, next, head_cum, want);
      lock.lock();
      if (!cut) {
        failed = cut.status();
        break;
      }
      // A write that failed meanwhile reloads the registry without the devices its group
      // registered (nothing of theirs was stored): choose again.
      auto found = devices_.find(victim);
      if (found == devices_.end()) continue;
      Device& d = found->second;
      if (d.first_seq != first) continue;  // its head moved meanwhile (acked, expired): again
      if (!cut->last) {
        exhausted.push_back(victim);
        continue;
      }
      const Removed removed = remove_head_locked(victim, d, *cut->last);
      d.head_stored_ms = cut->next_head_ms;
      dropped_oldest_ += removed.readings;
      freed += removed.bytes;
    }
    dropping_ = false;
    drop_done_.notify_all();
    if (!failed) return failed;
    if (fits()) return Status::ok();
  }
  rejected_full_ += records;
  return Status::resource_exhausted(
      "buffer full: " + std::to_string(total_bytes_) + " of " + std::to_string(options_.max_bytes) +
      " bytes used (buffer.max_bytes; on_full: " + std::string(to_string(options_.on_full)) + ")");
}

Result<Buffer::HeadCut> Buffer::find_head_cut(DeviceId id, Seq first, Seq next,
                                              std::uint64_t head_cum, std::uint64_t target) const {
  // Withdrawn readings are not skipped: a cut may end on one (remove_head_locked counts them).
  QueueReader reader(*db_, queue_, id, next);
  HeadCut cut;
  Status s = reader.seek(first);
  for (; s && reader.valid(); s = reader.next()) {
    const EntryReading& r = reader.reading();
    if (cut.bytes >= target) {
      cut.next_head_ms = reader.stored_at_ms();
      break;
    }
    cut.last = AckPoint{r.seq, r.cum_bytes};
    cut.bytes = r.cum_bytes - head_cum;
  }
  if (!s) return unreadable(s, id);
  return cut;
}

Result<std::uint64_t> Buffer::expire() {
  const std::int64_t cutoff = now_ms() - options_.max_age.count();
  std::vector<std::pair<DeviceId, Seq>> candidates;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, d] : devices_) {
      if (d.readings() > 0 && d.head_stored_ms < cutoff) candidates.emplace_back(id, d.first_seq);
    }
  }
  std::uint64_t dropped = 0;
  for (const auto& [id, first] : candidates) {
    QueueReader reader(*db_, queue_, id, std::numeric_limits<Seq>::max());
    std::optional<AckPoint> last;
    std::int64_t next_head_time = 0;
    std::uint64_t scanned = 0;
    Status s = reader.seek(first);
    for (; s && reader.valid() && scanned < kExpireScanLimit; s = reader.next(), ++scanned) {
      if (reader.stored_at_ms() >= cutoff) {
        next_head_time = reader.stored_at_ms();
        break;
      }
      last = AckPoint{reader.reading().seq, reader.reading().cum_bytes};
    }
    if (!s) return unreadable(s, id);
    if (!last) {
      refresh_head_time(id);
      continue;
    }
    std::unique_lock lock(mu_);
    const auto found = devices_.find(id);
    if (found == devices_.end()) continue;  // its registration failed to commit meanwhile
    Device& d = found->second;
    if (last->seq < d.first_seq) continue;  // acked meanwhile
    const Removed removed = remove_head_locked(id, d, *last);
    d.head_stored_ms = next_head_time;
    std::shared_ptr<Group> group = pending_;
    if (Status written = commit(lock, group); !written) return written;
    dropped_max_age_ += removed.readings;
    dropped += removed.readings;
  }
  return dropped;
}

}  // namespace edgegw::buffer
