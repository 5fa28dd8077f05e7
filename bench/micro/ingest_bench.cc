// SPDX-License-Identifier: Apache-2.0
// What judging the devices' own times (cloud.implausible_time, ingest/time_check.h) costs the
// ingest path: Pipeline::append of 10 readings per call into a buffer without fsync, the
// readings' times being
//   0 none (the gateway stamps them: nothing to judge)          the baseline of the same run
//   1 the device's own, plausible (judged: two comparisons)
//   2 the device's own, before 2000, policy stamp (every reading rewritten, metadata added)
//   3 the device's own, before 2000, policy keep (counted only)
// and what a provisioned device's lookup costs (BM_IngestDevice: the same appends, the device
//   0 in devices: (the mapping's own table)                     the baseline of the same run
//   1 provisioned (unmapped: provision: the provisioner's map, after the configured miss)
// Compare the rows of one run (the machine is shared and noisy):
//   build/release/bench/micro/ingest_bench --benchmark_repetitions=10
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "buffer/buffer.h"
#include "forward/forwarder.h"
#include "ingest/pipeline.h"
#include "log/log.h"
#include "provision/provisioner.h"

namespace {

using namespace edgegw;

constexpr std::size_t kPerCall = 10;
constexpr std::int64_t kArrival = 1'764'072'000'000;  // 2025-11-25T12:00:00Z

const std::string kPayloads[] = {
    R"({"variable":"temperature","value":21.53,"unit":"C","group":"g-000001"})",
    R"({"variable":"temperature","value":21.53,"unit":"C","time":"2025-11-25T11:59:59.000Z","group":"g-000001"})",
    R"({"variable":"temperature","value":21.53,"unit":"C","time":"1970-01-01T00:01:00.000Z","group":"g-000001"})",
    R"({"variable":"temperature","value":21.53,"unit":"C","time":"1970-01-01T00:01:00.000Z","group":"g-000001"})",
};

void BM_IngestTimes(benchmark::State& state) {
  const auto kind = static_cast<std::size_t>(state.range(0));
  log::init(log::Format::kText, log::Level::err);  // the stamp's rate-limited warning is off
  const auto dir = std::filesystem::temp_directory_path() / "edgegw-bench-ingest";
  std::filesystem::remove_all(dir);
  buffer::Options o;
  o.path = (dir / "buffer").string();
  o.sync = buffer::SyncMode::kNone;
  o.max_bytes = 8ULL << 30;
  auto buffer = std::move(buffer::Buffer::open(o)).value();
  config::DeviceConfig device;
  device.key = "device-0";
  const std::vector<buffer::DeviceId> ids{*buffer->register_device(device.key)};
  ingest::Mapping mapping;
  ingest::TimeRules rules;
  rules.policy = kind == 3 ? config::TimePolicy::kKeep : config::TimePolicy::kStamp;
  mapping.store(std::make_shared<const ingest::MappingTable>(
      std::vector<config::DeviceConfig>{device}, ids, std::nullopt, rules));
  config::SourceConfig source;
  source.name = "plant";
  source.format = decode::Format::kTagoJson;
  ingest::Pipeline pipeline(source, mapping, *buffer, nullptr);
  const std::vector<RawMessage> messages(
      kPerCall, RawMessage{"plant", "device-0", {}, kPayloads[kind], kArrival});
  for (auto _ : state) {
    if (!pipeline.append(messages)) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPerCall));
  buffer.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_IngestTimes)->ArgNames({"times"})->DenseRange(0, 3)->UseRealTime();

void BM_IngestDevice(benchmark::State& state) {
  const bool provisioned = state.range(0) == 1;
  log::init(log::Format::kText, log::Level::err);
  const auto dir = std::filesystem::temp_directory_path() / "edgegw-bench-ingest-device";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  config::Config config;
  config.gateway.id = "bench";
  config.gateway.data_dir = dir.string();
  config.cloud.url = "http://127.0.0.1:9";  // never asked: the io_context does not run
  config.unmapped.reject = false;
  config.unmapped.provision = true;
  config.cloud.provisioning.set = true;
  buffer::Options o;
  o.path = (dir / "buffer").string();
  o.sync = buffer::SyncMode::kNone;
  o.max_bytes = 8ULL << 30;
  auto buffer = std::move(buffer::Buffer::open(o)).value();
  boost::asio::io_context io;
  auto client = std::move(forward::HttpClient::create(io, *forward::parse_url(config.cloud.url), {},
                                                      config.cloud.timeout))
                    .value();
  forward::Forwarder forwarder(io, *buffer, config.cloud, std::move(client));
  auto provisioner =
      std::move(provision::Provisioner::create(io, *buffer, forwarder, config)).value();
  config::DeviceConfig device;
  device.key = "device-0";
  std::vector<config::DeviceConfig> devices;
  std::vector<buffer::DeviceId> ids;
  if (!provisioned) {
    devices.push_back(device);
    ids.push_back(*buffer->register_device(device.key));
  }
  config.devices = devices;
  provisioner->configure(config);
  ingest::Mapping mapping;
  mapping.store(std::make_shared<const ingest::MappingTable>(
      devices, ids, std::nullopt, ingest::TimeRules{}, provisioner.get()));
  config::SourceConfig source;
  source.name = "plant";
  source.format = decode::Format::kTagoJson;
  ingest::Pipeline pipeline(source, mapping, *buffer, nullptr);
  const std::vector<RawMessage> messages(
      kPerCall, RawMessage{"plant", "device-0", {}, kPayloads[0], kArrival});
  if (!pipeline.append(messages)) state.SkipWithError("append failed");  // first sight
  for (auto _ : state) {
    if (!pipeline.append(messages)) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPerCall));
  provisioner.reset();
  buffer.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_IngestDevice)->ArgNames({"provisioned"})->DenseRange(0, 1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
