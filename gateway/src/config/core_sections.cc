// SPDX-License-Identifier: Apache-2.0
// gateway, buffer, cloud and metrics: fixed keys with typed values and ranges.
#include <chrono>

#include "config/net.h"
#include "config/sections.h"
#include "config/units.h"

namespace edgegw::config::detail {
namespace {

using std::chrono::milliseconds;

constexpr Duration kPositive = milliseconds(1);

// The cloud refuses request bodies over 200 kB; a batch smaller than 1 KiB is a misconfiguration.
constexpr std::uint64_t kCloudBodyLimit = 200000;
constexpr std::uint64_t kMinBatchBytes = 1024;
constexpr std::uint64_t kMinBufferBytes = 1 << 20;

constexpr EnumName<LogLevel> kLogLevels[] = {{"trace", LogLevel::kTrace},
                                             {"debug", LogLevel::kDebug},
                                             {"info", LogLevel::kInfo},
                                             {"warn", LogLevel::kWarn},
                                             {"error", LogLevel::kError}};
constexpr EnumName<LogFormat> kLogFormats[] = {{"text", LogFormat::kText},
                                               {"json", LogFormat::kJson}};
constexpr EnumName<OnFull> kOnFull[] = {{"drop_oldest", OnFull::kDropOldest},
                                        {"reject_new", OnFull::kRejectNew}};
constexpr EnumName<SyncMode> kSyncModes[] = {
    {"none", SyncMode::kNone}, {"batch", SyncMode::kBatch}, {"always", SyncMode::kAlways}};

// Reads a size of at least min; a smaller one is reported as written in the file.
template <typename T>
void read_size_at_least(Reader& r, const Item& it, std::uint64_t min, std::string_view min_text,
                        T& out) {
  std::uint64_t value = 0;
  if (!r.read_size(it, value)) return;
  if (value < min) {
    r.error(it, printable(it.node.Scalar()) + " is under the minimum of " + std::string(min_text));
    return;
  }
  out = static_cast<T>(value);
}

constexpr Key<GatewayConfig> kGatewayKeys[] = {
    {"id", [](Reader& r, const Item& it, GatewayConfig& g) { r.read_non_empty(it, g.id); }},
    {"data_dir",
     [](Reader& r, const Item& it, GatewayConfig& g) { r.read_non_empty(it, g.data_dir); }, true},
    {"plugin_dir",
     [](Reader& r, const Item& it, GatewayConfig& g) { r.read_string(it, g.plugin_dir); }},
    {"log_level",
     [](Reader& r, const Item& it, GatewayConfig& g) { r.read_enum(it, kLogLevels, g.log_level); }},
    {"log_format", [](Reader& r, const Item& it,
                      GatewayConfig& g) { r.read_enum(it, kLogFormats, g.log_format); }},
    {"shutdown_timeout",
     [](Reader& r, const Item& it, GatewayConfig& g) {
       r.read_duration(it, kPositive, g.shutdown_timeout);
     }},
};

constexpr Key<BufferConfig> kBufferKeys[] = {
    {"max_bytes",
     [](Reader& r, const Item& it, BufferConfig& b) {
       read_size_at_least(r, it, kMinBufferBytes, "1MiB", b.max_bytes);
     }},
    {"max_age",
     [](Reader& r, const Item& it, BufferConfig& b) { r.read_duration(it, kPositive, b.max_age); }},
    {"min_free", [](Reader& r, const Item& it, BufferConfig& b) { r.read_size(it, b.min_free); }},
    {"on_full",
     [](Reader& r, const Item& it, BufferConfig& b) { r.read_enum(it, kOnFull, b.on_full); }},
    {"sync",
     [](Reader& r, const Item& it, BufferConfig& b) { r.read_enum(it, kSyncModes, b.sync); }},
    {"sync_interval", [](Reader& r, const Item& it,
                         BufferConfig& b) { r.read_duration(it, kPositive, b.sync_interval); }},
    {"history_per_variable",
     [](Reader& r, const Item& it, BufferConfig& b) {
       std::size_t n = 0;
       if (r.read_int(it, 0, 100000, n)) b.history_per_variable = n;
     }},
};

constexpr Key<TlsConfig> kTlsKeys[] = {
    {"verify", [](Reader& r, const Item& it, TlsConfig& t) { r.read_bool(it, t.verify); }},
    {"ca_file", [](Reader& r, const Item& it, TlsConfig& t) { r.read_string(it, t.ca_file); }},
};

void read_batch_bytes(Reader& r, const Item& it, BatchConfig& b) {
  std::uint64_t value = 0;
  if (!r.read_size(it, value)) return;
  const std::string written = printable(it.node.Scalar());
  if (value > kCloudBodyLimit) {
    r.error(it, written + " is over the cloud's 200 kB request limit (at most " +
                    std::to_string(kCloudBodyLimit) + " bytes)");
    return;
  }
  if (value < kMinBatchBytes) {
    r.error(it, written + " is under the minimum of 1KiB");
    return;
  }
  b.max_bytes = static_cast<std::size_t>(value);
}

constexpr Key<BatchConfig> kBatchKeys[] = {
    {"max_readings",
     [](Reader& r, const Item& it, BatchConfig& b) { r.read_int(it, 1, 10000, b.max_readings); }},
    {"max_bytes", read_batch_bytes},
    {"linger",
     [](Reader& r, const Item& it, BatchConfig& b) { r.read_duration(it, Duration(0), b.linger); }},
};

// The retry section, and whether both backoffs were read, so they can be compared.
struct RetryRead {
  RetryConfig& out;
  bool backoffs_ok = true;
};

constexpr Key<RetryRead> kRetryKeys[] = {
    {"initial_backoff",
     [](Reader& r, const Item& it, RetryRead& c) {
       c.backoffs_ok &= r.read_duration(it, kPositive, c.out.initial_backoff);
     }},
    {"max_backoff",
     [](Reader& r, const Item& it, RetryRead& c) {
       c.backoffs_ok &= r.read_duration(it, kPositive, c.out.max_backoff);
     }},
    {"multiplier", [](Reader& r, const Item& it,
                      RetryRead& c) { r.read_double(it, 1.0, 10.0, c.out.multiplier); }},
};

void read_retry(Reader& r, const Item& item, RetryConfig& out) {
  RetryRead read{out};
  const Seen seen = r.read_map<RetryRead>(item, kRetryKeys, read);
  if (!read.backoffs_ok || out.initial_backoff <= out.max_backoff) return;
  const auto written = [&](std::size_t i, Duration fallback) {
    return seen[i] ? printable(seen[i]->node.Scalar()) : format_duration(fallback);
  };
  const std::string initial = written(0, out.initial_backoff);
  const std::string max = written(1, out.max_backoff);
  if (seen[0]) {
    r.error(*seen[0], initial + " is more than max_backoff (" + max + ")");
  } else {
    r.error(*seen[1], max + " is less than initial_backoff (" + initial + ")");
  }
}

void read_url(Reader& r, const Item& it, CloudConfig& c) {
  auto s = r.scalar(it, "a URL");
  if (!s) return;
  if (auto problem = url_problem(s->value)) {
    r.error(it, *problem);
    return;
  }
  c.url = std::move(s->value);
}

constexpr EnumName<TimePolicy> kTimePolicies[] = {
    {"stamp", TimePolicy::kStamp}, {"keep", TimePolicy::kKeep}, {"reject", TimePolicy::kReject}};

constexpr EnumName<DrainOrder> kDrainOrders[] = {{"fresh_first", DrainOrder::kFreshFirst},
                                                 {"fifo", DrainOrder::kFifo}};

constexpr Key<CloudConfig> kCloudKeys[] = {
    {"url", read_url},
    {"timeout",
     [](Reader& r, const Item& it, CloudConfig& c) { r.read_duration(it, kPositive, c.timeout); }},
    {"max_in_flight",
     [](Reader& r, const Item& it, CloudConfig& c) { r.read_int(it, 1, 1024, c.max_in_flight); }},
    {"requests_per_minute",
     [](Reader& r, const Item& it, CloudConfig& c) {
       r.read_int(it, 0, 1000000, c.requests_per_minute);
     }},
    {"tls",
     [](Reader& r, const Item& it, CloudConfig& c) { r.read_map<TlsConfig>(it, kTlsKeys, c.tls); }},
    {"batch", [](Reader& r, const Item& it,
                 CloudConfig& c) { r.read_map<BatchConfig>(it, kBatchKeys, c.batch); }},
    {"retry", [](Reader& r, const Item& it, CloudConfig& c) { read_retry(r, it, c.retry); }},
    {"implausible_time",
     [](Reader& r, const Item& it, CloudConfig& c) {
       r.read_enum(it, kTimePolicies, c.implausible_time);
     }},
    {"future_tolerance",
     [](Reader& r, const Item& it, CloudConfig& c) {
       r.read_duration(it, kPositive, c.future_tolerance);
     }},
    {"drain",
     [](Reader& r, const Item& it, CloudConfig& c) { r.read_enum(it, kDrainOrders, c.drain); }},
    {"fresh_after", [](Reader& r, const Item& it,
                       CloudConfig& c) { r.read_duration(it, kPositive, c.fresh_after); }},
    {"clock_wait", [](Reader& r, const Item& it,
                      CloudConfig& c) { r.read_duration(it, Duration::zero(), c.clock_wait); }},
    {"provisioning",
     [](Reader& r, const Item& it, CloudConfig& c) { read_provisioning(r, it, c.provisioning); }},
};

void read_listen(Reader& r, const Item& it, MetricsConfig& m) {
  auto s = r.scalar(it, "host:port");
  if (!s) return;
  if (auto problem = listen_problem(s->value)) {
    r.error(it, quote(s->written) + " " + *problem);
    return;
  }
  m.listen = std::move(s->value);
}

constexpr Key<MetricsConfig> kMetricsKeys[] = {
    {"listen", read_listen},
    {"per_device",
     [](Reader& r, const Item& it, MetricsConfig& m) { r.read_bool(it, m.per_device); }},
};

}  // namespace

void read_gateway(Reader& reader, const Item& item, GatewayConfig& out) {
  reader.read_map<GatewayConfig>(item, kGatewayKeys, out);
}

void read_buffer(Reader& reader, const Item& item, BufferConfig& out) {
  reader.read_map<BufferConfig>(item, kBufferKeys, out);
}

void read_cloud(Reader& reader, const Item& item, CloudConfig& out) {
  reader.read_map<CloudConfig>(item, kCloudKeys, out);
}

void read_metrics(Reader& reader, const Item& item, MetricsConfig& out) {
  reader.read_map<MetricsConfig>(item, kMetricsKeys, out);
}

}  // namespace edgegw::config::detail
