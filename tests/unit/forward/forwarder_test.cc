// SPDX-License-Identifier: Apache-2.0
// The forwarder against a scripted cloud (an HttpClient of the test's own) on a clock the test
// moves (manual_time.h): no network, no emulator, no wall clock. The test runs the io_context
// itself on the test's thread, so each request, answer, linger, backoff and pause happens at an
// exact instant and in one order, however loaded the machine is.
#include "forward/forwarder.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "buffer/buffer.h"
#include "manual_time.h"
#include "support/subprocess.h"

namespace edgegw::forward {
namespace {

using namespace std::chrono_literals;

// One request as the scripted cloud saw it.
struct Seen {
  std::string token;
  std::vector<std::int64_t> values;
  Clock::time_point at;  // when it was sent
  int in_flight = 0;     // requests unanswered when it was sent, itself included
  bool breaker_open = false;
};

class ScriptedCloud final : public HttpClient {
 public:
  // The answer to a request, given the request and the ones before it.
  using Answer = std::function<Response(const Seen&)>;
  // A hook run as each request is sent (the test reads the forwarder's state there).
  using OnSend = std::function<void(Seen&)>;

  ScriptedCloud(boost::asio::io_context& io, testing::ManualTime& time, Answer answer)
      : io_(io), time_(time), answer_(std::move(answer)) {}

  void set_latency(Clock::duration latency) { latency_ = latency; }
  void set_on_send(OnSend on_send) { on_send_ = std::move(on_send); }

  void post(std::string_view, const std::string& token, std::string_view body, Done done) override {
    Seen seen{token, {}, time_.now(), ++in_flight_};
    const boost::json::value readings = boost::json::parse(body);
    for (const auto& r : readings.as_array()) {
      seen.values.push_back(r.at("value").to_number<std::int64_t>());
    }
    if (on_send_) on_send_(seen);
    auto finish = [this, done = std::move(done), response = answer_(seen)]() mutable {
      --in_flight_;
      done(std::move(response));
    };
    seen_.push_back(std::move(seen));
    if (latency_ == Clock::duration::zero()) {
      boost::asio::post(io_, std::move(finish));
      return;
    }
    answers_.push_back(time_.make_timer(io_.get_executor()));
    answers_.back()->wait_until(time_.now() + latency_,
                                [finish = std::move(finish)](bool) mutable { finish(); });
  }
  void close_idle() override {}

  const std::vector<Seen>& seen() const { return seen_; }

 private:
  boost::asio::io_context& io_;
  testing::ManualTime& time_;
  Answer answer_;
  OnSend on_send_;
  Clock::duration latency_{};
  int in_flight_ = 0;
  std::vector<Seen> seen_;
  std::vector<std::unique_ptr<Timer>> answers_;
};

Response ok() { return {200, R"({"status":true,"result":"ok"})", "", ""}; }
Response unavailable() { return {503, R"({"status":false,"message":"try later"})", "", ""}; }

class ForwarderTest : public ::testing::Test {
 protected:
  ForwarderTest() {
    cloud_config_.max_in_flight = 2;
    cloud_config_.batch.max_readings = 10;
    cloud_config_.batch.linger = 5ms;
    cloud_config_.retry.initial_backoff = 5ms;
    cloud_config_.retry.max_backoff = 20ms;
  }

  // Opens the buffer and the forwarder with cloud_config_ (tests change it before).
  void start(ScriptedCloud::Answer answer) {
    buffer::Options o;
    o.path = dir_.path() + "/buffer";
    o.sync = buffer::SyncMode::kNone;
    buffer_ = std::move(buffer::Buffer::open(o)).value();
    auto client = std::make_unique<ScriptedCloud>(io_, time_, std::move(answer));
    cloud_ = client.get();
    forwarder_ =
        std::make_unique<Forwarder>(io_, *buffer_, cloud_config_, std::move(client), time_);
    buffer_->set_on_append([this](buffer::DeviceId id) { forwarder_->notify(id); });
  }
  buffer::DeviceId device(const std::string& key, const std::string& token) {
    const buffer::DeviceId id = *buffer_->register_device(key);
    forwarder_->set_device(id, key, config::Secret(token));
    return id;
  }
  void run() {
    forwarder_->start();
    settle();
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

  // Runs what is ready now, and the waits due at this instant, until nothing is left to run.
  void settle() {
    do {
      while (io_.poll() > 0) {
      }
    } while (time_.fire_next(time_.now()));
  }
  // Runs until `done` holds, moving the clock from one pending wait to the next; false if it
  // does not hold within `limit` of the test's clock.
  bool run_until(const std::function<bool()>& done, Clock::duration limit = 10min) {
    const Clock::time_point end = time_.now() + limit;
    for (;;) {
      settle();
      if (done()) return true;
      if (!time_.fire_next(end)) return false;
    }
  }
  // Moves the clock by `d`, each wait due on the way fired at its instant.
  void advance(Clock::duration d) {
    const Clock::time_point end = time_.now() + d;
    (void)run_until([] { return false; }, d);
    time_.set(end);
    settle();
  }
  std::size_t requests() const { return cloud_->seen().size(); }

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
    if (!forwarder_) return;
    bool stopped = false;
    forwarder_->stop([&] { stopped = true; });
    EXPECT_TRUE(run_until([&] { return stopped; }));
  }

  testing::TempDir dir_;
  testing::ManualTime time_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  config::CloudConfig cloud_config_;
  std::unique_ptr<buffer::Buffer> buffer_;
  ScriptedCloud* cloud_ = nullptr;
  std::unique_ptr<Forwarder> forwarder_;
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
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
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
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
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
  ASSERT_TRUE(run_until([&] { return forwarder_->stats().devices_held == 1; }));
  ASSERT_TRUE(run_until([&] { return buffer_->queued(b).readings == 0; }));
  EXPECT_EQ(buffer_->queued(a).readings, 5u);  // kept
  forwarder_->set_device(a, "a", config::Secret("token-a2"));
  ASSERT_TRUE(run_until([&] { return buffer_->queued(a).readings == 0; }));
  EXPECT_EQ(accepted("token-a2", [](const Seen&) { return true; }), range(0, 5));
  EXPECT_EQ(forwarder_->stats().devices_held, 0u);
}

// 503 and no answer at all are retried, without a loss or a duplicate accepted.
TEST_F(ForwarderTest, TransientFailuresAreRetriedUntilDelivered) {
  int calls = 0;
  start([&](const Seen&) {
    const int n = calls++;
    if (n == 0) return Response{503, "", "0", ""};
    if (n == 1) return Response{0, "", "", "connect: Connection refused"};
    return ok();
  });
  const auto a = device("a", "token-a");
  append(a, 0, 8);
  run();
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  std::vector<std::int64_t> delivered;
  const auto seen = cloud_->seen();
  for (std::size_t i = 2; i < seen.size(); ++i) {
    delivered.insert(delivered.end(), seen[i].values.begin(), seen[i].values.end());
  }
  EXPECT_EQ(delivered, range(0, 8));
  EXPECT_GE(forwarder_->stats().retries, 2u);
}

// A batch waits batch.linger after its first reading (counted from when the forwarder hears of
// it: appends are gathered for 1 ms), so readings arriving meanwhile join it; a full batch goes at
// once.
TEST_F(ForwarderTest, ABatchLeavesWhenItsLingerEndsAndAFullOneAtOnce) {
  cloud_config_.batch.linger = 200ms;
  start([](const Seen&) { return ok(); });
  const auto a = device("a", "token-a");
  run();
  const Clock::time_point first = time_.now();
  append(a, 0, 3);
  advance(100ms);
  append(a, 3, 3);
  EXPECT_EQ(requests(), 0u);
  ASSERT_TRUE(run_until([&] { return requests() == 1; }));
  EXPECT_GE(cloud_->seen()[0].at - first, 200ms);
  EXPECT_LE(cloud_->seen()[0].at - first, 201ms);
  EXPECT_EQ(cloud_->seen()[0].values, range(0, 6));

  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  const Clock::time_point full = time_.now();
  append(a, 6, 10);
  ASSERT_TRUE(run_until([&] { return requests() == 2; }));
  EXPECT_LE(cloud_->seen()[1].at - full, 1ms);
  EXPECT_EQ(cloud_->seen()[1].values, range(6, 16));
}

// Without a Retry-After, the n-th retry waits at most initial_backoff * multiplier^n (full
// jitter under that ceiling, at most max_backoff); a delivery starts the ceiling over.
TEST_F(ForwarderTest, RetriesWaitUnderADoublingCeilingThatADeliveryResets) {
  cloud_config_.retry.initial_backoff = 100ms;
  cloud_config_.retry.max_backoff = 800ms;
  cloud_config_.retry.multiplier = 2.0;
  int calls = 0;
  start([&](const Seen&) { return ++calls <= 6 || calls == 8 ? unavailable() : ok(); });
  const auto a = device("a", "token-a");
  append(a, 0, 5);
  run();
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  const auto& seen = cloud_->seen();
  ASSERT_EQ(seen.size(), 7u);
  const Clock::duration ceilings[] = {100ms, 200ms, 400ms, 800ms, 800ms, 800ms};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_LE(seen[i + 1].at - seen[i].at, ceilings[i]) << "retry " << i + 1;
    EXPECT_EQ(seen[i + 1].values, range(0, 5));
  }

  append(a, 5, 5);  // the 8th request fails once: its retry is under the first ceiling again
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  ASSERT_EQ(seen.size(), 9u);
  EXPECT_LE(seen[8].at - seen[7].at, 100ms);
  EXPECT_EQ(seen[6].values, range(0, 5));  // the deliveries
  EXPECT_EQ(seen[8].values, range(5, 10));
  EXPECT_EQ(forwarder_->stats().retries, 7u);
}

// A Retry-After is waited exactly. A 429's pauses every lane (the budget is the profile's), not
// only the one it answered.
TEST_F(ForwarderTest, RetryAfterIsWaitedExactlyAndA429PausesEveryLane) {
  cloud_config_.max_in_flight = 1;
  int calls = 0;
  start([&](const Seen&) {
    ++calls;
    if (calls == 1) return Response{503, "", "3", ""};
    if (calls == 2)
      return Response{429, R"json({"message":"Too many requests (Retry-After: 2)"})json", "", ""};
    return ok();
  });
  const auto a = device("a", "token-a");
  const auto b = device("b", "token-b");
  append(a, 0, 4);
  append(b, 10, 4);
  run();
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  const auto& seen = cloud_->seen();
  ASSERT_EQ(seen.size(), 4u);
  // 1: refused with Retry-After 3; the other lane's request goes meanwhile (2), answered 429.
  EXPECT_NE(seen[0].token, seen[1].token);
  EXPECT_EQ(seen[1].at, seen[0].at);
  // Nothing leaves before the 429's 2 s, for either lane; the 503's lane waits its own 3 s.
  EXPECT_EQ(seen[2].at - seen[1].at, 2s);
  EXPECT_EQ(seen[2].token, seen[1].token);
  EXPECT_EQ(seen[3].at - seen[0].at, 3s);
  EXPECT_EQ(seen[3].token, seen[0].token);
}

// cloud.requests_per_minute: one request every 60 s / budget (and a 1% margin), for all lanes.
TEST_F(ForwarderTest, TheBudgetSpacesRequestsEvenlyOverAllLanes) {
  cloud_config_.requests_per_minute = 60;
  cloud_config_.max_in_flight = 4;
  start([](const Seen&) { return ok(); });
  for (int d = 0; d < 3; ++d) append(device("d" + std::to_string(d), "t"), d * 100, 25);
  run();
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  const auto& seen = cloud_->seen();
  ASSERT_EQ(seen.size(), 9u);  // 3 devices x 3 batches of at most 10
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i].at - seen[i - 1].at, 1010ms);
}

// After 5 failures in a row the breaker opens: one probe at a time, no other request meanwhile,
// until the cloud answers again; then nothing is lost.
TEST_F(ForwarderTest, AnOpenBreakerSendsOneProbeAtATimeUntilTheCloudAnswers) {
  cloud_config_.max_in_flight = 4;
  cloud_config_.retry.initial_backoff = 100ms;
  cloud_config_.retry.max_backoff = 400ms;
  int calls = 0;
  start([&](const Seen&) { return ++calls <= 12 ? unavailable() : ok(); });
  cloud_->set_latency(50ms);
  cloud_->set_on_send([&](Seen& s) { s.breaker_open = forwarder_->stats().breaker_open; });
  for (int d = 0; d < 8; ++d) append(device("d" + std::to_string(d), "t"), d * 100, 5);
  run();
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  int probes = 0;
  int widest = 0;
  for (const Seen& s : cloud_->seen()) {
    widest = std::max(widest, s.in_flight);
    if (s.breaker_open) {
      ++probes;
      EXPECT_EQ(s.in_flight, 1) << "a request beside the probe";
    }
  }
  EXPECT_EQ(widest, 4);  // closed, it used every slot
  EXPECT_GE(probes, 1);  // the failures opened it
  EXPECT_FALSE(forwarder_->stats().breaker_open);
  EXPECT_EQ(forwarder_->stats().readings_forwarded, 40u);
}

// A refused token holds its lane for retry.max_backoff, then the lane tries once again.
TEST_F(ForwarderTest, ARefusedTokenIsTriedAgainAfterTheLongestBackoff) {
  cloud_config_.retry.max_backoff = 30s;
  start([](const Seen&) { return Response{401, R"({"status":false})", "", ""}; });
  const auto a = device("a", "revoked");
  append(a, 0, 3);
  run();
  ASSERT_TRUE(run_until([&] { return requests() == 3; }));
  const auto& seen = cloud_->seen();
  EXPECT_EQ(seen[1].at - seen[0].at, 30s);
  EXPECT_EQ(seen[2].at - seen[1].at, 30s);
  EXPECT_EQ(buffer_->queued(a).readings, 3u);
  EXPECT_EQ(forwarder_->stats().devices_held, 1u);
}

// stop() finishes once the request in flight is answered and its readings are removed: a stop
// never abandons an answered batch's ack.
TEST_F(ForwarderTest, StopWaitsForTheRequestInFlightAndItsAck) {
  start([](const Seen&) { return ok(); });
  cloud_->set_latency(5s);
  const auto a = device("a", "token-a");
  append(a, 0, 3);
  run();
  ASSERT_TRUE(run_until([&] { return requests() == 1; }));
  const Clock::time_point sent = time_.now();
  bool stopped = false;
  forwarder_->stop([&] { stopped = true; });
  ASSERT_TRUE(run_until([&] { return stopped; }));
  EXPECT_EQ(time_.now() - sent, 5s);
  EXPECT_EQ(buffer_->queued(a).readings, 0u);
  forwarder_.reset();
}

}  // namespace
}  // namespace edgegw::forward
