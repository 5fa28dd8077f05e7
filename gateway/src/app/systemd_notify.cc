// SPDX-License-Identifier: Apache-2.0
#include "app/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "log/log.h"

namespace edgegw::app {

namespace {

// A STATUS= value is one line of the notification message: no line breaks in it.
std::string one_line(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

std::uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000u;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && socket[0] != '\0';
  if (!enabled_) return;
  // Checks WATCHDOG_PID too: a watchdog meant for a parent (a wrapper script) is not ours.
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::microseconds(usec / 2);
  }
}

void SystemdNotifier::send(std::string_view state) const {
  if (!enabled_) return;
  const std::string message(state);
  if (const int r = sd_notify(0, message.c_str()); r < 0) {
    // Said once: a socket that refuses one message refuses the watchdog's every ping too.
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) {
      log::get("gateway")->warn("systemd: cannot notify NOTIFY_SOCKET: {}", std::strerror(-r));
    }
  }
}

void SystemdNotifier::ready(std::string_view status) const {
  send("READY=1\nSTATUS=" + one_line(status));
}

void SystemdNotifier::reloading() const {
  send("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" +
       std::to_string(monotonic_usec()));
}

void SystemdNotifier::reloaded(std::string_view status) const {
  send("READY=1\nSTATUS=" + one_line(status));
}

void SystemdNotifier::stopping(std::string_view status) const {
  send("STOPPING=1\nSTATUS=" + one_line(status));
}

void SystemdNotifier::status(std::string_view status) const { send("STATUS=" + one_line(status)); }

void SystemdNotifier::start_watchdog(boost::asio::any_io_executor executor,
                                     std::function<std::string()> status) {
  if (!enabled_ || !watchdog_interval_) return;
  watchdog_timer_ = std::make_unique<boost::asio::steady_timer>(std::move(executor));
  watchdog_status_ = std::move(status);
  watchdog_running_ = true;
  ping();
  arm_watchdog();
}

void SystemdNotifier::ping() const {
  send("WATCHDOG=1\nSTATUS=" + one_line(watchdog_status_ ? watchdog_status_() : "running"));
}

void SystemdNotifier::arm_watchdog() {
  watchdog_timer_->expires_after(*watchdog_interval_);
  watchdog_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || !watchdog_running_) return;  // stopped
    ping();
    arm_watchdog();
  });
}

void SystemdNotifier::stop_watchdog() {
  watchdog_running_ = false;
  if (watchdog_timer_) watchdog_timer_->cancel();
}

}  // namespace edgegw::app
