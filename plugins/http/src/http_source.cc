// SPDX-License-Identifier: Apache-2.0
#include "http_source.h"

#include <chrono>
#include <optional>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "edgegw/clock.h"

namespace edgegw::plugins::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using beast_http::status;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
// After a failed accept (out of file descriptors, say) the connection stays in the listen
// backlog, so the socket is at once readable again: trying at once would spin a core.
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr std::string_view kDenied = "Authorization Denied";

// The HTTP status of a host error code.
status status_of(std::int32_t code) {
  switch (code) {
    case EDGEGW_ERR_INVALID_ARGUMENT:
      return status::bad_request;
    case EDGEGW_ERR_DENIED:
      return status::unauthorized;
    case EDGEGW_ERR_FULL:
    case EDGEGW_ERR_STOPPED:
    case EDGEGW_ERR_UNAVAILABLE:
      return status::service_unavailable;
    case EDGEGW_ERR_UNSUPPORTED:
      return status::not_implemented;
    default:
      return status::internal_server_error;
  }
}

// An answer to a request that could not be read (no request object to mirror): closes.
Response refusal(status s, std::string_view message) {
  Response r(s, 11);
  r.set(beast_http::field::content_type, "application/json; charset=utf-8");
  r.keep_alive(false);
  r.body() = error_body(message);
  r.prepare_payload();
  return r;
}

// The answer to a request that could not be read (the connection is closed after it), or nullopt
// when the peer went away or was too slow.
std::optional<Response> unreadable(const boost::system::error_code& ec, const Config& config) {
  if (ec == beast_http::error::header_limit) {
    return refusal(status::request_header_fields_too_large,
                   "request headers over " + std::to_string(config.max_header_bytes) + " bytes");
  }
  if (ec == beast_http::error::body_limit) {
    return refusal(status::payload_too_large, "Request body is over the limit of " +
                                                  std::to_string(config.max_body_bytes) + " bytes");
  }
  // A timeout has closed the socket already (beast::tcp_stream does): nothing can be answered.
  if (ec == beast::error::timeout || ec == beast_http::error::end_of_stream ||
      ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == beast_http::error::partial_message) {
    return std::nullopt;
  }
  return refusal(status::bad_request, "malformed request: " + ec.message());
}

}  // namespace

HttpSource::HttpSource(sdk::Host host, std::string_view name, std::string_view config_json)
    : host_(host),
      limited_(host),
      name_(name),
      config_(parse_config(config_json)),
      api_(host.device_api(), host.host_ptr()),
      workers_{make_workers(config_.threads, api_)},
      acceptor_(*workers_.list.front().ioc) {
  if (host.device_api() == nullptr) {
    throw sdk::Error(EDGEGW_ERR_UNSUPPORTED,
                     "this gateway's plugin ABI lacks the local Device API (1.2): upgrade edgegw");
  }
}

HttpSource::~HttpSource() { stop(); }

std::vector<HttpSource::Worker> HttpSource::make_workers(std::size_t threads, const LocalApi& api) {
  std::vector<Worker> workers(threads);
  for (auto& w : workers) {
    // One thread per context: Asio then skips its locking.
    w.ioc = std::make_unique<asio::io_context>(1);
    w.appends = std::make_unique<AppendGroup>(*w.ioc, api);
  }
  return workers;
}

void HttpSource::start() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(config_.host, ec);
  if (ec) {
    throw sdk::Error(EDGEGW_ERR_INVALID_ARGUMENT,
                     "listen: '" + config_.host + "' is not an IP address");
  }
  const tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw sdk::Error(EDGEGW_ERR_UNAVAILABLE, "listen: cannot listen on " + config_.host + ":" +
                                                 std::to_string(config_.port) + ": " +
                                                 ec.message());
  }
  const tcp::endpoint bound = acceptor_.local_endpoint();
  const std::string shown = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                    : bound.address().to_string();
  host_.info("local Device API listening on " + shown + ":" + std::to_string(bound.port()));
  asio::co_spawn(*workers_.list.front().ioc, accept_loop(), asio::detached);
  for (auto& w : workers_.list) {
    threads_.emplace_back([&ioc = *w.ioc] {
      // A context with no connection yet must not return from run().
      auto guard = asio::make_work_guard(ioc);
      ioc.run();
    });
  }
  started_ = true;
  host_.set_up(true);
}

void HttpSource::stop() {
  if (!started_) return;
  started_ = false;
  asio::post(*workers_.list.front().ioc, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  // Connections end here; their coroutines are destroyed with the io_contexts.
  for (auto& w : workers_.list) w.ioc->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  limited_.flush(EDGEGW_LOG_WARN, true);  // the counts no later line said
  host_.set_up(false);
}

asio::awaitable<void> HttpSource::accept_loop() {
  while (acceptor_.is_open()) {
    Worker& worker = workers_.list[next_worker_];
    next_worker_ = (next_worker_ + 1) % workers_.list.size();
    auto [ec, socket] = co_await acceptor_.async_accept(*worker.ioc, kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      limited_.log(EDGEGW_LOG_WARN, "accept", [&] {
        return "cannot accept a connection: " + ec.message() + "; still trying";
      });
      asio::steady_timer pause(co_await asio::this_coro::executor, kAcceptRetry);
      co_await pause.async_wait(kNoThrow);
      continue;  // e.g. too many open files: keep accepting once some are closed
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, session(std::move(socket), *worker.appends), asio::detached);
  }
}

asio::awaitable<void> HttpSource::session(tcp::socket socket, AppendGroup& appends) {
  struct Count {
    std::atomic<std::size_t>& n;
    ~Count() { n.fetch_sub(1, std::memory_order_relaxed); }
  } count{connections_};
  const std::size_t open = connections_.fetch_add(1, std::memory_order_relaxed) + 1;
  beast::tcp_stream stream(std::move(socket));
  if (open > config_.max_connections) {
    limited_.log(EDGEGW_LOG_WARN, "max_connections", [&] {
      return "refused a connection (503): " + std::to_string(open - 1) + " open, max_connections " +
             std::to_string(config_.max_connections);
    });
    stream.expires_after(kWriteTimeout);
    auto r = refusal(status::service_unavailable, "too many connections (max_connections " +
                                                      std::to_string(config_.max_connections) +
                                                      "); retry later");
    co_await beast_http::async_write(stream, r, kNoThrow);
    co_return;
  }
  beast::flat_buffer buffer;
  for (;;) {
    // Idle between requests for at most idle_timeout; a request, once begun, must arrive whole
    // within request_timeout (a slow client cannot hold a connection open byte by byte).
    if (buffer.size() == 0) {
      stream.expires_after(config_.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
      if (ec) co_return;  // closed by the peer, or idle too long
      buffer.commit(n);
    }
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config_.max_header_bytes));
    parser.body_limit(config_.max_body_bytes);
    stream.expires_after(config_.request_timeout);
    auto [ec, hn] = co_await beast_http::async_read_header(stream, buffer, parser, kNoThrow);
    if (!ec && beast::iequals(parser.get()[beast_http::field::expect], "100-continue") &&
        parser.content_length().value_or(0) <= config_.max_body_bytes) {
      beast_http::response<beast_http::empty_body> go_on{status::continue_, parser.get().version()};
      auto [cec, cn] = co_await beast_http::async_write(stream, go_on, kNoThrow);
      if (cec) co_return;
    }
    if (!ec)
      std::tie(ec, std::ignore) = co_await beast_http::async_read(stream, buffer, parser, kNoThrow);
    if (ec) {
      if (auto r = unreadable(ec, config_)) {
        stream.expires_after(kWriteTimeout);
        co_await beast_http::async_write(stream, *r, kNoThrow);
      }
      co_return;
    }
    const Request& request = parser.get();
    Response response = co_await answer(request, appends);
    const bool keep_alive = response.keep_alive();
    stream.expires_after(kWriteTimeout);
    auto [wec, wn] = co_await beast_http::async_write(stream, response, kNoThrow);
    if (wec || !keep_alive) {
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

asio::awaitable<Response> HttpSource::answer(const Request& request, AppendGroup& appends) {
  const std::string_view target(request.target().data(), request.target().size());
  const auto [path, query] = split_target(target);
  const Route r = route(request.method(), path);
  if (r == Route::kNotFound || r == Route::kWrongMethod) {
    const std::string_view method(request.method_string().data(), request.method_string().size());
    co_return json_response(request,
                            r == Route::kNotFound ? status::not_found : status::method_not_allowed,
                            error_body("Route not found: " + std::string(method) + " " +
                                       std::string(path.substr(0, 100))));
  }
  const std::string_view token = find_token(request);
  if (token.empty()) co_return json_response(request, status::unauthorized, error_body(kDenied));
  const ApiResult device = api_.authenticate(token);
  if (!device.ok()) {
    // Never the token itself in the answer or the log.
    if (device.code == EDGEGW_ERR_DENIED) {
      limited_.log(EDGEGW_LOG_WARN, "denied",
                   "refused a request (401): its device token is not known to this gateway");
    }
    co_return json_response(request, status_of(device.code),
                            error_body(device.code == EDGEGW_ERR_DENIED ? kDenied : device.text));
  }
  const std::string& key = device.text;
  switch (r) {
    case Route::kPostData: {
      const auto [added, readings] = co_await appends.append(key, request.body(), sdk::now_ms());
      if (!added.ok()) {
        std::string message = added.text;
        if (added.code == EDGEGW_ERR_FULL) {
          message = "the gateway cannot take data now (" + message + "); retry later";
          limited_.log(EDGEGW_LOG_WARN, "full", [&] {
            return "refused POST /data (503, Retry-After 5): the buffer is full (" + added.text +
                   ")";
          });
        }
        Response res = json_response(request, status_of(added.code), error_body(message));
        if (added.code == EDGEGW_ERR_FULL) res.set(beast_http::field::retry_after, "5");
        co_return res;
      }
      co_return json_response(request, status::ok,
                              ok_body("\"" + std::to_string(readings) + " Data Added\""));
    }
    case Route::kGetData: {
      const ApiResult result = api_.query(key, query);
      if (!result.ok()) {
        co_return json_response(request, status_of(result.code), error_body(result.text));
      }
      co_return json_response(request, status::ok, ok_body(result.text));
    }
    case Route::kDeleteData: {
      std::uint64_t removed = 0;
      const std::string q = path == "/data" ? std::string(query) : legacy_delete_query(path, query);
      const ApiResult result = api_.remove(key, q, removed);
      if (!result.ok()) {
        co_return json_response(request, status_of(result.code), error_body(result.text));
      }
      co_return json_response(request, status::ok,
                              ok_body("\"" + std::to_string(removed) + " Data Removed\""));
    }
    case Route::kGetInfo: {
      const ApiResult result = api_.info(key);
      if (!result.ok()) {
        co_return json_response(request, status_of(result.code), error_body(result.text));
      }
      co_return json_response(request, status::ok, ok_body(result.text));
    }
    default:
      co_return json_response(request, status::not_found, error_body("Route not found"));
  }
}

}  // namespace edgegw::plugins::http

extern "C" EDGEGW_PLUGIN_EXPORT const edgegw_plugin* edgegw_plugin_entry(
    std::uint32_t host_abi_version) {
  return edgegw::sdk::plugin_table<edgegw::plugins::http::HttpSource>("http", "1.0.0",
                                                                      host_abi_version);
}
