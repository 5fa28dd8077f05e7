// SPDX-License-Identifier: Apache-2.0
// A socat pseudo-terminal pair for serial tests and benches: the gateway (or a reader) opens
// `gw_link`, the test writes into `dev_link`. Stopping it is what unplugging a USB adapter looks
// like to the reader: its side hangs up and the link disappears; start() makes a new pair (other
// /dev/pts numbers) under the same links.
//
//   testing::PtyPair pty(dir.path() + "/tty", dir.path() + "/tty-dev");
//   ... point the serial source at pty.gw_link() ...
//   pty.write("temp,21.5\n");
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "support/subprocess.h"

namespace edgegw::testing {

class PtyPair {
 public:
  // Starts socat and opens the device end (raw) for writing; throws std::runtime_error.
  PtyPair(std::string gw_link, std::string dev_link);
  PtyPair(const PtyPair&) = delete;
  PtyPair& operator=(const PtyPair&) = delete;
  ~PtyPair();

  const std::string& gw_link() const { return gw_link_; }
  const std::string& dev_link() const { return dev_link_; }
  Subprocess& socat() { return *socat_; }

  void start();
  // SIGTERM to socat (it removes its links) and waits for it.
  void stop();
  // Writes all of `bytes` into the device end (blocking while the pty is full).
  void write(std::string_view bytes) const;
  // Waits until socat reports a transfer of exactly `n` bytes (the test's last write).
  bool wait_transferred(std::size_t n) const;
  // Waits until the gateway's end holds no unread input: what socat passed on has been read by
  // whoever has that end open (a tty's input queue is shared by its openers; this one only looks).
  bool wait_read_by_gateway() const;

 private:
  std::string gw_link_;
  std::string dev_link_;
  std::unique_ptr<Subprocess> socat_;
  int fd_ = -1;
};

}  // namespace edgegw::testing
