// SPDX-License-Identifier: Apache-2.0
#include "decode/encode.h"

#include <variant>

#include "core/json_text.h"
#include "decode/internal.h"
#include "decode/json_util.h"

namespace edgegw::decode {

core::ValueView value_view(const Reading& reading) noexcept {
  if (reading.float32) {
    if (const auto* d = std::get_if<double>(&reading.value)) return static_cast<float>(*d);
  }
  return std::visit(
      [](const auto& v) -> core::ValueView {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
          return std::string_view(v);
        } else {
          return v;
        }
      },
      reading.value);
}

void widen_float(Reading& reading) noexcept {
  if (!reading.float32) return;
  if (const auto n = core::number_of(value_view(reading))) reading.value = *n;
  reading.float32 = false;
}

void append_cloud_json(const Reading& reading, std::string& out) {
  core::append_reading_json_head(reading.variable, value_view(reading), reading.unit,
                                 reading.time_ms, out);
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
