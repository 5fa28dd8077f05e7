// SPDX-License-Identifier: Apache-2.0
// The local history: the last `per_variable` readings of each device and variable, kept in a
// column family of the buffer's RocksDB and written in the same WriteBatch as the append, so it is
// exactly as durable as the queue. It holds readings from every source; the http source's GET /data
// and DELETE /data read and edit it (history/local_api.h). Forwarding does not remove anything
// from it: it is what the device sent, not what waits for the cloud.
//
// Layout (gateway/docs/buffer_format.md): key = device (4) | variable length (1) | variable |
// n (8), n counting each (device, variable)'s entries from 1; value = version (1) | queue seq (8) |
// time ms (8) | stored ms (8) | the reading's cloud JSON. The readings of one variable in one run
// of the buffer (one append of a device) are one entry, as the queue's are: keyed by the last n,
// value = version 2 (1) | stored ms (8) | count (4) | per reading: removed (1) | queue seq (8) |
// time ms (8) | JSON length (4) | the JSONs. Each (device, variable) keeps n in [first, next):
// trimming deletes the oldest in chunks of per_variable/8 (one range tombstone per chunk, not one
// delete per append; a run across the cut stays whole), and reads only look at the newest
// per_variable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "buffer/buffer.h"
#include "buffer/key_format.h"
#include "buffer/write_hook.h"
#include "edgegw/status.h"

namespace edgegw::history {

inline constexpr std::string_view kColumnFamily = buffer::kHookColumnFamily;
inline constexpr std::uint8_t kValueVersion = 1;
inline constexpr std::size_t kMaxVariableBytes = 255;  // the cloud allows 100 characters

struct Entry {
  buffer::DeviceId device = 0;
  std::string variable;
  std::uint64_t n = 0;        // its place in the (device, variable) history
  buffer::Seq queue_seq = 0;  // its sequence in the device's buffer queue
  std::int64_t time_ms = 0;
  std::int64_t stored_ms = 0;  // when the gateway took it
  std::string json;            // the reading's cloud JSON
};

struct DeviceSummary {
  std::uint64_t readings = 0;      // held in the history (at most per_variable per variable)
  std::int64_t last_input_ms = 0;  // 0: none
};

class History final : public buffer::WriteHook {
 public:
  // `db` and `cf` belong to the buffer and outlive the history. per_variable 0: disabled.
  History(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::size_t per_variable);

  // Reads each (device, variable)'s range (a skip scan: two seeks per variable, not a full scan).
  // Disabled: removes whatever an earlier run kept, so nothing stale is ever served.
  Status load();

  bool enabled() const noexcept { return per_variable_ > 0; }
  std::size_t per_variable() const noexcept { return per_variable_; }

  // One reading alone: as a run of one.
  void on_append(rocksdb::WriteBatch& batch, const buffer::Record& record, buffer::Seq queue_seq,
                 std::int64_t stored_ms) override;
  // Called by the buffer for each run it appends, under its lock, before the write: adds one
  // entry per variable of the run (a run of one: the version-1 value) and, past the bound, a trim
  // to `batch`. Cheap: a map lookup and one or two puts per variable.
  void on_append_run(rocksdb::WriteBatch& batch, std::span<const buffer::Record* const> records,
                     buffer::Seq first_seq, std::int64_t stored_ms) override;

  // The newest per_variable entries of each of `variables` of the device (every variable when
  // empty), each variable's in arrival order.
  Result<std::vector<Entry>> entries(buffer::DeviceId device,
                                     std::span<const std::string> variables) const;

  // Deletes entries (as returned by entries()): a run's are marked removed, the run rewritten.
  Status remove(std::span<const Entry> entries, bool sync);

  DeviceSummary summary(buffer::DeviceId device) const;

 private:
  struct Range {
    std::uint64_t first = 1;  // oldest entry kept
    std::uint64_t next = 1;   // next to assign
    std::int64_t last_stored_ms = 0;
  };
  // The key prefix of a (device, variable): device (4) | length (1) | variable.
  static std::string prefix(buffer::DeviceId device, std::string_view variable);
  static std::string key(std::string_view prefix, std::uint64_t n);
  // Adds the entry of `n` readings of one variable (the first at `first_n`) to `batch`.
  void put(rocksdb::WriteBatch& batch, std::string_view prefix, std::uint64_t first_n,
           std::span<const buffer::Record* const> records, std::span<const buffer::Seq> seqs,
           std::int64_t stored_ms);
  // Visits the entries of a prefix with n in [from, next), not removed, in order, until `visit`
  // returns false.
  Status visit(const std::string& prefix, std::uint64_t from, std::uint64_t next,
               const std::function<bool(const Entry&)>& visit) const;

  rocksdb::DB& db_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::size_t per_variable_;
  std::size_t trim_chunk_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Range> ranges_;  // by prefix
  std::string scratch_;                            // add()'s key, reused (the buffer's lock held)
  std::mutex remove_mu_;  // one remove() at a time: each rewrites the runs it edits
};

// Opens the history in the buffer's store (History::load) and, when enabled (per_variable > 0),
// makes it the buffer's write hook, owned by the buffer. Disabled: clears what an earlier run kept
// and sets no hook. A read-only buffer keeps no history: nothing to do.
Status attach(buffer::Buffer& buffer, std::size_t per_variable);

// The history attached to `buffer`; null when none is (disabled, or read-only).
History* of(const buffer::Buffer& buffer);

}  // namespace edgegw::history
