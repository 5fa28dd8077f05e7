// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rocksdb/options.h>

namespace edgegw::buffer {

// RocksDB tuned for a small edge box: a FIFO-shaped workload (append at the tail, delete ranges at
// the head) with bounded memory and bounded housekeeping files. Reasons are in the .cc.
rocksdb::DBOptions db_options();
rocksdb::ColumnFamilyOptions queue_cf_options();
rocksdb::ColumnFamilyOptions small_cf_options();  // meta, dead_letter

}  // namespace edgegw::buffer
