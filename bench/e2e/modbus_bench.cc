// SPDX-License-Identifier: Apache-2.0
// The modbus source's cost: points read over Modbus TCP and buffered per CPU-second of the
// gateway (`edgegw run`: poll → tago_json → decode → buffer's write-ahead log), next to a
// baseline measured in the same run: a plain libmodbus client loop that issues the same requests
// to the same server and discards the answers, each in a process of its own; the server
// (plugins/modbus/tests/test_server.h) runs in this process and is not counted. The loop runs
// twice: as fast as the server answers (the baseline of the ratio), and paced as the gateway polls
// (a round of every unit each 1 ms, the least `interval`), where both sides sleep between rounds
// and pay the same wake-ups. With few units a round is short and the gateway sleeps most of the
// time; with many (--units 32) a round outlasts 1 ms and neither sleeps.
//
//   build/release/bench/e2e/edgegw-modbus-bench [--units 4] [--points 20] [--spread 2]
//       [--type f32] [--seconds 5] [--rounds 3] [--warmup 10] [--append-interval 20ms]
//
// Each unit has `--points` points `--spread` registers apart: with f32 (2 registers) and spread 2
// they are adjacent, one request per unit per poll (a meter's block of values); a larger spread
// makes one request per point (scattered registers). The gateway's cloud is a port where nothing
// answers: the readings stay in the buffer ("read and buffered"), the forwarder only backs off.
// The figure to compare between machines is the ratio gateway/baseline (points per CPU-second).
#include <time.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <modbus.h>

#include "bench_stats.h"
#include "support/metrics_text.h"
#include "support/subprocess.h"
#include "support/tokens.h"
#include "test_server.h"

namespace {

using namespace edgegw;
using namespace std::chrono_literals;
using plugins::modbus::testing::Table;
using plugins::modbus::testing::TestServer;
using Clock = std::chrono::steady_clock;

struct Args {
  int units = 4;
  int points = 20;
  int spread = 2;
  std::string type = "f32";
  double seconds = 5;
  int rounds = 3;
  // Seconds the gateway polls before it is measured. A fresh process pays page faults for its
  // heap until glibc's thresholds settle and the first memtables are reused (~10 s here): 6% of
  // its CPU in the first seconds, next to nothing after. A gateway runs for months.
  double warmup = 10;
  std::string append_interval;  // --append-interval 0: the source's key (empty: its default)
  int client_port = 0;          // --client PORT: be the baseline's client loop
  bool paced = false;           // --paced 1: the client loop makes a round every 1 ms at most
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--units") {
      a.units = std::atoi(v.c_str());
    } else if (k == "--points") {
      a.points = std::atoi(v.c_str());
    } else if (k == "--spread") {
      a.spread = std::atoi(v.c_str());
    } else if (k == "--type") {
      a.type = v;
    } else if (k == "--seconds") {
      a.seconds = std::atof(v.c_str());
    } else if (k == "--rounds") {
      a.rounds = std::atoi(v.c_str());
    } else if (k == "--warmup") {
      a.warmup = std::atof(v.c_str());
    } else if (k == "--append-interval") {
      a.append_interval = v;
    } else if (k == "--client") {
      a.client_port = std::atoi(v.c_str());
    } else if (k == "--paced") {
      a.paced = v == "1";
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

int registers_of(const std::string& type) {
  if (type == "u16" || type == "i16") return 1;
  if (type == "f64" || type == "u64" || type == "i64") return 4;
  return 2;
}

// The requests one poll of a unit makes: the plugin's plan for these points.
struct Block {
  int address;
  int count;
};
std::vector<Block> blocks(const Args& a) {
  const int size = registers_of(a.type);
  std::vector<Block> out;
  for (int p = 0; p < a.points; ++p) {
    const int address = p * a.spread;
    if (!out.empty() && address == out.back().address + out.back().count &&
        out.back().count + size <= 125) {
      out.back().count += size;
    } else {
      out.push_back({address, size});
    }
  }
  return out;
}

double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Result {
  double points_per_second = 0;
  double points_per_cpu_second = 0;
};

// The baseline's client loop, in a process of its own like the gateway (a request is a round
// trip between two processes for both). Prints "POINTS SECONDS CPU_SECONDS".
int client_main(const Args& a, int port) {
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
  if (ctx == nullptr || modbus_connect(ctx) == -1) {
    std::fprintf(stderr, "baseline: cannot connect: %s\n", modbus_strerror(errno));
    return 1;
  }
  const std::vector<Block> reads = blocks(a);
  std::vector<std::uint16_t> regs(125);
  long long points = 0;
  const double c0 = process_cpu_seconds();
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration<double>(a.seconds);
  auto next = t0;  // paced: when the next round is due (late rounds are skipped, as the gateway's)
  while (Clock::now() < end) {
    if (a.paced) {
      std::this_thread::sleep_until(next);
      const auto now = Clock::now();
      while (next <= now) next += 1ms;
    }
    for (int u = 1; u <= a.units; ++u) {
      modbus_set_slave(ctx, u);
      for (const Block& b : reads) {
        if (modbus_read_registers(ctx, b.address, b.count, regs.data()) != b.count) {
          std::fprintf(stderr, "baseline: read failed: %s\n", modbus_strerror(errno));
          return 1;
        }
      }
      points += a.points;
    }
  }
  const double cpu = process_cpu_seconds() - c0;
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  modbus_close(ctx);
  modbus_free(ctx);
  std::printf("%lld %.6f %.6f\n", points, secs, cpu);
  return 0;
}

Result run_baseline(const Args& a, int port, bool paced) {
  testing::Subprocess client({"/proc/self/exe", "--client", std::to_string(port), "--units",
                              std::to_string(a.units), "--points", std::to_string(a.points),
                              "--spread", std::to_string(a.spread), "--type", a.type, "--seconds",
                              std::to_string(a.seconds), "--paced", paced ? "1" : "0"});
  if (client.wait(std::chrono::seconds(static_cast<long>(a.seconds) + 30)) != 0) {
    std::fprintf(stderr, "the baseline client failed: %s\n", client.err().c_str());
    std::exit(1);
  }
  long long points = 0;
  double secs = 0, cpu = 0;
  if (std::sscanf(client.out().c_str(), "%lld %lf %lf", &points, &secs, &cpu) != 3) {
    std::fprintf(stderr, "the baseline client said: %s\n", client.out().c_str());
    std::exit(1);
  }
  return {static_cast<double>(points) / secs, static_cast<double>(points) / cpu};
}

double received(const std::string& address) {
  const auto m = testing::parse_metrics(testing::metrics_client(address).get("/metrics").body);
  const auto it = m.find(R"(edgegw_readings_received_total{source="bench"})");
  return it == m.end() ? 0 : it->second;
}

Result run_gateway(const Args& a, int port, const std::string& dir, int round) {
  std::string units;
  for (int u = 1; u <= a.units; ++u) {
    units += "        - id: " + std::to_string(u) + "\n          device: meter-" +
             std::to_string(u) + "\n          groups:\n            - interval: 1ms\n" +
             "              points:\n";
    for (int p = 0; p < a.points; ++p) {
      units += "                - { name: p" + std::to_string(p) +
               ", kind: holding, address: " + std::to_string(p * a.spread) + ", type: " + a.type +
               ", unit: V }\n";
    }
  }
  std::string devices;
  for (int u = 1; u <= a.units; ++u) {
    devices +=
        "  - key: meter-" + std::to_string(u) + "\n    token: " + testing::fake_token(u) + "\n";
  }
  const std::string cfg = dir + "/gw" + std::to_string(round) + ".yaml";
  std::ofstream(cfg)
      << "gateway:\n  data_dir: " << dir << "/data" << round
      << "\n  log_level: info\n  shutdown_timeout: 5s\n"
      << "metrics: { listen: '127.0.0.1:0' }\n"
      << "buffer: { sync: batch, max_bytes: 4GiB }\n"
      << "cloud:\n  url: http://127.0.0.1:1\n  retry: { initial_backoff: 1m, max_backoff: 5m }\n"
      << "sources:\n  - name: bench\n    plugin: modbus\n    config:\n"
      << "      transport: tcp\n      host: 127.0.0.1\n      port: " << port << "\n"
      << (a.append_interval.empty() ? "" : "      append_interval: " + a.append_interval + "\n")
      << "      units:\n"
      << units << "devices:\n"
      << devices;
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", cfg});
  const std::string address = testing::metrics_address(gw);
  if (address.empty() || !testing::wait_until([&] { return received(address) > 0; }, 20s)) {
    std::fprintf(stderr, "the gateway did not start polling:\n%s\n", gw.err().c_str());
    std::exit(1);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(a.warmup));  // Args::warmup
  const double r0 = received(address);
  const double cpu0 = gw.cpu_seconds();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  const double r1 = received(address);
  const double cpu = gw.cpu_seconds() - cpu0;
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  gw.signal(SIGTERM);
  if (gw.wait(20s) != 0)
    std::fprintf(stderr, "the gateway did not stop cleanly:\n%s\n", gw.err().c_str());
  return {(r1 - r0) / secs, (r1 - r0) / cpu};
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  if (a.client_port != 0) return client_main(a, a.client_port);
  testing::TempDir dir;
  auto server = TestServer::tcp();
  for (int u = 1; u <= a.units; ++u) {
    server->add_unit(u);
    std::vector<std::uint16_t> regs(static_cast<std::size_t>(a.points * a.spread + 4));
    for (std::size_t i = 0; i < regs.size(); ++i) regs[i] = static_cast<std::uint16_t>(0x4140 + i);
    server->set_registers(u, Table::kHolding, 0, regs);
  }
  const auto reads = blocks(a);
  std::printf("%d unit(s) x %d %s point(s), %zu request(s) per unit per poll\n", a.units, a.points,
              a.type.c_str(), reads.size());
  std::vector<double> base_rate, base_eff, paced_eff, gw_rate, gw_eff, ratios, paced_ratios;
  for (int r = 0; r < a.rounds; ++r) {
    const Result b = run_baseline(a, server->port(), false);
    const Result p = run_baseline(a, server->port(), true);
    const Result g = run_gateway(a, server->port(), dir.path(), r);
    std::printf(
        "round %d: libmodbus loop %.0f points/s, %.0f points/CPU-s; paced %.0f points/s, %.0f "
        "points/CPU-s; gateway %.0f points/s, %.0f points/CPU-s; ratio to the paced loop %.2f; "
        "ratio %.2f\n",
        r + 1, b.points_per_second, b.points_per_cpu_second, p.points_per_second,
        p.points_per_cpu_second, g.points_per_second, g.points_per_cpu_second,
        g.points_per_cpu_second / p.points_per_cpu_second,
        g.points_per_cpu_second / b.points_per_cpu_second);
    std::fflush(stdout);
    base_rate.push_back(b.points_per_second);
    base_eff.push_back(b.points_per_cpu_second);
    paced_eff.push_back(p.points_per_cpu_second);
    gw_rate.push_back(g.points_per_second);
    gw_eff.push_back(g.points_per_cpu_second);
    ratios.push_back(g.points_per_cpu_second / b.points_per_cpu_second);
    paced_ratios.push_back(g.points_per_cpu_second / p.points_per_cpu_second);
  }
  const double be = bench::median(base_eff), ge = bench::median(gw_eff);
  std::printf("\nmedian of %d rounds of %.0f s\n", a.rounds, a.seconds);
  std::printf("baseline (libmodbus loop, discards): %10.0f points/s  %10.0f points per CPU-s\n",
              bench::median(base_rate), be);
  std::printf("the same loop paced as the gateway:                       %10.0f points per CPU-s\n",
              bench::median(paced_eff));
  std::printf("edgegw (read and buffered):          %10.0f points/s  %10.0f points per CPU-s\n",
              bench::median(gw_rate), ge);
  // Each round's runs were measured back to back: the median of their ratios is steadier on a
  // shared machine than the ratio of the medians.
  std::printf("ratio gateway/paced loop (per CPU-s): %9.2f\n", bench::median(paced_ratios));
  std::printf(
      "ratio gateway/baseline (per CPU-s):  %10.2f  (median of the rounds' ratios; of "
      "the medians: %.2f)\n",
      bench::median(ratios), ge / be);
  return 0;
}
