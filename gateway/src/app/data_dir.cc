// SPDX-License-Identifier: Apache-2.0
#include "app/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace edgegw::app {

Result<DataDirLock> DataDirLock::acquire(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::io_error("cannot create data_dir '" + dir + "': " + ec.message());
  }
  const std::string path = dir + "/edgegw.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    return Status(err == EACCES || err == EROFS ? Code::kPermissionDenied : Code::kIoError,
                  "data_dir '" + dir + "' is not writable: " + std::strerror(err));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::already_exists("data_dir '" + dir +
                                    "' is in use by another edgegw process (edgegw.lock is held)");
    }
    return Status::io_error("cannot lock '" + path + "': " + std::strerror(err));
  }
  // Probe an actual write: a read-only remount or a full disk shows here, not at the first reading.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::write(fd, pid.data(), pid.size()) < 0) {
    const int err = errno;
    ::close(fd);
    return Status::io_error("data_dir '" + dir + "' is not writable: " + std::strerror(err));
  }
  return DataDirLock(fd);
}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace edgegw::app
