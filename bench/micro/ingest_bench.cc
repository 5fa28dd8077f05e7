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

// A buffer without fsync in a new `dir`.
std::unique_ptr<buffer::Buffer> open_buffer(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  buffer::Options o;
  o.path = (dir / "buffer").string();
  o.sync = buffer::SyncMode::kNone;
  o.max_bytes = 8ULL << 30;
  return std::move(buffer::Buffer::open(o)).value();
}

void BM_IngestTimes(benchmark::State& state) {
  const auto kind = static_cast<std::size_t>(state.range(0));
  log::init(log::Format::kText, log::Level::err);  // the stamp's rate-limited warning is off
  const auto dir = std::filesystem::temp_directory_path() / "edgegw-bench-ingest";
  auto buffer = open_buffer(dir);
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

// One round of the modbus source as its bench polls it (plugins/modbus, bench/e2e/modbus_bench.cc):
// 4 units of 20 f32 points, the 4 polls in one append, each unit's poll
//   0 one tago_json array with the poll's time (the plugin's JSON before plugin ABI 1.5)
//   1 typed readings (ABI 1.5: what the modbus source hands over now)
// Items are readings.
void BM_IngestPollRound(benchmark::State& state) {
  const bool typed = state.range(0) == 1;
  constexpr int kUnits = 4, kPoints = 20;
  log::init(log::Format::kText, log::Level::err);
  const auto dir = std::filesystem::temp_directory_path() / "edgegw-bench-ingest-round";
  auto buffer = open_buffer(dir);
  std::vector<config::DeviceConfig> devices;
  std::vector<buffer::DeviceId> ids;
  std::vector<std::string> payloads;
  std::vector<std::string> names;
  std::vector<TypedReading> readings;
  for (int i = 0; i < kPoints; ++i) names.push_back("p" + std::to_string(i));
  for (int u = 0; u < kUnits; ++u) {
    config::DeviceConfig& d = devices.emplace_back();
    d.key = "meter-" + std::to_string(u);
    ids.push_back(*buffer->register_device(d.key));
    std::string p = "[";
    for (int i = 0; i < kPoints; ++i) {
      const std::string value = std::to_string(12.04 + u + i * 0.37).substr(0, 7);
      if (i > 0) p += ',';
      p += R"({"variable":")" + names[i] + R"(","value":)" + value + R"(,"unit":"V"})";
      readings.push_back({names[i], std::stod(value), "V", {}});
    }
    payloads.push_back(p + "]");
  }
  ingest::Mapping mapping;
  mapping.store(std::make_shared<const ingest::MappingTable>(devices, ids, std::nullopt,
                                                             ingest::TimeRules{}));
  config::SourceConfig source;
  source.name = "plant";
  source.format = decode::Format::kTagoJson;
  ingest::Pipeline pipeline(source, mapping, *buffer, nullptr);
  std::vector<RawMessage> messages;
  std::vector<TypedMessage> typed_messages;
  for (int u = 0; u < kUnits; ++u) {
    messages.push_back(RawMessage{"plant", devices[u].key, {}, payloads[u], kArrival});
    typed_messages.push_back(
        {devices[u].key, std::span(readings).subspan(u * kPoints, kPoints), kArrival});
  }
  for (auto _ : state) {
    const Status st = typed ? pipeline.append(std::span<const TypedMessage>(typed_messages))
                            : pipeline.append(messages);
    if (!st) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kUnits * kPoints));
  buffer.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_IngestPollRound)->ArgNames({"typed"})->DenseRange(0, 1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
