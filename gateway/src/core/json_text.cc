// SPDX-License-Identifier: Apache-2.0
#include "core/json_text.h"

#include <charconv>

#include "core/time.h"

namespace edgegw::core {

void append_json_string(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

void append_double(double value, std::string& out) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
  out += text;
  // "1" would read back as an integer; "1e+20" and "0.5" are doubles already.
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

namespace {

// A float's shortest text, in `buf`.
std::string_view float_text(float value, char (&buf)[24]) noexcept {
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  return {buf, static_cast<std::size_t>(r.ptr - buf)};
}

}  // namespace

void append_float(float value, std::string& out) {
  char buf[24];
  out += float_text(value, buf);
}

double shortest_double(float value) noexcept {
  char buf[24];
  const std::string_view text = float_text(value, buf);
  double d = static_cast<double>(value);  // kept if the text did not read (it always does)
  (void)std::from_chars(text.data(), text.data() + text.size(), d);
  return d;
}

std::optional<double> number_of(const ValueView& value) noexcept {
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* f = std::get_if<float>(&value)) return shortest_double(*f);
  return std::nullopt;
}

void append_reading_json_head(std::string_view variable, const ValueView& value,
                              std::string_view unit, std::int64_t time_ms, std::string& out) {
  out += "{\"variable\":";
  append_json_string(variable, out);
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return;
        } else {
          out += ",\"value\":";
          if constexpr (std::is_same_v<T, double>) {
            append_double(v, out);
          } else if constexpr (std::is_same_v<T, float>) {
            append_float(v, out);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            char buf[24];
            const auto r = std::to_chars(buf, buf + sizeof buf, v);
            out.append(buf, r.ptr);
          } else if constexpr (std::is_same_v<T, std::string_view>) {
            append_json_string(v, out);
          } else {
            out += v ? "true" : "false";
          }
        }
      },
      value);
  if (!unit.empty()) {
    out += ",\"unit\":";
    append_json_string(unit, out);
  }
  out += ",\"time\":\"";
  append_iso8601_ms(time_ms, out);
  out += '"';
}

}  // namespace edgegw::core
