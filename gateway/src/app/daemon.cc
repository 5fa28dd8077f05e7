#include "app/daemon.h"

#include <csignal>

#include <boost/asio/post.hpp>

#include "config/loader.h"

namespace edgegw::app {

namespace {

log::Level to_log_level(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kTrace: return log::Level::trace;
    case config::LogLevel::kDebug: return log::Level::debug;
    case config::LogLevel::kInfo: return log::Level::info;
    case config::LogLevel::kWarn: return log::Level::warn;
    case config::LogLevel::kError: return log::Level::err;
  }
  return log::Level::info;
}

const char* signal_name(int signal_number) {
  switch (signal_number) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "signal";
  }
}

unsigned io_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace

void apply_logging(const config::Config& config) {
  log::init(config.gateway.log_format == config::LogFormat::kJson ? log::Format::kJson
                                                                  : log::Format::kText,
            to_log_level(config.gateway.log_level));
  log::set_secrets(config.secret_values());
}

Daemon::Daemon(config::Config config, DataDirLock lock)
    : config_(std::move(config)),
      lock_(std::move(lock)),
      logger_(log::get("gateway")),
      work_(boost::asio::make_work_guard(io_)),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      shutdown_deadline_(io_) {}

int Daemon::run() {
  wait_for_signal();
  logger_->info("edgegw started: id={} data_dir={} sources={} devices={} io_threads={}",
                config_.gateway.id, config_.gateway.data_dir, config_.sources.size(),
                config_.devices.size(), io_threads());

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < io_threads(); ++i) pool.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : pool) t.join();

  logger_->info("edgegw stopped");
  log::flush();
  return 0;
}

void Daemon::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (ec) return;  // cancelled at shutdown
    on_signal(signal_number);
    wait_for_signal();
  });
}

void Daemon::on_signal(int signal_number) {
  if (signal_number == SIGHUP) {
    reload();
    return;
  }
  begin_shutdown(signal_number);
}

void Daemon::reload() {
  logger_->info("SIGHUP: reloading {}", config_.path);
  config::LoadResult loaded = config::load_file(config_.path);
  if (!loaded.config) {
    logger_->error("reload refused: {} has {} error(s); the running config is kept",
                   config_.path, loaded.errors.size());
    for (const auto& error : loaded.errors) logger_->error("{}", error.to_string());
    return;
  }
  config::Config next = std::move(*loaded.config);
  if (next.gateway.data_dir != config_.gateway.data_dir) {
    logger_->warn("reload: gateway.data_dir changed; it takes effect at the next restart");
    next.gateway.data_dir = config_.gateway.data_dir;
  }
  apply_logging(next);
  config_ = std::move(next);
  logger_->info("config reloaded");
}

void Daemon::begin_shutdown(int signal_number) {
  if (stopping_) {
    logger_->warn("{} again: stopping now", signal_name(signal_number));
    io_.stop();
    return;
  }
  stopping_ = true;
  logger_->info("{}: stopping (at most {} ms)", signal_name(signal_number),
                config_.gateway.shutdown_timeout.count());
  shutdown_deadline_.expires_after(config_.gateway.shutdown_timeout);
  shutdown_deadline_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    logger_->warn("shutdown_timeout reached: stopping with work still in flight");
    io_.stop();
  });
  // Components stop here, in order: sources, then the forwarder's in-flight batches, then the
  // buffer. Each finishes asynchronously and the last one calls finish_shutdown().
  boost::asio::post(io_, [this] { finish_shutdown(); });
}

void Daemon::finish_shutdown() {
  shutdown_deadline_.cancel();
  signals_.cancel();
  work_.reset();  // io_.run() returns once nothing is left to do
}

}  // namespace edgegw::app
