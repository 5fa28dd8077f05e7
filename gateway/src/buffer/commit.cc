// SPDX-License-Identifier: Apache-2.0
// The group commit: appends, acks and drops of many threads gathered into one WriteBatch, one
// writer at a time; the sync thread of `sync: batch`; recovery after a full disk.
#include "buffer/buffer.h"

#include <sys/statvfs.h>

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/internal.h"

namespace edgegw::buffer {

namespace {

// As the config writes sizes: "64MiB", "512KiB", "1000".
std::string size_text(std::uint64_t bytes) {
  if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
  if (bytes % (1 << 10) == 0) return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes);
}

}  // namespace

Buffer::Group::Group() : batch(std::make_unique<rocksdb::WriteBatch>()) {}
Buffer::Group::~Group() = default;

Buffer::Group& Buffer::pending_locked() {
  if (!pending_) pending_ = std::make_shared<Group>();
  return *pending_;
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

Status Buffer::check_free_space(std::string_view blocked) {
  if (options_.min_free_bytes == 0) return Status::ok();
  const auto now = std::chrono::steady_clock::now();
  if (now - space_checked_at_ >= std::chrono::milliseconds(kSpaceCheckIntervalMs) ||
      written_since_space_check_ >= room_above_reserve_ / 2) {
    struct statvfs fs {};
    // A filesystem that cannot be asked is not called full: the write itself will say.
    if (::statvfs(options_.path.c_str(), &fs) == 0) {
      const std::uint64_t free = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
      low_space_ = free < options_.min_free_bytes;
      room_above_reserve_ = low_space_ ? 0 : free - options_.min_free_bytes;
    } else {
      low_space_ = false;
      room_above_reserve_ = 0;
    }
    space_checked_at_ = now;
    written_since_space_check_ = 0;
  }
  if (!low_space_) return Status::ok();
  return Status::resource_exhausted("disk full: less than " + size_text(options_.min_free_bytes) +
                                    " free (buffer.min_free) on the filesystem of the buffer at '" +
                                    options_.path + "': it cannot " + std::string(blocked) +
                                    " until space is freed");
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
      for (const auto& hook : hooks_) hook->on_written(*g->batch, static_cast<bool>(s));
      g->written.notify_all();
      if (!s) {
        // The in-memory state counted writes that did not happen. Fail what was built on top
        // of them too, then re-read the state from the store (nobody else is writing now).
        if (s.code() == Code::kResourceExhausted) disk_full_ = true;
        // The WAL file failed: RocksDB recovers to a new one; syncing this one is refused (and
        // asserted against in Debian's build).
        unsynced_ = false;
        if (pending_) {
          for (const auto& hook : hooks_) hook->on_written(*pending_->batch, false);
          pending_->status = s;
          pending_->done = true;
          pending_->written.notify_all();
          pending_.reset();
        }
        (void)load_state();  // if even reading fails, the next write reports the store's error
      } else {
        disk_full_ = false;
        written_since_space_check_ += g->batch->GetDataSize();
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

Status Buffer::write_hook_changes(const std::function<void(rocksdb::WriteBatch&)>& fill) {
  if (options_.read_only) return Status::permission_denied("the buffer is open read-only");
  std::unique_lock lock(mu_);
  if (Status s = check_disk_full(lock, "record the actions' progress"); !s) return s;
  fill(*pending_locked().batch);
  std::shared_ptr<Group> group = pending_;
  return commit(lock, group);
}

Status Buffer::write_group(Group& group) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync == SyncMode::kAlways && group.durable;
  return from_rocksdb(db_->Write(wo, group.batch.get()),
                      "cannot write the buffer at '" + options_.path + "'");
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

}  // namespace edgegw::buffer
