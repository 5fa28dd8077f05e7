// SPDX-License-Identifier: Apache-2.0
// The buffer's append and read+ack rates, each next to a raw RocksDB WriteBatch loop measured in
// the same binary and run: the counter vs_raw is the ratio (this machine is shared and noisy, so
// only same-run ratios mean anything).
//   build/release/bench/micro/buffer_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "buffer/buffer.h"
#include "buffer/key_format.h"
#include "buffer/rocksdb_options.h"

namespace {

using namespace edgegw;

// A 120-byte reading, as in the design's appendix.
const std::string kReading =
    R"({"variable":"temperature","value":21.53,"unit":"C","time":"2026-11-25T12:00:00.000Z","group":"g-000001"})";

std::string fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("edgegw-bench-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Readings/s of a plain loop of RocksDB WriteBatches of 100 puts (no sync), with the buffer's
// own tuning, keys and value sizes: the ceiling any buffer built on RocksDB can reach here.
double raw_rate() {
  static const double rate = [] {
    const std::string dir = fresh_dir("raw");
    rocksdb::Options o(buffer::db_options(), buffer::queue_cf_options());
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(o, dir, &raw).ok()) std::abort();
    std::unique_ptr<rocksdb::DB> db(raw);
    const std::string value(buffer::kValueHeaderSize + kReading.size(), 'x');
    std::uint64_t seq = 0;
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = std::chrono::steady_clock::duration::zero();
    while (elapsed < std::chrono::seconds(1)) {
      rocksdb::WriteBatch batch;
      for (int i = 0; i < 100; ++i) {
        const auto key = buffer::queue_key(1, ++seq);
        (void)batch.Put(rocksdb::Slice(key.data(), key.size()), value);
      }
      if (!db->Write(rocksdb::WriteOptions(), &batch).ok()) std::abort();
      elapsed = std::chrono::steady_clock::now() - start;
    }
    db.reset();
    std::filesystem::remove_all(dir);
    return static_cast<double>(seq) / std::chrono::duration<double>(elapsed).count();
  }();
  return rate;
}

std::unique_ptr<buffer::Buffer> g_buffer;
std::vector<buffer::DeviceId> g_devices;

void open_buffer(buffer::SyncMode sync) {
  buffer::Options o;
  o.path = fresh_dir("buffer");
  o.sync = sync;
  o.max_bytes = 8ULL << 30;
  g_buffer = std::move(buffer::Buffer::open(o)).value();
  g_devices.clear();
  for (int i = 0; i < 8; ++i)
    g_devices.push_back(*g_buffer->register_device("d" + std::to_string(i)));
}

void close_buffer() {
  const std::string path = std::filesystem::temp_directory_path() / "edgegw-bench-buffer";
  g_buffer.reset();
  std::filesystem::remove_all(path);
}

template <buffer::SyncMode kSync>
void setup(const benchmark::State&) {
  raw_rate();  // measured once, before the first buffer benchmark
  open_buffer(kSync);
}
void teardown(const benchmark::State&) { close_buffer(); }

// Args: readings per append call. Threads: producers, each on its own device.
void BM_Append(benchmark::State& state) {
  const auto per_call = static_cast<std::size_t>(state.range(0));
  const buffer::DeviceId device = g_devices[static_cast<std::size_t>(state.thread_index())];
  const std::vector<buffer::Record> records(per_call, buffer::Record{device, kReading});
  for (auto _ : state) {
    if (!g_buffer->append(records)) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * per_call));
  state.counters["vs_raw"] = benchmark::Counter(
      static_cast<double>(state.iterations() * per_call) / raw_rate(), benchmark::Counter::kIsRate);
}

#define APPEND_BENCH(sync, name) \
  BENCHMARK(BM_Append)           \
      ->Name("BM_Append/" name)  \
      ->Setup(setup<sync>)       \
      ->Teardown(teardown)       \
      ->ArgNames({"per_call"})   \
      ->Arg(1)                   \
      ->Arg(10)                  \
      ->Arg(100)                 \
      ->Threads(1)               \
      ->Threads(4)               \
      ->UseRealTime()

APPEND_BENCH(buffer::SyncMode::kNone, "sync_none");
APPEND_BENCH(buffer::SyncMode::kBatch, "sync_batch");
APPEND_BENCH(buffer::SyncMode::kAlways, "sync_always");

// The forwarder's side: read a batch of up to 500 readings / 190 KiB and ack it.
// One producer whose readings alternate between devices (an MQTT connection carrying many
// devices): each append lands in another device's range of the memtable.
void BM_AppendInterleaved(benchmark::State& state) {
  const auto devices = static_cast<std::size_t>(state.range(0));
  std::size_t i = 0;
  for (auto _ : state) {
    const buffer::Record record{g_devices[i++ % devices], kReading};
    if (!g_buffer->append({&record, 1})) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["vs_raw"] = benchmark::Counter(
      static_cast<double>(state.iterations()) / raw_rate(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AppendInterleaved)
    ->Setup(setup<buffer::SyncMode::kNone>)
    ->Teardown(teardown)
    ->ArgNames({"devices"})
    ->Arg(8)
    ->UseRealTime();

void BM_ReadAck(benchmark::State& state) {
  const buffer::DeviceId device = g_devices[0];
  const std::vector<buffer::Record> refill(1000, buffer::Record{device, kReading});
  std::uint64_t done = 0;
  for (auto _ : state) {
    auto batch = g_buffer->read(device, 500, 190 * 1024);
    if (!batch || batch->empty()) {
      state.PauseTiming();
      for (int i = 0; i < 200; ++i) (void)g_buffer->append(refill);
      state.ResumeTiming();
      continue;
    }
    if (!g_buffer->ack(device, buffer::AckPoint::of(batch->entries.back()))) {
      state.SkipWithError("ack failed");
    }
    done += batch->size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(done));
  state.counters["vs_raw"] =
      benchmark::Counter(static_cast<double>(done) / raw_rate(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadAck)->Setup(setup<buffer::SyncMode::kNone>)->Teardown(teardown)->UseRealTime();

void BM_RawWriteBatch(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(raw_rate());
  state.counters["readings_per_second"] = raw_rate();
}
BENCHMARK(BM_RawWriteBatch)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
