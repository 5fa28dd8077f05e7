// SPDX-License-Identifier: Apache-2.0
// RocksDB's CRC32C in the CPU's own instruction.
//
// RocksDB checksums every write-ahead-log record and every table block with CRC32C. Debian builds
// librocksdb for any x86-64 CPU (without SSE4.2), so it computes them with lookup tables: 8% of
// the gateway's CPU in HTTP ingest, 3.6% in the Modbus bench (perf, 2026-12-07). Its calls to
// rocksdb::crc32c::Extend go through the PLT, so this definition in the executable takes their
// place (ELF interposition; the link exports it, buffer/CMakeLists.txt). It computes the same value
// (CRC32C is the log's and the tables' on-disk format) with SSE4.2's crc32 instruction where the
// CPU has one, and calls the library's own function where it has not. Should a RocksDB release
// rename or retype the function, this one is simply never called.
#include <dlfcn.h>
#include <nmmintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace rocksdb::crc32c {
std::uint32_t Extend(std::uint32_t crc, const char* data, std::size_t n);
}  // namespace rocksdb::crc32c

namespace edgegw::buffer {
namespace {

using ExtendFn = std::uint32_t (*)(std::uint32_t, const char*, std::size_t);

__attribute__((target("sse4.2"))) std::uint32_t extend_in_hardware(std::uint32_t crc,
                                                                   const char* data,
                                                                   std::size_t n) {
  std::uint64_t l = crc ^ 0xffffffffu;
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  for (; n > 0 && reinterpret_cast<std::uintptr_t>(p) % 8 != 0; --n) {
    l = _mm_crc32_u8(static_cast<std::uint32_t>(l), *p++);
  }
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    l = _mm_crc32_u64(l, word);
  }
  for (; n > 0; --n) l = _mm_crc32_u8(static_cast<std::uint32_t>(l), *p++);
  return static_cast<std::uint32_t>(l ^ 0xffffffffu);
}

// The library's own function (the next definition after this one), for a CPU without SSE4.2.
std::uint32_t extend_in_library(std::uint32_t crc, const char* data, std::size_t n) {
  static const auto fn =
      reinterpret_cast<ExtendFn>(::dlsym(RTLD_NEXT, "_ZN7rocksdb6crc32c6ExtendEjPKcm"));
  if (fn == nullptr) std::abort();  // no librocksdb behind this definition: cannot happen
  return fn(crc, data, n);
}

}  // namespace

bool crc32c_in_hardware() noexcept {
  // Static: RocksDB may ask before this file's initialisers ran (its own run first).
  static const bool hardware = (__builtin_cpu_init(), __builtin_cpu_supports("sse4.2"));
  return hardware;
}

}  // namespace edgegw::buffer

std::uint32_t rocksdb::crc32c::Extend(std::uint32_t crc, const char* data, std::size_t n) {
  return edgegw::buffer::crc32c_in_hardware() ? edgegw::buffer::extend_in_hardware(crc, data, n)
                                              : edgegw::buffer::extend_in_library(crc, data, n);
}
