// SPDX-License-Identifier: Apache-2.0
// Reads and removals out of a queue's order, for the forwarder's cloud.drain: fresh_first: the
// newest readings picked from the tail of a backlog, and readings that arrived after it, are
// delivered before the backlog itself and removed one by one (as withdrawals are: marked, so that
// they stay uncounted until the head passes them).
#include <rocksdb/db.h>
#include <rocksdb/slice.h>

#include "buffer/buffer.h"
#include "buffer/internal.h"

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
  {
    std::lock_guard lock(mu_);
    auto it = devices_.find(device);
    if (it == devices_.end()) {
      return Status::invalid_argument("read of unknown device index " + std::to_string(device));
    }
    first = it->second.first_seq;
    last = std::min(last, it->second.next_seq - 1);
  }
  if (last < first || max_visits == 0) return Status::ok();
  // Bounded below by the head: the removed readings under it are covered by range tombstones
  // the iterator does not read (queue_iterator).
  const QueueKey lower = queue_key(device, first);
  const QueueKey upper = queue_key(device, last + 1);
  const rocksdb::Slice upper_slice = slice(upper);
  auto it = queue_iterator(*db_, queue_, &upper_slice);
  std::size_t visited = 0;
  for (it->SeekForPrev(slice(queue_key(device, last))); it->Valid() && visited < max_visits;
       it->Prev()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key < std::string_view(lower.data(), lower.size())) break;
    const std::string_view v(it->value().data(), it->value().size());
    auto h = decode_value_header(v);
    if (!h) {
      return Status::corruption("buffer: unreadable entry in the queue of device '" +
                                device_key(device) + "'");
    }
    ++visited;
    if (!visit({queue_key_seq(key), h->cum_bytes, value_json(v)})) break;
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "cannot read the buffer");
  return Status::ok();
}

Status Buffer::remove_delivered(DeviceId device, std::span<const Batch::Entry> entries) {
  const Removal removal{device, std::nullopt, entries};
  return remove(std::span(&removal, 1)).front();
}

}  // namespace edgegw::buffer
