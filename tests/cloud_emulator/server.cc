// SPDX-License-Identifier: Apache-2.0
#include "server.h"

#include <csignal>
#include <cstdio>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "emulator.h"

namespace edgegw::cloud_emulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// Only the TLS detection and handshake have a timeout: arming a timer for every read and write
// costs a timerfd_settime system call each, a tenth of the emulator's time in profiles. A client
// that goes away closes its connection; an idle keep-alive connection costs a coroutine frame.
constexpr auto kHandshakeTimeout = std::chrono::seconds(30);
// Bodies beyond the cloud's limit are still read (and answered 413, keeping the connection);
// beyond this one the connection is closed after the 413.
constexpr std::uint64_t kHardBodyLimit = 64ULL << 20;

}  // namespace

struct Server::Impl {
  Impl(Emulator& e, ServerConfig c)
      : emulator(e),
        config(std::move(c)),
        ioc(static_cast<int>(config.threads)),
        acceptor(ioc),
        signals(ioc, SIGTERM, SIGINT) {}

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket);
  template <typename Stream>
  asio::awaitable<bool> serve(Stream& stream, beast::flat_buffer& buffer);
  template <typename Stream>
  asio::awaitable<void> write_misbehaving(Stream& stream,
                                          const http::response<http::string_body>& out,
                                          const Response& res);
  void log(std::string_view method, std::string_view target, const Response& r,
           std::size_t body_bytes, std::chrono::steady_clock::time_point start) const;

  Emulator& emulator;
  ServerConfig config;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::optional<ssl::context> tls;
};

Server::Server(Emulator& emulator, ServerConfig config)
    : impl_(std::make_unique<Impl>(emulator, std::move(config))) {}

Server::~Server() = default;

Result<std::string> Server::listen() {
  Impl& s = *impl_;
  try {
    if (!s.config.tls_cert.empty()) {
      s.tls.emplace(ssl::context::tls_server);
      s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::single_dh_use);
      s.tls->use_certificate_chain_file(s.config.tls_cert);
      s.tls->use_private_key_file(s.config.tls_key, ssl::context::pem);
    }
  } catch (const boost::system::system_error& e) {
    return Status::invalid_argument("TLS certificate or key: " + std::string(e.what()));
  }
  boost::system::error_code ec;
  tcp::resolver resolver(s.ioc);
  const auto results =
      resolver.resolve(s.config.host, std::to_string(s.config.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Status::invalid_argument("cannot resolve '" + s.config.host + "': " + ec.message());
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::unavailable("cannot listen on " + s.config.host + ":" +
                               std::to_string(s.config.port) + ": " + ec.message());
  }
  const tcp::endpoint bound = s.acceptor.local_endpoint();
  const std::string address = bound.address().to_string();
  return (bound.address().is_v6() ? "[" + address + "]" : address) + ":" +
         std::to_string(bound.port());
}

void Server::run() {
  Impl& s = *impl_;
  s.signals.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) stop();
  });
  asio::co_spawn(s.ioc, s.accept_loop(), asio::detached);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < s.config.threads; ++i) threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  Impl& s = *impl_;
  asio::post(s.ioc, [&s] {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    s.signals.cancel(ignored);
    s.ioc.stop();
  });
}

asio::awaitable<void> Server::Impl::accept_loop() {
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;  // e.g. too many open files: keep accepting
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::Impl::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  if (tls) {
    stream.expires_after(kHandshakeTimeout);
    auto [ec, is_tls] = co_await beast::async_detect_ssl(stream, buffer, kNoThrow);
    if (ec) co_return;
    if (is_tls) {
      beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *tls);
      auto [hec, used] =
          co_await tls_stream.async_handshake(ssl::stream_base::server, buffer.data(), kNoThrow);
      if (hec) co_return;
      beast::get_lowest_layer(tls_stream).expires_never();
      buffer.consume(used);
      if (co_await serve(tls_stream, buffer)) {
        beast::get_lowest_layer(tls_stream).expires_after(std::chrono::seconds(5));
        co_await tls_stream.async_shutdown(kNoThrow);
      }
      co_return;
    }
  }
  stream.expires_never();
  if (co_await serve(stream, buffer)) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
}

// Serves requests until the peer closes or an error; true when the connection should be closed
// cleanly (the peer is still there), false when it is already gone or was dropped.
template <typename Stream>
asio::awaitable<bool> Server::Impl::serve(Stream& stream, beast::flat_buffer& buffer) {
  auto& lowest = beast::get_lowest_layer(stream);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(kHardBodyLimit);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
    if (hec == http::error::end_of_stream) co_return true;
    if (hec) co_return false;
    const auto start = std::chrono::steady_clock::now();
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      auto [cec, cn] = co_await http::async_write(stream, go_on, kNoThrow);
      if (cec) co_return false;
    }
    auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    const bool too_big = bec == http::error::body_limit;
    if (bec && !too_big) co_return false;

    const auto& req = parser.get();
    Response res;
    if (too_big) {
      res.status = 413;
      res.body = R"({"status":false,"message":"Request body too large"})";
    } else {
      Request request;
      request.method = req.method_string();
      request.target = req.target();
      request.body = req.body();
      for (const auto name : {std::string_view("Device-Token"), std::string_view("token")}) {
        if (auto it = req.find(name); it != req.end()) {
          request.token_header = it->value();
          break;
        }
      }
      if (!request.token_header) {
        if (auto it = req.find(http::field::authorization); it != req.end()) {
          request.token_header = it->value();
        }
      }
      // The account (profile) token's own headers. Whichever header it comes in, a token is
      // only good for its API: an account token on /data is refused, as the cloud does.
      for (const auto name :
           {std::string_view("Account-Token"), std::string_view("Profile-Token")}) {
        if (request.token_header) break;
        if (auto it = req.find(name); it != req.end()) request.token_header = it->value();
      }
      res = emulator.handle(request);
    }
    if (res.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, res.delay);
      co_await timer.async_wait(kNoThrow);
    }
    if (config.log_requests) log(req.method_string(), req.target(), res, req.body().size(), start);
    if (res.drop) {
      boost::system::error_code ignored;
      lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest.close();
      co_return false;
    }
    http::response<http::string_body> out{static_cast<http::status>(res.status), req.version()};
    out.set(http::field::server, "edgegw-cloud-emulator");
    out.set(http::field::content_type, res.content_type);
    if (res.retry_after_header)
      out.set(http::field::retry_after, std::to_string(*res.retry_after_header));
    out.body() = std::move(res.body);
    out.keep_alive(req.keep_alive() && !too_big);
    out.prepare_payload();
    if (res.truncate || res.trickle.count() > 0) {
      co_await write_misbehaving(stream, out, res);
      lowest.close();
      co_return false;
    }
    auto [wec, wn] = co_await http::async_write(stream, out, kNoThrow);
    if (wec) co_return false;
    if (!out.keep_alive()) co_return true;
  }
}

// A garbled answer for fault tests: the whole message trickled out byte by byte (a slowloris
// server), or its first half only (a truncated answer); the caller then closes the connection.
template <typename Stream>
asio::awaitable<void> Server::Impl::write_misbehaving(Stream& stream,
                                                      const http::response<http::string_body>& out,
                                                      const Response& res) {
  std::ostringstream text;
  text << out;
  std::string bytes = std::move(text).str();
  if (res.truncate) bytes.resize(bytes.size() - out.body().size() / 2 - 1);
  if (res.trickle.count() == 0) {
    co_await asio::async_write(stream, asio::buffer(bytes), kNoThrow);
    co_return;
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (const char c : bytes) {
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(&c, 1), kNoThrow);
    if (ec) co_return;
    timer.expires_after(res.trickle);
    co_await timer.async_wait(kNoThrow);
  }
}

void Server::Impl::log(std::string_view method, std::string_view target, const Response& r,
                       std::size_t body_bytes, std::chrono::steady_clock::time_point start) const {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::string line;
  line.reserve(160);
  line.append(method).append(" ").append(target).append(" -> ");
  line += r.drop ? std::string("dropped") : std::to_string(r.status);
  line += " body=" + std::to_string(body_bytes) + "B " + std::to_string(us) + "us";
  if (!r.note.empty()) line.append(" ").append(r.note);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace edgegw::cloud_emulator
