// SPDX-License-Identifier: Apache-2.0
// A reading's value as an action's condition sees it, and the cloud's comparisons on it
// (`when_set_condition` / `when_reset_condition`: * = != > >= < <=).
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace edgegw::actions {

struct ReadingValue {
  enum class Kind { kNone, kNumber, kString, kBool };
  Kind kind = Kind::kNone;
  double number = 0;  // kNumber; also a kString that reads fully as a number
  bool numeric = false;
  std::string text;  // the value as a template shows it: a number or bool as JSON, a string as is
};

// The "value" of a reading's cloud JSON (decode::append_cloud_json); kNone when it has none, or
// one that is neither a number, a string nor a bool. Never throws.
ReadingValue value_of(std::string_view reading_json);
// The same, always through the JSON parser (value_of reads the gateway's own shape directly and
// falls back to this; the tests hold the two to the same answers).
ReadingValue parsed_value_of(std::string_view reading_json);

// A string field of the reading's cloud JSON ("variable", "unit"); empty when absent.
std::string string_field(std::string_view reading_json, std::string_view name);

// Whether `value` meets `condition`. = and != compare numbers as numbers when both sides are
// numeric, else the text; > >= < <= need numbers on both sides (false otherwise); * holds for
// any reading of the variable.
bool holds(const config::Condition& condition, const ReadingValue& value);

}  // namespace edgegw::actions
