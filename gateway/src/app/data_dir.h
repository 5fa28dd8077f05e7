// SPDX-License-Identifier: Apache-2.0
// The data directory: created if missing, checked writable, and locked so that two gateways
// never share one buffer (RocksDB would refuse the second one later, with a less clear message).
#pragma once

#include <string>

#include "edgegw/status.h"

namespace edgegw::app {

class DataDirLock {
 public:
  // Creates `dir` (and parents) if needed and takes an exclusive lock on `dir`/edgegw.lock.
  static Result<DataDirLock> acquire(const std::string& dir);

  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace edgegw::app
