// SPDX-License-Identifier: Apache-2.0
// A reading: one value of one variable of one device at one time, as the cloud's data item.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace edgegw {

// The value of a reading. JSON integers that fit are kept exact (a 64-bit counter must not
// lose its last digits to a double); other numbers are finite doubles (NaN and Infinity are
// refused at decode: the cloud's JSON cannot carry them). monostate: the reading has no value.
using Value = std::variant<std::monostate, double, std::int64_t, std::string, bool>;

struct Reading {
  std::string variable;  // lower-cased, validated (see decode/validate.h)
  Value value;
  std::string unit;          // empty: none
  std::int64_t time_ms = 0;  // UTC milliseconds since the Unix epoch; always set
  std::string group;         // empty: none ("serie" is read as an alias)
  std::string
      location_json;  // the location exactly as given ({lat,lng} or GeoJSON), compact; empty: none
  std::string metadata_json;  // a JSON object, compact; empty: none
  // The value is a double holding a 32-bit float exactly (a plugin's EDGEGW_VALUE_FLOAT32, a
  // Modbus f32): written as that float's shortest text, and compared, scaled or given to the
  // actions as the double that text reads back as (core::shortest_double).
  bool float32 = false;

  bool operator==(const Reading&) const = default;
};

// What a source hands the host: the bytes of one message, before decoding.
struct RawMessage {
  std::string_view source;      // the source's configured name
  std::string_view device_key;  // e.g. the MQTT topic's {device} capture
  std::string_view variable;    // for the raw format: {variable} capture or config; may be empty
  std::string_view payload;
  std::int64_t receive_time_ms;  // UTC ms; the time of readings that carry none
};

// A reading a source hands the host as a value (plugin ABI 1.5's edgegw_reading): nothing to
// decode. Views borrowed for the append call.
struct TypedReading {
  std::string_view variable;
  std::variant<double, std::int64_t, std::string_view, bool> value;
  std::string_view unit;
  std::optional<std::int32_t> unknown_type;  // a type code the host does not know, as given
  bool float32 = false;  // EDGEGW_VALUE_FLOAT32: the double is to hold a float's value exactly
};

// One device's typed readings of one moment (edgegw_reading_batch).
struct TypedMessage {
  std::string_view device_key;
  std::span<const TypedReading> readings;
  std::int64_t receive_time_ms;  // the time of each of its readings
};

}  // namespace edgegw
