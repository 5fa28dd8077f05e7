// SPDX-License-Identifier: Apache-2.0
#include "rules.h"

#include <boost/json/object.hpp>

namespace edgegw::cloud_emulator {

std::size_t count_chars(std::string_view text) noexcept {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace edgegw::cloud_emulator
