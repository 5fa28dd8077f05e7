// SPDX-License-Identifier: Apache-2.0
// Optional header-only helpers for a plugin whose `config:` is a tree of objects and lists (the
// modbus plugin's units, groups and points): typed reads that throw sdk::Error naming the key's
// whole path ("units[0].groups[1].points[3].address: expected an integer 0 … 65535, got a
// string"), and an unknown key refused with a suggestion and the known keys. Not part of the ABI.
//
//   for (const auto& [k, v] : object) {
//     const std::string key = sdk::key_path(path, k);
//     if (k == "interval") g.interval = sdk::read_duration(key, v);
//     else sdk::unknown_key(key, k, kGroupKeys);
//   }
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "edgegw/json_text.h"
#include "edgegw/plugin_config.h"
#include "edgegw/plugin_sdk.h"

namespace edgegw::sdk {

// A key as an error names it: as written when it is a plain path (letters, digits and _ - . [ ]),
// else quoted with JSON's escapes ("", ": x", "a\nb"), so that a reader sees where it ends and no
// control character of a config reaches a log.
inline std::string key_name(std::string_view key) {
  const auto plain = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.' ||
           c == '[' || c == ']';
  };
  if (!key.empty() && std::all_of(key.begin(), key.end(), plain)) return std::string(key);
  std::string out;
  append_json_string(key, out);
  return out;
}

// Throws the config error "KEY: WHAT" (the host prefixes the source).
[[noreturn]] inline void config_error(std::string_view key, const std::string& what) {
  throw Error(EDGEGW_ERR_INVALID_ARGUMENT, key_name(key) + ": " + what);
}

// "units[0]" + "device" -> "units[0].device"; "" + "port" -> "port".
inline std::string key_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string s(parent);
  s += '.';
  s += key;
  return s;
}
inline std::string index_path(std::string_view parent, std::size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

// Levenshtein distance, for "did you mean".
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Throws "PATH: unknown key (did you mean 'baud'?); known keys: a, b, c".
[[noreturn]] inline void unknown_key(std::string_view path, std::string_view key,
                                     std::span<const std::string_view> known) {
  std::string_view best;
  std::size_t best_distance = 3;  // suggest only close matches
  for (std::string_view k : known) {
    // Close in spelling, or one holds the other ("baudrate" -> "baud").
    const bool holds =
        key.find(k) != std::string_view::npos || k.find(key) != std::string_view::npos;
    const std::size_t d = holds ? 1 : edit_distance(key, k);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  std::string msg = "unknown key";
  if (!best.empty()) msg += " (did you mean '" + std::string(best) + "'?)";
  msg += "; known keys: ";
  for (std::size_t i = 0; i < known.size(); ++i) {
    if (i > 0) msg += ", ";
    msg += known[i];
  }
  config_error(path, msg);
}

inline const boost::json::object& read_object(std::string_view key, const boost::json::value& v) {
  if (!v.is_object()) config_error(key, "expected an object (a map of keys), got " + kind_of(v));
  return v.as_object();
}

inline const boost::json::array& read_array(std::string_view key, const boost::json::value& v) {
  if (!v.is_array()) config_error(key, "expected a list, got " + kind_of(v));
  return v.as_array();
}

inline std::string read_string(std::string_view key, const boost::json::value& v) {
  if (!v.is_string()) config_error(key, "expected a string, got " + kind_of(v));
  return std::string(v.as_string());
}

inline bool read_bool(std::string_view key, const boost::json::value& v) {
  if (!v.is_bool()) config_error(key, "expected true or false, got " + kind_of(v));
  return v.as_bool();
}

// An integer in [min, max].
inline std::int64_t read_integer(std::string_view key, const boost::json::value& v,
                                 std::int64_t min, std::int64_t max) {
  std::optional<std::int64_t> n;
  if (v.is_int64()) n = v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    n = static_cast<std::int64_t>(v.as_uint64());
  }
  const std::string range = std::to_string(min) + " … " + std::to_string(max);
  if (!n) config_error(key, "expected an integer " + range + ", got " + kind_of(v));
  if (*n < min || *n > max) config_error(key, std::to_string(*n) + " is out of range " + range);
  return *n;
}

inline double read_number(std::string_view key, const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double()) return v.as_double();
  config_error(key, "expected a number, got " + kind_of(v));
}

// "250ms", "10s", "5m", "1h", "7d" or an integer number of milliseconds.
inline std::chrono::milliseconds read_duration(std::string_view key, const boost::json::value& v) {
  if (v.is_int64() && v.as_int64() >= 0) return std::chrono::milliseconds(v.as_int64());
  if (v.is_string()) {
    if (auto d = parse_duration(v.as_string())) return *d;
    config_error(key, "'" + std::string(v.as_string()) +
                          "' is not a duration (write 250ms, 10s, 5m, 1h, 7d or milliseconds)");
  }
  config_error(key, "expected a duration such as 250ms or 10s, got " + kind_of(v));
}

// One of `names` (a string), as its index.
inline std::size_t read_choice(std::string_view key, const boost::json::value& v,
                               std::span<const std::string_view> names) {
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) list += i + 1 == names.size() ? " or " : ", ";
    list += names[i];
  }
  if (!v.is_string()) config_error(key, "expected " + list + ", got " + kind_of(v));
  const std::string_view s = v.as_string();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (s == names[i]) return i;
  }
  config_error(key, "'" + std::string(s) + "' is not " + list);
}

}  // namespace edgegw::sdk
