// SPDX-License-Identifier: Apache-2.0
// One connection's byte stream to the broker on Boost.Asio: plain TCP (tcp://) or TLS over
// OpenSSL (ssl://, the broker's certificate and host name verified unless told otherwise). A new
// Transport per connection attempt; every call and handler runs on the owning io_context's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/system/error_code.hpp>

namespace edgegw::plugins::mqtt {

struct TlsSettings {
  std::string ca_file;    // empty: the system's trust store
  std::string cert_file;  // a client certificate (PEM), with key_file
  std::string key_file;
  std::string key_password;
  bool verify = true;
};

// The TLS context of a source, made once (files are read here: errors name them).
// Throws std::runtime_error with the reason.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsSettings& tls);

class Transport {
 public:
  using Tcp = boost::asio::ip::tcp;
  using TlsStream = boost::asio::ssl::stream<Tcp::socket>;
  // `tls` null: plain TCP.
  Transport(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls);

  // Resolves `host`, connects, and (TLS) shakes hands with SNI and host-name verification.
  // `done(error, what)`: `what` names the step that failed ("resolve", "connect", "TLS").
  using ConnectHandler = std::function<void(const boost::system::error_code&, const char* what)>;
  void connect(const std::string& host, std::uint16_t port, bool verify_host, ConnectHandler done);

  template <typename Buffers, typename Handler>
  void read_some(const Buffers& buffers, Handler&& handler) {
    std::visit([&](auto& s) { s.async_read_some(buffers, std::forward<Handler>(handler)); },
               stream_);
  }
  template <typename Buffers, typename Handler>
  void write(const Buffers& buffers, Handler&& handler);
  // Plain TCP: writes what the socket takes now without blocking, and returns how much (0 under
  // TLS, whose records only its async writes make). An error writes nothing: the async write of
  // the rest meets it and reports it.
  std::size_t write_now(std::string_view bytes) noexcept;

  // Closes the socket; pending operations complete with operation_aborted.
  void close() noexcept;
  bool is_open() const noexcept;

 private:
  Tcp::socket& socket() noexcept;

  std::shared_ptr<boost::asio::ssl::context> tls_;
  Tcp::resolver resolver_;
  std::variant<Tcp::socket, TlsStream> stream_;
};

}  // namespace edgegw::plugins::mqtt

#include <boost/asio/write.hpp>

namespace edgegw::plugins::mqtt {

template <typename Buffers, typename Handler>
void Transport::write(const Buffers& buffers, Handler&& handler) {
  std::visit([&](auto& s) { boost::asio::async_write(s, buffers, std::forward<Handler>(handler)); },
             stream_);
}

}  // namespace edgegw::plugins::mqtt
