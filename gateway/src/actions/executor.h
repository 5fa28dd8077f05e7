// SPDX-License-Identifier: Apache-2.0
// What carries out one type of action (mqtt, post, analysis) for a job of the outbox. The
// dispatcher (actions/dispatcher.h) calls run() and acts on the attempt: done removes the job,
// retry backs off and runs it again, reject dead-letters it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "actions/engine.h"

namespace edgegw::actions {

struct Attempt {
  enum class Result { kDone, kRetry, kReject };
  Result result = Result::kDone;
  int status = 0;   // the HTTP status, when there was one
  std::string why;  // for the log and the dead job; never holds a secret
  std::optional<std::chrono::milliseconds> retry_after;  // the server asked for this wait
};

class Executor {
 public:
  using Done = std::function<void(Attempt)>;
  virtual ~Executor() = default;
  // Carries out `job`; `done` runs once, on any thread, never inside run().
  virtual void run(const Job& job, Done done) = 0;
  // Jobs of one action carried out at once (1: strictly in order).
  virtual std::size_t max_in_flight() const = 0;
  // At shutdown: no new work; what runs may be abandoned (its job stays in the outbox).
  virtual void stop() {}
};

// The reading as the scope of a post or an analysis: its cloud JSON with "device" (the key).
std::string scope_item(const Job& job);

}  // namespace edgegw::actions
