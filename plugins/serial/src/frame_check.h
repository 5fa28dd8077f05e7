// SPDX-License-Identifier: Apache-2.0
// What a frame must be before the host sees it: text (valid UTF-8, no NUL bytes), and, for a bus
// with several devices, the device key taken out of it (a CSV column or a JSON object's key).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace edgegw::plugins::serial {

enum class FrameProblem { kNone, kNul, kInvalidUtf8 };

// kNul when the frame holds a NUL byte, kInvalidUtf8 when it is not well-formed UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF are refused, as RFC 3629 says).
FrameProblem check_frame(std::string_view frame) noexcept;
bool is_valid_utf8(std::string_view s) noexcept;

// Column `column` (from 1) of a CSV line (RFC 4180 quoting; blanks around an unquoted field are
// trimmed): its text goes to `device`, the line without that column (and one of its commas) to
// `payload`. False when the line has fewer columns or the field is malformed.
bool take_csv_column(std::string_view line, std::size_t column, std::string& device,
                     std::string& payload);

// The top-level member `key` of a JSON object line: its value (a string, or a number as written)
// goes to `device`, the object without that member to `payload`. False when the line is not a
// JSON object, lacks the key, or the value is of another kind. Only the object's structure is
// scanned; the host's decoder still checks the rest.
bool take_json_key(std::string_view line, std::string_view key, std::string& device,
                   std::string& payload);

// A usable device key: not empty, at most 256 bytes, no control characters (the host reserves
// keys holding them).
bool is_valid_device_key(std::string_view key) noexcept;

}  // namespace edgegw::plugins::serial
