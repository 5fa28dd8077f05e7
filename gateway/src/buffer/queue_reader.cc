// SPDX-License-Identifier: Apache-2.0
#include "buffer/queue_reader.h"

#include <algorithm>

#include "buffer/internal.h"

namespace edgegw::buffer {

QueueReader::QueueReader(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, DeviceId device, Seq end,
                         std::vector<Seq> withdrawn)
    : device_(device),
      withdrawn_(std::move(withdrawn)),
      upper_(queue_key(device, end)),
      upper_slice_(slice(upper_)),
      it_(queue_iterator(db, cf, &upper_slice_)) {}

Status QueueReader::load() {
  valid_ = false;
  if (!it_->Valid()) return from_rocksdb(it_->status(), "cannot read the buffer");
  const std::string_view key(it_->key().data(), it_->key().size());
  if (queue_key_device(key) != device_) return Status::ok();
  if (!decode_entry(key, std::string_view(it_->value().data(), it_->value().size()), entry_)) {
    return Status::corruption("buffer: unreadable entry at sequence " +
                              std::to_string(queue_key_seq(key)));
  }
  valid_ = true;
  return Status::ok();
}

bool QueueReader::skipped() const {
  return !withdrawn_.empty() &&
         std::binary_search(withdrawn_.begin(), withdrawn_.end(), reading().seq);
}

Status QueueReader::seek(Seq seq) {
  // The entry holding `seq` is the first whose last sequence is at or after it.
  it_->Seek(slice(queue_key(device_, seq)));
  if (Status s = load(); !s || !valid_) return s;
  const Seq first = entry_.readings.front().seq;
  index_ = seq > first ? seq - first : 0;
  return skip_forward();
}

Status QueueReader::seek_back(Seq seq) {
  it_->Seek(slice(queue_key(device_, seq)));
  if (Status s = load(); !s) return s;
  if (valid_ && entry_.readings.front().seq <= seq) {
    index_ = seq - entry_.readings.front().seq;
    return skip_back();
  }
  // `seq` is in no entry: the one before holds the readings before it.
  if (it_->Valid()) {
    it_->Prev();
  } else {
    it_->SeekForPrev(slice(queue_key(device_, seq)));
  }
  if (Status s = load(); !s || !valid_) return s;
  index_ = entry_.readings.size() - 1;
  return skip_back();
}

Status QueueReader::next() {
  if (++index_ < entry_.readings.size()) return skip_forward();
  it_->Next();
  if (Status s = load(); !s || !valid_) return s;
  index_ = 0;
  return skip_forward();
}

Status QueueReader::prev() {
  if (index_ > 0) {
    --index_;
    return skip_back();
  }
  it_->Prev();
  if (Status s = load(); !s || !valid_) return s;
  index_ = entry_.readings.size() - 1;
  return skip_back();
}

Status QueueReader::skip_forward() {
  while (valid_ && skipped()) {
    if (++index_ < entry_.readings.size()) continue;
    it_->Next();
    if (Status s = load(); !s) return s;
    index_ = 0;
  }
  return Status::ok();
}

Status QueueReader::skip_back() {
  while (valid_ && skipped()) {
    if (index_ > 0) {
      --index_;
      continue;
    }
    it_->Prev();
    if (Status s = load(); !s) return s;
    if (valid_) index_ = entry_.readings.size() - 1;
  }
  return Status::ok();
}

}  // namespace edgegw::buffer
