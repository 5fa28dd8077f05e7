// SPDX-License-Identifier: Apache-2.0
// type: analysis — runs the named analysis with the triggering reading as its scope. A run that
// started counts as done whatever its exit (as in the cloud: a failed analysis is not run again;
// its exit is a metric); a run the analysis's queue refused is retried.
#pragma once

#include <memory>

#include "actions/analysis_runner.h"
#include "actions/executor.h"

namespace edgegw::actions {

class AnalysisExecutor final : public Executor {
 public:
  explicit AnalysisExecutor(std::shared_ptr<AnalysisRunner> runner) : runner_(std::move(runner)) {}
  void run(const Job& job, Done done) override;
  std::size_t max_in_flight() const override { return 64; }

 private:
  std::shared_ptr<AnalysisRunner> runner_;
};

}  // namespace edgegw::actions
