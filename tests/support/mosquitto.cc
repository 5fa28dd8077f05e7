// SPDX-License-Identifier: Apache-2.0
#include "support/mosquitto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>

namespace edgegw::testing {
namespace {

using namespace std::chrono_literals;

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Mosquitto::Mosquitto(MosquittoOptions options) : options_(std::move(options)) {
  const bool tls = !options_.tls_cert_file.empty();
  std::string conf;
  conf += "per_listener_settings false\n";
  // Run as root (CI), Mosquitto would switch to its own user, who cannot read the temp dir.
  if (::geteuid() == 0) conf += "user root\n";
  conf += "persistence true\npersistence_location " + dir_.path() + "/\n";
  conf += "autosave_interval 1\n";
  conf += "max_queued_messages 0\n";
  conf += "max_inflight_messages " + std::to_string(options_.max_inflight_messages) + "\n";
  conf += "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n";
  conf += "connection_messages true\n";
  if (options_.users.empty()) {
    conf += "allow_anonymous true\n";
  } else {
    std::string lines;
    for (const auto& [user, password] : options_.users) lines += user + ":" + password + "\n";
    const std::string file = dir_.write("passwords", lines, 0600);
    // mosquitto_passwd -U hashes the plain passwords in place.
    const RunResult r = run_command({"mosquitto_passwd", "-U", file});
    if (r.exit_code != 0) throw std::runtime_error("mosquitto_passwd failed: " + r.err);
    conf += "allow_anonymous false\npassword_file " + file + "\n";
  }
  // Mosquitto cannot be given port 0 and say which it got: free ports, and others when another
  // test took one of them before Mosquitto could.
  for (int attempt = 1;; ++attempt) {
    port_ = free_port();
    std::string listeners = "listener " + std::to_string(port_) + " 127.0.0.1\n";
    if (tls) {
      tls_port_ = free_port();
      listeners += "listener " + std::to_string(tls_port_) + " 127.0.0.1\n";
      listeners += "cafile " + options_.tls_ca_file + "\ncertfile " + options_.tls_cert_file +
                   "\nkeyfile " + options_.tls_key_file + "\n";
      if (options_.tls_require_client_cert) listeners += "require_certificate true\n";
    }
    config_ = dir_.write("mosquitto.conf", conf + listeners);
    try {
      start();
      return;
    } catch (const std::runtime_error& e) {
      if (attempt == 5 ||
          std::string(e.what()).find("Address already in use") == std::string::npos) {
        throw;
      }
    }
  }
}

Mosquitto::~Mosquitto() { stop(); }

void Mosquitto::start() {
  if (process_) return;
  process_ = std::make_unique<Subprocess>(std::vector<std::string>{"mosquitto", "-c", config_});
  const bool up = wait_until(
      [&] {
        return !process_->running() ? true
                                    : accepts_connections(port_) &&
                                          (tls_port_ == 0 || accepts_connections(tls_port_));
      },
      10s);
  if (!up || !process_->running()) {
    const std::string err = process_->err();
    process_.reset();
    throw std::runtime_error("mosquitto did not start: " + err);
  }
}

void Mosquitto::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait(10s);
  process_.reset();
}

void Mosquitto::restart() {
  stop();
  start();
}

std::string Mosquitto::log() const { return process_ ? process_->err() : std::string(); }

}  // namespace edgegw::testing
