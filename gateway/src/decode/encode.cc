// SPDX-License-Identifier: Apache-2.0
#include "decode/encode.h"

#include <charconv>
#include <variant>

#include "core/time.h"
#include "decode/internal.h"
#include "decode/json_util.h"

namespace edgegw::decode {

void append_cloud_json(const Reading& reading, std::string& out) {
  out += "{\"variable\":";
  internal::append_json_string(reading.variable, out);
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return;
        } else {
          out += ",\"value\":";
          if constexpr (std::is_same_v<T, double>) {
            internal::append_double(v, out);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            char buf[24];
            const auto r = std::to_chars(buf, buf + sizeof buf, v);
            out.append(buf, r.ptr);
          } else if constexpr (std::is_same_v<T, std::string>) {
            internal::append_json_string(v, out);
          } else {
            out += v ? "true" : "false";
          }
        }
      },
      reading.value);
  if (!reading.unit.empty()) {
    out += ",\"unit\":";
    internal::append_json_string(reading.unit, out);
  }
  out += ",\"time\":\"";
  core::append_iso8601_ms(reading.time_ms, out);
  out += '"';
  if (!reading.group.empty()) {
    out += ",\"group\":";
    internal::append_json_string(reading.group, out);
  }
  if (!reading.location_json.empty()) {
    out += ",\"location\":";
    out += reading.location_json;
  }
  if (!reading.metadata_json.empty()) {
    out += ",\"metadata\":";
    out += reading.metadata_json;
  }
  out += '}';
}

std::string to_cloud_json(const Reading& reading) {
  std::string out;
  out.reserve(96 + reading.variable.size() + reading.unit.size() + reading.group.size() +
              reading.location_json.size() + reading.metadata_json.size() +
              (std::holds_alternative<std::string>(reading.value)
                   ? std::get<std::string>(reading.value).size() + 8
                   : 0));
  append_cloud_json(reading, out);
  return out;
}

}  // namespace edgegw::decode
