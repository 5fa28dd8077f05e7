// SPDX-License-Identifier: Apache-2.0
#include "buffer/internal.h"

#include <rocksdb/options.h>

#include "buffer/rocksdb_options.h"
#include "buffer/write_hook.h"

namespace edgegw::buffer {

std::vector<rocksdb::ColumnFamilyDescriptor> column_families() {
  return {
      {rocksdb::kDefaultColumnFamilyName, small_cf_options()},
      {kQueueCf, queue_cf_options()},
      {kMetaCf, small_cf_options()},
      {kDeadLetterCf, small_cf_options()},
      {std::string(kHookColumnFamily), queue_cf_options()},
      {std::string(kActionsColumnFamily), small_cf_options()},
  };
}

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

Status in_queue_of(const Status& s, std::string_view device_key) {
  if (s.code() != Code::kCorruption) return s;
  return Status::corruption(std::string(s.message()) + " in the queue of device '" +
                            std::string(device_key) + "'");
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

}  // namespace edgegw::buffer
