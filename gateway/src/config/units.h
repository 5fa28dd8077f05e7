// SPDX-License-Identifier: Apache-2.0
// Durations ("250ms", "10s", "5m", "1h", "7d") and sizes ("512KiB", "64MiB", "2GiB"), parsed
// strictly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "config/config.h"

namespace edgegw::config {

// A value, or why the text is not one (e.g. "'10' needs a unit: ms, s, m, h or d").
std::variant<Duration, std::string> parse_duration(std::string_view text);
std::variant<std::uint64_t, std::string> parse_size(std::string_view text);

// "1500ms", "10s", "5m", "7d": the largest unit that divides the value exactly.
std::string format_duration(Duration duration);

namespace detail {
// As above, but a failure's reason does not repeat the text ("needs a unit: ms, s, m, h or d"), so
// the loader can quote the value as written in the file instead of its ${NAME}-substituted form.
std::variant<Duration, std::string> duration_or_reason(std::string_view text);
std::variant<std::uint64_t, std::string> size_or_reason(std::string_view text);
}  // namespace detail

}  // namespace edgegw::config
