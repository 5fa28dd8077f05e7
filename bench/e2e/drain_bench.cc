// SPDX-License-Identifier: Apache-2.0
// The forwarder's throughput: drain a backlog of readings over many devices from the buffer into
// the cloud emulator, then run edgegw-post-loop (a plain keep-alive POST loop of bodies of the
// same size, against the same emulator) and print both and their ratio.
//
// The cloud is another machine in real life. Sharing this box's CPUs with the emulator, the
// forwarder's every cycle would be taken from the cloud, and the ratio would measure how cheap
// the forwarder is next to the emulator's JSON parsing rather than whether it keeps the cloud
// busy. So by default (--cpus split) the usable CPUs are split in two halves: the client side
// (the forwarder with its RocksDB threads, then the POST loop) on the first, the emulator on the
// second. --cpus shared runs everything on all of them, as before.
//
//   build/release/bench/e2e/edgegw-drain-bench [--devices 1000] [--readings 1000000]
//       [--in-flight 8] [--batch 500] [--baseline-seconds 5] [--threads N] [--cpus split|shared]
//       [--sync none|batch|always] [--stored metadata|json|values]
//
// --stored: the backlog's readings. metadata (the default): the design's 120-byte reading, with
// metadata, stored as its JSON; json and values: a plain reading (variable, value, unit, time),
// stored as its JSON or as its values (buffer/values.h, read back into JSON by the forwarder's
// reads), to set the cost of rebuilding its JSON against that of storing it.
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "buffer/buffer.h"
#include "buffer/values.h"
#include "core/cpus.h"
#include "forward/forwarder.h"
#include "launcher.h"
#include "support/subprocess.h"
#include "support/tokens.h"

namespace {

using namespace edgegw;

double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
using Clock = std::chrono::steady_clock;

struct Args {
  int devices = 1000;
  long long readings = 1000000;
  int in_flight = 8;
  std::size_t batch = 500;
  int baseline_seconds = 5;
  unsigned threads = 0;  // I/O threads; 0: one per usable CPU, as the daemon
  bool split_cpus = true;
  buffer::SyncMode sync = buffer::SyncMode::kNone;  // buffer.sync
  std::string stored = "metadata";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (k == "--stored") {
      a.stored = argv[i + 1];
      if (a.stored != "metadata" && a.stored != "json" && a.stored != "values") {
        std::fprintf(stderr, "--stored takes metadata, json or values, not %s\n", a.stored.c_str());
        std::exit(2);
      }
    } else if (k == "--cpus") {
      const std::string mode = argv[i + 1];
      if (mode != "split" && mode != "shared") {
        std::fprintf(stderr, "--cpus takes split or shared, not %s\n", mode.c_str());
        std::exit(2);
      }
      a.split_cpus = mode == "split";
    } else if (k == "--sync") {
      const std::string mode = argv[i + 1];
      if (mode == "none")
        a.sync = buffer::SyncMode::kNone;
      else if (mode == "batch")
        a.sync = buffer::SyncMode::kBatch;
      else if (mode == "always")
        a.sync = buffer::SyncMode::kAlways;
      else {
        std::fprintf(stderr, "--sync takes none, batch or always, not %s\n", mode.c_str());
        std::exit(2);
      }
    } else if (k == "--devices")
      a.devices = static_cast<int>(v);
    else if (k == "--readings")
      a.readings = v;
    else if (k == "--in-flight")
      a.in_flight = static_cast<int>(v);
    else if (k == "--batch")
      a.batch = static_cast<std::size_t>(v);
    else if (k == "--baseline-seconds")
      a.baseline_seconds = static_cast<int>(v);
    else if (k == "--threads")
      a.threads = static_cast<unsigned>(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

std::string token(int device) { return testing::fake_token(device); }

// 120 bytes, as the design's appendix and edgegw-post-loop.
std::string reading(long long seq) {
  std::string r =
      R"({"variable":"temperature","value":21.5,"unit":"C","time":"2026-11-25T12:00:00.000Z","metadata":{"seq":)" +
      std::to_string(seq) + "}}";
  r.insert(r.size() - 2, 120 > r.size() ? 120 - r.size() : 0, ' ');
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  // The emulator launcher finds its binary through the build tree (bench/e2e/ -> its root).
  const auto build_dir =
      std::filesystem::absolute(argv[0]).parent_path().parent_path().parent_path().string();
  ::setenv("EDGEGW_BINARY_DIR", build_dir.c_str(), 0);
  testing::TempDir dir;
  std::string devices_file;
  for (int d = 0; d < args.devices; ++d)
    devices_file += token(d) + " dev" + std::to_string(d) + "\n";
  const std::string devices_path = dir.write("devices.txt", devices_file);
  // The baseline posts for the same devices, round-robin, as the forwarder's lanes do.
  std::string tokens_file;
  for (int d = 0; d < args.devices; ++d) tokens_file += token(d) + "\n";
  const std::string tokens_path = dir.write("tokens.txt", tokens_file);

  // Threads and processes inherit the affinity of the thread that starts them: the emulator is
  // started on the cloud's half, everything after it (RocksDB's threads, the forwarder's, the
  // POST loop) on the client's.
  const std::vector<int> cpus = core::usable_cpus();
  const bool split = args.split_cpus && cpus.size() >= 2;
  const std::vector<int> client_cpus(cpus.begin(),
                                     split ? cpus.begin() + cpus.size() / 2 : cpus.end());
  const std::vector<int> cloud_cpus(split ? cpus.begin() + cpus.size() / 2 : cpus.begin(),
                                    cpus.end());
  if (split && !core::pin_to_cpus(cloud_cpus)) std::fprintf(stderr, "cannot pin the emulator\n");
  testing::CloudEmulator cloud({"--devices", devices_path, "--keep", "0"});
  if (split && !core::pin_to_cpus(client_cpus)) std::fprintf(stderr, "cannot pin the client\n");
  std::fprintf(stderr, "CPUs: client %zu, cloud %zu (%s)\n", client_cpus.size(), cloud_cpus.size(),
               split ? "split" : "shared");

  buffer::Options bo;
  bo.path = dir.path() + "/buffer";
  bo.sync = args.sync;
  bo.max_bytes = 16ULL << 30;
  auto buf = std::move(buffer::Buffer::open(bo)).value();
  std::vector<buffer::DeviceId> ids;
  for (int d = 0; d < args.devices; ++d)
    ids.push_back(*buf->register_device("dev" + std::to_string(d)));
  const long long per_device = args.readings / args.devices;
  std::fprintf(stderr, "filling the buffer: %d devices x %lld readings\n", args.devices,
               per_device);
  for (int d = 0; d < args.devices; ++d) {
    std::vector<std::string> stored;
    for (long long s = 1; s <= per_device; ++s) {
      if (args.stored == "metadata") {
        stored.push_back(reading(s));
        continue;
      }
      // A plain reading; its value and time differ from one to the next, as a meter's do.
      const buffer::ReadingValues v{"temperature", 20.0 + static_cast<double>(s % 1000) / 8, "C",
                                    1'764'072'000'000 + s * 1000};
      std::string& bytes = stored.emplace_back();
      (args.stored == "values" ? buffer::encode_values : buffer::append_values_json)(v, bytes);
    }
    std::vector<buffer::Record> records;
    for (const auto& j : stored) {
      buffer::Record& r = records.emplace_back(buffer::Record{ids[static_cast<std::size_t>(d)], j});
      if (args.stored == "values") std::swap(r.json, r.values);
    }
    if (!buf->append(records)) return 1;
  }
  const auto total = static_cast<double>(per_device * args.devices);
  // The backlog at rest: the fill's flushes and compactions are over before the clock starts.
  while (buf->background_work_pending()) std::this_thread::sleep_for(std::chrono::milliseconds(20));

  config::CloudConfig cloud_config;
  cloud_config.url = cloud.url();
  cloud_config.max_in_flight = args.in_flight;
  cloud_config.batch.max_readings = args.batch;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  auto client = forward::HttpClient::create(io, *forward::parse_url(cloud.url()), cloud_config.tls,
                                            cloud_config.timeout);
  forward::Forwarder forwarder(io, *buf, cloud_config, std::move(client).value());
  for (int d = 0; d < args.devices; ++d) {
    forwarder.set_device(ids[static_cast<std::size_t>(d)], "dev" + std::to_string(d),
                         config::Secret(token(d)));
  }
  std::vector<std::thread> threads;
  const unsigned n_threads = args.threads > 0 ? args.threads : core::usable_cpu_count();
  for (unsigned i = 0; i < n_threads; ++i) threads.emplace_back([&] { io.run(); });

  const double own_cpu_before = process_cpu_seconds();
  const double cloud_cpu_before = cloud.process().cpu_seconds();
  const auto start = Clock::now();
  forwarder.start();
  while (buf->stats().readings > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double forwarder_cpu = process_cpu_seconds() - own_cpu_before;
  const double cloud_cpu = cloud.process().cpu_seconds() - cloud_cpu_before;
  std::promise<void> stopped;
  forwarder.stop([&] { stopped.set_value(); });
  stopped.get_future().wait();
  work.reset();
  for (auto& t : threads) t.join();

  const auto stats = cloud.stats();
  const auto requests = static_cast<double>(forwarder.stats().requests_by_status[200]);
  std::int64_t duplicates = 0, order_violations = 0;
  for (const auto& [name, d] : stats.at("devices").as_object()) {
    duplicates += d.at("duplicates").to_number<std::int64_t>();
    order_violations += d.at("order_violations").to_number<std::int64_t>();
  }
  const double rate = total / seconds;
  std::printf(
      "forwarder: %.0f readings in %.2f s = %.0f readings/s, %.0f requests/s "
      "(%.0f readings/request), duplicates %lld, order violations %lld\n",
      total, seconds, rate, requests / seconds, total / requests,
      static_cast<long long>(duplicates), static_cast<long long>(order_violations));

  std::printf(
      "  CPU per reading: forwarder %.2f us (all its threads, RocksDB's included), "
      "emulator %.2f us\n",
      forwarder_cpu / total * 1e6, cloud_cpu / total * 1e6);

  // The baseline: the same emulator, bodies of the same size, as many connections.
  const std::string post_loop =
      std::filesystem::path(argv[0]).parent_path().string() + "/edgegw-post-loop";
  const auto per_request = static_cast<long long>(total / requests + 0.5);
  const double baseline_cloud_before = cloud.process().cpu_seconds();
  auto r = testing::run_command({post_loop, "--url", cloud.url(), "--tokens", tokens_path, "-c",
                                 std::to_string(args.in_flight), "-r", std::to_string(per_request),
                                 "-d", std::to_string(args.baseline_seconds), "--json"},
                                {}, std::chrono::seconds(args.baseline_seconds + 30));
  if (r.exit_code != 0) {
    std::fprintf(stderr, "edgegw-post-loop failed: %s\n", r.err.c_str());
    return 1;
  }
  const auto summary = boost::json::parse(r.out);
  const auto baseline = summary.at("readings_per_s").to_number<double>();
  const double baseline_readings = summary.at("seconds").to_number<double>() * baseline;
  const double baseline_cloud_cpu = cloud.process().cpu_seconds() - baseline_cloud_before;
  std::printf(
      "baseline (edgegw-post-loop, %d connections, %lld readings/request): %.0f readings/s\n",
      args.in_flight, per_request, baseline);
  const double baseline_requests = summary.at("requests").to_number<double>();
  const double baseline_client_cpu = summary.at("cpu_seconds").to_number<double>();
  std::printf("  CPU per reading: emulator %.2f us\n",
              baseline_cloud_cpu / baseline_readings * 1e6);
  // A request's client-side cost, both sides measured in this run: the forwarder's (read, send,
  // classify, remove, all its threads) against a plain blocking keep-alive client's (send, read).
  const double forwarder_per_request = forwarder_cpu / requests * 1e6;
  const double client_per_request = baseline_client_cpu / baseline_requests * 1e6;
  std::printf("CPU per request: forwarder %.2f us, edgegw-post-loop %.2f us: x%.2f\n",
              forwarder_per_request, client_per_request,
              forwarder_per_request / client_per_request);
  std::printf("ratio forwarder/baseline: %.2f (CPUs %s: client %zu, cloud %zu)\n", rate / baseline,
              split ? "split" : "shared", client_cpus.size(), cloud_cpus.size());
  return 0;
}
