// SPDX-License-Identifier: Apache-2.0
// A real Mosquitto broker for a test: its own config, port and persistence directory in a temp
// dir, on 127.0.0.1 only. `max_queued_messages 0` so that a persistent session keeps every QoS 1
// message while its subscriber is away (Mosquitto's default of 1000 would drop the rest).
//
//   testing::Mosquitto broker;               // started
//   ... point a source at broker.uri() ...
//   broker.restart();                        // SIGTERM (it saves its sessions), same port again
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "support/subprocess.h"

namespace edgegw::testing {

struct MosquittoOptions {
  // user -> password; when set, anonymous clients are refused.
  std::vector<std::pair<std::string, std::string>> users;
  // A TLS listener (tls_uri()) with these PEM files; the plain one stays for the test's publisher.
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  bool tls_require_client_cert = false;
  int max_inflight_messages = 20;  // Mosquitto's default
};

class Mosquitto {
 public:
  explicit Mosquitto(MosquittoOptions options = {});
  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;
  ~Mosquitto();

  int port() const { return port_; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  std::string tls_uri() const { return "ssl://localhost:" + std::to_string(tls_port_); }

  // Stops gracefully (Mosquitto writes its persistence file) and starts again on the same ports.
  void restart();
  void stop();
  void start();
  bool running() const { return process_ != nullptr; }
  std::string log() const;

 private:
  MosquittoOptions options_;
  TempDir dir_;
  int port_ = 0;
  int tls_port_ = 0;
  std::string config_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace edgegw::testing
