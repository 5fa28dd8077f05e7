// SPDX-License-Identifier: Apache-2.0
// A pool of keep-alive HTTP/1.1 connections to the cloud (Boost.Beast), TLS with certificate and
// host-name verification and SNI. POSTs a body with a device token and reports the answer.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "config/config.h"
#include "edgegw/status.h"
#include "forward/url.h"

namespace edgegw::forward {

struct Response {
  int status = 0;  // 0: no answer (connection error, timeout); see error
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
  std::string error;        // why there was no answer: "connect: Connection refused", ...
};

// What the forwarder needs of an HTTP client: POST a body with a device token, the answer
// reported on an I/O thread. BeastHttpClient is the real one; tests give the forwarder their
// own (tests/unit/forward/forwarder_test.cc), so lanes, splitting and the outcome table are
// tested without a network.
class HttpClient {
 public:
  using Done = std::function<void(Response)>;
  virtual ~HttpClient() = default;

  // A BeastHttpClient to `url` (see there).
  static Result<std::unique_ptr<HttpClient>> create(boost::asio::io_context& io, Url url,
                                                    const config::TlsConfig& tls,
                                                    std::chrono::milliseconds timeout);

  // POST base_path + path with `Device-Token: token`; `done` runs on an I/O thread, never
  // inside post(). `body` is not copied: it must stay valid until `done` runs.
  virtual void post(std::string_view path, const std::string& token, std::string_view body,
                    Done done) = 0;

  // Drops idle connections (at shutdown, or after the cloud's URL changed).
  virtual void close_idle() = 0;
};

// A pool of keep-alive HTTP/1.1 connections to the cloud (Boost.Beast).
class BeastHttpClient final : public HttpClient {
 public:
  // Loads the CA store (tls.ca_file, or the system's) when the URL is https.
  static Result<std::unique_ptr<BeastHttpClient>> create(boost::asio::io_context& io, Url url,
                                                         const config::TlsConfig& tls,
                                                         std::chrono::milliseconds timeout);
  ~BeastHttpClient() override;

  void post(std::string_view path, const std::string& token, std::string_view body,
            Done done) override;
  // POST base_path + path with these headers (a JSON body) to another server than the cloud (the
  // actions' `post`); the same pool and rules.
  using Headers = std::vector<std::pair<std::string, std::string>>;
  void post(std::string_view path, const Headers& headers, std::string_view body, Done done);
  // Any of these methods to base_path + path (the provisioning's Account API calls); `body` (a
  // JSON text, may be empty) must stay valid until `done` runs.
  enum class Method { kGet, kPost, kDelete };
  void request(Method method, std::string_view path, const Headers& headers, std::string_view body,
               Done done);
  void close_idle() override;

  const Url& url() const { return url_; }

 private:
  class Connection;
  BeastHttpClient(boost::asio::io_context& io, Url url, std::chrono::milliseconds timeout);
  using HeaderView = std::pair<std::string_view, std::string_view>;
  void send(Method method, std::string_view path, std::span<const HeaderView> headers,
            std::string_view body, Done done);
  std::shared_ptr<Connection> take_idle();
  void give_back(std::shared_ptr<Connection> connection);

  boost::asio::io_context& io_;
  Url url_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Connection>> idle_;
};

}  // namespace edgegw::forward
