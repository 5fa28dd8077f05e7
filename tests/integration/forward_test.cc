// SPDX-License-Identifier: Apache-2.0
// The forwarder against the cloud emulator over real loopback HTTP: every outcome of DESIGN.md's
// table, fairness, the request budget, the circuit breaker and TLS.
#include "forward/forwarder.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "launcher.h"
#include "support/pki.h"
#include "support/subprocess.h"

namespace edgegw::forward {
namespace {

using namespace std::chrono_literals;
using testing::CloudEmulator;

constexpr const char* kTokenA = "7c1f3a52-9e0b-4d6a-8c2f-5b4e3d2a1f00";
constexpr const char* kTokenB = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f50";
constexpr const char* kTokenA2 = "5a5a5a5a-1111-4222-8333-444455556666";

std::string reading(long long seq, const std::string& variable = "temperature") {
  return R"({"variable":")" + variable + R"(","value":)" + std::to_string(seq % 1000) +
         R"(,"metadata":{"seq":)" + std::to_string(seq) + "}}";
}

config::CloudConfig fast_cloud(const std::string& url) {
  config::CloudConfig c;
  c.url = url;
  c.timeout = 2s;
  c.max_in_flight = 4;
  c.batch.max_readings = 100;
  c.batch.linger = 20ms;
  c.retry.initial_backoff = 20ms;
  c.retry.max_backoff = 300ms;
  return c;
}

// A buffer, a forwarder and an I/O pool, pointed at a cloud.
class Gateway {
 public:
  explicit Gateway(config::CloudConfig cloud) : cloud_(std::move(cloud)) {
    buffer::Options o;
    o.path = dir_.path() + "/buffer";
    o.sync = buffer::SyncMode::kNone;
    buffer_ = std::move(buffer::Buffer::open(o)).value();
    auto url = parse_url(cloud_.url);
    auto client = HttpClient::create(io_, *url, cloud_.tls, cloud_.timeout);
    if (!client) throw std::runtime_error(client.status().to_string());
    forwarder_ = std::make_unique<Forwarder>(io_, *buffer_, cloud_, std::move(client).value());
    buffer_->set_on_append([this](buffer::DeviceId id) { forwarder_->notify(id); });
  }
  ~Gateway() {
    stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  buffer::DeviceId device(const std::string& key, const std::string& token) {
    const buffer::DeviceId id = *buffer_->register_device(key);
    forwarder_->set_device(id, key, config::Secret(token));
    return id;
  }
  void start() {
    forwarder_->start();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void append(buffer::DeviceId id, long long first_seq, int n,
              const std::string& variable = "temperature") {
    std::vector<std::string> jsons;
    for (int i = 0; i < n; ++i) jsons.push_back(reading(first_seq + i, variable));
    std::vector<buffer::Record> records;
    for (const auto& j : jsons) records.push_back({id, j});
    ASSERT_TRUE(buffer_->append(records));
  }
  bool wait_empty(std::chrono::milliseconds timeout = 10s) {
    return testing::wait_until([&] { return buffer_->stats().readings == 0; }, timeout);
  }
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    std::promise<void> done;
    forwarder_->stop([&] { done.set_value(); });
    done.get_future().wait_for(5s);
  }
  buffer::Buffer& buffer() { return *buffer_; }
  Forwarder& forwarder() { return *forwarder_; }

 private:
  config::CloudConfig cloud_;
  testing::TempDir dir_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::unique_ptr<buffer::Buffer> buffer_;
  std::unique_ptr<Forwarder> forwarder_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

std::int64_t by_status(CloudEmulator& cloud, int status) {
  const auto stats = cloud.stats();
  const auto* v =
      stats.at("requests").at("by_status").as_object().if_contains(std::to_string(status));
  return v == nullptr ? 0 : v->to_number<std::int64_t>();
}

void expect_clean_delivery(CloudEmulator& cloud, const std::string& device, std::int64_t readings) {
  EXPECT_EQ(cloud.device_stat(device, "readings"), readings);
  EXPECT_EQ(cloud.device_stat(device, "order_violations"), 0);
  EXPECT_EQ(cloud.device_stat(device, "duplicates"), 0);
}

TEST(Forwarder, DeliversEveryDeviceInOrderInBoundedBatches) {
  CloudEmulator cloud(
      {"--device", std::string("a=") + kTokenA, "--device", std::string("b=") + kTokenB});
  Gateway gw(fast_cloud(cloud.url()));
  const auto a = gw.device("a", kTokenA);
  const auto b = gw.device("b", kTokenB);
  gw.append(a, 1, 1500);  // waiting before start: sent at once
  gw.start();
  gw.append(b, 1, 7);  // a partial batch: sent after linger
  for (int i = 0; i < 10; ++i) gw.append(a, 1501 + i * 50, 50);
  ASSERT_TRUE(gw.wait_empty()) << gw.buffer().stats().readings;
  expect_clean_delivery(cloud, "a", 2000);
  expect_clean_delivery(cloud, "b", 7);
  EXPECT_EQ(gw.forwarder().stats().readings_forwarded, 2007u);
  EXPECT_GE(cloud.device_stat("a", "requests"), 20);  // batch.max_readings = 100
}

// Many producers appending a few readings at a time while lanes are busy: no wake-up is lost
// (an append gathered but not yet written when a lane reads must still be delivered).
TEST(Forwarder, ConcurrentSmallAppendsAreAllDelivered) {
  std::vector<std::string> args;
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) {
    tokens.push_back("00000000-0000-4000-8000-0000000001" + std::to_string(10 + i));
    args.push_back("--device");
    args.push_back("d" + std::to_string(i) + "=" + tokens.back());
  }
  CloudEmulator cloud(args);
  config::CloudConfig c = fast_cloud(cloud.url());
  c.batch.linger = std::chrono::milliseconds(0);
  Gateway gw(c);
  std::vector<buffer::DeviceId> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(gw.device("d" + std::to_string(i), tokens[static_cast<std::size_t>(i)]));
  }
  gw.start();
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      // Thread t owns devices t, t+4, ...: each device's sequence comes from one thread.
      for (int round = 0; round < 100; ++round) {
        for (int d = t; d < 20; d += 4)
          gw.append(ids[static_cast<std::size_t>(d)], round * 2 + 1, 2);
      }
    });
  }
  for (auto& p : producers) p.join();
  ASSERT_TRUE(gw.wait_empty()) << gw.buffer().stats().readings;
  for (int i = 0; i < 20; ++i) expect_clean_delivery(cloud, "d" + std::to_string(i), 200);
}

TEST(Forwarder, ServerErrorsAndDroppedConnectionsAreRetriedWithoutLoss) {
  CloudEmulator cloud({"--device", std::string("a=") + kTokenA});
  cloud.set_fault(R"({"status":503,"count":4})");
  cloud.set_fault(R"({"status":500,"count":2})");
  cloud.set_fault(R"({"drop_connection":true,"count":3})");
  Gateway gw(fast_cloud(cloud.url()));
  const auto a = gw.device("a", kTokenA);
  gw.start();
  gw.append(a, 1, 300);
  ASSERT_TRUE(gw.wait_empty());
  expect_clean_delivery(cloud, "a", 300);
  // 6 error answers, and the dropped connections: a drop on a reused keep-alive connection is
  // first retried at once on a new one (it may just have been closed by the server), so not
  // every drop shows as a failed request.
  EXPECT_GE(gw.forwarder().stats().retries, 7u);
  EXPECT_GE(gw.forwarder().stats().requests_by_status.at(0), 1u);
}

TEST(Forwarder, TimeoutsAreRetriedAndDuplicateAtMostTheBatchInFlight) {
  CloudEmulator cloud({"--device", std::string("a=") + kTokenA});
  cloud.set_fault(R"({"delay_ms":700,"count":1})");
  config::CloudConfig c = fast_cloud(cloud.url());
  c.timeout = 300ms;
  Gateway gw(c);
  const auto a = gw.device("a", kTokenA);
  gw.start();
  gw.append(a, 1, 50);
  // The emulator stores a delayed request before it waits (then answers on a connection the
  // gateway has closed): once the buffer is empty, both copies are counted.
  ASSERT_TRUE(gw.wait_empty());
  EXPECT_EQ(cloud.device_stat("a", "order_violations"), 0);
  EXPECT_LE(cloud.device_stat("a", "duplicates"), 50);  // at most the one batch in flight
  EXPECT_GE(gw.forwarder().stats().requests_by_status.at(0), 1u);
}

TEST(Forwarder, RateLimitWaitsTheRetryAfterOfTheBodyText) {
  CloudEmulator cloud({"--device", std::string("a=") + kTokenA});
  // The budget: 2 requests per 1 s window; the third waits for the next window.
  cloud.set_fault(R"({"budget":{"requests":2,"window_ms":1000}})");
  Gateway gw(fast_cloud(cloud.url()));
  const auto a = gw.device("a", kTokenA);
  gw.start();
  const auto started = std::chrono::steady_clock::now();
  gw.append(a, 1, 300);  // three batches of 100
  ASSERT_TRUE(gw.wait_empty());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 500ms);
  expect_clean_delivery(cloud, "a", 300);
  // One 429 taught the wait; the forwarder did not hammer the cloud meanwhile.
  EXPECT_GE(by_status(cloud, 429), 1);
  EXPECT_LE(by_status(cloud, 429), 2);
}

TEST(Forwarder, RequestBudgetIsNeverExceeded) {
  CloudEmulator cloud(
      {"--device", std::string("a=") + kTokenA, "--device", std::string("b=") + kTokenB});
  cloud.set_fault(R"({"budget":{"requests":10,"window_ms":1000}})");
  config::CloudConfig c = fast_cloud(cloud.url());
  c.requests_per_minute = 600;  // 10 per second
  c.batch.max_readings = 10;
  Gateway gw(c);
  const auto a = gw.device("a", kTokenA);
  const auto b = gw.device("b", kTokenB);
  gw.append(a, 1, 150);
  gw.append(b, 1, 100);
  gw.start();
  ASSERT_TRUE(gw.wait_empty(10s));
  EXPECT_EQ(by_status(cloud, 429), 0);
  EXPECT_EQ(cloud.device_stat("a", "readings"), 150);
  EXPECT_EQ(cloud.device_stat("b", "readings"), 100);
}

TEST(Forwarder, ARefusedTokenHoldsOnlyThatDeviceUntilANewTokenComes) {
  CloudEmulator cloud({"--device", std::string("a=") + kTokenA, "--device",
                       std::string("b=") + kTokenB, "--device", std::string("a=") + kTokenA2});
  cloud.set_fault(std::string(R"({"token_denied":")") + kTokenA + "\"}");
  Gateway gw(fast_cloud(cloud.url()));
  const auto a = gw.device("a", kTokenA);
  const auto b = gw.device("b", kTokenB);
  gw.start();
  gw.append(a, 1, 20);
  gw.append(b, 1, 20);
  EXPECT_TRUE(testing::wait_until([&] { return gw.forwarder().stats().devices_held == 1; }, 5s));
  // The other device goes on meanwhile.
  EXPECT_TRUE(testing::wait_until([&] { return cloud.device_stat("b", "readings") == 20; }, 5s));
  EXPECT_EQ(gw.buffer().queued(a).readings, 20u);  // kept
  gw.device("a", kTokenA2);                        // the operator fixed the token (config reload)
  ASSERT_TRUE(gw.wait_empty());
  EXPECT_EQ(cloud.device_stat("a", "readings"), 20);
  EXPECT_EQ(gw.forwarder().stats().devices_held, 0u);
}

TEST(Forwarder, RefusedReadingsAreIsolatedAndDeadLetteredTheRestDelivered) {
  CloudEmulator cloud({"--device", std::string("a=") + kTokenA, "--reject-variable", "bad_var"});
  Gateway gw(fast_cloud(cloud.url()));
  const auto a = gw.device("a", kTokenA);
  gw.start();
  gw.append(a, 1, 40);
  gw.append(a, 41, 1, "bad_var");
  gw.append(a, 42, 40);
  gw.append(a, 82, 1, "bad_var");
  gw.append(a, 83, 18);
  ASSERT_TRUE(gw.wait_empty());
  EXPECT_EQ(cloud.device_stat("a", "readings"), 98);
  EXPECT_EQ(cloud.device_stat("a", "order_violations"), 0);
  EXPECT_EQ(gw.forwarder().stats().readings_dead_lettered, 2u);
  std::vector<buffer::DeadLetter> letters;
  ASSERT_TRUE(gw.buffer().for_each_dead_letter([&](const buffer::DeadLetter& d) {
    letters.push_back(d);
    return true;
  }));
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].http_status, 400);
  EXPECT_NE(letters[0].reading_json.find("\"seq\":41"), std::string::npos);
  EXPECT_NE(letters[1].reading_json.find("\"seq\":82"), std::string::npos);
  EXPECT_FALSE(letters[0].reason.empty());
}

TEST(Forwarder, TooLargeBodiesAreSplit) {
  CloudEmulator cloud({"--device", std::string("a=") + kTokenA, "--max-body", "3000"});
  Gateway gw(fast_cloud(cloud.url()));  // batches of 100 readings: ~7 kB
  const auto a = gw.device("a", kTokenA);
  gw.start();
  gw.append(a, 1, 250);
  ASSERT_TRUE(gw.wait_empty());
  expect_clean_delivery(cloud, "a", 250);
  EXPECT_GE(by_status(cloud, 413), 1);
  EXPECT_EQ(gw.forwarder().stats().readings_dead_lettered, 0u);
}

TEST(Forwarder, QuietDevicesAreNotStarvedByABacklog) {
  std::vector<std::string> args = {"--device", std::string("big=") + kTokenA, "--delay-ms", "5"};
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    tokens.push_back("00000000-0000-4000-8000-" + std::string(12 - std::to_string(i).size(), '0') +
                     std::to_string(i));
    args.push_back("--device");
    args.push_back("q" + std::to_string(i) + "=" + tokens.back());
  }
  CloudEmulator cloud(args);
  config::CloudConfig c = fast_cloud(cloud.url());
  c.max_in_flight = 2;
  Gateway gw(c);
  const auto big = gw.device("big", kTokenA);
  gw.append(big, 1, 20000);
  std::vector<buffer::DeviceId> quiet;
  for (int i = 0; i < 100; ++i)
    quiet.push_back(gw.device("q" + std::to_string(i), tokens[static_cast<std::size_t>(i)]));
  gw.start();
  // The backlog is on its way before the quiet devices have anything.
  ASSERT_TRUE(testing::wait_until([&] { return cloud.device_stat("big", "readings") > 0; }, 5s));
  for (auto q : quiet) gw.append(q, 1, 1);
  // Round robin: each quiet device gets its turn within one cycle over the ready lanes, long
  // before the backlog of 200 batches drains.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::int64_t delivered = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    delivered = 0;
    const auto stats = cloud.stats();
    for (int i = 0; i < 100; ++i) {
      const auto* d = stats.at("devices").as_object().if_contains("q" + std::to_string(i));
      if (d != nullptr) delivered += d->at("readings").to_number<std::int64_t>();
    }
    if (delivered == 100) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(delivered, 100);
  EXPECT_GT(gw.buffer().queued(big).readings, 5000u) << "the backlog drained first: not a test";
}

TEST(Forwarder, CircuitBreakerProbesADeadCloudThenDeliversWhenItComesBack) {
  const int port = testing::free_port();
  config::CloudConfig c = fast_cloud("http://127.0.0.1:" + std::to_string(port));
  c.max_in_flight = 8;
  Gateway gw(c);
  const auto token = [](int i) {
    return "00000000-0000-4000-8000-0000000000" + std::to_string(10 + i);
  };
  std::vector<buffer::DeviceId> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(gw.device("d" + std::to_string(i), token(i)));
  for (auto id : ids) gw.append(id, 1, 5);
  gw.start();
  std::this_thread::sleep_for(1500ms);
  // 30 lanes against a closed port: without a breaker each would retry on its own every few
  // hundred ms (over 100 attempts in 1.5 s); with it, one probe at a time.
  const auto attempts = gw.forwarder().stats().requests_by_status.at(0);
  EXPECT_LT(attempts, 40u) << attempts;
  std::vector<std::string> args = {"--listen", "127.0.0.1:" + std::to_string(port)};
  for (int i = 0; i < 30; ++i) {
    args.push_back("--device");
    args.push_back("d" + std::to_string(i) + "=" + token(i));
  }
  CloudEmulator cloud(args);
  ASSERT_TRUE(gw.wait_empty(15s));
  EXPECT_EQ(cloud.device_stat("d0", "readings"), 5);
}

TEST(Forwarder, TlsIsVerifiedAgainstTheConfiguredCa) {
  testing::TempDir pki_dir;
  const testing::Pki pki = testing::make_pki(pki_dir);
  testing::HttpClientOptions control;
  control.ca_file = pki.ca;
  CloudEmulator cloud(
      {"--device", std::string("a=") + kTokenA, "--tls-cert", pki.cert, "--tls-key", pki.key},
      control);
  ASSERT_TRUE(cloud.url().starts_with("https://")) << cloud.url();
  {
    // Without the CA the server is not trusted: nothing is delivered, nothing is lost.
    Gateway gw(fast_cloud(cloud.url()));
    const auto a = gw.device("a", kTokenA);
    gw.start();
    gw.append(a, 1, 10);
    // Tried and refused (no answer: the handshake fails) twice, so not for want of trying.
    EXPECT_TRUE(testing::wait_until(
        [&] {
          const auto stats = gw.forwarder().stats();
          const auto none = stats.requests_by_status.find(0);
          return none != stats.requests_by_status.end() && none->second >= 2;
        },
        5s));
    EXPECT_EQ(gw.buffer().queued(a).readings, 10u);
    EXPECT_EQ(cloud.device_stat("a", "readings"), 0);
  }
  config::CloudConfig c = fast_cloud(cloud.url());
  c.tls.ca_file = pki.ca;
  Gateway gw(c);
  const auto a = gw.device("a", kTokenA);
  gw.start();
  gw.append(a, 1, 10);
  ASSERT_TRUE(gw.wait_empty());
  EXPECT_EQ(cloud.device_stat("a", "readings"), 10);
}

TEST(Forwarder, AMissingCaFileIsAClearError) {
  config::TlsConfig tls;
  tls.ca_file = "/nonexistent/ca.pem";
  boost::asio::io_context io;
  auto client = HttpClient::create(io, *parse_url("https://127.0.0.1:1"), tls, 1s);
  ASSERT_FALSE(client);
  EXPECT_NE(client.status().message().find("cloud.tls.ca_file '/nonexistent/ca.pem'"),
            std::string_view::npos)
      << client.status().message();
}

TEST(Forwarder, StopWaitsForTheBatchInFlightAndLosesNothing) {
  CloudEmulator cloud({"--device", std::string("a=") + kTokenA});
  cloud.set_fault(R"({"delay_ms":400,"count":1})");
  Gateway gw(fast_cloud(cloud.url()));
  const auto a = gw.device("a", kTokenA);
  gw.start();
  gw.append(a, 1, 250);
  // The first batch is in flight: the emulator took it and delays its answer.
  ASSERT_TRUE(testing::wait_until([&] { return cloud.device_stat("a", "requests") >= 1; }, 5s));
  const auto started = std::chrono::steady_clock::now();
  gw.stop();
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);  // it waited for the answer
  // What was delivered was acked; the rest waits in the buffer for the next start.
  EXPECT_EQ(
      gw.buffer().stats().readings + static_cast<std::uint64_t>(cloud.device_stat("a", "readings")),
      250u);
}

}  // namespace
}  // namespace edgegw::forward
