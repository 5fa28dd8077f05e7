// SPDX-License-Identifier: Apache-2.0
#include "support/http_client.h"

#include "device_api/query.h"

#include <optional>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

namespace edgegw::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return {};
}

std::string url_encode(std::string_view text) { return device_api::url_encode(text); }

struct HttpClient::Impl {
  Impl(std::string base_url, HttpClientOptions o) : options(std::move(o)) {
    std::string_view url = base_url;
    if (url.starts_with("https://")) {
      tls = true;
      url.remove_prefix(8);
    } else if (url.starts_with("http://")) {
      url.remove_prefix(7);
    } else {
      throw std::invalid_argument("HttpClient: not an http(s) URL: " + base_url);
    }
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    prefix = slash == std::string_view::npos ? std::string() : std::string(url.substr(slash));
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
      host = std::string(authority.substr(0, colon));
      port = std::string(authority.substr(colon + 1));
    } else {
      host = std::string(authority);
      port = tls ? "443" : "80";
    }
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    host_header = std::string(authority);
    if (tls) {
      ssl_ctx.emplace(ssl::context::tls_client);
      if (options.verify) {
        if (options.ca_file.empty()) {
          ssl_ctx->set_default_verify_paths();
        } else {
          ssl_ctx->load_verify_file(options.ca_file);
        }
        ssl_ctx->set_verify_mode(ssl::verify_peer);
      } else {
        ssl_ctx->set_verify_mode(ssl::verify_none);
      }
    }
  }

  // Runs the io_context until the started operation completes (the stream's own timeout bounds
  // it) and returns its error.
  template <typename Start>
  boost::system::error_code run(Start&& start) {
    boost::system::error_code result = asio::error::would_block;
    start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  beast::tcp_stream& lowest() { return stream ? beast::get_lowest_layer(*stream) : *plain; }

  void disconnect() {
    if (stream) {
      boost::system::error_code ignored;
      beast::get_lowest_layer(*stream).socket().close(ignored);
      stream.reset();
    }
    if (plain) {
      boost::system::error_code ignored;
      plain->socket().close(ignored);
      plain.reset();
    }
  }

  std::string connect() {
    tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    const auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return "resolve " + host + ": " + ec.message();
    if (tls) {
      stream.emplace(ioc, *ssl_ctx);
      boost::system::error_code not_ip;
      asio::ip::make_address(host, not_ip);
      if (not_ip &&  // SNI carries names only (SSL_set_tlsext_host_name is an old-style cast)
          SSL_ctrl(stream->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>(host.c_str())) != 1) {
        return "TLS: cannot set SNI";
      }
      if (options.verify) stream->set_verify_callback(ssl::host_name_verification(host));
    } else {
      plain.emplace(ioc);
    }
    lowest().expires_after(options.timeout);
    ec = run([&](auto handler) { lowest().async_connect(endpoints, handler); });
    if (ec) {
      disconnect();
      return "connect " + host + ":" + port + ": " + ec.message();
    }
    lowest().socket().set_option(tcp::no_delay(true), ec);
    if (tls) {
      ec = run([&](auto handler) { stream->async_handshake(ssl::stream_base::client, handler); });
      if (ec) {
        disconnect();
        return "TLS handshake: " + ec.message();
      }
    }
    return {};
  }

  template <typename Stream>
  HttpResponse exchange(Stream& s, http::request<http::string_body>& req) {
    HttpResponse out;
    auto ec = run([&](auto handler) { http::async_write(s, req, handler); });
    if (ec) {
      disconnect();
      out.error = "write: " + ec.message();
      return out;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(256ULL << 20);
    ec = run([&](auto handler) { http::async_read(s, buffer, parser, handler); });
    if (ec) {
      disconnect();
      out.error = "read: " + ec.message();
      return out;
    }
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    if (!res.keep_alive() || !options.keep_alive) disconnect();
    return out;
  }

  HttpClientOptions options;
  bool tls = false;
  std::string host;
  std::string port;
  std::string host_header;
  std::string prefix;
  asio::io_context ioc;
  std::optional<ssl::context> ssl_ctx;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  std::optional<beast::tcp_stream> plain;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::string base_url, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(base_url), std::move(options))) {}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

void HttpClient::close() { impl_->disconnect(); }

bool HttpClient::connected() const { return impl_->stream.has_value() || impl_->plain.has_value(); }

HttpResponse HttpClient::request(std::string_view method, std::string_view target,
                                 std::string_view body, const HttpHeaders& headers) {
  Impl& s = *impl_;
  if (!connected()) {
    s.buffer.clear();
    if (auto problem = s.connect(); !problem.empty()) {
      HttpResponse out;
      out.error = std::move(problem);
      return out;
    }
  }
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(s.prefix + std::string(target));
  req.version(11);
  req.set(http::field::host, s.host_header);
  req.set(http::field::user_agent, "edgegw-test-client");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::string(body);
  req.keep_alive(s.options.keep_alive);
  req.prepare_payload();
  s.lowest().expires_after(s.options.timeout);
  return s.stream ? s.exchange(*s.stream, req) : s.exchange(*s.plain, req);
}

}  // namespace edgegw::testing
