// SPDX-License-Identifier: Apache-2.0
#include "decode/validate.h"

#include <cmath>
#include <variant>

#include "decode/internal.h"

namespace edgegw::decode {

namespace {

using internal::Problem;

// Why `name` cannot be a variable, as a detail that follows the word "variable".
std::optional<std::string> variable_detail(std::string_view name) {
  if (name.empty()) return std::string("is empty");
  if (internal::first_invalid_utf8(name) != std::string_view::npos) {
    return internal::quote(name) + " is not valid UTF-8";
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    unsigned control = 0x100;  // none
    if (c < 0x20 || c == 0x7F) {
      control = c;
    } else if (c == 0xC2 && i + 1 < name.size()) {  // U+0080..U+009F: C1 controls
      const auto next = static_cast<unsigned char>(name[i + 1]);
      if (next <= 0x9F) control = next;
    }
    if (control != 0x100) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      std::string detail = internal::quote(name) + " holds a control character (U+00";
      detail += kHex[control >> 4];
      detail += kHex[control & 0xF];
      detail += ')';
      return detail;
    }
    if (kForbiddenVariableChars.find(static_cast<char>(c)) != std::string_view::npos) {
      std::string detail = internal::quote(name);
      if (c == ' ') {
        detail += " holds a space";
      } else {
        detail += " holds '";
        detail += static_cast<char>(c);
        detail += '\'';
      }
      detail += " (the cloud forbids *?!<>.-=$ and spaces)";
      return detail;
    }
  }
  const std::size_t chars = internal::count_code_points(name);
  if (chars > kMaxVariableChars) {
    return internal::quote(name) + " is " + std::to_string(chars) +
           " characters (the cloud allows " + std::to_string(kMaxVariableChars) + ")";
  }
  return std::nullopt;
}

// A text field with a limit in characters (unit, group).
std::optional<Problem> check_text(std::string_view field, std::string_view text, std::size_t max) {
  if (internal::first_invalid_utf8(text) != std::string_view::npos) {
    return Problem{field, internal::quote(text) + " is not valid UTF-8"};
  }
  const std::size_t chars = internal::count_code_points(text);
  if (chars > max) {
    return Problem{field, internal::quote(text) + " is " + std::to_string(chars) +
                              " characters (the cloud allows " + std::to_string(max) + ")"};
  }
  return std::nullopt;
}

std::optional<Problem> check_json_object(std::string_view field, std::string_view json) {
  if (json.size() < 2 || json.front() != '{' || json.back() != '}' ||
      internal::first_invalid_utf8(json) != std::string_view::npos) {
    return Problem{field, "is not a JSON object"};
  }
  return std::nullopt;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  return internal::first_invalid_utf8(text) == std::string_view::npos;
}

std::optional<std::string> variable_name_problem(std::string_view name) {
  auto detail = variable_detail(name);
  if (!detail) return std::nullopt;
  return "variable " + *detail;
}

std::optional<std::string> normalize(Reading& reading) {
  auto problem = internal::check_reading(reading);
  if (!problem) return std::nullopt;
  return internal::format_problem("", *problem);
}

namespace internal {

std::optional<Problem> check_reading(Reading& reading) {
  for (char& c : reading.variable) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (auto detail = variable_detail(reading.variable)) return Problem{"variable", *detail};
  if (!reading.unit.empty()) {
    if (auto p = check_text("unit", reading.unit, kMaxUnitChars)) return p;
  }
  if (const auto* s = std::get_if<std::string>(&reading.value)) {
    if (first_invalid_utf8(*s) != std::string_view::npos) {
      return Problem{"value", "is not valid UTF-8"};
    }
    if (s->size() > kMaxValueBytes) {
      return Problem{"value", "is a string of " + std::to_string(s->size()) +
                                  " bytes (the cloud allows 6 kB, " +
                                  std::to_string(kMaxValueBytes) + " bytes)"};
    }
  } else if (const auto* d = std::get_if<double>(&reading.value)) {
    if (!std::isfinite(*d)) {
      return Problem{"value", "is not a finite number (the cloud's JSON cannot carry it)"};
    }
  }
  if (reading.time_ms < 0 || reading.time_ms > kMaxTimeMs) {
    return Problem{"time", "is outside the years 1970..9999"};
  }
  if (!reading.group.empty()) {
    if (auto p = check_text("group", reading.group, kMaxGroupChars)) return p;
  }
  if (!reading.location_json.empty()) {
    if (auto p = check_json_object("location", reading.location_json)) return p;
  }
  if (!reading.metadata_json.empty()) {
    if (reading.metadata_json.size() > kMaxMetadataBytes) {
      return Problem{"metadata", "is " + std::to_string(reading.metadata_json.size()) +
                                     " bytes as JSON (the cloud allows 10 kB, " +
                                     std::to_string(kMaxMetadataBytes) + " bytes)"};
    }
    if (auto p = check_json_object("metadata", reading.metadata_json)) return p;
  }
  return std::nullopt;
}

}  // namespace internal
}  // namespace edgegw::decode
