// SPDX-License-Identifier: Apache-2.0
// edgegw-http-ingest-bench: readings/s ingested by the http source (the local Device API) from
// many keep-alive clients, batches of 1 and 100 readings per POST, each acknowledged only after
// the buffer's write-ahead log. The load is edgegw-post-loop (120-byte readings); the baseline,
// measured in the same run with the same tool and the same bodies, is the cloud emulator's own
// POST /data rate (it answers from memory). Also: the same ingest with the local history off
// (buffer.history_per_variable: 0), the history's cost on the ingest path.
//
//   build/release/bench/e2e/edgegw-http-ingest-bench [--seconds 3] [--rounds 3] [--warmup 3]
//
// The gateway's cloud is unreachable (nothing is forwarded: the ingest path alone is measured),
// and each round runs a fresh gateway on a fresh data directory.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "bench_stats.h"
#include "launcher.h"
#include "support/subprocess.h"
#include "support/tokens.h"

namespace edgegw::bench {
namespace {

struct Args {
  int seconds = 3;
  int rounds = 3;
  // Seconds of the same load before the gateway is measured: a fresh process faults its heap in
  // until glibc's thresholds settle and RocksDB's first memtables are reused, which a gateway that
  // has run a while no longer pays (bench/results/analysis.md §8).
  int warmup = 3;
};

struct Load {
  int connections;
  int readings;  // per POST
};

struct Rate {
  double readings_per_s = 0;
  double cpu_us_per_reading = 0;  // the gateway's CPU (0 for the emulator)
};

std::string post_loop_path;

// edgegw-post-loop against `url` for `seconds`.
double post_loop(const std::string& url, const Load& load, int seconds) {
  auto r =
      testing::run_command({post_loop_path, "--url", url, "--token", testing::fake_token(1), "-c",
                            std::to_string(load.connections), "-r", std::to_string(load.readings),
                            "-d", std::to_string(seconds), "--json"},
                           {}, std::chrono::seconds(seconds + 60));
  if (r.exit_code != 0) {
    std::fprintf(stderr, "edgegw-post-loop failed: %s\n", r.err.c_str());
    std::exit(1);
  }
  const auto summary = boost::json::parse(r.out);
  const auto& status = summary.at("status").as_object();
  if (status.size() != 1 || !status.contains("200")) {
    std::fprintf(stderr, "not every request was accepted: %s\n", r.out.c_str());
    std::exit(1);
  }
  return summary.at("readings_per_s").to_number<double>();
}

// One round against a fresh gateway.
Rate gateway_round(const Load& load, int seconds, int warmup, std::size_t history) {
  testing::TempDir dir;
  const int port = testing::free_port();
  const std::string config =
      "gateway: { data_dir: " + dir.path() + "/data, log_level: warn }\n" +
      "buffer: { max_bytes: 8GiB, history_per_variable: " + std::to_string(history) + " }\n" +
      "cloud: { url: 'http://127.0.0.1:1' }\nmetrics: { listen: '127.0.0.1:0' }\n" +
      "sources:\n  - name: local-api\n    plugin: http\n    format: tago_json\n" +
      "    config: { listen: '127.0.0.1:" + std::to_string(port) + "' }\n" +
      "devices:\n  - key: boiler-1\n    token: " + testing::fake_token(1) + "\n";
  testing::Subprocess gw(
      {testing::edgegw_binary(), "run", "-c", dir.write("gw.yaml", config, 0600)});
  if (!testing::wait_until(
          [&] {
            return testing::run_command(
                       {"curl", "-s", "http://127.0.0.1:" + std::to_string(port) + "/info"})
                       .out.size() > 0;
          },
          std::chrono::seconds(15))) {
    std::fprintf(stderr, "the gateway did not start:\n%s\n", gw.err().c_str());
    std::exit(1);
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  if (warmup > 0) (void)post_loop(url, load, warmup);
  const double cpu0 = gw.cpu_seconds();
  Rate rate;
  rate.readings_per_s = post_loop(url, load, seconds);
  const double cpu = gw.cpu_seconds() - cpu0;
  rate.cpu_us_per_reading = cpu * 1e6 / (rate.readings_per_s * seconds);
  return rate;
}

}  // namespace

int run(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--seconds") {
      args.seconds = std::atoi(argv[i + 1]);
    } else if (k == "--rounds") {
      args.rounds = std::atoi(argv[i + 1]);
    } else if (k == "--warmup") {
      args.warmup = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "unknown option %s\nusage: %s [--seconds 3] [--rounds 3] [--warmup 3]\n",
                   k.c_str(), argv[0]);
      return 2;
    }
  }
  const auto build_dir =
      std::filesystem::absolute(argv[0]).parent_path().parent_path().parent_path().string();
  ::setenv("EDGEGW_BINARY_DIR", build_dir.c_str(), 0);
  post_loop_path = std::filesystem::path(argv[0]).parent_path().string() + "/edgegw-post-loop";
  testing::CloudEmulator cloud({"--device", "boiler-1=" + testing::fake_token(1), "--keep", "0"});

  std::printf(
      "http ingest, %d s x %d rounds (medians), after %d s of warm-up; baseline: the emulator's "
      "POST /data\n",
      args.seconds, args.rounds, args.warmup);
  std::printf("%-28s %14s %14s %7s %12s\n", "load", "gateway r/s", "baseline r/s", "ratio",
              "CPU us/rdg");
  for (const Load load : {Load{16, 1}, Load{64, 1}, Load{1, 100}, Load{4, 100}, Load{16, 100}}) {
    std::vector<double> gw, base, cpu;
    for (int round = 0; round < args.rounds; ++round) {
      const Rate r = gateway_round(load, args.seconds, args.warmup, 1000);
      gw.push_back(r.readings_per_s);
      cpu.push_back(r.cpu_us_per_reading);
      base.push_back(post_loop(cloud.url(), load, args.seconds));
    }
    const double g = median(gw), b = median(base);
    char name[64];
    std::snprintf(name, sizeof name, "%d conn x %d rdg/POST", load.connections, load.readings);
    std::printf("%-28s %14.0f %14.0f %7.2f %12.2f\n", name, g, b, g / b, median(cpu));
    std::fflush(stdout);
  }
  // The local history's cost: the same load with it on and off, interleaved.
  const Load load{4, 100};
  std::vector<double> on, off;
  for (int round = 0; round < args.rounds; ++round) {
    on.push_back(gateway_round(load, args.seconds, args.warmup, 1000).readings_per_s);
    off.push_back(gateway_round(load, args.seconds, args.warmup, 0).readings_per_s);
  }
  std::printf(
      "history_per_variable 1000 vs 0 (4 conn x 100): %.0f vs %.0f readings/s, ratio %.2f\n",
      median(on), median(off), median(on) / median(off));
  return 0;
}

}  // namespace edgegw::bench

int main(int argc, char** argv) { return edgegw::bench::run(argc, argv); }
