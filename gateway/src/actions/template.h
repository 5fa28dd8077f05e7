// SPDX-License-Identifier: Apache-2.0
// The mqtt action's topic and payload templates: {device} {variable} {value} {unit} {time}.
#pragma once

#include <string>
#include <string_view>

namespace edgegw::actions {

struct TemplateFields {
  std::string_view device;
  std::string_view variable;
  std::string_view value;  // ReadingValue::text
  std::string_view unit;
  std::string_view time;  // ISO 8601 UTC with milliseconds
};

// `text` with each known placeholder replaced; anything else (JSON's own braces, an unknown
// {name}, refused by the config check) is kept as written.
std::string expand(std::string_view text, const TemplateFields& fields);

}  // namespace edgegw::actions
