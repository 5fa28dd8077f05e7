// SPDX-License-Identifier: Apache-2.0
// Small helpers shared by the end-to-end benches.
#pragma once

#include <algorithm>
#include <vector>

namespace edgegw::bench {

// The median of a few rounds (the upper middle one for an even count).
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace edgegw::bench
