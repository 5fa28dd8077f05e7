// SPDX-License-Identifier: Apache-2.0
// flat_json: {"temperature": 21.5, "humidity": 40, "time": "..."}, one reading per key; or an
// array of such objects.
#include <string>

#include "decode/internal.h"
#include "decode/json_util.h"

namespace edgegw::decode {

namespace {

namespace json = boost::json;
using internal::Problem;

void add_object(const json::value& item, std::size_t index, const RawMessage& msg,
                DecodeOutput& out) {
  const json::object* obj = internal::require_object(item, index, out);
  if (obj == nullptr) return;
  std::int64_t time_ms = msg.receive_time_ms;
  std::optional<Problem> time_problem;
  if (const json::value* time = obj->if_contains("time")) {
    time_problem = internal::json_to_time(*time, time_ms);
  }
  for (const json::key_value_pair& kv : *obj) {
    if (kv.key() == "time") continue;
    if (time_problem) {  // the time of every reading of this object
      internal::note_invalid(out, internal::where_of(index), *time_problem);
      continue;
    }
    const json::value& v = kv.value();
    std::optional<Problem> problem;
    if (v.is_null() || v.is_object() || v.is_array()) {
      problem = Problem{"value", "of " + internal::quote(kv.key()) + " is " +
                                     std::string(internal::kind_phrase(v)) +
                                     ", not a string, number or bool"};
    } else {
      Reading& r = out.readings.emplace_back();
      r.variable.assign(kv.key());
      r.time_ms = time_ms;
      problem = internal::json_to_value(v, r.value);
      if (problem) {
        problem->detail.insert(0, "of " + internal::quote(kv.key()) + " ");
      } else {
        problem = internal::check_reading(r);
      }
      if (problem) out.readings.pop_back();
    }
    if (problem) internal::note_invalid(out, internal::where_of(index), *problem);
  }
}

}  // namespace

void decode_flat_json(const RawMessage& msg, DecodeOutput& out) {
  const internal::JsonDocument doc(msg.payload);
  if (!doc.ok()) {
    internal::note_rejected(out, doc.error());
    return;
  }
  const json::value& root = doc.root();
  if (root.is_object()) {
    out.readings.reserve(out.readings.size() + root.get_object().size());
    add_object(root, internal::kLoneObject, msg, out);
  } else if (const json::array* items = root.if_array()) {
    for (std::size_t i = 0; i < items->size(); ++i) add_object((*items)[i], i, msg, out);
  } else {
    internal::note_rejected(out, "payload is " + std::string(internal::kind_phrase(root)) +
                                     ", not a JSON object or array");
  }
}

}  // namespace edgegw::decode
