// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the decoders: UTF-8, quoting for messages, value typing, located errors.
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/time.h"
#include "decode/internal.h"

namespace edgegw::decode::internal {

namespace {

// Length of the well-formed UTF-8 sequence at p (Unicode table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when there is none.
std::size_t sequence_length(const unsigned char* p, std::size_t avail) noexcept {
  const unsigned c = p[0];
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned lo = 0x80;
  unsigned hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c == 0xE0) {
    len = 3;
    lo = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    len = 3;
  } else if (c == 0xED) {
    len = 3;
    hi = 0x9F;  // D800..DFFF are surrogates
  } else if (c == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    len = 4;
  } else if (c == 0xF4) {
    len = 4;
    hi = 0x8F;
  } else {
    return 0;
  }
  if (avail < len || p[1] < lo || p[1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
  }
  return len;
}

// The order of magnitude of a decimal number's text (digits, '.', exponent) is positive:
// from_chars said out of range, this tells overflow (1e400) from underflow (1e-400).
bool decimal_overflows(std::string_view t) noexcept {
  std::size_t i = (!t.empty() && t[0] == '-') ? 1 : 0;
  long long order = 0;
  long long zeros_after_point = 0;
  bool nonzero = false;
  bool after_point = false;
  for (; i < t.size() && t[i] != 'e' && t[i] != 'E'; ++i) {
    if (t[i] == '.') {
      after_point = true;
    } else if (!nonzero) {
      if (t[i] != '0') {
        nonzero = true;
        order = after_point ? -zeros_after_point : 1;
      } else if (after_point) {
        ++zeros_after_point;
      }
    } else if (!after_point) {
      ++order;
    }
  }
  if (!nonzero) return false;
  long long exp = 0;
  bool negative = false;
  if (i < t.size()) {
    ++i;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) negative = t[i++] == '-';
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) {
      if (exp < 1000000) exp = exp * 10 + (t[i] - '0');
    }
  }
  return order + (negative ? -exp : exp) > 0;
}

}  // namespace

std::size_t first_invalid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    if (n - i >= 8) {  // ASCII runs, eight bytes at a time
      std::uint64_t word;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const std::size_t len = sequence_length(p + i, n - i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::size_t count_code_points(std::string_view text) noexcept {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

void append_quoted(std::string_view text, std::string& out, std::size_t max_chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  out += '"';
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (chars++ == max_chars) {
      out += "...";
      break;
    }
    const unsigned c = p[i];
    const std::size_t len = sequence_length(p + i, text.size() - i);
    if (len == 0) {  // not UTF-8: show the byte
      const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
      out.append(esc, sizeof esc);
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(esc, sizeof esc);
    } else {
      out.append(text.data() + i, len);
    }
    i += len;
  }
  out += '"';
}

std::string quote(std::string_view text, std::size_t max_chars) {
  std::string out;
  append_quoted(text, out, max_chars);
  return out;
}

ScalarResult type_scalar(std::string_view text) {
  ScalarResult result;
  if (text == "true") {
    result.value = true;
    return result;
  }
  if (text == "false") {
    result.value = false;
    return result;
  }
  std::string_view t = text;
  if (t.size() > 1 && t[0] == '+' && t[1] != '-') t.remove_prefix(1);  // "+21.5"
  if (t.empty()) return result;
  const char c = t[0];
  const bool numeric_start = (c >= '0' && c <= '9') || c == '-' || c == '.';
  const bool maybe_special = c == 'n' || c == 'N' || c == 'i' || c == 'I';  // nan, inf
  if (!numeric_start && !maybe_special) return result;
  const char* begin = t.data();
  const char* end = t.data() + t.size();

  if (numeric_start) {
    std::int64_t i = 0;
    const auto r = std::from_chars(begin, end, i);
    if (r.ec == std::errc() && r.ptr == end) {
      result.value = i;
      return result;
    }
  }
  double d = 0;
  const auto r = std::from_chars(begin, end, d);
  if (r.ptr != end) return result;  // not all of it is a number: a string
  if (r.ec == std::errc::result_out_of_range) {
    if (decimal_overflows(t)) {
      result.problem = Problem{"value", quote(text) + " is beyond the range of a double"};
    } else {
      result.value = (c == '-') ? -0.0 : 0.0;  // underflow: as JSON parsers do
    }
    return result;
  }
  if (r.ec != std::errc()) return result;
  if (!std::isfinite(d)) {
    result.problem = Problem{
        "value", quote(text) + " is not a finite number (the cloud's JSON cannot carry it)"};
    return result;
  }
  result.value = d;
  return result;
}

std::optional<std::int64_t> parse_time_text(std::string_view text) noexcept {
  if (auto ms = core::parse_iso8601(text)) return ms;
  if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
  double d = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), d);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
  return core::unix_timestamp_to_ms(d);
}

std::string format_problem(std::string_view where, const Problem& problem) {
  std::string s;
  s.reserve(where.size() + problem.field.size() + problem.detail.size() + 4);
  if (where.empty()) {
    s += problem.field;
    if (!problem.field.empty()) s += ' ';
  } else if (where[0] == '[') {
    s += where;
    if (!problem.field.empty()) {
      s += '.';
      s += problem.field;
    }
    s += ": ";
  } else {
    s += where;
    s += ": ";
    s += problem.field;
    if (!problem.field.empty()) s += ' ';
  }
  s += problem.detail;
  return s;
}

void note_invalid(DecodeOutput& out, std::string_view where, const Problem& problem) {
  ++out.invalid;
  if (out.first_error.empty()) out.first_error = format_problem(where, problem);
}

void note_rejected(DecodeOutput& out, std::string message) {
  out.payload_rejected = true;
  if (out.first_error.empty()) out.first_error = std::move(message);
}

}  // namespace edgegw::decode::internal
