// SPDX-License-Identifier: Apache-2.0
// What evaluating actions costs the ingest path (issue 20): Pipeline::append of 10 readings per
// call into a buffer without fsync, with
//   0 no actions (no engine in the buffer's hooks)                 the baseline of the same run
//   1 the engine in the hooks, no action configured (what the daemon runs when actions: is
//       empty: the appenders then collect each reading's variable for the hooks)
//   100 a hundred actions: ten on each of ten variables (the readings' among them), with a
//       reset condition, watching every device; none fires (a threshold no reading reaches), so
//       each reading pays the lookup and ten comparisons of its decoded number
//   101 the same hundred, and one more on the readings' variable that fires on every reading
//       (a job written with each reading: the most an action can cost)
// Compare the medians of the rows of one run, their repetitions interleaved at random (the
// machine is shared and noisy: rows run one after the other drift apart by 5-15%):
//   build/release/bench/micro/actions_bench --benchmark_repetitions=10
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "actions/engine.h"
#include "buffer/buffer.h"
#include "ingest/pipeline.h"
#include "log/log.h"

namespace {

using namespace edgegw;

constexpr std::size_t kPerCall = 10;
constexpr std::int64_t kArrival = 1'764'072'000'000;  // 2025-11-25T12:00:00Z

config::Condition threshold(std::string variable, config::ConditionOp op, double value) {
  config::Condition c;
  c.variable = std::move(variable);
  c.op = op;
  c.value = std::to_string(value);
  c.number = value;
  return c;
}

std::vector<config::ActionConfig> hundred_actions(bool one_fires) {
  std::vector<config::ActionConfig> actions;
  const char* variables[] = {"temperature", "humidity", "pressure", "flow",  "level",
                             "speed",       "current",  "voltage",  "power", "state"};
  for (int i = 0; i < 100; ++i) {
    config::ActionConfig a;
    a.name = "action-" + std::to_string(i);
    const std::string variable = variables[i % 10];
    a.when_set = threshold(variable, config::ConditionOp::kGreater, 1000 + i);
    a.when_reset = threshold(variable, config::ConditionOp::kLess, 900);
    actions.push_back(std::move(a));
  }
  if (one_fires) {
    config::ActionConfig a;
    a.name = "every-reading";
    a.when_set = threshold("temperature", config::ConditionOp::kGreater, 0);
    a.max_queued = 1'000'000'000;
    actions.push_back(std::move(a));
  }
  return actions;
}

void BM_IngestActions(benchmark::State& state) {
  const auto actions = state.range(0);
  log::init(log::Format::kText, log::Level::err);
  const auto dir = std::filesystem::temp_directory_path() / "edgegw-bench-actions";
  std::filesystem::remove_all(dir);
  buffer::Options o;
  o.path = (dir / "buffer").string();
  o.sync = buffer::SyncMode::kNone;
  o.max_bytes = 8ULL << 30;
  auto buffer = std::move(buffer::Buffer::open(o)).value();
  config::DeviceConfig device;
  device.key = "device-0";
  const buffer::DeviceId id = *buffer->register_device(device.key);
  if (actions >= 1) {
    auto engine = std::make_unique<actions::Engine>(*buffer);
    if (!engine->load()) state.SkipWithError("engine load failed");
    const std::vector<std::pair<buffer::DeviceId, std::string>> devices{{id, device.key}};
    const auto configured =
        actions == 1 ? std::vector<config::ActionConfig>{} : hundred_actions(actions == 101);
    if (!engine->configure(configured, devices)) {
      state.SkipWithError("configure failed");
    }
    buffer->add_write_hook(std::move(engine));
  }
  ingest::Mapping mapping;
  mapping.store(std::make_shared<const ingest::MappingTable>(
      std::vector<config::DeviceConfig>{device}, std::vector<buffer::DeviceId>{id}, std::nullopt,
      ingest::TimeRules{}));
  config::SourceConfig source;
  source.name = "plant";
  source.format = decode::Format::kTagoJson;
  ingest::Pipeline pipeline(source, mapping, *buffer, nullptr);
  const std::vector<RawMessage> messages(
      kPerCall, RawMessage{"plant",
                           "device-0",
                           {},
                           R"({"variable":"temperature","value":21.53,"unit":"C"})",
                           kArrival});
  for (auto _ : state) {
    if (!pipeline.append(messages)) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPerCall));
  buffer.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_IngestActions)
    ->ArgNames({"actions"})
    ->Arg(0)
    ->Arg(1)
    ->Arg(100)
    ->Arg(101)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
