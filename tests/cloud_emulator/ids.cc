// SPDX-License-Identifier: Apache-2.0
#include "ids.h"

#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <random>

#include "device_api/record.h"

namespace edgegw::cloud_emulator {

namespace {

template <std::size_t N>
std::array<unsigned char, N> random_bytes() {
  std::array<unsigned char, N> out{};
  if (RAND_bytes(out.data(), static_cast<int>(N)) != 1) {
    // OpenSSL could not seed itself (should not happen); the OS's source is still unpredictable.
    std::random_device device;
    for (auto& b : out) b = static_cast<unsigned char>(device());
  }
  return out;
}

}  // namespace

std::string uuid_v4() {
  auto b = random_bytes<16>();
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // variant 10xx
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0F];
  }
  return out;
}

std::string random_object_id(std::int64_t created_ms) {
  const auto b = random_bytes<8>();
  std::uint64_t serial = 0;
  std::memcpy(&serial, b.data(), sizeof serial);
  return device_api::object_id(created_ms, serial);
}

}  // namespace edgegw::cloud_emulator
