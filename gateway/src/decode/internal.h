// SPDX-License-Identifier: Apache-2.0
// Private to the decode module: the per-format decoders that decoder.cc dispatches to, and the
// helpers they share (UTF-8, value typing, located error messages).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json_text.h"
#include "core/time.h"
#include "decode/decoder.h"
#include "edgegw/reading.h"

namespace edgegw::decode {

// The per-format decoders. The payload is non-empty, within kMaxPayloadBytes and valid UTF-8.
// They may throw (std::bad_alloc); decode() turns that into a rejection.
void decode_tago_json(const RawMessage& msg, DecodeOutput& out);
void decode_flat_json(const RawMessage& msg, DecodeOutput& out);
void decode_csv(const RawMessage& msg, DecodeOutput& out);
void decode_raw(const RawMessage& msg, DecodeOutput& out);
// Typed readings (typed.cc). May throw std::bad_alloc.
void check_typed(const TypedMessage& msg, DecodeOutput& out);

namespace internal {

// Why a reading (or one of its fields) is refused. `detail` reads after the field name:
// field "variable", detail `"a-b" holds '-' (...)` -> `variable "a-b" holds '-' (...)`.
struct Problem {
  std::string_view field;  // "variable", "value", ...; empty: the element or line as a whole
  std::string detail;
};

// The checks of normalize(), with the field kept apart so decoders can say where.
std::optional<Problem> check_reading(Reading& reading);

// Where a problem is, for messages: "" (a single object), "[2]" (an array element) or "line 3".
// `[2]` + {variable, x} -> "[2].variable: x"; "line 3" -> "line 3: variable x"; "" -> "variable x".
std::string format_problem(std::string_view where, const Problem& problem);

// Records a refused reading: counts it and keeps the first message.
void note_invalid(DecodeOutput& out, std::string_view where, const Problem& problem);

// Records that the whole payload is refused, keeping the first message.
void note_rejected(DecodeOutput& out, std::string message);

// The index of the first byte that is not part of well-formed UTF-8, or npos.
std::size_t first_invalid_utf8(std::string_view text) noexcept;
// Unicode code points in valid UTF-8 (continuation bytes are not counted).
std::size_t count_code_points(std::string_view text) noexcept;

// `text` as a quoted string for a message: escaped (\", \\, \n, \xNN for bytes that are not
// UTF-8, \u00XX for controls) and cut to about max_chars characters with "...".
std::string quote(std::string_view text, std::size_t max_chars = 40);
void append_quoted(std::string_view text, std::string& out, std::size_t max_chars = 40);

using core::append_double;  // core/json_text.h

// Types an unquoted text value (csv field, trimmed raw payload): int64, finite double, bool
// (`true`/`false`), or, when it is none of these, nullopt (the caller keeps it as a string).
// `nan`, `inf` and numbers beyond a double's range are a Problem on field "value".
struct ScalarResult {
  std::optional<Value> value;      // set when the text is a bool or a number
  std::optional<Problem> problem;  // set when the text is a number we refuse
};
ScalarResult type_scalar(std::string_view text);

// A time given as text: ISO 8601 (core::parse_iso8601) or a Unix timestamp in seconds or ms.
std::optional<std::int64_t> parse_time_text(std::string_view text) noexcept;

using core::kMaxTimeMs;  // core/time.h

}  // namespace internal
}  // namespace edgegw::decode
