// SPDX-License-Identifier: Apache-2.0
// A small synchronous HTTP/1.1 client for tests (Boost.Beast underneath): keep-alive, HTTPS with
// certificate verification against a given CA, a timeout per request. Transport failures are
// reported in the response (status 0 and `error`), never thrown.
//
//   HttpClient cloud("http://127.0.0.1:" + std::to_string(port));
//   auto r = cloud.post("/data", R"([{"variable":"t","value":1}])", {{"Device-Token", token}});
//   EXPECT_EQ(r.status, 200) << r.error << r.body;
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgegw::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;     // 0: no response; `error` says why
  std::string error;  // transport error (connect, TLS, timeout, closed), empty on a response
  std::string body;
  HttpHeaders headers;
  // The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

struct HttpClientOptions {
  std::chrono::milliseconds timeout{10000};  // per request (connect + write + read)
  std::string ca_file;                       // https: trust this CA (PEM) instead of the system's
  bool verify = true;      // https: verify the certificate chain and the host name
  bool keep_alive = true;  // reuse the connection between requests
};

class HttpClient {
 public:
  // `base_url`: "http://HOST:PORT[/prefix]" or "https://..."; targets are appended to it.
  explicit HttpClient(std::string base_url, HttpClientOptions options = {});
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  ~HttpClient();

  HttpResponse request(std::string_view method, std::string_view target, std::string_view body = {},
                       const HttpHeaders& headers = {});
  HttpResponse get(std::string_view target, const HttpHeaders& headers = {}) {
    return request("GET", target, {}, headers);
  }
  HttpResponse post(std::string_view target, std::string_view body,
                    const HttpHeaders& headers = {}) {
    return request("POST", target, body, headers);
  }
  HttpResponse del(std::string_view target, const HttpHeaders& headers = {}) {
    return request("DELETE", target, {}, headers);
  }
  // Closes the connection (the next request opens a new one).
  void close();
  // True while a kept-alive connection is open.
  bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes everything but unreserved characters (for query values).
std::string url_encode(std::string_view text);

}  // namespace edgegw::testing
