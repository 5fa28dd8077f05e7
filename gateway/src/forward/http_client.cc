// SPDX-License-Identifier: Apache-2.0
#include "forward/http_client.h"

#include <optional>

#include <openssl/err.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

namespace edgegw::forward {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The body is a view of the lane's batch, which outlives the request: no copy per request.
using Request = http::request<http::span_body<const char>>;

namespace {
constexpr std::size_t kMaxResponseBytes = 1 << 20;
const std::string kUserAgent = "edgegw/" EDGEGW_VERSION;
}  // namespace

// One connection, used by one request at a time; back in the pool when the server keeps it open.
class BeastHttpClient::Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(BeastHttpClient& client)
      : client_(client), resolver_(asio::make_strand(client.io_)) {
    auto executor = resolver_.get_executor();
    if (client.tls_) {
      tls_.emplace(executor, *client.tls_);
    } else {
      plain_.emplace(executor);
    }
  }

  bool is_open() const { return open_; }

  // Sends one request; `reused`: a failure may be a stale keep-alive connection.
  void send(std::shared_ptr<Request> request, Done done, bool reused) {
    request_ = std::move(request);
    done_ = std::move(done);
    reused_ = reused;
    auto self = shared_from_this();
    asio::dispatch(resolver_.get_executor(), [self] {
      if (self->open_) {
        self->write();
      } else {
        self->resolve();
      }
    });
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void resolve() {
    auto self = shared_from_this();
    resolver_.async_resolve(client_.url_.host, client_.url_.port,
                            [self](beast::error_code ec, tcp::resolver::results_type results) {
                              if (ec) return self->fail("resolve " + self->client_.url_.host, ec);
                              self->connect(results);
                            });
  }

  void connect(const tcp::resolver::results_type& results) {
    lowest().expires_after(client_.timeout_);
    auto self = shared_from_this();
    lowest().async_connect(results, [self](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return self->fail("connect", ec);
      self->lowest().socket().set_option(tcp::no_delay(true));
      if (self->tls_) return self->handshake();
      self->open_ = true;
      self->write();
    });
  }

  void handshake() {
    const std::string& host = client_.url_.host;
    // SNI. (SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.)
    if (SSL_ctrl(tls_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str())) != 1) {
      return fail("TLS SNI", beast::error_code(static_cast<int>(::ERR_get_error()),
                                               asio::error::get_ssl_category()));
    }
    tls_->set_verify_callback(asio::ssl::host_name_verification(host));
    lowest().expires_after(client_.timeout_);
    auto self = shared_from_this();
    tls_->async_handshake(asio::ssl::stream_base::client, [self](beast::error_code ec) {
      if (ec) return self->fail("TLS handshake", ec);
      self->open_ = true;
      self->write();
    });
  }

  void write() {
    lowest().expires_after(client_.timeout_);
    auto self = shared_from_this();
    auto on_write = [self](beast::error_code ec, std::size_t) {
      if (ec) return self->fail("send", ec);
      self->read();
    };
    if (tls_) {
      http::async_write(*tls_, *request_, on_write);
    } else {
      http::async_write(*plain_, *request_, on_write);
    }
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxResponseBytes);
    buffer_.clear();
    auto self = shared_from_this();
    auto on_read = [self](beast::error_code ec, std::size_t) {
      if (ec) return self->fail("receive", ec);
      self->finish();
    };
    if (tls_) {
      http::async_read(*tls_, buffer_, *parser_, on_read);
    } else {
      http::async_read(*plain_, buffer_, *parser_, on_read);
    }
  }

  void finish() {
    auto& res = parser_->get();
    Response r;
    r.status = static_cast<int>(res.result_int());
    r.body = std::move(res.body());
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      r.retry_after = std::string(it->value());
    }
    const bool keep = res.keep_alive();
    Done done = std::move(done_);
    request_.reset();
    if (keep) {
      client_.give_back(shared_from_this());
    } else {
      close();
    }
    done(std::move(r));
  }

  void fail(const std::string& what, beast::error_code ec) {
    close();
    // The server may have closed an idle keep-alive connection just as we reused it: try once
    // more on a new connection before calling it an error.
    const bool stale =
        reused_ && (ec == http::error::end_of_stream || ec == asio::error::eof ||
                    ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
    if (stale) {
      auto fresh = std::make_shared<Connection>(client_);
      fresh->send(std::move(request_), std::move(done_), false);
      return;
    }
    Response r;
    r.error = what + ": " + (ec == beast::error::timeout ? std::string("timed out") : ec.message());
    Done done = std::move(done_);
    request_.reset();
    done(std::move(r));
  }

  void close() {
    open_ = false;
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  BeastHttpClient& client_;
  tcp::resolver resolver_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  bool open_ = false;
  bool reused_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::shared_ptr<Request> request_;
  Done done_;
};

BeastHttpClient::BeastHttpClient(asio::io_context& io, Url url, std::chrono::milliseconds timeout)
    : io_(io), url_(std::move(url)), timeout_(timeout) {}

BeastHttpClient::~BeastHttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::create(asio::io_context& io, Url url,
                                                       const config::TlsConfig& tls,
                                                       std::chrono::milliseconds timeout) {
  auto client = BeastHttpClient::create(io, std::move(url), tls, timeout);
  if (!client) return client.status();
  return std::unique_ptr<HttpClient>(std::move(client).value());
}

Result<std::unique_ptr<BeastHttpClient>> BeastHttpClient::create(
    asio::io_context& io, Url url, const config::TlsConfig& tls,
    std::chrono::milliseconds timeout) {
  std::unique_ptr<BeastHttpClient> client(new BeastHttpClient(io, std::move(url), timeout));
  if (client->url_.tls) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (!tls.ca_file.empty()) {
      ctx->load_verify_file(tls.ca_file, ec);
      if (ec) {
        return Status::invalid_argument("cloud.tls.ca_file '" + tls.ca_file +
                                        "' cannot be loaded: " + ec.message());
      }
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) return Status::io_error("cannot load the system's CA certificates: " + ec.message());
    }
    ctx->set_verify_mode(tls.verify ? asio::ssl::verify_peer : asio::ssl::verify_none);
    client->tls_ = std::move(ctx);
  }
  return client;
}

std::shared_ptr<BeastHttpClient::Connection> BeastHttpClient::take_idle() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return nullptr;
  auto c = std::move(idle_.back());
  idle_.pop_back();
  return c;
}

void BeastHttpClient::give_back(std::shared_ptr<Connection> connection) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(connection));
}

void BeastHttpClient::close_idle() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

void BeastHttpClient::post(std::string_view path, const std::string& token, std::string_view body,
                           Done done) {
  const HeaderView header[] = {{"Device-Token", token}};
  send(Method::kPost, path, header, body, std::move(done));
}

void BeastHttpClient::post(std::string_view path, const Headers& headers, std::string_view body,
                           Done done) {
  std::vector<HeaderView> views(headers.begin(), headers.end());
  send(Method::kPost, path, views, body, std::move(done));
}

void BeastHttpClient::request(Method method, std::string_view path, const Headers& headers,
                              std::string_view body, Done done) {
  std::vector<HeaderView> views(headers.begin(), headers.end());
  send(method, path, views, body, std::move(done));
}

void BeastHttpClient::send(Method method, std::string_view path,
                           std::span<const HeaderView> headers, std::string_view body, Done done) {
  const http::verb verb = method == Method::kGet    ? http::verb::get
                          : method == Method::kPost ? http::verb::post
                                                    : http::verb::delete_;
  auto req = std::make_shared<Request>(verb, url_.base_path + std::string(path), 11);
  req->set(http::field::host, url_.host);
  req->set(http::field::user_agent, kUserAgent);
  req->set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req->set(name, value);
  req->keep_alive(true);
  req->body() = boost::span<const char>(body.data(), body.size());
  req->prepare_payload();
  std::shared_ptr<Connection> connection = take_idle();
  const bool reused = connection != nullptr;
  if (!connection) connection = std::make_shared<Connection>(*this);
  connection->send(std::move(req), std::move(done), reused);
}

}  // namespace edgegw::forward
