// SPDX-License-Identifier: Apache-2.0
// A compact set of integers kept as disjoint closed intervals: the emulator's record of which
// `metadata.seq` values a device has delivered. In-order delivery is one interval, extended in
// O(1) amortised; a gap costs one more interval.
#pragma once

#include <cstdint>
#include <iterator>
#include <limits>
#include <map>

namespace edgegw::cloud_emulator {

class SeqSet {
 public:
  // Adds `seq`; false when it was already present.
  bool insert(std::int64_t seq) {
    // Fast path: the next value after the highest interval.
    if (!intervals_.empty()) {
      auto last = std::prev(intervals_.end());
      if (seq > last->second) {
        if (seq == last->second + 1) {
          last->second = seq;
        } else {
          intervals_.emplace_hint(intervals_.end(), seq, seq);
        }
        ++size_;
        return true;
      }
    }
    auto next = intervals_.upper_bound(seq);  // first interval starting after seq
    bool joined_prev = false;
    if (next != intervals_.begin()) {
      auto prev = std::prev(next);
      if (prev->second >= seq) return false;
      if (prev->second + 1 == seq) {
        prev->second = seq;
        joined_prev = true;
        if (next != intervals_.end() && seq != kMax && next->first == seq + 1) {
          prev->second = next->second;
          intervals_.erase(next);
        }
      }
    }
    if (!joined_prev) {
      if (next != intervals_.end() && seq != kMax && next->first == seq + 1) {
        const std::int64_t end = next->second;
        auto hint = intervals_.erase(next);
        intervals_.emplace_hint(hint, seq, end);
      } else {
        intervals_.emplace_hint(next, seq, seq);
      }
    }
    ++size_;
    return true;
  }

  bool contains(std::int64_t seq) const {
    auto next = intervals_.upper_bound(seq);
    if (next == intervals_.begin()) return false;
    return std::prev(next)->second >= seq;
  }

  bool empty() const { return intervals_.empty(); }
  std::uint64_t size() const { return size_; }                 // distinct values
  std::size_t intervals() const { return intervals_.size(); }  // 1 + gaps
  std::int64_t min() const { return intervals_.begin()->first; }
  std::int64_t max() const { return std::prev(intervals_.end())->second; }
  // Values missing between min() and max().
  std::uint64_t missing() const {
    if (intervals_.empty()) return 0;
    const auto span = static_cast<std::uint64_t>(max()) - static_cast<std::uint64_t>(min()) + 1;
    return span - size_;
  }
  void clear() {
    intervals_.clear();
    size_ = 0;
  }

 private:
  static constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::map<std::int64_t, std::int64_t> intervals_;  // first -> last, disjoint, not adjacent
  std::uint64_t size_ = 0;
};

}  // namespace edgegw::cloud_emulator
