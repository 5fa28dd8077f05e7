// SPDX-License-Identifier: Apache-2.0
// tago_json: the Device API's own data items, one object or an array of them.
#include <string>

#include "decode/internal.h"
#include "decode/json_util.h"

namespace edgegw::decode {

namespace {

namespace json = boost::json;
using internal::Problem;

// The reading of one data item, or why it is refused. Unknown fields are ignored.
std::optional<Problem> fill_reading(const json::object& item, Reading& r) {
  const json::value* variable = nullptr;
  const json::value* value = nullptr;
  const json::value* unit = nullptr;
  const json::value* time = nullptr;
  const json::value* group = nullptr;
  const json::value* serie = nullptr;
  const json::value* location = nullptr;
  const json::value* metadata = nullptr;
  // One pass over the item: cheaper than a lookup per field.
  for (const json::key_value_pair& kv : item) {
    const std::string_view key = kv.key();
    switch (key.size()) {
      case 4:
        if (key == "unit") unit = &kv.value();
        if (key == "time") time = &kv.value();
        break;
      case 5:
        if (key == "value") value = &kv.value();
        if (key == "group") group = &kv.value();
        if (key == "serie") serie = &kv.value();
        break;
      case 8:
        if (key == "variable") variable = &kv.value();
        if (key == "location") location = &kv.value();
        if (key == "metadata") metadata = &kv.value();
        break;
      default:
        break;
    }
  }
  if (variable == nullptr) return Problem{"variable", "is missing"};
  if (!variable->is_string()) {
    return Problem{"variable",
                   "is " + std::string(internal::kind_phrase(*variable)) + ", not a string"};
  }
  r.variable.assign(variable->get_string());
  if (value != nullptr) {
    if (auto p = internal::json_to_value(*value, r.value)) return p;
  }
  if (unit != nullptr) {
    if (auto p = internal::json_to_text("unit", *unit, r.unit)) return p;
  }
  if (time != nullptr) {
    if (auto p = internal::json_to_time(*time, r.time_ms)) return p;
  }
  if (group == nullptr || group->is_null()) group = serie;  // "serie": the old name of group
  if (group != nullptr) {
    if (auto p = internal::json_to_text(group == serie ? "serie" : "group", *group, r.group)) {
      return p;
    }
  }
  if (location != nullptr) {
    if (auto p = internal::json_to_location(*location, r.location_json)) return p;
  }
  if (metadata != nullptr) {
    if (auto p = internal::json_to_metadata(*metadata, r.metadata_json)) return p;
  }
  return internal::check_reading(r);
}

void add_item(const json::value& item, std::size_t index, const RawMessage& msg,
              DecodeOutput& out) {
  const json::object* obj = internal::require_object(item, index, out);
  if (obj == nullptr) return;
  Reading& r = out.readings.emplace_back();
  r.time_ms = msg.receive_time_ms;
  if (auto problem = fill_reading(*obj, r)) {
    out.readings.pop_back();
    internal::note_invalid(out, internal::where_of(index), *problem);
  }
}

}  // namespace

void decode_tago_json(const RawMessage& msg, DecodeOutput& out) {
  const internal::JsonDocument doc(msg.payload);
  if (!doc.ok()) {
    internal::note_rejected(out, doc.error());
    return;
  }
  const json::value& root = doc.root();
  if (root.is_object()) {
    add_item(root, internal::kLoneObject, msg, out);
  } else if (const json::array* items = root.if_array()) {
    out.readings.reserve(out.readings.size() + items->size());
    for (std::size_t i = 0; i < items->size(); ++i) add_item((*items)[i], i, msg, out);
  } else {
    internal::note_rejected(out, "payload is " + std::string(internal::kind_phrase(root)) +
                                     ", not a JSON object or array");
  }
}

}  // namespace edgegw::decode
