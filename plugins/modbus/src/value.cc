// SPDX-License-Identifier: Apache-2.0
#include "value.h"

#include <bit>
#include <charconv>
#include <cmath>

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

void append_string_registers(const Point& p, const std::uint16_t* regs, std::string& out) {
  std::string text;
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
  sdk::append_json_string(text, out, /*latin1=*/true);  // a device's bytes: Latin-1
}

}  // namespace

bool append_value(const Point& p, const std::uint16_t* regs, bool bit, std::string& out,
                  double* number) {
  switch (p.type) {
    case Type::kBool: {
      const bool b = is_bit_kind(p.kind) ? bit : ((reg(p, regs, 0) >> p.bit) & 1u) != 0;
      out += b ? "true" : "false";
      return true;
    }
    case Type::kU16:
      return append_integer(p, static_cast<std::uint16_t>(compose(p, regs, 1)), out, number);
    case Type::kI16:
      return append_integer(p, static_cast<std::int16_t>(compose(p, regs, 1)), out, number);
    case Type::kU32:
      return append_integer(p, static_cast<std::uint32_t>(compose(p, regs, 2)), out, number);
    case Type::kI32:
      return append_integer(p, static_cast<std::int32_t>(compose(p, regs, 2)), out, number);
    case Type::kU64:
      return append_integer(p, compose(p, regs, 4), out, number);
    case Type::kI64:
      return append_integer(p, static_cast<std::int64_t>(compose(p, regs, 4)), out, number);
    case Type::kF32:
      return append_float(p, std::bit_cast<float>(static_cast<std::uint32_t>(compose(p, regs, 2))),
                          7, out, number);
    case Type::kF64:
      return append_float(p, std::bit_cast<double>(compose(p, regs, 4)), 15, out, number);
    case Type::kString:
      append_string_registers(p, regs, out);
      return true;
  }
  return false;
}

}  // namespace edgegw::plugins::modbus
