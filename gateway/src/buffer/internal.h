// SPDX-License-Identifier: Apache-2.0
// What the files of buffer/ share and nobody else sees: the column families, the tuning
// constants, and the small RocksDB helpers. (Private: included by buffer/*.cc only.)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/slice.h>

#include "buffer/key_format.h"
#include "edgegw/status.h"

namespace edgegw::buffer {

inline constexpr const char* kQueueCf = "queue";
inline constexpr const char* kMetaCf = "meta";
inline constexpr const char* kDeadLetterCf = "dead_letter";

// The store's column families, in the order of Buffer::handles_ (the hooks' last: a read-only
// open of an older store goes without those it lacks).
std::vector<rocksdb::ColumnFamilyDescriptor> column_families();

// A drop under drop_oldest frees at least this share of max_bytes, so a full buffer does not pay
// for one drop per append.
inline constexpr std::uint64_t kDropChunkDivisor = 100;
inline constexpr std::int64_t kResumeIntervalMs = 1000;
inline constexpr std::int64_t kSpaceCheckIntervalMs = 100;
inline constexpr std::uint64_t kExpireScanLimit = 100000;
// How many groups one writer commits in a row before it hands the job over.
inline constexpr int kMaxLeaderRounds = 4;

inline rocksdb::Slice slice(const QueueKey& k) { return {k.data(), k.size()}; }

// A RocksDB status as ours: no space is kResourceExhausted ("disk full: ..."), so sources push
// back; `what` says what failed.
Status from_rocksdb(const rocksdb::Status& s, std::string_view what);

// A queue read's error, with the device named when it is a corrupt entry (where to look).
Status in_queue_of(const Status& s, std::string_view device_key);

// An iterator over the queue column family up to `upper` (exclusive), for reads from a head.
std::unique_ptr<rocksdb::Iterator> queue_iterator(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                                  const rocksdb::Slice* upper);

}  // namespace edgegw::buffer
