// SPDX-License-Identifier: Apache-2.0
// Dead letters: the readings the cloud refused for good, with the reason; listed, re-queued
// (through the group commit) or purged.
#include "buffer/buffer.h"

#include <algorithm>
#include <limits>

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/internal.h"

namespace edgegw::buffer {

Status Buffer::dead_letter(DeviceId device, std::string_view reading_json, std::string_view reason,
                           int http_status) {
  std::unique_lock lock(mu_);
  if (Status s = check_disk_full(lock, "keep a refused reading"); !s) return s;
  if (devices_.find(device) == devices_.end()) {
    return Status::invalid_argument("dead letter of unknown device index " +
                                    std::to_string(device));
  }
  dead_letter_locked(device, reading_json, reason, http_status);
  std::shared_ptr<Group> group = pending_;
  return commit(lock, group);
}

void Buffer::dead_letter_locked(DeviceId device, std::string_view reading_json,
                                std::string_view reason, int http_status) {
  pending_locked().durable = true;
  DeadLetter letter{next_dead_letter_id_++,   device, http_status, now_ms(), std::string(reason),
                    std::string(reading_json)};
  const auto key = dead_letter_key(letter.id);
  (void)pending_->batch->Put(dead_, rocksdb::Slice(key.data(), key.size()),
                             encode_dead_letter(letter));
  ++dead_letters_;
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
    if (Status s = check_free_space("re-queue dead letters"); !s) return s;
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

}  // namespace edgegw::buffer
