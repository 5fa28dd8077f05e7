// SPDX-License-Identifier: Apache-2.0
// "Did you mean ...?" for unknown keys.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace edgegw::config::detail {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive:
// "data_dri" is 1 away from "data_dir".
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a likely typo, else empty.
std::string_view closest(std::string_view word, std::span<const std::string_view> candidates);

// "; did you mean 'data_dir'?" or "; allowed keys: id, data_dir, ...".
std::string unknown_key_hint(std::string_view key, std::span<const std::string_view> allowed);

}  // namespace edgegw::config::detail
