// SPDX-License-Identifier: Apache-2.0
// Optional header-only helpers for reading a plugin's `config:`, so that every plugin writes its
// values as the gateway's own config does (DESIGN.md: "Durations are written 250ms, 10s, 5m, 1h,
// 7d"). Not part of the ABI. The `config:` arrives as JSON text; these helpers read it with
// Boost.JSON, as the project's plugins do.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace edgegw::sdk {

// "250ms", "10s", "5m", "1h", "7d", or a bare number of milliseconds ("250"); nullopt for
// anything else, and for more than about 30 years.
inline std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (n > 1'000'000'000'000ULL) return std::nullopt;
  }
  if (i == 0) return std::nullopt;
  const std::string_view unit = text.substr(i);
  const auto count = static_cast<std::int64_t>(n);
  using namespace std::chrono;
  if (unit == "ms" || unit.empty()) return milliseconds(count);
  if (unit == "s") return seconds(count);
  if (unit == "m") return minutes(count);
  if (unit == "h") return hours(count);
  if (unit == "d") return hours(24 * count);
  return std::nullopt;
}

// "512KiB", "8MiB", "1GiB" (also kB, MB, GB), or a bare number of bytes; nullopt for anything
// else, and for more than 2^40 bytes.
inline std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (n > (1ULL << 40)) return std::nullopt;
  }
  if (i == 0) return std::nullopt;
  const std::string_view unit = text.substr(i);
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "B") factor = 1;
  if (unit == "KiB") factor = 1ULL << 10;
  if (unit == "MiB") factor = 1ULL << 20;
  if (unit == "GiB") factor = 1ULL << 30;
  if (unit == "kB") factor = 1000;
  if (unit == "MB") factor = 1000 * 1000;
  if (unit == "GB") factor = 1000 * 1000 * 1000;
  if (factor == 0 || n > (1ULL << 40) / factor) return std::nullopt;
  return n * factor;
}

// What a config value is, for "port: expected a string, got an integer".
inline std::string kind_of(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a bool";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "a value";
}

}  // namespace edgegw::sdk
