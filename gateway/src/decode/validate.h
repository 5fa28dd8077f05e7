// SPDX-License-Identifier: Apache-2.0
// The cloud's rules for a data item, checked at the edge where a bad reading can be reported
// clearly, instead of letting the cloud refuse a whole batch for it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "edgegw/reading.h"

namespace edgegw::decode {

inline constexpr std::size_t kMaxVariableChars = 100;
inline constexpr std::size_t kMaxUnitChars = 25;
inline constexpr std::size_t kMaxGroupChars = 100;
inline constexpr std::size_t kMaxValueBytes = 6 * 1024;
inline constexpr std::size_t kMaxMetadataBytes = 10 * 1024;
inline constexpr std::string_view kForbiddenVariableChars = "*?!<>.-=$ ";

// Why `name` cannot be a variable name (empty, too long, a forbidden character, not UTF-8),
// or nullopt when it can. Checks the name as given; lower-casing happens in normalize().
std::optional<std::string> variable_name_problem(std::string_view name);

// Lower-cases the variable and checks every rule. Returns why the reading is refused, or nullopt.
std::optional<std::string> normalize(Reading& reading);

// True when `text` is well-formed UTF-8.
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace edgegw::decode
