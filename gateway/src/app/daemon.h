// `edgegw run`: the daemon's lifecycle. Owns the I/O thread pool, the data-dir lock and signal
// handling: SIGTERM/SIGINT stop gracefully within gateway.shutdown_timeout (a second one stops at
// once: acknowledged data is already in the write-ahead log); SIGHUP reloads the config file and
// keeps the running config when the new one is invalid.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/data_dir.h"
#include "config/config.h"
#include "log/log.h"

namespace edgegw::app {

class Daemon {
 public:
  Daemon(config::Config config, DataDirLock lock);

  // Runs until stopped; returns the process exit code.
  int run();

 private:
  void wait_for_signal();
  void on_signal(int signal_number);
  void reload();
  void begin_shutdown(int signal_number);
  void finish_shutdown();

  config::Config config_;
  DataDirLock lock_;
  std::shared_ptr<spdlog::logger> logger_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer shutdown_deadline_;
  bool stopping_ = false;
};

// Applies the logging part of a config: level, format, and the secrets to scrub.
void apply_logging(const config::Config& config);

}  // namespace edgegw::app
