// SPDX-License-Identifier: Apache-2.0
// A file descriptor closed on every path out of a scope.
#pragma once

#include <unistd.h>

namespace edgegw::config::detail {

class UniqueFd {
 public:
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace edgegw::config::detail
