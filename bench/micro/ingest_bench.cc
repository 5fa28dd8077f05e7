// SPDX-License-Identifier: Apache-2.0
// What judging the devices' own times (cloud.implausible_time, ingest/time_check.h) costs the
// ingest path: Pipeline::append of 10 readings per call into a buffer without fsync, the
// readings' times being
//   0 none (the gateway stamps them: nothing to judge)          the baseline of the same run
//   1 the device's own, plausible (judged: two comparisons)
//   2 the device's own, before 2000, policy stamp (every reading rewritten, metadata added)
//   3 the device's own, before 2000, policy keep (counted only)
// Compare the rows of one run (the machine is shared and noisy):
//   build/release/bench/micro/ingest_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "buffer/buffer.h"
#include "ingest/pipeline.h"
#include "log/log.h"

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

}  // namespace

BENCHMARK_MAIN();
