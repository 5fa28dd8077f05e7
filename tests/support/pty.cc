// SPDX-License-Identifier: Apache-2.0
#include "support/pty.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace edgegw::testing {

using namespace std::chrono_literals;

PtyPair::PtyPair(std::string gw_link, std::string dev_link)
    : gw_link_(std::move(gw_link)), dev_link_(std::move(dev_link)) {
  start();
}

PtyPair::~PtyPair() { stop(); }

void PtyPair::start() {
  // -d -d -d -d: socat logs every transfer ("transferred N bytes"), see wait_transferred().
  socat_ = std::make_unique<Subprocess>(
      std::vector<std::string>{"socat", "-d", "-d", "-d", "-d", "pty,raw,echo=0,link=" + gw_link_,
                               "pty,raw,echo=0,link=" + dev_link_});
  if (!socat_->wait_for_err("starting data transfer loop", 10s)) {
    throw std::runtime_error("socat did not start: " + socat_->err());
  }
  fd_ = ::open(dev_link_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("open " + dev_link_ + ": " + std::strerror(errno));
  termios t{};
  if (::tcgetattr(fd_, &t) == 0) {
    ::cfmakeraw(&t);
    ::tcsetattr(fd_, TCSANOW, &t);
  }
}

void PtyPair::stop() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (socat_) {
    socat_->signal(SIGTERM);
    (void)socat_->wait(10s);
    socat_.reset();
  }
}

void PtyPair::write(std::string_view bytes) const {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("write to pty: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool PtyPair::wait_transferred(std::size_t n) const {
  return socat_->wait_for_err("transferred " + std::to_string(n) + " bytes", 10s);
}

bool PtyPair::wait_read_by_gateway() const {
  const int fd = ::open(gw_link_.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  const bool drained = wait_until(
      [fd] {
        int queued = -1;
        return ::ioctl(fd, TIOCINQ, &queued) == 0 && queued == 0;
      },
      10s);
  ::close(fd);
  return drained;
}

}  // namespace edgegw::testing
