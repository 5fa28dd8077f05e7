// SPDX-License-Identifier: Apache-2.0
#include "actions/analysis_runner.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "log/log.h"
#include "support/subprocess.h"

namespace edgegw::actions {
namespace {

using std::chrono::milliseconds;
using testing::TempDir;
using testing::wait_until;
using Kind = RunOutcome::Kind;

constexpr milliseconds kDeadline(4000);  // generous: only a hung run ever gets near it
constexpr const char* kApi = "http://127.0.0.1:8088";

config::AnalysisConfig sh(std::string name, std::string script) {
  config::AnalysisConfig config;
  config.name = std::move(name);
  config.command = {"/bin/sh", "-c", std::move(script)};
  config.timeout = std::chrono::seconds(10);
  return config;
}

// Single-quoted for the shell (the temp dir's path).
std::string q(const std::string& text) { return "'" + text + "'"; }

// The process is no more: gone, or a zombie of a PID 1 that does not reap orphans (a container).
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

pid_t read_pid(const std::string& path) {
  try {
    return static_cast<pid_t>(std::stoi(testing::read_file(path)));
  } catch (const std::exception&) {
    return 0;
  }
}

// The outcomes of the runs, tagged, in the order their `done` ran.
class Outcomes {
 public:
  std::function<void(const RunOutcome&)> add(int tag) {
    return [this, tag](const RunOutcome& outcome) {
      std::lock_guard lock(mu_);
      got_.emplace_back(tag, outcome);
    };
  }
  bool wait_for(std::size_t n) {
    return wait_until([&] { return size() >= n; }, kDeadline);
  }
  std::size_t size() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  std::vector<std::pair<int, RunOutcome>> all() {
    std::lock_guard lock(mu_);
    return got_;
  }
  RunOutcome at(std::size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i).second;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<int, RunOutcome>> got_;
};

class AnalysisRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] {
      // As in the daemon, whose I/O threads block the signals Asio handles: the child must not
      // inherit the mask.
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      io_.run();
    });
  }

  void TearDown() override {
    runner_.reset();
    stop_io();
  }

  void stop_io() {
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

  AnalysisRunner& make(config::AnalysisConfig config) {
    runner_ = std::make_unique<AnalysisRunner>(io_, std::move(config), kApi);
    return *runner_;
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::thread thread_;
  std::unique_ptr<AnalysisRunner> runner_;
  TempDir dir_;
  Outcomes outcomes_;
};

TEST_F(AnalysisRunnerTest, ScriptSeesTheCloudsEnvironmentAndNothingOfTheGateways) {
  ASSERT_EQ(::setenv("EDGEGW_TEST_GATEWAY_ONLY", "must-not-leak", 1), 0);
  const int open_fd = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC: only closefrom stops it
  ASSERT_GE(open_fd, 3);
  const std::string d = dir_.path();
  config::AnalysisConfig config = sh(
      "env-check", "env > " + q(d + "/env") + "; printf %s \"$T_ANALYSIS_ENV\" > " +
                       q(d + "/env.json") + "; printf %s \"$T_ANALYSIS_DATA\" > " +
                       q(d + "/data.json") + "; if [ -e /proc/$$/fd/" + std::to_string(open_fd) +
                       " ]; then echo open; else echo closed; fi > " + q(d + "/fd") +
                       "; readlink /proc/$$/fd/0 > " + q(d + "/stdin") +
                       "; exec grep -E '^Sig(Blk|Ign)' /proc/self/status > " + q(d + "/signals"));
  config.token = config::Secret("4b6e1f2a-aaaa-bbbb-cccc-000000000001");
  config.environment = {{"site", config::Secret("plant \"A\" \\ north")},
                        {"limit", config::Secret("42")}};
  const std::string scope = R"([{"variable":"temperature","value":21.5}])";
  AnalysisRunner& runner = make(std::move(config));
  // An ignored signal is not inherited either (the daemon may ignore SIGPIPE, say).
  struct sigaction ignore {};
  struct sigaction previous {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGHUP, &ignore, &previous), 0);
  ASSERT_TRUE(runner.submit(scope, outcomes_.add(0)));
  ASSERT_TRUE(outcomes_.wait_for(1));
  ::sigaction(SIGHUP, &previous, nullptr);
  ::close(open_fd);
  ::unsetenv("EDGEGW_TEST_GATEWAY_ONLY");
  EXPECT_EQ(outcomes_.at(0).kind, Kind::kExited);
  EXPECT_EQ(outcomes_.at(0).exit_code, 0);

  std::map<std::string, std::string> env;
  std::istringstream lines(testing::read_file(d + "/env"));
  for (std::string line; std::getline(lines, line);) {
    if (const auto eq = line.find('='); eq != std::string::npos) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  EXPECT_EQ(env["T_ANALYSIS_CONTEXT"], "edgegw");
  EXPECT_EQ(env["T_ANALYSIS_ID"], "env-check");
  EXPECT_EQ(env["T_ANALYSIS_TOKEN"], "4b6e1f2a-aaaa-bbbb-cccc-000000000001");
  EXPECT_EQ(env["TAGOIO_API"], kApi);
  EXPECT_EQ(env["TAGOIO_REALTIME"], kApi);
  EXPECT_EQ(env["TAGOIO_SSE"], kApi);
  EXPECT_FALSE(env["PATH"].empty());
  EXPECT_EQ(env.count("EDGEGW_TEST_GATEWAY_ONLY"), 0u);
  // Nothing but what was built (and what the shell itself adds).
  const std::set<std::string> allowed = {"PATH",
                                         "HOME",
                                         "LANG",
                                         "TZ",
                                         "T_ANALYSIS_CONTEXT",
                                         "T_ANALYSIS_ID",
                                         "T_ANALYSIS_TOKEN",
                                         "T_ANALYSIS_ENV",
                                         "T_ANALYSIS_DATA",
                                         "TAGOIO_API",
                                         "TAGOIO_REALTIME",
                                         "TAGOIO_SSE",
                                         "PWD",
                                         "OLDPWD",
                                         "SHLVL",
                                         "_"};
  for (const auto& [key, value] : env) EXPECT_TRUE(allowed.contains(key)) << key;

  EXPECT_EQ(boost::json::parse(testing::read_file(d + "/env.json")),
            boost::json::parse(R"([{"key":"site","value":"plant \"A\" \\ north"},)"
                               R"({"key":"limit","value":"42"}])"));
  EXPECT_EQ(testing::read_file(d + "/data.json"), scope);
  EXPECT_EQ(testing::read_file(d + "/fd"), "closed\n");
  EXPECT_EQ(testing::read_file(d + "/stdin"), "/dev/null\n");
  // Signals 1..31 neither blocked nor ignored, as the shell's exec passed them on (what the shell
  // reports of itself is racy: it blocks every signal while it forks). (glibc's posix_spawn leaves
  // its own internal signals, 32 and 33, ignored in the child: nothing a script can use.)
  std::istringstream signals(testing::read_file(d + "/signals"));
  std::map<std::string, std::uint64_t> masks;
  for (std::string key, hex; signals >> key >> hex;) masks[key] = std::stoull(hex, nullptr, 16);
  ASSERT_EQ(masks.size(), 2u);
  EXPECT_EQ(masks["SigBlk:"], 0u);
  EXPECT_EQ(masks["SigIgn:"] & 0x7FFFFFFFu, 0u);
}

TEST_F(AnalysisRunnerTest, ExitCodesAndSignalsAreCounted) {
  AnalysisRunner& runner = make(sh("codes", R"(case "$T_ANALYSIS_DATA" in
                                                 *fail*) exit 3;;
                                                 *term*) kill -TERM $$;;
                                               esac)"));
  const std::size_t fds_before = open_fds();
  ASSERT_TRUE(runner.submit("[]", outcomes_.add(0)));
  ASSERT_TRUE(runner.submit(R"([{"variable":"fail"}])", outcomes_.add(1)));
  ASSERT_TRUE(runner.submit(R"([{"variable":"term"}])", outcomes_.add(2)));
  ASSERT_TRUE(outcomes_.wait_for(3));
  const auto got = outcomes_.all();
  EXPECT_EQ(got[0].second.kind, Kind::kExited);
  EXPECT_EQ(got[0].second.exit_code, 0);
  EXPECT_EQ(got[1].second.kind, Kind::kExited);
  EXPECT_EQ(got[1].second.exit_code, 3);
  EXPECT_EQ(got[2].second.kind, Kind::kSignalled);
  EXPECT_EQ(got[2].second.signal, SIGTERM);
  const AnalysisStats& stats = runner.stats();
  EXPECT_EQ(stats.runs, 3u);
  EXPECT_EQ(stats.succeeded, 1u);
  EXPECT_EQ(stats.failed, 2u);
  EXPECT_EQ(stats.timed_out, 0u);
  EXPECT_EQ(stats.running, 0);
  EXPECT_EQ(stats.queued, 0);
  EXPECT_EQ(runner.name(), "codes");
  EXPECT_EQ(open_fds(), fds_before);  // pipes and pidfds closed before `done`
}

TEST_F(AnalysisRunnerTest, TimeoutKillsTheWholeProcessGroup) {
  const std::string bg = dir_.path() + "/bg";
  config::AnalysisConfig config = sh("slow", "sleep 1000 & echo $! > " + q(bg) + "; sleep 1000");
  config.timeout = milliseconds(300);
  AnalysisRunner& runner = make(std::move(config));
  ASSERT_TRUE(runner.submit("[]", outcomes_.add(0)));
  ASSERT_TRUE(outcomes_.wait_for(1));
  const RunOutcome outcome = outcomes_.at(0);
  EXPECT_EQ(outcome.kind, Kind::kTimedOut);
  EXPECT_EQ(outcome.signal, SIGKILL);
  EXPECT_GE(outcome.duration, milliseconds(300));
  const pid_t child = read_pid(bg);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(wait_until([&] { return gone(child); }, kDeadline));
  EXPECT_EQ(runner.stats().timed_out, 1u);
  EXPECT_EQ(runner.stats().failed, 0u);
  EXPECT_GE(runner.stats().duration_ms_total, 300u);
}

TEST_F(AnalysisRunnerTest, WhatAScriptLeavesBehindEndsWithIt) {
  const std::string bg = dir_.path() + "/bg";
  AnalysisRunner& runner = make(sh("leaver", "sleep 1000 & echo $! > " + q(bg)));
  ASSERT_TRUE(runner.submit("[]", outcomes_.add(0)));
  ASSERT_TRUE(outcomes_.wait_for(1));
  EXPECT_EQ(outcomes_.at(0).kind, Kind::kExited);
  EXPECT_EQ(outcomes_.at(0).exit_code, 0);
  const pid_t child = read_pid(bg);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(wait_until([&] { return gone(child); }, kDeadline));
}

TEST_F(AnalysisRunnerTest, RunsBeyondMaxRunningQueueInOrderAndBeyondMaxQueuedAreRefused) {
  const std::string d = dir_.path();
  // Fails loudly (a file "overlap") if two runs ever overlap; waits for the gate.
  config::AnalysisConfig config =
      sh("queue", "mkdir " + q(d + "/lock") + " 2>/dev/null || echo overlap >> " +
                      q(d + "/overlap") + "; while [ ! -e " + q(d + "/gate") +
                      " ]; do sleep 0.01; done; printf '%s\\n' \"$T_ANALYSIS_DATA\" >> " +
                      q(d + "/order") + "; rmdir " + q(d + "/lock"));
  config.max_running = 1;
  config.max_queued = 2;
  AnalysisRunner& runner = make(std::move(config));
  EXPECT_TRUE(runner.submit("[1]", outcomes_.add(1)));
  EXPECT_TRUE(runner.submit("[2]", outcomes_.add(2)));
  EXPECT_TRUE(runner.submit("[3]", outcomes_.add(3)));
  EXPECT_FALSE(runner.submit("[4]", outcomes_.add(4)));
  EXPECT_EQ(runner.stats().refused, 1u);
  EXPECT_TRUE(wait_until([&] { return runner.stats().running == 1 && runner.stats().queued == 2; },
                         kDeadline));
  dir_.write("gate", "");
  ASSERT_TRUE(outcomes_.wait_for(3));
  const auto got = outcomes_.all();
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[static_cast<std::size_t>(i)].first, i + 1);
    EXPECT_EQ(got[static_cast<std::size_t>(i)].second.kind, Kind::kExited);
    EXPECT_EQ(got[static_cast<std::size_t>(i)].second.exit_code, 0);
  }
  EXPECT_EQ(testing::read_file(d + "/order"), "[1]\n[2]\n[3]\n");
  EXPECT_FALSE(std::ifstream(d + "/overlap").good());
  EXPECT_EQ(runner.stats().succeeded, 3u);
  EXPECT_EQ(runner.stats().running, 0);
  EXPECT_EQ(runner.stats().queued, 0);
  // The slots are free again.
  EXPECT_TRUE(runner.submit("[5]", outcomes_.add(5)));
  EXPECT_TRUE(outcomes_.wait_for(4));
}

TEST_F(AnalysisRunnerTest, MissingExecutableFailsToStart) {
  config::AnalysisConfig config;
  config.name = "missing";
  config.command = {"/nonexistent/edgegw-analysis", "--flag"};
  AnalysisRunner& runner = make(std::move(config));
  ASSERT_TRUE(runner.submit("[]", outcomes_.add(0)));
  ASSERT_TRUE(outcomes_.wait_for(1));
  const RunOutcome outcome = outcomes_.at(0);
  EXPECT_EQ(outcome.kind, Kind::kFailedToStart);
  EXPECT_NE(outcome.error.find("'/nonexistent/edgegw-analysis'"), std::string::npos)
      << outcome.error;
  EXPECT_NE(outcome.error.find("No such file or directory"), std::string::npos) << outcome.error;
  EXPECT_EQ(runner.stats().start_failures, 1u);
  EXPECT_EQ(runner.stats().runs, 0u);
  EXPECT_EQ(runner.stats().running, 0);
}

TEST_F(AnalysisRunnerTest, EveryRunsOnASchedule) {
  config::AnalysisConfig config = sh("ticker", "exit 0");
  config.every = milliseconds(200);
  AnalysisRunner& runner = make(std::move(config));
  runner.start_schedule();
  EXPECT_TRUE(wait_until([&] { return runner.stats().succeeded >= 2; }, kDeadline));
  runner.stop();
}

TEST_F(AnalysisRunnerTest, StopKillsTheRunningAndCancelsTheQueued) {
  const std::string pid_file = dir_.path() + "/pid";
  AnalysisRunner& runner = make(sh("stopped", "echo $$ > " + q(pid_file) + "; sleep 1000"));
  ASSERT_TRUE(runner.submit("[]", outcomes_.add(0)));
  ASSERT_TRUE(runner.submit("[]", outcomes_.add(1)));
  ASSERT_TRUE(wait_until([&] { return read_pid(pid_file) > 0; }, kDeadline));
  const pid_t pid = read_pid(pid_file);
  runner.stop();
  runner.stop();  // idempotent
  ASSERT_TRUE(outcomes_.wait_for(2));
  // In either order: stop() kills at once, the strand drops the queued run when it gets to it.
  std::map<int, RunOutcome> got;
  for (const auto& [tag, outcome] : outcomes_.all()) got[tag] = outcome;
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, Kind::kCancelled);
  EXPECT_EQ(got[0].signal, SIGKILL);
  EXPECT_EQ(got[1].kind, Kind::kCancelled);  // never started
  EXPECT_EQ(got[1].duration, milliseconds(0));
  EXPECT_TRUE(gone(pid));
  EXPECT_EQ(runner.stats().runs, 1u);
  EXPECT_EQ(runner.stats().failed, 0u);
  EXPECT_EQ(runner.stats().running, 0);
  EXPECT_EQ(runner.stats().queued, 0);
  EXPECT_FALSE(runner.submit("[]", outcomes_.add(2)));
  EXPECT_EQ(runner.stats().refused, 0u);  // refused after a stop: not counted
}

TEST_F(AnalysisRunnerTest, DestructorAfterTheIoContextStoppedKillsAndReaps) {
  const std::string pid_file = dir_.path() + "/pid";
  AnalysisRunner& runner = make(sh("abandoned", "echo $$ > " + q(pid_file) + "; sleep 1000"));
  ASSERT_TRUE(runner.submit("[]", outcomes_.add(0)));
  ASSERT_TRUE(wait_until([&] { return read_pid(pid_file) > 0; }, kDeadline));
  const pid_t pid = read_pid(pid_file);
  io_.stop();
  stop_io();
  runner_.reset();  // kill, then a blocking waitpid
  EXPECT_TRUE(gone(pid));
  EXPECT_EQ(outcomes_.size(), 0u);  // posted to the io_context, which has stopped
  io_.restart();
  io_.run();
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_EQ(outcomes_.at(0).kind, Kind::kCancelled);
}

TEST_F(AnalysisRunnerTest, LargeScopeIsCutToTheNewestReadingsThatFit) {
  const std::string data = dir_.path() + "/data";
  AnalysisRunner& runner = make(sh("large", "printf %s \"$T_ANALYSIS_DATA\" > " + q(data)));
  boost::json::array readings;
  std::size_t bytes = 0;
  for (int i = 0; bytes < 200 * 1024; ++i) {
    readings.push_back(boost::json::object{
        {"variable", "temperature"}, {"value", i}, {"unit", "C"}, {"group", "batch-0001"}});
    bytes += boost::json::serialize(readings.back()).size() + 1;
  }
  ASSERT_TRUE(runner.submit(boost::json::serialize(readings), outcomes_.add(0)));
  ASSERT_TRUE(outcomes_.wait_for(1));
  EXPECT_EQ(outcomes_.at(0).kind, Kind::kExited);
  EXPECT_EQ(outcomes_.at(0).exit_code, 0);
  const std::string got = testing::read_file(data);
  EXPECT_LE(got.size(), AnalysisRunner::kMaxScopeBytes);
  const boost::json::array kept = boost::json::parse(got).as_array();
  ASSERT_FALSE(kept.empty());
  ASSERT_LT(kept.size(), readings.size());
  // The tail, whole: as many of the newest as fit.
  const std::size_t first = readings.size() - kept.size();
  for (std::size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(kept[i], readings[first + i]);
  EXPECT_GT(got.size() + 1 + boost::json::serialize(readings[first - 1]).size(),
            AnalysisRunner::kMaxScopeBytes);
}

class AnalysisOutputTest : public AnalysisRunnerTest {
 protected:
  void SetUp() override {
    log::init(log::Format::kText, log::Level::info, &out_);
    AnalysisRunnerTest::SetUp();
  }
  void TearDown() override {
    AnalysisRunnerTest::TearDown();
    log::init(log::Format::kText, log::Level::info);
  }
  std::string logged() {
    log::flush();
    return out_.str();
  }
  std::ostringstream out_;
};

TEST_F(AnalysisOutputTest, OutputIsLoggedLineByLineCutAndRateLimited) {
  AnalysisRunner& runner = make(sh("chatty", R"(echo hello; echo oops >&2
                                                head -c 5000 /dev/zero | tr '\0' x; echo
                                                printf 'no newline at the end')"));
  ASSERT_TRUE(runner.submit("[]", outcomes_.add(0)));
  ASSERT_TRUE(outcomes_.wait_for(1));
  const std::string text = logged();
  EXPECT_NE(text.find("info  [analysis] analysis chatty: hello\n"), std::string::npos) << text;
  EXPECT_NE(text.find("warning [analysis] analysis chatty: oops\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find("analysis chatty: " + std::string(AnalysisRunner::kMaxLineBytes, 'x') + "...\n"),
      std::string::npos);
  EXPECT_EQ(text.find(std::string(AnalysisRunner::kMaxLineBytes + 1, 'x')), std::string::npos);
  EXPECT_NE(text.find("analysis chatty: no newline at the end\n"), std::string::npos) << text;
  EXPECT_NE(text.find("info  [analysis] analysis chatty: done in "), std::string::npos) << text;

  // A flood: at most a burst of kOutputLinesPerSecond (and what refills meanwhile) is logged.
  out_.str("");
  config::AnalysisConfig flood = sh("flood",
                                    "i=0; while [ $i -lt 500 ]; do echo line $i; "
                                    "i=$((i+1)); done");
  runner_.reset();
  AnalysisRunner& flooder = make(std::move(flood));
  ASSERT_TRUE(flooder.submit("[]", outcomes_.add(1)));
  ASSERT_TRUE(outcomes_.wait_for(2));
  const std::string flooded = logged();
  std::size_t lines = 0;
  for (auto pos = flooded.find("analysis flood: line "); pos != std::string::npos;
       pos = flooded.find("analysis flood: line ", pos + 1)) {
    ++lines;
  }
  EXPECT_GE(lines, static_cast<std::size_t>(AnalysisRunner::kOutputLinesPerSecond));
  EXPECT_LT(lines, 500u);
  EXPECT_NE(flooded.find("lines of its output not logged"), std::string::npos) << flooded;
}

}  // namespace
}  // namespace edgegw::actions
