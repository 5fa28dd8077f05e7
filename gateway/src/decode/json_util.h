// SPDX-License-Identifier: Apache-2.0
// Private to the decode module: Boost.JSON parsing on a reused per-thread parser, and the JSON
// text writers shared by the decoders and encode.cc.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json_text.h"
#include "decode/internal.h"
#include "edgegw/reading.h"

namespace edgegw::decode::internal {

// Deeper payloads are a decode error, not a stack overflow or an unbounded allocation.
inline constexpr std::size_t kMaxJsonDepth = 32;

// Parses `text` with the calling thread's reused parser and memory. The document (root()) is
// valid while this object lives; at most one JsonDocument per thread may be alive at a time.
// Doubles are read with std::from_chars: Boost.JSON 1.81 rounds some of them off by one ulp.
class JsonDocument {
 public:
  explicit JsonDocument(std::string_view text);
  ~JsonDocument();
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;

  bool ok() const noexcept { return error_.empty(); }
  // Why the text is not JSON, with the byte offset, e.g. "not JSON: syntax error at byte 7".
  const std::string& error() const noexcept { return error_; }
  // The document; null when !ok().
  const boost::json::value& root() const noexcept {
    static const boost::json::value kNull;
    return root_ ? *root_ : kNull;
  }

 private:
  // Move-constructed from the parser, so it keeps the parser's memory (assigning would copy it).
  std::optional<boost::json::value> root_;
  std::string error_;
};

using core::append_json_string;  // core/json_text.h

// `value` as compact JSON text (no spaces), numbers in their shortest round-trip form.
// False (out partly written) when it holds a non-finite double (a number like 1e400).
bool append_compact_json(const boost::json::value& value, std::string& out);

// The index of a lone object (not in an array), for where_of().
inline constexpr std::size_t kLoneObject = static_cast<std::size_t>(-1);
// "[i]" for an element of an array, "" for a lone object; built only for messages.
std::string where_of(std::size_t index);
// The object `item` is, or nullptr after noting it as an invalid reading (the tago_json and
// flat_json arrays hold objects only).
const boost::json::object* require_object(const boost::json::value& item, std::size_t index,
                                          DecodeOutput& out);

// "a number", "a string", "an object", ... for messages.
std::string_view kind_phrase(const boost::json::value& value) noexcept;

// The fields of a data item, from JSON (json_fields.cc). Each leaves `out` as it was, or fills
// it, or says why the field is refused. A null is the same as an absent field.
std::optional<Problem> json_to_value(const boost::json::value& json, Value& out);
std::optional<Problem> json_to_time(const boost::json::value& json, std::int64_t& out_ms);
std::optional<Problem> json_to_text(std::string_view field, const boost::json::value& json,
                                    std::string& out);
std::optional<Problem> json_to_location(const boost::json::value& json, std::string& out);
std::optional<Problem> json_to_metadata(const boost::json::value& json, std::string& out);

}  // namespace edgegw::decode::internal
