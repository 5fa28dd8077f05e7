// SPDX-License-Identifier: Apache-2.0
// Reads and removals out of a queue's order, for the forwarder's cloud.drain: fresh_first: the
// newest readings picked from the tail of a backlog, and readings that arrived after it, are
// delivered before the backlog itself and removed one by one (as withdrawals are: marked, so that
// they stay uncounted until the head passes them).
#include <rocksdb/db.h>
#include <rocksdb/slice.h>

#include "buffer/buffer.h"
#include "buffer/internal.h"
#include "buffer/queue_reader.h"

namespace edgegw::buffer {

Buffer::Span Buffer::span(DeviceId device) const {
  std::lock_guard lock(mu_);
  auto it = devices_.find(device);
  if (it == devices_.end()) return {};
  const Device& d = it->second;
  Span s{d.first_seq, d.next_seq, d.readings(), 0};
  if (d.readings() > 0 && d.head_stored_ms != 0) {
    s.head_age_ms = std::max<std::int64_t>(0, now_ms() - d.head_stored_ms);
  }
  return s;
}

Status Buffer::visit_back(DeviceId device, Seq last, std::size_t max_visits,
                          const std::function<bool(const Stored&)>& visit) const {
  Seq first = 0;
  Seq next = 0;
  std::vector<Seq> withdrawn;
  {
    std::lock_guard lock(mu_);
    auto it = devices_.find(device);
    if (it == devices_.end()) {
      return Status::invalid_argument("read of unknown device index " + std::to_string(device));
    }
    first = it->second.first_seq;
    next = it->second.next_seq;
    last = std::min(last, next - 1);
    withdrawn = withdrawn_near(it->second, last, max_visits, true);
  }
  if (last < first || max_visits == 0) return Status::ok();
  // Bounded below by the head: the removed readings under it are covered by range tombstones
  // the reader does not read (queue_iterator), and a run acked in part holds some of them.
  QueueReader reader(*db_, queue_, device, next, std::move(withdrawn));
  std::size_t visited = 0;
  Status s = reader.seek_back(last);
  for (; s && reader.valid() && visited < max_visits; s = reader.prev()) {
    const EntryReading& r = reader.reading();
    if (r.seq < first) break;
    ++visited;
    if (!visit({r.seq, r.cum_bytes, r.json, r.stored_size()})) break;
  }
  return unreadable(s, device);
}

Status Buffer::remove_delivered(DeviceId device, std::span<const Batch::Entry> entries) {
  const Removal removal{device, std::nullopt, entries};
  return remove(std::span(&removal, 1)).front();
}

}  // namespace edgegw::buffer
