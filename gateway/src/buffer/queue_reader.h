// SPDX-License-Identifier: Apache-2.0
// One device's queue read reading by reading, over its stored entries (a reading alone, or a run
// of them keyed by its last sequence: key_format.h), forward or backward, skipping the readings
// withdrawn out of order (their marks; a run keeps them until it goes whole). (Private: buffer/.)
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "buffer/key_format.h"
#include "edgegw/status.h"

namespace edgegw::buffer {

class QueueReader {
 public:
  // Readings of `device` before `end` (next_seq); `withdrawn` (sorted) are skipped.
  QueueReader(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, DeviceId device, Seq end,
              std::vector<Seq> withdrawn = {});

  // At the first reading at or after `seq` / the last one at or before it (not valid: none).
  // Only sequences at or after the head may be asked for: the iterator does not read the range
  // tombstones of what was removed below it (queue_iterator).
  Status seek(Seq seq);
  Status seek_back(Seq seq);
  bool valid() const noexcept { return valid_; }
  Status next();
  Status prev();

  const EntryReading& reading() const noexcept { return entry_.readings[index_]; }
  std::int64_t stored_at_ms() const noexcept { return entry_.stored_at_ms; }

 private:
  Status load();  // decodes the iterator's entry (valid_ false when none is left)
  bool skipped() const;
  Status skip_forward();
  Status skip_back();

  DeviceId device_;
  std::vector<Seq> withdrawn_;
  QueueKey upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  DecodedEntry entry_;
  std::size_t index_ = 0;
  bool valid_ = false;
};

}  // namespace edgegw::buffer
