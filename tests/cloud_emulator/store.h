// SPDX-License-Identifier: Apache-2.0
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

#include "device_api/record.h"

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

using device_api::append_json_text;
using device_api::auto_group;
using device_api::json_text;
using device_api::object_id;
using device_api::serial_of_id;

// The record's item in its body (parsed by the caller), or nullptr.
const boost::json::object* item_in(const boost::json::value& body, const Record& record);

// The record as GET /data returns it: id, device, variable, value, unit, group, location
// (GeoJSON Point), metadata, time and, with `details`, created_at. `item` is the item as sent.
boost::json::object record_json(const Record& record, const boost::json::object& item,
                                std::string_view device_id, bool details);

// The record's group (given or auto).
std::string record_group(const Record& record);

}  // namespace edgegw::cloud_emulator
