// What the emulator keeps of a device's data: for each of the most recent readings, the facts
// needed to query it and a reference to the request body it came in; the cloud's record form is
// built only when asked.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace edgegw::cloud_emulator {

struct Record {
  // The request body the reading came in (shared by the readings of one request) and its index
  // there: GET /data parses it again, only for the records it returns.
  std::shared_ptr<const std::string> body;
  std::uint32_t index = 0;
  bool has_value = false;
  bool has_location = false;
  bool has_group = false;
  std::string variable;            // lower-cased
  std::string group;               // as given (see has_group)
  std::optional<double> number;    // the value, when a number
  std::int64_t time_ms = 0;        // its `time` (receive time when it had none)
  std::int64_t created_ms = 0;     // receive time
  std::uint64_t serial = 0;        // the low part of its id
  std::uint64_t group_serial = 0;  // its auto group, when it came without one
};

// A 24-hex id like the cloud's ObjectIds: 8 hex of seconds, 16 of a counter.
std::string object_id(std::int64_t created_ms, std::uint64_t serial);
// The serial of an id made by object_id(), or 0 when `id` is not one.
std::uint64_t serial_of_id(std::string_view id);
// The auto group: a fresh id reversed, as the cloud makes it.
std::string auto_group(std::int64_t created_ms, std::uint64_t group_serial);

// The record's item in its body (parsed by the caller), or nullptr.
const boost::json::object* item_in(const boost::json::value& body, const Record& record);

// The record as GET /data returns it: id, device, variable, value, unit, group, location
// (GeoJSON Point), metadata, time and, with `details`, created_at. `item` is the item as sent.
boost::json::object record_json(const Record& record, const boost::json::object& item,
                                std::string_view device_id, bool details);

// JSON text of `v`, numbers in their shortest form ("21.5", where boost::json writes "2.15E1").
std::string json_text(const boost::json::value& v);
void append_json_text(const boost::json::value& v, std::string& out);

// The record's group (given or auto).
std::string record_group(const Record& record);

}  // namespace edgegw::cloud_emulator
