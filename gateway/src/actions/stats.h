// SPDX-License-Identifier: Apache-2.0
// What actions and analyses report of themselves (the metrics read these), as plain structs of
// atomics: written by their owners on the I/O threads, read at any time from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace edgegw::actions {

// One analysis (AnalysisRunner). A run that is cancelled (the gateway stopping) counts in `runs`
// and `duration_ms_total` only.
struct AnalysisStats {
  std::atomic<std::uint64_t> runs{0};               // processes started
  std::atomic<std::uint64_t> succeeded{0};          // exited with 0
  std::atomic<std::uint64_t> failed{0};             // non-zero exit, or killed by a signal not ours
  std::atomic<std::uint64_t> timed_out{0};          // killed at the analysis's timeout
  std::atomic<std::uint64_t> refused{0};            // submitted while max_queued runs waited
  std::atomic<std::uint64_t> start_failures{0};     // could not be started (e.g. no such file)
  std::atomic<std::uint64_t> duration_ms_total{0};  // of the runs that ended, start to exit
  std::atomic<std::int64_t> running{0};             // gauge
  std::atomic<std::int64_t> queued{0};              // gauge: waiting for a free slot
};

// One action (actions/engine.h, actions/dispatcher.h).
struct ActionStats {
  std::atomic<std::uint64_t> fired{0};          // jobs put in the outbox
  std::atomic<std::uint64_t> refused{0};        // not fired: max_queued jobs already waited
  std::atomic<std::uint64_t> done{0};           // carried out, removed from the outbox
  std::atomic<std::uint64_t> retries{0};        // attempts that will be tried again
  std::atomic<std::uint64_t> dead_lettered{0};  // refused for good (a 4xx), kept as dead jobs
  std::atomic<std::int64_t> queued{0};          // gauge: jobs in the outbox
};

// What the metrics ask of the actions (actions/service.h implements it): each configured
// action's and analysis's counters, by name.
class StatsSource {
 public:
  virtual ~StatsSource() = default;
  virtual std::map<std::string, std::shared_ptr<ActionStats>> action_stats() const = 0;
  virtual std::map<std::string, std::shared_ptr<const AnalysisStats>> analysis_stats() const = 0;
};

}  // namespace edgegw::actions
