// SPDX-License-Identifier: Apache-2.0
// JSON string text for plugins that write JSON by hand (header-only).
#pragma once

#include <string>
#include <string_view>

namespace edgegw::sdk {

// Appends `s` as a JSON string, quotes included: '"' and '\' escaped, control bytes as \u00XX.
// Bytes from 0x80 on are kept (UTF-8 text), or with `latin1` read as Latin-1 and escaped too.
inline void append_json_string(std::string_view s, std::string& out, bool latin1 = false) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f || (latin1 && u > 0x7f)) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace edgegw::sdk
