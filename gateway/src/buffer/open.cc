// SPDX-License-Identifier: Apache-2.0
// Opening the store: column families, the format version, the state of every queue read
// back (devices, heads and tails, withdrawal marks, dead letters), closing, and repair.
#include "buffer/buffer.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/internal.h"
#include "buffer/queue_reader.h"
#include "buffer/rocksdb_options.h"
#include "core/time.h"

namespace edgegw::buffer {

Buffer::Buffer(Options options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = core::now_ms;
}

std::int64_t Buffer::now_ms() const { return options_.clock(); }

Result<std::unique_ptr<Buffer>> Buffer::open(Options options) {
  std::unique_ptr<Buffer> b(new Buffer(std::move(options)));
  const std::string& path = b->options_.path;
  rocksdb::DBOptions dbo = db_options();
  if (b->options_.env != nullptr) dbo.env = b->options_.env;
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
    // A store written before the history or the actions existed lacks their column families;
    // read-only cannot add them (and needs neither).
    std::vector<std::string> present;
    if (rocksdb::DB::ListColumnFamilies(dbo, path, &present).ok()) {
      std::erase_if(cfs, [&](const rocksdb::ColumnFamilyDescriptor& cf) {
        return std::find(present.begin(), present.end(), cf.name) == present.end();
      });
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
  if (!b->options_.read_only) {
    b->history_cf_ = b->handles_[4];
    b->actions_cf_ = b->handles_[5];
  }

  std::string format;
  s = b->db_->Get(rocksdb::ReadOptions(), b->meta_, kMetaFormat, &format);
  if (!s.ok() && !s.IsNotFound()) return from_rocksdb(s, "cannot read the buffer's format");
  if (s.ok() && format != kFormatVersion && format != kFormatVersion1 &&
      format != kFormatVersion2) {
    return Status::corruption("the buffer at '" + path + "' has format version '" + format +
                              "'; this edgegw reads version " + std::string(kFormatVersion));
  }
  // A new store, or one of version 1 or 2: they hold none of the later entries and read as they
  // are. Say 3 from now on, so that an older edgegw refuses the entries this one writes instead of
  // misreading them.
  if (format != kFormatVersion && !b->options_.read_only) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (Status put = from_rocksdb(b->db_->Put(wo, b->meta_, kMetaFormat, kFormatVersion),
                                  "cannot write the buffer's format version");
        !put) {
      return put;
    }
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
  hooks_.clear();
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

  // The head: the first reading after the mark (in a run acked in part, or the next entry).
  QueueReader reader(*db_, queue_, id, std::numeric_limits<Seq>::max());
  if (Status st = reader.seek(head.removed_up_to + 1); !st) return in_queue_of(st, key);
  if (reader.valid()) {
    d.first_seq = reader.reading().seq;
    d.head_cum = reader.reading().cum_bytes - entry_bytes(reader.reading().stored_size());
    d.head_stored_ms = reader.stored_at_ms();
    // The tail: the last entry's last reading.
    if (Status st = reader.seek_back(std::numeric_limits<Seq>::max() - 1); !st) {
      return in_queue_of(st, key);
    }
    if (!reader.valid()) {
      return Status::corruption("buffer: lost the tail of the queue of device '" + key + "'");
    }
    d.next_seq = reader.reading().seq + 1;
    d.tail_cum = reader.reading().cum_bytes;
  }
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

HookStore Buffer::hook_store(std::string_view family) const noexcept {
  if (options_.read_only) return {};
  if (family == kActionsColumnFamily) return {db_.get(), actions_cf_};
  if (family == kHookColumnFamily) return {db_.get(), history_cf_};
  return {};
}

void Buffer::add_write_hook(std::unique_ptr<WriteHook> hook) {
  if (!hook) return;
  std::lock_guard lock(mu_);
  hooks_.push_back(std::move(hook));
  hooks_changed_locked();
}

void Buffer::hooks_changed() {
  std::lock_guard lock(mu_);
  hooks_changed_locked();
}

void Buffer::hooks_changed_locked() {
  const bool want = std::any_of(hooks_.begin(), hooks_.end(),
                                [](const auto& hook) { return hook->wants_readings(); });
  hooks_want_readings_.store(want, std::memory_order_release);
}

std::vector<WriteHook*> Buffer::write_hooks() const {
  std::lock_guard lock(mu_);
  std::vector<WriteHook*> hooks;
  for (const auto& h : hooks_) hooks.push_back(h.get());
  return hooks;
}

bool Buffer::background_work_pending() const {
  for (const char* property : {"rocksdb.num-running-flushes", "rocksdb.num-running-compactions",
                               "rocksdb.mem-table-flush-pending", "rocksdb.compaction-pending"}) {
    std::uint64_t value = 0;
    if (db_->GetIntProperty(queue_, property, &value) && value > 0) return true;
  }
  return false;
}

Status repair(const std::string& path) {
  return from_rocksdb(rocksdb::RepairDB(path, db_options(), column_families(), small_cf_options()),
                      "repair of the buffer at '" + path + "' failed");
}

}  // namespace edgegw::buffer
