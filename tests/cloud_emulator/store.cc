// SPDX-License-Identifier: Apache-2.0
#include "store.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/json/serialize.hpp>

#include "core/time.h"
#include "rules.h"

namespace edgegw::cloud_emulator {

std::string record_group(const Record& record) {
  if (record.has_group) return record.group;
  return auto_group(record.created_ms, record.group_serial);
}

const boost::json::object* item_in(const boost::json::value& body, const Record& record) {
  if (body.is_object()) return record.index == 0 ? &body.get_object() : nullptr;
  if (body.is_array() && record.index < body.get_array().size()) {
    return body.get_array()[record.index].if_object();
  }
  return nullptr;
}

boost::json::object record_json(const Record& record, const boost::json::object& item,
                                std::string_view device_id, bool details) {
  return device_api::record_json(
      {object_id(record.created_ms, record.serial), device_id, record.variable,
       record_group(record), record.time_ms, record.created_ms},
      item, details);
}

}  // namespace edgegw::cloud_emulator
