// SPDX-License-Identifier: Apache-2.0
#include "buffer/rocksdb_options.h"

#include <algorithm>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/table.h>

namespace edgegw::buffer {

namespace {

rocksdb::CompressionType best_compression() {
  // Readings are JSON text: LZ4 shrinks them ~3x for little CPU. Debian's RocksDB has it; fall back
  // to Snappy, then none, so a differently built library still opens the store.
  const auto supported = rocksdb::GetSupportedCompressions();
  for (auto c : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), c) != supported.end()) return c;
  }
  return rocksdb::kNoCompression;
}

}  // namespace

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  // Salvage everything up to a torn tail of the WAL (a power cut mid-write) instead of refusing to
  // open; what was acknowledged was synced (sync: always) or is before the tear.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Two cores: one background job for flushes and one for compactions.
  o.max_background_jobs = 2;
  // Bounded housekeeping: the info LOG rolls at 1 MiB, 3 kept, warnings only; few open files.
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.max_log_file_size = 1 << 20;
  o.keep_log_file_num = 3;
  o.recycle_log_file_num = 0;
  o.max_manifest_file_size = 16 << 20;
  o.max_open_files = 256;
  // The WAL cannot grow without bound while a memtable waits: past 64 MiB, flush.
  o.max_total_wal_size = 64 << 20;
  // Whole-store writes are ours to group (Buffer::commit); RocksDB's pipelining adds nothing.
  o.enable_pipelined_write = false;
  o.avoid_flush_during_shutdown = false;
  return o;
}

rocksdb::ColumnFamilyOptions queue_cf_options() {
  rocksdb::ColumnFamilyOptions o;
  // 16 MiB memtables, at most 3: ~48 MiB of RAM at worst for the queue. A burst fits in memory and
  // is usually acked (range-deleted) before it is ever flushed.
  o.write_buffer_size = 16 << 20;
  o.max_write_buffer_number = 3;
  o.min_write_buffer_number_to_merge = 1;
  // Level compaction: DeleteRange tombstones are dropped when compaction reaches the bottom, so the
  // store shrinks back after a backlog drains. Small levels keep compactions short on 2 cores.
  o.compaction_style = rocksdb::kCompactionStyleLevel;
  o.level0_file_num_compaction_trigger = 4;
  o.target_file_size_base = 32 << 20;
  o.max_bytes_for_level_base = 128 << 20;
  o.compression = best_compression();
  o.bottommost_compression = best_compression();
  // Reads are sequential scans of one device's range: an 8 MiB block cache is plenty; no bloom
  // filters (there are no point lookups on the hot path).
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(8 << 20);
  table.block_size = 16 << 10;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

rocksdb::ColumnFamilyOptions small_cf_options() {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = 1 << 20;
  o.max_write_buffer_number = 2;
  o.compression = best_compression();
  return o;
}

}  // namespace edgegw::buffer
