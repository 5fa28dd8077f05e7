// SPDX-License-Identifier: Apache-2.0
// `${NAME}` substitution in scalar values.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "config/loader.h"

namespace edgegw::config::detail {

// Replaces every `${NAME}` by the variable's value and `$$` by `$`; any other `$` is kept. On
// failure returns why (an unset variable, a malformed `${`), naming variables but never quoting the
// text, which may hold a secret.
struct SubstitutionError {
  std::string reason;
};
std::variant<std::string, SubstitutionError> substitute_env(std::string_view text,
                                                            const EnvLookup& env);

}  // namespace edgegw::config::detail
