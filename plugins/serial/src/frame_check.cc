// SPDX-License-Identifier: Apache-2.0
#include "frame_check.h"

#include <cstdint>
#include <cstring>

namespace edgegw::plugins::serial {
namespace {

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::size_t skip_ws(std::string_view s, std::size_t i) noexcept {
  while (i < s.size() && is_ws(s[i])) ++i;
  return i;
}

// s[i] == '"': the position after the closing quote, or npos. `escaped` tells whether a
// backslash occurred.
std::size_t skip_string(std::string_view s, std::size_t i, bool& escaped) noexcept {
  escaped = false;
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      escaped = true;
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Skips one JSON value starting at s[i]; the position after it, or npos when malformed.
std::size_t skip_value(std::string_view s, std::size_t i) noexcept {
  if (i >= s.size()) return std::string_view::npos;
  bool escaped = false;
  if (s[i] == '"') return skip_string(s, i, escaped);
  if (s[i] == '{' || s[i] == '[') {
    std::size_t depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        i = skip_string(s, i, escaped);
        if (i == std::string_view::npos) return i;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return std::string_view::npos;
  }
  const std::size_t start = i;
  while (i < s.size() && !is_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i == start ? std::string_view::npos : i;
}

void append_utf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool hex4(std::string_view s, std::size_t i, std::uint32_t& v) noexcept {
  if (i + 4 > s.size()) return false;
  v = 0;
  for (std::size_t k = i; k < i + 4; ++k) {
    const char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
  }
  return true;
}

// The text of a JSON string's body (between the quotes) with its escapes decoded.
bool unescape(std::string_view body, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      out += body[i];
      continue;
    }
    if (++i >= body.size()) return false;
    switch (body[i]) {
      case '"':
      case '\\':
      case '/':
        out += body[i];
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!hex4(body, i + 1, cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate: its low one must follow
          std::uint32_t low = 0;
          if (i + 2 >= body.size() || body[i + 1] != '\\' || body[i + 2] != 'u' ||
              !hex4(body, i + 3, low) || low < 0xDC00 || low > 0xDFFF) {
            return false;
          }
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        append_utf8(cp, out);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

// `payload` = `line` without [from, to).
void cut(std::string_view line, std::size_t from, std::size_t to, std::string& payload) {
  payload.assign(line.substr(0, from));
  payload.append(line.substr(to));
}

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* const end = p + s.size();
  while (p < end) {
    // ASCII fast path, 8 bytes at a time.
    if (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      return false;  // a continuation byte without a lead, or 0xF8..0xFF
    }
    if (end - p <= static_cast<std::ptrdiff_t>(n)) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

FrameProblem check_frame(std::string_view frame) noexcept {
  if (std::memchr(frame.data(), '\0', frame.size()) != nullptr) return FrameProblem::kNul;
  if (!is_valid_utf8(frame)) return FrameProblem::kInvalidUtf8;
  return FrameProblem::kNone;
}

bool is_valid_device_key(std::string_view key) noexcept {
  if (key.empty() || key.size() > 256) return false;
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

bool take_csv_column(std::string_view line, std::size_t column, std::string& device,
                     std::string& payload) {
  std::size_t field_start = 0;  // where the current field begins (after its comma)
  for (std::size_t index = 1;; ++index) {
    std::size_t i = field_start;
    while (i < line.size() && is_blank(line[i])) ++i;
    std::size_t text_begin = i;
    std::size_t text_end = i;
    bool doubled = false;
    if (i < line.size() && line[i] == '"') {
      text_begin = ++i;
      for (;;) {
        const std::size_t q = line.find('"', i);
        if (q == std::string_view::npos) return false;  // not closed
        if (q + 1 < line.size() && line[q + 1] == '"') {
          doubled = true;
          i = q + 2;
          continue;
        }
        text_end = q;
        i = q + 1;
        break;
      }
      while (i < line.size() && is_blank(line[i])) ++i;
      if (i < line.size() && line[i] != ',') return false;  // text after the closing quote
    } else {
      i = line.find(',', i);
      if (i == std::string_view::npos) i = line.size();
      text_end = i;
      while (text_end > text_begin && is_blank(line[text_end - 1])) --text_end;
    }
    const bool last = i >= line.size();  // i is at this field's comma, or the end
    if (index == column) {
      const std::string_view text = line.substr(text_begin, text_end - text_begin);
      device.clear();
      if (doubled) {
        for (std::size_t k = 0; k < text.size(); ++k) {
          device += text[k];
          if (text[k] == '"') ++k;
        }
      } else {
        device.assign(text);
      }
      if (!last) {
        cut(line, field_start, i + 1, payload);  // the field and the comma after it
      } else if (field_start > 0) {
        cut(line, field_start - 1, line.size(), payload);  // the comma before it and the field
      } else {
        payload.clear();
      }
      return true;
    }
    if (last) return false;
    field_start = i + 1;
  }
}

bool take_json_key(std::string_view line, std::string_view key, std::string& device,
                   std::string& payload) {
  std::size_t i = skip_ws(line, 0);
  if (i >= line.size() || line[i] != '{') return false;
  i = skip_ws(line, i + 1);
  std::size_t prev_comma = std::string_view::npos;
  std::string decoded;
  while (i < line.size() && line[i] == '"') {
    const std::size_t member_start = i;
    bool escaped = false;
    const std::size_t key_end = skip_string(line, i, escaped);
    if (key_end == std::string_view::npos) return false;
    const std::string_view raw_key = line.substr(i + 1, key_end - i - 2);
    bool match = false;
    if (escaped) {
      match = unescape(raw_key, decoded) && decoded == key;
    } else {
      match = raw_key == key;
    }
    i = skip_ws(line, key_end);
    if (i >= line.size() || line[i] != ':') return false;
    const std::size_t value_start = skip_ws(line, i + 1);
    const std::size_t value_end = skip_value(line, value_start);
    if (value_end == std::string_view::npos) return false;
    i = skip_ws(line, value_end);
    if (match) {
      const std::string_view value = line.substr(value_start, value_end - value_start);
      if (value.front() == '"') {
        if (!unescape(value.substr(1, value.size() - 2), device)) return false;
      } else if (value.front() == '-' || (value.front() >= '0' && value.front() <= '9')) {
        device.assign(value);
      } else {
        return false;  // null, a bool, an object or an array cannot name a device
      }
      if (i < line.size() && line[i] == ',') {
        cut(line, member_start, skip_ws(line, i + 1), payload);
      } else if (prev_comma != std::string_view::npos) {
        cut(line, prev_comma, value_end, payload);
      } else {
        cut(line, member_start, value_end, payload);
      }
      return true;
    }
    if (i >= line.size() || line[i] != ',') return false;  // '}' (key absent) or malformed
    prev_comma = i;
    i = skip_ws(line, i + 1);
  }
  return false;
}

}  // namespace edgegw::plugins::serial
