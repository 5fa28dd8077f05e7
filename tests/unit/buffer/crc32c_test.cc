// SPDX-License-Identifier: Apache-2.0
// buffer/crc32c.cc: RocksDB's checksums on the CPU's crc32 instruction. The value must be the
// library's, bit for bit (it is the on-disk format of every WAL record and table block), and the
// library's calls must reach it.
#include <dlfcn.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "buffer/rocksdb_options.h"

namespace rocksdb::crc32c {
std::uint32_t Extend(std::uint32_t crc, const char* data, std::size_t n);
}  // namespace rocksdb::crc32c

namespace edgegw::buffer {
namespace {

constexpr const char* kSymbol = "_ZN7rocksdb6crc32c6ExtendEjPKcm";
using ExtendFn = std::uint32_t (*)(std::uint32_t, const char*, std::size_t);

// librocksdb's own definition (the one after the executable's in the lookup order).
ExtendFn library_extend() { return reinterpret_cast<ExtendFn>(::dlsym(RTLD_NEXT, kSymbol)); }

TEST(Crc32c, TheLibrarysCallsReachThisDefinition) {
  // What the library's PLT binds to is the first definition in the global scope.
  EXPECT_EQ(::dlsym(RTLD_DEFAULT, kSymbol), reinterpret_cast<void*>(&rocksdb::crc32c::Extend));
  EXPECT_NE(library_extend(), nullptr);
  EXPECT_NE(reinterpret_cast<void*>(library_extend()),
            reinterpret_cast<void*>(&rocksdb::crc32c::Extend));
}

TEST(Crc32c, IsTheLibrarysValueForEveryLengthAlignmentAndSeed) {
  EXPECT_EQ(rocksdb::crc32c::Extend(0, "123456789", 9), 0xE3069283u);  // CRC-32C's check value
  const ExtendFn library = library_extend();
  ASSERT_NE(library, nullptr);
  std::mt19937_64 random(20261207);
  std::string data(4096 + 16, '\0');
  for (char& c : data) c = static_cast<char>(random());
  for (std::size_t offset = 0; offset < 16; ++offset) {
    for (std::size_t n : {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 255, 1000, 4096}) {
      const auto seed = static_cast<std::uint32_t>(random());
      EXPECT_EQ(rocksdb::crc32c::Extend(seed, data.data() + offset, n),
                library(seed, data.data() + offset, n))
          << "offset " << offset << ", " << n << " bytes";
    }
  }
  // Extending in two parts is the whole.
  const std::uint32_t whole = rocksdb::crc32c::Extend(0, data.data(), 1000);
  EXPECT_EQ(
      rocksdb::crc32c::Extend(rocksdb::crc32c::Extend(0, data.data(), 333), data.data() + 333, 667),
      whole);
}

TEST(Crc32c, SaysWhetherTheCpuDoesIt) {
  // Every x86-64 CPU since 2008 has SSE4.2; the machines this runs on do.
  EXPECT_EQ(crc32c_in_hardware(), __builtin_cpu_supports("sse4.2") != 0);
}

}  // namespace
}  // namespace edgegw::buffer
