// SPDX-License-Identifier: Apache-2.0
// Runs an analysis (a script or an executable) on the box the way the TagoIO cloud runs one: a
// fresh process per run, told who it is and what triggered it through its environment, which the
// official SDKs' Analysis reads (T_ANALYSIS_CONTEXT, _ID, _TOKEN, _ENV, _DATA; TAGOIO_API,
// _REALTIME, _SSE).
//
// - At most config.max_running runs at once; the next config.max_queued wait in order; beyond
//   that a submit is refused (and counted).
// - Each run is a process group of its own, with /dev/null for stdin, no other descriptor of the
//   gateway, default signal dispositions and a built (not inherited) environment. Its output is
//   logged line by line ("analysis <name>: <line>"; stdout at info, stderr at warn), at most
//   kOutputLinesPerSecond lines a second per analysis.
// - A run ends when its process exits. Whatever it left behind in its process group is then
//   killed (as the cloud's sandbox ends with the run), and so is the whole group at the timeout.
// - Exits are watched through pidfds: no SIGCHLD handler, no waitpid(-1), nothing global.
// All state lives on one strand; submit() and stop() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "actions/stats.h"
#include "config/config.h"

namespace edgegw::actions {

struct RunOutcome {
  // kExited: the process exited (exit_code); kSignalled: a signal not ours ended it (signal);
  // kTimedOut: killed at the timeout; kFailedToStart: see error; kCancelled: stop() dropped it
  // while queued, or killed it while it ran.
  enum class Kind { kExited, kSignalled, kTimedOut, kFailedToStart, kCancelled };
  Kind kind = Kind::kExited;
  int exit_code = 0;
  int signal = 0;  // kSignalled, kTimedOut and kCancelled when it ran: SIGKILL
  std::chrono::milliseconds duration{0};  // from the start to the exit (0 when it never ran)
  std::string error;                      // kFailedToStart: why it could not start
};

class AnalysisRunner {
 public:
  static constexpr int kOutputLinesPerSecond = 20;    // per analysis, stdout and stderr together
  static constexpr std::size_t kMaxLineBytes = 4096;  // longer lines are cut, marked "..."
  // T_ANALYSIS_DATA is cut (its newest readings kept) to this: the kernel refuses an environment
  // string over 128 KiB (MAX_ARG_STRLEN).
  static constexpr std::size_t kMaxScopeBytes = 120 * 1024;

  // api_url: what TAGOIO_API (and TAGOIO_REALTIME, TAGOIO_SSE) are set to for the script.
  AnalysisRunner(boost::asio::io_context& io, config::AnalysisConfig config, std::string api_url);
  ~AnalysisRunner();  // stop()
  AnalysisRunner(const AnalysisRunner&) = delete;
  AnalysisRunner& operator=(const AnalysisRunner&) = delete;

  // Queues one run with `scope_json` (a JSON array of readings: the scope the script gets as
  // T_ANALYSIS_DATA); it starts at once while fewer than max_running run. Returns false when
  // max_queued runs already wait (counted as refused) or after stop() (not counted). Any thread.
  // `done` runs on the strand (so on the io_context) once the run has ended, in the order the
  // runs end.
  bool submit(std::string scope_json, std::function<void(const RunOutcome&)> done = {});

  // Starts the `every` schedule, if configured: each tick (the first one `every` from now)
  // submits a run with the scope "[]". Any thread.
  void start_schedule();

  // Stops the schedule, drops the queued runs (their `done` gets kCancelled), kills the running
  // process groups (SIGKILL) and reaps them (their `done` gets kCancelled unless they had exited
  // already). Idempotent; any thread. While the io_context runs, the reaping happens on it;
  // once io.run() has returned, it happens here (kill, then a blocking waitpid), and the `done`
  // callbacks are posted (they run only if the io_context runs again).
  void stop();

  const AnalysisStats& stats() const noexcept;
  const std::string& name() const noexcept;

 private:
  // Shared with the pending handlers, which may outlive the runner by a moment (after stop()).
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace edgegw::actions
