// SPDX-License-Identifier: Apache-2.0
// The systemd service protocol (Type=notify, deploy/systemd/edgegw.service), through libsystemd's
// sd_notify: READY=1 once /readyz would say ready, RELOADING=1 / READY=1 around a SIGHUP reload,
// STOPPING=1 at shutdown, STATUS= lines for `systemctl status`, and WATCHDOG=1 at half of
// WATCHDOG_USEC. The pings come from a timer on the daemon's io loop, so a hung loop stops them
// and systemd restarts the gateway. Without NOTIFY_SOCKET (not started by systemd) every call
// does nothing.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace edgegw::app {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC (and WATCHDOG_PID) from the environment.
  SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  // Whether systemd listens (NOTIFY_SOCKET is set).
  bool enabled() const noexcept { return enabled_; }
  // Half of WATCHDOG_USEC when systemd asked for pings for this process, else nullopt.
  std::optional<std::chrono::microseconds> watchdog_interval() const noexcept {
    return watchdog_interval_;
  }

  void ready(std::string_view status) const;
  // RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants the time; older ones ignore it).
  void reloading() const;
  // The reload is over (applied or refused: either way the gateway runs a config).
  void reloaded(std::string_view status) const;
  void stopping(std::string_view status) const;
  void status(std::string_view status) const;

  // Sends WATCHDOG=1 every watchdog_interval() from a timer on `executor` (a strand of the io
  // loop) until stop_watchdog(), which must be called on that same executor. Each ping carries
  // STATUS=status() (called on that executor), so `systemctl status` stays current. Nothing
  // when systemd asked for no watchdog.
  void start_watchdog(boost::asio::any_io_executor executor, std::function<std::string()> status);
  void stop_watchdog();

 private:
  void send(std::string_view state) const;
  void ping() const;
  void arm_watchdog();

  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_interval_;
  std::unique_ptr<boost::asio::steady_timer> watchdog_timer_;
  std::function<std::string()> watchdog_status_;
  bool watchdog_running_ = false;  // on the timer's executor: a handler already queued stops too
};

}  // namespace edgegw::app
