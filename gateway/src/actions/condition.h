// SPDX-License-Identifier: Apache-2.0
// A reading's value as an action's condition sees it, and the cloud's comparisons on it
// (`when_set_condition` / `when_reset_condition`: * = != > >= < <=).
#pragma once

#include <optional>
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

// A condition as the engine evaluates it, copied next to the watch that uses it (the action's
// config is far larger than this and would cost a cache miss per action and reading).
struct Check {
  config::ConditionOp op = config::ConditionOp::kAny;
  std::optional<double> number;
  const std::string* text = nullptr;  // the condition's value: outlives the check
};
inline Check check_of(const config::Condition& c) { return {c.op, c.number, &c.value}; }
// Whether holds() may compare the value's text: = and != against a condition value that is not a
// number (a number's text then matters: "1.0" is not "on").
inline bool needs_text(const Check& c) {
  return (c.op == config::ConditionOp::kEqual || c.op == config::ConditionOp::kNotEqual) &&
         !c.number;
}

// Whether `value` meets `condition`. = and != compare numbers as numbers when both sides are
// numeric, else the text; > >= < <= need numbers on both sides (false otherwise); * holds for
// any reading of the variable. Inline: the engine asks it of every watching action of a reading.
inline bool holds(const Check& condition, const ReadingValue& value) {
  using Op = config::ConditionOp;
  if (condition.op == Op::kAny) return true;
  if (value.kind == ReadingValue::Kind::kNone) return false;
  const bool numbers = value.numeric && condition.number.has_value();
  switch (condition.op) {
    case Op::kEqual:
      return numbers ? value.number == *condition.number : value.text == *condition.text;
    case Op::kNotEqual:
      return numbers ? value.number != *condition.number : value.text != *condition.text;
    case Op::kGreater:
      return numbers && value.number > *condition.number;
    case Op::kGreaterEqual:
      return numbers && value.number >= *condition.number;
    case Op::kLess:
      return numbers && value.number < *condition.number;
    case Op::kLessEqual:
      return numbers && value.number <= *condition.number;
    case Op::kAny:
      break;
  }
  return true;
}
inline bool holds(const config::Condition& condition, const ReadingValue& value) {
  return holds(check_of(condition), value);
}

}  // namespace edgegw::actions
