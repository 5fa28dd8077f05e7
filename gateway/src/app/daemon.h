// SPDX-License-Identifier: Apache-2.0
// `edgegw run`: the daemon's lifecycle. Owns the I/O thread pool, the data-dir lock and signal
// handling: SIGTERM/SIGINT stop gracefully within gateway.shutdown_timeout (a second one stops at
// once: acknowledged data is already in the write-ahead log); SIGHUP reloads the config file and
// keeps the running config when the new one is invalid.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "actions/service.h"
#include "app/control_socket.h"
#include "app/data_dir.h"
#include "app/systemd_notify.h"
#include "buffer/buffer.h"
#include "config/config.h"
#include "forward/forwarder.h"
#include "ingest/mapping.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "plugin_host/source.h"
#include "provision/provisioner.h"

namespace edgegw::app {

// The daemon's own counters (for the metrics).
using DaemonStats = metrics::DaemonStats;

class Daemon {
 public:
  Daemon(config::Config config, DataDirLock lock, std::unique_ptr<buffer::Buffer> buffer);
  ~Daemon();

  // Runs until stopped; returns the process exit code.
  int run();

  // Builds the forwarder (parses cloud.url, loads the TLS trust store) and loads and creates every
  // source's plugin (started by run(), once the forwarder is up); an error stops start-up.
  Status init();

  const DaemonStats& stats() const noexcept { return stats_; }

 private:
  void wait_for_signal();
  void on_signal(int signal_number);
  void reload();
  void begin_shutdown(int signal_number);
  void finish_shutdown();
  void schedule_expiry();
  void apply_devices();
  // Stops every source (nothing new comes in); returns once no plugin calls the host.
  void stop_sources();
  // Tells the metrics which sources run (after start-up and every reload).
  void publish_sources();
  // The STATUS= line systemd shows while the gateway runs.
  std::string running_status() const;

  config::Config config_;
  DataDirLock lock_;
  std::unique_ptr<buffer::Buffer> buffer_;
  // The forwarder's own io_context, run by one thread of its own (run()): its strand, its reads
  // and acks of the buffer and its HTTP client's sockets, with no hand-off between threads (on 2
  // cores, the pool's hand-offs doubled a request's CPU). Before forwarder_: destroyed after it.
  boost::asio::io_context forward_io_{1};
  std::unique_ptr<forward::Forwarder> forwarder_;  // after buffer_: destroyed before it
  ingest::Mapping mapping_;                        // the device map the sources read
  // Cloud devices for unmapped keys (unmapped: provision); the mapping's resolver. After
  // forwarder_: destroyed before it.
  std::unique_ptr<provision::Provisioner> provisioner_;
  // `edgegw cloud rotate-token|forget` of the operator, for provisioner_ (destroyed before it).
  std::unique_ptr<ControlServer> control_;
  // The actions and analyses; its engine is a write hook of buffer_.
  std::unique_ptr<actions::Actions> actions_;
  std::vector<std::pair<buffer::DeviceId, std::string>> device_ids_;  // as apply_devices left them
  // In config order; after forwarder_ and mapping_: stopped and destroyed before them.
  std::vector<std::unique_ptr<plugin_host::Source>> sources_;
  DaemonStats stats_;
  std::shared_ptr<spdlog::logger> logger_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  // The lifecycle's handlers (signals, timers, shutdown steps) run one at a time on this strand,
  // so a shutdown step cannot race a signal handler that re-arms itself.
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer shutdown_deadline_;
  boost::asio::steady_timer expiry_timer_;
  SystemdNotifier systemd_;  // after io_: its watchdog timer is destroyed first
  bool stopping_ = false;
  // /metrics, /healthz, /readyz. Last: destroyed first, while what it reads (buffer_,
  // forwarder_, stats_) and the strand its sampling timer runs on are still there.
  std::unique_ptr<metrics::Metrics> metrics_;
};

// Applies the logging part of a config: level, format, and the secrets to scrub.
void apply_logging(const config::Config& config);

}  // namespace edgegw::app
