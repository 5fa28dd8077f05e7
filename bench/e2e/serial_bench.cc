// SPDX-License-Identifier: Apache-2.0
// The serial source's intake: how many readings per second one pseudo-terminal at full speed
// carries through `edgegw run` (serial plugin → decode → buffer → forwarder → cloud emulator),
// and the gateway's CPU per 10,000 readings; next to a baseline measured in the same run: a bare
// reader that reads the same bytes from the same kind of socat pty pair and only counts lines.
//
//   build/release/bench/e2e/edgegw-serial-bench [--lines 300000] [--rounds 3] [--bytes 120]
//
// Both runs write the same lines (tago_json objects padded to --bytes, newline-terminated) as fast
// as the pty takes them; socat's copy between the two ptys is part of both. Each figure is the
// median of --rounds; the ratio gateway/baseline is what to compare between machines.
#include <fcntl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>

#include "bench_stats.h"
#include "launcher.h"
#include "support/pty.h"
#include "support/subprocess.h"
#include "support/tokens.h"

namespace {

using namespace edgegw;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Args {
  long long lines = 300000;
  int rounds = 3;
  std::size_t bytes = 120;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (k == "--lines") {
      a.lines = v;
    } else if (k == "--rounds") {
      a.rounds = static_cast<int>(v);
    } else if (k == "--bytes") {
      a.bytes = static_cast<std::size_t>(v);
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

// `n` lines of `bytes` bytes each (newline included), seq 1..n.
std::string make_lines(long long n, std::size_t bytes) {
  std::string s;
  s.reserve(static_cast<std::size_t>(n) * bytes);
  for (long long i = 1; i <= n; ++i) {
    std::string r = R"({"variable":"temperature","value":21.5,"unit":"C","metadata":{"seq":)" +
                    std::to_string(i) + "}}";
    if (r.size() + 1 < bytes) r.insert(r.size() - 2, bytes - 1 - r.size(), ' ');
    s += r;
    s += '\n';
  }
  return s;
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Result {
  double per_second = 0;
  double cpu_us_per_10k = 0;  // of the reader (baseline) or the edgegw process
};

// The baseline: a bare reader of the gw end (raw mode, 64 KiB reads) counting newlines.
Result run_baseline(const std::string& dir, const std::string& text, long long lines) {
  testing::PtyPair pty(dir + "/base", dir + "/base-dev");
  const int fd = ::open(pty.gw_link().c_str(), O_RDONLY | O_NOCTTY);
  if (fd < 0) {
    std::perror("open baseline pty");
    std::exit(1);
  }
  termios t{};
  ::tcgetattr(fd, &t);
  ::cfmakeraw(&t);
  ::tcsetattr(fd, TCSANOW, &t);
  double cpu = 0;
  std::thread reader([&] {
    const double c0 = thread_cpu_seconds();
    std::vector<char> buf(64 * 1024);
    long long seen = 0;
    while (seen < lines) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n <= 0) break;
      seen += std::count(buf.data(), buf.data() + n, '\n');
    }
    cpu = thread_cpu_seconds() - c0;
  });
  const auto t0 = Clock::now();
  pty.write(text);
  reader.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  return {static_cast<double>(lines) / secs, cpu * 1e6 * 1e4 / static_cast<double>(lines)};
}

// The gateway: edgegw run with one serial source on a fresh pty pair, into the emulator.
Result run_gateway(const std::string& dir, const std::string& text, long long lines, int round) {
  testing::CloudEmulator cloud({"--device", "bench=" + testing::fake_token(1), "--keep", "0"});
  testing::PtyPair pty(dir + "/gw" + std::to_string(round),
                       dir + "/gw-dev" + std::to_string(round));
  const std::string data = dir + "/data" + std::to_string(round);
  std::ofstream(dir + "/gw.yaml")
      << "gateway:\n  data_dir: " << data << "\n  log_level: info\n  shutdown_timeout: 5s\n"
      << "metrics: { listen: '127.0.0.1:" << testing::free_port() << "' }\n"
      << "buffer: { sync: batch }\n"
      << "cloud:\n  url: " << cloud.url() << "\n  batch: { max_readings: 500, linger: 20ms }\n"
      << "sources:\n  - name: bus\n    plugin: serial\n    format: tago_json\n"
      << "    config: { port: '" << pty.gw_link() << "', baud: 115200, device: bench }\n"
      << "devices:\n  - key: bench\n    token: " << testing::fake_token(1) << "\n";
  testing::Subprocess gw({testing::edgegw_binary(), "run", "-c", dir + "/gw.yaml"});
  if (!gw.wait_for_err("opened " + pty.gw_link(), 20s)) {
    std::fprintf(stderr, "the gateway did not open the port:\n%s\n", gw.err().c_str());
    std::exit(1);
  }
  const double cpu0 = gw.cpu_seconds();
  const auto t0 = Clock::now();
  pty.write(text);
  if (!testing::wait_until([&] { return cloud.device_stat("bench", "readings") >= lines; }, 300s)) {
    std::fprintf(stderr, "not all readings arrived:\n%s\n", gw.err().c_str());
    std::exit(1);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = gw.cpu_seconds() - cpu0;
  gw.signal(SIGTERM);
  (void)gw.wait(20s);
  if (cloud.device_stat("bench", "distinct_seqs") != lines ||
      cloud.device_stat("bench", "order_violations") != 0) {
    std::fprintf(stderr, "delivery broken: %s\n", boost::json::serialize(cloud.stats()).c_str());
    std::exit(1);
  }
  return {static_cast<double>(lines) / secs, cpu * 1e6 * 1e4 / static_cast<double>(lines)};
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  testing::TempDir dir;
  const std::string text = make_lines(a.lines, a.bytes);
  std::vector<double> base_rate, base_cpu, gw_rate, gw_cpu;
  for (int r = 0; r < a.rounds; ++r) {
    const Result b = run_baseline(dir.path(), text, a.lines);
    const Result g = run_gateway(dir.path(), text, a.lines, r);
    std::printf(
        "round %d: bare reader %.0f lines/s (%.0f CPU-us/10k); gateway %.0f readings/s "
        "(%.0f CPU-us/10k)\n",
        r + 1, b.per_second, b.cpu_us_per_10k, g.per_second, g.cpu_us_per_10k);
    std::fflush(stdout);
    base_rate.push_back(b.per_second);
    base_cpu.push_back(b.cpu_us_per_10k);
    gw_rate.push_back(g.per_second);
    gw_cpu.push_back(g.cpu_us_per_10k);
  }
  const double br = bench::median(base_rate), gr = bench::median(gw_rate);
  std::printf("\n%lld lines of %zu bytes from one pty, median of %d rounds\n", a.lines, a.bytes,
              a.rounds);
  std::printf("baseline (bare reader):  %10.0f lines/s     %8.0f CPU-us per 10k lines\n", br,
              bench::median(base_cpu));
  std::printf("edgegw (pty -> cloud):   %10.0f readings/s  %8.0f CPU-us per 10k readings\n", gr,
              bench::median(gw_cpu));
  std::printf("ratio gateway/baseline:  %10.2f\n", gr / br);
  return 0;
}
