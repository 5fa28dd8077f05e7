// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

#include <rocksdb/options.h>

namespace edgegw::buffer {

// RocksDB tuned for a small edge box: a FIFO-shaped workload (append at the tail, delete ranges at
// the head) with bounded memory and bounded housekeeping files. Reasons are in the .cc.

rocksdb::DBOptions db_options();
rocksdb::ColumnFamilyOptions queue_cf_options();
rocksdb::ColumnFamilyOptions small_cf_options();  // meta, dead_letter

// The queue's memtable: the largest of the store's, so a new WAL file takes ~1.1 x this at once
// (RocksDB preallocates it).
inline constexpr std::uint64_t kQueueMemtableBytes = 16 << 20;
inline constexpr std::uint64_t kWalPreallocationBytes = kQueueMemtableBytes * 11 / 10;

// Whether RocksDB's CRC32C checksums run on the CPU's crc32 instruction (crc32c.cc), or on the
// library's own tables.
bool crc32c_in_hardware() noexcept;

}  // namespace edgegw::buffer
