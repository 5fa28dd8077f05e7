// SPDX-License-Identifier: Apache-2.0
#include "app/memory_reuse.h"

#include <sys/resource.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace edgegw::app {
namespace {

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// A queue memtable's worth of RocksDB arena blocks (8 x 2 MiB), each page written, then freed.
void fill_and_free_a_memtable() {
  constexpr std::size_t kBlock = 2 << 20;
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int b = 0; b < 8; ++b) {
    blocks.emplace_back(new char[kBlock]);
    volatile char* p = blocks.back().get();
    for (std::size_t i = 0; i < kBlock; i += 4096) p[i] = 1;
  }
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

TEST(MemoryReuse, TheOperatorsMallocSettingsStand) {
  ASSERT_EQ(setenv("MALLOC_TRIM_THRESHOLD_", "1048576", 1), 0);
  EXPECT_FALSE(reuse_freed_memory());
  unsetenv("MALLOC_TRIM_THRESHOLD_");
  ASSERT_EQ(setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536", 1), 0);
  EXPECT_FALSE(reuse_freed_memory());
  unsetenv("GLIBC_TUNABLES");
}

// Without it, glibc maps such blocks on their own or trims them off the heap when freed: each
// memtable after the first faults its 4,096 pages in again.
TEST(MemoryReuse, AFlushedMemtablesPagesServeTheNextWithoutPageFaults) {
  if (kSanitized) GTEST_SKIP() << "the sanitizers bring their own allocator";
  ASSERT_TRUE(reuse_freed_memory());
  fill_and_free_a_memtable();  // the first one faults its pages in
  const long before = minor_faults();
  fill_and_free_a_memtable();
  fill_and_free_a_memtable();
  EXPECT_LT(minor_faults() - before, 100);
}

}  // namespace
}  // namespace edgegw::app
