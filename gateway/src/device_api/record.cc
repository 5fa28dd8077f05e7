// SPDX-License-Identifier: Apache-2.0
#include "device_api/record.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/json/serialize.hpp>

#include "core/time.h"

namespace edgegw::device_api {

namespace {

void append_hex(std::string& out, std::uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out += kHex[(value >> (4 * i)) & 0xF];
}

std::optional<double> as_number(const boost::json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

}  // namespace

void append_json_text(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string_view(kv.key()));
        out += ':';
        append_json_text(kv.value(), out);
      }
      out += '}';
      break;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json_text(e, out);
      }
      out += ']';
      break;
    }
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (!std::isfinite(d)) {
        out += "null";
        break;
      }
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
      out.append(buf, end);
      break;
    }
    default:
      out += boost::json::serialize(v);
  }
}

std::string json_text(const boost::json::value& v) {
  std::string out;
  append_json_text(v, out);
  return out;
}

std::string object_id(std::int64_t created_ms, std::uint64_t serial) {
  std::string id;
  id.reserve(24);
  append_hex(id, static_cast<std::uint64_t>(created_ms / 1000), 8);
  append_hex(id, serial, 16);
  return id;
}

std::uint64_t serial_of_id(std::string_view id) {
  if (id.size() != 24) return 0;
  std::uint64_t serial = 0;
  for (std::size_t i = 0; i < 24; ++i) {
    const char c = id[i];
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) return 0;
    if (i >= 8) serial = (serial << 4) | static_cast<std::uint64_t>(digit);
  }
  return serial;
}

std::string auto_group(std::int64_t created_ms, std::uint64_t group_serial) {
  std::string id = object_id(created_ms, group_serial);
  std::reverse(id.begin(), id.end());
  return id;
}

std::optional<LngLat> parse_location(const boost::json::value& location) {
  if (!location.is_object()) return std::nullopt;
  const auto& o = location.get_object();
  const auto* lat = o.if_contains("lat");
  const auto* lng = o.if_contains("lng");
  if (lat != nullptr && lng != nullptr) {
    const auto la = as_number(*lat);
    const auto ln = as_number(*lng);
    if (la && ln) return LngLat{*ln, *la};
    return std::nullopt;
  }
  const auto* type = o.if_contains("type");
  const auto* coordinates = o.if_contains("coordinates");
  if (type != nullptr && type->is_string() && type->get_string() == "Point" &&
      coordinates != nullptr && coordinates->is_array() && coordinates->get_array().size() == 2) {
    const auto ln = as_number(coordinates->get_array()[0]);
    const auto la = as_number(coordinates->get_array()[1]);
    if (la && ln) return LngLat{*ln, *la};
  }
  return std::nullopt;
}

boost::json::object record_json(const RecordHeader& header, const boost::json::object& item,
                                bool details) {
  boost::json::object out;
  out.reserve(11);
  out["id"] = header.id;
  out["device"] = header.device_id;
  out["variable"] = header.variable;
  for (const char* key : {"value", "unit"}) {
    if (const auto* v = item.if_contains(key); v != nullptr && !v->is_null()) out[key] = *v;
  }
  if (header.group) out["group"] = *header.group;
  if (const auto* location = item.if_contains("location"); location != nullptr) {
    if (const auto p = parse_location(*location)) {
      out["location"] = {{"type", "Point"}, {"coordinates", {p->lng, p->lat}}};
    }
  }
  if (const auto* metadata = item.if_contains("metadata");
      metadata != nullptr && metadata->is_object()) {
    out["metadata"] = *metadata;
  }
  out["time"] = core::format_iso8601_ms(header.time_ms);
  if (details) out["created_at"] = core::format_iso8601_ms(header.created_ms);
  return out;
}

}  // namespace edgegw::device_api
