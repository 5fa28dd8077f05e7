// SPDX-License-Identifier: Apache-2.0
// AppendGroup against a host table of the test's own: the bodies of one turn go in one
// append_each call, each answered with its own outcome; a host without append_each (before ABI
// 1.4) gets one append_checked per body.
#include "append_group.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace edgegw::plugins::http {
namespace {

namespace asio = boost::asio;

// What the fake host saw: one entry per call, the bodies it was given.
std::vector<std::vector<std::string>> g_calls;

std::string body_of(const edgegw_raw_message& m) { return {m.payload.ptr, m.payload.len}; }

// A body "bad..." is refused; any other counts one reading per byte.
std::int32_t fake_append_each(edgegw_host_ctx*, const edgegw_raw_message* messages,
                              std::size_t count, edgegw_append_outcome* outcomes, char*,
                              std::size_t) {
  std::vector<std::string>& call = g_calls.emplace_back();
  for (std::size_t i = 0; i < count; ++i) {
    const std::string body = body_of(messages[i]);
    call.push_back(body);
    edgegw_append_outcome& o = outcomes[i];
    EXPECT_EQ(o.struct_size, sizeof(edgegw_append_outcome));
    if (body.rfind("bad", 0) == 0) {
      o.code = EDGEGW_ERR_INVALID_ARGUMENT;
      o.readings = 0;
      std::snprintf(o.error, o.error_size, "%s", ("refused: " + body).c_str());
    } else {
      o.code = EDGEGW_OK;
      o.readings = body.size();
    }
  }
  return EDGEGW_OK;
}

std::int32_t fake_append_checked(edgegw_host_ctx* host, const edgegw_raw_message* messages,
                                 std::size_t count, std::uint32_t flags, std::size_t* readings,
                                 char* error, std::size_t error_size) {
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(flags, EDGEGW_APPEND_ALL_OR_NOTHING);
  edgegw_append_outcome o{};
  o.struct_size = sizeof o;
  o.error = error;
  o.error_size = error_size;
  fake_append_each(host, messages, count, &o, nullptr, 0);
  *readings = o.readings;
  return o.code;
}

struct Answer {
  bool done = false;
  AppendGroup::Outcome outcome;
};

// Each body from a coroutine of its own, all started before the context runs: one turn.
void post_all(asio::io_context& ioc, AppendGroup& group, const std::vector<std::string>& bodies,
              std::vector<Answer>& answers) {
  answers.assign(bodies.size(), Answer{});
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    asio::co_spawn(
        ioc,
        [&group, &body = bodies[i], &answer = answers[i]]() -> asio::awaitable<void> {
          answer.outcome = co_await group.append("boiler-1", body, 1700000000000);
          answer.done = true;
        },
        asio::detached);
  }
  ioc.restart();
  ioc.run();
}

edgegw_device_api host_table(bool with_each) {
  edgegw_device_api api{};
  api.struct_size = sizeof api;
  api.append_checked = &fake_append_checked;
  if (with_each) api.append_each = &fake_append_each;
  return api;
}

TEST(AppendGroup, OneTurnsBodiesGoInOneCallEachWithItsOwnOutcome) {
  g_calls.clear();
  const edgegw_device_api api = host_table(true);
  asio::io_context ioc(1);
  AppendGroup group(ioc, LocalApi(&api, nullptr));
  const std::vector<std::string> bodies = {"first", "bad one", "third!"};
  std::vector<Answer> answers;
  post_all(ioc, group, bodies, answers);

  ASSERT_EQ(g_calls.size(), 1u);
  EXPECT_EQ(g_calls[0], bodies);  // in the order they came
  ASSERT_TRUE(answers[0].done && answers[1].done && answers[2].done);
  EXPECT_TRUE(answers[0].outcome.result.ok());
  EXPECT_EQ(answers[0].outcome.readings, 5u);
  EXPECT_EQ(answers[1].outcome.result.code, EDGEGW_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(answers[1].outcome.result.text, "refused: bad one");
  EXPECT_EQ(answers[1].outcome.readings, 0u);
  EXPECT_TRUE(answers[2].outcome.result.ok());
  EXPECT_EQ(answers[2].outcome.readings, 6u);

  // A later turn is a call of its own.
  post_all(ioc, group, {"alone!"}, answers);
  ASSERT_EQ(g_calls.size(), 2u);
  EXPECT_EQ(g_calls[1], std::vector<std::string>{"alone!"});
  ASSERT_TRUE(answers[0].done);
  EXPECT_EQ(answers[0].outcome.readings, 6u);
}

TEST(AppendGroup, AnOlderHostGetsOneAppendPerBody) {
  g_calls.clear();
  const edgegw_device_api api = host_table(false);
  asio::io_context ioc(1);
  AppendGroup group(ioc, LocalApi(&api, nullptr));
  std::vector<Answer> answers;
  post_all(ioc, group, {"one", "bad two", "three"}, answers);
  ASSERT_EQ(g_calls.size(), 3u);
  EXPECT_EQ(answers[0].outcome.readings, 3u);
  EXPECT_EQ(answers[1].outcome.result.code, EDGEGW_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(answers[1].outcome.result.text, "refused: bad two");
  EXPECT_EQ(answers[2].outcome.readings, 5u);
}

// The source stops (its contexts stop, then the groups go, then the contexts: HttpSource::Workers)
// while bodies wait for their turn: nothing is appended, no request is answered (its client sees
// the connection close and sends it again), and each waiting request's coroutine is destroyed
// with its context (under ASan: without touching the group that is gone).
TEST(AppendGroup, StoppedBeforeItsTurnAppendsNothingAndFreesTheWaitingRequests) {
  g_calls.clear();
  const edgegw_device_api api = host_table(true);
  int alive = 0;
  struct Frame {  // lives in a request's coroutine frame
    int& alive;
    explicit Frame(int& a) : alive(a) { ++alive; }
    ~Frame() { --alive; }
  };
  std::vector<Answer> answers(3);
  {
    asio::io_context ioc(1);
    auto group = std::make_unique<AppendGroup>(ioc, LocalApi(&api, nullptr));
    for (Answer& answer : answers) {
      asio::co_spawn(
          ioc,
          [&group, &answer, &alive]() -> asio::awaitable<void> {
            const Frame frame(alive);
            answer.outcome = co_await group->append("boiler-1", "a body", 1700000000000);
            answer.done = true;
          },
          asio::detached);
    }
    for (int i = 0; i < 3; ++i) ASSERT_EQ(ioc.poll_one(), 1u);  // each request up to its wait
    EXPECT_EQ(alive, 3);
    ioc.stop();  // the turn's flush stays queued
    group.reset();
    // Asio posts the destruction of a coroutine whose handler went unused: the context's end
    // destroys it, without running it.
    for (const Answer& answer : answers) EXPECT_FALSE(answer.done);
  }
  EXPECT_EQ(alive, 0) << "a waiting request's coroutine outlived its context";
  EXPECT_TRUE(g_calls.empty());
  for (const Answer& answer : answers) EXPECT_FALSE(answer.done);
}

}  // namespace
}  // namespace edgegw::plugins::http
