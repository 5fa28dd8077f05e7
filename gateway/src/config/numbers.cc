// SPDX-License-Identifier: Apache-2.0
#include "config/numbers.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace edgegw::config::detail {
namespace {

bool is_yaml_special(std::string_view t) {
  if (!t.empty() && (t.front() == '+' || t.front() == '-')) t.remove_prefix(1);
  return t == ".inf" || t == ".Inf" || t == ".INF" || t == ".nan" || t == ".NaN" || t == ".NAN";
}

// Roughly log10 of |text|, enough to tell an overflow from an underflow: from_chars reports both
// as out of range without saying which.
bool is_tiny(std::string_view t) {
  if (!t.empty() && (t.front() == '+' || t.front() == '-')) t.remove_prefix(1);
  const std::size_t e = t.find_first_of("eE");
  const std::string_view mantissa = t.substr(0, e);
  std::int64_t exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view x = t.substr(e + 1);
    const bool negative = !x.empty() && x.front() == '-';
    if (!x.empty() && (x.front() == '+' || x.front() == '-')) x.remove_prefix(1);
    for (char c : x) {
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (c - '0');
    }
    if (negative) exponent = -exponent;
  }
  // Position of the first significant digit relative to the decimal point.
  std::int64_t magnitude = 0;
  bool seen_dot = false;
  bool significant = false;
  for (char c : mantissa) {
    if (c == '.') {
      seen_dot = true;
      continue;
    }
    if (!significant && c == '0') {
      if (seen_dot) --magnitude;
      continue;
    }
    significant = true;
    if (!seen_dot) ++magnitude;
  }
  if (!significant) return true;
  return magnitude + exponent <= 0;
}

}  // namespace

std::variant<double, NumberError> parse_double(std::string_view text) {
  if (is_yaml_special(text)) return NumberError::kNotFinite;
  std::string_view t = text;
  if (t.size() > 1 && t.front() == '+' && t[1] != '-' && t[1] != '+') t.remove_prefix(1);
  // from_chars also takes "inf", "nan" and hex forms; YAML numbers are digits, '.', signs and 'e'.
  for (char c : t) {
    const bool allowed =
        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
    if (!allowed) return NumberError::kNotANumber;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || end != t.data() + t.size()) return NumberError::kNotANumber;
  if (ec == std::errc::result_out_of_range) {
    if (is_tiny(t)) return t.front() == '-' ? -0.0 : 0.0;
    return NumberError::kNotFinite;
  }
  if (ec != std::errc()) return NumberError::kNotANumber;
  if (!std::isfinite(value)) return NumberError::kNotFinite;
  return value;
}

}  // namespace edgegw::config::detail
