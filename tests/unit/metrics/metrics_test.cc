// SPDX-License-Identifier: Apache-2.0
// The metrics object on a real buffer and forwarder: the HTTP endpoints, readiness through the
// daemon's states, the request histograms, the runway sampler, and an address already in use.
#include "metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "buffer/buffer.h"
#include "forward/forwarder.h"
#include "forward/url.h"
#include "support/http_client.h"
#include "support/metrics_text.h"
#include "support/subprocess.h"

namespace edgegw::metrics {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    buffer::Options o;
    o.path = dir_.path() + "/buffer";
    o.max_bytes = 1'000'000;
    buffer_ = std::move(buffer::Buffer::open(o)).value();
    config_.buffer.max_bytes = o.max_bytes;
    config_.metrics.listen = "127.0.0.1:0";
    auto client = forward::HttpClient::create(io_, *forward::parse_url("http://127.0.0.1:9"),
                                              config_.cloud.tls, config_.cloud.timeout);
    forwarder_ = std::make_unique<forward::Forwarder>(io_, *buffer_, config_.cloud,
                                                      std::move(client).value());
    metrics_ =
        Metrics::start(config_, {*buffer_, *forwarder_, daemon_}, {"9.9.9", "1.0", "c0ffee"});
    ASSERT_FALSE(metrics_->address().empty());
    http_ = std::make_unique<testing::HttpClient>(testing::metrics_client(metrics_->address()));
  }

  void append(const std::string& key, int n) {
    const auto id = *buffer_->register_device(key);
    const std::string json = R"({"variable":"t","value":1})";
    std::vector<buffer::Record> records(static_cast<std::size_t>(n), buffer::Record{id, json});
    ASSERT_TRUE(buffer_->append(records));
  }

  std::map<std::string, double> scrape() {
    const testing::HttpResponse r = http_->get("/metrics");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return testing::parse_metrics(r.body);
  }

  testing::TempDir dir_;
  config::Config config_;
  boost::asio::io_context io_;
  std::unique_ptr<buffer::Buffer> buffer_;
  std::unique_ptr<forward::Forwarder> forwarder_;
  DaemonStats daemon_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<testing::HttpClient> http_;
};

TEST_F(MetricsTest, ListensOnTheRealPortOfPortZero) {
  EXPECT_THAT(metrics_->address(), ::testing::StartsWith("127.0.0.1:"));
  EXPECT_NE(metrics_->address(), "127.0.0.1:0");
}

TEST_F(MetricsTest, HealthzAnswersWhileReadyzFollowsTheLifecycle) {
  auto r = http_->get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  r = http_->get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready: starting\n");
  metrics_->set_state(Metrics::State::kReady);
  r = http_->get("/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ready\n");
  metrics_->set_state(Metrics::State::kStopping);
  r = http_->get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready: shutting down\n");
  EXPECT_EQ(http_->get("/healthz").status, 200);
  EXPECT_EQ(http_->get("/nothing-here").status, 404);
  EXPECT_EQ(http_->post("/metrics", "x").status, 405);
}

TEST_F(MetricsTest, ScrapeReadsTheBufferAndTheSources) {
  append("boiler-1", 5);
  append("press-7", 2);
  auto stats = std::make_shared<ingest::SourceStats>();
  stats->received = 7;
  stats->appended = 7;
  metrics_->set_sources({{"plant", "example", "0.1.0", "1.0", "tago_json", stats}});
  auto m = scrape();
  EXPECT_EQ(m.at("edgegw_buffer_readings"), 7);
  EXPECT_GT(m.at("edgegw_buffer_bytes"), 0);
  EXPECT_EQ(m.at("edgegw_buffer_capacity_bytes"), 1'000'000);
  EXPECT_EQ(m.at(R"(edgegw_readings_received_total{source="plant"})"), 7);
  EXPECT_EQ(m.at(R"(edgegw_build_info{abi="1.0",commit="c0ffee",version="9.9.9"})"), 1);
  EXPECT_EQ(m.count(R"(edgegw_device_buffer_readings{device="boiler-1"})"), 0u);

  // Counted by the source's own atomics: the next scrape sees them, nothing else is needed.
  stats->received += 3;
  metrics_->set_per_device(true);
  m = scrape();
  EXPECT_EQ(m.at(R"(edgegw_readings_received_total{source="plant"})"), 10);
  EXPECT_EQ(m.at(R"(edgegw_device_buffer_readings{device="boiler-1"})"), 5);
  EXPECT_EQ(m.at(R"(edgegw_device_buffer_readings{device="press-7"})"), 2);

  // A removed source is gone from the next scrape.
  metrics_->set_sources({});
  EXPECT_EQ(scrape().count(R"(edgegw_readings_received_total{source="plant"})"), 0u);
}

TEST_F(MetricsTest, RequestHistogramsCountRequestsAndReadings) {
  forward::RequestObserver& observer = metrics_->request_observer();
  observer.on_request(200, 150ms, 42);
  observer.on_request(0, 12s, 500);
  const auto m = scrape();
  EXPECT_EQ(m.at("edgegw_forward_request_duration_seconds_count"), 2);
  EXPECT_DOUBLE_EQ(m.at("edgegw_forward_request_duration_seconds_sum"), 12.15);
  EXPECT_EQ(m.at(R"(edgegw_forward_request_duration_seconds_bucket{le="0.1"})"), 0);
  EXPECT_EQ(m.at(R"(edgegw_forward_request_duration_seconds_bucket{le="0.25"})"), 1);
  EXPECT_EQ(m.at(R"(edgegw_forward_request_duration_seconds_bucket{le="30"})"), 2);
  EXPECT_EQ(m.at("edgegw_forward_batch_readings_count"), 2);
  EXPECT_EQ(m.at("edgegw_forward_batch_readings_sum"), 542);
  EXPECT_EQ(m.at(R"(edgegw_forward_batch_readings_bucket{le="50"})"), 1);
  EXPECT_EQ(m.at(R"(edgegw_forward_batch_readings_bucket{le="+Inf"})"), 2);
  EXPECT_EQ(testing::promtool_check_metrics(metrics_->scrape()), "");
}

TEST_F(MetricsTest, RunwayComesFromSamples) {
  metrics_->sample();
  append("boiler-1", 100);
  std::this_thread::sleep_for(20ms);  // two samples at distinct instants (not a timing assertion)
  metrics_->sample();
  const auto m = scrape();
  EXPECT_GT(m.at("edgegw_buffer_ingest_readings_per_second"), 0);
  EXPECT_EQ(m.at("edgegw_buffer_drain_readings_per_second"), 0);
  EXPECT_EQ(m.at("edgegw_buffer_time_to_drain_seconds"), std::numeric_limits<double>::infinity());
  EXPECT_GT(m.at("edgegw_buffer_time_to_full_seconds"), 0);
  EXPECT_LT(m.at("edgegw_buffer_time_to_full_seconds"), std::numeric_limits<double>::infinity());
}

TEST_F(MetricsTest, AnAddressInUseDoesNotStopTheGatewayAndIsTriedAgain) {
  config::Config again = config_;
  again.metrics.listen = metrics_->address();
  const std::unique_ptr<Metrics> second =
      Metrics::start(again, {*buffer_, *forwarder_, daemon_}, {});
  EXPECT_EQ(second->address(), "");
  const Status s = second->try_listen();
  ASSERT_FALSE(s);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("metrics.listen '" + metrics_->address() + "': cannot listen on"));
  EXPECT_EQ(second->scrape().empty(), false);  // it counts all the same

  // Once the address is free, the next try listens.
  metrics_.reset();
  ASSERT_TRUE(second->try_listen());
  EXPECT_EQ(second->address(), again.metrics.listen);
  testing::HttpClient http = testing::metrics_client(second->address());
  EXPECT_EQ(http.get("/healthz").status, 200);
}

TEST(NumericListenAddress, ResolvesNamesAndKeepsNumbers) {
  EXPECT_EQ(*numeric_listen_address("127.0.0.1:9464"), "127.0.0.1:9464");
  EXPECT_EQ(*numeric_listen_address("[::1]:0"), "[::1]:0");
  const auto local = numeric_listen_address("localhost:9464");
  ASSERT_TRUE(local);
  EXPECT_THAT(*local, ::testing::AnyOf("127.0.0.1:9464", "[::1]:9464"));
  EXPECT_FALSE(numeric_listen_address("no-such-host.invalid:9464"));
}

}  // namespace
}  // namespace edgegw::metrics
