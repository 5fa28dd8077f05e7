// SPDX-License-Identifier: Apache-2.0
#include "config/env_subst.h"

#include <algorithm>
#include <vector>

namespace edgegw::config::detail {
namespace {

bool is_name_start(char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0) out += (i + 1 == names.size()) ? " and " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

std::variant<std::string, SubstitutionError> substitute_env(std::string_view text,
                                                            const EnvLookup& env) {
  if (text.find('$') == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::vector<std::string> unset;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '$' || i + 1 == text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += c;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return SubstitutionError{"'${' without a closing '}' (write '$$' for a literal '$')"};
    }
    const std::string_view name = text.substr(i + 2, close - i - 2);
    bool valid = !name.empty() && is_name_start(name.front());
    for (char n : name) valid = valid && is_name_char(n);
    if (!valid) {
      return SubstitutionError{
          "'${...}' must hold a variable name of letters, digits and '_' (write '$$' for a literal "
          "'$')"};
    }
    if (auto value = env ? env(name) : std::nullopt) {
      out += *value;
    } else if (std::find(unset.begin(), unset.end(), name) == unset.end()) {
      unset.emplace_back(name);
    }
    i = close;
  }
  if (!unset.empty()) {
    const bool one = unset.size() == 1;
    return SubstitutionError{std::string(one ? "environment variable " : "environment variables ") +
                             join_names(unset) + (one ? " is not set" : " are not set")};
  }
  return out;
}

}  // namespace edgegw::config::detail
