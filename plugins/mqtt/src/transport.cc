// SPDX-License-Identifier: Apache-2.0
#include "transport.h"

#include <openssl/ssl.h>

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

namespace edgegw::plugins::mqtt {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_tls_context(const TlsSettings& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (tls.ca_file.empty()) {
    if (ctx->set_default_verify_paths(ec); ec) {
      throw std::runtime_error("the system's CA store: " + ec.message());
    }
  } else if (ctx->load_verify_file(tls.ca_file, ec); ec) {
    throw std::runtime_error("ca_file '" + tls.ca_file + "': " + ec.message());
  }
  if (!tls.cert_file.empty()) {
    if (!tls.key_password.empty()) {
      const std::string password = tls.key_password;
      ctx->set_password_callback(
          [password](std::size_t, ssl::context::password_purpose) { return password; });
    }
    if (ctx->use_certificate_chain_file(tls.cert_file, ec); ec) {
      throw std::runtime_error("cert_file '" + tls.cert_file + "': " + ec.message());
    }
    if (ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec); ec) {
      // Never the password: only whether one was given.
      throw std::runtime_error("key_file '" + tls.key_file + "': " + ec.message() +
                               (tls.key_password.empty() ? "" : " (with key_password)"));
    }
  }
  ctx->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

namespace {

std::variant<Transport::Tcp::socket, Transport::TlsStream> make_stream(
    asio::io_context& io, const std::shared_ptr<ssl::context>& tls) {
  if (tls)
    return std::variant<Transport::Tcp::socket, Transport::TlsStream>(
        std::in_place_type<Transport::TlsStream>, io, *tls);
  return std::variant<Transport::Tcp::socket, Transport::TlsStream>(
      std::in_place_type<Transport::Tcp::socket>, io);
}

}  // namespace

Transport::Transport(asio::io_context& io, std::shared_ptr<ssl::context> tls)
    : tls_(std::move(tls)), resolver_(io), stream_(make_stream(io, tls_)) {}

Transport::Tcp::socket& Transport::socket() noexcept {
  if (auto* s = std::get_if<Tcp::socket>(&stream_)) return *s;
  return std::get<TlsStream>(stream_).next_layer();
}

void Transport::connect(const std::string& host, std::uint16_t port, bool verify_host,
                        ConnectHandler done) {
  resolver_.async_resolve(
      host, std::to_string(port),
      [this, host, verify_host, done = std::move(done)](
          const boost::system::error_code& ec, const Tcp::resolver::results_type& results) {
        if (ec) return done(ec, "resolve");
        asio::async_connect(
            socket(), results,
            [this, host, verify_host, done](const boost::system::error_code& ec2,
                                            const Tcp::endpoint&) {
              if (ec2) return done(ec2, "connect");
              boost::system::error_code ignored;
              socket().set_option(Tcp::no_delay(true), ignored);  // acks go out at once
              socket().non_blocking(true, ignored);               // write_now never waits
              auto* tls = std::get_if<TlsStream>(&stream_);
              if (tls == nullptr) return done({}, "");
              // SNI, and the certificate must name the host we asked for.
              // SSL_set_tlsext_host_name, without its C cast.
              SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                       TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
              if (verify_host) tls->set_verify_callback(ssl::host_name_verification(host));
              tls->async_handshake(
                  ssl::stream_base::client,
                  [done](const boost::system::error_code& ec3) { done(ec3, ec3 ? "TLS" : ""); });
            });
      });
}

std::size_t Transport::write_now(std::string_view bytes) noexcept {
  auto* s = std::get_if<Tcp::socket>(&stream_);
  if (s == nullptr || bytes.empty()) return 0;
  boost::system::error_code ec;
  const std::size_t n = s->write_some(asio::buffer(bytes.data(), bytes.size()), ec);
  return ec ? 0 : n;
}

void Transport::close() noexcept {
  resolver_.cancel();
  boost::system::error_code ignored;
  socket().shutdown(Tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

bool Transport::is_open() const noexcept {
  return std::visit(
      [](const auto& s) {
        if constexpr (std::is_same_v<std::decay_t<decltype(s)>, Tcp::socket>) {
          return s.is_open();
        } else {
          return s.next_layer().is_open();
        }
      },
      stream_);
}

}  // namespace edgegw::plugins::mqtt
