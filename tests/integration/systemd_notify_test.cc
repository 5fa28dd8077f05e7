// SPDX-License-Identifier: Apache-2.0
// The systemd notify protocol of `edgegw run` (deploy/systemd/edgegw.service is Type=notify):
// the test plays systemd's part with a datagram socket of its own in NOTIFY_SOCKET and checks
// READY=1 (when /readyz says ready), WATCHDOG=1 pings, RELOADING=1/READY=1 around SIGHUP (a
// refused reload too), STOPPING=1, and that a watchdog meant for another process is ignored.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "support/http_client.h"
#include "support/metrics_text.h"
#include "support/subprocess.h"
#include "support/tokens.h"

namespace edgegw {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// systemd's end of NOTIFY_SOCKET: an AF_UNIX datagram socket in a temp dir.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path.size() >= sizeof addr.sun_path) throw std::runtime_error("notify socket");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("bind " + path + ": " + std::strerror(errno));
    }
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Every message received until one satisfies `last` (included) or `timeout` passes; the
  // messages so far are kept in received().
  bool read_until(const std::function<bool(const std::string&)>& last,
                  std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      received_.emplace_back(buf, static_cast<std::size_t>(n));
      if (last(received_.back())) return true;
    }
    return false;
  }
  const std::vector<std::string>& received() const { return received_; }
  std::size_t count(const std::string& text) const {
    return static_cast<std::size_t>(
        std::count_if(received_.begin(), received_.end(),
                      [&](const std::string& m) { return m.find(text) != std::string::npos; }));
  }
  std::string all() const {
    std::string text;
    for (const auto& m : received_) text += "[" + m + "] ";
    return text;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> received_;
};

auto has(const std::string& text) {
  return [text](const std::string& m) { return m.find(text) != std::string::npos; };
}

std::string config_text(const std::string& data_dir) {
  return "gateway:\n  id: notify-gw\n  data_dir: " + data_dir +
         "\n  shutdown_timeout: 2s\n"
         "metrics: { listen: '127.0.0.1:0' }\n"
         "devices:\n  - key: boiler-1\n    token: " +
         testing::fake_token(1) + "\n";
}

TEST(SystemdNotify, ReadyWatchdogReloadAndStopping) {
  testing::TempDir dir;
  NotifySocket systemd(dir.path() + "/notify");
  const std::string cfg = dir.write("gw.yaml", config_text(dir.path() + "/data"));
  // WATCHDOG_USEC of 200 ms: a ping every 100 ms. No WATCHDOG_PID: meant for whoever reads it.
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg},
                         {"NOTIFY_SOCKET=" + dir.path() + "/notify", "WATCHDOG_USEC=200000"});

  ASSERT_TRUE(systemd.read_until(has("READY=1"), 10s)) << systemd.all() << gw.err();
  EXPECT_THAT(systemd.received().back(),
              HasSubstr("STATUS=running: 0 source(s), 1 device(s); 0 reading(s) waiting"));
  // Ready for systemd is ready for the health check.
  const std::string address = testing::metrics_address(gw);
  ASSERT_FALSE(address.empty()) << gw.err();
  EXPECT_EQ(testing::HttpClient("http://" + address).get("/readyz").status, 200);

  // The io loop pings, each ping with the current status.
  ASSERT_TRUE(
      systemd.read_until([&](const std::string&) { return systemd.count("WATCHDOG=1") >= 3; }, 10s))
      << systemd.all();

  EXPECT_EQ(systemd.count("WATCHDOG=1\nSTATUS=running: 0 source(s)"), systemd.count("WATCHDOG=1"));

  // A reload: RELOADING=1 with the monotonic time, then READY=1 again.
  gw.signal(SIGHUP);
  ASSERT_TRUE(systemd.read_until(has("RELOADING=1"), 10s)) << systemd.all() << gw.err();
  EXPECT_THAT(systemd.received().back(),
              ::testing::MatchesRegex(R"((.|\n)*MONOTONIC_USEC=[0-9]+(.|\n)*)"));
  ASSERT_TRUE(systemd.read_until(has("READY=1"), 10s)) << systemd.all() << gw.err();
  EXPECT_THAT(gw.err(), HasSubstr("config reloaded"));

  // A refused reload ends the reloading state too; the status says so.
  dir.write("gw.yaml", "gateway:\n  data_dir: [oops\n");
  gw.signal(SIGHUP);
  ASSERT_TRUE(systemd.read_until(has("READY=1"), 10s)) << systemd.all() << gw.err();
  EXPECT_THAT(systemd.received().back(), HasSubstr("last reload refused"));
  EXPECT_EQ(systemd.count("RELOADING=1"), 2u);

  gw.signal(SIGTERM);
  ASSERT_TRUE(systemd.read_until(has("STOPPING=1"), 10s)) << systemd.all() << gw.err();
  EXPECT_THAT(systemd.received().back(), HasSubstr("STATUS=stopping (SIGTERM)"));
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
  EXPECT_THAT(gw.err(), ::testing::Not(HasSubstr("systemd: cannot notify")));
}

TEST(SystemdNotify, WatchdogOfAnotherProcessIsNotPinged) {
  testing::TempDir dir;
  NotifySocket systemd(dir.path() + "/notify");
  const std::string cfg = dir.write("gw.yaml", config_text(dir.path() + "/data"));
  // WATCHDOG_PID names this test process, not the gateway: the gateway must not ping.
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg},
                         {"NOTIFY_SOCKET=" + dir.path() + "/notify", "WATCHDOG_USEC=20000",
                          "WATCHDOG_PID=" + std::to_string(::getpid())});
  ASSERT_TRUE(systemd.read_until(has("READY=1"), 10s)) << systemd.all() << gw.err();
  // Long enough for dozens of 10 ms pings if the gateway took the watchdog for its own.
  std::this_thread::sleep_for(300ms);
  gw.signal(SIGTERM);
  ASSERT_TRUE(systemd.read_until(has("STOPPING=1"), 10s)) << systemd.all() << gw.err();
  EXPECT_EQ(systemd.count("WATCHDOG=1"), 0u) << systemd.all();
  EXPECT_EQ(gw.wait(10s), 0) << gw.err();
}

}  // namespace
}  // namespace edgegw
