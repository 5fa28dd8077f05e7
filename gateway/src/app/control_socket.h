// SPDX-License-Identifier: Apache-2.0
// How `edgegw cloud rotate-token|forget` reach a running gateway: a Unix socket in the data dir,
// <data_dir>/control/edgegw.sock, in a directory only the gateway's user may enter (0700): who
// can use it could read the tokens in the data dir anyway. One request per connection: a JSON
// line {"command": "...", "key": "..."}; one JSON line back {"ok": true|false, "message": "..."}.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "edgegw/status.h"

namespace edgegw::app {

std::string control_socket_path(std::string_view data_dir);

class ControlServer {
 public:
  using Reply = std::function<void(Status, std::string)>;
  using Handler = std::function<void(const std::string& key, Reply reply)>;

  // Listens (a stale socket file of an earlier run is replaced: the data-dir lock is held).
  static Result<std::unique_ptr<ControlServer>> start(boost::asio::io_context& io,
                                                      std::string_view data_dir,
                                                      std::map<std::string, Handler> handlers);
  ~ControlServer();  // stops listening and removes the socket file

 private:
  class Session;
  ControlServer(boost::asio::io_context& io, std::string path,
                std::map<std::string, Handler> handlers);
  void accept();

  std::string path_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::shared_ptr<const std::map<std::string, Handler>> handlers_;
};

struct ControlAnswer {
  bool ok = false;
  std::string message;
};

// Sends one request to the gateway of `data_dir` and waits for its answer (at most `timeout`).
// kUnavailable when no gateway listens there.
Result<ControlAnswer> control_request(std::string_view data_dir, std::string_view command,
                                      std::string_view key, std::chrono::seconds timeout);

}  // namespace edgegw::app
