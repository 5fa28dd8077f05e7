// SPDX-License-Identifier: Apache-2.0
// The http source: the cloud's Device API (POST/GET/DELETE /data, GET /info) served on the LAN
// with Boost.Beast, so devices and programs written for the cloud can point at the gateway. Each
// request is authenticated with the device's token and answered only after the host is done:
// POST /data's 200 means the readings are in the buffer's write-ahead log.
//
// Threads: `threads` io_contexts with one thread each; connections are dealt to them in turn, and
// a connection is a coroutine on its context (no strand, no hand-off between threads: on a small
// box each cross-thread wake-up costs more than the request's own work). A request's host call
// (append, query) runs on the I/O thread that read it; the POST /data bodies a thread read in one
// turn go to the buffer in one call (append_group.h).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "append_group.h"
#include "edgegw/log_limiter.h"
#include "edgegw/plugin_sdk.h"
#include "http_config.h"
#include "local_api.h"
#include "request.h"

namespace edgegw::plugins::http {

class HttpSource {
 public:
  HttpSource(sdk::Host host, std::string_view name, std::string_view config_json);
  ~HttpSource();
  HttpSource(const HttpSource&) = delete;
  HttpSource& operator=(const HttpSource&) = delete;

  void start();  // binds (throws when it cannot) and serves
  void stop();   // closes every connection; returns once no thread runs

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket, AppendGroup& appends);
  // One request's answer (no I/O of its own besides the host's calls; a POST /data's body is
  // appended with the other bodies of the thread's turn).
  boost::asio::awaitable<Response> answer(const Request& request, AppendGroup& appends);

  sdk::Host host_;
  sdk::LogLimiter limited_;  // refusals and accept errors: one line per kind per 10 s
  std::string name_;
  Config config_;
  LocalApi api_;
  // Before ioc_: the connections' coroutines, destroyed with ioc_, count themselves out here.
  std::atomic<std::size_t> connections_{0};
  // One per I/O thread: its io_context, and the appends of the connections it serves.
  struct Worker {
    std::unique_ptr<boost::asio::io_context> ioc;
    std::unique_ptr<AppendGroup> appends;
  };
  // Before acceptor_, which lives on the first io_context. Torn down in order: every group before
  // the contexts (a request waiting in a group holds its context's socket), then the contexts
  // first to last (the first holds the acceptor's pending accept, whose new socket may belong to
  // another).
  static std::vector<Worker> make_workers(std::size_t threads, const LocalApi& api);
  struct Workers {
    std::vector<Worker> list;
    ~Workers() {
      for (auto& w : list) w.appends.reset();
      for (auto& w : list) w.ioc.reset();
    }
  };
  Workers workers_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::size_t next_worker_ = 0;  // the worker the next accepted connection goes to
  std::vector<std::thread> threads_;
  bool started_ = false;
};

}  // namespace edgegw::plugins::http
