// SPDX-License-Identifier: Apache-2.0
#include "actions/template.h"

#include <optional>

namespace edgegw::actions {

namespace {

std::optional<std::string_view> field(std::string_view name, const TemplateFields& f) {
  if (name == "device") return f.device;
  if (name == "variable") return f.variable;
  if (name == "value") return f.value;
  if (name == "unit") return f.unit;
  if (name == "time") return f.time;
  return std::nullopt;
}

}  // namespace

std::string expand(std::string_view text, const TemplateFields& fields) {
  std::string out;
  out.reserve(text.size() + 32);
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find('{', i);
    if (open == std::string_view::npos) break;
    const std::size_t close = text.find('}', open + 1);
    if (close == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    if (auto value = field(text.substr(open + 1, close - open - 1), fields)) {
      out.append(*value);
      i = close + 1;
    } else {
      out.push_back('{');  // not a placeholder: keep it, look again after the brace
      i = open + 1;
    }
  }
  out.append(text.substr(std::min(i, text.size())));
  return out;
}

}  // namespace edgegw::actions
