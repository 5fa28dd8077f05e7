// SPDX-License-Identifier: Apache-2.0
// The JSON text the gateway writes for the cloud: string literals, numbers, and a reading's data
// item. One writer, so that a reading encoded at ingest (decode/encode.h) and one rebuilt from the
// buffer's stored values (buffer/values.h) are the same bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace edgegw::core {

// A JSON string literal with the quotes: \" \\ escaped, control characters as \n \r \t or
// \u00XX; everything else (valid UTF-8 included) passes through.
void append_json_string(std::string_view text, std::string& out);

// Shortest text that reads back as the same double (std::to_chars), with ".0" added when it
// would otherwise read back as an integer. `value` must be finite.
void append_double(double value, std::string& out);

// A float's shortest text (std::to_chars), as is: "0.1", "230", "1e+20". A JSON reader reads
// "230" as an integer, as it would read the same value written by a device. `value` must be finite.
void append_float(float value, std::string& out);

// The double a float's shortest text reads back as (0.1f: 0.1, not 0.10000000149011612): what a
// JSON reader of append_float's text holds, for a comparison with numbers written in decimal.
double shortest_double(float value) noexcept;

// A reading's value, borrowed (monostate: none). A float is a 32-bit value kept as such (a
// Modbus f32 register): written as its shortest text.
using ValueView = std::variant<std::monostate, double, std::int64_t, std::string_view, bool, float>;

// The value as a number for comparisons (the actions' Record::number): a double, an integer's, a
// float's shortest_double; none for the others.
std::optional<double> number_of(const ValueView& value) noexcept;

// The cloud data item's first fields, {"variable":..,"value":..,"unit":..,"time":"..", without
// the closing brace (the caller may add group, location, metadata): no "value" for monostate, no
// "unit" when empty, the time as ISO 8601 UTC with milliseconds.
void append_reading_json_head(std::string_view variable, const ValueView& value,
                              std::string_view unit, std::int64_t time_ms, std::string& out);

}  // namespace edgegw::core
