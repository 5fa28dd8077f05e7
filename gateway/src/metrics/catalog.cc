// SPDX-License-Identifier: Apache-2.0
#include "metrics/catalog.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingest/unmapped.h"

namespace edgegw::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr Description kCatalogue[] = {
    // Sources (label `source`: the source's configured name).
    {"edgegw_source_messages_total", MetricType::Counter,
     "Raw messages (MQTT messages, serial lines, HTTP bodies) a source handed to the gateway."},
    {"edgegw_readings_received_total", MetricType::Counter,
     "Readings decoded from a source's messages."},
    {"edgegw_readings_accepted_total", MetricType::Counter,
     "Readings of a source written to the buffer (and so acknowledged upstream)."},
    {"edgegw_readings_rejected_total", MetricType::Counter,
     "Readings refused at the edge, by reason: decode (one per payload that did not decode), "
     "invalid, unmapped, buffer_full."},
    {"edgegw_readings_implausible_time_total", MetricType::Counter,
     "Readings whose own time cannot be right (before 2000, or more than cloud.future_tolerance "
     "ahead of a synchronised clock), by what cloud.implausible_time did: stamped, kept, "
     "rejected."},
    {"edgegw_source_up", MetricType::Gauge,
     "1 while the source's plugin reports it is connected or receiving, else 0."},
    {"edgegw_plugin_info", MetricType::Gauge,
     "1 for each running source: its plugin, the plugin's version and ABI, and the payload "
     "format."},
    // Buffer.
    {"edgegw_buffer_readings", MetricType::Gauge, "Readings waiting in the buffer."},
    {"edgegw_buffer_bytes", MetricType::Gauge,
     "Bytes the waiting readings take in the buffer (as counted against buffer.max_bytes)."},
    {"edgegw_buffer_capacity_bytes", MetricType::Gauge,
     "The buffer's capacity (buffer.max_bytes)."},
    {"edgegw_buffer_usage_ratio", MetricType::Gauge,
     "edgegw_buffer_bytes / edgegw_buffer_capacity_bytes (0 to 1)."},
    {"edgegw_buffer_oldest_reading_age_seconds", MetricType::Gauge,
     "Age of the oldest waiting reading since it was buffered (0 when the buffer is empty)."},
    {"edgegw_buffer_dead_letter_readings", MetricType::Gauge,
     "Readings in the dead-letter store (edgegw buffer dead-letter list)."},
    {"edgegw_buffer_disk_full", MetricType::Gauge,
     "1 while the disk is full and appends are refused, else 0."},
    {"edgegw_buffer_ingest_readings_per_second", MetricType::Gauge,
     "Readings appended to the buffer per second, over the last minute."},
    {"edgegw_buffer_drain_readings_per_second", MetricType::Gauge,
     "Readings leaving the buffer by delivery (or dead-lettering) per second, over the last "
     "minute."},
    {"edgegw_buffer_time_to_drain_seconds", MetricType::Gauge,
     "Waiting readings divided by the drain rate: how long sending the backlog takes at the "
     "current rate (0 when empty, +Inf when nothing drains)."},
    {"edgegw_buffer_time_to_full_seconds", MetricType::Gauge,
     "Free buffer bytes divided by the buffer's net growth over the last minute: when it will be "
     "full at the current rates (0 when full, +Inf when not growing)."},
    {"edgegw_readings_dropped_total", MetricType::Counter,
     "Readings the buffer dropped without delivering them, by reason: max_age, drop_oldest."},
    // Forwarder.
    {"edgegw_readings_forwarded_total", MetricType::Counter,
     "Readings the cloud accepted (and that were removed from the buffer)."},
    {"edgegw_readings_dead_lettered_total", MetricType::Counter,
     "Readings the cloud refused for good, moved to the dead-letter store, by HTTP status."},
    {"edgegw_forward_requests_total", MetricType::Counter,
     "Requests to the cloud, by answer: the HTTP status, or error (no answer: connection "
     "error, timeout)."},
    {"edgegw_forward_retries_total", MetricType::Counter,
     "Requests that will be sent again (429, 5xx, timeouts, connection errors)."},
    {"edgegw_forward_request_duration_seconds", MetricType::Histogram,
     "Time from sending a request to the cloud until its answer (or its failure)."},
    {"edgegw_forward_batch_readings", MetricType::Histogram, "Readings per request to the cloud."},
    {"edgegw_devices_held", MetricType::Gauge,
     "Devices whose token the cloud refused (401/403): their readings wait for a new token."},
    {"edgegw_forward_circuit_open", MetricType::Gauge,
     "1 while the circuit breaker is open (the cloud failed repeatedly: one probe at a time)."},
    {"edgegw_forward_backfills_total", MetricType::Counter,
     "Backlogs sent present first (cloud.drain: fresh_first): each variable's newest reading, "
     "then newer readings, then the backlog oldest first."},
    {"edgegw_forward_backfill_devices", MetricType::Gauge, "Devices sending a backlog now."},
    {"edgegw_forward_backfill_readings", MetricType::Gauge,
     "Readings of those backlogs still to send (about)."},
    {"edgegw_forward_present_delay_seconds", MetricType::Gauge,
     "The last backfill's wait for the present: from the cloud accepting a request again (or the "
     "backlog being found, after a restart) until each variable's newest reading was accepted. "
     "Absent until a backfill."},
    // Per device (metrics.per_device: true; label `device`: the configured device key).
    {"edgegw_device_buffer_readings", MetricType::Gauge, "Readings of the device waiting."},
    {"edgegw_device_buffer_bytes", MetricType::Gauge, "Bytes of the device's waiting readings."},
    {"edgegw_device_buffer_oldest_reading_age_seconds", MetricType::Gauge,
     "Age of the device's oldest waiting reading (0 when none waits)."},
    {"edgegw_device_readings_forwarded_total", MetricType::Counter,
     "Readings of the device the cloud accepted."},
    {"edgegw_device_readings_dead_lettered_total", MetricType::Counter,
     "Readings of the device the cloud refused for good."},
    {"edgegw_device_held", MetricType::Gauge, "1 while the cloud refuses the device's token."},
    {"edgegw_device_backfill_readings", MetricType::Gauge,
     "Readings of the device's backlog still to send after its present (about; 0: none)."},
    {"edgegw_device_backfill_age_seconds", MetricType::Gauge,
     "Age of the oldest reading of the device's backlog being sent (0: none)."},
    {"edgegw_device_readings_implausible_time_total", MetricType::Counter,
     "Readings of the device whose own time cannot be right, by action: stamped, kept, "
     "rejected."},
    // The process.
    {"edgegw_build_info", MetricType::Gauge,
     "1, labelled with the gateway's version, plugin ABI version and commit."},
    {"edgegw_start_time_seconds", MetricType::Gauge,
     "When the gateway started (Unix time, seconds)."},
    {"edgegw_clock_synchronised", MetricType::Gauge,
     "1 when the kernel says the system clock is synchronised (or cannot say), 0 while it is not: "
     "readings the gateway stamps soon after boot wait for it (cloud.clock_wait)."},
    {"edgegw_config_reloads_total", MetricType::Counter,
     "Config reloads (SIGHUP), by result: success, failure (the running config was kept)."},
    {"edgegw_config_last_reload_successful", MetricType::Gauge,
     "1 if the last config reload was applied (or none was tried), 0 if it was refused."},
    {"edgegw_config_last_reload_success_timestamp_seconds", MetricType::Gauge,
     "When the running config was loaded (Unix time, seconds)."},
    {"edgegw_source_start_failures_total", MetricType::Counter,
     "Sources whose plugin failed to start (at start-up or after a reload)."},
    {"edgegw_bugs_total", MetricType::Counter,
     "States the gateway's own logic rules out, met anyway (EDGEGW_BUG; each is logged with "
     "its file and line). Anything above 0 is worth a bug report."},
    // Provisioning (unmapped: provision; cloud.provisioning).
    {"edgegw_provisioning_devices_total", MetricType::Counter,
     "Device keys given a cloud device and a token, by how: created (made by this gateway) or "
     "found (made before, found by its tags)."},
    {"edgegw_provisioning_failures_total", MetricType::Counter,
     "Provisioning attempts that failed (no answer, 5xx, a refusal); each is retried with "
     "backoff."},
    {"edgegw_provisioning_refused_total", MetricType::Counter,
     "New device keys refused because cloud.provisioning.max_pending keys wait already; their "
     "readings count as unmapped."},
    {"edgegw_provisioning_duplicates_deleted_total", MetricType::Counter,
     "Cloud devices this gateway made and deleted because another gateway made one for the same "
     "key first."},
    {"edgegw_provisioning_token_rotations_total", MetricType::Counter,
     "Tokens of provisioned devices replaced (edgegw cloud rotate-token)."},
    {"edgegw_provisioning_pending_devices", MetricType::Gauge,
     "Device keys waiting for their cloud device and token; their readings are buffered."},
    {"edgegw_provisioning_pending_readings", MetricType::Gauge,
     "Readings buffered for the device keys still waiting for their cloud device."},
    {"edgegw_provisioned_devices", MetricType::Gauge,
     "Devices in the gateway's store of provisioned devices (edgegw cloud devices)."},
    {"edgegw_provisioning_stopped", MetricType::Gauge,
     "1 while provisioning is stopped because the cloud refused the account token (401/403); "
     "mapped devices keep flowing."},
    // Actions and analyses (label `action` / `analysis`: the configured name).
    {"edgegw_action_fired_total", MetricType::Counter,
     "Readings that met an action's condition (and its reset, if any), each putting a job in "
     "the action's durable outbox."},
    {"edgegw_action_refused_total", MetricType::Counter,
     "Readings that met an action's condition while max_queued jobs already waited: not fired "
     "(the action fires on a later reading once there is room)."},
    {"edgegw_action_jobs_total", MetricType::Counter,
     "An action's jobs that left the outbox, by result: done, dead_letter (refused for good, "
     "e.g. a post answered 4xx)."},
    {"edgegw_action_retries_total", MetricType::Counter,
     "An action's attempts that failed and will be tried again after a backoff (broker away, "
     "no answer, 5xx, 429)."},
    {"edgegw_action_queued_jobs", MetricType::Gauge,
     "An action's jobs in the outbox: fired, not yet done."},
    {"edgegw_analysis_runs_total", MetricType::Counter,
     "An analysis's runs that ended, by result: succeeded (exit 0), failed (other exit, or a "
     "signal), timed_out (killed at its timeout), start_failure."},
    {"edgegw_analysis_refused_total", MetricType::Counter,
     "Runs of an analysis refused because max_queued runs already waited."},
    {"edgegw_analysis_duration_seconds_total", MetricType::Counter,
     "Time an analysis's ended runs took, start to exit."},
    {"edgegw_analysis_running", MetricType::Gauge, "An analysis's runs running now."},
    {"edgegw_analysis_queued", MetricType::Gauge,
     "An analysis's runs waiting for one of its max_running slots."},
};

const Description& describe(std::string_view name) {
  for (const Description& d : kCatalogue) {
    if (d.name == name) return d;
  }
  std::abort();  // a family missing from the catalogue is a bug caught by every test that scrapes
}

double seconds_of(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// Builds the families in catalogue order.
class Families {
 public:
  MetricFamily& family(std::string_view name) {
    const auto [it, added] = index_.try_emplace(name, out_.size());
    if (added) {
      const Description& d = describe(name);
      out_.push_back({std::string(d.name), std::string(d.help), d.type, {}});
    }
    return out_[it->second];
  }

  void add(std::string_view name, double value, std::vector<ClientMetric::Label> labels = {}) {
    MetricFamily& f = family(name);
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
  }

  std::vector<MetricFamily> take() { return std::move(out_); }

 private:
  std::vector<MetricFamily> out_;
  std::map<std::string_view, std::size_t> index_;  // names are literals: the views stay valid
};

double as_double(std::uint64_t v) { return static_cast<double>(v); }

double load(const std::atomic<std::uint64_t>& counter) {
  return static_cast<double>(counter.load(std::memory_order_relaxed));
}

std::string code_label(int status) { return status == 0 ? "error" : std::to_string(status); }

double age_seconds(std::int64_t now_ms, std::int64_t stored_ms) {
  if (stored_ms == 0) return 0;
  return std::max<double>(0, seconds_of(now_ms - stored_ms));
}

std::array<std::pair<const char*, std::uint64_t>, 3> implausible_time_actions(
    const ingest::ImplausibleTimes::Counts& c) {
  return {{{"kept", c.kept}, {"rejected", c.rejected}, {"stamped", c.stamped}}};
}

}  // namespace

std::string device_label(std::string_view buffer_key) {
  if (buffer_key == ingest::kUnmappedDeviceKey) return "(unmapped default)";
  return std::string(buffer_key);
}

std::span<const Description> catalogue() { return kCatalogue; }

std::vector<MetricFamily> families(const Snapshot& s, bool per_device) {
  Families f;

  for (const SourceInfo& src : s.sources) {
    const ingest::SourceStats& st = *src.stats;
    const ClientMetric::Label source{"source", src.name};
    f.add("edgegw_source_messages_total", load(st.messages), {source});
    f.add("edgegw_readings_received_total", load(st.received), {source});
    f.add("edgegw_readings_accepted_total", load(st.appended), {source});
    const std::pair<const char*, const std::atomic<std::uint64_t>*> reasons[] = {
        {"decode", &st.rejected_decode},
        {"invalid", &st.rejected_invalid},
        {"unmapped", &st.rejected_unmapped},
        {"buffer_full", &st.rejected_buffer_full},
    };
    for (const auto& [reason, counter] : reasons) {
      f.add("edgegw_readings_rejected_total", load(*counter), {{"reason", reason}, source});
    }
    ingest::ImplausibleTimes::Counts times;
    for (const auto& [device, n] : st.implausible_times.by_device()) {
      times.stamped += n.stamped;
      times.kept += n.kept;
      times.rejected += n.rejected;
    }
    for (const auto& [action, n] : implausible_time_actions(times)) {
      f.add("edgegw_readings_implausible_time_total", as_double(n), {{"action", action}, source});
    }
    f.add("edgegw_source_up", st.up.load(std::memory_order_relaxed) ? 1 : 0, {source});
    f.add("edgegw_plugin_info", 1,
          {{"abi", src.plugin_abi},
           {"format", src.format},
           {"plugin", src.plugin},
           source,
           {"version", src.plugin_version}});
  }

  const buffer::Stats& b = s.buffer;
  f.add("edgegw_buffer_readings", as_double(b.readings));
  f.add("edgegw_buffer_bytes", as_double(b.bytes));
  f.add("edgegw_buffer_capacity_bytes", as_double(s.buffer_max_bytes));
  f.add("edgegw_buffer_usage_ratio",
        s.buffer_max_bytes == 0 ? 0 : as_double(b.bytes) / as_double(s.buffer_max_bytes));
  f.add("edgegw_buffer_oldest_reading_age_seconds", age_seconds(s.now_ms, b.oldest_stored_ms));
  f.add("edgegw_buffer_dead_letter_readings", as_double(b.dead_letters));
  f.add("edgegw_buffer_disk_full", b.disk_full ? 1 : 0);
  f.add("edgegw_buffer_ingest_readings_per_second", s.runway.ingest_per_second);
  f.add("edgegw_buffer_drain_readings_per_second", s.runway.drain_per_second);
  f.add("edgegw_buffer_time_to_drain_seconds", s.runway.time_to_drain_seconds);
  f.add("edgegw_buffer_time_to_full_seconds", s.runway.time_to_full_seconds);
  f.add("edgegw_readings_dropped_total", as_double(b.dropped_max_age), {{"reason", "max_age"}});
  f.add("edgegw_readings_dropped_total", as_double(b.dropped_oldest), {{"reason", "drop_oldest"}});

  const forward::ForwarderStats& fw = s.forward;
  f.add("edgegw_readings_forwarded_total", as_double(fw.readings_forwarded));
  f.family("edgegw_readings_dead_lettered_total");  // present (empty) before the first one
  for (const auto& [status, n] : fw.dead_lettered_by_status) {
    f.add("edgegw_readings_dead_lettered_total", as_double(n), {{"status", code_label(status)}});
  }
  f.family("edgegw_forward_requests_total");
  for (const auto& [status, n] : fw.requests_by_status) {
    f.add("edgegw_forward_requests_total", as_double(n), {{"code", code_label(status)}});
  }
  f.add("edgegw_forward_retries_total", as_double(fw.retries));
  f.add("edgegw_devices_held", as_double(fw.devices_held));
  f.add("edgegw_forward_circuit_open", fw.breaker_open ? 1 : 0);
  f.add("edgegw_forward_backfills_total", as_double(fw.backfills));
  f.add("edgegw_forward_backfill_devices", as_double(fw.backfilling));
  f.add("edgegw_forward_backfill_readings", as_double(fw.backfill_readings));
  f.family("edgegw_forward_present_delay_seconds");
  if (fw.present_delay_seconds >= 0) {
    f.add("edgegw_forward_present_delay_seconds", fw.present_delay_seconds);
  }

  if (per_device) {
    // Each source's counts, read once (not once per device).
    std::vector<std::unordered_map<buffer::DeviceId, ingest::ImplausibleTimes::Counts>>
        implausible_by_source;
    for (const SourceInfo& src : s.sources) {
      implausible_by_source.push_back(src.stats->implausible_times.by_device());
    }
    for (const buffer::DeviceStats& d : s.devices) {
      const ClientMetric::Label device{"device", device_label(d.key)};
      f.add("edgegw_device_buffer_readings", as_double(d.readings), {device});
      f.add("edgegw_device_buffer_bytes", as_double(d.bytes), {device});
      f.add("edgegw_device_buffer_oldest_reading_age_seconds",
            age_seconds(s.now_ms, d.oldest_stored_ms), {device});
      forward::LaneStats lane;
      if (auto it = fw.lanes.find(d.id); it != fw.lanes.end()) lane = it->second;
      f.add("edgegw_device_readings_forwarded_total", as_double(lane.readings_forwarded), {device});
      f.add("edgegw_device_readings_dead_lettered_total", as_double(lane.readings_dead_lettered),
            {device});
      f.add("edgegw_device_held", lane.held ? 1 : 0, {device});
      f.add("edgegw_device_backfill_readings", as_double(lane.backfill_readings), {device});
      f.add("edgegw_device_backfill_age_seconds",
            lane.backlog_end == 0 ? 0.0 : static_cast<double>(lane.backfill_age_ms) / 1000.0,
            {device});
      ingest::ImplausibleTimes::Counts times;  // over every source
      for (const auto& by_device : implausible_by_source) {
        if (auto it = by_device.find(d.id); it != by_device.end()) {
          times.stamped += it->second.stamped;
          times.kept += it->second.kept;
          times.rejected += it->second.rejected;
        }
      }
      for (const auto& [action, n] : implausible_time_actions(times)) {
        f.add("edgegw_device_readings_implausible_time_total", as_double(n),
              {{"action", action}, device});
      }
    }
  }

  if (s.provisioning) {
    const provision::ProvisionStats& p = *s.provisioning;
    f.add("edgegw_provisioning_devices_total", as_double(p.created), {{"how", "created"}});
    f.add("edgegw_provisioning_devices_total", as_double(p.found), {{"how", "found"}});
    f.add("edgegw_provisioning_failures_total", as_double(p.failed));
    f.add("edgegw_provisioning_refused_total", as_double(p.refused));
    f.add("edgegw_provisioning_duplicates_deleted_total", as_double(p.duplicates_deleted));
    f.add("edgegw_provisioning_token_rotations_total", as_double(p.rotations));
    f.add("edgegw_provisioning_pending_devices", static_cast<double>(p.pending));
    f.add("edgegw_provisioning_pending_readings", as_double(p.pending_readings));
    f.add("edgegw_provisioned_devices", static_cast<double>(p.provisioned));
    f.add("edgegw_provisioning_stopped", p.stopped ? 1 : 0);
  }

  for (const auto& [name, a] : s.actions) {
    const ClientMetric::Label action{"action", name};
    f.add("edgegw_action_fired_total", load(a->fired), {action});
    f.add("edgegw_action_refused_total", load(a->refused), {action});
    f.add("edgegw_action_jobs_total", load(a->done), {action, {"result", "done"}});
    f.add("edgegw_action_jobs_total", load(a->dead_lettered), {action, {"result", "dead_letter"}});
    f.add("edgegw_action_retries_total", load(a->retries), {action});
    f.add("edgegw_action_queued_jobs",
          static_cast<double>(std::max<std::int64_t>(0, a->queued.load(std::memory_order_relaxed))),
          {action});
  }
  for (const auto& [name, a] : s.analyses) {
    const ClientMetric::Label analysis{"analysis", name};
    const std::pair<const char*, const std::atomic<std::uint64_t>*> results[] = {
        {"succeeded", &a->succeeded},
        {"failed", &a->failed},
        {"timed_out", &a->timed_out},
        {"start_failure", &a->start_failures},
    };
    for (const auto& [result, counter] : results) {
      f.add("edgegw_analysis_runs_total", load(*counter), {analysis, {"result", result}});
    }
    f.add("edgegw_analysis_refused_total", load(a->refused), {analysis});
    f.add("edgegw_analysis_duration_seconds_total",
          static_cast<double>(a->duration_ms_total.load(std::memory_order_relaxed)) / 1000.0,
          {analysis});
    f.add("edgegw_analysis_running",
          static_cast<double>(a->running.load(std::memory_order_relaxed)), {analysis});
    f.add("edgegw_analysis_queued", static_cast<double>(a->queued.load(std::memory_order_relaxed)),
          {analysis});
  }

  f.add("edgegw_build_info", 1,
        {{"abi", s.build.abi}, {"commit", s.build.commit}, {"version", s.build.version}});
  f.add("edgegw_start_time_seconds", seconds_of(s.start_ms));
  f.add("edgegw_clock_synchronised", s.clock_synchronised ? 1 : 0);
  f.add("edgegw_config_reloads_total", as_double(s.reloads), {{"result", "success"}});
  f.add("edgegw_config_reloads_total", as_double(s.reload_failures), {{"result", "failure"}});
  f.add("edgegw_config_last_reload_successful", s.last_reload_ok ? 1 : 0);
  f.add("edgegw_config_last_reload_success_timestamp_seconds", seconds_of(s.last_reload_ok_ms));
  f.add("edgegw_source_start_failures_total", as_double(s.source_start_failures));
  f.add("edgegw_bugs_total", as_double(s.bugs));
  return f.take();
}

}  // namespace edgegw::metrics
