// SPDX-License-Identifier: Apache-2.0
// edgegw-modbus-test-server: the tests' libmodbus server as a program, to try the modbus source
// by hand (or from a script) without a device.
//
//   build/release/tests/plugins/modbus/edgegw-modbus-test-server --tcp 1502 [--units 1,2]
//   build/release/tests/plugins/modbus/edgegw-modbus-test-server --rtu /dev/pts/7 [--units 1]
//
// Every unit's holding and input register N holds N, its coil and discrete input N hold N odd;
// holding 100-101 hold a counter (u32) that grows by one every second. Prints "listening on
// PORT" (TCP) or "serving DEVICE" and serves until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "test_server.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  using edgegw::plugins::modbus::testing::Table;
  using edgegw::plugins::modbus::testing::TestServer;
  std::string tcp_port, rtu_device, units = "1";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--tcp") {
      tcp_port = argv[i + 1];
    } else if (k == "--rtu") {
      rtu_device = argv[i + 1];
    } else if (k == "--units") {
      units = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: %s --tcp PORT | --rtu DEVICE [--units 1,2,...]\n", argv[0]);
      return 2;
    }
  }
  if (tcp_port.empty() == rtu_device.empty()) {
    std::fprintf(stderr, "usage: %s --tcp PORT | --rtu DEVICE [--units 1,2,...]\n", argv[0]);
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto server =
      tcp_port.empty() ? TestServer::rtu(rtu_device) : TestServer::tcp(std::atoi(tcp_port.c_str()));
  std::vector<int> ids;
  for (std::size_t at = 0; at < units.size();) {
    const std::size_t comma = units.find(',', at);
    ids.push_back(std::atoi(units.substr(at, comma - at).c_str()));
    at = comma == std::string::npos ? units.size() : comma + 1;
  }
  std::vector<std::uint16_t> regs(1000);
  std::vector<bool> bits(1000);
  for (std::size_t i = 0; i < regs.size(); ++i) {
    regs[i] = static_cast<std::uint16_t>(i);
    bits[i] = i % 2 == 1;
  }
  for (const int id : ids) {
    server->add_unit(id);
    server->set_registers(id, Table::kHolding, 0, regs);
    server->set_registers(id, Table::kInput, 0, regs);
    server->set_bits(id, Table::kCoil, 0, bits);
    server->set_bits(id, Table::kDiscreteInput, 0, bits);
  }
  if (tcp_port.empty()) {
    std::printf("serving %s\n", rtu_device.c_str());
  } else {
    std::printf("listening on %d\n", server->port());
  }
  std::fflush(stdout);
  for (std::uint32_t counter = 0; g_stop == 0; ++counter) {
    for (const int id : ids) {
      server->set_registers(id, Table::kHolding, 100,
                            {static_cast<std::uint16_t>(counter >> 16),
                             static_cast<std::uint16_t>(counter & 0xffff)});
    }
    for (int i = 0; i < 10 && g_stop == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return 0;
}
