// SPDX-License-Identifier: Apache-2.0
// A stored reading as the Device API's GET /data returns it, and the small formats around it
// (ObjectId-like ids, auto groups, compact JSON text). Shared by the gateway's local history and
// the cloud emulator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace edgegw::device_api {

// A 24-hex id like the cloud's ObjectIds: 8 hex of seconds, 16 of a serial.
std::string object_id(std::int64_t created_ms, std::uint64_t serial);
// The serial of an id made by object_id(), or 0 when `id` is not one.
std::uint64_t serial_of_id(std::string_view id);
// The auto group: a fresh id reversed, as the cloud makes it.
std::string auto_group(std::int64_t created_ms, std::uint64_t group_serial);

// JSON text of `v`, numbers in their shortest form ("21.5", where boost::json writes "2.15E1").
std::string json_text(const boost::json::value& v);
void append_json_text(const boost::json::value& v, std::string& out);

// `{lat,lng}` or a GeoJSON Point -> {lng, lat}; nullopt for anything else.
struct LngLat {
  double lng;
  double lat;
};
std::optional<LngLat> parse_location(const boost::json::value& location);

// What a record is besides the item it was sent as.
struct RecordHeader {
  std::string id;
  std::string_view device_id;
  std::string_view variable;
  std::optional<std::string> group;  // nullopt: the record has none (omitted)
  std::int64_t time_ms = 0;
  std::int64_t created_ms = 0;
};

// The record as GET /data returns it: id, device, variable, value, unit, group, location (GeoJSON
// Point), metadata, time and, with `details`, created_at. `item` is the item as sent.
boost::json::object record_json(const RecordHeader& header, const boost::json::object& item,
                                bool details);

}  // namespace edgegw::device_api
