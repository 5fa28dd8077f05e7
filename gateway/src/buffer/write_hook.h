// SPDX-License-Identifier: Apache-2.0
// What the buffer knows of the components that keep entries in its store next to the queues: one
// interface, called in every append with the same WriteBatch, so those entries are exactly as
// durable as the readings they come from. The local history (history/history.h) implements it;
// the buffer never includes or links it (the arrow runs history -> buffer only).
#pragma once

#include <cstdint>
#include <string_view>

#include "buffer/key_format.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace edgegw::buffer {

// The column family of the buffer's store kept for the write hook (gateway/docs/buffer_format.md:
// the local history's). Opened with the store; a read-only open of a store written before it
// existed goes without it.
inline constexpr std::string_view kHookColumnFamily = "history";

class WriteHook {
 public:
  virtual ~WriteHook() = default;
  // For each appended reading, in the order the buffer writes them, under the buffer's lock and
  // before the write: adds the hook's entries to `batch` (they commit, or fail, with the reading).
  // Must be cheap and must not call back into the buffer. `variable` and `time_ms` are those the
  // appender gave (Record); `stored_ms` is the buffer's clock at the append.
  virtual void on_append(rocksdb::WriteBatch& batch, DeviceId device, Seq seq,
                         std::string_view variable, std::int64_t time_ms, std::int64_t stored_ms,
                         std::string_view json) = 0;
};

// Where a write hook keeps its entries: the buffer's store and the hook's column family (both owned
// by the buffer, valid while it is open). db is null for a read-only buffer.
struct HookStore {
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* column_family = nullptr;
};

}  // namespace edgegw::buffer
