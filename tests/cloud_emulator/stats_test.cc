// SPDX-License-Identifier: Apache-2.0
// /_emulator/stats: request and reading counters, per-device duplicate and order accounting by
// metadata.seq, and /_emulator/reset.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "test_util.h"

namespace edgegw::cloud_emulator {
namespace {

using namespace test;
using testing::CloudEmulator;
using testing::HttpClient;

std::string seqs(std::initializer_list<long long> list) {
  std::string body = "[";
  for (long long s : list) {
    body += (body.size() > 1 ? "," : "") +
            std::string(R"({"variable":"t","value":1,"metadata":{"seq":)") + std::to_string(s) +
            "}}";
  }
  return body + "]";
}

TEST(CloudEmulatorStats, DuplicatesAndOrderViolationsPerDevice) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  ASSERT_EQ(client.post("/data", seqs({1, 2, 3, 4, 5}), auth()).status, 200);
  auto stats = cloud.stats();
  EXPECT_EQ(stat(stats, "boiler-1", "duplicates"), 0);
  EXPECT_EQ(stat(stats, "boiler-1", "order_violations"), 0);
  EXPECT_EQ(stat(stats, "boiler-1", "last_seq"), 5);

  ASSERT_EQ(client.post("/data", seqs({4, 5, 6}), auth()).status, 200);  // a retried tail
  ASSERT_EQ(client.post("/data", seqs({9}), auth()).status, 200);        // 7, 8 missing
  stats = cloud.stats();
  EXPECT_EQ(stat(stats, "boiler-1", "duplicates"), 2);
  EXPECT_EQ(stat(stats, "boiler-1", "missing_seqs"), 2);
  EXPECT_EQ(stat(stats, "boiler-1", "seq_intervals"), 2);

  ASSERT_EQ(client.post("/data", seqs({8, 7, 7}), auth()).status, 200);  // late, then a duplicate
  stats = cloud.stats();
  EXPECT_EQ(stat(stats, "boiler-1", "order_violations"), 2);
  EXPECT_EQ(stat(stats, "boiler-1", "duplicates"), 3);
  EXPECT_EQ(stat(stats, "boiler-1", "missing_seqs"), 0);
  EXPECT_EQ(stat(stats, "boiler-1", "seq_intervals"), 1);
  EXPECT_EQ(stat(stats, "boiler-1", "min_seq"), 1);
  EXPECT_EQ(stat(stats, "boiler-1", "max_seq"), 9);
  EXPECT_EQ(stat(stats, "boiler-1", "distinct_seqs"), 9);
  EXPECT_EQ(stat(stats, "boiler-1", "last_seq"), 7);
  EXPECT_EQ(stat(stats, "boiler-1", "readings"), 12);

  // Another device has its own record; readings without an integer seq are only counted.
  ASSERT_EQ(client.post("/data", seqs({1, 2}), auth(kToken2)).status, 200);
  ASSERT_EQ(client
                .post("/data",
                      R"([{"variable":"t"},{"variable":"t","metadata":{"seq":"3"}},)"
                      R"({"variable":"t","metadata":{"seq":2.5}}])",
                      auth(kToken2))
                .status,
            200);
  stats = cloud.stats();
  EXPECT_EQ(stat(stats, "press-7", "duplicates"), 0);
  EXPECT_EQ(stat(stats, "press-7", "order_violations"), 0);
  EXPECT_EQ(stat(stats, "press-7", "readings"), 5);
  EXPECT_EQ(stat(stats, "press-7", "distinct_seqs"), 2);
  EXPECT_EQ(stat(stats, "boiler-1", "duplicates"), 3);
}

TEST(CloudEmulatorStats, RequestCountersAndReset) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  ASSERT_EQ(client.post("/data", readings(10), auth()).status, 200);
  ASSERT_EQ(client.post("/data", readings(3, 11), auth(kToken2)).status, 200);
  ASSERT_EQ(client.post("/data", readings(1), auth("nope")).status, 401);
  ASSERT_EQ(client.post("/data", "[{]", auth()).status, 400);
  ASSERT_EQ(client.get("/data", auth()).status, 200);
  auto stats = cloud.stats();
  EXPECT_EQ(stats.at("requests").at("total").as_int64(), 5);  // control requests not counted
  EXPECT_EQ(status_count(stats, 200), 3);
  EXPECT_EQ(status_count(stats, 400), 1);
  EXPECT_EQ(status_count(stats, 401), 1);
  EXPECT_EQ(stats.at("readings_accepted").as_int64(), 13);
  EXPECT_EQ(stats.at("max_body_bytes").as_int64(), static_cast<std::int64_t>(readings(10).size()));
  EXPECT_EQ(stat(stats, "boiler-1", "requests"), 2);  // POST /data with its token
  EXPECT_EQ(stat(stats, "boiler-1", "accepted_requests"), 1);
  EXPECT_EQ(stat(stats, "boiler-1", "stored"), 10);

  cloud.reset();
  stats = cloud.stats();
  EXPECT_EQ(stats.at("requests").at("total").as_int64(), 0);
  EXPECT_EQ(stats.at("readings_accepted").as_int64(), 0);
  EXPECT_EQ(stat(stats, "boiler-1", "readings"), 0);
  EXPECT_EQ(stat(stats, "boiler-1", "stored"), 0);
  EXPECT_EQ(stat(stats, "boiler-1", "last_seq"), -1);  // null
  // Devices survive a reset.
  EXPECT_EQ(client.post("/data", readings(1), auth()).status, 200);
  EXPECT_EQ(cloud.device_stat("boiler-1", "readings"), 1);
}

// ISO 8601 (UTC, milliseconds) of `ms_ago` milliseconds before now.
std::string iso_ago(std::int64_t ms_ago) {
  const std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() -
                          ms_ago;
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

TEST(CloudEmulatorStats, LatencyFromTheReadingsTime) {
  CloudEmulator cloud(device_args());
  HttpClient client = cloud.client();
  auto latency = cloud.stats().at("latency_ms");
  EXPECT_EQ(latency.at("readings").as_int64(), 0);
  EXPECT_EQ(latency.at("p99").as_int64(), 0);

  // Two readings 1.5 s and 3 s old, one without a time (not a latency), one from the future.
  const std::string body = R"([{"variable":"t","value":1,"time":")" + iso_ago(1500) +
                           R"("},{"variable":"t","value":2,"time":")" + iso_ago(3000) +
                           R"("},{"variable":"t","value":3},{"variable":"t","value":4,"time":")" +
                           iso_ago(-60000) + R"("}])";
  ASSERT_EQ(client.post("/data", body, auth()).status, 200);
  latency = cloud.stats().at("latency_ms");
  EXPECT_EQ(latency.at("readings").as_int64(), 2);
  EXPECT_EQ(latency.at("early").as_int64(), 1);
  const std::int64_t p50 = latency.at("p50").as_int64();
  EXPECT_GE(p50, 1500);
  EXPECT_LE(p50, 1500 * 1.016 + 1000);  // the bucket's width, plus a slow machine's second
  EXPECT_GE(latency.at("max").as_int64(), 3000);
  EXPECT_EQ(latency.at("p999").as_int64(), latency.at("max").as_int64());

  cloud.reset();
  EXPECT_EQ(cloud.stats().at("latency_ms").at("readings").as_int64(), 0);
}

}  // namespace
}  // namespace edgegw::cloud_emulator
