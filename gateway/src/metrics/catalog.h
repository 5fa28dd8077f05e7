// SPDX-License-Identifier: Apache-2.0
// The metric catalogue: every metric the gateway exports (DESIGN.md, Part 2 "Metrics", plus the
// extensions listed in gateway/docs/metrics.md), built at scrape time from a snapshot of the
// counters the components keep anyway (relaxed atomics, per-batch counters). Nothing here runs on
// the hot path: a reading costs no metric work at all; a scrape reads the counters once.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "actions/stats.h"
#include "buffer/stats.h"
#include "forward/stats.h"
#include "ingest/source_stats.h"
#include "metrics/runway.h"
#include "provision/stats.h"

namespace edgegw::metrics {

// The daemon's own counters (app::DaemonStats).
struct DaemonStats {
  std::atomic<std::uint64_t> reloads{0};          // SIGHUPs whose config was applied
  std::atomic<std::uint64_t> reload_failures{0};  // refused: invalid config, a plugin not loadable
  std::atomic<std::uint64_t> source_start_failures{0};
  std::atomic<bool> last_reload_ok{true};
  std::atomic<std::int64_t> last_reload_ok_ms{0};  // wall clock of the last good (re)load
};

// One running source, as the metrics see it.
struct SourceInfo {
  std::string name;
  std::string plugin;
  std::string plugin_version;
  std::string plugin_abi;  // "1.0"
  std::string format;
  std::shared_ptr<const ingest::SourceStats> stats;
};

struct BuildInfo {
  std::string version;
  std::string abi;
  std::string commit;
};

// Everything one scrape reports, gathered in one go.
struct Snapshot {
  std::int64_t now_ms = 0;  // wall clock
  BuildInfo build;
  std::int64_t start_ms = 0;
  bool clock_synchronised = true;  // the kernel's word (core/clock_sync.h); unknown counts as yes
  // Buffer.
  buffer::Stats buffer;
  std::uint64_t buffer_max_bytes = 0;
  std::vector<buffer::DeviceStats> devices;  // filled with per_device only
  Runway::Estimate runway;
  // Forwarder.
  forward::ForwarderStats forward;
  // Sources and lifecycle.
  std::vector<SourceInfo> sources;
  std::uint64_t reloads = 0;
  std::uint64_t reload_failures = 0;
  std::uint64_t source_start_failures = 0;
  bool last_reload_ok = true;
  std::int64_t last_reload_ok_ms = 0;
  std::uint64_t bugs = 0;  // core::bugs_reported()
  // Actions and analyses, by name.
  std::map<std::string, std::shared_ptr<actions::ActionStats>> actions;
  std::map<std::string, std::shared_ptr<const actions::AnalysisStats>> analyses;
  // Provisioning (unset: the gateway provisions nothing and has no provisioned device).
  std::optional<provision::ProvisionStats> provisioning;
};

// The families of a snapshot (without the histograms, which live in a prometheus::Registry).
// `per_device` adds the edgegw_device_* families, labelled by device key (never by token).
std::vector<prometheus::MetricFamily> families(const Snapshot& snapshot, bool per_device);

// The label value for a buffer device key (the reserved key of `unmapped: {default: ...}` is
// shown as "(unmapped default)").
std::string device_label(std::string_view buffer_key);

// The name, type and help of every family the gateway can export (per-device ones included),
// for the documentation test and for checking that the shipped rules and dashboard name only
// metrics that exist.
struct Description {
  std::string_view name;
  prometheus::MetricType type;
  std::string_view help;
};
std::span<const Description> catalogue();

}  // namespace edgegw::metrics
