// SPDX-License-Identifier: Apache-2.0
// What the buffer knows of the components that keep entries in its store next to the queues: one
// interface, called in every append with the same WriteBatch, so those entries are exactly as
// durable as the readings they come from. The local history (history/history.h) and the actions
// (actions/engine.h) implement it; the buffer never includes or links them (the arrows run
// history -> buffer and actions -> buffer only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "buffer/key_format.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace edgegw::buffer {

struct Record;  // buffer.h

// The column families of the buffer's store kept for the write hooks
// (gateway/docs/buffer_format.md): the local history's and the actions'. Opened with the store; a
// read-only open of a store written before one existed goes without it.
inline constexpr std::string_view kHookColumnFamily = "history";
inline constexpr std::string_view kActionsColumnFamily = "actions";

class WriteHook {
 public:
  virtual ~WriteHook() = default;
  // For each appended reading, in the order the buffer writes them, under the buffer's lock and
  // before the write: adds the hook's entries to `batch` (they commit, or fail, with the reading).
  // Must be cheap and must not call back into the buffer. `record` is as the appender gave it,
  // `seq` its place in its device's queue, `stored_ms` the buffer's clock at the append.
  virtual void on_append(rocksdb::WriteBatch& batch, const Record& record, Seq seq,
                         std::int64_t stored_ms) = 0;
  // The buffer calls this instead, once for each run of one device's readings it stores as one
  // entry (key_format.h): `records` in order, the first at `first_seq`, the next at first_seq + 1
  // and so on. By default each reading goes to on_append; a hook may store a run as a whole.
  virtual void on_append_run(rocksdb::WriteBatch& batch, std::span<const Record* const> records,
                             Seq first_seq, std::int64_t stored_ms) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      on_append(batch, *records[i], first_seq + i, stored_ms);
    }
  }
  // Whether on_append needs the records' variable, time, number and JSON now; false: appenders
  // may leave them out (Buffer::hooks_want_readings). A hook whose answer changes says so with
  // Buffer::hooks_changed(), outside any lock of its own that on_append takes.
  virtual bool wants_readings() const { return true; }
  // After the write of each group (`batch` is the one on_append was given), under the buffer's
  // lock: ok, or failed — then none of the batch's entries exist and the buffer re-reads its own
  // state from the store; a hook that keeps state in memory must do the same. Must be cheap.
  virtual void on_written(const rocksdb::WriteBatch& batch, bool ok) {
    (void)batch;
    (void)ok;
  }
};

// Where a write hook keeps its entries: the buffer's store and the hook's column family (both owned
// by the buffer, valid while it is open). db is null for a read-only buffer.
struct HookStore {
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* column_family = nullptr;
};

}  // namespace edgegw::buffer
