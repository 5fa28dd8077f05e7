// SPDX-License-Identifier: Apache-2.0
// A Modbus server for the plugin's tests and bench, on libmodbus's server side
// (modbus_mapping_new, modbus_receive, modbus_reply, modbus_reply_exception), in a thread of
// the test: over TCP on a free loopback port, or RTU on one end of a socat pty pair. Several
// units (each its own tables), and the faults a field bus has: a unit that stops answering,
// exception responses for an address, garbage bytes on the serial line, a restart.
//
//   TestServer server = TestServer::tcp();      // or TestServer::rtu(pty.dev_link())
//   server.add_unit(1);
//   server.set_registers(1, Table::kHolding, 0, {0x4148, 0x0000});
//   ... point the source at 127.0.0.1:server.port() ...
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <modbus.h>

namespace edgegw::plugins::modbus::testing {

enum class Table { kCoil, kDiscreteInput, kHolding, kInput };

class TestServer {
 public:
  static constexpr int kSize = 65536;  // every address of every table

  // TCP on 127.0.0.1:port (0: a free port, see port()). Starts serving.
  static std::unique_ptr<TestServer> tcp(int port = 0);
  // RTU on a serial device (a pty end), 115200 8N1. Starts serving.
  static std::unique_ptr<TestServer> rtu(const std::string& device);

  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer();

  int port() const { return port_; }
  // Stops serving: the listening socket and the connection (or the serial line) are closed.
  void stop();
  // Serves again (TCP: on the same port), with the same tables.
  void start();

  void add_unit(int unit);
  void set_registers(int unit, Table table, int address, const std::vector<std::uint16_t>& values);
  void set_bits(int unit, Table table, int address, const std::vector<bool>& values);
  // A silent unit reads its requests and answers none.
  void set_silent(int unit, bool silent);
  // Reads of `unit` that touch `address` of `table` get exception `code` (0: none).
  void set_exception(int unit, Table table, int address, int code);
  // RTU: `n` random bytes go onto the line before each of the next `answers` answers.
  void inject_garbage(std::size_t n, int answers = 1);

  // Requests received for a unit (answered or not).
  std::uint64_t requests(int unit) const;

 private:
  struct Unit {
    modbus_mapping_t* mapping = nullptr;
    bool silent = false;
    std::map<std::pair<int, int>, int> exceptions;  // (table, address) -> code
    std::uint64_t requests = 0;
  };

  explicit TestServer(bool tcp);
  void serve_tcp();
  void serve_rtu();
  // Answers one request (RTU: an 8-byte read request; TCP: what modbus_receive returned).
  void answer(const std::uint8_t* request, int length, int unit_id);
  Unit* unit_locked(int unit);

  bool tcp_;
  std::string device_;
  int port_ = 0;
  modbus_t* ctx_ = nullptr;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<bool> running_{false};

  mutable std::mutex mu_;
  std::map<int, Unit> units_;
  std::size_t garbage_bytes_ = 0;
  int garbage_answers_ = 0;
  std::uint32_t garbage_seed_ = 12345;
};

}  // namespace edgegw::plugins::modbus::testing
