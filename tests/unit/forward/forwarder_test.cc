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
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "buffer/buffer.h"
#include "manual_time.h"
#include "support/dead_letters.h"
#include "support/held_wal.h"
#include "support/subprocess.h"
#include "support/write_counter.h"

namespace edgegw::forward {
namespace {

using namespace std::chrono_literals;

// One request as the scripted cloud saw it.
struct Seen {
  std::string token;
  std::vector<std::int64_t> values;
  std::vector<std::string> variables;
  std::string body;
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
    Seen seen{token, {}, {}, std::string(body), time_.now(), ++in_flight_};
    const boost::json::value readings = boost::json::parse(body);
    for (const auto& r : readings.as_array()) {
      seen.values.push_back(r.at("value").to_number<std::int64_t>());
      seen.variables.emplace_back(r.at("variable").as_string());
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
    if (held_wal_) o.env = held_wal_->env();
    if (buffer_on_test_clock_) {  // the readings' stored_at (their age) on the test's clock too
      o.clock = [this] {
        return 1'700'000'000'000 +
               std::chrono::duration_cast<std::chrono::milliseconds>(time_.now().time_since_epoch())
                   .count();
      };
    }
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
  // Readings value = from..from+n-1; their variable cycles through `variables`.
  void append(buffer::DeviceId id, std::int64_t from, int n,
              const std::vector<std::string>& variables = {"v"}) {
    std::vector<std::string> jsons;
    for (int i = 0; i < n; ++i) {
      const std::int64_t value = from + i;
      jsons.push_back(R"({"variable":")" +
                      variables[static_cast<std::size_t>(value) % variables.size()] +
                      R"(","value":)" + std::to_string(value) + "}");
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
  // fresh_first's outages: the cloud answers 503 while `down`; the readings' age is on the test's
  // clock. Returns device "a".
  buffer::DeviceId start_an_outage(bool& down) {
    buffer_on_test_clock_ = true;
    start([&down](const Seen&) { return down ? unavailable() : ok(); });
    const auto a = device("a", "token-a");
    run();
    return a;
  }
  // Ends an outage (the answer's `down`) and runs until the buffer is empty; returns the index
  // of the first request after it.
  std::size_t end_outage(bool& down) {
    const std::size_t first = requests();
    down = false;
    EXPECT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
    return first;
  }
  // The values of the requests from index `first` on, sorted.
  std::vector<std::int64_t> sorted_values_since(std::size_t first) const {
    std::vector<std::int64_t> out;
    for (std::size_t i = first; i < requests(); ++i) {
      const auto& values = cloud_->seen()[i].values;
      out.insert(out.end(), values.begin(), values.end());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<buffer::DeadLetter> dead_letters() { return testing::dead_letters(*buffer_); }

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
  bool buffer_on_test_clock_ = false;
  std::unique_ptr<testing::HeldWal> held_wal_;  // set before start(): the buffer's WAL writes
  std::unique_ptr<buffer::Buffer> buffer_;
  ScriptedCloud* cloud_ = nullptr;
  std::unique_ptr<Forwarder> forwarder_;
};

const std::vector<std::string> kVariables = {"temp", "pressure", "humidity"};

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

// Eight lanes answered at one instant: their acks are not a write each (a write per request was
// a fifth of a request's cost at one reading per request), and a refused reading's dead letter
// goes in its removal's write. The first may be written alone, as the writer was idle (Asio's
// strand hands over the first answer before the others); the seven that arrive meanwhile share
// the next write.
TEST_F(ForwarderTest, TheAcksOfAnswersArrivingTogetherShareWrites) {
  cloud_config_.max_in_flight = 8;
  cloud_config_.batch.linger = 0ms;
  start([](const Seen& s) {
    if (s.values == std::vector<std::int64_t>{3} || s.values == std::vector<std::int64_t>{5}) {
      return Response{400, R"({"status":false,"message":"bad value"})", "", ""};
    }
    return ok();
  });
  cloud_->set_latency(10ms);
  auto counter = std::make_unique<testing::WriteCounter>();
  const testing::WriteCounter& written = *counter;
  buffer_->add_write_hook(std::move(counter));
  for (int d = 0; d < 8; ++d) append(device("d" + std::to_string(d), "t"), d, 1);
  const int appended = written.writes;
  run();
  ASSERT_EQ(requests(), 8u);  // all sent, none answered yet
  time_.set(time_.now() + 10ms);
  while (time_.fire_next(time_.now())) {
  }  // the eight answers, before any of them is handled
  settle();
  EXPECT_EQ(buffer_->stats().readings, 0u);
  EXPECT_EQ(forwarder_->stats().readings_forwarded, 6u);
  EXPECT_EQ(dead_letters().size(), 2u);
  EXPECT_GE(written.writes - appended, 1);
  EXPECT_LE(written.writes - appended, 2);
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
  const std::vector<buffer::DeadLetter> letters = dead_letters();
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

// A device forgotten (no token) while its batch waits for a free slot sends nothing: its readings
// stay buffered until its next token, with which they go. (A request without a token was refused
// with 401 and held the lane: the provisioning suite saw it under load.)
TEST_F(ForwarderTest, ALaneForgottenWithItsBatchInHandSendsNothingUntilItsNextToken) {
  cloud_config_.max_in_flight = 1;
  start([](const Seen& s) {
    return s.token.empty() ? Response{401, R"({"status":false})", "", ""} : ok();
  });
  cloud_->set_latency(100ms);
  const auto a = device("a", "token-a");
  const auto b = device("b", "token-b");
  append(a, 0, 3);
  append(b, 0, 3);
  run();
  ASSERT_EQ(requests(), 1u);  // one in flight; the other lane's batch is read and waits
  const bool a_first = cloud_->seen()[0].token == "token-a";
  const auto waiting = a_first ? b : a;
  const std::string key = a_first ? "b" : "a";
  forwarder_->set_device(waiting, key, config::Secret{});
  advance(1s);
  for (const Seen& s : cloud_->seen()) EXPECT_FALSE(s.token.empty()) << "a request without token";
  EXPECT_EQ(buffer_->queued(waiting).readings, 3u);
  EXPECT_EQ(buffer_->queued(a_first ? a : b).readings, 0u);
  append(waiting, 3, 2);  // appends meanwhile wait too, and wake nothing
  EXPECT_EQ(io_.poll(), 0u) << "an append to a lane without a token woke the forwarder";
  advance(1s);
  EXPECT_EQ(requests(), 1u);
  forwarder_->set_device(waiting, key, config::Secret("token-" + key + "2"));
  ASSERT_TRUE(run_until([&] { return buffer_->queued(waiting).readings == 0; }));
  EXPECT_EQ(accepted("token-" + key + "2", [](const Seen&) { return true; }), range(0, 5));
  EXPECT_EQ(forwarder_->stats().devices_held, 0u);
}

// A lane without a token hears no append; its next token makes it listen again even when its
// queue is empty by then (the local API withdrew what it held), so what comes next goes.
TEST_F(ForwarderTest, ALaneGivenATokenWithAnEmptyQueueHearsTheNextAppend) {
  start([](const Seen&) { return ok(); });
  const auto a = device("a", "");
  append(a, 0, 3);
  run();
  advance(1s);  // its linger ends in make_ready: parked, nothing sent
  ASSERT_EQ(requests(), 0u);
  const buffer::Buffer::Span span = buffer_->span(a);
  std::vector<buffer::Seq> seqs;
  for (buffer::Seq q = span.first; q < span.next; ++q) seqs.push_back(q);
  ASSERT_TRUE(buffer_->withdraw(a, seqs));
  ASSERT_EQ(buffer_->queued(a).readings, 0u);
  forwarder_->set_device(a, "a", config::Secret("token-a"));
  settle();
  append(a, 3, 2);
  ASSERT_TRUE(run_until([&] { return buffer_->queued(a).readings == 0; }));
  EXPECT_EQ(accepted("token-a", [](const Seen&) { return true; }), range(3, 5));
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

// During an outage appends wake nothing: a lane backing off, or held for a refused token, reads
// its whole queue when its wait ends, so an append meanwhile posts no work to the forwarder's
// context, and its readings still go, in order, after the wait.
TEST_F(ForwarderTest, AppendsToALaneThatWaitsWakeNothingAndGoAfterTheWait) {
  cloud_config_.retry.initial_backoff = 1s;
  cloud_config_.retry.max_backoff = 1s;
  bool up = false;
  start([&](const Seen& s) {
    if (s.token == "revoked") return Response{401, R"({"status":false})", "", ""};
    return up ? ok() : Response{503, R"({"status":false})", "1", ""};  // Retry-After: 1 s
  });
  const auto a = device("a", "token-a");
  const auto b = device("b", "revoked");
  append(a, 0, 2);
  append(b, 0, 2);
  run();
  ASSERT_TRUE(run_until([&] { return requests() == 2; }));  // a failed, b refused: both wait
  advance(10ms);
  const std::optional<Clock::time_point> wake = time_.next_wait();  // the lanes' waits end
  ASSERT_TRUE(wake);
  EXPECT_GE(*wake - time_.now(), 900ms);
  for (int i = 0; i < 3; ++i) {
    append(a, 2 + 2 * i, 2);
    append(b, 2 + 2 * i, 2);
    EXPECT_EQ(io_.poll(), 0u) << "append " << i << " woke the forwarder";
    EXPECT_EQ(time_.next_wait(), wake) << "append " << i << " set a timer";
  }
  up = true;
  ASSERT_TRUE(run_until([&] { return buffer_->queued(a).readings == 0; }));
  const Seen* failed = &cloud_->seen()[cloud_->seen()[0].token == "token-a" ? 0 : 1];
  EXPECT_EQ(accepted("token-a", [&](const Seen& s) { return &s != failed; }),
            range(0, 8));  // after the failed request, everything went in one
  forwarder_->set_device(b, "b", config::Secret("token-b"));
  ASSERT_TRUE(run_until([&] { return buffer_->queued(b).readings == 0; }));
  EXPECT_EQ(accepted("token-b", [](const Seen&) { return true; }), range(0, 8));
}

// The same with the breaker open: the lanes whose batch waits for the probe's turn, and the one
// that probes, look at their queue after that batch.
TEST_F(ForwarderTest, AppendsWhileTheBreakerIsOpenWakeNothingAndGoOnceTheCloudAnswers) {
  cloud_config_.retry.initial_backoff = 100ms;
  cloud_config_.retry.max_backoff = 400ms;
  bool up = false;
  std::map<std::string, std::vector<std::int64_t>> taken;  // by token, in the order taken
  start([&](const Seen& s) {
    if (!up) return unavailable();
    auto& values = taken[s.token];
    values.insert(values.end(), s.values.begin(), s.values.end());
    return ok();
  });
  std::vector<buffer::DeviceId> ids;
  for (int d = 0; d < 6; ++d) {
    ids.push_back(device("d" + std::to_string(d), "token-" + std::to_string(d)));
  }
  for (const auto id : ids) append(id, 0, 2);
  run();
  ASSERT_TRUE(run_until([&] { return forwarder_->stats().breaker_open; }));
  advance(2s);  // every lane's backoff over: their batches wait for the probe's turn
  const std::optional<Clock::time_point> wake = time_.next_wait();
  ASSERT_TRUE(wake);
  for (int i = 0; i < 3; ++i) {
    for (const auto id : ids) append(id, 2 + 2 * i, 2);
    EXPECT_EQ(io_.poll(), 0u) << "appends " << i << " woke the forwarder";
    EXPECT_EQ(time_.next_wait(), wake) << "appends " << i << " set a timer";
  }
  up = true;
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  for (int d = 0; d < 6; ++d) EXPECT_EQ(taken["token-" + std::to_string(d)], range(0, 8)) << d;
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

// cloud.drain: fresh_first. An outage leaves a backlog older than linger + fresh_after: when the
// cloud answers again, the first request accepted carries each variable's newest reading, then
// the backlog goes oldest first; every reading is delivered once.
TEST_F(ForwarderTest, AfterAnOutageEachVariablesNewestReadingGoesFirst) {
  bool down = true;
  const auto a = start_an_outage(down);
  append(a, 0, 300, kVariables);
  advance(2min);  // retried all along; the readings are two minutes old now
  append(a, 300, 30, kVariables);
  advance(1s);
  const std::size_t first = end_outage(down);

  std::vector<const Seen*> accepted_requests;  // everything after `down` was lifted
  for (std::size_t i = first; i < requests(); ++i) accepted_requests.push_back(&cloud_->seen()[i]);
  ASSERT_FALSE(accepted_requests.empty());
  // The first request after the outage: the newest of each variable (327, 328, 329), in order.
  EXPECT_EQ(accepted_requests[0]->values, (std::vector<std::int64_t>{327, 328, 329}));
  EXPECT_EQ(accepted_requests[0]->variables,
            (std::vector<std::string>{"temp", "pressure", "humidity"}));
  // Then the backlog, oldest first; nothing twice, nothing missing.
  std::vector<std::int64_t> backfill;
  for (std::size_t i = 1; i < accepted_requests.size(); ++i) {
    backfill.insert(backfill.end(), accepted_requests[i]->values.begin(),
                    accepted_requests[i]->values.end());
  }
  EXPECT_TRUE(std::is_sorted(backfill.begin(), backfill.end()));
  backfill.insert(backfill.end(), {327, 328, 329});
  std::sort(backfill.begin(), backfill.end());
  EXPECT_EQ(backfill, range(0, 330));
  const ForwarderStats stats = forwarder_->stats();
  EXPECT_EQ(stats.readings_forwarded, 330u);
  EXPECT_EQ(stats.backfills, 1u);
  EXPECT_EQ(stats.backfilling, 0u);
  EXPECT_GE(stats.present_delay_seconds, 0.0);
  EXPECT_LT(stats.present_delay_seconds, 0.1);  // the test's clock: one request's answer
}

// The buffer counts an append's readings before its group commit writes them: a pick of each
// variable's newest reading made meanwhile does not see them. The batch in hand gives way to them
// at its next retry, and they are the first readings the cloud accepts after the outage (a CI run
// had the older pick accepted first).
TEST_F(ForwarderTest, APickMadeWhileNewerReadingsWereBeingWrittenGivesWayToThem) {
  held_wal_ = std::make_unique<testing::HeldWal>();
  bool down = true;
  const auto a = start_an_outage(down);
  append(a, 0, 300, kVariables);
  advance(2min);  // an old backlog, retried all along: its batch is 297, 298, 299
  held_wal_->hold();
  std::thread appender([&] { append(a, 300, 3, kVariables); });
  held_wal_->wait_for_a_held_write();  // 300..302 counted, not written
  const std::size_t during = requests();
  advance(200ms);  // retries: each picks the newest again, without 300..302
  // No ASSERT before the release: the appender would wait for it forever.
  EXPECT_GT(requests(), during);
  EXPECT_EQ(cloud_->seen().back().values, (std::vector<std::int64_t>{297, 298, 299}));
  held_wal_->release();
  appender.join();
  advance(100ms);
  const std::size_t first = end_outage(down);
  ASSERT_GT(requests(), first);
  EXPECT_EQ(cloud_->seen()[first].values, (std::vector<std::int64_t>{300, 301, 302}));
  EXPECT_EQ(sorted_values_since(first), range(0, 303));
}

// Readings withdrawn at the end of a backlog are not newer readings the pick missed: a failing
// lane's batch is read again at most once per retry (not over and over before it leaves), and
// what it sends first when the cloud answers is the newest of what is left.
TEST_F(ForwarderTest, ABacklogWhoseNewestReadingsWereWithdrawnStillRetries) {
  bool down = true;
  const auto a = start_an_outage(down);
  append(a, 0, 300, kVariables);
  const buffer::Buffer::Span span = buffer_->span(a);
  const std::vector<buffer::Seq> newest = {span.next - 3, span.next - 2, span.next - 1};
  ASSERT_EQ(*buffer_->withdraw(a, newest), 3u);  // values 297..299
  // Each handler counted: a lane reading its batch again before every send would never stop.
  std::size_t handlers = 0;
  const Clock::time_point end = time_.now() + 2min;
  do {
    while (handlers < 1'000'000 && io_.poll_one() > 0) ++handlers;
  } while (handlers < 1'000'000 && time_.fire_next(end));
  ASSERT_LT(handlers, 1'000'000u) << "the lane reads its batch again and again";
  time_.set(end);
  const std::size_t first = end_outage(down);
  ASSERT_GT(requests(), first);
  EXPECT_EQ(cloud_->seen()[first].values, (std::vector<std::int64_t>{294, 295, 296}));
  EXPECT_EQ(sorted_values_since(first), range(0, 297));
}

// Readings that arrive while a backlog is sent go before the rest of it.
TEST_F(ForwarderTest, ReadingsArrivingDuringABackfillOvertakeIt) {
  buffer_on_test_clock_ = true;
  start([](const Seen&) { return ok(); });
  cloud_->set_latency(10ms);
  const auto a = device("a", "token-a");
  append(a, 0, 200, {"t", "p"});
  advance(2min);  // the gateway was down: a backlog found at start
  cloud_->set_on_send([&](Seen&) {
    if (requests() == 3) append(a, 1000, 5, {"t", "p"});  // during the backfill
  });
  run();
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  const std::vector<std::int64_t> order = accepted("token-a", [](const Seen&) { return true; });
  ASSERT_EQ(order.size(), 205u);
  EXPECT_EQ(std::vector<std::int64_t>(order.begin(), order.begin() + 2),
            (std::vector<std::int64_t>{198, 199}));
  const auto at = [&](std::int64_t v) {
    return std::find(order.begin(), order.end(), v) - order.begin();
  };
  EXPECT_LT(at(1004), at(150)) << "the live readings waited for the backlog";
  std::vector<std::int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> expected = range(0, 200);
  for (std::int64_t v = 1000; v < 1005; ++v) expected.push_back(v);
  EXPECT_EQ(sorted, expected);
  EXPECT_EQ(forwarder_->stats().backfills, 1u);
}

// Readings that keep coming take every other turn of the lane at most: the backlog moves even
// when each turn finds new ones (a lane's turns are few under a tight requests_per_minute).
TEST_F(ForwarderTest, ABackfillMovesWhileReadingsKeepComing) {
  buffer_on_test_clock_ = true;
  start([](const Seen&) { return ok(); });
  cloud_->set_latency(10ms);
  const auto a = device("a", "token-a");
  append(a, 0, 200, {"t", "p"});
  advance(2min);
  std::int64_t next_live = 1000;
  cloud_->set_on_send([&](Seen&) {
    if (next_live < 1030) append(a, next_live++, 1, {"t", "p"});  // one new reading per request
  });
  run();
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  int backfill = 0, live = 0;
  for (std::size_t i = 1; i < 31 && i < requests(); ++i) {  // after the newest of each variable
    const auto& values = cloud_->seen()[i].values;
    (values.front() >= 1000 ? live : backfill) += 1;
  }
  EXPECT_GE(backfill, 15) << "live " << live;
  EXPECT_GE(live, 10);
  std::vector<std::int64_t> sorted = accepted("token-a", [](const Seen&) { return true; });
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> expected = range(0, 200);
  for (std::int64_t v = 1000; v < 1030; ++v) expected.push_back(v);
  EXPECT_EQ(sorted, expected);
}

// A reading the cloud refuses for good in a batch sent out of order (the newest of each
// variable) is dead-lettered alone; the rest of it and the backlog are delivered once.
TEST_F(ForwarderTest, ARefusedReadingAmongTheNewestIsDeadLetteredAlone) {
  buffer_on_test_clock_ = true;
  const auto refuses = [](const Seen& s) {
    return std::find(s.values.begin(), s.values.end(), 98) != s.values.end();
  };
  start([&](const Seen& s) {
    if (refuses(s)) return Response{400, R"({"status":false,"message":"bad value"})", "", ""};
    return ok();
  });
  const auto a = device("a", "token-a");
  append(a, 0, 100, {"t", "p", "h"});  // the newest: 97 (p), 98 (h), 99 (t)
  advance(2min);
  run();
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  std::vector<std::int64_t> delivered =
      accepted("token-a", [&](const Seen& s) { return !refuses(s); });
  std::sort(delivered.begin(), delivered.end());
  std::vector<std::int64_t> expected = range(0, 100);
  expected.erase(expected.begin() + 98);
  EXPECT_EQ(delivered, expected);
  const std::vector<buffer::DeadLetter> letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].reading_json, R"({"variable":"h","value":98})");
  EXPECT_EQ(buffer_->stats().bytes, 0u);
  EXPECT_EQ(forwarder_->stats().readings_forwarded, 99u);
}

// cloud.drain: fifo keeps a backlog oldest first.
TEST_F(ForwarderTest, FifoSendsABacklogOldestFirst) {
  buffer_on_test_clock_ = true;
  cloud_config_.drain = config::DrainOrder::kFifo;
  start([](const Seen&) { return ok(); });
  const auto a = device("a", "token-a");
  append(a, 0, 50, {"t", "p"});
  advance(2min);
  run();
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  EXPECT_EQ(accepted("token-a", [](const Seen&) { return true; }), range(0, 50));
  EXPECT_EQ(forwarder_->stats().backfills, 0u);
}

// Readings the gateway stamped while the system clock was not synchronised wait for it (their
// lane sends nothing), then go with their real time worked out from the boot clock.
TEST_F(ForwarderTest, ReadingsStampedBeforeAClockSyncWaitForItThenGoWithTheirRealTime) {
  ClockView clock{false, 5000, 70000, "boot-a"};
  start([](const Seen&) { return ok(); });
  forwarder_->set_clock([&] { return clock; });
  const auto a = device("a", "token-a");
  const std::string stamped = R"({"variable":"v","value":1,"time":"1970-01-01T00:00:05.000Z",)"
                              R"("metadata":{"edgegw_unsynced_at":"boot-a/60000"}})";
  const std::string own = R"({"variable":"v","value":2,"time":"2026-12-06T11:59:00.000Z"})";
  const buffer::Record records[] = {{a, stamped}, {a, own}};
  ASSERT_TRUE(buffer_->append(records));
  run();
  advance(5s);
  EXPECT_EQ(requests(), 0u);
  EXPECT_EQ(buffer_->stats().readings, 2u);
  clock = {true, 1796558400000, 160000, "boot-a"};  // synchronised: noon, 100 s after arrival
  ASSERT_TRUE(run_until([&] { return buffer_->stats().readings == 0; }));
  ASSERT_EQ(requests(), 1u);
  EXPECT_EQ(cloud_->seen()[0].body,
            R"([{"variable":"v","value":1,"time":"2026-12-06T11:58:20.000Z"},)" + own + "]");
  EXPECT_EQ(buffer_->stats().bytes, 0u);
}

}  // namespace
}  // namespace edgegw::forward
