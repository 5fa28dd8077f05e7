// SPDX-License-Identifier: Apache-2.0
// The durable buffer: one ordered queue per cloud device in RocksDB. Nothing acknowledged to a
// source is lost: append() returns only once its readings are in the write-ahead log (and, with
// sync: always, on disk). The forwarder reads a device's queue in order and acks what the cloud
// accepted, which deletes it.
//
// Concurrency: any number of producer threads may append at once; their appends are gathered into
// one WriteBatch (group commit: the first waiting producer writes for all, see append()). Reads,
// acks and drops go through the same write path, so sequence numbers become visible in order.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "buffer/key_format.h"
#include "buffer/policy.h"
#include "buffer/stats.h"
#include "buffer/write_hook.h"
#include "edgegw/status.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace edgegw::buffer {

struct Options {
  std::string path;  // the RocksDB directory (gateway.data_dir + "/buffer")
  std::uint64_t max_bytes = 1ULL << 30;
  std::chrono::milliseconds max_age = std::chrono::hours(24 * 7);
  OnFull on_full = OnFull::kDropOldest;
  SyncMode sync = SyncMode::kBatch;
  std::chrono::milliseconds sync_interval{100};
  // Appends are refused ("disk full") while the store's filesystem has less free than this: the
  // reserve lets RocksDB finish its own flushes and the removals of delivered readings, and
  // keeps its WAL writes from ever failing for space (a hard error in RocksDB, and Debian's
  // build asserts on some of the recovery paths after one). 0: refuse only when a write fails.
  std::uint64_t min_free_bytes = 64ULL << 20;
  std::function<std::int64_t()> clock;  // wall-clock ms for stored_at; default: the system clock
  bool read_only = false;               // for `edgegw buffer stats` while the gateway may run
  // The store's file access; null: RocksDB's own. Tests give one that can hold a write midway.
  rocksdb::Env* env = nullptr;
};

// One reading to append: the cloud JSON object of the reading (decode::append_cloud_json), and/or
// its values (values.h: encode_values), which the queue then stores instead: a quarter of the
// bytes, read back as the same JSON. The rest is for the write hooks (the local history, the
// actions), when there are any: they are given the JSON (rebuilt from the values when none).
struct Record {
  DeviceId device;
  std::string_view json;
  std::string_view variable = {};
  std::int64_t time_ms = 0;
  // The value when it is a number, as the decoder read it: the actions compare it without reading
  // the JSON again. None: not a number, or not given (a hook then reads json).
  std::optional<double> number = {};
  std::string_view values = {};  // see above: stored instead of json when set

  // What it takes in the store, which the byte accounting counts (entry_bytes).
  std::size_t stored_size() const noexcept { return values.empty() ? json.size() : values.size(); }
};

// A change to a source plugin's own durable state (meta_source_key), written in the same batch as
// the readings of the same append.
struct StateChange {
  std::string key;                        // meta_source_key(source, the plugin's key)
  std::optional<std::string_view> value;  // nullopt: delete the key
};

// A run of one device's queue, ready to POST: body is the JSON array "[r1,r2,...]".
struct Batch {
  struct Entry {
    Seq seq;
    std::uint32_t offset;  // of the reading's JSON in body
    std::uint32_t size;
    std::uint64_t cum_bytes;
    std::uint32_t stored_size = size;  // as stored (the forwarder may rewrite the body)
  };
  // The reading after the batch, as the read passed it (stored_ms 0: none, or not looked at):
  // an ack of the whole batch learns the new head's time from it instead of reading it again.
  struct Next {
    Seq seq = 0;
    std::int64_t stored_ms = 0;
  };
  DeviceId device = 0;
  std::string body;
  std::vector<Entry> entries;
  Next next;

  bool empty() const noexcept { return entries.empty(); }
  std::size_t size() const noexcept { return entries.size(); }
  std::string_view reading(std::size_t i) const noexcept {
    return std::string_view(body).substr(entries[i].offset, entries[i].size);
  }
};

// Acknowledging entries [head .. entry] of a batch removes them.
struct AckPoint {
  Seq seq;
  std::uint64_t cum_bytes;
  Batch::Next next = {};  // the reading after `seq`, when known (Batch::next)
  static AckPoint of(const Batch::Entry& e) noexcept { return {e.seq, e.cum_bytes}; }
  // The whole batch: its last entry, and what the read saw after it.
  static AckPoint through(const Batch& b) noexcept {
    return {b.entries.back().seq, b.entries.back().cum_bytes, b.next};
  }
};

// One device's delivered readings to remove: its head through `head` (an ack), or the
// `delivered` entries when they were read out of the queue's order (read_from, visit_back).
struct Removal {
  // A reading the cloud refused for good: kept as a dead letter in the removal's own write, so
  // that it is never both in the queue and among the dead letters.
  struct Refused {
    std::string_view reading;
    std::string_view reason;
    int http_status = 0;
  };
  DeviceId device = 0;
  std::optional<AckPoint> head = {};
  std::span<const Batch::Entry> delivered = {};
  std::optional<Refused> refused = {};
};

class Buffer final : public StatsSource {
 public:
  // Opens (or creates) the store. A damaged store that cannot be salvaged is an error whose
  // message names the remedy (`edgegw buffer repair`); it is never wiped.
  static Result<std::unique_ptr<Buffer>> open(Options options);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // The queue of a cloud device, created on first use (durably, as an append is). Idempotent.
  Result<DeviceId> register_device(std::string_view key);
  // The same for many devices, in one write: ids in the order of `keys`. Fails as a whole.
  Result<std::vector<DeviceId>> register_devices(std::span<const std::string> keys);
  std::string device_key(DeviceId device) const;

  // Appends readings (of any devices) in order; returns once they are durable per `sync`.
  // Fails as a whole with kResourceExhausted when full under reject_new, or when the disk is full:
  // the source must not acknowledge upstream then.
  // `state` is written in the same batch (all or nothing); with no records, a full buffer does
  // not refuse it.
  Status append(std::span<const Record> records, std::span<const StateChange> state = {});

  // Visits a source's state (key without the source's prefix, value) in key order.
  Status for_each_source_state(
      std::string_view source,
      const std::function<void(std::string_view key, std::string_view value)>& visit) const;

  // Up to max_readings / max_bytes of body from the head of a device's queue (at least one reading,
  // whatever its size). An empty batch when the queue is empty.
  Result<Batch> read(DeviceId device, std::size_t max_readings, std::size_t max_bytes) const;

  // Removes the device's readings up to and including `point` (delivered, or dead-lettered).
  // Acking what was already removed (e.g. dropped meanwhile) is a no-op.
  Status ack(DeviceId device, AckPoint point);

  // Removes readings from the middle or tail of a device's queue before they are forwarded (the
  // local API's DELETE /data); sequences already removed or forwarded are skipped. Returns how
  // many were removed. A batch already in flight may still deliver them.
  Result<std::uint64_t> withdraw(DeviceId device, std::span<const Seq> seqs);

  // Reads and removals out of the queue's order (out_of_order.cc), for the forwarder's
  // cloud.drain: fresh_first (the present before a backlog).
  // Where a device's queue stands (cheap: no I/O).
  // `next` counts an append's readings as soon as it is gathered: while its group commit is on
  // its way, a read does not see the newest of them yet.
  struct Span {
    Seq first = 0;                 // the head (== next: empty)
    Seq next = 0;                  // the next sequence to assign
    std::uint64_t readings = 0;    // waiting (between them, less what was removed out of order)
    std::int64_t head_age_ms = 0;  // how long the head has been stored; 0: empty or unknown
  };
  Span span(DeviceId device) const;
  // Like read(), from `from` on (from the head when `from` is before it).
  Result<Batch> read_from(DeviceId device, Seq from, std::size_t max_readings,
                          std::size_t max_bytes) const;
  struct Stored {
    Seq seq;
    std::uint64_t cum_bytes;
    std::string_view json;  // valid during the visit only
    std::uint32_t stored_size = static_cast<std::uint32_t>(json.size());  // Batch::Entry's
  };
  // Visits the readings at or before `last`, newest first, at most `max_visits` of them, until
  // `visit` returns false.
  Status visit_back(DeviceId device, Seq last, std::size_t max_visits,
                    const std::function<bool(const Stored&)>& visit) const;
  // Removes delivered readings that were not at the head (read_from, visit_back), as ack() does
  // for the head: not synced (a removal a power cut takes back is a duplicate, never a loss).
  // What was removed meanwhile is skipped.
  Status remove_delivered(DeviceId device, std::span<const Batch::Entry> entries);
  // Several devices' removals (acks and out-of-order ones) in one write: the forwarder gathers
  // the answers of a moment, so that a request does not cost a write of its own. A status per
  // removal, in order; the write's failure is each one's.
  std::vector<Status> remove(std::span<const Removal> removals);

  // The store and a hook's column family (kHookColumnFamily, kActionsColumnFamily) a write hook
  // keeps its entries in (db null when read-only).
  HookStore hook_store(std::string_view family = kHookColumnFamily) const noexcept;
  // Makes `hook` part of every append from now on, after the hooks added before. The buffer owns
  // it and destroys it before it closes the store.
  void add_write_hook(std::unique_ptr<WriteHook> hook);
  // The hooks added, in order.
  std::vector<WriteHook*> write_hooks() const;
  // Whether any hook wants the readings (WriteHook::wants_readings): appenders then fill
  // Record::json, variable, time_ms and number. Cheap (no lock).
  bool hooks_want_readings() const noexcept {
    return hooks_want_readings_.load(std::memory_order_acquire);
  }
  // A hook's wants_readings() changed: asks them all again.
  void hooks_changed();
  // Writes a hook's own changes (`fill` adds them to the batch, under the buffer's lock) in the
  // group commit, not synced (like an ack: a power cut may bring back what they removed). The
  // hooks' on_written is told of the batch as of any other.
  Status write_hook_changes(const std::function<void(rocksdb::WriteBatch&)>& fill);

  // Stores a reading refused for good. Does not remove it from any queue (the forwarder's refused
  // readings go with their removal instead: Removal::refused).
  Status dead_letter(DeviceId device, std::string_view reading_json, std::string_view reason,
                     int http_status);
  // Visits dead letters in id order until `visit` returns false.
  Status for_each_dead_letter(const std::function<bool(const DeadLetter&)>& visit) const;
  // Re-queues every dead letter at the tail of its device's queue; returns how many.
  Result<std::uint64_t> retry_dead_letters();
  Result<std::uint64_t> purge_dead_letters();

  // Drops readings stored longer than max_age ago; returns how many. Called periodically.
  Result<std::uint64_t> expire();

  struct Queued {
    std::uint64_t readings = 0;
    std::uint64_t bytes = 0;
  };
  // What waits in one device's queue (cheap: no I/O).
  Queued queued(DeviceId device) const;

  Stats stats() const override;
  std::vector<DeviceStats> device_stats() const override;
  std::vector<DeviceId> devices_with_data() const;

  // True while RocksDB flushes or compacts, or has either pending. Benchmarks wait for false to
  // measure a store at rest (a backlog that built up over an outage has long been compacted).
  bool background_work_pending() const;

  // Called (from the appending thread, after the write) with each device that got readings.
  void set_on_append(std::function<void(DeviceId)> callback);

 private:
  struct Device {
    std::string key;
    Seq first_seq = 1;                // the head: the oldest reading present (== next_seq: empty)
    Seq next_seq = 1;                 // the next sequence to assign
    std::uint64_t head_cum = 0;       // cum_bytes just before the head
    std::uint64_t tail_cum = 0;       // cum_bytes of the last reading appended
    std::int64_t head_stored_ms = 0;  // stored_at of the head; 0: unknown or empty
    // Withdrawn readings still inside [first_seq, next_seq) (seq -> entry bytes), uncounted, and
    // skipped by reads (their entries stay until the head passes them); read back at open from
    // their marks.
    std::map<Seq, std::uint64_t> withdrawn;
    std::uint64_t withdrawn_bytes = 0;
    bool stale_marks = false;  // withdrawal marks before first_seq are left in meta
    std::uint64_t readings() const { return next_seq - first_seq - withdrawn.size(); }
    std::uint64_t bytes() const { return tail_cum - head_cum - withdrawn_bytes; }
  };

  // A set of writes committed together: appends, acks and drops of many threads.
  struct Group {
    Group();
    ~Group();
    std::unique_ptr<rocksdb::WriteBatch> batch;
    // Holds what someone was promised is kept (appends, a local DELETE, new device ids, dead
    // letters): synced per `sync`. A group of removals only (acks, drops, expiry) is not: losing it
    // to a power cut brings delivered readings back to be sent again (duplicates, never a loss),
    // and syncing each ack would cost an fsync per cloud request under `sync: always`.
    bool durable = false;
    bool done = false;
    Status status;
    // Its own wake-up: only the threads of this group wake when it is written, not every waiter.
    std::condition_variable written;
  };

  // What each file of buffer/ holds (internal.h: what they share).
  explicit Buffer(Options options);
  // open.cc: the store's state at open, and again after a failed write.
  Status load_state();
  Status load_device(DeviceId id, std::string key);
  Status load_withdrawn();  // after every device is loaded
  std::int64_t now_ms() const;
  void hooks_changed_locked();  // mu_ held

  // commit.cc: the group commit and the sync thread.
  Group& pending_locked();  // the group being gathered, created on demand (mu_ held)
  // Waits until `group` is written, writing it (and everything pending) when nobody else is.
  Status commit(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Group>& group);
  Status write_group(Group& group);
  // After a full disk: tries to resume the store (every kResumeIntervalMs, in the writer's turn,
  // with mu_ released meanwhile), else says that it cannot `blocked` ("take more readings").
  Status check_disk_full(std::unique_lock<std::mutex>& lock, std::string_view blocked);
  // Options::min_free_bytes: OK, or "disk full" while the filesystem has less free. Looks again
  // every kSpaceCheckIntervalMs, and sooner once the writes since the last look may have used
  // half of the room there was above the reserve (mu_ held).
  Status check_free_space(std::string_view blocked);
  void sync_loop();

  // queue.cc: appends, reads, acks.
  // Adds records and state, and the removal of the dead letters `retired` (re-queued by
  // records), to the pending group and commits it; `needed` is the records' entry bytes, room
  // for which was made. mu_ held on entry, released on return (on_append runs without it).
  Status append_locked(std::unique_lock<std::mutex>& lock, std::span<const Record> records,
                       std::span<const StateChange> state, std::uint64_t needed,
                       std::span<const std::uint64_t> retired);
  // Adds a removal of the device's head up to `point` to the pending group (mu_ held).
  // What a removal took out of the totals (withdrawn readings in the range were out already).
  struct Removed {
    std::uint64_t readings = 0;
    std::uint64_t bytes = 0;
  };
  Removed remove_head_locked(DeviceId id, Device& d, AckPoint point);
  // Adds a dead letter to the pending group, which it makes durable (mu_ held).
  void dead_letter_locked(DeviceId device, std::string_view reading_json, std::string_view reason,
                          int http_status);
  void refresh_head_time(DeviceId id);
  // A read's error with the device named (a corrupt entry says which queue it is in).
  Status unreadable(const Status& s, DeviceId device) const;
  // The withdrawn sequences that a read of at most `count` readings from `from`, forward or back,
  // may meet: the QueueReader skips them (withdraw.cc; mu_ held).
  static std::vector<Seq> withdrawn_near(const Device& d, Seq from, std::size_t count, bool back);
  // Removes (seq, entry bytes) from the middle of a device's queue into the pending group, marked
  // so that they stay uncounted across a restart (withdraw.cc). Returns how many were there.
  std::uint64_t withdraw_locked(DeviceId id, Device& d,
                                std::span<const std::pair<Seq, std::uint64_t>> readings);

  // retention.cc: buffer.max_bytes (drop_oldest) and buffer.max_age.
  // Room for `needed` more bytes of `records` readings: OK, made by dropping the oldest
  // readings under drop_oldest, or the error to return (counted as rejected). mu_ held on entry
  // and return; released while a queue is scanned for what to drop.
  Status make_room(std::unique_lock<std::mutex>& lock, std::uint64_t needed, std::size_t records);
  // Where to cut a device's head to free at least `target` bytes: read from the store with no
  // lock held (the head's entries do not change under it; a cut that raced is checked again).
  struct HeadCut {
    std::optional<AckPoint> last;  // none: nothing committed to drop
    std::uint64_t bytes = 0;
    std::int64_t next_head_ms = 0;  // stored_at of the reading after the cut; 0: unknown
  };
  Result<HeadCut> find_head_cut(DeviceId id, Seq first, Seq next, std::uint64_t head_cum,
                                std::uint64_t target) const;

  Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* queue_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* dead_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  // By family, as kHookColumnFamily then kActionsColumnFamily; null: read-only, absent from the
  // store.
  rocksdb::ColumnFamilyHandle* history_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* actions_cf_ = nullptr;
  std::vector<std::unique_ptr<WriteHook>> hooks_;  // guarded by mu_
  std::atomic<bool> hooks_want_readings_{false};

  mutable std::mutex mu_;
  std::unordered_map<DeviceId, Device> devices_;
  std::unordered_map<std::string, DeviceId> device_ids_;
  std::shared_ptr<Group> pending_;
  bool writing_ = false;
  std::uint64_t total_readings_ = 0;
  std::uint64_t total_bytes_ = 0;
  std::uint64_t dead_letters_ = 0;
  std::uint64_t next_dead_letter_id_ = 1;
  DeviceId next_device_id_ = 1;
  std::uint64_t appended_ = 0;
  std::uint64_t dropped_max_age_ = 0;
  std::uint64_t dropped_oldest_ = 0;
  std::uint64_t rejected_full_ = 0;
  bool disk_full_ = false;
  std::int64_t last_resume_attempt_ms_ = 0;
  bool low_space_ = false;  // under Options::min_free_bytes at the last look
  std::chrono::steady_clock::time_point space_checked_at_{};
  std::uint64_t room_above_reserve_ = 0;  // at the last look
  std::uint64_t written_since_space_check_ = 0;
  // One thread at a time drops the oldest readings (its scans run without mu_); the others
  // wait for it, then look again whether there is room.
  bool dropping_ = false;
  std::condition_variable drop_done_;
  std::function<void(DeviceId)> on_append_;

  // sync: batch — a background fsync of the WAL at most every sync_interval.
  bool unsynced_ = false;
  bool sync_waiting_ = false;  // the sync thread waits for the writer's turn
  bool stopping_ = false;
  std::condition_variable sync_wakeup_;
  std::thread sync_thread_;
};

// `edgegw buffer repair`: RocksDB's repair of a damaged store (salvages what it can).
Status repair(const std::string& path);

}  // namespace edgegw::buffer
