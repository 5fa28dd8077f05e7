// SPDX-License-Identifier: Apache-2.0
// Numbers as YAML writes them, parsed without locale and without surprises.
#pragma once

#include <string_view>
#include <variant>

namespace edgegw::config::detail {

enum class NumberError { kNotANumber, kNotFinite };

// A decimal number ("1.5", "-2e3", "+.5"; YAML's ".inf" and ".nan" are kNotFinite, as is anything
// beyond a double's range). Values too small for a double become 0.
std::variant<double, NumberError> parse_double(std::string_view text);

}  // namespace edgegw::config::detail
