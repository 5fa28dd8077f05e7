// SPDX-License-Identifier: Apache-2.0
#include "core/cpus.h"

#include <sched.h>

#include <thread>

namespace edgegw::core {

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) {
    // No mask to read (an unusual kernel): every CPU the library knows of.
    const unsigned n = std::thread::hardware_concurrency();
    for (unsigned c = 0; c < (n == 0 ? 1 : n); ++c) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}

unsigned usable_cpu_count() { return static_cast<unsigned>(usable_cpus().size()); }

bool pin_to_cpus(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const int c : cpus) {
    if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
  }
  if (CPU_COUNT(&set) == 0) return false;
  return ::sched_setaffinity(0, sizeof(set), &set) == 0;
}

}  // namespace edgegw::core
