// SPDX-License-Identifier: Apache-2.0
// A full buffer under each on_full policy, and a data_dir on a full filesystem, with the cloud
// away: clear errors, no crash, no corruption, and recovery when the cloud (or the space)
// returns. reject_new and a full disk lose nothing (the source pushes back, the broker keeps
// the rest); drop_oldest keeps each device's newest readings, gapless and in order, and counts
// what it dropped.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <boost/json/serialize.hpp>

#include "harness.h"
#include "support/small_disk.h"

namespace edgegw::reliability {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 4;

// Readings with a 200-byte unit-free value: fills a 1 MiB buffer in a few thousand messages.
std::vector<testing::MqttPublisher::Message> messages(int per_device) {
  std::vector<testing::MqttPublisher::Message> out;
  const std::string pad(200, 'p');
  for (int seq = 1; seq <= per_device; ++seq) {
    for (int d = 1; d <= kDevices; ++d) {
      out.push_back({"sensors/" + device_key(d) + "/data", R"({"variable":"temp","value":")" + pad +
                                                               R"(","metadata":{"seq":)" +
                                                               std::to_string(seq) + "}}"});
    }
  }
  return out;
}

// Stops the gateway (exit 0; the store opens afterwards) and scans what it printed.
void expect_clean_stop(Rig& s) {
  expect_no_secret(s.stop_and_collect(), secrets(kDevices), "logs, /metrics, buffer output");
}

// The cloud comes back: every reading the broker acknowledged arrives, once, in order.
void cloud_returns_and_all_arrive_once(Rig& s, int per_device) {
  s.cloud.clear_faults();
  ASSERT_TRUE(wait_drained(s.cloud, kDevices, per_device, 60s))
      << s.gw->err() << boost::json::serialize(s.cloud.stats());
  CloudTally tally;
  tally.add(s.cloud, kDevices);
  expect_delivered(tally, kDevices, per_device, 0);
}

TEST(BufferFull, RejectNewPushesBackAndLosesNothing) {
  Rig s(kDevices);
  s.cloud.set_fault(R"({"status":503})");  // the cloud is away until cleared
  GatewayOptions options;
  options.buffer_extra = "  max_bytes: 1MiB\n  on_full: reject_new\n";
  ASSERT_NO_FATAL_FAILURE(s.start(options));
  constexpr int kPerDevice = 2500;  // ~2.5 MB of readings
  testing::MqttPublisher pub(s.broker.uri(), "pub");
  ASSERT_TRUE(pub.publish_all(messages(kPerDevice), 1));
  ASSERT_TRUE(s.gw->wait_for_err("buffer full", 30s)) << s.gw->err();
  EXPECT_TRUE(s.gw->running());
  EXPECT_EQ(http_get(s.metrics, "/readyz").first, 200);

  ASSERT_NO_FATAL_FAILURE(cloud_returns_and_all_arrive_once(s, kPerDevice));
  const auto [status, scrape] = http_get(s.metrics, "/metrics");
  EXPECT_EQ(metric(scrape, R"(edgegw_readings_dropped_total{reason="drop_oldest"})"), 0);
  expect_clean_stop(s);
}

TEST(BufferFull, DropOldestKeepsTheNewestInOrderAndCountsTheRest) {
  Rig s(kDevices);
  s.cloud.set_fault(R"({"status":503})");
  GatewayOptions options;
  options.buffer_extra = "  max_bytes: 1MiB\n  on_full: drop_oldest\n";
  ASSERT_NO_FATAL_FAILURE(s.start(options));
  constexpr int kPerDevice = 2500;
  testing::MqttPublisher pub(s.broker.uri(), "pub");
  ASSERT_TRUE(pub.publish_all(messages(kPerDevice), 1));
  // Everything is taken (nothing pushed back), some of it dropped.
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return metric(http_get(s.metrics, "/metrics").second,
                      R"(edgegw_readings_received_total{source="plant"})") >= kPerDevice * kDevices;
      },
      30s))
      << s.gw->err();
  const auto [status, full] = http_get(s.metrics, "/metrics");
  const double dropped = metric(full, R"(edgegw_readings_dropped_total{reason="drop_oldest"})");
  EXPECT_GT(dropped, 0) << full;
  EXPECT_LE(metric(full, "edgegw_buffer_bytes"), 1 << 20);

  s.cloud.clear_faults();
  ASSERT_TRUE(testing::wait_until(
      [&] {
        for (int d = 1; d <= kDevices; ++d) {
          if (s.cloud.device_stat(device_key(d), "max_seq") < kPerDevice) return false;
        }
        return true;
      },
      60s))
      << s.gw->err();
  // Each device's newest readings, gapless and in order, after at most the one batch that was
  // in flight (read before its readings were dropped: it is still sent). The delivered and the
  // dropped add up, counting that batch in both.
  std::int64_t delivered = 0;
  for (int d = 1; d <= kDevices; ++d) {
    const std::string dev = device_key(d);
    EXPECT_LE(s.cloud.device_stat(dev, "seq_intervals"), 2) << dev;
    EXPECT_EQ(s.cloud.device_stat(dev, "max_seq"), kPerDevice) << dev;
    EXPECT_EQ(s.cloud.device_stat(dev, "order_violations"), 0) << dev;
    EXPECT_EQ(s.cloud.device_stat(dev, "duplicates"), 0) << dev;
    delivered += s.cloud.device_stat(dev, "distinct_seqs");
  }
  EXPECT_GE(delivered + static_cast<std::int64_t>(dropped), kPerDevice * kDevices);
  EXPECT_LE(delivered + static_cast<std::int64_t>(dropped), (kPerDevice + 100) * kDevices);
  expect_clean_stop(s);
}

TEST(BufferFull, FullDiskRefusesClearlyAndResumesWhenSpaceReturns) {
  Rig s(kDevices);
  testing::SmallDisk disk(s.dir.path() + "/disk", "48m");
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs for the data_dir (" << disk.error()
                 << "); this test needs root (CI runs as root)";
  }
  s.cloud.set_fault(R"({"status":503})");
  // Leave about 3 MiB free (before the start: RocksDB reserves room for its WAL when it opens).
  const std::string filler = s.dir.path() + "/disk/filler";
  {
    std::ofstream f(filler, std::ios::binary);
    const std::string mb(1 << 20, 'x');
    while (std::filesystem::space(s.dir.path() + "/disk").available > (3u << 20)) {
      f << mb << std::flush;
    }
  }
  GatewayOptions options;
  // The disk is the limit; the reserve below the 3 MiB left.
  options.buffer_extra = "  max_bytes: 1GiB\n  on_full: drop_oldest\n  min_free: 2MiB\n";
  ASSERT_NO_FATAL_FAILURE(s.start(options, s.dir.path() + "/disk/data"));
  constexpr int kPerDevice = 4000;  // ~4 MB of readings: more than the disk has left
  testing::MqttPublisher pub(s.broker.uri(), "pub");
  ASSERT_TRUE(pub.publish_all(messages(kPerDevice), 1));
  ASSERT_TRUE(s.gw->wait_for_err("disk full", 30s)) << s.gw->err();
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(s.gw->running()) << s.gw->err();
  EXPECT_EQ(http_get(s.metrics, "/readyz").first, 200);

  // Space returns, then the cloud: everything the broker acknowledged arrives, each once (a
  // delivered batch that cannot be removed yet is not sent again).
  std::filesystem::remove(filler);
  ASSERT_NO_FATAL_FAILURE(cloud_returns_and_all_arrive_once(s, kPerDevice));
  expect_clean_stop(s);
}

}  // namespace
}  // namespace edgegw::reliability
