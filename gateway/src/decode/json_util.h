// Private to the decode module: Boost.JSON parsing on a reused per-thread parser, and the JSON
// text writers shared by the decoders and encode.cc.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>

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
  const boost::json::value& root() const noexcept { return root_; }

 private:
  boost::json::value root_;
  std::string error_;
};

// A JSON string literal with the quotes: \" \\ escaped, control characters as \n \r \t or
// \u00XX; everything else (valid UTF-8 included) passes through.
void append_json_string(std::string_view text, std::string& out);

// `value` as compact JSON text (no spaces), numbers in their shortest round-trip form.
// False (out partly written) when it holds a non-finite double (a number like 1e400).
bool append_compact_json(const boost::json::value& value, std::string& out);

// "a number", "a string", "an object", ... for messages.
std::string_view kind_phrase(const boost::json::value& value) noexcept;

}  // namespace edgegw::decode::internal
