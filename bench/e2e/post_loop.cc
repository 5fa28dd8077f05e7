// SPDX-License-Identifier: Apache-2.0
// edgegw-post-loop: a plain keep-alive HTTP client that POSTs a prebuilt body of R readings
// (120-byte JSON readings with metadata.seq) to URL/data over C connections for D seconds (or N
// requests) and prints requests/s, readings/s, latency and the status counts. It is the baseline
// the gateway's forwarder is measured against: the same bodies, the same cloud emulator, the
// same run.
//
//   edgegw-post-loop --url http://127.0.0.1:PORT --token TOKEN -c 4 -r 500 -d 5 [--json]
//
// Each request carries fresh, increasing metadata.seq values (patched into the prebuilt body in
// place), so the emulator's duplicate/order statistics stay meaningful. With --tokens FILE (one
// token per line) the requests go round-robin over those devices, as a forwarder's do; each
// device is served by one connection, so its readings stay in order.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace edgegw::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadingBytes = 120;
constexpr std::size_t kSeqWidth = 12;  // the seq number, right-aligned in spaces (valid JSON)

constexpr const char* kUsage =
    "usage: edgegw-post-loop --url http://HOST:PORT[/prefix] --token TOKEN [options]\n"
    "  -c, --connections N   keep-alive connections, one thread each [1]\n"
    "  -r, --readings R      readings per request (120 bytes each) [100]\n"
    "  -d, --duration S      seconds to run [5]\n"
    "  -n, --requests N      stop after N requests instead\n"
    "  --tokens FILE         one device token per line: round-robin over those devices\n"
    "  --header NAME         the token header [Device-Token]\n"
    "  --path PATH           appended to the URL [/data]\n"
    "  --json                print one JSON summary line (for scripts)\n";

struct Options {
  std::string host;
  std::string port = "80";
  std::string path = "/data";
  std::string prefix;
  std::vector<std::string> tokens;
  std::string header = "Device-Token";
  unsigned connections = 1;
  std::size_t readings = 100;
  double duration_s = 5;
  std::uint64_t requests = 0;
  bool json = false;
};

struct Body {
  std::string text;
  std::vector<std::size_t> seq_offsets;  // where each reading's seq field starts
};

Body make_body(std::size_t readings) {
  Body body;
  body.text = "[";
  const std::string head =
      R"({"variable":"temperature","value":21.5,"unit":"C","time":"2024-01-01T00:00:00.000Z",)"
      R"("metadata":{"seq":)";
  const std::string tail_start = R"(,"p":")";
  const std::string tail_end = R"("}})";
  const std::size_t fixed = head.size() + kSeqWidth + tail_start.size() + tail_end.size();
  const std::string pad(kReadingBytes > fixed ? kReadingBytes - fixed : 0, 'x');
  for (std::size_t i = 0; i < readings; ++i) {
    if (i > 0) body.text += ',';
    body.text += head;
    body.seq_offsets.push_back(body.text.size());
    body.text.append(kSeqWidth, ' ');
    body.text += tail_start + pad + tail_end;
  }
  body.text += ']';
  return body;
}

void set_seq(std::string& text, std::size_t offset, std::uint64_t seq) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seq);
  const auto n = static_cast<std::size_t>(end - digits);
  std::memset(text.data() + offset, ' ', kSeqWidth - n);
  std::memcpy(text.data() + offset + kSeqWidth - n, digits, n);
}

struct Totals {
  std::map<unsigned, std::uint64_t> status;
  std::uint64_t errors = 0;
  std::uint64_t requests = 0;
  std::uint64_t readings_ok = 0;
  std::vector<std::uint32_t> latency_us;
  std::string first_error;
};

bool parse_args(int argc, char** argv, Options& o) {
  std::string url;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--url") {
      url = value();
    } else if (a == "--token") {
      o.tokens.push_back(value());
    } else if (a == "--tokens") {
      const std::string path = value();
      std::ifstream in(path);
      if (!in) {
        std::fprintf(stderr, "--tokens: cannot read %s\n", path.c_str());
        return false;
      }
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) o.tokens.push_back(line);
      }
    } else if (a == "-c" || a == "--connections") {
      o.connections = static_cast<unsigned>(std::stoul(value()));
    } else if (a == "-r" || a == "--readings") {
      o.readings = std::stoul(value());
    } else if (a == "-d" || a == "--duration") {
      o.duration_s = std::stod(value());
    } else if (a == "-n" || a == "--requests") {
      o.requests = std::stoull(value());
    } else if (a == "--header") {
      o.header = value();
    } else if (a == "--path") {
      o.path = value();
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "unknown option %s\n%s", argv[i], kUsage);
      return false;
    }
  }
  if (!url.starts_with("http://") || o.tokens.empty() || o.connections == 0 || o.readings == 0) {
    std::fputs(kUsage, stderr);
    return false;
  }
  std::string_view rest = std::string_view(url).substr(7);
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) o.prefix = std::string(rest.substr(slash));
  while (!o.prefix.empty() && o.prefix.back() == '/') o.prefix.pop_back();
  const auto colon = authority.rfind(':');
  o.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) o.port = std::string(authority.substr(colon + 1));
  return true;
}

// One device this connection posts for, with the next seq of its readings.
struct Lane {
  std::string token;
  std::uint64_t next_seq = 1;
};

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void run_connection(const Options& o, const tcp::resolver::results_type& endpoints,
                    const Body& prebuilt, std::vector<Lane> lanes,
                    std::atomic<std::uint64_t>& claimed, Clock::time_point deadline,
                    Totals& totals) {
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> req{http::verb::post, o.prefix + o.path, 11};
  req.set(http::field::host, o.host + ":" + o.port);
  req.set(http::field::user_agent, "edgegw-post-loop");
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = prebuilt.text;
  req.prepare_payload();
  totals.latency_us.reserve(1 << 16);
  std::size_t next_lane = 0;
  while (true) {
    if (o.requests != 0) {
      if (claimed.fetch_add(1) >= o.requests) break;
    } else if (Clock::now() >= deadline) {
      break;
    }
    boost::system::error_code ec;
    if (!stream) {
      stream.emplace(ioc);
      stream->connect(endpoints, ec);
      if (!ec) stream->socket().set_option(tcp::no_delay(true), ec);
      if (ec) {
        if (totals.first_error.empty()) totals.first_error = "connect: " + ec.message();
        ++totals.errors;
        stream.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      buffer.clear();
    }
    Lane& lane = lanes[next_lane++ % lanes.size()];
    req.set(o.header, lane.token);
    const std::uint64_t base = lane.next_seq;
    lane.next_seq += o.readings;
    for (std::size_t i = 0; i < prebuilt.seq_offsets.size(); ++i) {
      set_seq(req.body(), prebuilt.seq_offsets[i], base + i);
    }
    const auto start = Clock::now();
    http::write(*stream, req, ec);
    http::response<http::string_body> res;
    if (!ec) http::read(*stream, buffer, res, ec);
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    ++totals.requests;
    if (ec) {
      if (totals.first_error.empty()) totals.first_error = ec.message();
      ++totals.errors;
      stream.reset();
      continue;
    }
    totals.latency_us.push_back(static_cast<std::uint32_t>(us));
    ++totals.status[res.result_int()];
    if (res.result_int() / 100 == 2) totals.readings_ok += o.readings;
    if (!res.keep_alive()) stream.reset();
  }
}

int run(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, o)) return 2;
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  const auto endpoints = resolver.resolve(o.host, o.port, ec);
  if (ec) {
    std::fprintf(stderr, "resolve %s: %s\n", o.host.c_str(), ec.message().c_str());
    return 1;
  }
  const Body body = make_body(o.readings);
  // Connection c serves tokens c, c + C, c + 2C, ... (a single token is shared by all of them).
  std::vector<std::vector<Lane>> lanes(o.connections);
  for (std::size_t t = 0; t < std::max<std::size_t>(o.tokens.size(), o.connections); ++t) {
    lanes[t % o.connections].push_back({o.tokens[t % o.tokens.size()]});
  }
  if (o.tokens.size() == 1) {
    // One device over many connections: one seq sequence, split into disjoint ranges.
    for (unsigned c = 0; c < o.connections; ++c)
      lanes[c][0].next_seq = std::uint64_t{c} * 1000000000 + 1;
  }
  std::atomic<std::uint64_t> claimed{0};
  std::vector<Totals> totals(o.connections);
  const double cpu_before = cpu_seconds();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.duration_s));
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < o.connections; ++i) {
    threads.emplace_back(
        [&, i] { run_connection(o, endpoints, body, lanes[i], claimed, deadline, totals[i]); });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // The client's own cost per request: what the forwarder's CPU per request is compared with.
  const double cpu = cpu_seconds() - cpu_before;

  Totals all;
  for (auto& t : totals) {
    for (const auto& [code, n] : t.status) all.status[code] += n;
    all.errors += t.errors;
    all.requests += t.requests;
    all.readings_ok += t.readings_ok;
    all.latency_us.insert(all.latency_us.end(), t.latency_us.begin(), t.latency_us.end());
    if (all.first_error.empty()) all.first_error = t.first_error;
  }
  std::sort(all.latency_us.begin(), all.latency_us.end());
  auto percentile = [&](double p) -> std::uint32_t {
    if (all.latency_us.empty()) return 0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(all.latency_us.size() - 1));
    return all.latency_us[i];
  };
  const double rps = static_cast<double>(all.requests) / seconds;
  const double readings_ps = static_cast<double>(all.readings_ok) / seconds;
  std::string statuses;
  for (const auto& [code, n] : all.status) {
    statuses += (statuses.empty() ? "" : " ") + std::to_string(code) + "=" + std::to_string(n);
  }
  if (all.errors != 0)
    statuses += (statuses.empty() ? "" : " ") + ("errors=" + std::to_string(all.errors));
  if (o.json) {
    std::string status_json;
    for (const auto& [code, n] : all.status) {
      status_json +=
          (status_json.empty() ? "\"" : ",\"") + std::to_string(code) + "\":" + std::to_string(n);
    }
    std::printf(
        "{\"connections\":%u,\"readings_per_request\":%zu,\"body_bytes\":%zu,\"seconds\":%.3f,"
        "\"requests\":%llu,\"requests_per_s\":%.1f,\"readings_per_s\":%.1f,\"status\":{%s},"
        "\"errors\":%llu,\"latency_us\":{\"p50\":%u,\"p90\":%u,\"p99\":%u},"
        "\"cpu_seconds\":%.3f}\n",
        o.connections, o.readings, body.text.size(), seconds,
        static_cast<unsigned long long>(all.requests), rps, readings_ps, status_json.c_str(),
        static_cast<unsigned long long>(all.errors), percentile(0.5), percentile(0.9),
        percentile(0.99), cpu);
  } else {
    std::printf(
        "edgegw-post-loop: http://%s:%s%s%s  connections=%u  readings/request=%zu  "
        "body=%zu bytes\n",
        o.host.c_str(), o.port.c_str(), o.prefix.c_str(), o.path.c_str(), o.connections, o.readings,
        body.text.size());
    std::printf("  %.2f s: %llu requests = %.0f requests/s, %.0f readings/s accepted\n", seconds,
                static_cast<unsigned long long>(all.requests), rps, readings_ps);
    std::printf("  latency: p50 %u us, p90 %u us, p99 %u us\n", percentile(0.5), percentile(0.9),
                percentile(0.99));
    std::printf("  status: %s\n", statuses.c_str());
    std::printf("  CPU: %.2f us per request\n",
                all.requests ? cpu / static_cast<double>(all.requests) * 1e6 : 0.0);
  }
  if (!all.first_error.empty()) std::fprintf(stderr, "first error: %s\n", all.first_error.c_str());
  return all.requests != 0 && all.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace edgegw::bench

int main(int argc, char** argv) { return edgegw::bench::run(argc, argv); }
