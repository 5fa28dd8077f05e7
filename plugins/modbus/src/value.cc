// SPDX-License-Identifier: Apache-2.0
#include "value.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

#include "edgegw/json_text.h"

namespace edgegw::plugins::modbus {
namespace {

std::uint16_t reg(const Point& p, const std::uint16_t* regs, std::size_t k) {
  const std::uint16_t r = regs[k];
  return p.byte_swap ? static_cast<std::uint16_t>((r >> 8) | (r << 8)) : r;
}

// The registers as one big-endian number: the most significant word first unless word_swap.
std::uint64_t compose(const Point& p, const std::uint16_t* regs, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < n; ++k) v = (v << 16) | reg(p, regs, p.word_swap ? n - 1 - k : k);
  return v;
}

// Calls f with a numeric point's registers as its own C++ type (uint16_t ... int64_t, float,
// double): the one place that maps a Type to its width and signedness.
template <typename F>
auto with_raw(const Point& p, const std::uint16_t* regs, F&& f) {
  switch (p.type) {
    case Type::kU16:
      return f(static_cast<std::uint16_t>(compose(p, regs, 1)));
    case Type::kI16:
      return f(static_cast<std::int16_t>(compose(p, regs, 1)));
    case Type::kU32:
      return f(static_cast<std::uint32_t>(compose(p, regs, 2)));
    case Type::kI32:
      return f(static_cast<std::int32_t>(compose(p, regs, 2)));
    case Type::kU64:
      return f(compose(p, regs, 4));
    case Type::kI64:
      return f(static_cast<std::int64_t>(compose(p, regs, 4)));
    case Type::kF32:
      return f(std::bit_cast<float>(static_cast<std::uint32_t>(compose(p, regs, 2))));
    case Type::kF64:
    default:  // only numeric points come here (kBool and kString are handled before)
      return f(std::bit_cast<double>(compose(p, regs, 4)));
  }
}

template <typename T>
void append_chars(std::string& out, T value) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

bool append_scaled(const Point& p, double raw, int precision, std::string& out, double* number) {
  const double v = raw * p.scale + p.offset;
  if (!std::isfinite(v)) return false;
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision);
  out.append(buf, r.ptr);
  if (number != nullptr) *number = v;
  return true;
}

// An integer scaled: it has at most the decimals of scale and offset, so it is rounded to them
// (29815 x 0.01 - 273.15 is 25, not 25.000000000000057).
bool append_scaled_integer(const Point& p, double raw, std::string& out, double* number) {
  if (p.decimals < 0) return append_scaled(p, raw, 15, out, number);
  const double v = raw * p.scale + p.offset;
  if (!std::isfinite(v)) return false;
  char buf[400];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, p.decimals);
  if (r.ec != std::errc()) return append_scaled(p, raw, 15, out, number);
  std::string_view t(buf, static_cast<std::size_t>(r.ptr - buf));
  if (t.find('.') != std::string_view::npos) {
    while (t.back() == '0') t.remove_suffix(1);
    if (t.back() == '.') t.remove_suffix(1);
  }
  if (t == "-0") t = "0";
  out += t;
  if (number != nullptr) *number = v;
  return true;
}

template <typename T>
bool append_integer(const Point& p, T raw, std::string& out, double* number) {
  if (p.scaled()) return append_scaled_integer(p, static_cast<double>(raw), out, number);
  append_chars(out, raw);
  if (number != nullptr) *number = static_cast<double>(raw);
  return true;
}

template <typename F>
bool append_float(const Point& p, F raw, int precision, std::string& out, double* number) {
  if (!std::isfinite(raw)) return false;
  if (p.scaled()) return append_scaled(p, static_cast<double>(raw), precision, out, number);
  append_chars(out, raw);  // the shortest text of this float (or double)
  if (number != nullptr) *number = static_cast<double>(raw);
  return true;
}

// A string's bytes: up to the first NUL, without trailing spaces.
void string_registers(const Point& p, const std::uint16_t* regs, std::string& text) {
  text.clear();
  text.reserve(2u * p.count);
  for (std::size_t k = 0; k < p.count; ++k) {
    const std::uint16_t r = reg(p, regs, k);
    const char hi = static_cast<char>(r >> 8), lo = static_cast<char>(r & 0xff);
    if (hi == '\0') break;
    text += hi;
    if (lo == '\0') break;
    text += lo;
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
}

void append_string_registers(const Point& p, const std::uint16_t* regs, std::string& out) {
  std::string text;
  string_registers(p, regs, text);
  sdk::append_json_string(text, out, /*latin1=*/true);  // a device's bytes: Latin-1
}

void latin1_to_utf8(std::string_view bytes, std::string& out) {
  out.clear();
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xc0 | (u >> 6));
      out += static_cast<char>(0x80 | (u & 0x3f));
    }
  }
}

void set_integer(std::int64_t v, edgegw_reading& out, double* number) {
  out.type = EDGEGW_VALUE_INTEGER;
  out.integer = v;
  if (number != nullptr) *number = static_cast<double>(v);
}
void set_number(double v, edgegw_reading& out, double* number) {
  out.type = EDGEGW_VALUE_NUMBER;
  out.number = v;
  if (number != nullptr) *number = v;
}

// An unscaled number typed directly (an f32 as a float, which the host writes as its shortest
// text; the others as their exact value): whether it is a finite number. nullopt for a scaled
// value, whose digits decide.
std::optional<bool> typed_directly(const Point& p, const std::uint16_t* regs, edgegw_reading& out,
                                   double* number) {
  if (p.scaled()) return std::nullopt;
  return with_raw(p, regs, [&](auto raw) -> std::optional<bool> {
    using T = decltype(raw);
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(raw)) return false;
      set_number(raw, out, number);  // a float's value exactly
      // The host writes a float as its shortest text (ABI 1.6): 230.1, not 230.10000610351562.
      if constexpr (std::is_same_v<T, float>) out.type = EDGEGW_VALUE_FLOAT32;
      return true;
    } else if constexpr (std::is_same_v<T, std::uint64_t>) {
      // Beyond int64 the host keeps a number (edgegw/reading.h), as it read the text.
      if (raw <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        set_integer(static_cast<std::int64_t>(raw), out, number);
      } else {
        set_number(static_cast<double>(raw), out, number);
      }
      return true;
    } else {
      set_integer(raw, out, number);
      return true;
    }
  });
}

// A JSON number's text as a JSON reader types it: an integer that fits int64, else a double.
void type_number(std::string_view t, edgegw_reading& out) {
  const char* end = t.data() + t.size();
  if (t.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t i = 0;
    const auto r = std::from_chars(t.data(), end, i);
    if (r.ec == std::errc() && r.ptr == end) {
      out.type = EDGEGW_VALUE_INTEGER;
      out.integer = i;
      return;
    }
  }
  double d = 0;
  (void)std::from_chars(t.data(), end, d);  // our own finite number's text
  out.type = EDGEGW_VALUE_NUMBER;
  out.number = d;
}

}  // namespace

bool typed_value(const Point& p, const std::uint16_t* regs, bool bit, edgegw_reading& out,
                 std::string& text, std::string& scratch, double* number) {
  switch (p.type) {
    case Type::kBool:
      out.type = EDGEGW_VALUE_BOOL;
      out.integer = (is_bit_kind(p.kind) ? bit : ((reg(p, regs, 0) >> p.bit) & 1u) != 0) ? 1 : 0;
      return true;
    case Type::kString:
      string_registers(p, regs, scratch);
      latin1_to_utf8(scratch, text);
      out.type = EDGEGW_VALUE_TEXT;
      return true;
    default: {
      if (const auto finite = typed_directly(p, regs, out, number)) return *finite;
      scratch.clear();
      if (!append_value(p, regs, bit, scratch, number)) return false;
      type_number(scratch, out);
      return true;
    }
  }
}

bool append_value(const Point& p, const std::uint16_t* regs, bool bit, std::string& out,
                  double* number) {
  switch (p.type) {
    case Type::kBool: {
      const bool b = is_bit_kind(p.kind) ? bit : ((reg(p, regs, 0) >> p.bit) & 1u) != 0;
      out += b ? "true" : "false";
      return true;
    }
    case Type::kString:
      append_string_registers(p, regs, out);
      return true;
    default:
      return with_raw(p, regs, [&](auto raw) {
        using T = decltype(raw);
        if constexpr (std::is_floating_point_v<T>) {
          return append_float(p, raw, std::is_same_v<T, float> ? 7 : 15, out, number);
        } else {
          return append_integer(p, raw, out, number);
        }
      });
  }
}

}  // namespace edgegw::plugins::modbus
