// SPDX-License-Identifier: Apache-2.0
#include "scripted_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

namespace edgegw::plugins::mqtt::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until `fd` is readable; false after `timeout`.
bool readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int rc = 0;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

}  // namespace

BrokerConnection::BrokerConnection(BrokerConnection&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), version_(o.version_), buffer_(std::move(o.buffer_)) {}

BrokerConnection::~BrokerConnection() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<BrokerConnection::Received> BrokerConnection::read(
    std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const codec::Frame f = codec::frame(buffer_, version_);
    if (f.status == codec::Frame::Status::kMalformed) return std::nullopt;
    if (f.status == codec::Frame::Status::kOk && buffer_.size() >= f.size()) {
      Received r{std::make_shared<const std::string>(buffer_.substr(0, f.size())), codec::Ping{}};
      buffer_.erase(0, f.size());
      auto decoded =
          codec::decode(f.first_byte, std::string_view(*r.bytes).substr(f.header_size, f.remaining),
                        f.type() == codec::PacketType::kConnect ? codec::Version::k5 : version_);
      if (!std::holds_alternative<codec::Packet>(decoded)) return std::nullopt;
      r.packet = std::get<codec::Packet>(decoded);
      return r;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !readable(fd_, left)) return std::nullopt;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool BrokerConnection::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !readable(fd_, left)) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return true;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool BrokerConnection::write(std::string_view bytes) {
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(bytes.size());
}

bool BrokerConnection::write(const codec::Packet& packet) {
  std::string bytes;
  codec::encode(bytes, packet, version_);
  return write(bytes);
}

std::optional<BrokerConnection::Received> BrokerConnection::handshake(bool session_present,
                                                                      std::uint8_t granted_qos) {
  auto connect = read();
  if (!connect || !std::holds_alternative<codec::Connect>(connect->packet)) return std::nullopt;
  if (!write(codec::Connack{session_present, 0, {}})) return std::nullopt;
  auto subscribe = read();
  if (!subscribe || !std::holds_alternative<codec::Subscribe>(subscribe->packet)) {
    return std::nullopt;
  }
  const auto& s = std::get<codec::Subscribe>(subscribe->packet);
  codec::SubAck ack{codec::PacketType::kSuback, s.packet_id, {}, {}};
  ack.codes.assign(s.filters.size(), granted_qos);
  if (!write(ack)) return std::nullopt;
  return connect;
}

ScriptedBroker::ScriptedBroker(codec::Version version) : version_(version) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 8) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("scripted broker: cannot listen on loopback");
  }
  port_ = ntohs(addr.sin_port);
}

ScriptedBroker::~ScriptedBroker() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::optional<BrokerConnection> ScriptedBroker::accept(std::chrono::milliseconds timeout) {
  if (!readable(listen_fd_, timeout)) return std::nullopt;
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const int one = 1;  // each write its own segment, as a broker's are
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return BrokerConnection(fd, version_);
}

}  // namespace edgegw::plugins::mqtt::testing
