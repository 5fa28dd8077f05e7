// SPDX-License-Identifier: Apache-2.0
// A queue's life: appends at the tail, reads and acks from the head.
#include "buffer/buffer.h"

#include <algorithm>
#include <iterator>

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/internal.h"
#include "buffer/queue_reader.h"
#include "buffer/values.h"
#include "core/bug.h"

namespace edgegw::buffer {

void Buffer::set_on_append(std::function<void(DeviceId)> callback) {
  std::lock_guard lock(mu_);
  on_append_ = std::move(callback);
}

namespace {

// The run's records as the hooks take them: a reading given as values alone with its JSON,
// variable, time and number filled in from them (valid until the next call on this thread).
std::span<const Record* const> with_json(std::span<const Record* const> records) {
  thread_local std::string text;
  thread_local std::vector<Record> copies;
  thread_local std::vector<const Record*> pointers;
  thread_local std::vector<std::size_t> ends;  // of each record's JSON in text (0: none)
  text.clear();
  ends.assign(records.size(), 0);
  copies.resize(records.size());
  ReadingValues values;
  for (std::size_t i = 0; i < records.size(); ++i) {
    Record& r = copies[i] = *records[i];
    if (!r.json.empty() || !decode_values(r.values, values)) continue;
    append_values_json(values, text);
    ends[i] = text.size();
    r.variable = values.variable;  // views into r.values
    r.time_ms = values.time_ms;
    r.number = core::number_of(values.value);
  }
  pointers.clear();
  std::size_t begin = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (ends[i] != 0) {  // the JSON's place is known once text no longer grows
      copies[i].json = std::string_view(text).substr(begin, ends[i] - begin);
      begin = ends[i];
    }
    pointers.push_back(&copies[i]);
  }
  return pointers;
}

}  // namespace

Status Buffer::append(std::span<const Record> records, std::span<const StateChange> state) {
  if (records.empty() && state.empty()) return Status::ok();
  if (options_.read_only) return Status::permission_denied("the buffer is open read-only");
  std::uint64_t needed = 0;
  for (const auto& r : records) needed += entry_bytes(r.stored_size());

  std::unique_lock lock(mu_);
  Status full = check_disk_full(lock, "take more readings");
  if (full) full = check_free_space("take more readings");
  if (!full) {
    rejected_full_ += records.size();
    return full;
  }
  if (Status s = make_room(lock, needed, records.size()); !s) return s;
  return append_locked(lock, records, state, needed, {});
}

Status Buffer::append_locked(std::unique_lock<std::mutex>& lock, std::span<const Record> records,
                             std::span<const StateChange> state, std::uint64_t needed,
                             std::span<const std::uint64_t> retired) {
  // One device's readings together, in their order: the memtable's skip list then inserts each
  // run at the place of the previous key instead of searching from the top for every reading
  // (interleaved devices cost a third of the gateway's CPU at 100k readings/s).
  thread_local std::vector<std::uint32_t> order;
  order.resize(records.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto by_device = [&](std::uint32_t a, std::uint32_t b) {
    return records[a].device < records[b].device;
  };
  if (!std::is_sorted(order.begin(), order.end(), by_device)) {
    std::stable_sort(order.begin(), order.end(), by_device);
  }
  // Each run's device, checked here, under the lock and after make_room (which lets the lock go:
  // a failed write meanwhile reloads the registry without the devices of its group).
  thread_local std::vector<Device*> run_device;
  run_device.clear();
  for (std::size_t k = 0; k < order.size(); ++k) {
    const DeviceId id = records[order[k]].device;
    if (k > 0 && id == records[order[k - 1]].device) continue;
    const auto it = devices_.find(id);
    if (it == devices_.end()) {
      return Status::invalid_argument("append to unknown device index " + std::to_string(id));
    }
    run_device.push_back(&it->second);
  }

  Group& g = pending_locked();
  g.durable = true;
  const std::int64_t now = now_ms();
  // Each device's readings go in as runs (key_format.h): one entry per run, not per reading.
  thread_local std::vector<StoredReading> stored;
  thread_local std::vector<const Record*> run_records;
  thread_local std::string value;
  std::size_t run = 0;
  for (std::size_t k = 0; k < order.size();) {
    Device* d = run_device[run++];
    const DeviceId id = records[order[k]].device;
    if (d->readings() == 0) d->head_stored_ms = now;
    for (std::size_t end = k; k < order.size() && records[order[k]].device == id; k = end) {
      std::size_t run_bytes = 0;
      bool missing_json = false;
      stored.clear();
      run_records.clear();
      for (; end < order.size() && records[order[end]].device == id &&
             stored.size() < kMaxRunReadings && (stored.empty() || run_bytes < kMaxRunJsonBytes);
           ++end) {
        const Record& r = records[order[end]];
        ++d->next_seq;
        d->tail_cum += entry_bytes(r.stored_size());
        run_bytes += r.stored_size();
        stored.push_back({r.values.empty() ? r.json : r.values, !r.values.empty()});
        missing_json = missing_json || r.json.empty();
        run_records.push_back(&r);
      }
      if (!hooks_.empty()) {
        // A record without JSON: the appender asked before a hook came to want it (rare).
        const bool rebuild = missing_json && hooks_want_readings_.load(std::memory_order_relaxed);
        const std::span<const Record* const> hooked =
            rebuild ? with_json(run_records) : std::span<const Record* const>(run_records);
        for (const auto& hook : hooks_) {
          hook->on_append_run(*g.batch, hooked, d->next_seq - run_records.size(), now);
        }
      }
      const QueueKey key = queue_key(id, d->next_seq - 1);
      const rocksdb::Slice key_part = slice(key);
      if (stored.size() == 1 && !stored[0].values) {  // a reading alone, as its JSON: version 1
        const std::string_view json = stored[0].bytes;
        const ValueHeaderBytes header = encode_value_header({d->tail_cum, now});
        const rocksdb::Slice value_parts[2] = {rocksdb::Slice(header.data(), header.size()),
                                               rocksdb::Slice(json.data(), json.size())};
        (void)g.batch->Put(queue_, rocksdb::SliceParts(&key_part, 1),
                           rocksdb::SliceParts(value_parts, 2));
      } else {
        encode_mixed_run(value, d->tail_cum, now, stored);
        (void)g.batch->Put(queue_, key_part, value);
      }
    }
  }
  for (const StateChange& c : state) {
    if (c.value) {
      (void)g.batch->Put(meta_, c.key, rocksdb::Slice(c.value->data(), c.value->size()));
    } else {
      (void)g.batch->Delete(meta_, c.key);
    }
  }
  for (const std::uint64_t id : retired) {
    const auto key = dead_letter_key(id);
    (void)g.batch->Delete(dead_, rocksdb::Slice(key.data(), key.size()));
  }
  dead_letters_ -= std::min<std::uint64_t>(dead_letters_, retired.size());
  total_readings_ += records.size();
  total_bytes_ += needed;
  std::shared_ptr<Group> group = pending_;
  Status s = commit(lock, group);
  if (s) appended_ += records.size();
  auto callback = on_append_;
  lock.unlock();
  if (s && callback) {
    for (std::size_t k = 0; k < order.size(); ++k) {  // once per device (sorted above)
      const DeviceId id = records[order[k]].device;
      if (k == 0 || id != records[order[k - 1]].device) callback(id);
    }
  }
  return s;
}

Buffer::Removed Buffer::remove_head_locked(DeviceId id, Device& d, AckPoint point) {
  pending_locked();
  // Nothing but withdrawn readings after the point: they go too, with their marks (a run whose
  // last readings were withdrawn would otherwise stay on disk until the next reading is acked).
  if (point.seq + 1 < d.next_seq && d.withdrawn.size() >= d.next_seq - point.seq - 1 &&
      static_cast<std::uint64_t>(std::distance(d.withdrawn.upper_bound(point.seq),
                                               d.withdrawn.end())) == d.next_seq - point.seq - 1) {
    point = AckPoint{d.next_seq - 1, d.tail_cum};
  }
  const QueueKey from = queue_key(id, d.first_seq);
  const QueueKey to = queue_key(id, point.seq + 1);
  (void)pending_->batch->DeleteRange(queue_, slice(from), slice(to));
  (void)pending_->batch->Put(meta_, meta_head_key(id), encode_head({point.seq, point.cum_bytes}));
  // Withdrawn readings in the range were uncounted when withdrawn.
  std::uint64_t gone = 0, gone_bytes = 0;
  while (!d.withdrawn.empty() && d.withdrawn.begin()->first <= point.seq) {
    ++gone;
    gone_bytes += d.withdrawn.begin()->second;
    d.withdrawn.erase(d.withdrawn.begin());
  }
  d.withdrawn_bytes -= gone_bytes;
  if (gone > 0 || d.stale_marks) {
    (void)pending_->batch->DeleteRange(meta_, meta_withdrawn_key(id, 0),
                                       meta_withdrawn_key(id, point.seq + 1));
    d.stale_marks = false;
  }
  const std::uint64_t readings = point.seq + 1 - d.first_seq - gone;
  const std::uint64_t bytes = point.cum_bytes - d.head_cum - gone_bytes;
  d.first_seq = point.seq + 1;
  d.head_cum = point.cum_bytes;
  d.head_stored_ms = 0;  // unknown until refreshed
  if (readings <= total_readings_ && bytes <= total_bytes_) {
    total_readings_ -= readings;
    total_bytes_ -= bytes;
    return {readings, bytes};
  }
  // The totals are the devices' counts summed: they cannot fall below one device's part.
  EDGEGW_BUG("removing " + std::to_string(readings) + " reading(s), " + std::to_string(bytes) +
             " byte(s) of device '" + d.key + "' from totals of " +
             std::to_string(total_readings_) + ", " + std::to_string(total_bytes_));
  total_readings_ = 0;
  total_bytes_ = 0;
  for (const auto& [other_id, other] : devices_) {
    total_readings_ += other.readings();
    total_bytes_ += other.bytes();
  }
  return {readings, bytes};
}

Status Buffer::ack(DeviceId device, AckPoint point) {
  const Removal removal{device, point};
  return remove(std::span(&removal, 1)).front();
}

std::vector<Status> Buffer::remove(std::span<const Removal> removals) {
  std::vector<Status> statuses(removals.size());
  if (removals.empty()) return statuses;
  if (options_.read_only) {
    statuses.assign(removals.size(), Status::permission_denied("the buffer is open read-only"));
    return statuses;
  }
  thread_local std::vector<std::pair<Seq, std::uint64_t>> readings;
  std::vector<std::size_t> staged;     // removals in the write, by index
  std::vector<DeviceId> head_unknown;  // acked devices whose new head's time is to be read
  std::unique_lock lock(mu_);
  // Removals also bring the store back after a full disk: the forwarder retries them, so a
  // queue moves again once space returns even when no source appends meanwhile.
  if (Status s = check_disk_full(lock, "remove delivered readings"); !s) {
    statuses.assign(removals.size(), s);
    return statuses;
  }
  for (std::size_t i = 0; i < removals.size(); ++i) {
    const Removal& r = removals[i];
    auto it = devices_.find(r.device);
    if (it == devices_.end()) {
      statuses[i] =
          Status::invalid_argument("removal from unknown device index " + std::to_string(r.device));
      continue;
    }
    Device& d = it->second;
    if (r.head && r.head->seq >= d.first_seq &&
        (r.head->seq >= d.next_seq || r.head->cum_bytes < d.head_cum ||
         r.head->cum_bytes > d.tail_cum)) {
      statuses[i] = Status::invalid_argument("ack beyond the queue of device '" + d.key + "'");
      continue;
    }
    bool changed = false;
    if (r.refused) {
      dead_letter_locked(r.device, r.refused->reading, r.refused->reason, r.refused->http_status);
      changed = true;
    }
    if (r.head && r.head->seq >= d.first_seq) {  // else removed already (dropped meanwhile)
      const AckPoint& point = *r.head;
      remove_head_locked(r.device, d, point);
      if (d.readings() > 0) {
        if (point.next.stored_ms != 0 && point.next.seq == d.first_seq &&
            !d.withdrawn.contains(point.next.seq)) {
          d.head_stored_ms = point.next.stored_ms;
        } else {
          head_unknown.push_back(r.device);
        }
      }
      changed = true;
    } else if (!r.head) {
      readings.clear();
      for (const Batch::Entry& e : r.delivered) {
        readings.emplace_back(e.seq, entry_bytes(e.stored_size));
      }
      changed = withdraw_locked(r.device, d, readings) > 0 || changed;
    }
    if (changed) staged.push_back(i);
  }
  if (staged.empty()) return statuses;
  std::shared_ptr<Group> group = pending_;
  const Status written = commit(lock, group);
  lock.unlock();
  for (const std::size_t i : staged) statuses[i] = written;
  if (written) {
    for (const DeviceId id : head_unknown) refresh_head_time(id);
  }
  return statuses;
}

void Buffer::refresh_head_time(DeviceId id) {
  Seq first = 0;
  Seq next = 0;
  std::vector<Seq> withdrawn;
  {
    std::lock_guard lock(mu_);
    auto it = devices_.find(id);
    if (it == devices_.end() || it->second.readings() == 0) return;
    first = it->second.first_seq;
    next = it->second.next_seq;
    withdrawn = withdrawn_near(it->second, first, 1, false);
  }
  // The first reading still queued: its entry's time.
  QueueReader reader(*db_, queue_, id, next, std::move(withdrawn));
  if (!reader.seek(first) || !reader.valid()) return;
  const Seq seq = reader.reading().seq;
  std::lock_guard lock(mu_);
  auto it = devices_.find(id);
  if (it != devices_.end() && it->second.first_seq <= seq) {
    it->second.head_stored_ms = reader.stored_at_ms();
  }
}

Status Buffer::unreadable(const Status& s, DeviceId device) const {
  return s ? s : in_queue_of(s, device_key(device));
}

Result<Batch> Buffer::read(DeviceId device, std::size_t max_readings, std::size_t max_bytes) const {
  return read_from(device, 0, max_readings, max_bytes);
}

Result<Batch> Buffer::read_from(DeviceId device, Seq from, std::size_t max_readings,
                                std::size_t max_bytes) const {
  Seq first = 0;
  Seq next = 0;
  std::vector<Seq> withdrawn;
  {
    std::lock_guard lock(mu_);
    auto it = devices_.find(device);
    if (it == devices_.end()) {
      return Status::invalid_argument("read of unknown device index " + std::to_string(device));
    }
    first = std::max(from, it->second.first_seq);
    next = it->second.next_seq;
    withdrawn = withdrawn_near(it->second, first, max_readings, false);
  }
  Batch batch;
  batch.device = device;
  if (first >= next || max_readings == 0) return batch;
  QueueReader reader(*db_, queue_, device, next, std::move(withdrawn));
  batch.body.reserve(std::min<std::size_t>(max_bytes, 1 << 20));
  batch.body += '[';
  Status s = reader.seek(first);
  for (; s && reader.valid() && batch.size() < max_readings; s = reader.next()) {
    const EntryReading& r = reader.reading();
    if (!batch.empty() && batch.body.size() + 1 + r.json.size() + 1 > max_bytes) break;
    if (!batch.empty()) batch.body += ',';
    batch.entries.push_back({r.seq, static_cast<std::uint32_t>(batch.body.size()),
                             static_cast<std::uint32_t>(r.json.size()), r.cum_bytes,
                             r.stored_size()});
    batch.body += r.json;
  }
  if (!s) return unreadable(s, device);
  // Where the loop stopped: the reading after the batch, at no extra cost.
  if (reader.valid()) batch.next = {reader.reading().seq, reader.stored_at_ms()};
  batch.body += ']';
  return batch;
}

}  // namespace edgegw::buffer
