#include "buffer/buffer.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/rocksdb_options.h"
#include "core/bug.h"
#include "core/time.h"

namespace edgegw::buffer {

namespace {

constexpr const char* kQueueCf = "queue";
constexpr const char* kMetaCf = "meta";
constexpr const char* kDeadLetterCf = "dead_letter";

std::vector<rocksdb::ColumnFamilyDescriptor> column_families() {
  return {
      {rocksdb::kDefaultColumnFamilyName, small_cf_options()},
      {kQueueCf, queue_cf_options()},
      {kMetaCf, small_cf_options()},
      {kDeadLetterCf, small_cf_options()},
      {std::string(kHookColumnFamily), queue_cf_options()},
  };
}
// A drop under drop_oldest frees at least this share of max_bytes, so a full buffer does not pay
// for one drop per append.
constexpr std::uint64_t kDropChunkDivisor = 100;
constexpr std::int64_t kResumeIntervalMs = 1000;
constexpr std::uint64_t kExpireScanLimit = 100000;
// How many groups one writer commits in a row before it hands the job over.
constexpr int kMaxLeaderRounds = 4;

rocksdb::Slice slice(const QueueKey& k) { return {k.data(), k.size()}; }

Status from_rocksdb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::ok();
  std::string msg(what);
  msg += ": ";
  msg += s.ToString();
  if (s.IsNoSpace()) return Status::resource_exhausted("disk full: " + msg);
  if (s.IsCorruption()) return Status::corruption(std::move(msg));
  if (s.IsIOError()) return Status::io_error(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Status::unavailable(std::move(msg));
  return Status::internal(std::move(msg));
}

std::unique_ptr<rocksdb::Iterator> queue_iterator(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                                  const rocksdb::Slice* upper) {
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = upper;
  // Every queue read starts at a device's head, and removals (ack, drop, expiry) only ever delete
  // below the head: no live key is covered by a range tombstone, so the iterator need not build
  // the tombstone map — which costs O(tombstones) per iterator, one tombstone per ack.
  ro.ignore_range_deletions = true;
  return std::unique_ptr<rocksdb::Iterator>(db.NewIterator(ro, cf));
}

}  // namespace

Buffer::Group::Group() : batch(std::make_unique<rocksdb::WriteBatch>()) {}
Buffer::Group::~Group() = default;

Buffer::Group& Buffer::pending_locked() {
  if (!pending_) pending_ = std::make_shared<Group>();
  return *pending_;
}

Buffer::Buffer(Options options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = core::now_ms;
}

std::int64_t Buffer::now_ms() const { return options_.clock(); }

Result<std::unique_ptr<Buffer>> Buffer::open(Options options) {
  std::unique_ptr<Buffer> b(new Buffer(std::move(options)));
  const std::string& path = b->options_.path;
  const rocksdb::DBOptions dbo = db_options();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = column_families();
  if (!b->options_.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec)
      return Status::io_error("cannot create the buffer folder '" + path + "': " + ec.message());
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (b->options_.read_only) {
    // A store written before the history existed lacks its column family; read-only cannot add it.
    std::vector<std::string> present;
    if (rocksdb::DB::ListColumnFamilies(dbo, path, &present).ok() &&
        std::find(present.begin(), present.end(), kHookColumnFamily) == present.end()) {
      cfs.pop_back();
    }
    s = rocksdb::DB::OpenForReadOnly(dbo, path, cfs, &b->handles_, &raw);
  } else {
    s = rocksdb::DB::Open(dbo, path, cfs, &b->handles_, &raw);
  }
  if (!s.ok()) {
    if (s.IsCorruption()) {
      return Status::corruption("the buffer at '" + path + "' is damaged (" + s.ToString() +
                                "); back up the folder, then run `edgegw buffer repair -c FILE` "
                                "to salvage what can be read");
    }
    if (b->options_.read_only && s.IsPathNotFound()) {
      return Status::not_found("no buffer at '" + path + "' (the gateway has not run yet)");
    }
    return from_rocksdb(s, "cannot open the buffer at '" + path + "'");
  }
  b->db_.reset(raw);
  b->queue_ = b->handles_[1];
  b->meta_ = b->handles_[2];
  b->dead_ = b->handles_[3];
  if (!b->options_.read_only) b->hook_cf_ = b->handles_[4];

  std::string format;
  s = b->db_->Get(rocksdb::ReadOptions(), b->meta_, kMetaFormat, &format);
  if (s.IsNotFound() && !b->options_.read_only) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (Status put = from_rocksdb(b->db_->Put(wo, b->meta_, kMetaFormat, kFormatVersion),
                                  "cannot initialise the buffer");
        !put) {
      return put;
    }
  } else if (!s.ok() && !s.IsNotFound()) {
    return from_rocksdb(s, "cannot read the buffer's format");
  } else if (s.ok() && format != kFormatVersion) {
    return Status::corruption("the buffer at '" + path + "' has format version '" + format +
                              "'; this edgegw reads version " + std::string(kFormatVersion));
  }
  if (Status st = b->load_state(); !st) return st;
  if (!b->options_.read_only && b->options_.sync == SyncMode::kBatch) {
    b->sync_thread_ = std::thread([p = b.get()] { p->sync_loop(); });
  }
  return b;
}

Buffer::~Buffer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  sync_wakeup_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  if (!db_) return;
  if (!options_.read_only) {
    // A clean stop leaves everything in table files: a faster next start, and a store that
    // `edgegw buffer repair` can rebuild even if its MANIFEST is later damaged (RocksDB's repair
    // cannot place WAL records of non-default column families without the MANIFEST).
    (void)db_->Flush(rocksdb::FlushOptions(), handles_);
    if (unsynced_) (void)db_->SyncWAL();
  }
  hook_.reset();
  for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
  (void)db_->Close();
}

Status Buffer::load_state() {
  devices_.clear();
  device_ids_.clear();
  next_device_id_ = 1;
  total_readings_ = 0;
  total_bytes_ = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  std::vector<std::pair<DeviceId, std::string>> found;
  for (it->Seek(kMetaDevicePrefix); it->Valid() && it->key().starts_with(kMetaDevicePrefix);
       it->Next()) {
    if (it->value().size() != 4) return Status::corruption("buffer meta: bad device index entry");
    found.emplace_back(load_be32(it->value().data()),
                       it->key().ToString().substr(kMetaDevicePrefix.size()));
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "cannot read the buffer's devices");
  for (auto& [id, key] : found) {
    if (Status s = load_device(id, std::move(key)); !s) return s;
  }
  if (Status s = load_withdrawn(); !s) return s;
  for (const auto& [id, d] : devices_) {
    total_readings_ += d.readings();
    total_bytes_ += d.bytes();
  }

  dead_letters_ = 0;
  std::unique_ptr<rocksdb::Iterator> dl(db_->NewIterator(rocksdb::ReadOptions(), dead_));
  for (dl->SeekToFirst(); dl->Valid(); dl->Next()) {
    ++dead_letters_;
    next_dead_letter_id_ = dead_letter_id(std::string_view(dl->key().data(), dl->key().size())) + 1;
  }
  return from_rocksdb(dl->status(), "cannot read the dead letters");
}

Status Buffer::load_device(DeviceId id, std::string key) {
  Device d;
  d.key = key;
  HeadMark head;
  std::string head_value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, meta_head_key(id), &head_value);
  if (s.ok()) {
    auto decoded = decode_head(head_value);
    if (!decoded) return Status::corruption("buffer meta: bad head mark of device '" + key + "'");
    head = *decoded;
  } else if (!s.IsNotFound()) {
    return from_rocksdb(s, "cannot read the buffer's head marks");
  }
  d.first_seq = d.next_seq = head.removed_up_to + 1;
  d.head_cum = d.tail_cum = head.cum_bytes;

  const QueueKey upper = queue_key(id + 1, 0);
  const rocksdb::Slice upper_slice = slice(upper);
  auto it = queue_iterator(*db_, queue_, &upper_slice);
  it->Seek(slice(queue_key(id, head.removed_up_to + 1)));
  if (it->Valid()) {
    const std::string_view k(it->key().data(), it->key().size());
    const std::string_view v(it->value().data(), it->value().size());
    auto h = decode_value_header(v);
    if (!h) return Status::corruption("buffer: bad entry in the queue of device '" + key + "'");
    d.first_seq = queue_key_seq(k);
    d.head_cum = h->cum_bytes - entry_bytes(value_json(v).size());
    d.head_stored_ms = h->stored_at_ms;
    it->SeekToLast();
    if (!it->Valid()) {
      if (!it->status().ok()) return from_rocksdb(it->status(), "cannot read the buffer's queue");
      return Status::corruption("buffer: lost the tail of the queue of device '" + key + "'");
    }
    const std::string_view lk(it->key().data(), it->key().size());
    auto lh = decode_value_header(std::string_view(it->value().data(), it->value().size()));
    if (!lh) return Status::corruption("buffer: bad tail in the queue of device '" + key + "'");
    d.next_seq = queue_key_seq(lk) + 1;
    d.tail_cum = lh->cum_bytes;
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "cannot read the buffer's queue");
  device_ids_[key] = id;
  devices_[id] = std::move(d);
  next_device_id_ = std::max(next_device_id_, id + 1);
  return Status::ok();
}

// The readings the local API withdrew, all devices in one scan of their marks. Their queue keys are
// gone: a mark before a device's first key left is already out of its count (`first_seq` starts at
// that key); one between its first and last keys is a hole to count out; ones after the last key
// were the tail, and the sequence resumes after them (a reused sequence would meet its old mark at
// the next start).
Status Buffer::load_withdrawn() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(kMetaWithdrawnPrefix); it->Valid() && it->key().starts_with(kMetaWithdrawnPrefix);
       it->Next()) {
    if (it->key().size() != kMetaWithdrawnPrefix.size() + 12 || it->value().size() != 8) {
      return Status::corruption("buffer meta: bad withdrawal mark");
    }
    const DeviceId id = load_be32(it->key().data() + kMetaWithdrawnPrefix.size());
    const Seq seq = load_be64(it->key().data() + kMetaWithdrawnPrefix.size() + 4);
    const std::uint64_t bytes = load_be64(it->value().data());
    auto found = devices_.find(id);
    if (found == devices_.end()) continue;  // a device no longer registered: nothing to count
    Device& d = found->second;
    if (seq < d.first_seq) {
      d.stale_marks = true;  // removed with the device's next advance of its head
      continue;
    }
    if (seq >= d.next_seq) {
      d.next_seq = seq + 1;
      d.tail_cum += bytes;
    }
    d.withdrawn.emplace(seq, bytes);
    d.withdrawn_bytes += bytes;
  }
  return from_rocksdb(it->status(), "cannot read the buffer's withdrawal marks");
}

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

HookStore Buffer::hook_store() const noexcept {
  if (options_.read_only) return {};
  return {db_.get(), hook_cf_};
}

void Buffer::set_write_hook(std::unique_ptr<WriteHook> hook) {
  std::unique_ptr<WriteHook> old;
  std::lock_guard lock(mu_);
  old = std::move(hook_);
  hook_ = std::move(hook);
}

WriteHook* Buffer::write_hook() const {
  std::lock_guard lock(mu_);
  return hook_.get();
}

void Buffer::set_on_append(std::function<void(DeviceId)> callback) {
  std::lock_guard lock(mu_);
  on_append_ = std::move(callback);
}

Status Buffer::check_disk_full(std::unique_lock<std::mutex>& lock, std::string_view blocked) {
  if (!disk_full_) return Status::ok();
  const std::int64_t now = now_ms();
  if (now - last_resume_attempt_ms_ >= kResumeIntervalMs && !writing_) {
    last_resume_attempt_ms_ = now;
    // Resume() clears RocksDB's sticky background error once space is back; it may flush first
    // (seconds on a slow card). It runs in the writer's turn, so no group is written and the WAL
    // is not synced meanwhile, but without mu_: a producer arriving now is refused at once (the
    // disk is still full to it) instead of queueing behind the flush, and reads go on.
    writing_ = true;
    lock.unlock();
    const rocksdb::Status resumed = db_->Resume();
    lock.lock();
    writing_ = false;
    if (pending_) pending_->written.notify_one();
    if (sync_waiting_) sync_wakeup_.notify_one();
    // Busy means RocksDB's own recovery (its SstFileManager polls free space) is under way: let
    // this write probe it.
    if (resumed.ok() || resumed.IsBusy()) return Status::ok();
  }
  return Status::resource_exhausted("disk full: the buffer at '" + options_.path + "' cannot " +
                                    std::string(blocked) + " until space is freed");
}

Status Buffer::append(std::span<const Record> records, std::span<const StateChange> state) {
  if (records.empty() && state.empty()) return Status::ok();
  if (options_.read_only) return Status::permission_denied("the buffer is open read-only");
  std::uint64_t needed = 0;
  for (const auto& r : records) needed += entry_bytes(r.json.size());

  std::unique_lock lock(mu_);
  if (Status s = check_disk_full(lock, "take more readings"); !s) {
    rejected_full_ += records.size();
    return s;
  }
  for (const auto& r : records) {
    if (devices_.find(r.device) == devices_.end()) {
      return Status::invalid_argument("append to unknown device index " + std::to_string(r.device));
    }
  }
  if (Status s = make_room(lock, needed, records.size()); !s) return s;
  return append_locked(lock, records, state, needed, {});
}

Status Buffer::append_locked(std::unique_lock<std::mutex>& lock, std::span<const Record> records,
                             std::span<const StateChange> state, std::uint64_t needed,
                             std::span<const std::uint64_t> retired) {
  Group& g = pending_locked();
  g.durable = true;
  const std::int64_t now = now_ms();
  DeviceId last_id = 0;
  Device* d = nullptr;
  // One device's readings together, in their order: the memtable's skip list then inserts each
  // run at the place of the previous key instead of searching from the top for every reading
  // (interleaved devices cost a third of the gateway's CPU at 100k readings/s).
  thread_local std::vector<std::uint32_t> order;
  order.resize(records.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  if (records.size() > 1) {
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return records[a].device < records[b].device;
    });
  }
  for (const std::uint32_t i : order) {
    const Record& r = records[i];
    if (d == nullptr || r.device != last_id) {
      d = &devices_.find(r.device)->second;
      last_id = r.device;
    }
    if (d->readings() == 0) d->head_stored_ms = now;
    const Seq seq = d->next_seq++;
    d->tail_cum += entry_bytes(r.json.size());
    const QueueKey key = queue_key(r.device, seq);
    const ValueHeaderBytes header = encode_value_header({d->tail_cum, now});
    const rocksdb::Slice key_part = slice(key);
    const rocksdb::Slice value_parts[2] = {rocksdb::Slice(header.data(), header.size()),
                                           rocksdb::Slice(r.json.data(), r.json.size())};
    (void)g.batch->Put(queue_, rocksdb::SliceParts(&key_part, 1),
                       rocksdb::SliceParts(value_parts, 2));
    if (hook_) hook_->on_append(*g.batch, r.device, seq, r.variable, r.time_ms, now, r.json);
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
    last_id = 0;
    for (const auto& r : records) {
      if (r.device != last_id) callback(r.device);
      last_id = r.device;
    }
  }
  return s;
}

Status Buffer::for_each_source_state(
    std::string_view source,
    const std::function<void(std::string_view key, std::string_view value)>& visit) const {
  const std::string prefix = meta_source_prefix(source);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const rocksdb::Slice key = it->key();
    const rocksdb::Slice value = it->value();
    visit(std::string_view(key.data() + prefix.size(), key.size() - prefix.size()),
          std::string_view(value.data(), value.size()));
  }
  if (!it->status().ok())
    return Status::io_error("reading source state: " + it->status().ToString());
  return Status::ok();
}

Status Buffer::commit(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Group>& group) {
  while (!group->done) {
    if (writing_) {
      group->written.wait(lock);
      continue;
    }
    // Nobody is writing: this thread writes the pending group (which holds `group`) for everyone,
    // then, while more gathered meanwhile, a few groups more — a handover to a sleeping thread
    // costs more than the write itself on a small box.
    writing_ = true;
    for (int round = 0; round < kMaxLeaderRounds && pending_; ++round) {
      std::shared_ptr<Group> g = std::move(pending_);
      lock.unlock();
      Status s = write_group(*g);
      lock.lock();
      g->status = s;
      g->done = true;
      g->written.notify_all();
      if (!s) {
        // The in-memory state counted writes that did not happen. Fail what was built on top
        // of them too, then re-read the state from the store (nobody else is writing now).
        if (s.code() == Code::kResourceExhausted) disk_full_ = true;
        // The WAL file failed: RocksDB recovers to a new one; syncing this one is refused (and
        // asserted against in Debian's build).
        unsynced_ = false;
        if (pending_) {
          pending_->status = s;
          pending_->done = true;
          pending_->written.notify_all();
          pending_.reset();
        }
        (void)load_state();  // if even reading fails, the next write reports the store's error
      } else {
        disk_full_ = false;
        if (options_.sync == SyncMode::kBatch && g->durable) unsynced_ = true;
      }
    }
    writing_ = false;
    // Hand over: one thread of the group gathered meanwhile becomes the next writer.
    if (pending_) pending_->written.notify_one();
    if (sync_waiting_) sync_wakeup_.notify_one();
  }
  return group->status;
}

Status Buffer::write_group(Group& group) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync == SyncMode::kAlways && group.durable;
  return from_rocksdb(db_->Write(wo, group.batch.get()),
                      "cannot write the buffer at '" + options_.path + "'");
}

void Buffer::remove_head_locked(DeviceId id, Device& d, AckPoint point) {
  pending_locked();
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
    return;
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
}

Status Buffer::ack(DeviceId device, AckPoint point) {
  std::unique_lock lock(mu_);
  // Removals also bring the store back after a full disk: the forwarder retries them, so a
  // queue moves again once space returns even when no source appends meanwhile.
  if (Status s = check_disk_full(lock, "remove delivered readings"); !s) return s;
  auto it = devices_.find(device);
  if (it == devices_.end()) {
    return Status::invalid_argument("ack of unknown device index " + std::to_string(device));
  }
  Device& d = it->second;
  if (point.seq < d.first_seq) return Status::ok();  // already removed (dropped meanwhile)
  if (point.seq >= d.next_seq || point.cum_bytes < d.head_cum || point.cum_bytes > d.tail_cum) {
    return Status::invalid_argument("ack beyond the queue of device '" + d.key + "'");
  }
  remove_head_locked(device, d, point);
  std::shared_ptr<Group> group = pending_;
  Status s = commit(lock, group);
  lock.unlock();
  if (s) refresh_head_time(device);
  return s;
}

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
  if (it == devices_.end()) {  // devices are never removed
    EDGEGW_BUG("device index " + std::to_string(device) + " vanished during a withdrawal");
    return Status::internal("withdrawal: the device's queue vanished");
  }
  Device& d = it->second;
  std::uint64_t removed = 0;
  for (const auto& [seq, bytes] : found) {
    if (seq < d.first_seq || seq >= d.next_seq || d.withdrawn.contains(seq)) continue;
    Group& g = pending_locked();
    g.durable = true;  // the local DELETE was answered: the readings must not come back
    const QueueKey key = queue_key(device, seq);
    (void)g.batch->Delete(queue_, slice(key));
    char mark[8];
    store_be64(mark, bytes);
    (void)g.batch->Put(meta_, meta_withdrawn_key(device, seq), rocksdb::Slice(mark, sizeof mark));
    d.withdrawn.emplace(seq, bytes);
    d.withdrawn_bytes += bytes;
    total_readings_ -= 1;
    total_bytes_ -= bytes;
    ++removed;
  }
  if (removed == 0) return removed;
  std::shared_ptr<Group> group = pending_;
  if (Status s = commit(lock, group); !s) return s;
  return removed;
}

void Buffer::refresh_head_time(DeviceId id) {
  Seq first = 0;
  {
    std::lock_guard lock(mu_);
    auto it = devices_.find(id);
    if (it == devices_.end() || it->second.readings() == 0) return;
    first = it->second.first_seq;
  }
  const QueueKey upper = queue_key(id + 1, 0);
  const rocksdb::Slice upper_slice = slice(upper);
  auto iter = queue_iterator(*db_, queue_, &upper_slice);
  iter->Seek(slice(queue_key(id, first)));
  if (!iter->Valid()) return;
  auto h = decode_value_header(std::string_view(iter->value().data(), iter->value().size()));
  const Seq seq = queue_key_seq(std::string_view(iter->key().data(), iter->key().size()));
  if (!h) return;
  std::lock_guard lock(mu_);
  auto it = devices_.find(id);
  if (it != devices_.end() && it->second.first_seq == seq)
    it->second.head_stored_ms = h->stored_at_ms;
}

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
      auto found = devices_.find(victim);
      if (found == devices_.end()) {  // devices are never removed
        EDGEGW_BUG("device index " + std::to_string(victim) + " vanished while dropping");
        failed = Status::internal("drop_oldest: a device's queue vanished");
        break;
      }
      Device& d = found->second;
      if (d.first_seq != first) continue;  // its head moved meanwhile (acked, expired): again
      if (!cut->last) {
        exhausted.push_back(victim);
        continue;
      }
      const std::uint64_t count = cut->last->seq + 1 - d.first_seq;
      const std::uint64_t bytes_before = total_bytes_;
      remove_head_locked(victim, d, *cut->last);
      d.head_stored_ms = cut->next_head_ms;
      dropped_oldest_ += count;
      freed += bytes_before - total_bytes_;
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
  const QueueKey upper = queue_key(id, next);
  const rocksdb::Slice upper_slice = slice(upper);
  auto it = queue_iterator(*db_, queue_, &upper_slice);
  HeadCut cut;
  for (it->Seek(slice(queue_key(id, first))); it->Valid(); it->Next()) {
    const std::string_view v(it->value().data(), it->value().size());
    auto h = decode_value_header(v);
    if (!h) return Status::corruption("buffer: unreadable entry in a queue while dropping");
    if (cut.bytes >= target) {
      cut.next_head_ms = h->stored_at_ms;
      break;
    }
    cut.last =
        AckPoint{queue_key_seq(std::string_view(it->key().data(), it->key().size())), h->cum_bytes};
    cut.bytes = h->cum_bytes - head_cum;
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "cannot read the buffer");
  return cut;
}

Result<Batch> Buffer::read(DeviceId device, std::size_t max_readings, std::size_t max_bytes) const {
  Seq first = 0;
  Seq next = 0;
  {
    std::lock_guard lock(mu_);
    auto it = devices_.find(device);
    if (it == devices_.end()) {
      return Status::invalid_argument("read of unknown device index " + std::to_string(device));
    }
    first = it->second.first_seq;
    next = it->second.next_seq;
  }
  Batch batch;
  batch.device = device;
  if (first == next || max_readings == 0) return batch;
  const QueueKey upper = queue_key(device, next);
  const rocksdb::Slice upper_slice = slice(upper);
  auto it = queue_iterator(*db_, queue_, &upper_slice);
  batch.body.reserve(std::min<std::size_t>(max_bytes, 1 << 20));
  batch.body += '[';
  for (it->Seek(slice(queue_key(device, first))); it->Valid() && batch.size() < max_readings;
       it->Next()) {
    const std::string_view v(it->value().data(), it->value().size());
    auto h = decode_value_header(v);
    if (!h) {
      return Status::corruption("buffer: unreadable entry in the queue of device '" +
                                device_key(device) + "'");
    }
    const std::string_view json = value_json(v);
    if (!batch.empty() && batch.body.size() + 1 + json.size() + 1 > max_bytes) break;
    if (!batch.empty()) batch.body += ',';
    batch.entries.push_back({queue_key_seq(std::string_view(it->key().data(), it->key().size())),
                             static_cast<std::uint32_t>(batch.body.size()),
                             static_cast<std::uint32_t>(json.size()), h->cum_bytes});
    batch.body += json;
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "cannot read the buffer");
  batch.body += ']';
  return batch;
}

Status Buffer::dead_letter(DeviceId device, std::string_view reading_json, std::string_view reason,
                           int http_status) {
  std::unique_lock lock(mu_);
  if (Status s = check_disk_full(lock, "keep a refused reading"); !s) return s;
  if (devices_.find(device) == devices_.end()) {
    return Status::invalid_argument("dead letter of unknown device index " +
                                    std::to_string(device));
  }
  pending_locked().durable = true;
  DeadLetter letter{next_dead_letter_id_++,   device, http_status, now_ms(), std::string(reason),
                    std::string(reading_json)};
  const auto key = dead_letter_key(letter.id);
  (void)pending_->batch->Put(dead_, rocksdb::Slice(key.data(), key.size()),
                             encode_dead_letter(letter));
  ++dead_letters_;
  std::shared_ptr<Group> group = pending_;
  return commit(lock, group);
}

Status Buffer::for_each_dead_letter(const std::function<bool(const DeadLetter&)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), dead_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto letter = decode_dead_letter(std::string_view(it->key().data(), it->key().size()),
                                     std::string_view(it->value().data(), it->value().size()));
    if (!letter) return Status::corruption("buffer: unreadable dead letter");
    if (!visit(*letter)) break;
  }
  return from_rocksdb(it->status(), "cannot read the dead letters");
}

Result<std::uint64_t> Buffer::retry_dead_letters() {
  if (options_.read_only) return Status::permission_denied("the buffer is open read-only");
  std::vector<DeadLetter> letters;
  if (Status s = for_each_dead_letter([&](const DeadLetter& d) {
        letters.push_back(d);
        return true;
      });
      !s) {
    return s;
  }
  constexpr std::size_t kChunk = 1000;
  std::uint64_t retried = 0;
  std::vector<Record> records;
  std::vector<std::uint64_t> ids;
  for (std::size_t start = 0; start < letters.size(); start += kChunk) {
    const std::size_t end = std::min(letters.size(), start + kChunk);
    records.clear();
    ids.clear();
    std::uint64_t needed = 0;
    for (std::size_t i = start; i < end; ++i) {
      records.push_back({letters[i].device, letters[i].reading_json});
      ids.push_back(letters[i].id);
      needed += entry_bytes(letters[i].reading_json.size());
    }
    // Through the group commit like an append: re-queued and removed from the dead letters in
    // one write (a crash leaves either, never both or neither), synced per `sync`.
    std::unique_lock lock(mu_);
    if (Status s = check_disk_full(lock, "re-queue dead letters"); !s) return s;
    for (const Record& r : records) {
      if (devices_.find(r.device) == devices_.end()) {
        return Status::corruption("dead letter of unknown device index " +
                                  std::to_string(r.device));
      }
    }
    if (Status s = make_room(lock, needed, records.size()); !s) return s;
    if (Status s = append_locked(lock, records, {}, needed, ids); !s) return s;
    retried += end - start;
  }
  return retried;
}

Result<std::uint64_t> Buffer::purge_dead_letters() {
  std::unique_lock lock(mu_);
  const std::uint64_t count = dead_letters_;
  pending_locked().durable = true;
  const auto from = dead_letter_key(0);
  const auto to = dead_letter_key(std::numeric_limits<std::uint64_t>::max());
  (void)pending_->batch->DeleteRange(dead_, rocksdb::Slice(from.data(), from.size()),
                                     rocksdb::Slice(to.data(), to.size()));
  (void)pending_->batch->Delete(dead_, rocksdb::Slice(to.data(), to.size()));
  dead_letters_ = 0;
  std::shared_ptr<Group> group = pending_;
  if (Status s = commit(lock, group); !s) return s;
  return count;
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
    const QueueKey upper = queue_key(id + 1, 0);
    const rocksdb::Slice upper_slice = slice(upper);
    auto it = queue_iterator(*db_, queue_, &upper_slice);
    std::optional<AckPoint> last;
    std::int64_t next_head_time = 0;
    std::uint64_t scanned = 0;
    for (it->Seek(slice(queue_key(id, first))); it->Valid() && scanned < kExpireScanLimit;
         it->Next(), ++scanned) {
      auto h = decode_value_header(std::string_view(it->value().data(), it->value().size()));
      if (!h) return Status::corruption("buffer: unreadable entry while expiring");
      if (h->stored_at_ms >= cutoff) {
        next_head_time = h->stored_at_ms;
        break;
      }
      last = AckPoint{queue_key_seq(std::string_view(it->key().data(), it->key().size())),
                      h->cum_bytes};
    }
    if (!last) {
      refresh_head_time(id);
      continue;
    }
    std::unique_lock lock(mu_);
    Device& d = devices_[id];
    if (last->seq < d.first_seq) continue;  // acked meanwhile
    const std::uint64_t count = last->seq + 1 - d.first_seq;
    remove_head_locked(id, d, *last);
    d.head_stored_ms = next_head_time;
    std::shared_ptr<Group> group = pending_;
    if (Status s = commit(lock, group); !s) return s;
    dropped_max_age_ += count;
    dropped += count;
  }
  return dropped;
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
  s.disk_full = disk_full_;
  for (const auto& [id, d] : devices_) {
    if (d.readings() == 0 || d.head_stored_ms == 0) continue;
    if (s.oldest_stored_ms == 0 || d.head_stored_ms < s.oldest_stored_ms) {
      s.oldest_stored_ms = d.head_stored_ms;
    }
  }
  return s;
}

bool Buffer::background_work_pending() const {
  for (const char* property : {"rocksdb.num-running-flushes", "rocksdb.num-running-compactions",
                               "rocksdb.mem-table-flush-pending", "rocksdb.compaction-pending"}) {
    std::uint64_t value = 0;
    if (db_->GetIntProperty(queue_, property, &value) && value > 0) return true;
  }
  return false;
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

void Buffer::sync_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    sync_wakeup_.wait_for(lock, options_.sync_interval);
    if (!unsynced_ || stopping_) continue;
    // The sync takes the writer's turn: RocksDB's WAL must not be synced while a write is failing
    // on it (Debian's RocksDB asserts then, so a full disk would abort the gateway).
    sync_waiting_ = true;
    sync_wakeup_.wait(lock, [this] { return !writing_ || stopping_; });
    sync_waiting_ = false;
    if (stopping_ || !unsynced_) continue;  // a failed write meanwhile: nothing to sync
    unsynced_ = false;
    writing_ = true;
    lock.unlock();
    (void)db_->SyncWAL();  // a failure shows up as the next write's error
    lock.lock();
    writing_ = false;
    if (pending_) pending_->written.notify_one();
  }
}

Status repair(const std::string& path) {
  return from_rocksdb(rocksdb::RepairDB(path, db_options(), column_families(), small_cf_options()),
                      "repair of the buffer at '" + path + "' failed");
}

}  // namespace edgegw::buffer
