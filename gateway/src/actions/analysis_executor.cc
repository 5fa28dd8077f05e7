// SPDX-License-Identifier: Apache-2.0
#include "actions/analysis_executor.h"

namespace edgegw::actions {

void AnalysisExecutor::run(const Job& job, Done done) {
  const bool queued = runner_->submit("[" + scope_item(job) + "]", [done](const RunOutcome& r) {
    if (r.kind == RunOutcome::Kind::kCancelled) {
      done({Attempt::Result::kRetry, 0, "the gateway stopped",
            std::nullopt});  // runs after a restart
    } else {
      done({});
    }
  });
  if (!queued) {
    done({Attempt::Result::kRetry, 0, "analysis " + runner_->name() + ": its queue is full",
          std::nullopt});
  }
}

}  // namespace edgegw::actions
