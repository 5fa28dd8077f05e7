// SPDX-License-Identifier: Apache-2.0
#include "test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace edgegw::plugins::modbus::testing {
namespace {

std::uint16_t crc16(const std::uint8_t* p, std::size_t n) {
  std::uint16_t crc = 0xffff;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int b = 0; b < 8; ++b)
      crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xa001)
                      : static_cast<std::uint16_t>(crc >> 1);
  }
  return crc;
}

int table_of(int function) {
  switch (function) {
    case MODBUS_FC_READ_COILS:
      return static_cast<int>(Table::kCoil);
    case MODBUS_FC_READ_DISCRETE_INPUTS:
      return static_cast<int>(Table::kDiscreteInput);
    case MODBUS_FC_READ_HOLDING_REGISTERS:
      return static_cast<int>(Table::kHolding);
    case MODBUS_FC_READ_INPUT_REGISTERS:
      return static_cast<int>(Table::kInput);
    default:
      return -1;
  }
}

}  // namespace

TestServer::TestServer(bool tcp) : tcp_(tcp) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe");
}

std::unique_ptr<TestServer> TestServer::tcp(int port) {
  std::unique_ptr<TestServer> s(new TestServer(true));
  s->port_ = port;
  s->start();
  return s;
}

std::unique_ptr<TestServer> TestServer::rtu(const std::string& device) {
  std::unique_ptr<TestServer> s(new TestServer(false));
  s->device_ = device;
  s->start();
  return s;
}

TestServer::~TestServer() {
  stop();
  for (auto& [id, u] : units_) modbus_mapping_free(u.mapping);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void TestServer::start() {
  if (running_) return;
  if (tcp_) {
    ctx_ = modbus_new_tcp("127.0.0.1", port_);
    listen_fd_ = ctx_ == nullptr ? -1 : modbus_tcp_listen(ctx_, 4);
    if (listen_fd_ < 0) {
      throw std::runtime_error(std::string("modbus_tcp_listen: ") + modbus_strerror(errno));
    }
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  } else {
    ctx_ = modbus_new_rtu(device_.c_str(), 115200, 'N', 8, 1);
    if (ctx_ == nullptr || modbus_connect(ctx_) == -1) {
      throw std::runtime_error("open " + device_ + ": " + modbus_strerror(errno));
    }
  }
  char drain[64];
  while (::read(wake_[0], drain, sizeof drain) > 0) {
  }
  running_ = true;
  thread_ = std::thread([this] { tcp_ ? serve_tcp() : serve_rtu(); });
}

void TestServer::stop() {
  if (!running_) return;
  running_ = false;
  (void)!::write(wake_[1], "x", 1);
  thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  modbus_close(ctx_);
  modbus_free(ctx_);
  ctx_ = nullptr;
}

TestServer::Unit* TestServer::unit_locked(int unit) {
  auto it = units_.find(unit);
  return it == units_.end() ? nullptr : &it->second;
}

void TestServer::add_unit(int unit) {
  std::lock_guard lock(mu_);
  if (units_.count(unit) != 0) return;
  Unit& u = units_[unit];
  u.mapping = modbus_mapping_new(kSize, kSize, kSize, kSize);
}

void TestServer::set_registers(int unit, Table table, int address,
                               const std::vector<std::uint16_t>& values) {
  std::lock_guard lock(mu_);
  Unit* u = unit_locked(unit);
  std::uint16_t* regs =
      table == Table::kHolding ? u->mapping->tab_registers : u->mapping->tab_input_registers;
  for (std::size_t i = 0; i < values.size(); ++i) regs[address + static_cast<int>(i)] = values[i];
}

void TestServer::set_bits(int unit, Table table, int address, const std::vector<bool>& values) {
  std::lock_guard lock(mu_);
  Unit* u = unit_locked(unit);
  std::uint8_t* bits = table == Table::kCoil ? u->mapping->tab_bits : u->mapping->tab_input_bits;
  for (std::size_t i = 0; i < values.size(); ++i) {
    bits[address + static_cast<int>(i)] = values[i] ? 1 : 0;
  }
}

void TestServer::set_silent(int unit, bool silent) {
  std::lock_guard lock(mu_);
  unit_locked(unit)->silent = silent;
}

void TestServer::set_exception(int unit, Table table, int address, int code) {
  std::lock_guard lock(mu_);
  auto& exceptions = unit_locked(unit)->exceptions;
  if (code == 0) {
    exceptions.erase({static_cast<int>(table), address});
  } else {
    exceptions[{static_cast<int>(table), address}] = code;
  }
}

void TestServer::inject_garbage(std::size_t n, int answers) {
  std::lock_guard lock(mu_);
  garbage_bytes_ = n;
  garbage_answers_ = answers;
}

std::uint64_t TestServer::requests(int unit) const {
  std::lock_guard lock(mu_);
  auto it = units_.find(unit);
  return it == units_.end() ? 0 : it->second.requests;
}

void TestServer::answer(const std::uint8_t* request, int length, int unit_id) {
  const int offset = modbus_get_header_length(ctx_);  // the function code's position
  const int function = request[offset];
  const int address = (request[offset + 1] << 8) | request[offset + 2];
  const int count = (request[offset + 3] << 8) | request[offset + 4];
  std::string garbage;
  std::unique_lock lock(mu_);
  Unit* u = unit_locked(unit_id);
  if (u == nullptr) return;  // nobody with that address on this bus
  ++u->requests;
  if (u->silent) return;
  int exception = 0;
  const int table = table_of(function);
  for (const auto& [key, code] : u->exceptions) {
    if (key.first == table && key.second >= address && key.second < address + count) {
      exception = code;
    }
  }
  if (garbage_answers_ > 0 && !tcp_) {
    --garbage_answers_;
    for (std::size_t i = 0; i < garbage_bytes_; ++i) {
      garbage_seed_ = garbage_seed_ * 1103515245u + 12345u;
      garbage += static_cast<char>(garbage_seed_ >> 16);
    }
  }
  if (!garbage.empty()) (void)!::write(modbus_get_socket(ctx_), garbage.data(), garbage.size());
  modbus_set_slave(ctx_, unit_id);
  if (exception != 0) {
    modbus_reply_exception(ctx_, request, static_cast<unsigned>(exception));
  } else {
    modbus_reply(ctx_, request, length, u->mapping);
  }
}

void TestServer::serve_tcp() {
  int client = -1;
  std::uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
  while (running_) {
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(wake_[0], &fds);
    FD_SET(listen_fd_, &fds);
    int top = std::max(wake_[0], listen_fd_);
    if (client >= 0) {
      FD_SET(client, &fds);
      top = std::max(top, client);
    }
    if (::select(top + 1, &fds, nullptr, nullptr, nullptr) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (FD_ISSET(wake_[0], &fds)) break;
    if (FD_ISSET(listen_fd_, &fds)) {
      // One connection at a time, as a small device has: a new one replaces the old.
      if (client >= 0) ::close(client);
      int s = listen_fd_;
      client = modbus_tcp_accept(ctx_, &s);
      continue;
    }
    if (client >= 0 && FD_ISSET(client, &fds)) {
      modbus_set_socket(ctx_, client);
      const int rc = modbus_receive(ctx_, query);
      if (rc > 0) {
        answer(query, rc, query[6]);  // the MBAP header's unit identifier
      } else if (rc == -1) {
        ::close(client);
        client = -1;
        modbus_set_socket(ctx_, -1);
      }
    }
  }
  if (client >= 0) ::close(client);
  modbus_set_socket(ctx_, -1);
}

// libmodbus 3.1's RTU server side answers one slave id (modbus_receive drops requests for the
// others), and a bus has several units: the requests are framed here (8 bytes: unit, function,
// address, count, CRC), resynchronising byte by byte, and answered with modbus_reply.
void TestServer::serve_rtu() {
  const int fd = modbus_get_socket(ctx_);
  std::vector<std::uint8_t> in;
  while (running_) {
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(wake_[0], &fds);
    FD_SET(fd, &fds);
    if (::select(std::max(fd, wake_[0]) + 1, &fds, nullptr, nullptr, nullptr) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (FD_ISSET(wake_[0], &fds)) break;
    std::uint8_t buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      break;  // the line is gone
    }
    in.insert(in.end(), buf, buf + n);
    while (in.size() >= 8) {
      const std::uint16_t crc = crc16(in.data(), 6);
      if (table_of(in[1]) >= 0 && in[6] == (crc & 0xff) && in[7] == (crc >> 8)) {
        answer(in.data(), 8, in[0]);
        in.erase(in.begin(), in.begin() + 8);
      } else {
        in.erase(in.begin());
      }
    }
  }
}

}  // namespace edgegw::plugins::modbus::testing
