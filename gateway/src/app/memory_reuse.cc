// SPDX-License-Identifier: Apache-2.0
#include "app/memory_reuse.h"

#include <malloc.h>

#include <cstdlib>
#include <string_view>

namespace edgegw::app {

namespace {

constexpr int kMmapThreshold = 4 << 20;   // above the queue's 2 MiB memtable blocks
constexpr int kTrimThreshold = 32 << 20;  // two of the queue's 16 MiB memtables

bool operator_chose() {
  if (std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr ||
      std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr) {
    return true;
  }
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables != nullptr &&
         std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos;
}

}  // namespace

bool reuse_freed_memory() {
  if (operator_chose()) return false;
  // Setting either turns glibc's dynamic thresholds off, so both are set.
  return mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 &&
         mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
}

}  // namespace edgegw::app
