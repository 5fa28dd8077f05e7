// SPDX-License-Identifier: Apache-2.0
// The fields of a cloud data item read from parsed JSON, shared by tago_json and flat_json.
#include <charconv>
#include <cmath>

#include "core/time.h"
#include "decode/json_util.h"

namespace edgegw::decode::internal {

namespace {

namespace json = boost::json;

constexpr std::string_view kTooLarge =
    "is a number too large for a double (it overflows to infinity)";

std::optional<double> number_of(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::int64:
      return static_cast<double>(v.get_int64());
    case json::kind::uint64:
      return static_cast<double>(v.get_uint64());
    case json::kind::double_:
      return v.get_double();
    default:
      return std::nullopt;
  }
}

// A JSON number as it reads in a message.
std::string number_text(const json::value& v) {
  std::string out;
  if (v.is_double() && !std::isfinite(v.get_double())) return "a number too large for a double";
  append_compact_json(v, out);
  return out;
}

std::string kind_detail(const json::value& v, std::string_view wanted) {
  std::string s = "is ";
  s += kind_phrase(v);
  s += ", not ";
  s += wanted;
  return s;
}

}  // namespace

std::optional<Problem> json_to_value(const json::value& v, Value& out) {
  switch (v.kind()) {
    case json::kind::null:
      out = std::monostate();
      return std::nullopt;
    case json::kind::bool_:
      out = v.get_bool();
      return std::nullopt;
    case json::kind::int64:
      out = v.get_int64();
      return std::nullopt;
    case json::kind::uint64:  // above int64: a double, as for any other non-int64 number
      out = static_cast<double>(v.get_uint64());
      return std::nullopt;
    case json::kind::double_:
      if (!std::isfinite(v.get_double())) return Problem{"value", std::string(kTooLarge)};
      out = v.get_double();
      return std::nullopt;
    case json::kind::string:
      out = std::string(v.get_string());
      return std::nullopt;
    case json::kind::array:
    case json::kind::object:
      break;
  }
  return Problem{"value", kind_detail(v, "a string, number or bool")};
}

std::optional<Problem> json_to_time(const json::value& v, std::int64_t& out_ms) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) {
    const std::string_view text = v.get_string();
    if (auto ms = parse_time_text(text)) {
      out_ms = *ms;
      return std::nullopt;
    }
    return Problem{"time", quote(text) + " is not an ISO 8601 time or a Unix timestamp"};
  }
  if (auto d = number_of(v)) {
    if (auto ms = core::unix_timestamp_to_ms(*d)) {
      out_ms = *ms;
      return std::nullopt;
    }
    return Problem{
        "time", number_text(v) + " is not a Unix timestamp (seconds or milliseconds, 1970..9999)"};
  }
  return Problem{"time", kind_detail(v, "an ISO 8601 string or a Unix timestamp")};
}

std::optional<Problem> json_to_text(std::string_view field, const json::value& v,
                                    std::string& out) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) return Problem{field, kind_detail(v, "a string")};
  out.assign(v.get_string());
  return std::nullopt;
}

std::optional<Problem> json_to_location(const json::value& v, std::string& out) {
  if (v.is_null()) return std::nullopt;
  const json::object* obj = v.if_object();
  if (obj == nullptr) return Problem{"location", kind_detail(v, "an object")};
  const json::value* lat = nullptr;
  const json::value* lng = nullptr;
  if (const json::value* type = obj->if_contains("type")) {
    if (!type->is_string() || type->get_string() != "Point") {
      return Problem{"location",
                     "has a \"type\" that is not \"Point\" (a GeoJSON Point is accepted)"};
    }
    const json::value* coords = obj->if_contains("coordinates");
    const json::array* arr = coords != nullptr ? coords->if_array() : nullptr;
    if (arr == nullptr || arr->size() != 2 || !number_of((*arr)[0]) || !number_of((*arr)[1])) {
      return Problem{"location", "is a GeoJSON Point whose \"coordinates\" are not [lng, lat]"};
    }
    lng = &(*arr)[0];
    lat = &(*arr)[1];
  } else {
    lat = obj->if_contains("lat");
    lng = obj->if_contains("lng");
    if (lat == nullptr || lng == nullptr || !number_of(*lat) || !number_of(*lng)) {
      return Problem{"location", "needs numbers \"lat\" and \"lng\", or is a GeoJSON Point"};
    }
  }
  const double lat_d = *number_of(*lat);
  const double lng_d = *number_of(*lng);
  if (!(lat_d >= -90 && lat_d <= 90)) {
    return Problem{"location", "lat " + number_text(*lat) + " is outside -90..90"};
  }
  if (!(lng_d >= -180 && lng_d <= 180)) {
    return Problem{"location", "lng " + number_text(*lng) + " is outside -180..180"};
  }
  out.clear();
  if (!append_compact_json(v, out)) {
    out.clear();
    return Problem{"location", "holds a number too large for a double"};
  }
  return std::nullopt;
}

std::optional<Problem> json_to_metadata(const json::value& v, std::string& out) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_object()) return Problem{"metadata", kind_detail(v, "an object")};
  out.clear();
  if (!append_compact_json(v, out)) {
    out.clear();
    return Problem{"metadata", "holds a number too large for a double"};
  }
  return std::nullopt;
}

}  // namespace edgegw::decode::internal
