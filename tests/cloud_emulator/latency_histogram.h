// SPDX-License-Identifier: Apache-2.0
// End-to-end latency of readings as the cloud sees them: arrival time minus the reading's own
// `time` (which a load generator sets to its publish time), in milliseconds. Log-linear buckets
// (exact below 128 ms, then 64 per power of two: at most 1.6% high), so recording is one
// increment and the memory is fixed whatever the run's length.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace edgegw::cloud_emulator {

class LatencyHistogram {
 public:
  void add(std::int64_t ms) {
    if (ms < 0) {
      ++early_;  // the reading's time is ahead of ours (a skewed clock): not a latency
      return;
    }
    ++buckets_[index(static_cast<std::uint64_t>(ms))];
    ++count_;
    sum_ += static_cast<std::uint64_t>(ms);
    if (static_cast<std::uint64_t>(ms) > max_) max_ = static_cast<std::uint64_t>(ms);
  }

  std::uint64_t count() const { return count_; }
  std::uint64_t early() const { return early_; }
  std::uint64_t max() const { return max_; }
  double mean() const {
    return count_ == 0 ? 0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }

  // The smallest bucket bound below which at least q (0..1] of the values lie (the bucket's
  // highest value, capped at the maximum seen); 0 when empty.
  std::uint64_t percentile(double q) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.999999);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank && buckets_[i] > 0) return upper(i) < max_ ? upper(i) : max_;
    }
    return max_;
  }

  void clear() { *this = LatencyHistogram(); }

 private:
  static constexpr unsigned kSubBits = 6;                   // 64 buckets per power of two
  static constexpr std::uint64_t kLinear = 2u << kSubBits;  // 0..127 exact
  static constexpr std::size_t kBuckets = kLinear + (64 - kSubBits - 1) * (1u << kSubBits);

  static std::size_t index(std::uint64_t v) {
    if (v < kLinear) return static_cast<std::size_t>(v);
    const unsigned k = static_cast<unsigned>(std::bit_width(v)) - 1;  // >= kSubBits + 1
    const std::uint64_t sub = (v >> (k - kSubBits)) & ((1u << kSubBits) - 1);
    return kLinear + (k - kSubBits - 1) * (1u << kSubBits) + sub;
  }
  static std::uint64_t upper(std::size_t i) {
    if (i < kLinear) return i;
    const std::size_t j = i - kLinear;
    const unsigned k = static_cast<unsigned>(j >> kSubBits) + kSubBits + 1;
    const std::uint64_t sub = j & ((1u << kSubBits) - 1);
    return (((1u << kSubBits) + sub + 1) << (k - kSubBits)) - 1;
  }

  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0, early_ = 0, sum_ = 0, max_ = 0;
};

}  // namespace edgegw::cloud_emulator
