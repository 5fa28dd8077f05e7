// SPDX-License-Identifier: Apache-2.0
// The HTTP endpoints on metrics.listen: GET /metrics (Prometheus text format), /healthz (200 while
// the process runs) and /readyz (200 once ready, 503 with the reason otherwise).
//
// Why not prometheus::Exposer: it owns its CivetServer privately and serves only collectables
// (always 200, exposition text) and basic auth; /readyz must answer 503, and the only other hook,
// CivetCallbacks, carries no pointer to our state (CivetServer keeps the user data for itself), so
// health would have to live in process-global state. So we run the same civetweb server that the
// Exposer runs, with our three handlers, and /metrics is written by prometheus-cpp's own
// TextSerializer: no exposition format is written by hand.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "edgegw/status.h"

class CivetServer;

namespace edgegw::metrics {

class HttpServer {
 public:
  struct Handlers {
    std::function<std::string()> metrics;                   // the exposition text
    std::function<std::optional<std::string>()> not_ready;  // nullopt: ready; else why not
  };

  // Listens on `listen` (host:port or [v6]:port; a host name is resolved; port 0 picks a free
  // port). An address that cannot be listened on is an error that names it.
  static Result<std::unique_ptr<HttpServer>> start(std::string_view listen, Handlers handlers);
  ~HttpServer();  // stops listening and waits for running requests
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The address listened on, with the actual port: "127.0.0.1:9464", "[::1]:9464".
  const std::string& address() const noexcept { return address_; }

 private:
  struct Endpoints;
  HttpServer() = default;

  std::string address_;
  std::unique_ptr<Endpoints> endpoints_;  // before server_: outlives it
  std::unique_ptr<CivetServer> server_;
};

// Splits "host:port" / "[v6]:port" (as config validated it) and resolves the host to a numeric
// address; "[::1]:0" stays as is. The result is in civetweb's listening_ports syntax.
Result<std::string> numeric_listen_address(std::string_view listen);

}  // namespace edgegw::metrics
