// SPDX-License-Identifier: Apache-2.0
// The gateway's metrics and health endpoints, in one object the daemon owns:
// - /metrics: the catalogue (catalog.h), read from the components' own counters at scrape time,
//   plus two histograms fed once per cloud request (forward::RequestObserver);
// - /healthz, /readyz (http_server.h);
// - the runway sampler (runway.h): one sample a second on the daemon's strand.
// See gateway/docs/metrics.md for every metric and the alert rules in deploy/prometheus/.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actions/stats.h"
#include "buffer/stats.h"
#include "config/config.h"
#include "edgegw/status.h"
#include "forward/stats.h"
#include "metrics/catalog.h"
#include "metrics/http_server.h"
#include "metrics/runway.h"

namespace prometheus {
class Histogram;
class Registry;
}  // namespace prometheus

namespace edgegw::metrics {

// Buckets of edgegw_forward_request_duration_seconds and edgegw_forward_batch_readings.
inline constexpr double kDurationBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                              1,     2.5,  5,     10,   30,  60};
inline constexpr double kBatchBuckets[] = {1,   5,   10,   25,   50,   100,
                                           250, 500, 1000, 2500, 5000, 10000};

// The two histograms of the forwarder's requests; observed once per request, never per reading.
class RequestHistograms : public forward::RequestObserver {
 public:
  RequestHistograms();
  ~RequestHistograms() override;
  void on_request(int status, std::chrono::steady_clock::duration elapsed,
                  std::size_t readings) override;
  std::vector<prometheus::MetricFamily> collect() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram* duration_ = nullptr;  // owned by the registry
  prometheus::Histogram* batch_ = nullptr;
};

class Metrics {
 public:
  // What the metrics read; each must outlive the Metrics object.
  struct Inputs {
    const buffer::StatsSource& buffer;
    const forward::StatsSource& forwarder;
    const DaemonStats& daemon;
    const actions::StatsSource* actions = nullptr;
    const provision::StatsSource* provisioning = nullptr;
  };
  enum class State { kStarting, kReady, kStopping };

  // Starts the HTTP endpoints on config.metrics.listen. An address that cannot be listened on
  // (in use, not resolvable) does not stop the gateway: delivering readings matters more than
  // showing them. It is logged as an error, Prometheus sees the target down (the EdgegwDown
  // alert), and the sampler tries again every kListenRetry until it listens.
  static std::unique_ptr<Metrics> start(const config::Config& config, Inputs inputs,
                                        BuildInfo build);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  static constexpr std::chrono::seconds kListenRetry{10};

  // Samples the runway every second on `executor` (a strand) until stop_sampling(), which must
  // be called on that same strand. Not yet listening: tries again every kListenRetry.
  void start_sampling(boost::asio::any_io_executor executor);
  void stop_sampling();
  // Takes one runway sample now.
  void sample();

  // The running sources (after start-up and after every reload).
  void set_sources(std::vector<SourceInfo> sources);
  void set_per_device(bool per_device) { per_device_.store(per_device); }
  void set_state(State state) { state_.store(state); }

  // Tries to listen on metrics.listen if not listening yet; the error, or OK.
  Status try_listen();
  // "127.0.0.1:9464" (the real port when the config said 0); empty while not listening.
  std::string address() const;

  forward::RequestObserver& request_observer() { return histograms_; }
  // What GET /metrics answers.
  std::string scrape() const;
  // What the next scrape reports, as prometheus-cpp's families.
  std::vector<prometheus::MetricFamily> collect() const;

 private:
  Metrics(const config::Config& config, Inputs inputs, BuildInfo build);
  std::optional<std::string> not_ready() const;

  Inputs inputs_;
  std::string listen_;
  BuildInfo build_;
  std::uint64_t buffer_max_bytes_;
  std::int64_t start_ms_;
  std::atomic<bool> per_device_;
  std::atomic<State> state_{State::kStarting};
  RequestHistograms histograms_;

  mutable std::mutex mu_;  // scrapes (HTTP threads) vs. sampling and reloads (the strand)
  std::vector<SourceInfo> sources_;
  Runway runway_;

  std::unique_ptr<boost::asio::steady_timer> timer_;  // on the sampling strand
  bool sampling_ = false;
  int ticks_ = 0;

  mutable std::mutex server_mu_;
  std::unique_ptr<HttpServer> server_;  // last: stopped first, while the rest is still there
};

// Wall-clock milliseconds since the Unix epoch.
std::int64_t unix_ms();

}  // namespace edgegw::metrics
