#include "app/daemon.h"

#include <algorithm>
#include <csignal>

#include <boost/asio/post.hpp>

#include "config/loader.h"

namespace edgegw::app {

namespace {

log::Level to_log_level(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kTrace:
      return log::Level::trace;
    case config::LogLevel::kDebug:
      return log::Level::debug;
    case config::LogLevel::kInfo:
      return log::Level::info;
    case config::LogLevel::kWarn:
      return log::Level::warn;
    case config::LogLevel::kError:
      return log::Level::err;
  }
  return log::Level::info;
}

const char* signal_name(int signal_number) {
  switch (signal_number) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal";
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

Daemon::Daemon(config::Config config, DataDirLock lock, std::unique_ptr<buffer::Buffer> buffer)
    : config_(std::move(config)),
      lock_(std::move(lock)),
      buffer_(std::move(buffer)),
      logger_(log::get("gateway")),
      work_(boost::asio::make_work_guard(io_)),
      strand_(boost::asio::make_strand(io_)),
      signals_(strand_, SIGTERM, SIGINT, SIGHUP),
      shutdown_deadline_(strand_),
      expiry_timer_(strand_) {}

Status Daemon::init() {
  auto url = forward::parse_url(config_.cloud.url);
  if (!url) return url.status();
  auto client = forward::HttpClient::create(io_, std::move(url).value(), config_.cloud.tls,
                                            config_.cloud.timeout);
  if (!client) return client.status();
  forwarder_ =
      std::make_unique<forward::Forwarder>(io_, *buffer_, config_.cloud, std::move(client).value());
  apply_devices();
  buffer_->set_on_append([this](buffer::DeviceId id) { forwarder_->notify(id); });
  return Status::ok();
}

void Daemon::apply_devices() {
  for (const auto& device : config_.devices) {
    auto id = buffer_->register_device(device.key);
    if (!id) {
      logger_->error("device {}: {}", device.key, id.status().message());
      continue;
    }
    forwarder_->set_device(*id, device.key, device.token);
  }
}

int Daemon::run() {
  wait_for_signal();
  schedule_expiry();
  forwarder_->start();
  const buffer::Stats stats = buffer_->stats();
  logger_->info("edgegw started: id={} data_dir={} sources={} devices={} io_threads={}",
                config_.gateway.id, config_.gateway.data_dir, config_.sources.size(),
                config_.devices.size(), io_threads());
  logger_->info("buffer: {} reading(s), {} byte(s) waiting; {} dead letter(s)", stats.readings,
                stats.bytes, stats.dead_letters);

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
    logger_->error("reload refused: {} has {} error(s); the running config is kept", config_.path,
                   loaded.errors.size());
    for (const auto& error : loaded.errors) logger_->error("{}", error.to_string());
    return;
  }
  config::Config next = std::move(*loaded.config);
  if (next.gateway.data_dir != config_.gateway.data_dir) {
    logger_->warn("reload: gateway.data_dir changed; it takes effect at the next restart");
    next.gateway.data_dir = config_.gateway.data_dir;
  }
  // Said before the new log level applies, so that it is seen whatever that level is.
  logger_->info("config reloaded (log_level: {})", config::to_string(next.gateway.log_level));
  apply_logging(next);
  config_ = std::move(next);
  apply_devices();  // new devices get lanes; a new token releases a held lane
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
  // Components stop in order: sources (nothing new comes in), then the forwarder finishes its
  // in-flight batches; the buffer closes when the daemon is destroyed. Whatever is not done by
  // the deadline stays in the buffer for the next start.
  forwarder_->stop([this] { boost::asio::post(strand_, [this] { finish_shutdown(); }); });
}

void Daemon::schedule_expiry() {
  // Often enough that nothing outlives max_age by more than a tenth of it; at most once a second.
  const auto interval = std::clamp<std::chrono::milliseconds>(
      config_.buffer.max_age / 10, std::chrono::seconds(1), std::chrono::minutes(1));
  expiry_timer_.expires_after(interval);
  expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    auto dropped = buffer_->expire();
    if (!dropped) {
      logger_->error("buffer expiry failed: {}", dropped.status().message());
    } else if (*dropped > 0) {
      logger_->warn("buffer: dropped {} reading(s) older than buffer.max_age ({} ms)", *dropped,
                    config_.buffer.max_age.count());
    }
    schedule_expiry();
  });
}

void Daemon::finish_shutdown() {
  expiry_timer_.cancel();
  shutdown_deadline_.cancel();
  signals_.cancel();
  work_.reset();  // io_.run() returns once nothing is left to do
}

}  // namespace edgegw::app
