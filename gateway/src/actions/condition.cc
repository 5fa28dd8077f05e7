// SPDX-License-Identifier: Apache-2.0
#include "actions/condition.h"

#include <array>
#include <charconv>
#include <cmath>
#include <optional>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace edgegw::actions {

namespace {

bool parse_number(std::string_view text, double& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

}  // namespace

namespace {

namespace json = boost::json;

// Keeps only the top-level "value" of a reading, with no document built: the engine asks this of
// every reading whose variable an action names, under the buffer's lock.
struct ValueHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  ReadingValue* out = nullptr;
  int depth = 0;
  bool at_value = false;  // the next scalar at depth 1 is "value"'s
  bool found = false;
  std::string key;   // a key split in parts (escapes)
  std::string text;  // a string split in parts

  bool taking() const { return at_value && depth == 1; }
  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    if (depth == 1) at_value = false;  // "value" holds an object: not one we compare
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    --depth;
    return true;
  }
  bool on_array_begin(json::error_code&) {
    if (depth == 1) at_value = false;
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    --depth;
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    if (depth == 1) key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (depth == 1) {
      key.append(s.data(), s.size());
      at_value = key == "value";
      key.clear();
    }
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    if (taking()) text.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    if (taking()) {
      text.append(s.data(), s.size());
      out->kind = ReadingValue::Kind::kString;
      out->numeric = parse_number(text, out->number);
      out->text = std::move(text);
      text.clear();
      return stop();
    }
    at_value = false;
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view s, json::error_code&) {
    return number(static_cast<double>(i), s);
  }
  bool on_uint64(std::uint64_t u, json::string_view s, json::error_code&) {
    return number(static_cast<double>(u), s);
  }
  // Boost 1.81 rounds some doubles off by one unit in the last place: from_chars does not (an
  // `=` on 0.1 must hold for 0.1). Out of range (1e400): Boost's infinity, not numeric.
  bool on_double(double d, json::string_view s, json::error_code&) {
    double precise = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), precise);
    return number(ec == std::errc() && end == s.data() + s.size() ? precise : d, s);
  }
  bool on_bool(bool b, json::error_code&) {
    if (taking()) {
      out->kind = ReadingValue::Kind::kBool;
      out->text = b ? "true" : "false";
      return stop();
    }
    at_value = false;
    return true;
  }
  bool on_null(json::error_code&) {
    at_value = false;
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  // The whole input is written at once, so `s` is the number's complete text: kept as sent.
  bool number(double n, json::string_view s) {
    if (taking()) {
      out->kind = ReadingValue::Kind::kNumber;
      out->number = n;
      out->numeric = std::isfinite(n);
      out->text.assign(s.data(), s.size());
      return stop();
    }
    at_value = false;
    return true;
  }
  // Found: the rest of the reading (unit, time, metadata) is not read at all.
  bool stop() {
    found = true;
    return false;
  }
};

}  // namespace

namespace {

// The shape decode::append_cloud_json writes: {"variable":"...","value":V, with V a number, a
// bool or a string without escapes. nullopt: anything else, read by the parser instead (this is
// only a shortcut past it for the common case, checked against it in the tests).
std::optional<ReadingValue> value_of_our_shape(std::string_view json) {
  constexpr std::string_view kHead = R"({"variable":")";
  constexpr std::string_view kValue = R"(,"value":)";
  if (!json.starts_with(kHead)) return std::nullopt;
  std::size_t at = kHead.size();
  for (; at < json.size() && json[at] != '"'; ++at) {
    if (json[at] == '\\') return std::nullopt;  // escapes: the parser's job
  }
  if (at >= json.size() || json.substr(at + 1, kValue.size()) != kValue) return std::nullopt;
  const std::string_view rest = json.substr(at + 1 + kValue.size());
  ReadingValue v;
  if (rest.starts_with("true") || rest.starts_with("false")) {
    v.kind = ReadingValue::Kind::kBool;
    v.text = rest[0] == 't' ? "true" : "false";
  } else if (!rest.empty() && rest[0] == '"') {
    // Plain loops: find_first_of calls memchr once per character of the value.
    std::size_t end = 1;
    while (end < rest.size() && rest[end] != '"' && rest[end] != '\\') ++end;
    if (end >= rest.size() || rest[end] != '"') return std::nullopt;
    v.kind = ReadingValue::Kind::kString;
    v.text = std::string(rest.substr(1, end - 1));
    v.numeric = parse_number(v.text, v.number);
  } else {
    std::size_t end = 0;
    while (end < rest.size() && rest[end] != ',' && rest[end] != '}') ++end;
    if (end >= rest.size() || end == 0) return std::nullopt;
    const std::string_view number = rest.substr(0, end);
    if (!parse_number(number, v.number)) return std::nullopt;
    v.kind = ReadingValue::Kind::kNumber;
    v.numeric = true;
    v.text = std::string(number);
  }
  return v;
}

}  // namespace

ReadingValue value_of(std::string_view reading_json) {
  if (auto fast = value_of_our_shape(reading_json)) return std::move(*fast);
  return parsed_value_of(reading_json);
}

ReadingValue parsed_value_of(std::string_view reading_json) {
  ReadingValue v;
  // The reading's JSON is the gateway's own (decode::append_cloud_json), its UTF-8 checked when
  // it was decoded: not checked again.
  static const json::parse_options options = [] {
    json::parse_options o;
    o.allow_invalid_utf8 = true;
    return o;
  }();
  thread_local json::basic_parser<ValueHandler> parser{options};
  parser.reset();
  ValueHandler& h = parser.handler();
  h = ValueHandler();
  h.out = &v;
  json::error_code ec;
  parser.write_some(false, reading_json.data(), reading_json.size(), ec);
  if (h.found) return v;  // the parse was stopped there, on purpose
  return ReadingValue();  // no value, or not a reading at all
}

std::string string_field(std::string_view reading_json, std::string_view name) {
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(reading_json, ec);
  if (ec || !parsed.is_object()) return {};
  const boost::json::value* field = parsed.get_object().if_contains(name);
  return field != nullptr && field->is_string() ? std::string(field->get_string()) : std::string();
}

}  // namespace edgegw::actions
