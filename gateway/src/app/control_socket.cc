// SPDX-License-Identifier: Apache-2.0
#include "app/control_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "log/log.h"

namespace edgegw::app {

namespace asio = boost::asio;
namespace json = boost::json;
using Protocol = asio::local::stream_protocol;

namespace {
constexpr std::size_t kMaxRequestBytes = 4096;

std::string answer_line(bool ok, std::string_view message) {
  return json::serialize(json::object{{"ok", ok}, {"message", message}}) + "\n";
}
}  // namespace

std::string control_socket_path(std::string_view data_dir) {
  return std::string(data_dir) + "/control/edgegw.sock";
}

class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Protocol::socket socket, std::shared_ptr<const std::map<std::string, Handler>> handlers)
      : socket_(std::move(socket)), handlers_(std::move(handlers)), in_(kMaxRequestBytes) {}

  void run() {
    asio::async_read_until(socket_, in_, '\n',
                           [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             if (ec) return;  // closed, or longer than kMaxRequestBytes
                             self->handle();
                           });
  }

 private:
  void handle() {
    std::string line(asio::buffers_begin(in_.data()), asio::buffers_end(in_.data()));
    boost::system::error_code ec;
    const json::value v = json::parse(line, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* command = o != nullptr ? o->if_contains("command") : nullptr;
    const json::value* key = o != nullptr ? o->if_contains("key") : nullptr;
    if (command == nullptr || !command->is_string() || key == nullptr || !key->is_string()) {
      return answer(false, "expected {\"command\": ..., \"key\": ...}");
    }
    auto it = handlers_->find(std::string(command->get_string()));
    if (it == handlers_->end()) {
      return answer(false, "unknown command '" + std::string(command->get_string()) + "'");
    }
    log::get("control")->info("control: {} {}", it->first, std::string(key->get_string()));
    it->second(std::string(key->get_string()), [self = shared_from_this()](Status status,
                                                                           std::string message) {
      // From whichever thread the handler finished on: the socket's own executor.
      asio::post(self->socket_.get_executor(), [self, status, message] {
        self->answer(static_cast<bool>(status), status ? message : std::string(status.message()));
      });
    });
  }

  void answer(bool ok, std::string message) {
    out_ = answer_line(ok, message);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code, std::size_t) {
                        boost::system::error_code ignored;
                        self->socket_.close(ignored);
                      });
  }

  Protocol::socket socket_;
  std::shared_ptr<const std::map<std::string, Handler>> handlers_;
  asio::streambuf in_;
  std::string out_;
};

Result<std::unique_ptr<ControlServer>> ControlServer::start(
    asio::io_context& io, std::string_view data_dir, std::map<std::string, Handler> handlers) {
  const std::string dir = std::string(data_dir) + "/control";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::io_error("cannot create " + dir + ": " + std::strerror(errno));
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    return Status::io_error("cannot chmod " + dir + ": " + std::strerror(errno));
  }
  const std::string path = control_socket_path(data_dir);
  ::unlink(path.c_str());  // an earlier run's: this process holds the data dir's lock
  std::unique_ptr<ControlServer> server(new ControlServer(io, path, std::move(handlers)));
  boost::system::error_code ec;
  server->acceptor_.open(Protocol(), ec);
  if (!ec) server->acceptor_.bind(Protocol::endpoint(path), ec);
  if (!ec) server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::io_error("cannot listen on " + path + ": " + ec.message());
  server->accept();
  return server;
}

ControlServer::ControlServer(asio::io_context& io, std::string path,
                             std::map<std::string, Handler> handlers)
    : path_(std::move(path)),
      acceptor_(io),
      handlers_(std::make_shared<const std::map<std::string, Handler>>(std::move(handlers))) {}

ControlServer::~ControlServer() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  ::unlink(path_.c_str());
}

void ControlServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, Protocol::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), handlers_)->run();
    accept();
  });
}

Result<ControlAnswer> control_request(std::string_view data_dir, std::string_view command,
                                      std::string_view key, std::chrono::seconds timeout) {
  const std::string path = control_socket_path(data_dir);
  asio::io_context io;
  Protocol::socket socket(io);
  boost::system::error_code ec;
  socket.connect(Protocol::endpoint(path), ec);
  if (ec) return Status::unavailable("no gateway answers on " + path + ": " + ec.message());
  const timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string request =
      json::serialize(json::object{{"command", command}, {"key", key}}) + "\n";
  asio::write(socket, asio::buffer(request), ec);
  if (ec) return Status::unavailable("cannot ask the gateway: " + ec.message());
  asio::streambuf in(kMaxRequestBytes * 4);
  asio::read_until(socket, in, '\n', ec);
  if (ec) {
    return Status::deadline_exceeded("the gateway did not answer (" + ec.message() +
                                     "); see its log");
  }
  std::string line(asio::buffers_begin(in.data()), asio::buffers_end(in.data()));
  const json::value v = json::parse(line, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr || !o->contains("ok") || !o->at("ok").is_bool()) {
    return Status::internal("the gateway's answer is not understood: " + line);
  }
  ControlAnswer a;
  a.ok = o->at("ok").get_bool();
  if (const json::value* m = o->if_contains("message"); m != nullptr && m->is_string()) {
    a.message = std::string(m->get_string());
  }
  return a;
}

}  // namespace edgegw::app
