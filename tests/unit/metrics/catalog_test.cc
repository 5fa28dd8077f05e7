// SPDX-License-Identifier: Apache-2.0
// The catalogue: what a snapshot turns into, Prometheus naming conventions, per-device labels only
// on request, a text that `promtool check metrics` accepts, and documentation for every metric.
#include "metrics/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/check_names.h>
#include <prometheus/text_serializer.h>

#include <set>

#include "ingest/mapping.h"
#include "support/metrics_text.h"
#include "support/subprocess.h"

namespace edgegw::metrics {
namespace {

using prometheus::MetricType;
using ::testing::HasSubstr;

Snapshot sample_snapshot() {
  Snapshot s;
  s.now_ms = 1'700'000'010'000;
  s.build = {"0.1.0", "1.0", "abcdef123456"};
  s.start_ms = 1'700'000'000'000;
  s.buffer.readings = 12;
  s.buffer.bytes = 2048;
  s.buffer.oldest_stored_ms = 1'700'000'007'500;
  s.buffer.dead_letters = 2;
  s.buffer.dropped_max_age = 3;
  s.buffer.dropped_oldest = 4;
  s.buffer_max_bytes = 8192;
  s.devices = {{1, "boiler-1", 10, 2000, 1'700'000'007'500},
               {2, "press-7", 2, 48, 1'700'000'009'000},
               {3, std::string(ingest::kUnmappedDeviceKey), 0, 0, 0}};
  s.runway = {100, 90, 0.5, std::numeric_limits<double>::infinity()};
  s.forward.readings_forwarded = 500;
  s.forward.readings_dead_lettered = 2;
  s.forward.retries = 7;
  s.forward.devices_held = 1;
  s.forward.breaker_open = true;
  s.forward.requests_by_status = {{0, 3}, {200, 10}, {401, 4}};
  s.forward.dead_lettered_by_status = {{400, 2}};
  s.forward.lanes = {{1, {500, 2, false}}, {2, {0, 0, true}}};
  auto stats = std::make_shared<ingest::SourceStats>();
  stats->messages = 40;
  stats->received = 60;
  stats->appended = 55;
  stats->rejected_decode = 1;
  stats->rejected_invalid = 2;
  stats->rejected_unmapped = 3;
  stats->rejected_buffer_full = 0;
  stats->up = true;
  s.sources = {{"plant", "mqtt", "1.2.0", "1.0", "tago_json", stats}};
  s.reloads = 2;
  s.reload_failures = 1;
  s.last_reload_ok = false;
  s.last_reload_ok_ms = 1'700'000'005'000;
  return s;
}

std::string text_of(const Snapshot& s, bool per_device) {
  return prometheus::TextSerializer().Serialize(families(s, per_device));
}

TEST(Catalog, SnapshotValues) {
  const auto m = testing::parse_metrics(text_of(sample_snapshot(), false));
  EXPECT_EQ(m.at(R"(edgegw_source_messages_total{source="plant"})"), 40);
  EXPECT_EQ(m.at(R"(edgegw_readings_received_total{source="plant"})"), 60);
  EXPECT_EQ(m.at(R"(edgegw_readings_accepted_total{source="plant"})"), 55);
  EXPECT_EQ(m.at(R"(edgegw_readings_rejected_total{reason="decode",source="plant"})"), 1);
  EXPECT_EQ(m.at(R"(edgegw_readings_rejected_total{reason="invalid",source="plant"})"), 2);
  EXPECT_EQ(m.at(R"(edgegw_readings_rejected_total{reason="unmapped",source="plant"})"), 3);
  EXPECT_EQ(m.at(R"(edgegw_readings_rejected_total{reason="buffer_full",source="plant"})"), 0);
  EXPECT_EQ(m.at(R"(edgegw_source_up{source="plant"})"), 1);
  EXPECT_EQ(
      m.at(
          R"(edgegw_plugin_info{abi="1.0",format="tago_json",plugin="mqtt",source="plant",version="1.2.0"})"),
      1);
  EXPECT_EQ(m.at("edgegw_buffer_readings"), 12);
  EXPECT_EQ(m.at("edgegw_buffer_bytes"), 2048);
  EXPECT_EQ(m.at("edgegw_buffer_capacity_bytes"), 8192);
  EXPECT_EQ(m.at("edgegw_buffer_usage_ratio"), 0.25);
  EXPECT_EQ(m.at("edgegw_buffer_oldest_reading_age_seconds"), 2.5);
  EXPECT_EQ(m.at("edgegw_buffer_dead_letter_readings"), 2);
  EXPECT_EQ(m.at("edgegw_buffer_ingest_readings_per_second"), 100);
  EXPECT_EQ(m.at("edgegw_buffer_drain_readings_per_second"), 90);
  EXPECT_EQ(m.at("edgegw_buffer_time_to_drain_seconds"), 0.5);
  EXPECT_EQ(m.at("edgegw_buffer_time_to_full_seconds"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(m.at(R"(edgegw_readings_dropped_total{reason="max_age"})"), 3);
  EXPECT_EQ(m.at(R"(edgegw_readings_dropped_total{reason="drop_oldest"})"), 4);
  EXPECT_EQ(m.at("edgegw_readings_forwarded_total"), 500);
  EXPECT_EQ(m.at(R"(edgegw_readings_dead_lettered_total{status="400"})"), 2);
  EXPECT_EQ(m.at(R"(edgegw_forward_requests_total{code="error"})"), 3);
  EXPECT_EQ(m.at(R"(edgegw_forward_requests_total{code="200"})"), 10);
  EXPECT_EQ(m.at(R"(edgegw_forward_requests_total{code="401"})"), 4);
  EXPECT_EQ(m.at("edgegw_forward_retries_total"), 7);
  EXPECT_EQ(m.at("edgegw_devices_held"), 1);
  EXPECT_EQ(m.at("edgegw_forward_circuit_open"), 1);
  EXPECT_EQ(m.at(R"(edgegw_build_info{abi="1.0",commit="abcdef123456",version="0.1.0"})"), 1);
  EXPECT_EQ(m.at("edgegw_start_time_seconds"), 1'700'000'000);
  EXPECT_EQ(m.at(R"(edgegw_config_reloads_total{result="success"})"), 2);
  EXPECT_EQ(m.at(R"(edgegw_config_reloads_total{result="failure"})"), 1);
  EXPECT_EQ(m.at("edgegw_config_last_reload_successful"), 0);
  EXPECT_EQ(m.at("edgegw_config_last_reload_success_timestamp_seconds"), 1'700'000'005);
}

TEST(Catalog, PerDeviceLabelsOnlyWhenAskedFor) {
  const Snapshot s = sample_snapshot();
  const std::string plain = text_of(s, false);
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("device=")));
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("boiler-1")));

  const auto m = testing::parse_metrics(text_of(s, true));
  EXPECT_EQ(m.at(R"(edgegw_device_buffer_readings{device="boiler-1"})"), 10);
  EXPECT_EQ(m.at(R"(edgegw_device_buffer_bytes{device="press-7"})"), 48);
  EXPECT_EQ(m.at(R"(edgegw_device_buffer_oldest_reading_age_seconds{device="boiler-1"})"), 2.5);
  EXPECT_EQ(
      m.at(R"x(edgegw_device_buffer_oldest_reading_age_seconds{device="(unmapped default)"})x"), 0);
  EXPECT_EQ(m.at(R"(edgegw_device_readings_forwarded_total{device="boiler-1"})"), 500);
  EXPECT_EQ(m.at(R"(edgegw_device_readings_dead_lettered_total{device="boiler-1"})"), 2);
  EXPECT_EQ(m.at(R"(edgegw_device_held{device="press-7"})"), 1);
  EXPECT_EQ(m.at(R"(edgegw_device_held{device="boiler-1"})"), 0);
  // A device without a lane yet counts zero.
  EXPECT_EQ(m.at(R"x(edgegw_device_readings_forwarded_total{device="(unmapped default)"})x"), 0);
}

TEST(Catalog, FollowsPrometheusNaming) {
  std::set<std::string> seen;
  for (const Description& d : catalogue()) {
    const std::string name(d.name);
    SCOPED_TRACE(name);
    EXPECT_TRUE(seen.insert(name).second) << "listed twice";
    EXPECT_TRUE(prometheus::CheckMetricName(name));
    EXPECT_EQ(name.rfind("edgegw_", 0), 0u);
    const bool total = name.ends_with("_total");
    EXPECT_EQ(total, d.type == MetricType::Counter) << "_total on counters and only on counters";
    EXPECT_FALSE(name.ends_with("_ms") || name.ends_with("_percent") || name.ends_with("_count"));
    EXPECT_FALSE(d.help.empty());
  }
  // Every family of a full snapshot is in the catalogue with its type, and labels are valid.
  for (const auto& f : families(sample_snapshot(), true)) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(seen.count(f.name));
    for (const auto& metric : f.metric) {
      for (const auto& label : metric.label) EXPECT_TRUE(prometheus::CheckLabelName(label.name));
    }
  }
}

TEST(Catalog, PromtoolFindsNothingToCriticise) {
  EXPECT_EQ(testing::promtool_check_metrics(text_of(sample_snapshot(), true)), "");
  EXPECT_EQ(testing::promtool_check_metrics(text_of(Snapshot{}, false)), "");
}

TEST(Catalog, EveryMetricIsDocumented) {
  const std::string doc = testing::read_file(testing::source_dir() + "/gateway/docs/metrics.md");
  for (const Description& d : catalogue()) {
    EXPECT_THAT(doc, HasSubstr("`" + std::string(d.name) + "`")) << "gateway/docs/metrics.md";
  }
}

}  // namespace
}  // namespace edgegw::metrics
