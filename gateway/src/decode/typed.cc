// SPDX-License-Identifier: Apache-2.0
// Readings a plugin hands over as values (plugin ABI 1.5; floats 1.6): no text to parse, the same
// checks as a decoded reading's (validate.h), so a plugin's typed value and its JSON are kept or
// refused alike.
#include <cmath>
#include <string>
#include <type_traits>
#include <variant>

#include "decode/internal.h"

namespace edgegw::decode {

namespace {

using internal::check_reading;
using internal::note_invalid;
using internal::Problem;
using internal::quote;

// "reading 3: variable "a-b" holds '-'", "reading 4 ("power"): value is not a finite number".
void note(DecodeOutput& out, std::size_t index, std::string_view variable, const Problem& problem) {
  std::string where = "reading " + std::to_string(index);
  if (problem.field != "variable") where += " (" + quote(variable) + ")";
  note_invalid(out, where, problem);
}

// An EDGEGW_VALUE_FLOAT32's double holds a float's value exactly; one not finite is left to the
// finite-number check, which says so.
bool holds_a_float(const std::variant<double, std::int64_t, std::string_view, bool>& value) {
  const double d = std::get<double>(value);
  return !std::isfinite(d) || static_cast<double>(static_cast<float>(d)) == d;
}

}  // namespace

void check_typed(const TypedMessage& msg, DecodeOutput& out) {
  out.readings.reserve(out.readings.size() + msg.readings.size());
  for (std::size_t i = 0; i < msg.readings.size(); ++i) {
    const TypedReading& t = msg.readings[i];
    if (t.unknown_type) {
      note(out, i, t.variable,
           {"value", "has type " + std::to_string(*t.unknown_type) +
                         ", not one this gateway knows (EDGEGW_VALUE_NUMBER, _INTEGER, _TEXT, "
                         "_BOOL or _FLOAT32)"});
      continue;
    }
    if (t.float32 && !holds_a_float(t.value)) {
      note(out, i, t.variable, {"value", "is EDGEGW_VALUE_FLOAT32 but its number is no float's"});
      continue;
    }
    Reading& r = out.readings.emplace_back();
    r.variable.assign(t.variable);
    r.unit.assign(t.unit);
    r.time_ms = msg.receive_time_ms;
    std::visit(
        [&r](const auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string_view>) {
            r.value = std::string(v);
          } else {
            r.value = v;
          }
        },
        t.value);
    r.float32 = t.float32;  // written as the float (Reading::float32)
    if (auto problem = check_reading(r)) {
      out.readings.pop_back();
      note(out, i, t.variable, *problem);
    }
  }
}

}  // namespace edgegw::decode
