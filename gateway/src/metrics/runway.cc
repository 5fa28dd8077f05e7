// SPDX-License-Identifier: Apache-2.0
#include "metrics/runway.h"

#include <limits>

namespace edgegw::metrics {

void Runway::add(const Sample& sample) {
  // A counter that went backwards (it cannot, but a restarted component could) starts afresh.
  if (!samples_.empty() &&
      (sample.appended < samples_.back().appended || sample.drained < samples_.back().drained)) {
    samples_.clear();
  }
  samples_.push_back(sample);
  // Keep one sample at or beyond the window's start, so the rate always spans the whole window.
  while (samples_.size() > 2 && samples_[1].at <= sample.at - window_) samples_.pop_front();
}

Runway::Estimate Runway::estimate(std::uint64_t readings, std::uint64_t bytes,
                                  std::uint64_t max_bytes) const {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Estimate e;
  double growth = 0;  // bytes per second
  if (samples_.size() >= 2) {
    const Sample& first = samples_.front();
    const Sample& last = samples_.back();
    const double seconds = std::chrono::duration<double>(last.at - first.at).count();
    if (seconds > 0) {
      e.ingest_per_second = static_cast<double>(last.appended - first.appended) / seconds;
      e.drain_per_second = static_cast<double>(last.drained - first.drained) / seconds;
      growth = (static_cast<double>(last.bytes) - static_cast<double>(first.bytes)) / seconds;
    }
  }
  if (readings == 0) {
    e.time_to_drain_seconds = 0;
  } else if (e.drain_per_second > 0) {
    e.time_to_drain_seconds = static_cast<double>(readings) / e.drain_per_second;
  } else {
    e.time_to_drain_seconds = kInf;
  }
  if (bytes >= max_bytes) {
    e.time_to_full_seconds = 0;
  } else if (growth > 0) {
    e.time_to_full_seconds = static_cast<double>(max_bytes - bytes) / growth;
  } else {
    e.time_to_full_seconds = kInf;
  }
  return e;
}

}  // namespace edgegw::metrics
