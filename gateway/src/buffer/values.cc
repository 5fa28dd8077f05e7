// SPDX-License-Identifier: Apache-2.0
#include "buffer/values.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <variant>

#include "core/time.h"

namespace edgegw::buffer {
namespace {

enum Type : std::uint8_t { kNone = 1, kDouble, kInt64, kText, kFalse, kTrue, kFloat };

template <typename Bits>
char* put_le(char* p, Bits bits) noexcept {
  for (std::size_t i = 0; i < sizeof bits; ++i, bits >>= 8) *p++ = static_cast<char>(bits & 0xff);
  return p;
}

// A finite IEEE 754 number of `F` from the front of `in`, dropped from it.
template <typename F, typename Bits>
bool read_le(std::string_view& in, F& out) noexcept {
  if (in.size() < sizeof(Bits)) return false;
  Bits bits = 0;
  for (std::size_t i = sizeof(Bits); i-- > 0;)
    bits = (bits << 8) | static_cast<std::uint8_t>(in[i]);
  out = std::bit_cast<F>(bits);
  in.remove_prefix(sizeof(Bits));
  return std::isfinite(out);  // no JSON for the others
}

std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

char* put_varint(char* p, std::uint64_t v) noexcept {
  for (; v >= 0x80; v >>= 7) *p++ = static_cast<char>((v & 0x7f) | 0x80);
  *p++ = static_cast<char>(v);
  return p;
}

char* put_text(char* p, std::string_view text) noexcept {
  p = put_varint(p, text.size());
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

bool read_text(std::string_view& in, std::string_view& text) noexcept {
  std::uint64_t n = 0;
  if (!read_varint(in, n) || n > in.size()) return false;
  text = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

}  // namespace

void append_varint(std::uint64_t v, std::string& out) {
  char buf[10];
  out.append(buf, static_cast<std::size_t>(put_varint(buf, v) - buf));
}

bool read_varint(std::string_view& in, std::uint64_t& v) noexcept {
  v = 0;
  for (std::size_t i = 0; i < in.size() && i < 10; ++i) {
    const auto b = static_cast<std::uint8_t>(in[i]);
    if (i == 9 && b > 1) return false;  // beyond 64 bits
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      if (b == 0 && i > 0) return false;  // not the shortest form: written by no one
      in.remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

void encode_values(const ReadingValues& reading, std::string& out) {
  const auto type = std::visit(
      [](const auto& v) -> Type {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) return kNone;
        if constexpr (std::is_same_v<T, double>) return kDouble;
        if constexpr (std::is_same_v<T, std::int64_t>) return kInt64;
        if constexpr (std::is_same_v<T, std::string_view>) return kText;
        if constexpr (std::is_same_v<T, bool>) return v ? kTrue : kFalse;
        if constexpr (std::is_same_v<T, float>) return kFloat;
      },
      reading.value);
  const std::string_view* text = std::get_if<std::string_view>(&reading.value);
  // Written in place (one resize, not an append per field: this runs for every reading).
  const std::size_t at = out.size();
  out.resize(at + 1 + 4 * 10 + reading.variable.size() + reading.unit.size() +
             (text != nullptr ? text->size() : 0));
  char* p = out.data() + at;
  *p++ = static_cast<char>(type);
  p = put_varint(p, zigzag(reading.time_ms));
  p = put_text(p, reading.variable);
  p = put_text(p, reading.unit);
  if (type == kDouble) {
    p = put_le(p, std::bit_cast<std::uint64_t>(std::get<double>(reading.value)));
  } else if (type == kFloat) {
    p = put_le(p, std::bit_cast<std::uint32_t>(std::get<float>(reading.value)));
  } else if (type == kInt64) {
    p = put_varint(p, zigzag(std::get<std::int64_t>(reading.value)));
  } else if (type == kText) {
    p = put_text(p, *text);
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

bool decode_values(std::string_view bytes, ReadingValues& out) noexcept {
  if (bytes.empty()) return false;
  const auto type = static_cast<std::uint8_t>(bytes[0]);
  bytes.remove_prefix(1);
  std::uint64_t time = 0;
  if (!read_varint(bytes, time) || !read_text(bytes, out.variable) || !read_text(bytes, out.unit)) {
    return false;
  }
  out.time_ms = unzigzag(time);
  if (out.time_ms < 0 || out.time_ms > core::kMaxTimeMs) return false;
  switch (type) {
    case kNone:
      out.value = std::monostate{};
      break;
    case kDouble: {
      double d = 0;
      if (!read_le<double, std::uint64_t>(bytes, d)) return false;
      out.value = d;
      break;
    }
    case kFloat: {
      float f = 0;
      if (!read_le<float, std::uint32_t>(bytes, f)) return false;
      out.value = f;
      break;
    }
    case kInt64: {
      std::uint64_t v = 0;
      if (!read_varint(bytes, v)) return false;
      out.value = unzigzag(v);
      break;
    }
    case kText: {
      std::string_view text;
      if (!read_text(bytes, text)) return false;
      out.value = text;
      break;
    }
    case kFalse:
    case kTrue:
      out.value = type == kTrue;
      break;
    default:
      return false;
  }
  return bytes.empty();
}

void append_values_json(const ReadingValues& reading, std::string& out) {
  core::append_reading_json_head(reading.variable, reading.value, reading.unit, reading.time_ms,
                                 out);
  out += '}';
}

}  // namespace edgegw::buffer
