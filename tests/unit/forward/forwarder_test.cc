// SPDX-License-Identifier: Apache-2.0
// The forwarder against a scripted cloud (an HttpClient of the test's own): no network, no
// emulator. Each request is answered by a function of its token and readings, on the I/O
// thread as the real client answers, so the lanes, the split of refused batches, the held
// token and the retries are checked on exactly the answers the test chose.
#include "forward/forwarder.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "buffer/buffer.h"
#include "support/subprocess.h"

namespace edgegw::forward {
namespace {

using namespace std::chrono_literals;

// One request as the scripted cloud saw it: the token and the readings' values.
struct Seen {
  std::string token;
  std::vector<std::int64_t> values;
};

class ScriptedCloud final : public HttpClient {
 public:
  using Answer = std::function<Response(const Seen&)>;
  ScriptedCloud(boost::asio::io_context& io, Answer answer) : io_(io), answer_(std::move(answer)) {}

  void post(std::string_view, const std::string& token, std::string_view body, Done done) override {
    Seen seen{token, {}};
    const boost::json::value parsed = boost::json::parse(body);
    for (const auto& r : parsed.as_array()) {
      seen.values.push_back(r.at("value").to_number<std::int64_t>());
    }
    Response response = answer_(seen);
    {
      std::lock_guard lock(mu_);
      seen_.push_back(std::move(seen));
    }
    boost::asio::post(io_, [done = std::move(done), response = std::move(response)]() mutable {
      done(std::move(response));
    });
  }
  void close_idle() override {}

  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  boost::asio::io_context& io_;
  Answer answer_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

Response ok() { return {200, R"({"status":true,"result":"ok"})", "", ""}; }

class ForwarderTest : public ::testing::Test {
 protected:
  void start(ScriptedCloud::Answer answer) {
    buffer::Options o;
    o.path = dir_.path() + "/buffer";
    o.sync = buffer::SyncMode::kNone;
    buffer_ = std::move(buffer::Buffer::open(o)).value();
    config::CloudConfig c;
    c.max_in_flight = 2;
    c.batch.max_readings = 10;
    c.batch.linger = 5ms;
    c.retry.initial_backoff = 5ms;
    c.retry.max_backoff = 20ms;
    auto client = std::make_unique<ScriptedCloud>(io_, std::move(answer));
    cloud_ = client.get();
    forwarder_ = std::make_unique<Forwarder>(io_, *buffer_, c, std::move(client));
    buffer_->set_on_append([this](buffer::DeviceId id) { forwarder_->notify(id); });
  }
  buffer::DeviceId device(const std::string& key, const std::string& token) {
    const buffer::DeviceId id = *buffer_->register_device(key);
    forwarder_->set_device(id, key, config::Secret(token));
    return id;
  }
  void run() {
    forwarder_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  void append(buffer::DeviceId id, std::int64_t from, int n) {
    std::vector<std::string> jsons;
    for (int i = 0; i < n; ++i) {
      jsons.push_back(R"({"variable":"v","value":)" + std::to_string(from + i) + "}");
    }
    std::vector<buffer::Record> records;
    for (const auto& j : jsons) records.push_back({id, j});
    ASSERT_TRUE(buffer_->append(records));
  }
  bool wait(const std::function<bool()>& done) { return testing::wait_until(done, 10s); }
  // The values the cloud accepted (answered 2xx) for `token`, in the order it accepted them.
  std::vector<std::int64_t> accepted(const std::string& token,
                                     const std::function<bool(const Seen&)>& was_accepted) {
    std::vector<std::int64_t> out;
    for (const Seen& s : cloud_->seen()) {
      if (s.token == token && was_accepted(s))
        out.insert(out.end(), s.values.begin(), s.values.end());
    }
    return out;
  }
  void TearDown() override {
    if (forwarder_) {
      std::promise<void> stopped;
      forwarder_->stop([&] { stopped.set_value(); });
      stopped.get_future().wait_for(5s);
    }
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  testing::TempDir dir_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::unique_ptr<buffer::Buffer> buffer_;
  ScriptedCloud* cloud_ = nullptr;
  std::unique_ptr<Forwarder> forwarder_;
  std::thread thread_;
};

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST_F(ForwarderTest, DeliversEachDeviceInOrderInBatchesOfAtMostMaxReadings) {
  start([](const Seen&) { return ok(); });
  const auto a = device("a", "token-a");
  const auto b = device("b", "token-b");
  append(a, 0, 35);
  append(b, 100, 7);
  run();
  ASSERT_TRUE(wait([&] { return buffer_->stats().readings == 0; }));
  const auto all = [](const Seen&) { return true; };
  EXPECT_EQ(accepted("token-a", all), range(0, 35));
  EXPECT_EQ(accepted("token-b", all), range(100, 107));
  for (const Seen& s : cloud_->seen()) EXPECT_LE(s.values.size(), 10u);
  EXPECT_EQ(forwarder_->stats().readings_forwarded, 42u);
}

// 400 on a batch: it is split until the one reading the cloud refuses is alone; that one is
// dead-lettered with the reason, every other is delivered, in order.
TEST_F(ForwarderTest, ARefusedReadingIsIsolatedAndDeadLetteredTheRestDelivered) {
  const auto refuses = [](const Seen& s) {
    return std::find(s.values.begin(), s.values.end(), 13) != s.values.end();
  };
  start([&](const Seen& s) {
    if (refuses(s)) return Response{400, R"({"status":false,"message":"bad value"})", "", ""};
    return ok();
  });
  const auto a = device("a", "token-a");
  append(a, 0, 20);
  run();
  ASSERT_TRUE(wait([&] { return buffer_->stats().readings == 0; }));
  std::vector<std::int64_t> expected = range(0, 20);
  expected.erase(expected.begin() + 13);
  EXPECT_EQ(accepted("token-a", [&](const Seen& s) { return !refuses(s); }), expected);
  std::vector<buffer::DeadLetter> letters;
  ASSERT_TRUE(buffer_->for_each_dead_letter([&](const buffer::DeadLetter& l) {
    letters.push_back(l);
    return true;
  }));
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reading_json, R"({"variable":"v","value":13})");
  EXPECT_EQ(letters[0].http_status, 400);
  EXPECT_EQ(forwarder_->stats().readings_dead_lettered, 1u);
  EXPECT_EQ(forwarder_->stats().readings_forwarded, 19u);
}

// 401: that device's lane is held with its readings kept; the others go on; a new token
// releases it.
TEST_F(ForwarderTest, ARefusedTokenHoldsOnlyItsLaneUntilANewTokenComes) {
  start([](const Seen& s) {
    if (s.token == "revoked") return Response{401, R"({"status":false})", "", ""};
    return ok();
  });
  const auto a = device("a", "revoked");
  const auto b = device("b", "token-b");
  append(a, 0, 5);
  append(b, 0, 5);
  run();
  ASSERT_TRUE(wait([&] { return forwarder_->stats().devices_held == 1; }));
  ASSERT_TRUE(wait([&] { return buffer_->queued(b).readings == 0; }));
  EXPECT_EQ(buffer_->queued(a).readings, 5u);  // kept
  forwarder_->set_device(a, "a", config::Secret("token-a2"));
  ASSERT_TRUE(wait([&] { return buffer_->queued(a).readings == 0; }));
  EXPECT_EQ(accepted("token-a2", [](const Seen&) { return true; }), range(0, 5));
  EXPECT_EQ(forwarder_->stats().devices_held, 0u);
}

// 503 and no answer at all are retried, without a loss or a duplicate accepted.
TEST_F(ForwarderTest, TransientFailuresAreRetriedUntilDelivered) {
  std::atomic<int> calls{0};
  start([&](const Seen&) {
    const int n = calls++;
    if (n == 0) return Response{503, "", "0", ""};
    if (n == 1) return Response{0, "", "", "connect: Connection refused"};
    return ok();
  });
  const auto a = device("a", "token-a");
  append(a, 0, 8);
  run();
  ASSERT_TRUE(wait([&] { return buffer_->stats().readings == 0; }));
  std::vector<std::int64_t> delivered;
  const auto seen = cloud_->seen();
  for (std::size_t i = 2; i < seen.size(); ++i) {
    delivered.insert(delivered.end(), seen[i].values.begin(), seen[i].values.end());
  }
  EXPECT_EQ(delivered, range(0, 8));
  EXPECT_GE(forwarder_->stats().retries, 2u);
}

}  // namespace
}  // namespace edgegw::forward
