// SPDX-License-Identifier: Apache-2.0
// What the metrics cost the hot path. The ingest path (decode, map, encode, one buffer append per
// call: Pipeline::append) with and without the metrics running — an HTTP endpoint on the same
// buffer, a runway sampler, and a scraper collecting and serialising everything every 100 ms
// (150 times Prometheus's usual 15 s) — plus the cost of one scrape and of the per-request
// histograms. The counters a reading bumps exist either way (relaxed atomics, once per call):
// the metrics read them at scrape time, so with and without should be equal within noise.
// Compare the two BM_Ingest rows of the same run (the machine is shared and noisy):
//   build/release/bench/micro/metrics_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one line)
#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "buffer/buffer.h"
#include "forward/forwarder.h"
#include "forward/url.h"
#include "ingest/pipeline.h"
#include "log/log.h"
#include "metrics/metrics.h"

namespace {

using namespace edgegw;

// A 120-byte reading, as in the design's appendix.
const std::string kPayload =
    R"({"variable":"temperature","value":21.53,"unit":"C","time":"2026-11-25T12:00:00.000Z","group":"g-000001"})";
constexpr std::size_t kPerCall = 10;

std::string fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("edgegw-bench-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// A gateway's parts without its threads: buffer, device map, a forwarder that is never started.
struct Gateway {
  explicit Gateway(int devices) {
    log::init(log::Format::kText, log::Level::warn);
    buffer::Options o;
    o.path = fresh_dir("metrics") + "/buffer";
    o.sync = buffer::SyncMode::kNone;
    o.max_bytes = 8ULL << 30;
    buffer = std::move(buffer::Buffer::open(o)).value();
    std::vector<config::DeviceConfig> configs;
    std::vector<buffer::DeviceId> ids;
    for (int i = 0; i < devices; ++i) {
      config::DeviceConfig d;
      d.key = "device-" + std::to_string(i);
      ids.push_back(*buffer->register_device(d.key));
      configs.push_back(std::move(d));
    }
    mapping.store(std::make_shared<const ingest::MappingTable>(configs, ids, std::nullopt));
    config.metrics.listen = "127.0.0.1:0";
    config.metrics.per_device = false;
    auto client = forward::HttpClient::create(io, *forward::parse_url("http://127.0.0.1:9"),
                                              config.cloud.tls, config.cloud.timeout);
    forwarder =
        std::make_unique<forward::Forwarder>(io, *buffer, config.cloud, std::move(client).value());
    source.name = "plant";
    source.plugin = "mqtt";
    source.format = decode::Format::kTagoJson;
    stats = std::make_shared<ingest::SourceStats>();
    pipeline = std::make_unique<ingest::Pipeline>(source, mapping, *buffer, stats);
  }
  ~Gateway() {
    metrics.reset();
    pipeline.reset();
    forwarder.reset();
    buffer.reset();
    std::filesystem::remove_all(std::filesystem::temp_directory_path() / "edgegw-bench-metrics");
  }
  void start_metrics() {
    metrics = metrics::Metrics::start(config, {*buffer, *forwarder, daemon}, {"0", "1.0", "x"});
    metrics->set_sources({{"plant", "mqtt", "1.0.0", "1.0", "tago_json", stats}});
  }

  boost::asio::io_context io;
  config::Config config;
  std::unique_ptr<buffer::Buffer> buffer;
  ingest::Mapping mapping;
  std::unique_ptr<forward::Forwarder> forwarder;
  config::SourceConfig source;
  std::shared_ptr<ingest::SourceStats> stats;
  std::unique_ptr<ingest::Pipeline> pipeline;
  metrics::DaemonStats daemon;
  std::unique_ptr<metrics::Metrics> metrics;
};

// Arg: 0 without metrics, 1 with metrics running and scraped every 100 ms.
void BM_Ingest(benchmark::State& state) {
  const bool with_metrics = state.range(0) != 0;
  Gateway gw(8);
  std::atomic<bool> done{false};
  std::thread scraper;
  std::size_t scrapes = 0;
  if (with_metrics) {
    gw.start_metrics();
    scraper = std::thread([&] {
      while (!done) {
        gw.metrics->sample();
        benchmark::DoNotOptimize(gw.metrics->scrape());
        ++scrapes;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  std::vector<RawMessage> messages;
  for (std::size_t i = 0; i < kPerCall; ++i) {
    const std::string_view device = i % 2 == 0 ? "device-0" : "device-1";
    messages.push_back(RawMessage{"plant", device, {}, kPayload, 1'764'072'000'000});
  }
  for (auto _ : state) {
    if (!gw.pipeline->append(messages)) state.SkipWithError("append failed");
  }
  done = true;
  if (scraper.joinable()) scraper.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPerCall));
  state.counters["scrapes"] = static_cast<double>(scrapes);
}
BENCHMARK(BM_Ingest)->ArgNames({"metrics"})->Arg(0)->Arg(1)->UseRealTime();

// One scrape: read every counter, build the families, serialise them.
// Args: devices, per_device.
void BM_Scrape(benchmark::State& state) {
  Gateway gw(static_cast<int>(state.range(0)));
  gw.config.metrics.per_device = state.range(1) != 0;
  gw.start_metrics();
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = gw.metrics->scrape();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Scrape)
    ->ArgNames({"devices", "per_device"})
    ->Args({10, 0})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMicrosecond);

// The histograms' cost per request (once per POST of up to batch.max_readings readings).
void BM_ObserveRequest(benchmark::State& state) {
  metrics::RequestHistograms histograms;
  for (auto _ : state) histograms.on_request(200, std::chrono::milliseconds(40), 500);
}
BENCHMARK(BM_ObserveRequest);

}  // namespace

BENCHMARK_MAIN();
