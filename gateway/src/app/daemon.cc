// SPDX-License-Identifier: Apache-2.0
#include "app/daemon.h"

#include <algorithm>
#include <csignal>

#include <boost/asio/post.hpp>

#include "app/buffer_commands.h"
#include "app/version.h"
#include "config/loader.h"
#include "core/clock_sync.h"
#include "core/cpus.h"
#include "edgegw/plugin.h"

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

// A source whose plugin must be restarted when it changes like this.
bool same_source(const config::SourceConfig& a, const config::SourceConfig& b) {
  return a.plugin == b.plugin && a.format == b.format && a.variable == b.variable &&
         a.config_json == b.config_json;
}

// The cloud.* keys the forwarder reads at start only that differ, "cloud.url, cloud.batch", or "".
std::string cloud_keys_changed(const config::CloudConfig& a, const config::CloudConfig& b) {
  std::string keys;
  const auto check = [&keys](bool same, const char* name) {
    if (same) return;
    if (!keys.empty()) keys += ", ";
    keys += name;
  };
  check(a.url == b.url, "cloud.url");
  check(a.timeout == b.timeout, "cloud.timeout");
  check(a.max_in_flight == b.max_in_flight, "cloud.max_in_flight");
  check(a.requests_per_minute == b.requests_per_minute, "cloud.requests_per_minute");
  check(a.tls == b.tls, "cloud.tls");
  check(a.batch == b.batch, "cloud.batch");
  check(a.retry == b.retry, "cloud.retry");
  check(a.drain == b.drain, "cloud.drain");
  check(a.fresh_after == b.fresh_after, "cloud.fresh_after");
  check(a.clock_wait == b.clock_wait, "cloud.clock_wait");
  return keys;
}

// One per CPU the service may use (systemd's CPUAffinity=, a container's cpuset).
unsigned io_threads() { return core::usable_cpu_count(); }

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

// What runs handlers on io_ (the forwarder's timers and sockets, the sources that call into the
// buffer, the metrics) goes while io_ still exists: members are destroyed in reverse order of
// declaration, and io_ is declared after them.
Daemon::~Daemon() {
  metrics_.reset();
  sources_.clear();
  if (provisioner_) provisioner_->set_on_device(nullptr);
  actions_.reset();
  control_.reset();
  provisioner_.reset();
  forwarder_.reset();
}

Status Daemon::init() {
  auto url = forward::parse_url(config_.cloud.url);
  if (!url) return url.status();
  if (url->tls && !config_.cloud.tls.verify) {
    logger_->warn(
        "cloud.tls.verify is false: the cloud's certificate and host name are NOT verified; "
        "anyone on the path can read the device tokens and forge the cloud's answers");
  }
  auto client = forward::HttpClient::create(forward_io_, std::move(url).value(), config_.cloud.tls,
                                            config_.cloud.timeout);
  if (!client) return client.status();
  forwarder_ = std::make_unique<forward::Forwarder>(forward_io_, *buffer_, config_.cloud,
                                                    std::move(client).value());
  auto provisioner = provision::Provisioner::create(io_, *buffer_, *forwarder_, config_);
  if (!provisioner) return provisioner.status();
  provisioner_ = std::move(provisioner).value();
  // A provisioned device is watched by the actions that name it (or all devices) like a
  // configured one (actions_ is made below, before apply_devices() provisions anything).
  provisioner_->set_on_device([this](buffer::DeviceId id, const std::string& key) {
    if (!actions_) return;
    if (Status s = actions_->add_device(id, key); !s) {
      logger_->error("actions: device {} is not watched: {}", key, s.message());
    }
  });
  auto control =
      ControlServer::start(io_, config_.gateway.data_dir,
                           {{"rotate-token",
                             [this](const std::string& key, ControlServer::Reply reply) {
                               provisioner_->rotate_token(key, std::move(reply));
                             }},
                            {"forget", [this](const std::string& key, ControlServer::Reply reply) {
                               provisioner_->forget(key, std::move(reply));
                             }}});
  if (control) {
    control_ = std::move(control).value();
  } else {  // the readings matter more: the operator's commands then work with it stopped
    logger_->error("{}; edgegw cloud rotate-token and forget need the gateway stopped",
                   control.status().message());
  }
  auto actions = actions::Actions::create(io_, *buffer_, config_.cloud.retry);
  if (!actions) return actions.status();
  actions_ = std::move(actions).value();
  apply_devices();
  if (Status s = actions_->configure(config_, device_ids_); !s) return s;
  buffer_->set_on_append([this](buffer::DeviceId id) { forwarder_->notify(id); });
  const std::string dir = plugin_host::plugin_dir(config_.gateway);
  for (std::size_t i = 0; i < config_.sources.size(); ++i) {
    auto source = plugin_host::Source::create(
        config_.sources[i], i, dir, plugin_host::state_root(config_.gateway), mapping_, *buffer_);
    if (!source) return source.status();
    sources_.push_back(std::move(source).value());
  }
  stats_.last_reload_ok_ms.store(metrics::unix_ms(), std::memory_order_relaxed);
  metrics_ = metrics::Metrics::start(
      config_, {*buffer_, *forwarder_, stats_, actions_.get(), provisioner_.get()},
      {std::string(version()), plugin_host::abi_version_string(EDGEGW_PLUGIN_ABI_VERSION),
       std::string(commit())});
  forwarder_->set_observer(&metrics_->request_observer());
  publish_sources();
  if (const std::string address = metrics_->address(); !address.empty()) {
    logger_->info("metrics: http://{}/metrics, /healthz, /readyz", address);
  }
  return Status::ok();
}

void Daemon::publish_sources() {
  std::vector<metrics::SourceInfo> infos;
  infos.reserve(sources_.size());
  for (const auto& source : sources_) {
    const config::SourceConfig& c = source->config();
    infos.push_back({c.name, c.plugin, std::string(source->plugin_version()),
                     plugin_host::abi_version_string(source->plugin_abi_version()),
                     std::string(decode::format_name(c.format)), source->shared_stats()});
  }
  metrics_->set_sources(std::move(infos));
}

void Daemon::apply_devices() {
  // The configured devices, then (unmapped: {default: {token}}) one catch-all cloud device
  // under a reserved buffer key.
  std::vector<std::string> keys;
  keys.reserve(config_.devices.size() + 1);
  for (const auto& device : config_.devices) keys.push_back(device.key);
  const bool with_default = config_.unmapped.uses_default();
  if (with_default) keys.emplace_back(ingest::kUnmappedDeviceKey);

  // All new devices in one write; should that fail, each on its own, so that one bad write
  // does not unmap the devices the buffer already knows.
  std::vector<std::optional<buffer::DeviceId>> ids(keys.size());
  if (auto all = buffer_->register_devices(keys)) {
    std::copy(all->begin(), all->end(), ids.begin());
  } else {
    logger_->error("cannot register the devices in the buffer: {}", all.status().message());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (auto id = buffer_->register_device(keys[i])) ids[i] = *id;
    }
  }

  device_ids_.clear();
  std::vector<config::DeviceConfig> mapped;
  std::vector<buffer::DeviceId> mapped_ids;
  mapped.reserve(config_.devices.size());
  mapped_ids.reserve(config_.devices.size());
  for (std::size_t i = 0; i < config_.devices.size(); ++i) {
    const config::DeviceConfig& device = config_.devices[i];
    if (!ids[i]) {
      logger_->error("device {}: not registered in the buffer; its readings are refused",
                     device.key);
      continue;
    }
    forwarder_->set_device(*ids[i], device.key, device.token);
    device_ids_.emplace_back(*ids[i], device.key);
    mapped.push_back(device);
    mapped_ids.push_back(*ids[i]);
  }
  std::optional<buffer::DeviceId> default_id;
  if (with_default) {
    default_id = ids.back();
    if (default_id) {
      forwarder_->set_device(*default_id, "(unmapped default)", config_.unmapped.default_token);
    } else {
      logger_->error("unmapped default device: not registered in the buffer");
    }
  }
  mapping_.store(std::make_shared<const ingest::MappingTable>(
      mapped, mapped_ids, default_id, ingest::TimeRules::from(config_.cloud), provisioner_.get()));
  // The provisioned devices (the config's own entries win), and the keys still to provision.
  provisioner_->configure(config_);
}

void Daemon::stop_sources() {
  // In reverse order of start; each stop returns once its plugin no longer calls the host.
  for (auto it = sources_.rbegin(); it != sources_.rend(); ++it) (*it)->stop();
}

namespace {

// Runs an io_context on a thread of its own until it goes out of scope.
class RunningContext {
 public:
  explicit RunningContext(boost::asio::io_context& io)
      : io_(io), work_(boost::asio::make_work_guard(io)), thread_([&io] { io.run(); }) {}
  ~RunningContext() {
    work_.reset();
    io_.stop();  // what is still in flight stays in the buffer, as with a stop of io_
    thread_.join();
  }
  RunningContext(const RunningContext&) = delete;
  RunningContext& operator=(const RunningContext&) = delete;

 private:
  boost::asio::io_context& io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace

int Daemon::run() {
  wait_for_signal();
  schedule_expiry();
  // Stopped once io_ is (after the shutdown's steps, which wait for the forwarder), or at once
  // when the start fails.
  const RunningContext forwarding(forward_io_);
  forwarder_->start();
  // Sources start once the buffer and the forwarder are up: what they append is delivered.
  for (auto& source : sources_) {
    if (Status s = source->start(); !s) {
      logger_->error("cannot start: {}", s.message());
      stats_.source_start_failures.fetch_add(1, std::memory_order_relaxed);
      stop_sources();
      log::flush();
      return 1;
    }
  }
  metrics_->start_sampling(strand_);
  metrics_->set_state(metrics::Metrics::State::kReady);
  const buffer::Stats stats = buffer_->stats();
  logger_->info("edgegw started: id={} data_dir={} sources={} devices={} io_threads={}",
                config_.gateway.id, config_.gateway.data_dir, config_.sources.size(),
                config_.devices.size(), io_threads());
  logger_->info("buffer: {} reading(s), {} byte(s) waiting; {} dead letter(s)", stats.readings,
                stats.bytes, stats.dead_letters);
  switch (core::system_clock_state()) {
    case core::ClockState::kSynchronised:
      break;
    case core::ClockState::kUnsynchronised:
      logger_->warn(
          "the system clock is not synchronised (no time service has reached a server yet): "
          "device times ahead of it are not judged (cloud.future_tolerance) until it is");
      break;
    case core::ClockState::kUnknown:
      logger_->warn(
          "cannot tell whether the system clock is synchronised (adjtimex is not allowed: a "
          "seccomp filter?); device times are judged as if it were");
      break;
  }
  systemd_.ready(running_status());
  systemd_.start_watchdog(strand_, [this] { return running_status(); });

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < io_threads(); ++i) pool.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : pool) t.join();

  logger_->info("edgegw stopped");
  log::flush();
  return 0;
}

std::string Daemon::running_status() const {
  const buffer::Stats s = buffer_->stats();
  const std::int64_t age = s.oldest_stored_ms == 0 ? -1 : metrics::unix_ms() - s.oldest_stored_ms;
  return "running: " + std::to_string(sources_.size()) + " source(s), " +
         std::to_string(config_.devices.size()) + " device(s); " + std::to_string(s.readings) +
         " reading(s) waiting, oldest " + format_age(age);
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
    systemd_.reloading();
    reload();
    systemd_.reloaded(stats_.last_reload_ok.load(std::memory_order_relaxed)
                          ? running_status()
                          : running_status() + "; last reload refused (see the log)");
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
    stats_.reload_failures.fetch_add(1, std::memory_order_relaxed);
    stats_.last_reload_ok.store(false, std::memory_order_relaxed);
    return;
  }
  config::Config next = std::move(*loaded.config);
  if (next.gateway.data_dir != config_.gateway.data_dir) {
    logger_->warn("reload: gateway.data_dir changed; it takes effect at the next restart");
    next.gateway.data_dir = config_.gateway.data_dir;
  }
  if (next.metrics.listen != config_.metrics.listen) {
    logger_->warn("reload: metrics.listen changed; it takes effect at the next restart");
    next.metrics.listen = config_.metrics.listen;
  }
  // The forwarder (and provisioning's Account API client) keep the cloud settings they started
  // with: say which changes wait for a restart instead of ignoring them silently.
  if (const std::string keys = cloud_keys_changed(config_.cloud, next.cloud); !keys.empty()) {
    logger_->warn("reload: {} changed; the forwarder takes it at the next restart", keys);
  }

  // Sources: an unchanged one keeps running; added and changed ones are created (not started)
  // before anything changes, so that a plugin that cannot be loaded keeps the running config.
  const std::string dir = plugin_host::plugin_dir(next.gateway);
  std::vector<std::unique_ptr<plugin_host::Source>> next_sources(next.sources.size());
  std::vector<bool> is_new(next.sources.size(), false);
  for (std::size_t i = 0; i < next.sources.size(); ++i) {
    const config::SourceConfig& wanted = next.sources[i];
    auto running = std::find_if(sources_.begin(), sources_.end(), [&](const auto& s) {
      return s && s->config().name == wanted.name;
    });
    if (running != sources_.end() && same_source((*running)->config(), wanted)) continue;
    auto stats = running != sources_.end() ? (*running)->shared_stats() : nullptr;
    auto created = plugin_host::Source::create(
        wanted, i, dir, plugin_host::state_root(config_.gateway), mapping_, *buffer_, stats);
    if (!created) {
      logger_->error("reload refused: {}; the running config is kept", created.status().message());
      stats_.reload_failures.fetch_add(1, std::memory_order_relaxed);
      stats_.last_reload_ok.store(false, std::memory_order_relaxed);
      return;
    }
    next_sources[i] = std::move(created).value();
    is_new[i] = true;
  }

  // Said before the new log level applies, so that it is seen whatever that level is.
  logger_->info("config reloaded (log_level: {})", config::to_string(next.gateway.log_level));
  apply_logging(next);
  config_ = std::move(next);
  apply_devices();  // new devices get lanes; a new token releases a held lane; the map is swapped
  if (Status s = actions_->configure(config_, device_ids_); !s) {
    // Checked by the config already; what fails here is outside it (a CA file unreadable now).
    logger_->error("reload: the actions keep their previous setup: {}", s.message());
    stats_.reload_failures.fetch_add(1, std::memory_order_relaxed);
  }

  // Stop what is removed or replaced, then start what is new.
  for (std::size_t i = 0; i < config_.sources.size(); ++i) {
    if (is_new[i]) continue;
    for (auto& running : sources_) {
      if (running && running->config().name == config_.sources[i].name) {
        next_sources[i] = std::move(running);
        break;
      }
    }
  }
  for (auto& old : sources_) {
    if (!old) continue;
    const std::string name = old->config().name;
    const bool replaced = std::any_of(config_.sources.begin(), config_.sources.end(),
                                      [&](const auto& s) { return s.name == name; });
    old.reset();  // stops, then destroys
    logger_->info("source {}: {}", name, replaced ? "changed: restarting" : "removed");
  }
  sources_.clear();
  for (std::size_t i = 0; i < next_sources.size(); ++i) {
    if (is_new[i]) {
      if (Status s = next_sources[i]->start(); !s) {
        logger_->error("{}", s.message());
        stats_.source_start_failures.fetch_add(1, std::memory_order_relaxed);
        continue;  // not running; the next reload tries again
      }
    }
    sources_.push_back(std::move(next_sources[i]));
  }
  publish_sources();
  metrics_->set_per_device(config_.metrics.per_device);
  stats_.reloads.fetch_add(1, std::memory_order_relaxed);
  stats_.last_reload_ok.store(true, std::memory_order_relaxed);
  stats_.last_reload_ok_ms.store(metrics::unix_ms(), std::memory_order_relaxed);
}

void Daemon::begin_shutdown(int signal_number) {
  if (stopping_) {
    logger_->warn("{} again: stopping now", signal_name(signal_number));
    io_.stop();
    return;
  }
  stopping_ = true;
  metrics_->set_state(metrics::Metrics::State::kStopping);
  systemd_.stopping(std::string("stopping (") + signal_name(signal_number) + ")");
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
  stop_sources();
  provisioner_->stop();
  actions_->stop();  // running analyses are killed; jobs not done wait in the outbox
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
  control_.reset();  // its pending accept would keep io_ running
  systemd_.stop_watchdog();
  metrics_->stop_sampling();
  expiry_timer_.cancel();
  shutdown_deadline_.cancel();
  signals_.cancel();
  work_.reset();  // io_.run() returns once nothing is left to do
}

}  // namespace edgegw::app
