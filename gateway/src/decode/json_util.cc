// SPDX-License-Identifier: Apache-2.0
#include "decode/json_util.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <cmath>
#include <memory>
#include <optional>

#include "decode/internal.h"

namespace edgegw::decode::internal {

namespace {

namespace json = boost::json;

// boost::json::parser's own handler, except that doubles are re-read with std::from_chars:
// Boost.JSON 1.81 rounds about one in ten 17-digit numbers to a neighbouring double, which
// would break the exact round trip of values through the gateway.
struct PreciseHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;

  explicit PreciseHandler(json::storage_ptr sp) : st(std::move(sp)) {}

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    st.push_uint64(u);
    return true;
  }
  // The whole input is written at once, so `s` is the number's complete text.
  bool on_double(double d, json::string_view s, json::error_code&) {
    double precise = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), precise);
    // Out of range: keep Boost's result (infinity for 1e400, zero for 1e-400).
    if (ec == std::errc() && end == s.data() + s.size()) d = precise;
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

json::parse_options parse_options() {
  json::parse_options opt;
  opt.max_depth = kMaxJsonDepth;
  return opt;
}

// One per thread that decodes, reused for every message: small payloads never allocate.
struct ParserScratch {
  static constexpr std::size_t kInitialBytes = 16 * 1024;
  std::unique_ptr<unsigned char[]> initial{new unsigned char[kInitialBytes]};
  std::optional<json::monotonic_resource> resource{std::in_place, initial.get(), kInitialBytes};
  json::basic_parser<PreciseHandler> parser{parse_options(), json::storage_ptr()};

  // Drops what a document or a failed parse left behind, then the memory it used. A fresh
  // resource rather than release(): in Boost 1.81 release() keeps doubling the next block size,
  // so a long-lived resource soon asks for more memory than there is.
  void clear() noexcept {
    parser.reset();
    parser.handler().st.reset();
    resource.emplace(initial.get(), kInitialBytes);
  }
};

ParserScratch& scratch() {
  thread_local std::unique_ptr<ParserScratch> s;
  if (!s) s = std::make_unique<ParserScratch>();
  return *s;
}

}  // namespace

JsonDocument::JsonDocument(std::string_view text) {
  ParserScratch& s = scratch();
  s.clear();
  try {
    s.parser.handler().st.reset(json::storage_ptr(&*s.resource));
    json::error_code ec;
    const std::size_t n = s.parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = json::error::extra_data;
    if (ec) {
      error_ = "not JSON: ";
      error_ += ec.message();
      if (ec == json::error::too_deep) {
        error_ += " (nested more than ";
        error_ += std::to_string(kMaxJsonDepth);
        error_ += " levels)";
      }
      error_ += " at byte ";
      error_ += std::to_string(n);
      s.clear();
      return;
    }
    root_.emplace(s.parser.handler().st.release());
  } catch (...) {
    s.clear();
    throw;
  }
}

JsonDocument::~JsonDocument() {
  root_.reset();  // before the memory it lives in
  scratch().clear();
}

bool append_compact_json(const json::value& value, std::string& out) {
  char buf[24];
  switch (value.kind()) {
    case json::kind::null:
      out += "null";
      return true;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return true;
    case json::kind::int64: {
      const auto r = std::to_chars(buf, buf + sizeof buf, value.get_int64());
      out.append(buf, r.ptr);
      return true;
    }
    case json::kind::uint64: {
      const auto r = std::to_chars(buf, buf + sizeof buf, value.get_uint64());
      out.append(buf, r.ptr);
      return true;
    }
    case json::kind::double_:
      if (!std::isfinite(value.get_double())) return false;
      append_double(value.get_double(), out);
      return true;
    case json::kind::string:
      append_json_string(value.get_string(), out);
      return true;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& v : value.get_array()) {
        if (!first) out += ',';
        first = false;
        if (!append_compact_json(v, out)) return false;
      }
      out += ']';
      return true;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const json::key_value_pair& kv : value.get_object()) {
        if (!first) out += ',';
        first = false;
        append_json_string(kv.key(), out);
        out += ':';
        if (!append_compact_json(kv.value(), out)) return false;
      }
      out += '}';
      return true;
    }
  }
  return false;
}

std::string_view kind_phrase(const json::value& value) noexcept {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a bool";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

std::string where_of(std::size_t index) {
  std::string where;
  if (index != kLoneObject) where.append("[").append(std::to_string(index)).append("]");
  return where;
}

const boost::json::object* require_object(const boost::json::value& item, std::size_t index,
                                          DecodeOutput& out) {
  const boost::json::object* obj = item.if_object();
  if (obj == nullptr) {
    note_invalid(out, where_of(index),
                 {"", "is " + std::string(kind_phrase(item)) + ", not an object"});
  }
  return obj;
}

}  // namespace edgegw::decode::internal
