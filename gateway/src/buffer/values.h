// SPDX-License-Identifier: Apache-2.0
// A reading stored as its values rather than its cloud JSON (buffer format 3): the bytes a plain
// reading (variable, value, unit, time; no group, location or metadata) takes in the queue, about
// a quarter of its JSON. Reads give it back as the JSON decode::append_cloud_json would have
// written (core::append_reading_json_head), so every reader of the queue (the forwarder,
// fresh_first, the dead letters) sees cloud JSON as before.
//
// Bytes: type (1: 1 none, 2 double, 3 int64, 4 text, 5 false, 6 true, 7 float) | time ms (zigzag
// varint) | variable length (varint) | variable | unit length (varint) | unit | the value: a
// double's 8 bytes or a float's 4 (little-endian IEEE 754), an int64 as a zigzag varint, a text's
// length (varint) and bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json_text.h"

namespace edgegw::buffer {

struct ReadingValues {
  std::string_view variable;
  core::ValueView value;
  std::string_view unit;
  std::int64_t time_ms = 0;
};

// Appends the reading's stored bytes to `out`.
void encode_values(const ReadingValues& reading, std::string& out);
// Reads exactly `bytes` (views into them); false when they are not one reading's values as
// encode_values writes them (a varint longer than its shortest form, a number that is not finite,
// a time outside 0 ... core::kMaxTimeMs, which no decoder lets through).
bool decode_values(std::string_view bytes, ReadingValues& out) noexcept;
// The reading's cloud JSON data item.
void append_values_json(const ReadingValues& reading, std::string& out);

// Varints (LEB128), also the length prefixes of a format-3 run (key_format.h).
void append_varint(std::uint64_t v, std::string& out);
// Reads one from the front of `in` and drops it from `in`; false when `in` ends first, or it
// holds more than 64 bits or is longer than its shortest form.
bool read_varint(std::string_view& in, std::uint64_t& v) noexcept;

}  // namespace edgegw::buffer
