// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rocksdb/options.h>

namespace edgegw::buffer {

// RocksDB tuned for a small edge box: a FIFO-shaped workload (append at the tail, delete ranges at
// the head) with bounded memory and bounded housekeeping files. Reasons are in the .cc.
rocksdb::DBOptions db_options();
rocksdb::ColumnFamilyOptions queue_cf_options();
rocksdb::ColumnFamilyOptions small_cf_options();  // meta, dead_letter

// Whether RocksDB's CRC32C checksums run on the CPU's crc32 instruction (crc32c.cc), or on the
// library's own tables.
bool crc32c_in_hardware() noexcept;

}  // namespace edgegw::buffer
