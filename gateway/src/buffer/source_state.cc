// SPDX-License-Identifier: Apache-2.0
// The durable state of source plugins (meta_source_key), read back at start.
#include "buffer/buffer.h"

#include <rocksdb/db.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include "buffer/internal.h"

namespace edgegw::buffer {

Status Buffer::for_each_source_state(
    std::string_view source,
    const std::function<void(std::string_view key, std::string_view value)>& visit) const {
  const std::string prefix = meta_source_prefix(source);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const rocksdb::Slice key = it->key();
    const rocksdb::Slice value = it->value();
    visit(std::string_view(key.data() + prefix.size(), key.size() - prefix.size()),
          std::string_view(value.data(), value.size()));
  }
  if (!it->status().ok())
    return Status::io_error("reading source state: " + it->status().ToString());
  return Status::ok();
}

}  // namespace edgegw::buffer
