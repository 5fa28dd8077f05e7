// SPDX-License-Identifier: Apache-2.0
#include "metrics/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CivetServer.h>
#include <civetweb.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <thread>
#include <vector>

#include "log/log.h"

namespace edgegw::metrics {
namespace {

constexpr const char* kTextFormat = "text/plain; version=0.0.4; charset=utf-8";
// Request handlers: a scrape, a liveness and a readiness probe can run at once; more requests
// wait for a free thread.
constexpr const char* kThreads = "4";

std::shared_ptr<spdlog::logger> logger() {
  static const auto l = log::get("metrics");
  return l;
}

// civetweb's own complaints (a bad request, a socket error) go to our log.
int on_civetweb_log(const mg_connection*, const char* message) {
  logger()->warn("http: {}", message);
  return 1;  // handled: civetweb writes nothing itself
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

void respond(mg_connection* conn, int status, const char* content_type, std::string_view body,
             bool head) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\n"
            "Content-Type: %s\r\n"
            "Content-Length: %zu\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n\r\n",
            status, reason_phrase(status), content_type, body.size());
  if (!head && !body.empty()) mg_write(conn, body.data(), body.size());
}

// One path; GET and HEAD answer, other methods get 405.
class Endpoint : public CivetHandler {
 public:
  using Answer = std::function<void(mg_connection*, bool head)>;
  explicit Endpoint(Answer answer) : answer_(std::move(answer)) {}

  using CivetHandler::handleGet;
  using CivetHandler::handleHead;
  using CivetHandler::handlePost;
  bool handleGet(CivetServer*, mg_connection* conn) override { return run(conn, false); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return run(conn, true); }
  bool handlePost(CivetServer*, mg_connection* conn) override {
    respond(conn, 405, "text/plain", "GET only\n", false);
    return true;
  }

 private:
  bool run(mg_connection* conn, bool head) {
    try {
      answer_(conn, head);
    } catch (const std::exception& e) {
      // Nothing of ours throws on this path; a bad_alloc must not take down civetweb's thread.
      logger()->error("http: {}", e.what());
    }
    return true;
  }
  Answer answer_;
};

}  // namespace

struct HttpServer::Endpoints {
  Handlers handlers;
  Endpoint metrics{[this](mg_connection* conn, bool head) {
    respond(conn, 200, kTextFormat, handlers.metrics(), head);
  }};
  Endpoint healthz{
      [](mg_connection* conn, bool head) { respond(conn, 200, "text/plain", "ok\n", head); }};
  Endpoint readyz{[this](mg_connection* conn, bool head) {
    if (auto why = handlers.not_ready()) {
      respond(conn, 503, "text/plain", "not ready: " + *why + "\n", head);
    } else {
      respond(conn, 200, "text/plain", "ready\n", head);
    }
  }};
};

Result<std::string> numeric_listen_address(std::string_view listen) {
  std::string host;
  std::string port;
  if (!listen.empty() && listen.front() == '[') {
    const std::size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return Status::invalid_argument("metrics.listen '" + std::string(listen) +
                                      "': expected [v6]:port");
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::invalid_argument("metrics.listen '" + std::string(listen) +
                                      "': expected host:port");
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::invalid_argument("metrics.listen '" + std::string(listen) +
                                    "': cannot resolve '" + host + "': " + gai_strerror(rc));
  }
  char text[INET6_ADDRSTRLEN] = {};
  std::string out;
  if (found->ai_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(found->ai_addr);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    out = "[" + std::string(text) + "]:" + port;
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    out = std::string(text) + ":" + port;
  }
  freeaddrinfo(found);
  return out;
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(std::string_view listen, Handlers handlers) {
  auto address = numeric_listen_address(listen);
  if (!address) return address.status();
  const bool v6 = address->front() == '[';
  constexpr unsigned kIpv6Feature = 8;
  if (v6 && mg_check_feature(kIpv6Feature) == 0) {
    return Status::invalid_argument("metrics.listen '" + std::string(listen) +
                                    "': this build's HTTP server has no IPv6 support");
  }

  std::unique_ptr<HttpServer> server(new HttpServer());
  server->endpoints_ = std::make_unique<Endpoints>();
  server->endpoints_->handlers = std::move(handlers);
  CivetCallbacks callbacks{};
  callbacks.log_message = &on_civetweb_log;
  const std::vector<std::string> options = {
      "listening_ports",   *address, "num_threads",        kThreads,
      "enable_keep_alive", "no",     "request_timeout_ms", "10000",
  };
  try {
    server->server_ = std::make_unique<CivetServer>(options, &callbacks);
  } catch (const std::exception& e) {
    return Status::unavailable("metrics.listen '" + std::string(listen) + "': cannot listen on " +
                               *address + ": " + e.what());
  }
  server->server_->addHandler("/metrics", server->endpoints_->metrics);
  server->server_->addHandler("/healthz", server->endpoints_->healthz);
  server->server_->addHandler("/readyz", server->endpoints_->readyz);

  const std::vector<int> ports = server->server_->getListeningPorts();
  if (ports.empty()) {
    return Status::unavailable("metrics.listen '" + std::string(listen) + "': not listening");
  }
  const std::string host = address->substr(0, address->rfind(':'));
  server->address_ = host + ":" + std::to_string(ports.front());
  return server;
}

namespace {

// Connects to `address` ("1.2.3.4:N", "[v6]:N"; an unspecified host means loopback) and closes.
void poke(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return;
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    (void)connect(fd, found->ai_addr, found->ai_addrlen);
    close(fd);
  }
  freeaddrinfo(found);
}

}  // namespace

HttpServer::~HttpServer() {
  if (!server_) return;
  // civetweb's listener notices a stop only between polls of its sockets, which time out every
  // 2 s: stopping would hold up the gateway's exit by up to that long. A connection wakes it.
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    server_->close();
    closed = true;
  });
  while (!closed) {
    poke(address_);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  closer.join();
}

}  // namespace edgegw::metrics
