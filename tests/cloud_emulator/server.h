// SPDX-License-Identifier: Apache-2.0
// The emulator's HTTP(S) front: one io_context run by N threads, one coroutine per connection
// (HTTP/1.1 keep-alive), each request handed to Emulator::handle().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "edgegw/status.h"

namespace edgegw::cloud_emulator {

class Emulator;

struct ServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned threads = 1;
  std::string tls_cert;  // with tls_key: HTTPS (plain HTTP is still accepted on the same port)
  std::string tls_key;
  bool log_requests = false;
};

class Server {
 public:
  Server(Emulator& emulator, ServerConfig config);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Binds and listens; returns the bound address as "HOST:PORT".
  Result<std::string> listen();
  // Serves until SIGTERM or SIGINT (or stop()); returns once every thread has finished.
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgegw::cloud_emulator
