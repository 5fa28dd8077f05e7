// SPDX-License-Identifier: Apache-2.0
#include "metrics/metrics.h"

#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <iterator>

#include "core/bug.h"
#include "core/clock_sync.h"
#include "log/log.h"

namespace edgegw::metrics {

namespace {

std::string_view help_of(std::string_view name) {
  for (const Description& d : catalogue()) {
    if (d.name == name) return d.help;
  }
  return {};
}

prometheus::Histogram& histogram(prometheus::Registry& registry, const char* name,
                                 std::span<const double> buckets) {
  return prometheus::BuildHistogram()
      .Name(name)
      .Help(std::string(help_of(name)))
      .Register(registry)
      .Add({}, prometheus::Histogram::BucketBoundaries(buckets.begin(), buckets.end()));
}

}  // namespace

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RequestHistograms::RequestHistograms()
    : registry_(std::make_shared<prometheus::Registry>()),
      duration_(
          &histogram(*registry_, "edgegw_forward_request_duration_seconds", kDurationBuckets)),
      batch_(&histogram(*registry_, "edgegw_forward_batch_readings", kBatchBuckets)) {}

RequestHistograms::~RequestHistograms() = default;

void RequestHistograms::on_request(int, std::chrono::steady_clock::duration elapsed,
                                   std::size_t readings) {
  duration_->Observe(std::chrono::duration<double>(elapsed).count());
  batch_->Observe(static_cast<double>(readings));
}

std::vector<prometheus::MetricFamily> RequestHistograms::collect() const {
  return registry_->Collect();
}

Metrics::Metrics(const config::Config& config, Inputs inputs, BuildInfo build)
    : inputs_(inputs),
      listen_(config.metrics.listen),
      build_(std::move(build)),
      buffer_max_bytes_(config.buffer.max_bytes),
      start_ms_(unix_ms()),
      per_device_(config.metrics.per_device) {}

Metrics::~Metrics() = default;

std::unique_ptr<Metrics> Metrics::start(const config::Config& config, Inputs inputs,
                                        BuildInfo build) {
  std::unique_ptr<Metrics> m(new Metrics(config, inputs, std::move(build)));
  if (Status s = m->try_listen(); !s) {
    log::get("metrics")->error(
        "{}; running without /metrics, /healthz and /readyz, trying again "
        "every {} s",
        s.message(), kListenRetry.count());
  }
  return m;
}

Status Metrics::try_listen() {
  std::lock_guard lock(server_mu_);
  if (server_) return Status::ok();
  auto server =
      HttpServer::start(listen_, {[this] { return scrape(); }, [this] { return not_ready(); }});
  if (!server) return server.status();
  server_ = std::move(server).value();
  return Status::ok();
}

std::string Metrics::address() const {
  std::lock_guard lock(server_mu_);
  return server_ ? server_->address() : std::string();
}

void Metrics::start_sampling(boost::asio::any_io_executor executor) {
  timer_ = std::make_unique<boost::asio::steady_timer>(std::move(executor));
  sampling_ = true;
  sample();
  struct Tick {
    Metrics* self;
    void operator()(const boost::system::error_code& ec) const {
      if (ec || !self->sampling_) return;
      self->sample();
      if (++self->ticks_ % kListenRetry.count() == 0 && self->address().empty()) {
        if (self->try_listen()) {
          log::get("metrics")->info("metrics: now listening on http://{}/metrics", self->address());
        }
      }
      self->timer_->expires_after(std::chrono::seconds(1));
      self->timer_->async_wait(*this);
    }
  };
  timer_->expires_after(std::chrono::seconds(1));
  timer_->async_wait(Tick{this});
}

void Metrics::stop_sampling() {
  sampling_ = false;
  if (timer_) timer_->cancel();
}

void Metrics::sample() {
  const buffer::Stats b = inputs_.buffer.stats();
  const forward::ForwarderStats f = inputs_.forwarder.stats();
  std::lock_guard lock(mu_);
  runway_.add(
      {Runway::Clock::now(), b.appended, f.readings_forwarded + f.readings_dead_lettered, b.bytes});
}

void Metrics::set_sources(std::vector<SourceInfo> sources) {
  std::lock_guard lock(mu_);
  sources_ = std::move(sources);
}

std::optional<std::string> Metrics::not_ready() const {
  switch (state_.load()) {
    case State::kStarting:
      return "starting";
    case State::kReady:
      return std::nullopt;
    case State::kStopping:
      return "shutting down";
  }
  return "unknown";
}

std::vector<prometheus::MetricFamily> Metrics::collect() const {
  const bool per_device = per_device_.load(std::memory_order_relaxed);
  Snapshot s;
  s.now_ms = unix_ms();
  s.build = build_;
  s.start_ms = start_ms_;
  s.clock_synchronised = core::system_clock_synchronised();
  s.buffer = inputs_.buffer.stats();
  s.buffer_max_bytes = buffer_max_bytes_;
  if (per_device) s.devices = inputs_.buffer.device_stats();
  s.forward = inputs_.forwarder.stats();
  if (inputs_.actions != nullptr) {
    s.actions = inputs_.actions->action_stats();
    s.analyses = inputs_.actions->analysis_stats();
  }
  if (inputs_.provisioning != nullptr) s.provisioning = inputs_.provisioning->stats();
  const DaemonStats& d = inputs_.daemon;
  s.reloads = d.reloads.load(std::memory_order_relaxed);
  s.reload_failures = d.reload_failures.load(std::memory_order_relaxed);
  s.source_start_failures = d.source_start_failures.load(std::memory_order_relaxed);
  s.bugs = core::bugs_reported();
  s.last_reload_ok = d.last_reload_ok.load(std::memory_order_relaxed);
  s.last_reload_ok_ms = d.last_reload_ok_ms.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    s.sources = sources_;
    s.runway = runway_.estimate(s.buffer.readings, s.buffer.bytes, buffer_max_bytes_);
  }
  std::vector<prometheus::MetricFamily> out = families(s, per_device);
  std::vector<prometheus::MetricFamily> histograms = histograms_.collect();
  out.insert(out.end(), std::make_move_iterator(histograms.begin()),
             std::make_move_iterator(histograms.end()));
  return out;
}

std::string Metrics::scrape() const { return prometheus::TextSerializer().Serialize(collect()); }

}  // namespace edgegw::metrics
